#!/usr/bin/python3
"""How the ranked mode should pick the ranker's penalty from the supports' leave-one-out (docs/RESULTS.md,
"The ranker's penalty: the one-standard-error rule"), offline on candidate dumps.

    /usr/bin/python3 scripts/penalty_rule.py DATA DUMP [DUMP ...]

For each SAMMPA_RANKED_DUMP folder: the supports' leave-one-out Dice at each penalty (with the "no object"
threshold the program fits when the supports hold images with and without the object), then two rules for the
penalty: the best mean (the program before this measurement; ties to the stronger penalty) and the
one-standard-error rule (the strongest penalty whose mean is within one standard error of the best, that
error taken over the supports at the best penalty). Prints what each rule chooses and the queries' lesion Dice
and share of object-free queries answered empty that follow, beside every fixed penalty. Needs numpy and PIL.
"""
import sys

import numpy as np

from analyze_ranked_dump import ridge
from empty_answers import PENALTIES, load_dump


def per_support(sup, penalty, allow_empty):
    """Each support's held-out Dice and the threshold, as the program's leave-one-out computes them."""
    best, chosen = [], []
    for i, s in enumerate(sup):
        others = [t for j, t in enumerate(sup) if j != i and len(t["x"])]
        if not len(s["x"]) or not others:
            best.append(-np.inf), chosen.append(0.0)
            continue
        scores = ridge(others, penalty)(s["x"])
        c = int(np.argmax(scores))
        best.append(scores[c]), chosen.append(s["dice"][c])

    def dice(t):
        return [(1.0 if s["empty"] else 0.0) if b < t else d for b, d, s in zip(best, chosen, sup)]
    threshold = -np.inf
    top = sum(dice(threshold))
    for b in best if allow_empty else []:
        t = np.nextafter(b, np.inf)
        if b > -np.inf and sum(dice(t)) > top + 1e-12:
            threshold, top = t, sum(dice(t))
    return np.array(dice(threshold)), threshold


def held_out_error(sup, penalty):
    """Mean squared error of the held-out ridge's predicted IoU over every candidate of every support."""
    err = []
    for i, s in enumerate(sup):
        others = [t for j, t in enumerate(sup) if j != i and len(t["x"])]
        if len(s["x"]) and others:
            err.extend((ridge(others, penalty)(s["x"]) - s["iou"]) ** 2)
    return float(np.mean(err))


def queries(sup, qry, penalty, threshold):
    f = ridge([s for s in sup if len(s["x"])], penalty)
    lesion, free = [], []
    for q in qry:
        sc = f(q["x"]) if len(q["x"]) else None
        empty = sc is None or sc.max() < threshold
        if q["empty"]:
            free.append(empty)
        else:
            lesion.append(0.0 if empty else q["dice"][int(np.argmax(sc))])
    return np.mean(lesion), (np.mean(free) if free else float("nan"))


def main():
    data = sys.argv[1]
    for dump in sys.argv[2:]:
        sup, qry = load_dump(dump, data)
        allow = any(s["empty"] for s in sup) and not all(s["empty"] for s in sup)
        loo = {p: per_support(sup, p, allow) for p in PENALTIES}
        means = {p: d.mean() for p, (d, _) in loo.items()}
        top, best = -1.0, None
        for p in PENALTIES:  # ties go to the stronger penalty, as in the program
            if means[p] >= top - 1e-12:
                top, best = means[p], p
        se = loo[best][0].std(ddof=1) / np.sqrt(len(sup))
        one_se = max(p for p in PENALTIES if means[p] >= means[best] - se)
        print(f"{dump}: {len(sup)} supports ({sum(s['empty'] for s in sup)} without object), {len(qry)} queries")
        print("  penalty        " + " ".join(f"{p:>7g}" for p in PENALTIES))
        print("  leave-one-out  " + " ".join(f"{means[p]:7.3f}" for p in PENALTIES) + f"   (standard error {se:.3f})")
        fixed = {p: queries(sup, qry, p, loo[p][1]) for p in PENALTIES}
        print("  queries lesion " + " ".join(f"{fixed[p][0]:7.3f}" for p in PENALTIES))
        print("  object-free    " + " ".join(f"{fixed[p][1]:7.2f}" for p in PENALTIES))
        mse = {p: held_out_error(sup, p) for p in PENALTIES}
        print("  held-out MSE   " + " ".join(f"{mse[p]:7.4f}" for p in PENALTIES))
        least_error = min(PENALTIES, key=lambda p: mse[p])
        for label, p in [("best mean", best), ("one standard error", one_se), ("least squared error", least_error)]:
            print(f"  {label:18s}: penalty {p:g}, lesion Dice {fixed[p][0]:.3f}, object-free answered empty "
                  f"{fixed[p][1]:.2f}", flush=True)


if __name__ == "__main__":
    main()
