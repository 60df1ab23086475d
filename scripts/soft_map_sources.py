#!/usr/bin/python3
"""How well feature propagation's soft map finds the lesion from each checkpoint's embedding and from both
stacked (docs/RESULTS.md, "Soft maps from both checkpoints"), on the 64 x 64 embedding grid.

    /usr/bin/python3 scripts/soft_map_sources.py DATA SUPPORTS EMB [EMB2]

SUPPORTS: comma-separated support names; EMB, EMB2: embedding caches (`sammpa sam-embed --data DATA --out EMB`,
one per checkpoint). The classifier is the program's (class-balanced logistic regression on standardised
channels, ridge 1, 12 Newton steps, background thinned to 8000 cells), fitted on the supports. Over the query
images with an object (names not starting with "normal") it prints: Dice of the cells >= 0.5 against the cells
the mask covers at least half; how often the map's highest cell lies in the lesion; the share of the map's mass
inside the lesion. Needs numpy and PIL.
"""
import glob
import json
import os
import struct
import sys

import numpy as np
from PIL import Image


def read_embedding(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<I", raw[8:12])[0]
    head = json.loads(raw[12:12 + n])
    return head, np.frombuffer(raw[12 + n:], np.float32).reshape(head["shape"])[0]


def image_cells(head, grid):
    """Cells (width, height) holding image rather than padding."""
    stride = head["target"] / grid
    return int(np.ceil(head["input_w"] / stride)), int(np.ceil(head["input_h"] / stride))


def mask_cells(mask, head, grid):
    m = Image.fromarray(mask.astype(np.uint8) * 255).resize((head["input_w"], head["input_h"]), Image.BOX)
    square = np.zeros((head["target"], head["target"]), np.float32)
    square[:head["input_h"], :head["input_w"]] = np.array(m) / 255.0
    return np.array(Image.fromarray(square).resize((grid, grid), Image.BOX))


def rows_of(name, caches, data):
    """One row of stacked channels per image cell, and the cell's coverage by the mask."""
    parts = [read_embedding(f"{c}/{name}.samemb") for c in caches]
    grid = parts[0][1].shape[-1]
    w = min(image_cells(h, grid)[0] for h, _ in parts)
    h = min(image_cells(hd, grid)[1] for hd, _ in parts)
    x = np.concatenate([f[:, :h, :w].reshape(f.shape[0], -1).T for _, f in parts], 1)
    mask = np.array(Image.open(f"{data}/masks/{name}.png").convert("L")) > 127
    return x, mask_cells(mask, parts[0][0], grid)[:h, :w].reshape(-1)


def fit(xs, ys, l2=1.0, steps=12, max_background=8000):
    x, y = np.vstack(xs).astype(np.float64), np.concatenate(ys).astype(np.float64)
    background = np.where(y <= 0)[0]
    stride = int(np.ceil(len(background) / max_background))
    if stride > 1:
        keep = np.ones(len(y), bool)
        keep[background] = False
        keep[background[::stride]] = True
        x, y = x[keep], y[keep]
    mu, sd = x.mean(0), x.std(0) + 1e-6
    z = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    n, pos = len(y), y.sum()
    weight = y * n / (2 * pos) + (1 - y) * n / (2 * (n - pos))
    reg = np.eye(z.shape[1]) * l2
    reg[-1, -1] = 0
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        s = np.sqrt(weight * p * (1 - p) + 1e-12)
        zs = z * s[:, None]
        w -= np.linalg.solve(zs.T @ zs + reg, z.T @ (weight * (p - y)) + reg @ w)
    return lambda q: 1 / (1 + np.exp(-(np.hstack([(q - mu) / sd, np.ones((len(q), 1))]) @ w)))


def map_scores(cells, soft):
    """A soft map (per cell) against the cells' coverage by the mask: Dice of the cells >= 0.5 against the cells
    covered at least half, whether the highest cell lies in the object, the share of the map's mass inside it."""
    truth, found = cells >= 0.5, soft >= 0.5
    return (2 * (truth & found).sum() / max(truth.sum() + found.sum(), 1), cells[np.argmax(soft)] >= 0.5,
            soft[truth].sum() / max(soft.sum(), 1e-9))


def fit_and_score(train, queries):
    """Fit on train, a list of (cell rows, coverage), and return the means of map_scores over queries (the same
    kind of pairs) and their count, as one line of text."""
    predict = fit([x for x, _ in train], [y for _, y in train])
    dice, peak, mass = np.mean([map_scores(y, predict(x)) for x, y in queries], 0)
    return (f"{len(queries)} queries: cell Dice {dice:.3f}, highest cell in the object {peak:.3f}, "
            f"mass inside {mass:.3f}")


def main():
    data, supports, caches = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
    names = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{data}/images/*.png"))
    queries = [n for n in names if n not in supports and not n.startswith("normal")]
    choices = [[c] for c in caches] + ([caches] if len(caches) > 1 else [])
    for chosen in choices:
        train = [rows_of(n, chosen, data) for n in supports]
        predict = fit([x for x, _ in train], [y for _, y in train])
        dice, peak, mass = zip(*(map_scores(y, predict(x)) for x, y in (rows_of(n, chosen, data) for n in queries)))
        print(f"{' + '.join(chosen)}: {len(queries)} lesion queries; cell Dice {np.mean(dice):.3f}, "
              f"highest cell in the lesion {np.mean(peak):.3f}, mass inside {np.mean(mass):.3f}", flush=True)


if __name__ == "__main__":
    main()
