#!/usr/bin/python3
"""The ranked mode's ranker with and without SAM-embedding features, offline on candidate dumps (docs/RESULTS.md,
"The ranker sees SAM's embedding").

    SAMMPA_RANKED_DUMP=DUMP build/bin/sammpa run --data DATA --embeddings EMB --propagation ranked --out OUT
    /usr/bin/python3 scripts/ranker_embedding.py DUMP DATA EMB [--components 0 2 4 8]

Pools each candidate's SAM embedding as the program does (src/refine/candidate_embedding.cpp: mean inside,
inside minus a ring of 3 grid cells), appends its first N principal coordinates (fitted on the supports'
candidates) to the 17 plain features, and for each N reports, on the query images: the lesion Dice with the
program's rules (ridge penalty and "no object" threshold chosen by leave-one-out on the supports; an empty
answer scores 0 on a lesion) and the share of images without object answered empty; and the lesion Dice
never answering empty, for each fixed penalty. Needs numpy and PIL.
"""
import argparse
import glob
import json
import os
import struct

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from analyze_ranked_dump import load, ridge

PLAIN = ["sam_iou", "stability", "soft_inside", "soft_ring", "soft_held", "soft_max", "log_area", "area",
         "centre_x", "centre_y", "off_centre", "touches_border", "solidity", "grey_inside", "grey_ring",
         "grey_contrast", "grey_sd_inside"]
PENALTIES = [0.01, 0.1, 0.3, 1, 3, 10]


def embedding(path):
    b = open(path, "rb").read()
    n = struct.unpack("<I", b[8:12])[0]
    h = json.loads(b[12:12 + n])
    return h, np.frombuffer(b[12 + n:], dtype=np.float32).reshape(h["shape"])[0]


def pooled(dump, key, header, emb_dir, name, data):
    im = load(dump, data, key, name)
    im["x"] = im["x"][:, [header.index(f) for f in PLAIN]] if len(im["x"]) else np.zeros((0, len(PLAIN)))
    h, e = embedding(f"{emb_dir}/{name}.samemb")
    c, gh, gw = e.shape
    side = h.get("low_res") or h["target"] // 4
    rows = []
    for i in range(len(im["src"])):
        m = np.array(Image.open(f"{dump}/{key}_{i}.png")) > 0
        frame = np.zeros((side, side), np.float32)
        frame[:m.shape[0], :m.shape[1]] = m
        g = frame.reshape(gh, side // gh, gw, side // gw).mean((1, 3))
        ring = np.clip(sliding_window_view(np.pad(g, 3), (7, 7)).max((2, 3)) - g, 0, 1)
        inside = e.reshape(c, -1) @ g.ravel() / max(g.sum(), 1e-6)
        around = e.reshape(c, -1) @ ring.ravel() / max(ring.sum(), 1e-6)
        rows.append(np.concatenate([inside, inside - around]))
    im["emb"] = np.array(rows).reshape(len(rows), 2 * c)
    return im


def with_components(sup, qry, n):
    x = np.vstack([s["emb"] for s in sup if len(s["x"])])
    mu = x.mean(0)
    basis = np.linalg.svd(x - mu, full_matrices=False)[2][:n]
    for im in sup + qry:
        im["xf"] = np.hstack([im["x"], (im["emb"] - mu) @ basis.T]) if len(im["x"]) else im["x"]


def ridge_scorer(train, p):
    """The program's ranker on the features in "xf": (training images, penalty) -> scorer(image)."""
    g = ridge([dict(x=t["xf"], iou=t["iou"]) for t in train], p)
    return lambda im: g(im["xf"])


def leave_one_out(sup, p, make=ridge_scorer):
    """Mean Dice over the supports and the "no object" threshold, each support scored by make(others, p)."""
    best, chosen = [], []
    for i, s in enumerate(sup):
        if not len(s["x"]):
            best.append(-np.inf), chosen.append(0.0)
            continue
        sc = make([t for j, t in enumerate(sup) if j != i and len(t["x"])], p)(s)
        c = int(np.argmax(sc))
        best.append(sc[c]), chosen.append(s["dice"][c])

    def total(t):
        return sum((1.0 if s["empty"] else 0.0) if b < t else d for b, d, s in zip(best, chosen, sup))
    threshold, top = -np.inf, total(-np.inf)
    for b in best:
        if b > -np.inf and total(np.nextafter(b, np.inf)) > top + 1e-12:
            threshold, top = np.nextafter(b, np.inf), total(np.nextafter(b, np.inf))
    return top / len(sup), threshold


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("data")
    ap.add_argument("embeddings")
    ap.add_argument("--components", type=int, nargs="*", default=[0, 2, 4, 8])
    a = ap.parse_args()
    keys = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{a.dump}/*.csv"))
    header = open(f"{a.dump}/{keys[0]}.csv").readline().strip().split(",")[1:]
    sup = [pooled(a.dump, k, header, a.embeddings, k[len("support_"):], a.data) for k in keys
           if k.startswith("support_")]
    qry = [pooled(a.dump, k, header, a.embeddings, k, a.data) for k in keys if not k.startswith("support_")]
    lesions = [q for q in qry if not q["empty"]]
    print(f"{a.dump}: {len(sup)} supports ({sum(s['empty'] for s in sup)} without object), {len(lesions)} lesion "
          f"and {len(qry) - len(lesions)} object-free queries")
    print("components | program's rules: penalty, lesion Dice, object-free answered empty | never empty, by penalty "
          + " ".join(f"{p:g}" for p in PENALTIES))
    for n in a.components:
        with_components(sup, qry, n)
        top = -1
        for p in PENALTIES:
            m, t = leave_one_out(sup, p)
            if m >= top - 1e-12:
                top, penalty, threshold = m, p, t
        f = ridge([dict(x=s["xf"], iou=s["iou"]) for s in sup if len(s["x"])], penalty)
        les, free = [], []
        for q in qry:
            sc = f(q["xf"]) if len(q["x"]) else None
            empty = sc is None or sc.max() < threshold
            if q["empty"]:
                free.append(empty)
            else:
                les.append(0.0 if empty else q["dice"][int(np.argmax(sc))])
        never = []
        for p in PENALTIES:
            g = ridge([dict(x=s["xf"], iou=s["iou"]) for s in sup if len(s["x"])], p)
            never.append(np.mean([q["dice"][int(np.argmax(g(q["xf"])))] if len(q["x"]) else 0 for q in lesions]))
        print(f"{n:10d} | {penalty:5g} {np.mean(les):.3f} {np.mean(free) if free else float('nan'):.2f} | "
              + " ".join(f"{v:.3f}" for v in never))


if __name__ == "__main__":
    main()
