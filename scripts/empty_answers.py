#!/usr/bin/python3
"""What the ranked mode's "no object" answer costs and gives (docs/RESULTS.md, "Never answering empty"),
offline on candidate dumps.

    /usr/bin/python3 scripts/empty_answers.py DATA DUMP [DUMP ...]

For each SAMMPA_RANKED_DUMP folder (`--ranked-round off` runs), with the program's features as dumped, the
program's choice of penalty by leave-one-out on the supports twice: with the "no object" threshold
(`--ranked-empty supports`) and without it (`--ranked-empty never`). Prints the chosen penalty, the lesion queries'
Dice (an empty answer scores 0), how many lesion queries were answered empty, and the share of object-free
queries answered empty. Needs numpy and PIL.
"""
import glob
import os
import sys

import numpy as np

from analyze_ranked_dump import load, ridge

PENALTIES = [0.01, 0.1, 0.3, 1, 3, 10]


def held_out(sup, penalty, allow_empty):
    """Each support's held-out Dice and the threshold chosen (ties: never empty), as the program computes them."""
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
    threshold, top = -np.inf, sum(dice(-np.inf))
    for b in best if allow_empty else []:
        t = np.nextafter(b, np.inf)
        if b > -np.inf and sum(dice(t)) > top + 1e-12:
            threshold, top = t, sum(dice(t))
    return np.array(dice(threshold)), threshold


def leave_one_out(sup, penalty, allow_empty):
    """Mean held-out Dice over the supports and the threshold chosen."""
    per, threshold = held_out(sup, penalty, allow_empty)
    return per.mean(), threshold


def load_dump(dump, data):
    """The supports' and the queries' candidates of one dump."""
    keys = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{dump}/*.csv"))
    sup = [load(dump, data, k, k[len("support_"):]) for k in keys if k.startswith("support_")]
    qry = [load(dump, data, k, k) for k in keys if not k.startswith("support_")]
    return sup, qry


def program_choice(sup, allow_empty):
    """The penalty and "no object" threshold the program chooses by leave-one-out on the supports."""
    top = -1
    for p in PENALTIES:  # ties go to the stronger penalty, as in the program
        m, t = leave_one_out(sup, p, allow_empty)
        if m >= top - 1e-12:
            top, penalty, threshold = m, p, t
    return penalty, threshold


def answer_queries(sup, qry, penalty, threshold):
    """The queries' answers by a ranker fitted on every support: the lesion queries' Dice (0 when answered
    empty), how many of them were answered empty, and for each object-free query whether it was."""
    f = ridge([s for s in sup if len(s["x"])], penalty)
    lesion, lesion_empty, free = [], 0, []
    for q in qry:
        sc = f(q["x"]) if len(q["x"]) else None
        empty = sc is None or sc.max() < threshold
        if q["empty"]:
            free.append(empty)
        else:
            lesion_empty += empty
            lesion.append(0.0 if empty else q["dice"][int(np.argmax(sc))])
    return lesion, lesion_empty, free


def main():
    data = sys.argv[1]
    for dump in sys.argv[2:]:
        sup, qry = load_dump(dump, data)
        for label, allow in [("supports", True), ("never", False)]:
            penalty, threshold = program_choice(sup, allow)
            lesion, lesion_empty, free = answer_queries(sup, qry, penalty, threshold)
            print(f"{dump} --ranked-empty {label:8s}: penalty {penalty:g}, lesion Dice {np.mean(lesion):.3f} "
                  f"({lesion_empty} of {len(lesion)} lesion queries answered empty), object-free answered empty "
                  f"{np.mean(free) if free else float('nan'):.2f}", flush=True)


if __name__ == "__main__":
    main()
