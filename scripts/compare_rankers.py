#!/usr/bin/python3
"""Compares two ways of fitting the ranked mode's ranker on a candidate dump (docs/RESULTS.md, "Tried").

    SAMMPA_RANKED_DUMP=DUMP build/bin/sammpa run --data DATA -k 10 --propagation ranked --out OUT
    /usr/bin/python3 scripts/compare_rankers.py DUMP DATA [--drop FEATURE ...]

"one ranker": what the program does (one ridge ranker chooses the candidate and decides "no object"; its
penalty and threshold by leave-one-out on the supports, ties to the stronger penalty). "chooser + presence": a
second ranker chooses the candidate, its penalty chosen by leave-one-out on the supports with an object, with
the one-standard-error rule over a grid extended to 1000; the first ranker then scores that candidate against
the threshold. Prints the lesion queries' Dice (an empty answer scores 0) and the share of object-free queries
answered empty. --drop leaves out dump columns (an old dump's extra feature). Needs numpy and PIL.
"""
import argparse
import glob
import os

import numpy as np

from analyze_ranked_dump import load, ridge

OLD = [0.01, 0.1, 0.3, 1, 3, 10]
NEW = OLD + [30, 100, 1000]


def fit(images, p):
    """The program's ridge ranker fitted on `images`, as a scorer of one image's candidates."""
    score = ridge(images, p)
    return lambda im: score(im["x"])


def presence_loo(sup, p_choose, p_score):
    """Leave-one-out: held-out Dice per support with the best threshold, and that threshold."""
    best, dice, empty = [], [], []
    for i, s in enumerate(sup):
        others = sup[:i] + sup[i + 1:]
        c = int(np.argmax(fit(others, p_choose)(s)))
        best.append(fit(others, p_score)(s)[c])
        dice.append(s["dice"][c])
        empty.append(s["empty"])

    def total(t):
        return sum((1.0 if e else 0.0) if b < t else d for b, d, e in zip(best, dice, empty))
    threshold, top = -1e300, total(-1e300)
    for b in best:
        t = np.nextafter(b, np.inf)
        if total(t) > top + 1e-12:
            top, threshold = total(t), t
    return top / len(sup), threshold


def report(label, sup, qry, p_choose, p_score, threshold):
    fc, fs = fit(sup, p_choose), fit(sup, p_score)
    lesion, normal = [], []
    for q in qry:
        c = int(np.argmax(fc(q))) if len(q["x"]) else -1
        if c >= 0 and fs(q)[c] < threshold:
            c = -1
        if q["empty"]:
            normal.append(c < 0)
        else:
            lesion.append(q["dice"][c] if c >= 0 else 0.0)
    print(f"{label:20s} chooser penalty {p_choose:<6g} presence penalty {p_score:<6g} lesion Dice "
          f"{np.mean(lesion):.3f} ({len(lesion)} queries, {sum(1 for d in lesion if d == 0)} at 0)   "
          f"object-free answered empty: {np.mean(normal) if normal else float('nan'):.2f} ({len(normal)})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("data")
    ap.add_argument("--drop", nargs="*", default=[])
    a = ap.parse_args()
    keys = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{a.dump}/*.csv"))
    header = open(f"{a.dump}/{keys[0]}.csv").readline().strip().split(",")[1:]
    keep = [i for i, n in enumerate(header) if n not in a.drop]
    sup = [load(a.dump, a.data, k, k[len("support_"):]) for k in keys if k.startswith("support_")]
    qry = [load(a.dump, a.data, k, k) for k in keys if not k.startswith("support_")]
    for im in sup + qry:
        im["x"] = im["x"][:, keep] if len(im["x"]) else im["x"]
    print(f"{len(sup)} supports ({sum(s['empty'] for s in sup)} without object), {len(qry)} queries")

    loo = {p: presence_loo(sup, p, p) for p in OLD}
    p = max(OLD, key=lambda q: (loo[q][0], q))
    report("one ranker", sup, qry, p, p, loo[p][1])

    held = [i for i, s in enumerate(sup) if not s["empty"]]
    scores = [[sup[i]["dice"][int(np.argmax(fit(sup[:i] + sup[i + 1:], q)(sup[i])))] for i in held] for q in NEW]
    means = [np.mean(s) for s in scores]
    best = max(range(len(NEW)), key=lambda g: (means[g], g))
    se = np.std(scores[best], ddof=1) / np.sqrt(len(held))
    chooser = NEW[max(g for g in range(len(NEW)) if means[g] >= means[best] - se - 1e-12)]
    print("chooser leave-one-out by penalty:", " ".join(f"{q:g}:{m:.3f}" for q, m in zip(NEW, means)),
          f"(standard error {se:.3f})")
    loo = {q: presence_loo(sup, chooser, q) for q in NEW}
    p = max(NEW, key=lambda q: (loo[q][0], q))
    report("chooser + presence", sup, qry, chooser, p, loo[p][1])


if __name__ == "__main__":
    main()
