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
import functools
import json
import os
import sys

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from analyze_ranked_dump import load, ridge  # noqa: E402
from soft_map_sources import fit, image_cells, mask_cells, read_embedding, rows_of  # noqa: E402

data, run, dump, caches = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
rk = json.load(open(f"{run}/ranker.json"))
supports = [s["name"] for s in rk["supports"]]
penalty = rk["penalty"]["chosen"]
conf = {q["name"]: q["confidence"] for q in json.load(open(f"{run}/segment.json"))["queries"]}
queries = sorted(conf)
lesions = [n for n in queries if not n.startswith("normal")]
rows = {n: rows_of(n, caches, data) for n in supports + queries}
sup = {n: load(dump, data, "support_" + n, n) for n in supports}
qry = {n: load(dump, data, n, n) for n in queries}


@functools.lru_cache(maxsize=None)
def geom(n):
    """The first checkpoint's frame, the grid, and the cells holding image in both (as rows_of takes them)."""
    parts = [read_embedding(f"{c}/{n}.samemb") for c in caches]
    g = parts[0][1].shape[-1]
    return parts[0][0], g, min(image_cells(h, g)[0] for h, _ in parts), min(image_cells(h, g)[1] for h, _ in parts)


@functools.lru_cache(maxsize=None)
def pseudo_cells(n):
    """The run's final mask of query n on the embedding grid: its pseudo-label."""
    head, g, w, h = geom(n)
    m = np.array(Image.open(f"{run}/masks/{n}.png").convert("L")) > 127
    return mask_cells(m, head, g)[:h, :w].reshape(-1)


def soft_work(n, p, shape):
    """Cell probabilities p back to the work frame of the dumped candidates (as grid_to_image, then resized)."""
    head, g, w, h = geom(n)
    grid = np.zeros((g, g), np.float32)
    grid[:h, :w] = p.reshape(h, w)
    sq = cv2.resize(grid, (head["target"], head["target"]), interpolation=cv2.INTER_LINEAR)
    out = cv2.resize(sq[:head["input_h"], :head["input_w"]], (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(out, 0, 1)


def resoft(im, soft):
    """The candidates' features with soft_inside, soft_ring, soft_held, soft_max recomputed (the program's rules)."""
    x = im["x"].copy()
    total = max(soft.sum(), 1e-6)
    for k, m in enumerate(im["masks"]):
        area = max(1, m.sum())
        r = max(2, int(round(np.sqrt(area) / 4)))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        ring = (cv2.dilate(m.astype(np.uint8), disc) > 0) & ~m
        inside = soft[m].mean() if m.any() else 0
        x[k, 2:6] = [inside, soft[ring].mean() if ring.any() else 0, inside * area / total,
                     soft[m].max() if m.any() else 0]
    return x


def fit_with(images, extra):
    return fit([rows[m][0] for m in images + extra], [rows[m][1] for m in images] + [pseudo_cells(m) for m in extra])


def maps(extra):
    """Recomputed features: each support's from a fit on the other supports + extra, the queries' from all + extra."""
    def redo(im, n, predict):
        return resoft(im, soft_work(n, predict(rows[n][0]), im["masks"][0].shape)) if im["masks"] else im["x"]
    s = {n: redo(sup[n], n, fit_with([m for m in supports if m != n], extra)) for n in supports}
    predict = fit_with(supports, extra)
    return s, {n: redo(qry[n], n, predict) for n in queries}


def chosen_dice(sup_x, qry_x):
    f = ridge([dict(x=sup_x[n], iou=sup[n]["iou"]) for n in supports], penalty)
    return np.mean([qry[n]["dice"][np.argmax(f(qry_x[n]))] if len(qry[n]["x"]) else 0 for n in lesions])


def peak_in_lesion(predict, skip=()):
    hits = [rows[n][1][np.argmax(predict(rows[n][0]))] >= 0.5 for n in lesions if n not in skip]
    return np.mean(hits) if hits else float("nan")


print(f"dumped features: lesion Dice never-empty "
      f"{chosen_dice({n: sup[n]['x'] for n in supports}, {n: qry[n]['x'] for n in queries}):.3f}")
print(f"recomputed, supports only: {chosen_dice(*maps([])):.3f}", flush=True)
order = sorted(queries, key=lambda n: -conf[n])
base = fit_with(supports, [])
for frac in [0.25, 0.5]:
    extra = order[:int(frac * len(order))]
    p = fit_with(supports, extra)
    print(f"f = {frac}: highest cell in the lesion {peak_in_lesion(base):.3f} -> {peak_in_lesion(p):.3f} "
          f"(left-out queries {peak_in_lesion(base, set(extra)):.3f} -> {peak_in_lesion(p, set(extra)):.3f}); "
          f"chosen candidate's lesion Dice {chosen_dice(*maps(extra)):.3f}", flush=True)
