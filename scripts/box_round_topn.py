#!/usr/bin/python3
"""The extra checkpoint's box round on the ranker's N best candidates instead of its best one, offline on a
two-checkpoint candidate dump (docs/RESULTS.md, "Tree ensembles, mirrored supports, the box round on three candidates").

    /usr/bin/python3 scripts/box_round_topn.py SAMMPA DUMP DATA RUN EMB CHECKPOINT N

DUMP: SAMMPA_RANKED_DUMP of the run RUN (its ranker.json gives the penalty); EMB: CHECKPOINT's embedding cache
for DATA (`sammpa sam-embed`). Each lesion image's N best candidates (the ridge fitted as the program fits it;
each support held out from its own) get CHECKPOINT's answer to their box widened by 10% on each side (the box
round). Prints, for supports and queries, the Dice of the best candidate before and after the box round, and
after choosing among the N answers by ranker score + A x the checkpoint's predicted IoU. Never empty. Runs
`SAMMPA sam --box` once per candidate, two at a time. Needs numpy and PIL.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from analyze_ranked_dump import load, ridge


def main():
    sammpa, dump, data, run, emb, checkpoint, n = sys.argv[1:7] + [int(sys.argv[7])]
    penalty = json.load(open(f"{run}/ranker.json"))["penalty"]["chosen"]
    keys = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{dump}/*.csv"))
    sup = [(k[len("support_"):], load(dump, data, k, k[len("support_"):])) for k in keys if k.startswith("support_")]
    qry = [(k, load(dump, data, k, k)) for k in keys if not k.startswith("support_")]
    scratch = tempfile.mkdtemp()

    def box_answer(name, mask):
        """CHECKPOINT's mask for the candidate's widened box: its Dice against the truth, its predicted IoU."""
        mh, mw = mask.shape  # the work frame: the image's aspect, longer side 256
        w, h = Image.open(glob.glob(f"{data}/images/{name}.*")[0]).size
        ys, xs = np.nonzero(mask)
        x0, x1, y0, y1 = xs.min() * w / mw, (xs.max() + 1) * w / mw, ys.min() * h / mh, (ys.max() + 1) * h / mh
        dx, dy = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
        box = [max(0, x0 - dx), max(0, y0 - dy), min(w - 1, x1 + dx), min(h - 1, y1 + dy)]
        out = tempfile.mkdtemp(dir=scratch)
        subprocess.run([sammpa, "-q", "sam", "--embedding", f"{emb}/{name}.samemb", "--checkpoint", checkpoint,
                        "--box", ",".join(f"{v:.0f}" for v in box), "-o", f"{out}/r", "-t", "1"],
                       check=True, capture_output=True)
        pred = np.array(Image.open(f"{out}/r/mask_0.png")) > 0
        truth = np.array(Image.open(glob.glob(f"{data}/masks/{name}.*")[0]).convert("L")) > 127
        total = pred.sum() + truth.sum()
        iou = json.load(open(f"{out}/r/result.json"))["iou_predictions"][0]
        return (2 * (pred & truth).sum() / total if total else 1.0), iou

    jobs = []  # (kind, name, image, scorer)
    for i, (name, im) in enumerate(sup):
        if not im["empty"] and len(im["x"]):
            jobs.append(("supports", name, im, ridge([x for j, (_, x) in enumerate(sup) if j != i], penalty)))
    everyone = ridge([x for _, x in sup], penalty)
    jobs += [("queries", name, im, everyone) for name, im in qry if not im["empty"] and len(im["x"])]

    def one(job):
        kind, name, im, score = job
        s = score(im["x"])
        best = np.argsort(-s)[:n]
        return kind, [(s[c], im["dice"][c], *box_answer(name, im["masks"][c])) for c in best]

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(one, jobs))
    for kind in ("supports", "queries"):
        rows = [r for k, r in results if k == kind]
        line = [f"{kind} ({len(rows)} lesion images): best candidate {np.mean([r[0][1] for r in rows]):.3f}, "
                f"its box round {np.mean([r[0][2] for r in rows]):.3f}"]
        for a in (0.5, 1, 2, 4):
            line.append(f"A = {a}: {np.mean([max(r, key=lambda t: t[0] + a * t[3])[2] for r in rows]):.3f}")
        oracle = np.mean([max(t[2] for t in r) for r in rows])
        line.append(f"best of the {n} box answers (needs the truth) {oracle:.3f}")
        print("; ".join(line))


if __name__ == "__main__":
    main()
