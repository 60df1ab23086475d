#!/usr/bin/python3
"""Place first, then extent: whether a second ranker that chooses only among the candidates overlapping the
first ranker's choice does better (docs/RESULTS.md, "A second ranker for the extent"), offline on candidate
dumps.

    /usr/bin/python3 scripts/extent_chooser.py DUMP:DATA [DUMP:DATA ...]

DUMP: a SAMMPA_RANKED_DUMP folder; DATA: the dataset folder whose masks/ are the truth. For the lesion queries,
never answering empty: the first ranker's choice (the program's ridge at penalty P1), the best candidate
overlapping it (IoU >= 0.2: its place; what a perfect extent chooser would get), the best candidate of the image,
and the second ranker's choice at penalties P2. The second ranker is fitted on each support's group around the
choice of a first ranker fitted without that support, on the program's features plus five relative to the
choice (IoU with it, log area ratio, the two overlap shares, the score difference). Needs numpy and PIL.
"""
import glob
import os
import sys

import numpy as np

from analyze_ranked_dump import load, ridge


def iou(a, b):
    u = (a | b).sum()
    return (a & b).sum() / u if u else 0.0


def group(im, top, scores):
    """The candidates at the place of candidate `top`: their features (with the relative ones) and indices."""
    m = im["masks"]
    a0 = m[top].sum()
    rows, idx = [], []
    for i in range(len(m)):
        o = iou(m[i], m[top])
        if o < 0.2:
            continue
        ai, inter = m[i].sum(), (m[i] & m[top]).sum()
        rel = [o, np.log((ai + 1) / (a0 + 1)), inter / max(ai, 1), inter / max(a0, 1), scores[i] - scores[top]]
        rows.append(np.concatenate([im["x"][i], rel]))
        idx.append(i)
    return np.array(rows), np.array(idx)


def study(dump, data, p1, p2s):
    keys = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{dump}/*.csv"))
    sup = [load(dump, data, k, k[len("support_"):]) for k in keys if k.startswith("support_")]
    sup = [s for s in sup if len(s["x"])]
    les = [q for q in (load(dump, data, k, k) for k in keys if not k.startswith("support_"))
           if not q["empty"] and len(q["x"])]
    held = []
    for i, s in enumerate(sup):
        if s["empty"]:
            continue
        sc = ridge([t for j, t in enumerate(sup) if j != i], p1)(s["x"])
        x, idx = group(s, int(np.argmax(sc)), sc)
        held.append(dict(x=x, iou=s["iou"][idx]))
    first = ridge(sup, p1)
    second = {p2: ridge(held, p2) for p2 in p2s}
    chosen, in_place, by_second = [], [], {p2: [] for p2 in p2s}
    for q in les:
        sc = first(q["x"])
        top = int(np.argmax(sc))
        chosen.append(q["dice"][top])
        x, idx = group(q, top, sc)
        in_place.append(q["dice"][idx].max())
        for p2 in p2s:
            by_second[p2].append(q["dice"][idx[int(np.argmax(second[p2](x)))]])
    best = np.mean([q["dice"].max() for q in les])
    print(f"{dump} P1={p1:g}: first ranker {np.mean(chosen):.3f}, best at its place {np.mean(in_place):.3f}, "
          f"best {best:.3f} | second ranker " + " ".join(f"P2={p:g}:{np.mean(v):.3f}" for p, v in by_second.items()))


def main():
    for arg in sys.argv[1:]:
        dump, data = arg.split(":")
        for p1 in (0.3, 1, 3):
            study(dump, data, p1, (0.1, 1, 10, 100))


if __name__ == "__main__":
    main()
