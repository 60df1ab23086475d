#!/usr/bin/python3
"""Tree ensembles in place of the ranked mode's ridge ranker, offline on candidate dumps (docs/RESULTS.md).

    SAMMPA_RANKED_DUMP=DUMP build/bin/sammpa run --data DATA ... --propagation ranked --out OUT
    python3 scripts/ranker_trees.py DUMP:DATA [DUMP:DATA ...]

Each learner is fitted on the supports' candidates (target: IoU with the support's mask, as the program's
ridge) and chooses each lesion query's highest-scored candidate (never empty). Prints the query lesions' mean
Dice and, for what a procedure could see, the leave-one-out Dice over the lesion supports. Needs numpy, PIL and
scikit-learn (Debian's python3-sklearn, or PyPI's).
"""
import glob
import os
import sys

import numpy as np
from sklearn.ensemble import ExtraTreesRegressor, HistGradientBoostingRegressor, RandomForestRegressor

from analyze_ranked_dump import load, ridge


def read(dump, data):
    keys = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{dump}/*.csv"))
    sup = [load(dump, data, k, k[len("support_"):]) for k in keys if k.startswith("support_")]
    qry = [load(dump, data, k, k) for k in keys if not k.startswith("support_")]
    return sup, qry


def sklearn_fit(make):
    def fit(images):
        images = [im for im in images if len(im["x"])]
        model = make().fit(np.vstack([im["x"] for im in images]), np.concatenate([im["iou"] for im in images]))
        return model.predict
    return fit


LEARNERS = {
    "ridge 0.1": lambda images: ridge(images, 0.1),
    "ridge 1": lambda images: ridge(images, 1),
    "ridge 10": lambda images: ridge(images, 10),
    "forest, leaf 5": sklearn_fit(lambda: RandomForestRegressor(300, min_samples_leaf=5, max_features=0.33,
                                                                random_state=0, n_jobs=1)),
    "forest, leaf 20": sklearn_fit(lambda: RandomForestRegressor(300, min_samples_leaf=20, max_features=0.33,
                                                                 random_state=0, n_jobs=1)),
    "extra trees, leaf 10": sklearn_fit(lambda: ExtraTreesRegressor(300, min_samples_leaf=10, max_features=0.5,
                                                                    random_state=0, n_jobs=1)),
    "boosting, 8 leaves": sklearn_fit(lambda: HistGradientBoostingRegressor(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=8, min_samples_leaf=20, random_state=0)),
}


def chosen_dice(score, im):
    return im["dice"][int(np.argmax(score(im["x"])))] if len(im["x"]) else 0.0


def main():
    for arg in sys.argv[1:]:
        dump, data = arg.split(":")
        sup, qry = read(dump, data)
        print(f"{dump}: {len(sup)} supports, {sum(not q['empty'] for q in qry)} lesion queries")
        for name, fit in LEARNERS.items():
            score = fit(sup)
            q = np.mean([chosen_dice(score, im) for im in qry if not im["empty"]])
            loo = [chosen_dice(fit(sup[:i] + sup[i + 1:]), sup[i]) for i in range(len(sup))
                   if not sup[i]["empty"] and len(sup[i]["x"])]
            print(f"  {name:22s} queries {q:.3f}   leave-one-out on the supports {np.mean(loo):.3f}", flush=True)


if __name__ == "__main__":
    main()
