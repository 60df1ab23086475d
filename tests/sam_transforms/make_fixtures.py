"""Reference outputs of the official segment-anything pre/post-processing, for test_sam_transforms.

Usage: make_fixtures.py OUT_DIR (real data from $SAMMPA_DATA, default ../shared/data beside the checkout). Writes .npy files: for each case the input image, the official
resized image (ResizeLongestSide.apply_image), random low-res logits and the official postprocess_masks output.
"""
import os
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from segment_anything.modeling.sam import Sam
from segment_anything.utils.transforms import ResizeLongestSide

out = Path(sys.argv[1])
data = Path(os.environ.get("SAMMPA_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)
cases = {
    "busi": np.array(Image.open(data / "busi/images/benign_001.png").convert("RGB")),  # 562x471: upscale
    "cxr": np.array(Image.open(data / "cxr/images/CHNCXR_0001_0.png").convert("RGB")),  # 512x512: square
    "large": rng.integers(0, 256, size=(1100, 1500, 3), dtype=np.uint8),  # downscale (antialiased)
    "tall": rng.integers(0, 256, size=(700, 301, 3), dtype=np.uint8),
}
transform = ResizeLongestSide(1024)


class _Encoder:  # postprocess_masks only reads image_encoder.img_size
    img_size = 1024


for name, img in cases.items():
    resized = transform.apply_image(img)
    np.save(out / f"{name}_image.npy", img)
    np.save(out / f"{name}_resized.npy", resized)
    low = torch.from_numpy(rng.normal(0, 4, size=(1, 3, 256, 256)).astype(np.float32))
    up = Sam.postprocess_masks(type("S", (), {"image_encoder": _Encoder})(), low, resized.shape[:2], img.shape[:2])
    np.save(out / f"{name}_lowres.npy", low.numpy())
    np.save(out / f"{name}_upscaled.npy", up.numpy())
    pts = np.array([[10.5, 20.25], [img.shape[1] - 1, img.shape[0] - 1]], dtype=np.float64)
    np.save(out / f"{name}_coords.npy", transform.apply_coords(pts, img.shape[:2]).astype(np.float32))
print("fixtures written to", out)
