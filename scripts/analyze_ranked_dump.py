#!/usr/bin/python3
"""Studies the ranked mode's candidates offline (docs/PIPELINE.md, "The ranked mode").

    SAMMPA_RANKED_DUMP=DUMP build/bin/sammpa run --data DATA -k 10 --propagation ranked --out OUT
    /usr/bin/python3 scripts/analyze_ranked_dump.py DUMP DATA

For the query images with an object (truth from DATA/masks), prints the best candidate's Dice (what a perfect
ranker would get), the same without the grid's candidates, and the Dice of a ridge ranker fitted on the
supports' candidates for each penalty, as the program fits it (IoU target, penalty per candidate; no empty
answers). Needs numpy and PIL (Debian's python3-numpy, python3-pil).
"""
import csv
import glob
import os
import sys

import numpy as np
from PIL import Image


def load(dump, data, key, name):
    rows = list(csv.reader(open(f"{dump}/{key}.csv")))
    src = [r[0] for r in rows[1:]]
    x = np.array([[float(v) for v in r[1:]] for r in rows[1:]]).reshape(len(src), len(rows[0]) - 1)
    masks = [np.array(Image.open(f"{dump}/{key}_{i}.png")) > 0 for i in range(len(src))]
    truth = np.array(Image.open(f"{data}/masks/{name}.png").convert("L")).astype(np.float32)
    if masks:  # the program's work frame: area averaging, then >= half
        truth = np.array(Image.fromarray(truth).resize(masks[0].shape[::-1], Image.BOX)) >= 127.5
    iou, dice = [], []
    for m in masks:
        i, a, t = (m & truth).sum(), m.sum(), truth.sum()
        iou.append(i / (a + t - i) if a + t - i else 0.0)
        dice.append(2 * i / (a + t) if a + t else 0.0)
    return dict(src=np.array(src), x=x, iou=np.array(iou), dice=np.array(dice), empty=not truth.any(), masks=masks)


def ridge(images, penalty):
    x = np.vstack([im["x"] for im in images if len(im["x"])])
    y = np.concatenate([im["iou"] for im in images if len(im["x"])])
    mu, sd = x.mean(0), x.std(0)
    sc = np.where(sd > 1e-12, 1 / np.maximum(sd, 1e-12), 0)
    z = np.hstack([(x - mu) * sc, np.ones((len(x), 1))])
    a = z.T @ z
    d = x.shape[1]
    a[np.arange(d), np.arange(d)] += penalty * len(x)
    a[d, d] += 1e-9
    w = np.linalg.solve(a, z.T @ y)
    return lambda f: np.hstack([(f - mu) * sc, np.ones((len(f), 1))]) @ w


def main():
    dump, data = sys.argv[1], sys.argv[2]
    keys = [os.path.basename(f)[:-4] for f in glob.glob(f"{dump}/*.csv")]
    sup = [load(dump, data, k, k[len("support_"):]) for k in sorted(keys) if k.startswith("support_")]
    qry = [load(dump, data, k, k) for k in sorted(keys) if not k.startswith("support_")]
    lesions = [q for q in qry if not q["empty"]]
    print(f"{len(sup)} supports, {len(qry)} queries, {len(lesions)} with an object")

    def best(q, keep=lambda s: True):
        d = [v for s, v in zip(q["src"], q["dice"]) if keep(s)]
        return max(d) if d else 0.0

    print("best candidate's Dice (perfect ranker):      %.3f" % np.mean([best(q) for q in lesions]))
    print("  without the grid's candidates:             %.3f" %
          np.mean([best(q, lambda s: not s.startswith("grid")) for q in lesions]))
    for p in [0.01, 0.1, 0.3, 1, 3, 10]:
        f = ridge(sup, p)
        chosen = [q["dice"][int(np.argmax(f(q["x"])))] if len(q["x"]) else 0.0 for q in lesions]
        print("ranker, penalty %-5g per candidate:          %.3f" % (p, np.mean(chosen)))


if __name__ == "__main__":
    main()
