#!/usr/bin/python3
"""Fuses the soft maps of several step-2 runs (e.g. registration and feature propagation) into one, and writes
it as a step-2 output that `sammpa segment --coarse` accepts (docs/RESULTS.md, "Fused propagation").

    /usr/bin/python3 scripts/fuse_soft_maps.py DATA OUT RUN[:WEIGHT] RUN[:WEIGHT] ...

RUN: a `sammpa run --no-sam` (or `propagate`) output with soft/NAME.png. The fused map is the weighted mean of
the runs' maps (weights default to equal, normalised to sum 1); the coarse mask is the fused map >= 0.5. OUT gets
coarse/, soft/ and the first run's support.json and support.txt. Prints the coarse Dice of each run and of the
fusion over the query images with a true mask in DATA/masks (the first run's supports are left out). Needs
numpy and PIL.
"""
import os
import shutil
import sys

import numpy as np
from PIL import Image


def read(path):
    return np.array(Image.open(path).convert("L")).astype(np.float32) / 255.0


def dice(mask, truth):
    total = mask.sum() + truth.sum()
    return 2.0 * (mask & truth).sum() / total if total else 1.0


def main():
    data, out, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
    if len(specs) < 2:
        sys.exit(__doc__)
    runs, weights = [], []
    for s in specs:
        run, _, w = s.partition(":")
        runs.append(run)
        weights.append(float(w) if w else 1.0)
    weights = np.array(weights) / sum(weights)
    supports = set(open(os.path.join(runs[0], "support.txt")).read().split())
    names = sorted(f[:-4] for f in os.listdir(os.path.join(runs[0], "soft")) if f.endswith(".png"))
    for sub in ("coarse", "soft"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    for f in ("support.json", "support.txt"):
        shutil.copy(os.path.join(runs[0], f), os.path.join(out, f))
    scores = {name: [] for name in runs + ["fused"]}
    for n in names:
        maps = [read(os.path.join(r, "soft", n + ".png")) for r in runs]
        fused = sum(w * m for w, m in zip(weights, maps))
        Image.fromarray(np.round(fused * 255).astype(np.uint8)).save(os.path.join(out, "soft", n + ".png"))
        Image.fromarray(((fused >= 0.5) * 255).astype(np.uint8)).save(os.path.join(out, "coarse", n + ".png"))
        truth_path = os.path.join(data, "masks", n + ".png")
        if n in supports or not os.path.exists(truth_path):
            continue
        truth = np.array(Image.open(truth_path).convert("L").resize(fused.shape[::-1], Image.NEAREST)) > 127
        for r, m in zip(runs, maps):
            scores[r].append(dice(m >= 0.5, truth))
        scores["fused"].append(dice(fused >= 0.5, truth))
    for name, v in scores.items():
        print("%-40s coarse Dice %.4f (median %.4f, min %.3f) over %d queries" %
              (name, np.mean(v), np.median(v), np.min(v), len(v)))


if __name__ == "__main__":
    main()
