#!/usr/bin/python3
"""What, beside each cell's own channels, helps feature propagation's soft map find the lesion (docs/RESULTS.md,
"The soft map sees each image's level and the cell's place"), offline, on the 64 x 64 embedding grid.

    /usr/bin/python3 scripts/soft_map_context.py DATA EMB EMB2 K SETS VARIANTS

EMB, EMB2: MobileSAM's and LiteMedSAM's embedding caches of DATA (`sammpa sam-embed`; the classifier sees both
stacked, as the program's default does). K: supports per set. SETS: space-separated; `kc` is the headline's
K = 10 k-centroid supports of BUSI, a number N is K names drawn by Python's random.Random(N).sample. VARIANTS:
comma-separated, each a '+'-joined list of additions to the channels (`base`: none):
  relative   the channels minus the image's mean over its cells (beside the channels)
  centred    the channels minus the image's mean instead of the channels
  position   x, y, x^2, y^2 of the cell over the image's cells (-0.5 to 0.5)
  radius     the cell's distance from the image's centre
  boxR       the channels averaged over R x R cells around the cell
  diffR      the channels minus that average
The classifier is the program's (scripts/soft_map_sources.py). Scored over every third image of DATA in name
order that holds an object and is not a support: Dice of the cells >= 0.5, how often the highest cell lies in the
object, the share of the map's mass inside it. Needs numpy, PIL and cv2.
"""
import glob
import os
import random
import sys

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soft_map_sources import fit_and_score, image_cells, mask_cells, read_embedding  # noqa: E402

HEADLINE = ("normal_089,normal_105,malignant_089,normal_109,benign_324,malignant_100,benign_424,benign_400,"
            "normal_129,benign_019").split(",")


def load(data, emb, emb2, name):
    """The stacked channels of an image's cells (C, h, w) and the cells' coverage by its mask."""
    h1, f1 = read_embedding(f"{emb}/{name}.samemb")
    h2, f2 = read_embedding(f"{emb2}/{name}.samemb")
    grid = f1.shape[-1]
    w = min(image_cells(h1, grid)[0], image_cells(h2, grid)[0])
    h = min(image_cells(h1, grid)[1], image_cells(h2, grid)[1])
    channels = np.concatenate([f1[:, :h, :w], f2[:, :h, :w]], 0).astype(np.float32)
    mask = np.array(Image.open(f"{data}/masks/{name}.png").convert("L")) > 127
    return channels, mask_cells(mask, h1, grid)[:h, :w].reshape(-1)


def blur(hwc, r):
    parts = [cv2.blur(np.ascontiguousarray(hwc[:, :, i:i + 256]), (r, r), borderType=cv2.BORDER_REFLECT)
             for i in range(0, hwc.shape[2], 256)]
    return np.concatenate([p.reshape(hwc.shape[0], hwc.shape[1], -1) for p in parts], 2)


def describe(channels, variant):
    c, h, w = channels.shape
    hwc = channels.transpose(1, 2, 0)
    rows = hwc.reshape(-1, c)
    mean = rows.mean(0, keepdims=True)
    yy, xx = np.mgrid[0:h, 0:w]
    px, py = (xx + 0.5) / w - 0.5, (yy + 0.5) / h - 0.5
    out = [rows - mean if "centred" in variant else rows]
    for part in variant:
        if part == "relative":
            out.append(rows - mean)
        elif part == "position":
            out.append(np.stack([px, py, px * px, py * py], -1).reshape(-1, 4))
        elif part == "radius":
            out.append(np.sqrt(px * px + py * py).reshape(-1, 1))
        elif part.startswith("box"):
            out.append(blur(hwc, int(part[3:])).reshape(-1, c))
        elif part.startswith("diff"):
            out.append((hwc - blur(hwc, int(part[4:]))).reshape(-1, c))
    return np.concatenate(out, 1).astype(np.float32)


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    data, emb, emb2, k, sets, variants = sys.argv[1:]
    names = sorted(os.path.basename(p)[:-4] for p in glob.glob(f"{data}/images/*.png"))
    scored = set(names[::3])
    cache = {}

    def get(n):
        if n not in cache:
            cache[n] = load(data, emb, emb2, n)
        return cache[n]
    for s in sets.split():
        supports = HEADLINE if s == "kc" else random.Random(int(s)).sample(names, int(k))
        queries = [n for n in names if n in scored and n not in supports and get(n)[1].max() > 0]
        for v in variants.split(","):
            parts = [] if v == "base" else v.split("+")
            train = [(describe(x, parts), y) for x, y in map(get, supports)]
            line = fit_and_score(train, [(describe(x, parts), y) for x, y in map(get, queries)])
            print(f"set {s:3s} {v:18s} {line}", flush=True)


if __name__ == "__main__":
    main()
