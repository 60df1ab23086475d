#!/usr/bin/python3
"""Would the soft-map classifier localise better if it also learned from the run's own confident answers?
(docs/RESULTS.md, "Pseudo-labels from the run's confident answers"). Offline, on a ranked-mode run and its dump:

    SAMMPA_RANKED_DUMP=DUMP sammpa run --data DATA ... --propagation ranked --ranked-round off --out RUN
    /usr/bin/python3 scripts/pseudo_label_soft_map.py DATA RUN DUMP EMB [EMB2]

For a fraction f of the queries, those with the highest confidence in RUN/segment.json, the final masks of
RUN/masks become extra training images of the classifier (class-balanced logistic regression, as in
soft_map_sources.py). It prints, over the lesion queries (names not starting with "normal"):
  - how often the soft map's highest cell falls in the lesion, over all of them and over the ones left out;
  - the lesion Dice of the candidate chosen when the dumped candidates' four soft-map features (soft_inside,
    soft_ring, soft_held, soft_max) are recomputed from the new maps, with a ridge ranker (RUN's chosen penalty)
    fitted on the supports' candidates whose maps come from leave-one-out fits (the other supports plus the
    same pseudo-labels). No empty answers. f = 0 recomputes the run's own maps (a check of the emulation).
"""
import csv
import json
import os
import sys

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soft_map_sources import fit, image_cells, mask_cells, read_embedding, rows_of  # noqa: E402

data, run, dump, caches = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
rk = json.load(open(f"{run}/ranker.json"))
supports = rk["supports"] if isinstance(rk["supports"][0], str) else [s["name"] for s in rk["supports"]]
penalty = rk["penalty"]["chosen"]
seg = json.load(open(f"{run}/segment.json"))["queries"]
conf = {q["name"]: q["confidence"] for q in seg}
queries = sorted(conf)
rows = {n: rows_of(n, caches, data) for n in supports + queries}

def geom(n):
    parts = [read_embedding(f"{c}/{n}.samemb") for c in caches]
    g = parts[0][1].shape[-1]
    return parts[0][0], g, min(image_cells(h, g)[0] for h, _ in parts), min(image_cells(hd, g)[1] for hd, _ in parts)

def pseudo_cells(n):
    head, g, w, h = geom(n)
    m = np.array(Image.open(f"{run}/masks/{n}.png").convert("L")) > 127
    return mask_cells(m, head, g)[:h, :w].reshape(-1)

