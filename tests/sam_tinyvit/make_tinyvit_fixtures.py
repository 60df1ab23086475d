"""Fixtures for the TinyViT encoder test: the official MobileSAM code and checkpoint encode real images.

For each image, writes NAME_input.npy (the [1, 3, 1024, 1024] tensor the official predictor feeds the image
encoder: ResizeLongestSide(1024), pixel mean/std normalisation, zero padding to 1024x1024) and NAME_embedding.npy
(the official encoder's output, [1, 256, 64, 64]).
Also random_vit_t.pt: a MobileSAM model with random weights (every BatchNorm statistic, norm affine and
attention bias perturbed too, so nothing sits at its neutral initial value) and random_embedding.npy, its
encoder's output for the busi input.

usage: make_tinyvit_fixtures.py OUT_DIR   (env: SAMMPA_MOBILE_SAM, SAMMPA_DATA; PYTHONPATH from setup_reference.sh)
"""
import os
import sys

import numpy as np
import torch
from PIL import Image

from mobile_sam import SamPredictor, sam_model_registry

IMAGES = [("busi", "benign_001.png"), ("cxr", "CHNCXR_0001_0.png")]


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    data = os.environ.get("SAMMPA_DATA") or os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
    checkpoint = os.environ["SAMMPA_MOBILE_SAM"]
    torch.set_num_threads(2)
    sam = sam_model_registry["vit_t"](checkpoint=checkpoint).eval()
    predictor = SamPredictor(sam)
    for dataset, name in IMAGES:
        rgb = np.array(Image.open(os.path.join(data, dataset, "images", name)).convert("RGB"))
        # The predictor's own preprocessing, up to the encoder input (set_image then set_torch_image).
        resized = predictor.transform.apply_image(rgb)
        x = torch.as_tensor(resized).permute(2, 0, 1).contiguous()[None]
        x = sam.preprocess(x)
        with torch.no_grad():
            emb = sam.image_encoder(x)
        stem = os.path.join(out_dir, dataset)
        np.save(stem + "_input.npy", x.numpy().astype(np.float32))
        np.save(stem + "_embedding.npy", emb.numpy().astype(np.float32))
        print(f"{dataset}/{name}: input {tuple(x.shape)} embedding {tuple(emb.shape)}")
    write_random_model(out_dir)


def write_random_model(out_dir):
    torch.manual_seed(0)
    sam = sam_model_registry["vit_t"]().eval()
    with torch.no_grad():
        for name, t in sam.image_encoder.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.uniform_(0.5, 1.5)
            elif name.endswith("running_mean") or t.dim() == 1 or "attention_biases" in name:
                t.add_(torch.randn_like(t) * 0.1)
        sam.eval()  # again: TinyViT caches its gathered attention biases when switched to eval mode
        x = torch.from_numpy(np.load(os.path.join(out_dir, "busi_input.npy")))
        emb = sam.image_encoder(x)
    torch.save(sam.state_dict(), os.path.join(out_dir, "random_vit_t.pt"))
    np.save(os.path.join(out_dir, "random_embedding.npy"), emb.numpy().astype(np.float32))
    print(f"random weights: embedding max |value| {emb.abs().max().item():.3g}")


if __name__ == "__main__":
    main()
