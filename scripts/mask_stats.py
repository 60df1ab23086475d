#!/usr/bin/env python3
"""Figures about a data set's masks that the docs quote (docs/RESULTS.md "Object size limits from the supports",
docs/ROBUSTNESS.md "Masks saved as JPEG").

    python3 scripts/mask_stats.py fractions DATA                  # each non-empty mask's share of its image
    python3 scripts/mask_stats.py supports DATA RUN [RUN ...]     # the largest and smallest support object per run
    python3 scripts/mask_stats.py jpeg DATA [N]                   # the first N masks through JPEG (quality 90)
    python3 scripts/mask_stats.py by-size DATA EVAL_CSV [T]       # mean Dice of objects above / below T (0.6)

A mask's share is its object pixels over the image's, the whole mask as the pipeline measures it
(candidate_max_area, lowered_size_floor). `jpeg` compares each non-empty mask among the first N files (name
order; default 40) with its JPEG copy read two ways: any non-zero pixel, and above half the brightest level.
"""
import pathlib
import sys

import cv2
import numpy as np


def share(path):
    m = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    return float((m > 0).mean())


def dice(a, b):
    return 2.0 * (a & b).sum() / (a.sum() + b.sum())


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("fractions", "supports", "jpeg", "by-size"):
        sys.exit(__doc__)
    data = pathlib.Path(sys.argv[2])
    masks = sorted((data / "masks").glob("*.png"))
    if sys.argv[1] == "fractions":
        f = np.array([v for v in map(share, masks) if v > 0])
        q = np.percentile(f, [0, 1, 50, 99, 100])
        print(f"{len(f)} non-empty masks: min {q[0]:.5f}, 1% {q[1]:.5f}, median {q[2]:.5f}, 99% {q[3]:.5f}, "
              f"max {q[4]:.5f}")
    elif sys.argv[1] == "by-size":
        t = float(sys.argv[4]) if len(sys.argv) > 4 else 0.6
        big, small = [], []
        for row in open(sys.argv[3]).read().splitlines()[1:]:
            name, _, d = row.split(",")[:3]
            (big if share(data / "masks" / (name + ".png")) > t else small).append(float(d))
        print(f"objects above {t:g} of the image: {len(big)}, mean Dice {np.mean(big):.3f}; "
              f"the others: {len(small)}, {np.mean(small):.3f}")
    elif sys.argv[1] == "supports":
        for run in sys.argv[3:]:
            names = [n.strip() for n in open(pathlib.Path(run) / "support.txt") if n.strip()]
            f = [v for v in (share(data / "masks" / (n + ".png")) for n in names) if v > 0]
            print(f"{run}: {len(f)} supports with an object, largest {max(f):.3f}, smallest {min(f):.5f}")
    else:
        n = int(sys.argv[3]) if len(sys.argv) > 3 else 40
        any_nonzero, above_half = [], []
        for path in masks[:n]:
            m = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if m.max() == 0:
                continue
            ok, buf = cv2.imencode(".jpg", m, [cv2.IMWRITE_JPEG_QUALITY, 90])
            j = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
            truth = m > 0
            any_nonzero.append(dice(truth, j > 0))
            above_half.append(dice(truth, j > j.max() // 2))
        print(f"{len(any_nonzero)} masks through JPEG: Dice with the original, any non-zero "
              f"{np.mean(any_nonzero):.3f}, above half the brightest level {np.mean(above_half):.3f}")


if __name__ == "__main__":
    main()
