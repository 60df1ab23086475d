"""Reference outputs of the official MobileSAM SamPredictor with the real mobile_sam.pt, for test_sam_predictor.

Usage: make_fixtures.py OUT_DIR. Needs $SAMMPA_MOBILE_SAM (checkpoint), $SAMMPA_DATA (real images; default
../shared/data beside the checkout) and the reference PYTHONPATH (scripts/setup_reference.sh).
For each image: the embedding, and for each prompt case (cases.json) the masks, IoU predictions and low-res
logits the official predictor returns.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from mobile_sam import SamAutomaticMaskGenerator, SamPredictor, sam_model_registry
from PIL import Image

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
data = Path(os.environ.get("SAMMPA_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")
torch.set_num_threads(2)
model = sam_model_registry["vit_t"](checkpoint=os.environ["SAMMPA_MOBILE_SAM"]).eval()
predictor = SamPredictor(model)

images = {"busi": data / "busi/images/malignant_010.png", "cxr": data / "cxr/images/CHNCXR_0005_0.png"}
manifest = {}
for name, path in images.items():
    img = np.array(Image.open(path).convert("RGB"))
    h, w = img.shape[:2]
    predictor.set_image(img)
    np.save(out / f"{name}_embedding.npy", predictor.features.numpy())
    cx, cy = w * 0.45, h * 0.5
    cases = {
        "point_multi": dict(points=[[cx, cy]], labels=[1], multimask=True),
        "box_single": dict(box=[w * 0.25, h * 0.2, w * 0.7, h * 0.8], multimask=False),
        "box_points": dict(points=[[cx, cy], [w * 0.1, h * 0.1]], labels=[1, 0],
                           box=[w * 0.25, h * 0.2, w * 0.7, h * 0.8], multimask=False),
        "points_multi": dict(points=[[cx, cy], [w * 0.6, h * 0.4], [w * 0.9, h * 0.9]], labels=[1, 1, 0],
                             multimask=True),
    }
    results = {}
    for case, c in cases.items():
        masks, iou, low = predictor.predict(
            point_coords=np.array(c["points"], dtype=np.float64) if "points" in c else None,
            point_labels=np.array(c["labels"]) if "labels" in c else None,
            box=np.array(c["box"]) if "box" in c else None,
            multimask_output=c["multimask"])
        results[case] = (masks, iou, low)
    # Mask input: the best low-res logits of point_multi fed back with the same point.
    _, iou0, low0 = results["point_multi"]
    mask_in = low0[int(np.argmax(iou0))][None]
    np.save(out / f"{name}_mask_input.npy", mask_in.astype(np.float32))
    cases["mask_input"] = dict(points=[[cx, cy]], labels=[1], multimask=False, mask_input=True)
    results["mask_input"] = predictor.predict(point_coords=np.array([[cx, cy]]), point_labels=np.array([1]),
                                              mask_input=mask_in, multimask_output=False)
    for case, (masks, iou, low) in results.items():
        np.save(out / f"{name}_{case}_masks.npy", masks.astype(np.uint8))
        np.save(out / f"{name}_{case}_iou.npy", iou.astype(np.float32))
        np.save(out / f"{name}_{case}_lowres.npy", low.astype(np.float32))
    manifest[name] = {"image": str(path), "cases": cases}
(out / "cases.json").write_text(json.dumps(manifest, indent=1))

# The official automatic mask generator ("segment everything") on one image, with a 16 x 16 grid.
amg_image = data / "busi/images/benign_003.png"
generator = SamAutomaticMaskGenerator(model, points_per_side=16)
records = generator.generate(np.array(Image.open(amg_image).convert("RGB")))
np.save(out / "amg_masks.npy", np.stack([r["segmentation"] for r in records]).astype(np.uint8))
(out / "amg.json").write_text(json.dumps({"image": str(amg_image), "points_per_side": 16, "masks": [
    {k: r[k] for k in ("bbox", "area", "predicted_iou", "stability_score", "point_coords")} for r in records]}))
print("fixtures written to", out)
