#!/usr/bin/python3
"""Whether candidates that other candidates agree with are better choices (docs/RESULTS.md, "Soft maps from
both checkpoints", last table), offline on a two-checkpoint candidate dump.

    /usr/bin/python3 scripts/agreement_features.py DATA DUMP

DUMP: the SAMMPA_RANKED_DUMP folder of a run with --ranked-extra-checkpoint (its CSV rows and candidate PNGs).
Each variant adds columns to the program's features, computed from the IoU between the image's own candidates:
  other    the best IoU with a candidate of the other checkpoint
  same     the best IoU with another candidate of the same checkpoint
  density  the share of the image's candidates that overlap it with IoU > 0.5
  mean     its mean IoU with all the image's other candidates
and prints the lesion Dice of the ridge ranker never answering empty at each fixed penalty. The IoUs are cached
in DUMP.iou.pkl. Needs numpy and PIL.
"""
import glob
import os
import pickle
import sys

import numpy as np
from PIL import Image

from analyze_ranked_dump import load, ridge

PENALTIES = [0.01, 0.1, 0.3, 1, 3, 10]


def images_of(data, dump):
    cache = dump.rstrip("/") + ".iou.pkl"
    if os.path.exists(cache):
        return pickle.load(open(cache, "rb"))
    out = {}
    for key in sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{dump}/*.csv")):
        im = load(dump, data, key, key[len("support_"):] if key.startswith("support_") else key)
        n = len(im["src"])
        if n:
            m = np.stack([np.array(Image.open(f"{dump}/{key}_{i}.png")) > 0 for i in range(n)])
            m = m.reshape(n, -1).astype(np.float32)
            inter = m @ m.T
            area = m.sum(1)
            im["iou_pairs"] = inter / np.maximum(area[:, None] + area[None, :] - inter, 1)
        out[key] = im
    pickle.dump(out, open(cache, "wb"))
    return out


def with_agreement(im, kinds):
    if not len(im["x"]) or not kinds:
        return im
    pair = im["iou_pairs"].copy()
    np.fill_diagonal(pair, 0)
    extra = np.array([s.startswith("extra_") for s in im["src"]])
    same = extra[:, None] == extra[None, :]
    columns = {"other": np.where(~same, pair, 0).max(1), "same": np.where(same, pair, 0).max(1),
               "density": (pair > 0.5).mean(1), "mean": pair.mean(1)}
    q = dict(im)
    q["x"] = np.hstack([im["x"]] + [columns[k][:, None] for k in kinds])
    return q


def main():
    data, dump = sys.argv[1], sys.argv[2]
    images = images_of(data, dump)
    for kinds in [[], ["other"], ["same"], ["density"], ["mean"], ["other", "density"]]:
        sup = [with_agreement(images[k], kinds) for k in images if k.startswith("support_")]
        lesions = [with_agreement(images[k], kinds) for k in images
                   if not k.startswith("support_") and not images[k]["empty"]]
        dice = []
        for penalty in PENALTIES:
            f = ridge(sup, penalty)
            dice.append(np.mean([q["dice"][int(np.argmax(f(q["x"])))] if len(q["x"]) else 0.0 for q in lesions]))
        print(f"{' + '.join(kinds) or 'the program':>16}: " + " ".join(f"{d:.3f}" for d in dice), flush=True)


if __name__ == "__main__":
    main()
