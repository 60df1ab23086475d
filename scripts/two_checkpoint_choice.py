#!/usr/bin/python3
"""How the ranker uses a second checkpoint's candidates (docs/RESULTS.md, "Two checkpoints' candidates").

    /usr/bin/python3 scripts/two_checkpoint_choice.py DATA DUMP OUT

DUMP: the SAMMPA_RANKED_DUMP folder of a run with --ranked-extra-checkpoint; OUT: that run's output folder.
Prints, over the query images with an object that got an answer, how often the chosen candidate and the best
candidate (by Dice with the truth) came from the extra checkpoint; then the lesion Dice (never empty, each fixed
penalty) of the program's ridge ranker (one set of weights, a column for the source) and of a ranker with
weights of its own per checkpoint (every feature also multiplied by the source column). Needs numpy and PIL.
"""
import csv
import glob
import json
import os
import sys

import numpy as np

from analyze_ranked_dump import load, ridge


def main():
    data, dump, out = sys.argv[1:4]
    keys = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{dump}/*.csv"))
    parts = {k: load(dump, data, k, k[len("support_"):] if k.startswith("support_") else k) for k in keys}
    chosen = best = answered = 0
    for k in keys:
        if k.startswith("support_") or parts[k]["empty"] or not len(parts[k]["dice"]):
            continue
        objects = json.load(open(f"{out}/prompts/{k}.json"))["objects"]
        if not objects:
            continue
        sources = [r[0] for r in list(csv.reader(open(f"{dump}/{k}.csv")))[1:]]
        answered += 1
        chosen += objects[0]["chosen"].startswith("extra_")
        best += sources[int(np.argmax(parts[k]["dice"]))].startswith("extra_")
    print(f"{answered} query images with an object answered: chosen from the extra checkpoint {chosen / answered:.2f}, "
          f"best candidate from it {best / answered:.2f}")

    def per_source(p):
        q = dict(p)
        if len(p["x"]):
            q["x"] = np.hstack([p["x"], p["x"][:, :-1] * p["x"][:, -1:]])  # the last column says which checkpoint
        return q

    for label, how in [("one set of weights", lambda p: p), ("weights per checkpoint", per_source)]:
        sup = [how(parts[k]) for k in keys if k.startswith("support_")]
        lesions = [how(parts[k]) for k in keys if not k.startswith("support_") and not parts[k]["empty"]]
        dice = []
        for penalty in [0.01, 0.1, 0.3, 1, 3, 10]:
            f = ridge(sup, penalty)
            dice.append(np.mean([q["dice"][int(np.argmax(f(q["x"])))] if len(q["x"]) else 0.0 for q in lesions]))
        print(f"{label:>22}, never empty, penalty 0.01 0.1 0.3 1 3 10: " + " ".join(f"{d:.3f}" for d in dice))


if __name__ == "__main__":
    main()
