#!/usr/bin/python3
"""Would averaging the ranker's best candidates beat taking the best one? (docs/RESULTS.md, "How dense the
ranked mode's point grid is"), offline on a candidate dump.

    /usr/bin/python3 scripts/candidate_fusion.py RUN DUMP DATA

RUN: a ranked-mode `sammpa run` output (ranker.json, eval.json); DUMP: its SAMMPA_RANKED_DUMP folder (each
query's candidates: NAME.csv, NAME_I.png in the work frame); DATA: the data set folder (masks/). For every lesion
query (names not starting with "normal"), before any "no object" answer or round: the Dice of the ranker's best
candidate, and of the mean of the candidates overlapping it (IoU >= OVERLAP) weighted by exp((score - best) /
TAU), thresholded at 0.5; also the plain mean of the three best. Scores are the run's ridge weights per feature
unit (ranker.json), which rank a query's candidates as the program does. Needs numpy and OpenCV.
"""
import csv
import glob
import json
import sys

import cv2
import numpy as np


def dice(a, b):
    s = a.sum() + b.sum()
    return 2 * (a & b).sum() / s if s else 1.0


def iou(a, b):
    u = (a | b).sum()
    return (a & b).sum() / u if u else 0.0


def main():
    run, dump, data = sys.argv[1:4]
    weights = json.load(open(f"{run}/ranker.json"))["ranker"]["weights_per_unit"]
    names = sorted(i["name"] for i in json.load(open(f"{run}/eval.json"))["images"]
                   if not i["name"].startswith("normal"))
    variants = [(tau, overlap) for tau in (0.01, 0.02, 0.05) for overlap in (0.3, 0.5)]
    scores = {"best": [], "mean of the best three": []}
    scores.update({f"weighted, tau {t}, overlap >= {o}": [] for t, o in variants})
    for name in names:
        rows = list(csv.reader(open(f"{dump}/{name}.csv")))
        head, rows = rows[0], rows[1:]
        if not rows:
            continue
        s = np.array([sum(weights[h] * float(v) for h, v in zip(head[1:], r[1:]) if h in weights) for r in rows])
        masks = [cv2.imread(f"{dump}/{name}_{i}.png", 0) > 0 for i in range(len(rows))]
        truth = cv2.imread(glob.glob(f"{data}/masks/{name}.*")[0], 0)
        truth = cv2.resize(truth, masks[0].shape[::-1], interpolation=cv2.INTER_AREA) > 127
        top = int(np.argmax(s))
        scores["best"].append(dice(masks[top], truth))
        three = np.argsort(-s)[:3]
        scores["mean of the best three"].append(dice(np.mean([masks[i] for i in three], 0) > 0.5, truth))
        for tau, overlap in variants:
            acc, total = np.zeros(truth.shape), 0.0
            for i, m in enumerate(masks):
                if iou(m, masks[top]) >= overlap:
                    acc += np.exp((s[i] - s[top]) / tau) * m
                    total += np.exp((s[i] - s[top]) / tau)
            scores[f"weighted, tau {tau}, overlap >= {overlap}"].append(dice(acc / total > 0.5, truth))
    best = np.array(scores["best"])
    print(f"{len(best)} lesion queries, Dice in the work frame (no 'no object' answer, no round)")
    for k, v in scores.items():
        v = np.array(v)
        print(f"{k:36s} {v.mean():.4f}  better than the best on {np.mean(v > best + 1e-9):.2f}, "
              f"worse on {np.mean(v < best - 1e-9):.2f}")


if __name__ == "__main__":
    main()
