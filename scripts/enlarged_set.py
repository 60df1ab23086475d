#!/usr/bin/env python3
"""A folder of full-resolution scans, as a hospital's X-rays come: the first N images of a data set enlarged to
SIZE pixels on their longer side and stored as 16-bit PNG, their masks enlarged with them (docs/PERFORMANCE.md, "Large
images"). A small folder at the data set's own size (links to the same images) goes beside it for comparison.

    /usr/bin/python3 scripts/enlarged_set.py ../shared/data/cxr 16 3000 big small
"""
import os
import pathlib
import sys

import cv2
import numpy as np


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    src, n, size = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    big, small = pathlib.Path(sys.argv[4]), pathlib.Path(sys.argv[5])
    for d in (big, small):
        for sub in ("images", "masks"):
            (d / sub).mkdir(parents=True, exist_ok=True)
    for f in sorted((src / "images").glob("*.png"))[:n]:
        image = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        mask = cv2.imread(str(src / "masks" / f.name), cv2.IMREAD_GRAYSCALE)
        scale = size / max(image.shape)
        shape = (round(image.shape[1] * scale), round(image.shape[0] * scale))
        grown = cv2.resize(image, shape, interpolation=cv2.INTER_CUBIC).astype(np.uint16) * 257
        cv2.imwrite(str(big / "images" / f.name), grown)
        cv2.imwrite(str(big / "masks" / f.name), cv2.resize(mask, shape, interpolation=cv2.INTER_NEAREST))
        for sub in ("images", "masks"):
            link = small / sub / f.name
            if not link.exists():
                os.symlink((src / sub / f.name).resolve(), link)


if __name__ == "__main__":
    main()
