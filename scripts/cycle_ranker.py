#!/usr/bin/python3
"""Does a candidate that covers the lesion find the supports' lesions when used as their label? (docs/RESULTS.md,
"Cycle consistency as a ranking signal"), offline on a ranked-mode candidate dump.

    /usr/bin/python3 scripts/cycle_ranker.py DUMP DATA EMB EMB2

DUMP: a SAMMPA_RANKED_DUMP folder, with its box-round answers cached by scripts/box_answer_ranker.py
(DUMP_boxanswers.npz); DATA: the data set folder; EMB, EMB2: MobileSAM's and LiteMedSAM's embedding caches.
For every candidate (supports' and queries'), on the 64 x 64 grid of both embeddings stacked (standardised over
the supports' cells, each cell scaled to unit length): the mean cell inside the candidate minus the mean cell
well outside it is a direction; on each lesion support (but the candidate's own image) the cells' projections
on it give a map, scored against the support's mask: Dice of the cells > 0, the mean inside minus the mean
outside, whether the highest cell lies in the lesion. Averaged over the supports, these three numbers rank the
query's candidates alone, or join the program's features in its ridge ranker (fitted on the supports'
candidates, IoU label, as the program does). Prints the lesion queries' mean Dice of the chosen candidate and
of its box-round answer, never empty. Needs numpy and PIL.
"""
import glob
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from analyze_ranked_dump import load, ridge  # noqa: E402
from soft_map_sources import image_cells, mask_cells, read_embedding  # noqa: E402


def grid_of(name, caches):
    """Stacked channels per image cell, and a function bringing a mask (any frame) onto those cells."""
    parts = [read_embedding(f"{c}/{name}.samemb") for c in caches]
    grid = parts[0][1].shape[-1]
    w = min(image_cells(h, grid)[0] for h, _ in parts)
    h = min(image_cells(hd, grid)[1] for hd, _ in parts)
    x = np.concatenate([f[:, :h, :w].reshape(f.shape[0], -1).T for _, f in parts], 1).astype(np.float32)
    return x, lambda m: mask_cells(m, parts[0][0], grid)[:h, :w].reshape(-1)


def cycle_scores(z, cover, supports):
    """The three cycle scores of one candidate (cells z, its coverage) against (cells, truth) of the supports."""
    if cover.sum() < 0.5:
        return np.zeros(3)
    outside = (cover < 0.1).astype(np.float32)
    direction = (z * cover[:, None]).sum(0) / cover.sum() - (z * outside[:, None]).sum(0) / max(outside.sum(), 1)
    out = []
    for zs, truth in supports:
        score = zs @ direction
        found = score > 0
        out.append((2 * (found & truth).sum() / max(found.sum() + truth.sum(), 1),
                    score[truth].mean() - score[~truth].mean(), float(truth[np.argmax(score)])))
    return np.mean(out, 0)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    dump, data, emb, emb2 = sys.argv[1:]
    keys = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{dump}/*.csv"))
    answers = np.load(f"{dump.rstrip('/')}_boxanswers.npz")
    ims = {}
    for k in keys:
        name = k[len("support_"):] if k.startswith("support_") else k
        im = load(dump, data, k, name)
        im["cells"], to_cells = grid_of(name, [emb, emb2])
        im["cover"] = [to_cells(m) for m in im.pop("masks")]
        im["truth"] = to_cells(np.array(Image.open(f"{data}/masks/{name}.png").convert("L")) > 127) >= 0.5
        im["box"] = answers[k]
        ims[k] = im
    sup = [k for k in keys if k.startswith("support_")]
    cells = np.vstack([ims[k]["cells"] for k in sup])
    mu, sd = cells.mean(0), cells.std(0) + 1e-6
    for im in ims.values():
        z = (im["cells"] - mu) / sd
        im["z"] = z / np.linalg.norm(z, axis=1, keepdims=True)
    lesion_sup = [k for k in sup if ims[k]["truth"].any()]
    for k in keys:
        others = [(ims[s]["z"], ims[s]["truth"]) for s in lesion_sup if s != k]
        ims[k]["cyc"] = np.array([cycle_scores(ims[k]["z"], c, others) for c in ims[k]["cover"]]).reshape(-1, 3)
    lesions = [k for k in keys if not k.startswith("support_") and not ims[k]["empty"]]
    qry = [k for k in lesions if len(ims[k]["x"])]

    def score(chosen):
        return (sum(ims[k]["dice"][c] for k, c in zip(qry, chosen)) / len(lesions),
                sum(ims[k]["box"][c, 1] for k, c in zip(qry, chosen)) / len(lesions))
    print(f"{len(sup)} supports ({len(lesion_sup)} with a lesion), {len(lesions)} lesion queries; best candidate "
          f"{sum(ims[k]['dice'].max() for k in qry) / len(lesions):.3f}")
    for j, what in enumerate(["Dice", "separation", "peak"]):
        print("cycle %-10s alone: candidate %.3f, box round %.3f" %
              ((what,) + score([int(np.argmax(ims[k]["cyc"][:, j])) for k in qry])))
    for cols, label in [([], "the program's features"), ([0, 1, 2], "+ the three cycle scores")]:
        row = []
        for p in [0.1, 0.3, 1, 3]:
            f = ridge([dict(x=np.hstack([ims[k]["x"], ims[k]["cyc"][:, cols]]), iou=ims[k]["iou"])
                       for k in sup if len(ims[k]["x"])], p)
            row.append("%g: %.3f / %.3f" % ((p,) + score(
                [int(np.argmax(f(np.hstack([ims[k]["x"], ims[k]["cyc"][:, cols]])))) for k in qry])))
        print(f"{label:26s}", " | ".join(row), flush=True)

    def within(score):  # mean correlation with the candidates' IoU inside each query image
        r = [np.corrcoef(score(k), ims[k]["iou"])[0, 1] for k in qry
             if len(ims[k]["iou"]) > 2 and ims[k]["iou"].std() > 0 and score(k).std() > 0]
        return np.mean(r)
    f = ridge([ims[k] for k in sup if len(ims[k]["x"])], 0.3)
    print("correlation with the IoU within an image: the program's ridge (penalty 0.3) %.2f, cycle peak %.2f" %
          (within(lambda k: f(ims[k]["x"])), within(lambda k: ims[k]["cyc"][:, 2])))
    chosen = {k: int(np.argmax(f(ims[k]["x"]))) for k in qry}
    lost = [k for k in qry if ims[k]["dice"][chosen[k]] < 0.1]
    print("at penalty 0.3: %d lesion queries choose a candidate of Dice < 0.1 (their best candidate: %.3f); %d of "
          "them had one above 0.6; %d lesion queries have no candidate above 0.3" %
          (len(lost), np.mean([ims[k]["dice"].max() for k in lost]),
           sum(ims[k]["dice"].max() > 0.6 for k in lost),
           sum(ims[k]["dice"].max() <= 0.3 for k in qry) + len(lesions) - len(qry)))


if __name__ == "__main__":
    main()
