#!/usr/bin/python3
"""Offline variants of the ranked mode's choice on a candidate dump (docs/RESULTS.md, "Where the ranker's
choices go wrong").

    SAMMPA_RANKED_DUMP=DUMP build/bin/sammpa run --data DATA -k 10 --propagation ranked --out OUT
    /usr/bin/python3 scripts/ranker_variants.py DUMP DATA [--drop FEATURE ...] [--penalty P]

Prints, for the lesion queries (never answering empty): how the ridge ranker's choices split into right
(Dice >= 0.6), partial and wrong place; the ranker with features made relative to the image's other
candidates; and a vote or a consensus of the best-scored candidates instead of the best one. Needs numpy
and PIL.
"""
import argparse
import glob
import os

import numpy as np
from PIL import Image

from analyze_ranked_dump import load, ridge

PENALTIES = [0.01, 0.1, 0.3, 1, 3, 10, 30, 100]


def relative(x, how):
    """Features plus their difference to the image's maximum or mean, or their rank within the image."""
    if not len(x) or how == "plain":
        return x
    if how == "minus max":
        return np.hstack([x, x - x.max(0)])
    if how == "minus mean":
        return np.hstack([x, x - x.mean(0)])
    return np.hstack([x, np.argsort(np.argsort(-x, 0), 0) / max(len(x) - 1, 1)])


def chosen_dice(sup, lesions, penalty):
    f = ridge(sup, penalty)
    return np.array([q["dice"][int(np.argmax(f(q["x"])))] if len(q["x"]) else 0.0 for q in lesions])


def dice(a, b):
    s = a.sum() + b.sum()
    return 2 * (a & b).sum() / s if s else 1.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("data")
    ap.add_argument("--drop", nargs="*", default=[])
    ap.add_argument("--penalty", type=float, default=1.0, help="ridge penalty for the split and the votes")
    a = ap.parse_args()
    keys = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{a.dump}/*.csv"))
    header = open(f"{a.dump}/{keys[0]}.csv").readline().strip().split(",")[1:]
    keep = [i for i, n in enumerate(header) if n not in a.drop]
    sup = [load(a.dump, a.data, k, k[len("support_"):]) for k in keys if k.startswith("support_")]
    qkeys = [k for k in keys if not k.startswith("support_")]
    qry = [load(a.dump, a.data, k, k) for k in qkeys]
    for im in sup + qry:
        im["x"] = im["x"][:, keep] if len(im["x"]) else im["x"]
    lesions = [q for q in qry if not q["empty"]]
    best = np.array([q["dice"].max() if len(q["x"]) else 0.0 for q in lesions])
    print(f"{len(sup)} supports, {len(lesions)} lesion queries; best candidate {best.mean():.3f}")

    ch = chosen_dice(sup, lesions, a.penalty)
    print(f"penalty {a.penalty:g}: chosen {ch.mean():.3f}; Dice >= 0.6: {np.mean(ch >= 0.6):.2f} "
          f"(mean {ch[ch >= 0.6].mean():.3f}), 0.1-0.6: {np.mean((ch >= 0.1) & (ch < 0.6)):.2f}, "
          f"< 0.1: {np.mean(ch < 0.1):.2f} (best candidate there {best[ch < 0.1].mean():.3f})")

    for how in ["plain", "minus max", "minus mean", "rank"]:
        s = [dict(im, x=relative(im["x"], how)) for im in sup]
        q = [dict(im, x=relative(im["x"], how)) for im in lesions]
        print(f"features {how:10s}", " ".join(f"{p:g}:{chosen_dice(s, q, p).mean():.3f}" for p in PENALTIES))

    f = ridge(sup, a.penalty)
    votes = {}
    for key, q in zip(qkeys, qry):
        if q["empty"]:
            continue
        if not len(q["x"]):
            for v in votes.values():
                v.append(0.0)
            continue
        s = f(q["x"])
        order = np.argsort(-s)
        masks = np.stack([np.array(Image.open(f"{a.dump}/{key}_{i}.png")) > 0 for i in range(len(s))])
        truth = np.array(Image.open(f"{a.data}/masks/{key}.png").convert("L")).astype(np.float32)
        truth = np.array(Image.fromarray(truth).resize(masks.shape[1:][::-1], Image.BOX)) >= 127.5
        for m in (3, 5):
            top = order[:m]
            w = np.maximum(s[top], 1e-6)
            mean = (masks[top] * w[:, None, None]).sum(0) / w.sum()
            votes.setdefault(f"weighted vote of {m}", []).append(dice(mean >= 0.5, truth))
            iou = np.array([[(masks[i] & masks[j]).sum() / max((masks[i] | masks[j]).sum(), 1) for j in top]
                            for i in top])
            votes.setdefault(f"consensus of {m}", []).append(q["dice"][top[int(np.argmax(iou @ w))]])
    print("instead of the best-scored candidate:", ", ".join(f"{k} {np.mean(v):.3f}" for k, v in votes.items()))


if __name__ == "__main__":
    main()
