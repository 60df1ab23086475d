#!/usr/bin/python3
"""How the ranked mode should pick the ranker's penalty from the supports' leave-one-out (docs/RESULTS.md,
"The ranker's penalty"), offline on candidate dumps.

    /usr/bin/python3 scripts/penalty_rule.py DATA DUMP [DUMP ...]

For each SAMMPA_RANKED_DUMP folder: the supports' leave-one-out at each penalty (held-out Dice, with the "no
object" threshold the program fits when the supports hold images with and without the object, and the
held-out squared error of the predicted IoU over every candidate), then three rules for the penalty: the best
mean Dice (`--ranked-penalty dice`; ties to the stronger penalty), the one-standard-error rule on that Dice
(the strongest penalty within one standard error of the best; measured, not built), and the least squared
error (`--ranked-penalty error`). Prints the queries' lesion Dice and share of object-free queries answered
empty at every fixed penalty and for each rule. Needs numpy and PIL.
"""
import sys

import numpy as np

from analyze_ranked_dump import ridge
from empty_answers import PENALTIES, answer_queries, held_out, load_dump


def held_out_error(sup, penalty):
    """Mean squared error of the held-out ridge's predicted IoU over every candidate of every support."""
    err = []
    for i, s in enumerate(sup):
        others = [t for j, t in enumerate(sup) if j != i and len(t["x"])]
        if len(s["x"]) and others:
            err.extend((ridge(others, penalty)(s["x"]) - s["iou"]) ** 2)
    return float(np.mean(err))


def queries(sup, qry, penalty, threshold):
    lesion, _, free = answer_queries(sup, qry, penalty, threshold)
    every = (np.sum(lesion) + np.sum(free)) / (len(lesion) + len(free))  # an object-free query: 1 if empty
    return np.mean(lesion), (np.mean(free) if free else float("nan")), every


def main():
    data = sys.argv[1]
    for dump in sys.argv[2:]:
        sup, qry = load_dump(dump, data)
        allow = any(s["empty"] for s in sup) and not all(s["empty"] for s in sup)
        loo = {p: held_out(sup, p, allow) for p in PENALTIES}
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
                  f"{fixed[p][1]:.2f}, every query {fixed[p][2]:.3f}", flush=True)


if __name__ == "__main__":
    main()
