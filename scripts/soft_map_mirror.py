#!/usr/bin/python3
"""Mirror images for feature propagation's soft map (docs/RESULTS.md, "Mirrored images for the soft map"),
offline on the 64 x 64 embedding grid.

    /usr/bin/python3 scripts/soft_map_mirror.py mirror DATA OUT
    /usr/bin/python3 scripts/soft_map_mirror.py score DATA EMB EMB2 MIRROR MEMB MEMB2 SETS

`mirror` writes OUT/images and OUT/masks: every image and mask of DATA mirrored left to right (PNG). `score`:
EMB, EMB2 are MobileSAM's and LiteMedSAM's embedding caches of DATA, MEMB, MEMB2 theirs of MIRROR (`sammpa
sam-embed`); SETS as in scripts/soft_map_context.py (`kc`: the headline's k-centroid supports; a number N: ten
names drawn by random.Random(N).sample). Per set, the program's classifier (stacked channels) over every third
lesion image of DATA that is not a support, five ways: `plain` (the program), `mirror` (the query's mirror
classified, its map mirrored back), `average` (the two maps averaged: two encoder passes per query),
`supports` (the classifier also fitted on the supports' mirrors: two passes per support only), `both`. The
mirrored map is put back within the image's cells, so where the image's width is not a whole number of cells
(portrait images) it is off by less than a cell. Needs numpy, PIL and cv2.
"""
import glob
import os
import random
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soft_map_context import HEADLINE, load  # noqa: E402
from soft_map_sources import fit, map_scores  # noqa: E402


def mirror(data, out):
    for kind in ("images", "masks"):
        os.makedirs(f"{out}/{kind}", exist_ok=True)
        for path in sorted(glob.glob(f"{data}/{kind}/*.png")):
            pixels = np.array(Image.open(path))
            Image.fromarray(np.ascontiguousarray(pixels[:, ::-1])).save(f"{out}/{kind}/{os.path.basename(path)}")


def score(data, emb, emb2, mirrored, memb, memb2, sets):
    names = sorted(os.path.basename(p)[:-4] for p in glob.glob(f"{data}/images/*.png"))
    scored, cache = set(names[::3]), {}

    def get(name, flip):
        if (name, flip) not in cache:
            c, y = load(mirrored, memb, memb2, name) if flip else load(data, emb, emb2, name)
            cache[name, flip] = (c.shape[1:], c.reshape(c.shape[0], -1).T.copy(), y)
        return cache[name, flip]

    def back(p, shape):
        return p.reshape(shape)[:, ::-1].reshape(-1)

    for s in sets.split():
        supports = HEADLINE if s == "kc" else random.Random(int(s)).sample(names, 10)
        queries = [n for n in names if n in scored and n not in supports and get(n, False)[2].max() > 0]
        plain = fit([get(n, False)[1] for n in supports], [get(n, False)[2] for n in supports])
        doubled = fit([get(n, f)[1] for n in supports for f in (False, True)],
                      [get(n, f)[2] for n in supports for f in (False, True)])
        rows = {k: [] for k in ("plain", "mirror", "average", "supports", "both")}
        for n in queries:
            shape, x, y = get(n, False)
            _, xm, _ = get(n, True)
            p, pm = plain(x), back(plain(xm), shape)
            d, dm = doubled(x), back(doubled(xm), shape)
            rows["plain"].append(map_scores(y, p))
            rows["mirror"].append(map_scores(y, pm))
            rows["average"].append(map_scores(y, (p + pm) / 2))
            rows["supports"].append(map_scores(y, d))
            rows["both"].append(map_scores(y, (d + dm) / 2))
        for label, values in rows.items():
            dice, peak, mass = np.mean(values, 0)
            print(f"set {s:3s} {label:9s} {len(values)} lesion queries: cell Dice {dice:.3f}, highest cell in the "
                  f"lesion {peak:.3f}, mass inside {mass:.3f}", flush=True)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "mirror":
        mirror(*sys.argv[2:])
    elif len(sys.argv) == 9 and sys.argv[1] == "score":
        score(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
