#!/usr/bin/python3
"""Feature propagation's soft map from a small neural network instead of the logistic regression (docs/RESULTS.md,
"The box round's answers as the ranker's label or features; a small network for the soft map"), offline on the
64 x 64 embedding grid.

    /usr/bin/python3 scripts/soft_map_mlp.py DATA EMB EMB2 K SETS

EMB, EMB2: MobileSAM's and LiteMedSAM's embedding caches of DATA (stacked, as the program's default does); K and
SETS as in scripts/soft_map_context.py (`kc`: the headline's k-centroid supports; a number N: K names drawn by
random.Random(N).sample). Per set: the program's classifier (scripts/soft_map_sources.py) and three networks of
one hidden layer (ReLU, dropout 0.2 on the input, AdamW, class-balanced cross-entropy, fixed epochs; seed 0)
fitted on the supports' cells, scored as there over every third image of DATA holding an object. Needs numpy,
PIL, cv2 and torch (Debian's python3-torch).
"""
import glob
import os
import random
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soft_map_context import HEADLINE, load  # noqa: E402
from soft_map_sources import fit, map_scores  # noqa: E402

NETWORKS = [(16, 1e-2, 30), (32, 1e-2, 10), (64, 1e-1, 20)]  # hidden units, weight decay, epochs


def fit_network(xs, ys, hidden, decay, epochs):
    x, y = np.vstack(xs), np.concatenate(ys)
    mu, sd = x.mean(0), x.std(0) + 1e-6
    inputs = torch.tensor((x - mu) / sd, dtype=torch.float32)
    target = torch.tensor(y, dtype=torch.float32)
    share = (target >= 0.5).float().mean()
    weight = torch.where(target >= 0.5, 0.5 / share, 0.5 / (1 - share))
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Dropout(0.2), torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(),
                              torch.nn.Linear(hidden, 1))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=decay)
    for _ in range(epochs):
        order = torch.randperm(len(inputs))
        for i in range(0, len(inputs), 512):
            b = order[i:i + 512]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(inputs[b])[:, 0], target[b],
                                                                        weight=weight[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()

    def predict(q):
        with torch.no_grad():
            return torch.sigmoid(net(torch.tensor((q - mu) / sd, dtype=torch.float32))[:, 0]).numpy()
    return predict


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    data, emb, emb2, k, sets = sys.argv[1:]
    torch.set_num_threads(2)
    names = sorted(os.path.basename(p)[:-4] for p in glob.glob(f"{data}/images/*.png"))
    scored, cache = set(names[::3]), {}

    def get(n):
        if n not in cache:
            c, y = load(data, emb, emb2, n)
            cache[n] = (c.reshape(c.shape[0], -1).T.copy(), y)
        return cache[n]
    for s in sets.split():
        supports = HEADLINE if s == "kc" else random.Random(int(s)).sample(names, int(k))
        queries = [n for n in names if n in scored and n not in supports and get(n)[1].max() > 0]
        xs, ys = zip(*(get(n) for n in supports))
        models = {"logistic (the program)": lambda: fit(list(xs), list(ys))}
        for h, d, e in NETWORKS:
            models[f"network {h} units, decay {d:g}, {e} epochs"] = \
                lambda h=h, d=d, e=e: fit_network(list(xs), list(ys), h, d, e)
        for label, make in models.items():
            predict = make()
            dice, peak, mass = np.mean([map_scores(y, predict(x)) for x, y in map(get, queries)], 0)
            print(f"set {s:3s} {label:36s} {len(queries)} lesion queries: cell Dice {dice:.3f}, highest cell in "
                  f"the lesion {peak:.3f}, mass inside {mass:.3f}", flush=True)


if __name__ == "__main__":
    main()
