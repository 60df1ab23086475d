#!/usr/bin/python3
"""What a box round would give on a finished ranked-mode run (docs/RESULTS.md, "The extra checkpoint's box
round"), offline: each lesion query's final mask is replaced by a checkpoint's answer to the mask's bounding box,
widened on each side by MARGIN of its width / height.

    /usr/bin/python3 scripts/box_round_offline.py SAMMPA RUN DATA EMB CHECKPOINT MARGIN

RUN: a `sammpa run` output folder (masks/, support.txt); EMB: the embedding cache of CHECKPOINT for DATA's
images (`sammpa sam-embed`). Queries whose names start with "normal" are left out; an empty final mask stays
empty (Dice 0). Prints the lesion Dice before and after, and on the queries whose final mask already reached 0.5.
Runs `SAMMPA sam --box` once per query, two at a time. Needs numpy and PIL.
"""
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image


def dice(a, b):
    s = a.sum() + b.sum()
    return 2 * (a & b).sum() / s if s else 1.0


def main():
    sammpa, run, data, emb, checkpoint, margin = sys.argv[1:6] + [float(sys.argv[6])]
    support = set(open(f"{run}/support.txt").read().split())
    names = sorted(f[:-4] for f in os.listdir(f"{run}/masks")
                   if not f.startswith("normal") and f[:-4] not in support)
    scratch = tempfile.mkdtemp()

    def one(name):
        final = np.array(Image.open(f"{run}/masks/{name}.png")) > 0
        truth = np.array(Image.open(f"{data}/masks/{name}.png").convert("L")) > 127
        if not final.any():
            return 0.0, 0.0
        ys, xs = np.nonzero(final)
        h, w = final.shape
        dx, dy = margin * (xs.max() - xs.min() + 1), margin * (ys.max() - ys.min() + 1)
        box = [max(0, xs.min() - dx), max(0, ys.min() - dy), min(w - 1, xs.max() + dx), min(h - 1, ys.max() + dy)]
        out = f"{scratch}/{name}"
        subprocess.run([sammpa, "-q", "sam", "--embedding", f"{emb}/{name}.samemb", "--checkpoint", checkpoint,
                        "--box", ",".join(f"{v:.0f}" for v in box), "-o", out, "-t", "1"],
                       check=True, capture_output=True)
        return dice(final, truth), dice(np.array(Image.open(f"{out}/mask_0.png")) > 0, truth)

    with ThreadPoolExecutor(2) as pool:
        res = np.array(list(pool.map(one, names)))
    before, after = res[:, 0], res[:, 1]
    hit = before > 0.5
    print(f"{run}, {os.path.basename(checkpoint)}, margin {margin}: {len(names)} lesion queries, "
          f"Dice {before.mean():.3f} -> {after.mean():.3f}; where the final mask reached 0.5 "
          f"({hit.sum()}): {before[hit].mean():.3f} -> {after[hit].mean():.3f}; "
          f"better by > 0.01: {np.mean(after > before + 0.01):.2f}, worse: {np.mean(after < before - 0.01):.2f}")


if __name__ == "__main__":
    main()
