#!/usr/bin/python3
"""Would the ranker choose better if it knew what the extra checkpoint's box round makes of each candidate?
(docs/RESULTS.md, "The box round's answers as the ranker's label or features"), offline on a two-checkpoint
candidate dump.

    /usr/bin/python3 scripts/box_answer_ranker.py DUMP DATA CHECKPOINT

DUMP: a SAMMPA_RANKED_DUMP folder (every support's and query's candidates in the work frame); DATA: the data set
folder (images/, masks/); CHECKPOINT: the box round's checkpoint (LiteMedSAM). Every candidate's bounding box,
widened by 10% on each side as the program's box round does, is given to CHECKPOINT through the Python module
(build/python); its answer is compared with the truth and with the candidate (cached in DUMP_boxanswers.npz).
Then the ridge ranker is fitted as the program fits it, on the supports' candidates, with
- label `iou` (the program's: the candidate's IoU), `box` (the box round's answer's IoU), `mean` of the two;
- the program's features, plus the answer's agreement with the candidate (IoU), plus its log area ratio, plus
  the checkpoint's predicted IoU.
For each penalty it prints the lesion queries' Dice (never empty) of the chosen candidate and of its box-round
answer, and the box-round Dice of each lesion support chosen by a ranker fitted on the other supports.
Needs numpy, PIL and the module built by scripts/build.sh.
"""
import glob
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "build", "python"))
from analyze_ranked_dump import load, ridge  # noqa: E402

PENALTIES = [0.1, 0.3, 1, 3, 10]


def in_work_frame(mask, shape):
    """A mask at image size brought to the work frame as the dump's truth is: area averaging, then >= half."""
    return np.array(Image.fromarray(mask.astype(np.float32)).resize(shape[::-1], Image.BOX)) >= 0.5


def box_answers(dump, data, checkpoint, keys):
    """Per dump key, one row per candidate: the answer's IoU and Dice with the truth, the checkpoint's predicted
    IoU, the answer's IoU with the candidate, its area over the candidate's."""
    import sammpa
    predictor = sammpa.SamPredictor(checkpoint)
    out = {}
    for key in keys:
        name = key[len("support_"):] if key.startswith("support_") else key
        im = load(dump, data, key, name)
        rows = []
        if im["masks"]:
            image = Image.open(glob.glob(f"{data}/images/{name}.*")[0]).convert("RGB")
            w, h = image.size
            predictor.set_image(np.array(image))
            shape = im["masks"][0].shape
            truth = np.array(Image.open(f"{data}/masks/{name}.png").convert("L")) > 127
            truth = in_work_frame(truth, shape)
            for m in im["masks"]:
                ys, xs = np.nonzero(m)
                x0, x1 = xs.min() * w / shape[1], (xs.max() + 1) * w / shape[1]
                y0, y1 = ys.min() * h / shape[0], (ys.max() + 1) * h / shape[0]
                dx, dy = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
                box = np.array([max(0, x0 - dx), max(0, y0 - dy), min(w - 1, x1 + dx), min(h - 1, y1 + dy)])
                masks, scores, _ = predictor.predict(box=box, multimask_output=False)
                a = in_work_frame(masks[0], shape)
                i, s, t = (a & truth).sum(), a.sum(), truth.sum()
                rows.append((i / max(s + t - i, 1), 2 * i / max(s + t, 1), scores[0],
                             (a & m).sum() / max((a | m).sum(), 1), s / max(m.sum(), 1)))
        out[key] = np.array(rows).reshape(-1, 5)
        print(f"\r{len(out)}/{len(keys)} images", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return out


def main():
    dump, data, checkpoint = sys.argv[1:4]
    keys = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{dump}/*.csv"))
    cache = f"{dump.rstrip('/')}_boxanswers.npz"
    if not os.path.exists(cache):
        np.savez(cache, **box_answers(dump, data, checkpoint, keys))
    answers = np.load(cache)
    ims = {}
    for key in keys:
        im = load(dump, data, key, key[len("support_"):] if key.startswith("support_") else key)
        del im["masks"]
        im["box"] = answers[key]
        ims[key] = im
    sup = [k for k in keys if k.startswith("support_") and len(ims[k]["x"])]
    lesions = [k for k in keys if not k.startswith("support_") and not ims[k]["empty"]]
    qry = [k for k in lesions if len(ims[k]["x"])]
    print(f"{len(sup)} supports, {len(lesions)} lesion queries; best candidate "
          f"{sum(ims[k]['dice'].max() for k in qry) / len(lesions):.3f}, best box-round answer "
          f"{sum(ims[k]['box'][:, 1].max() for k in qry) / len(lesions):.3f}")
    labels = {"iou": lambda im: im["iou"], "box": lambda im: im["box"][:, 0],
              "mean": lambda im: 0.5 * (im["iou"] + im["box"][:, 0])}
    extras = {"": [], "+agreement": [3], "+agreement+area+predicted": [3, 4, 2]}

    def describe(im, cols):
        parts = [im["x"]] + [np.log(np.maximum(im["box"][:, c:c + 1], 1e-3)) if c == 4 else im["box"][:, c:c + 1]
                             for c in cols]
        return np.hstack(parts)

    variants = [(lab, "") for lab in labels] + [("iou", e) for e in extras if e]
    for lab, extra in variants:
        cols, label = extras[extra], labels[lab]
        cells = []
        for p in PENALTIES:
            fit = ridge([dict(x=describe(ims[k], cols), iou=label(ims[k])) for k in sup], p)
            chosen = [(k, int(np.argmax(fit(describe(ims[k], cols))))) for k in qry]
            cand = sum(ims[k]["dice"][c] for k, c in chosen) / len(lesions)
            boxed = sum(ims[k]["box"][c, 1] for k, c in chosen) / len(lesions)
            held = []
            for h in sup:
                if ims[h]["empty"]:
                    continue
                f = ridge([dict(x=describe(ims[k], cols), iou=label(ims[k])) for k in sup if k != h], p)
                held.append(ims[h]["box"][int(np.argmax(f(describe(ims[h], cols)))), 1])
            cells.append(f"{p:g}: {cand:.3f} / {boxed:.3f} (supports {np.mean(held):.3f})")
        print(f"label {lab:4s} features{extra or ' (the program)':26s}", " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
