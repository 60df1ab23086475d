#!/usr/bin/env python3
"""A folder of deeper scans with a few extreme pixels, as detectors and burned-in text leave them (docs/ROBUSTNESS.md,
"Deeper data"): the first N images of a data set whose name starts with PREFIX, stored as 16-bit PNG, each 8-bit
value times FACTOR (16: a 12-bit detector's range; 64: a quarter of the 16-bit range), with three pixels near the
top left corner at 65535; the masks are linked unchanged.

    /usr/bin/python3 scripts/deep_set.py ../shared/data/busi benign_ 40 16 deep40_12
"""
import os
import pathlib
import sys

import cv2
import numpy as np


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    src, prefix, n, factor = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    out = pathlib.Path(sys.argv[5])
    for sub in ("images", "masks"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for f in sorted((src / "images").glob(prefix + "*.png"))[:n]:
        deep = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE).astype(np.uint16) * factor
        deep[5:8, 5] = 65535
        cv2.imwrite(str(out / "images" / f.name), deep)
        link = out / "masks" / f.name
        if not link.exists():
            os.symlink((src / "masks" / f.name).resolve(), link)


if __name__ == "__main__":
    main()
