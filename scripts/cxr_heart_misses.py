#!/usr/bin/python3
"""Where chest X-ray masks lose Dice (docs/RESULTS.md, "Local weighted voting"): the share of each query's true
lung area that the prediction misses, and of it the part behind the heart (the lower inner quarter on the
image's right: rows 50-100%, columns 50-78% of the image), where annotations of this data set differ.

    /usr/bin/python3 scripts/cxr_heart_misses.py OUT DATA [--share 0.05]

OUT: a `sammpa run` / `segment` output (masks/, eval.csv). Prints the queries whose miss behind the heart is
above --share of their true area, their mean Dice and the others', and the mean missed and added area.
Needs numpy and PIL.
"""
import argparse
import csv

import numpy as np
from PIL import Image


def mask(path):
    return np.array(Image.open(path).convert("L").resize((256, 256), Image.NEAREST)) > 127


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("data")
    ap.add_argument("--share", type=float, default=0.05)
    a = ap.parse_args()
    dice, heart, missed, added = {}, {}, [], []
    region = np.zeros((256, 256), bool)
    region[128:, 128:200] = True
    for row in csv.DictReader(open(f"{a.out}/eval.csv")):
        name = row["name"]
        if name in dice:
            continue
        truth, pred = mask(f"{a.data}/masks/{name}.png"), mask(f"{a.out}/masks/{name}.png")
        area = max(truth.sum(), 1)
        dice[name] = float(row["dice"])
        heart[name] = (truth & ~pred & region).sum() / area
        missed.append((truth & ~pred).sum() / area)
        added.append((pred & ~truth).sum() / area)
    hit = [n for n in dice if heart[n] > a.share]
    rest = [n for n in dice if heart[n] <= a.share]
    print(f"{len(dice)} queries; {len(hit)} miss more than {a.share:.0%} of their true area behind the heart: "
          f"Dice {np.mean([dice[n] for n in hit]):.3f}; the other {len(rest)}: {np.mean([dice[n] for n in rest]):.3f}")
    print(f"mean missed area {np.mean(missed):.3f}, mean added area {np.mean(added):.3f} (shares of the true area)")


if __name__ == "__main__":
    main()
