#!/usr/bin/python3
"""Is what is left of the chest X-ray error at the masks' boundary? (docs/RESULTS.md, "Where chest X-ray's
last points are"), offline on a finished run's final masks.

    /usr/bin/python3 scripts/mask_boundary.py RUN DATA

RUN: a `sammpa run` / `segment` output (masks/, eval.json); DATA: the data set folder (images/, masks/). For every
query: the truth's area the masks miss and the area they add (shares of the truth), the Dice of the masks grown
or shrunk by R pixels at a 512-pixel scale (an elliptic structuring element), and of the masks snapped to the
image's edges by a guided filter (He et al.'s, the image as guide, the mask as input, radius R at a 1024-pixel
scale, regularisation EPS, thresholded at 0.5). Needs numpy and OpenCV.
"""
import glob
import json
import sys

import cv2
import numpy as np


def dice(a, b):
    s = a.sum() + b.sum()
    return 2 * (a & b).sum() / s if s else 1.0


def guided_filter(guide, p, r, eps):
    box = lambda x: cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1))
    mean_i, mean_p = box(guide), box(p)
    a = (box(guide * p) - mean_i * mean_p) / (box(guide * guide) - mean_i * mean_i + eps)
    b = mean_p - a * mean_i
    return box(a) * guide + box(b)


def main():
    run, data = sys.argv[1:3]
    names = [i["name"] for i in json.load(open(f"{run}/eval.json"))["images"]]
    radii = (-2, -1, 0, 1, 2, 4)
    filters = [(r, e) for r in (2, 4, 8, 16) for e in (1e-3, 1e-2, 1e-1)]
    grown = {r: [] for r in radii}
    snapped = {f: [] for f in filters}
    missed, added = [], []
    for name in names:
        truth = cv2.imread(glob.glob(f"{data}/masks/{name}.*")[0], 0) > 127
        image = cv2.imread(glob.glob(f"{data}/images/{name}.*")[0], 0).astype(np.float32) / 255
        final = (cv2.imread(f"{run}/masks/{name}.png", 0) > 127).astype(np.uint8)
        missed.append((truth & (final == 0)).sum() / truth.sum())
        added.append(((final > 0) & ~truth).sum() / truth.sum())
        for r in radii:
            k = int(round(abs(r) * max(final.shape) / 512))
            m = final
            if k:
                element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
                m = cv2.dilate(final, element) if r > 0 else cv2.erode(final, element)
            grown[r].append(dice(m > 0, truth))
        scale = 1024 / max(final.shape)
        size = (int(round(final.shape[1] * scale)), int(round(final.shape[0] * scale)))
        guide = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        p = cv2.resize(final.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        for r, e in filters:
            q = cv2.resize(guided_filter(guide, p, r, e), final.shape[::-1], interpolation=cv2.INTER_LINEAR)
            snapped[(r, e)].append(dice(q > 0.5, truth))
    print(f"{len(names)} queries: the masks miss {np.mean(missed):.4f} of the truth's area and add {np.mean(added):.4f}")
    for r in radii:
        print(f"grown by {r:+d} px (512 scale): Dice {np.mean(grown[r]):.4f}, median {np.median(grown[r]):.4f}")
    base = np.array(grown[0])
    for (r, e), v in snapped.items():
        v = np.array(v)
        print(f"guided filter r {r:2d} (1024 scale), eps {e:g}: Dice {v.mean():.4f}, better on {np.mean(v > base):.2f}")


if __name__ == "__main__":
    main()
