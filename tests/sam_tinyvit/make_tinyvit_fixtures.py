"""Fixtures for the TinyViT encoder test: the official MobileSAM code and checkpoint encode real images.

For each image, writes NAME_input.npy (the [1, 3, 1024, 1024] tensor the official predictor feeds the image
encoder: ResizeLongestSide(1024), pixel mean/std normalisation, zero padding to 1024x1024) and NAME_embedding.npy
(the official encoder's output, [1, 256, 64, 64]).

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


if __name__ == "__main__":
    main()
