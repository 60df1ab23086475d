#!/usr/bin/env python3
"""A folder as some public data sets ship theirs: larger RGB JPEG images with JPEG masks, and the same pixels as
PNG beside it, from every tenth image of a data set (docs/ROBUSTNESS.md, "Masks saved as JPEG").

    python3 scripts/jpeg_mask_set.py ../shared/data/busi 'benign_*' jpg40 png40
"""
import pathlib
import sys

import cv2


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    src, pattern, jpg, png = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3]), pathlib.Path(sys.argv[4])
    for d in (jpg, png):
        for sub in ("images", "masks"):
            (d / sub).mkdir(parents=True, exist_ok=True)
    files = sorted((src / "images").glob(pattern + ".png"))[::10]
    for f in files:
        image = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        mask = cv2.imread(str(src / "masks" / f.name), cv2.IMREAD_GRAYSCALE)
        big = cv2.resize(image, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)
        big_mask = cv2.resize(mask, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_NEAREST)
        quality = [cv2.IMWRITE_JPEG_QUALITY, 90]
        cv2.imwrite(str(jpg / "images" / (f.stem + ".jpg")), cv2.cvtColor(big, cv2.COLOR_GRAY2BGR), quality)
        cv2.imwrite(str(jpg / "masks" / (f.stem + ".jpg")), big_mask, quality)
        cv2.imwrite(str(png / "images" / f.name), big)
        cv2.imwrite(str(png / "masks" / f.name), big_mask)
    print(f"{len(files)} images in {jpg} and {png}")


if __name__ == "__main__":
    main()
