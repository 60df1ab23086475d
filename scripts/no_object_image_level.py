#!/usr/bin/python3
"""Does an image-level classifier tell images without the object apart better than the ranker's best score?
(docs/RESULTS.md, "An image-level 'no object' classifier"). Offline on a finished ranked-mode run.

    /usr/bin/python3 scripts/no_object_image_level.py RUN EMB [EMB2]

RUN: a `sammpa run` output folder (support.txt, prompts/); EMB, EMB2: embedding caches of the run's images (one per
checkpoint). Images whose names start with "normal" are the ones without the object. Each image is described by
each cache's channel means, standard deviations and 95th percentile minus mean over its cells; a ridge
classifier (standardised features, several penalties) is fitted on the run's supports alone and scores the
queries. Prints, over the queries, the area under the ROC curve (lesion against normal) of the ranker's best
score (what the "no object" threshold sees), of the classifier, and of the two standardised and summed.
Needs numpy.
"""
import glob
import json
import os
import sys

import numpy as np

from soft_map_sources import image_cells, read_embedding


def describe(name, caches):
    parts = []
    for c in caches:
        head, f = read_embedding(f"{c}/{name}.samemb")
        w, h = image_cells(head, f.shape[-1])
        x = f[:, :h, :w].reshape(f.shape[0], -1)
        parts += [x.mean(1), x.std(1), np.percentile(x, 95, axis=1) - x.mean(1)]
    return np.concatenate(parts)


def auc(values, positive):
    return (values[positive][:, None] > values[~positive][None, :]).mean()


def main():
    run, caches = sys.argv[1], sys.argv[2:]
    supports = [n.strip() for n in open(f"{run}/support.txt") if n.strip()]
    score = {}
    for f in glob.glob(f"{run}/prompts/*.json"):
        p = json.load(open(f))
        if "answered_empty" in p:
            s = p["answered_empty"]["score"]
        elif p["objects"]:
            s = max(o["agreement"] for o in p["objects"])
        else:
            continue
        score[os.path.basename(f)[:-5]] = s
    queries = sorted(score)
    lesion = np.array([not n.startswith("normal") for n in queries])
    best = np.array([score[n] for n in queries])
    xs = np.array([describe(n, caches) for n in supports])
    ys = np.array([0.0 if n.startswith("normal") else 1.0 for n in supports])
    xq = np.array([describe(n, caches) for n in queries])
    mu, sd = xs.mean(0), xs.std(0) + 1e-6
    a = (xs - mu) / sd
    print(f"{len(supports)} supports ({int((ys == 0).sum())} without the object), {lesion.sum()} lesion and "
          f"{(~lesion).sum()} normal queries")
    print(f"ranker's best score: AUC {auc(best, lesion):.3f}")
    for l2 in (1, 10, 100, 1000):
        w = np.linalg.solve(a.T @ a + l2 * np.eye(a.shape[1]), a.T @ (ys - ys.mean()))
        z = ((xq - mu) / sd) @ w
        both = (z - z.mean()) / z.std() + (best - best.mean()) / best.std()
        print(f"penalty {l2:5d}: image classifier AUC {auc(z, lesion):.3f}, with the best score {auc(both, lesion):.3f}")


if __name__ == "__main__":
    main()
