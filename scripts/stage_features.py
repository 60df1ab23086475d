#!/usr/bin/python3
"""Whether TinyViT's intermediate stages find the lesion better than the final embedding (docs/RESULTS.md,
"Intermediate encoder stages for the soft map"), offline, on the 64 x 64 embedding grid.

    PYTHONPATH=$(bash scripts/setup_reference.sh | tail -1) /usr/bin/python3 scripts/stage_features.py \\
        extract DATA STAGES                         # once: every image's stage outputs (MobileSAM reference code)
    /usr/bin/python3 scripts/stage_features.py score DATA STAGES EMB EMB2 VARIANTS SUPPORTS [SUPPORTS ...]

STAGES: a folder for the stage outputs (NAME.npz: l0 = the first stage's 128 channels averaged onto the 64 x 64
grid, l1 = 160, l2 = 320, l3 = 320, the last before the neck). EMB, EMB2: MobileSAM's and LiteMedSAM's embedding
caches (`sammpa sam-embed`). VARIANTS: comma-separated sums of parts, e.g. neck,neck+l2,neck+lite+l2 (neck =
EMB, lite = EMB2). SUPPORTS: comma-separated support names, one argument per support set. The classifier is
the program's (scripts/soft_map_sources.py); printed per support set and variant, over the query images with an
object: Dice of the cells >= 0.5, how often the map's highest cell lies in the object, the share of the map's
mass inside it. Needs numpy, PIL, cv2 and (extract) torch.
"""
import glob
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soft_map_sources import fit_and_score, image_cells, mask_cells, read_embedding  # noqa: E402


def extract(data, out):
    import cv2
    import torch
    from mobile_sam import SamPredictor, sam_model_registry
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    checkpoint = os.path.join(os.environ.get("SAMMPA_CACHE", os.path.expanduser("~/.cache/sammpa")), "mobile_sam.pt")
    sam = sam_model_registry["vit_t"](checkpoint=checkpoint).eval()
    predictor = SamPredictor(sam)
    outputs = {}
    for i, layer in enumerate(sam.image_encoder.layers):
        layer.register_forward_hook(lambda m, x, y, i=i: outputs.__setitem__(i, y))
    for path in sorted(glob.glob(f"{data}/images/*.png")):
        name = os.path.basename(path)[:-4]
        if os.path.exists(f"{out}/{name}.npz"):
            continue
        with torch.no_grad():
            predictor.set_image(cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB))
        maps = {}
        for i, t in outputs.items():
            t = t[0]
            if t.dim() == 2:  # tokens: back onto their square grid
                side = int(round(t.shape[0] ** 0.5))
                t = t.reshape(side, side, -1).permute(2, 0, 1)
            if t.shape[-1] == 128:
                t = torch.nn.functional.avg_pool2d(t[None], 2)[0]
            maps[f"l{i}"] = t.numpy().astype(np.float16)
        np.savez(f"{out}/{name}.npz", **maps)


def parts_of(name, data, stages, emb, emb2):
    head, neck = read_embedding(f"{emb}/{name}.samemb")
    head2, lite = read_embedding(f"{emb2}/{name}.samemb")
    grid = neck.shape[-1]
    w = min(image_cells(head, grid)[0], image_cells(head2, grid)[0])
    h = min(image_cells(head, grid)[1], image_cells(head2, grid)[1])
    parts = {"neck": neck[:, :h, :w], "lite": lite[:, :h, :w]}
    with np.load(f"{stages}/{name}.npz") as z:
        for k in z.files:
            parts[k] = z[k][:, :h, :w].astype(np.float32)
    mask = np.array(Image.open(f"{data}/masks/{name}.png").convert("L")) > 127
    return parts, mask_cells(mask, head, grid)[:h, :w].reshape(-1)


def rows(parts, variant):
    return np.concatenate([parts[k].reshape(parts[k].shape[0], -1).T for k in variant.split("+")], 1)


def score(data, stages, emb, emb2, variants, support_sets):
    names = sorted(os.path.basename(p)[:-4] for p in glob.glob(f"{stages}/*.npz"))
    cache = {}

    def get(n):
        if n not in cache:
            cache[n] = parts_of(n, data, stages, emb, emb2)
        return cache[n]
    for s in support_sets:
        supports = s.split(",")
        queries = [n for n in names if n not in supports and not n.startswith("normal")]
        for v in variants.split(","):
            line = fit_and_score([(rows(p, v), y) for p, y in map(get, supports)],
                                 [(rows(p, v), y) for p, y in map(get, queries)])
            print(f"{supports[0]:14s} {v:18s} {line}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "extract":
        extract(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 8 and sys.argv[1] == "score":
        score(*sys.argv[2:7], sys.argv[7:])
    else:
        sys.exit(__doc__)