def soft_work(n, p, shape):
    head, g, w, h = geom(n)
    grid = np.zeros((g, g), np.float32); grid[:h, :w] = p.reshape(h, w)
    sq = cv2.resize(grid, (head["target"], head["target"]), interpolation=cv2.INTER_LINEAR)
    out = cv2.resize(sq[:head["input_h"], :head["input_w"]], (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(out, 0, 1)

def load(key, name):
    r = list(csv.reader(open(f"{dump}/{key}.csv")))
    x = np.array([[float(v) for v in row[1:]] for row in r[1:]]).reshape(len(r) - 1, len(r[0]) - 1)
    masks = [np.array(Image.open(f"{dump}/{key}_{i}.png")) > 0 for i in range(len(r) - 1)]
    truth = np.array(Image.open(f"{data}/masks/{name}.png").convert("L")).astype(np.float32)
    if masks:
        truth = np.array(Image.fromarray(truth).resize(masks[0].shape[::-1], Image.BOX)) >= 127.5
    iou, dice = [], []
    for m in masks:
        i, a, t = (m & truth).sum(), m.sum(), truth.sum()
        iou.append(i / (a + t - i) if a + t - i else 0.0); dice.append(2 * i / (a + t) if a + t else 0.0)
    return dict(x=x, masks=masks, iou=np.array(iou), dice=np.array(dice), empty=not truth.any())

def resoft(im, soft):
    x = im["x"].copy()
    tot = max(soft.sum(), 1e-6)
    for k, m in enumerate(im["masks"]):
        area = max(1, m.sum()); r = max(2, int(round(np.sqrt(area) / 4)))
        grown = cv2.dilate(m.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0
        ring = grown & ~m
        si = soft[m].mean() if m.any() else 0; sr = soft[ring].mean() if ring.any() else 0
        x[k, 2:6] = [si, sr, si * area / tot, soft[m].max() if m.any() else 0]
    return x

def ridge(ims, l2):
    x = np.vstack([im["x"] for im in ims if len(im["x"])]); y = np.concatenate([im["iou"] for im in ims if len(im["x"])])
    mu, sd = x.mean(0), x.std(0); sc = np.where(sd > 1e-6, 1 / np.maximum(sd, 1e-12), 0)
    z = np.hstack([(x - mu) * sc, np.ones((len(x), 1))])
    a = z.T @ z; a[np.arange(len(mu)), np.arange(len(mu))] += l2 * len(x); a[-1, -1] += 1e-9
    w = np.linalg.solve(a, z.T @ y)
    return lambda f: np.hstack([(f - mu) * sc, np.ones((len(f), 1))]) @ w

sup = {n: load("support_" + n, n) for n in supports}
qry = {n: load(n, n) for n in queries}
def evaluate(sup_x, qry_x):
    for n in supports: sup[n]["xx"] = sup_x[n]
    f = ridge([dict(x=sup[n]["xx"], iou=sup[n]["iou"]) for n in supports], penalty)
    d = [qry[n]["dice"][np.argmax(f(qry_x[n]))] if len(qry[n]["x"]) else 0 for n in queries if not n.startswith("normal")]
    return np.mean(d)
def peak_in_lesion(predict, skip=()):
    hits = [rows[n][1][np.argmax(predict(rows[n][0]))] >= 0.5 for n in queries
            if not n.startswith("normal") and n not in skip]
    return np.mean(hits) if hits else float("nan")


print(f"dumped features: lesion Dice never-empty {evaluate({n: sup[n]['x'] for n in supports}, {n: qry[n]['x'] for n in queries}):.3f}")
# recomputed soft features with the supports-only classifier (checks the emulation)
def maps(extra):
    s = {}
    for n in supports:
        others = [m for m in supports if m != n]
        p = fit([rows[m][0] for m in others] + [rows[m][0] for m in extra], [rows[m][1] for m in others] + [pseudo_cells(m) for m in extra])
        s[n] = resoft(sup[n], soft_work(n, p(rows[n][0]), sup[n]["masks"][0].shape)) if sup[n]["masks"] else sup[n]["x"]
    p = fit([rows[m][0] for m in supports] + [rows[m][0] for m in extra], [rows[m][1] for m in supports] + [pseudo_cells(m) for m in extra])
    q = {n: resoft(qry[n], soft_work(n, p(rows[n][0]), qry[n]["masks"][0].shape)) if qry[n]["masks"] else qry[n]["x"] for n in queries}
    return s, q
print(f"recomputed, supports only: {evaluate(*maps([])):.3f}", flush=True)
order = sorted(queries, key=lambda n: -conf[n])
base = fit([rows[m][0] for m in supports], [rows[m][1] for m in supports])
for frac in [0.25, 0.5]:
    extra = order[:int(frac * len(order))]
    p = fit([rows[m][0] for m in supports + extra], [rows[m][1] for m in supports] + [pseudo_cells(m) for m in extra])
    print(f"f = {frac}: highest cell in the lesion {peak_in_lesion(base):.3f} -> {peak_in_lesion(p):.3f} "
          f"(left-out queries {peak_in_lesion(base, set(extra)):.3f} -> {peak_in_lesion(p, set(extra)):.3f}); "
          f"chosen candidate's lesion Dice {evaluate(*maps(extra)):.3f}", flush=True)
