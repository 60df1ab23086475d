#!/usr/bin/python3
"""Compares the ranked mode's candidate sources offline, and pools them (docs/RESULTS.md, "Candidates from boxes,
pruned grids and LiteMedSAM").

    /usr/bin/python3 scripts/candidate_sources.py DATA DUMP [DUMP ...]

Each DUMP is a SAMMPA_RANKED_DUMP folder of a run on the same DATA with the same supports (for example one run
per checkpoint or per candidate option). For the query images with an object, prints each dump's best
candidate's Dice (what a perfect ranker would get) and how many candidates an image keeps, then the same for all
dumps pooled per image; with two or more
dumps, also the Dice of one ridge ranker (as the program fits it, never answering empty) fitted on the
supports' pooled candidates, for each fixed penalty. Pooled candidates keep the 17 plain features; each dump's
embedding coordinates get columns of their own (zero for the other dumps' candidates), and a column says which
dump a candidate came from. Needs numpy and PIL.
"""
import glob
import os
import sys

import numpy as np

from analyze_ranked_dump import load, ridge

PLAIN = 17  # the plain features come first in a dump's CSV; the embedding's coordinates follow


def pooled(dumps, data, key):
    name = key[len("support_"):] if key.startswith("support_") else key
    parts = [load(d, data, key, name) for d in dumps]
    widths = [p["x"].shape[1] - PLAIN for p in parts]
    rows = []
    for i, p in enumerate(parts):
        n = len(p["x"])
        emb = [np.zeros((n, w)) for w in widths]
        emb[i] = p["x"][:, PLAIN:]
        rows.append(np.hstack([p["x"][:, :PLAIN]] + emb + [np.full((n, 1), float(i))]))
    return dict(x=np.vstack(rows), iou=np.concatenate([p["iou"] for p in parts]),
                dice=np.concatenate([p["dice"] for p in parts]), empty=parts[0]["empty"],
                best=[p["dice"].max() if len(p["dice"]) else 0.0 for p in parts], count=[len(p["x"]) for p in parts])


def main():
    data, dumps = sys.argv[1], sys.argv[2:]
    keys = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{dumps[0]}/*.csv"))
    for d in dumps[1:]:
        if sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{d}/*.csv")) != keys:
            sys.exit(f"{d} holds other images than {dumps[0]}: the dumps must come from the same supports and data")
    sup = [pooled(dumps, data, k) for k in keys if k.startswith("support_")]
    queries = [pooled(dumps, data, k) for k in keys if not k.startswith("support_")]
    lesions = [q for q in queries if not q["empty"]]
    print(f"{len(sup)} supports, {len(lesions)} query images with an object")
    for i, d in enumerate(dumps):
        print(f"best candidate, {d}: {np.mean([q['best'][i] for q in lesions]):.3f}"
              f"  (candidates per query image: {np.mean([q['count'][i] for q in queries]):.1f})")
    if len(dumps) < 2:
        return
    print(f"best candidate, pooled: {np.mean([max(q['best']) for q in lesions]):.3f}"
          f"  (candidates per query image: {np.mean([sum(q['count']) for q in queries]):.1f})")
    for p in [0.01, 0.1, 0.3, 1, 3, 10]:
        f = ridge(sup, p)
        picks = [int(np.argmax(f(q["x"]))) for q in lesions]
        share = [np.mean([q["x"][j, -1] == i for q, j in zip(lesions, picks)]) for i in range(len(dumps))]
        print(f"pooled ranker, penalty {p:<5g}: lesion Dice {np.mean([q['dice'][j] for q, j in zip(lesions, picks)]):.3f}"
              "  (chosen from each dump: " + " ".join(f"{s:.2f}" for s in share) + ")")


if __name__ == "__main__":
    main()
