#!/usr/bin/python3
"""The ranked mode's "no object" threshold set on the queries' own scores, without their labels
(docs/RESULTS.md, "The 'no object' threshold from the queries' scores"), offline on candidate dumps.

    /usr/bin/python3 scripts/transductive_threshold.py DATA DUMP [DUMP ...]

For each SAMMPA_RANKED_DUMP folder (`--ranked-round off` runs), the program's ranker (penalty and threshold
by leave-one-out on the supports, as scripts/empty_answers.py reproduces them) scores every query's best
candidate. Thresholds compared: the program's (the supports' held-out scores), half-way between the supports'
two classes, none (never empty), and a two-component Gaussian mixture fitted by EM to the queries' best scores,
started from the supports' held-out scores of each class; the threshold is where the mixture's "object"
component becomes the more probable one. Prints the lesion queries' Dice (an empty answer scores 0), how many
of them were answered empty, and the share of object-free queries answered empty. Needs numpy and PIL.
"""
import sys

import numpy as np

from analyze_ranked_dump import ridge
from empty_answers import load_dump, program_choice


def mixture_threshold(scores, empty_init, object_init, iterations=200):
    """Threshold between the two components of a 1-D Gaussian mixture fitted to `scores` (None if degenerate)."""
    spread = np.std(np.concatenate([empty_init, object_init]))
    mu = np.array([np.mean(empty_init), np.mean(object_init)])
    sd = np.array([spread, spread])
    pi = np.array([len(empty_init), len(object_init)], float) / (len(empty_init) + len(object_init))
    for _ in range(iterations):
        like = np.stack([pi[k] / sd[k] * np.exp(-0.5 * ((scores - mu[k]) / sd[k]) ** 2) for k in range(2)])
        resp = like / np.maximum(like.sum(0), 1e-300)
        pi = resp.mean(1)
        mu = (resp * scores).sum(1) / resp.sum(1)
        sd = np.maximum(np.sqrt((resp * (scores - mu[:, None]) ** 2).sum(1) / resp.sum(1)), 1e-6)
    if not mu[0] < mu[1]:
        return None, (pi, mu, sd)
    grid = np.linspace(mu[0], mu[1], 4001)
    like = np.stack([pi[k] / sd[k] * np.exp(-0.5 * ((grid - mu[k]) / sd[k]) ** 2) for k in range(2)])
    above = np.flatnonzero(like[1] > like[0])
    return (grid[above[0]] if len(above) else None), (pi, mu, sd)


def main():
    data = sys.argv[1]
    for dump in sys.argv[2:]:
        sup, qry = load_dump(dump, data)
        penalty, threshold = program_choice(sup, True)
        held = []
        for i, s in enumerate(sup):
            others = [t for j, t in enumerate(sup) if j != i and len(t["x"])]
            held.append(ridge(others, penalty)(s["x"]).max() if len(s["x"]) else -np.inf)
        held, held_empty = np.array(held), np.array([s["empty"] for s in sup])
        f = ridge([s for s in sup if len(s["x"])], penalty)
        qry = [q for q in qry if len(q["x"])]
        best = np.array([f(q["x"]).max() for q in qry])
        chosen = np.array([q["dice"][int(np.argmax(f(q["x"])))] for q in qry])
        free = np.array([q["empty"] for q in qry])
        print(f"{dump}: penalty {penalty:g}; {len(qry)} queries ({(~free).sum()} with an object); supports' "
              f"held-out scores: object-free {np.round(np.sort(held[held_empty]), 3)}, object "
              f"{np.round(np.sort(held[~held_empty]), 3)}")
        rules = [("the program's (supports)", threshold), ("never (same penalty)", -np.inf)]
        if held_empty.any() and (~held_empty).any():
            rules.append(("half-way (supports)", (held[held_empty].max() + held[~held_empty].min()) / 2))
            t, (pi, mu, sd) = mixture_threshold(best, held[held_empty], held[~held_empty])
            print(f"  mixture on the queries' scores: weights {np.round(pi, 2)}, means {np.round(mu, 3)}, "
                  f"sd {np.round(sd, 3)}")
            if t is not None:
                rules.append(("mixture (queries' scores)", t))
        for name, t in rules:
            empty = best < t
            print(f"  {name:27s} threshold {t:8.4f}: lesion Dice {np.mean(np.where(empty[~free], 0, chosen[~free])):.3f}"
                  f" ({empty[~free].sum()} of {(~free).sum()} answered empty), object-free answered empty "
                  f"{empty[free].mean() if free.any() else float('nan'):.2f}", flush=True)


if __name__ == "__main__":
    main()
