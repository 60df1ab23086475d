#!/usr/bin/python3
"""What the ranked mode's "no object" answers cost and gave on a run with ground truth (docs/RESULTS.md, "The
masks the 'no object' answers declined"), from the run's own files.

    /usr/bin/python3 scripts/declined_answers.py RUN DATA

RUN: a `sammpa run` output folder (masks/, declined/, eval.csv); DATA: its data folder (masks/NAME.png). Images
whose names start with "normal" hold no object. Prints, over the lesion queries, the Dice as answered; of those
answered with a mask, how many were found (Dice >= 0.5), partial (0.1-0.5; smaller or larger than the truth)
or in the wrong place (< 0.1); how many were answered "no object" and how their declined masks
(RUN/declined/NAME.png) score against the truth; and the Dice had every query kept its answer. Over the normal
queries, the share answered "no object". Needs numpy and PIL.
"""
import csv
import os
import sys

import numpy as np
from PIL import Image


def mask(path):
    return np.array(Image.open(path).convert("L")) > 127


def dice(a, b):
    s = a.sum() + b.sum()
    return 1.0 if s == 0 else 2.0 * (a & b).sum() / s


def main():
    run, data = sys.argv[1], sys.argv[2]
    rows = list(csv.DictReader(open(f"{run}/eval.csv")))
    lesion = [r for r in rows if not r["name"].startswith("normal")]
    normal = [r for r in rows if r["name"].startswith("normal")]
    answered = {r["name"]: float(r["dice"]) for r in lesion}
    declined, kept = [], dict(answered)
    found, small, large, partial, wrong = [], 0, 0, 0, 0
    for r in lesion:
        name, truth = r["name"], mask(f"{data}/masks/{r['name']}.png")
        f = f"{run}/declined/{name}.png"
        if os.path.exists(f):
            kept[name] = dice(mask(f), truth)
            declined.append(kept[name])
            continue
        d = answered[name]
        if d >= 0.5:
            found.append(d)
        elif d >= 0.1:  # partial: against the truth's area, too small or too large
            partial += 1
            ratio = mask(f"{run}/masks/{name}.png").sum() / max(truth.sum(), 1)
            small += ratio < 0.7
            large += ratio > 1.4
        else:
            wrong += 1
    normal_declined = sum(os.path.exists(f"{run}/declined/{r['name']}.png") for r in normal)
    normal_empty = sum(float(r["dice"]) == 1.0 for r in normal)
    d = np.array(declined)
    print(f"lesion queries {len(lesion)}: Dice as answered {np.mean(list(answered.values())):.3f}")
    print(f"  answered with a mask: {len(lesion) - len(d)}; found (Dice >= 0.5) {len(found)}, their Dice "
          f"{np.mean(found) if found else 0:.3f}; partial (0.1-0.5) {partial}, of which {small} smaller than 0.7 x "
          f"the truth and {large} larger than 1.4 x; wrong place (< 0.1) {wrong}")
    if len(d):
        print(f"  answered 'no object': {len(d)}; their declined masks: Dice {d.mean():.3f} (median "
              f"{np.median(d):.3f}), >= 0.5 on {(d >= 0.5).sum()}, < 0.1 on {(d < 0.1).sum()}")
    print(f"  Dice had every query kept its answer: {np.mean(list(kept.values())):.3f}")
    if normal:
        print(f"normal queries {len(normal)}: answered 'no object' {normal_empty / len(normal):.2f} "
              f"({normal_declined} with a declined mask; every one answered would score 0)")


if __name__ == "__main__":
    main()
