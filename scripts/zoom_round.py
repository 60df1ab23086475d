#!/usr/bin/python3
"""Whether SAM answers better when it sees a query's object up close (docs/RESULTS.md, "A zoomed round on the
chosen mask"), offline on a finished run.

    /usr/bin/python3 scripts/zoom_round.py prepare DATA RUN WORK CONTEXT
    sammpa segment --data WORK/data --coarse WORK/in --out WORK/SEG ...      # any steps 3-4 on the crops
    /usr/bin/python3 scripts/zoom_round.py score DATA RUN WORK WORK/SEG

`prepare` crops every scored query of RUN (object images only: not a support, not named normal_*) around the
bounding box of its final mask, a square CONTEXT times the box's longer side (at least 64 px, shifted to stay
inside the image), and writes the crops of the image and of its true mask to WORK/data, the crop of the final
mask as coarse mask and soft map to WORK/in, and the crops' places to WORK/boxes.json. A query answered empty
gets no crop. `score` pastes each crop's new mask back into the run's final mask and prints the Dice over the
object images before and after, over those the run had in the right place (Dice >= 0.5), and how many gained
or lost. Needs numpy and cv2.
"""
import json
import os
import sys

import cv2
import numpy as np


def scored_names(run):
    supports = set(json.load(open(os.path.join(run, "support.json")))["support"])
    names = [f[:-4] for f in sorted(os.listdir(os.path.join(run, "masks"))) if f.endswith(".png")]
    return [n for n in names if n not in supports and not n.startswith("normal")]


def square_around(mask, context):
    """(x, y, width, height) of the crop around the mask's bounding box, or None for an empty mask."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    side = max(int(round(max(x1 - x0, y1 - y0) * context)), 64)
    height, width = mask.shape
    w, h = min(side, width), min(side, height)
    x = int(round(min(max((x0 + x1) / 2 - w / 2, 0), width - w)))
    y = int(round(min(max((y0 + y1) / 2 - h / 2, 0), height - h)))
    return x, y, w, h


def dice(a, b):
    a, b = a > 0, b > 0
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else 2.0 * (a & b).sum() / total


def grey(path):
    return cv2.imread(path, cv2.IMREAD_GRAYSCALE)


def prepare(data, run, work, context):
    for d in ("data/images", "data/masks", "in/coarse", "in/soft"):
        os.makedirs(os.path.join(work, d), exist_ok=True)
    boxes = {}
    for n in scored_names(run):
        final = grey(os.path.join(run, "masks", n + ".png"))
        box = square_around(final, context)
        if box is None:
            continue
        x, y, w, h = box
        boxes[n] = [int(v) for v in box]
        image = cv2.imread(os.path.join(data, "images", n + ".png"), cv2.IMREAD_UNCHANGED)
        truth = grey(os.path.join(data, "masks", n + ".png"))
        cv2.imwrite(os.path.join(work, "data/images", n + ".png"), image[y:y + h, x:x + w])
        cv2.imwrite(os.path.join(work, "data/masks", n + ".png"), truth[y:y + h, x:x + w])
        for d in ("coarse", "soft"):
            cv2.imwrite(os.path.join(work, "in", d, n + ".png"), final[y:y + h, x:x + w])
    json.dump(boxes, open(os.path.join(work, "boxes.json"), "w"))
    with open(os.path.join(run, "support.json")) as f:
        open(os.path.join(work, "in/support.json"), "w").write(f.read())
    print(f"{len(boxes)} crops in {work}")


def score(data, run, work, seg):
    boxes = json.load(open(os.path.join(work, "boxes.json")))
    before, after = [], []
    for n in scored_names(run):
        truth = grey(os.path.join(data, "masks", n + ".png"))
        final = grey(os.path.join(run, "masks", n + ".png"))
        zoomed = final.copy()
        if n in boxes:
            x, y, w, h = boxes[n]
            zoomed[y:y + h, x:x + w] = grey(os.path.join(seg, "masks", n + ".png"))
        before.append(dice(final, truth))
        after.append(dice(zoomed, truth))
    before, after = np.array(before), np.array(after)
    placed = before >= 0.5
    print(f"{len(before)} object images: Dice {before.mean():.4f} -> {after.mean():.4f}; the {placed.sum()} in the "
          f"right place {before[placed].mean():.4f} -> {after[placed].mean():.4f}; "
          f"{np.sum(after > before + 1e-9)} gain, {np.sum(after < before - 1e-9)} lose")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
    elif len(sys.argv) == 6 and sys.argv[1] == "score":
        score(*sys.argv[2:6])
    else:
        sys.exit(__doc__)
