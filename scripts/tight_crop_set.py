#!/usr/bin/env python3
"""A folder whose objects fill most of each image (as a skin lesion in dermoscopy, or an organ in a tight crop):
every tenth lesion image of BUSI cut to its lesion's bounding box widened on each side by 1-13% of the box's
size, in turn (docs/RESULTS.md, "Objects that fill the image").

    python3 scripts/tight_crop_set.py ../shared/data/busi crop60
"""
import pathlib
import sys

import cv2
import numpy as np


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    for sub in ("images", "masks"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    files = [f for f in sorted((src / "images").glob("*.png")) if not f.name.startswith("normal")][::10]
    fractions = []
    for i, f in enumerate(files):
        image = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        mask = cv2.imread(str(src / "masks" / f.name), cv2.IMREAD_GRAYSCALE)
        x, y, w, h = cv2.boundingRect((mask > 0).astype(np.uint8))
        margin = 0.01 + 0.03 * (i % 5)
        x0, y0 = max(0, int(x - margin * w)), max(0, int(y - margin * h))
        x1, y1 = min(image.shape[1], int(x + w + margin * w)), min(image.shape[0], int(y + h + margin * h))
        crop_mask = mask[y0:y1, x0:x1]
        cv2.imwrite(str(out / "images" / f.name), image[y0:y1, x0:x1])
        cv2.imwrite(str(out / "masks" / f.name), crop_mask)
        fractions.append(float((crop_mask > 0).mean()))
    q = np.percentile(fractions, [0, 25, 50, 75, 100])
    print(f"{len(files)} images in {out}; object fraction min {q[0]:.2f}, quartiles {q[1]:.2f} {q[2]:.2f} "
          f"{q[3]:.2f}, max {q[4]:.2f}; above 0.6: {sum(v > 0.6 for v in fractions)}")


if __name__ == "__main__":
    main()
