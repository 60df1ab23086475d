#!/usr/bin/python3
"""Alternatives to the ranked mode's ridge ranker, offline on candidate dumps (docs/RESULTS.md, "Other rankers
tried offline").

    SAMMPA_RANKED_DUMP=DUMP build/bin/sammpa run --data DATA -k 10 --propagation ranked --ranked-round off \
        --embeddings EMB --out OUT
    /usr/bin/python3 scripts/ranker_alternatives.py DUMP DATA EMB [--variants base tpca knn5 ...]

Every variant sees the program's features (the 17 plain ones and 4 principal coordinates of the pooled SAM
embedding, as scripts/ranker_embedding.py computes them) and is judged two ways on the query images: with the
program's rules (penalty and "no object" threshold by leave-one-out on the supports; an empty answer scores 0
on a lesion), and never answering empty at each fixed penalty. Variants:

  base          the program's ridge ranker
  tpca          the embedding's principal directions fitted on the queries' candidates too (transductive)
  knnK          + the IoU of the K nearest support candidates (cosine on the mean embedding inside)
  self_R_W_F    self-training: R rounds; the top fraction F of queries (by best score) join the training set
                with weight W, each candidate labelled with its IoU against the query's chosen candidate
  listT         listwise: maximise the supports' expected IoU of a softmax choice (temperature T)
  quad          ridge on the features and all their pairwise products
  ctx           + grey level below and above the candidate (bands of half its height) against inside
  plsN          + the first N partial-least-squares directions of the pooled embedding against IoU
  proto         + cosine to the good support candidates' mean embedding minus cosine to the bad ones'

The pooled features are cached in DUMP.pkl (delete it after a new dump). Needs numpy and PIL.
"""
import argparse
import glob
import os
import pickle

import numpy as np
from PIL import Image

from analyze_ranked_dump import ridge
from ranker_embedding import PENALTIES, leave_one_out, pooled, ridge_scorer


def load_dump(dump, data, emb):
    cache = f"{dump}.pkl"
    if os.path.exists(cache):
        return pickle.load(open(cache, "rb"))
    keys = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{dump}/*.csv"))
    header = open(f"{dump}/{keys[0]}.csv").readline().strip().split(",")[1:]
    images = []
    for k in keys:
        name = k[len("support_"):] if k.startswith("support_") else k
        im = pooled(dump, k, header, emb, name, data)
        im.update(key=k, name=name, support=k.startswith("support_"))
        masks = np.array([np.array(Image.open(f"{dump}/{k}_{i}.png")).ravel() > 0
                          for i in range(len(im["src"]))], np.float32)
        inter = masks @ masks.T if len(masks) else np.zeros((0, 0))
        area = masks.sum(1) if len(masks) else np.zeros(0)
        im["pair_iou"] = inter / np.maximum(area[:, None] + area[None, :] - inter, 1)
        images.append(im)
    sup = [im for im in images if im["support"]]
    qry = [im for im in images if not im["support"]]
    pickle.dump((sup, qry), open(cache, "wb"))
    return sup, qry


def add_components(images, fit_on, n=4):
    x = np.vstack([im["emb"] for im in fit_on if len(im["x"])])
    mu = x.mean(0)
    basis = np.linalg.svd(x - mu, full_matrices=False)[2][:n]
    for im in images:
        im["xf"] = np.hstack([im["x"], (im["emb"] - mu) @ basis.T]) if len(im["x"]) else np.zeros((0, 21))


def add_context(images, dump, data):
    for im in images:
        rows = []
        if len(im["src"]):
            shape = np.array(Image.open(f"{dump}/{im['key']}_0.png")).shape
            g = np.array(Image.open(f"{data}/images/{im['name']}.png").convert("L").resize(shape[::-1], Image.BOX),
                         np.float32)
            g = (g - g.mean()) / (g.std() + 1e-6)
            for i in range(len(im["src"])):
                m = np.array(Image.open(f"{dump}/{im['key']}_{i}.png")) > 0
                ys, xs = np.nonzero(m)
                y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
                h = max(2, (y1 - y0) // 2)
                inside = g[m].mean()
                below, above = g[y1:y1 + h, x0:x1], g[max(0, y0 - h):y0, x0:x1]
                b = below.mean() if below.size else inside
                a = above.mean() if above.size else inside
                rows.append([b - inside, a - inside, b - a])
        im["xf"] = np.hstack([im["xf"], np.array(rows).reshape(-1, 3)])


def weighted_ridge(x, y, w, penalty):
    mu = (x * w[:, None]).sum(0) / w.sum()
    sd = np.sqrt(((x - mu) ** 2 * w[:, None]).sum(0) / w.sum())
    sc = np.where(sd > 1e-12, 1 / np.maximum(sd, 1e-12), 0)
    z = np.hstack([(x - mu) * sc, np.ones((len(x), 1))])
    a = (z * w[:, None]).T @ z
    d = x.shape[1]
    a[np.arange(d), np.arange(d)] += penalty * w.sum()
    a[d, d] += 1e-9
    coef = np.linalg.solve(a, (z * w[:, None]).T @ y)
    return lambda f: np.hstack([(f - mu) * sc, np.ones((len(f), 1))]) @ coef


def unit(e):
    return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-9)


def knn_iou(train, emb, k):
    s = unit(emb[:, :256]) @ np.vstack([unit(t["emb"][:, :256]) for t in train]).T
    y = np.concatenate([t["iou"] for t in train])
    idx = np.argsort(-s, axis=1)[:, :k]
    w = np.take_along_axis(s, idx, 1).clip(0) + 1e-6
    return (y[idx] * w).sum(1) / w.sum(1)


def pls_directions(train, n):
    """The first n partial-least-squares directions of the pooled embedding against the candidates' IoU."""
    x = np.vstack([t["emb"] for t in train])
    y = np.concatenate([t["iou"] for t in train])
    mu = x.mean(0)
    xc, yc, dirs = x - mu, y - y.mean(), []
    for _ in range(n):
        w = xc.T @ yc
        w /= max(np.linalg.norm(w), 1e-12)
        t = xc @ w
        xc = xc - np.outer(t, (xc.T @ t) / max(t @ t, 1e-12))  # deflate
        dirs.append(w)
    return mu, np.array(dirs)


def proto_scores(train, emb):
    """Cosine to the mean inside-embedding of the good candidates (IoU >= 0.5) minus that to the bad (< 0.1)."""
    e = np.vstack([unit(t["emb"][:, :256]) for t in train])
    y = np.concatenate([t["iou"] for t in train])
    good, bad = unit(e[y >= 0.5].mean(0, keepdims=True)), unit(e[y < 0.1].mean(0, keepdims=True))
    u = unit(emb[:, :256])
    return (u @ good.T - u @ bad.T)[:, 0]


def supervised_maker(kind, n=1):
    """Adds supervised embedding features; a training row's come from the other supports, as a query's come from
    all of them (the knn rule)."""
    def feats(others, emb):
        if kind == "proto":
            return proto_scores(others, emb)[:, None]
        mu, dirs = pls_directions(others, n)
        return (emb - mu) @ dirs.T

    def make(train, p):
        rows = [dict(x=np.hstack([t["xf"], feats(train[:i] + train[i + 1:], t["emb"])]), iou=t["iou"])
                for i, t in enumerate(train)]
        g = ridge(rows, p)
        return lambda im: g(np.hstack([im["xf"], feats(train, im["emb"])]))
    return make


# Each maker: (training images, penalty) -> scorer(image) -> one score per candidate.


def knn_maker(k):
    def make(train, p):
        # The training rows' own feature comes from the other supports, as a query's comes from all of them.
        rows = [dict(x=np.hstack([t["xf"], knn_iou(train[:i] + train[i + 1:], t["emb"], k)[:, None]]), iou=t["iou"])
                for i, t in enumerate(train)]
        g = ridge(rows, p)
        return lambda im: g(np.hstack([im["xf"], knn_iou(train, im["emb"], k)[:, None]]))
    return make


def self_training_maker(pool, rounds, weight, fraction):
    def make(train, p):
        g = ridge_scorer(train, p)
        for _ in range(rounds):
            best = [g(q).max() for q in pool]
            cut = np.quantile(best, 1 - fraction)
            rows = [(t["xf"], t["iou"], 1.0) for t in train]
            rows += [(q["xf"], q["pair_iou"][int(np.argmax(g(q)))], weight) for q, b in zip(pool, best) if b >= cut]
            f = weighted_ridge(np.vstack([r[0] for r in rows]), np.concatenate([r[1] for r in rows]),
                               np.concatenate([np.full(len(r[0]), r[2]) for r in rows]), p)
            g = (lambda f: lambda im: f(im["xf"]))(f)
        return g
    return make


def listwise_maker(temperature):
    def make(train, p):
        x = np.vstack([t["xf"] for t in train])
        mu, sd = x.mean(0), x.std(0) + 1e-9
        zs, ys = [(t["xf"] - mu) / sd for t in train], [t["iou"] for t in train]
        w = np.zeros(x.shape[1])
        for _ in range(300):  # gradient ascent on the mean expected IoU, minus the penalty
            grad = -p * w
            for z, y in zip(zs, ys):
                s = z @ w / temperature
                pr = np.exp(s - s.max())
                pr /= pr.sum()
                grad += (z * (pr * (y - pr @ y))[:, None]).sum(0) / temperature / len(zs)
            w += 0.05 * grad
        return lambda im: ((im["xf"] - mu) / sd) @ w
    return make


def quadratic_maker(train, p):
    x = np.vstack([t["xf"] for t in train])
    mu, sd = x.mean(0), x.std(0) + 1e-9
    iu = np.triu_indices(x.shape[1])

    def expand(f):
        z = (f - mu) / sd
        return np.hstack([z, (z[:, :, None] * z[:, None, :])[:, iu[0], iu[1]]])
    g = ridge([dict(x=expand(t["xf"]), iou=t["iou"]) for t in train], 10 * p)
    return lambda im: g(expand(im["xf"]))


def judge(sup, qry, make):
    """The program's rules, then the lesion Dice never answering empty at each fixed penalty."""
    top = -1
    for p in PENALTIES:
        score, threshold = leave_one_out(sup, p, make)
        if score >= top - 1e-12:
            top, penalty, chosen_threshold = score, p, threshold
    train = [s for s in sup if len(s["x"])]
    f = make(train, penalty)
    lesions, free = [], []
    for q in qry:
        sc = f(q) if len(q["x"]) else None
        empty = sc is None or sc.max() < chosen_threshold
        if q["empty"]:
            free.append(empty)
        else:
            lesions.append(0.0 if empty else q["dice"][int(np.argmax(sc))])
    fixed = []
    for p in PENALTIES:
        g = make(train, p)
        fixed.append(np.mean([q["dice"][int(np.argmax(g(q)))] if len(q["x"]) else 0.0
                              for q in qry if not q["empty"]]))
    return penalty, np.mean(lesions), np.mean(free) if free else float("nan"), fixed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("data")
    ap.add_argument("embeddings")
    ap.add_argument("--variants", nargs="*",
                    default=["base", "tpca", "knn5", "knn20", "self_1_0.3_0.5", "self_2_1_0.5", "list0.1", "quad",
                             "ctx"])
    a = ap.parse_args()
    sup, qry = load_dump(a.dump, a.data, a.embeddings)
    lesions = [q for q in qry if not q["empty"]]
    print(f"{a.dump}: {len(sup)} supports ({sum(s['empty'] for s in sup)} without object), {len(lesions)} lesion "
          f"and {len(qry) - len(lesions)} object-free queries; best candidate's Dice "
          f"{np.mean([q['dice'].max() if len(q['x']) else 0.0 for q in lesions]):.3f}")
    print("variant        | program's rules: penalty, lesion Dice, object-free answered empty | never empty, penalty "
          + " / ".join(f"{p:g}" for p in PENALTIES))
    for v in a.variants:
        add_components(sup + qry, sup + qry if v == "tpca" else sup)
        make = ridge_scorer
        if v.startswith("knn"):
            make = knn_maker(int(v[3:]))
        elif v.startswith("self_"):
            _, rounds, weight, fraction = v.split("_")
            make = self_training_maker([q for q in qry if len(q["x"])], int(rounds), float(weight), float(fraction))
        elif v.startswith("pls"):
            make = supervised_maker("pls", int(v[3:]))
        elif v == "proto":
            make = supervised_maker("proto")
        elif v.startswith("list"):
            make = listwise_maker(float(v[4:]))
        elif v == "quad":
            make = quadratic_maker
        elif v == "ctx":
            add_context(sup + qry, a.dump, a.data)
        pen, les, free, fixed = judge(sup, qry, make)
        print(f"{v:14s} | {pen:5g} {les:.3f} {free:.2f} | " + " ".join(f"{x:.3f}" for x in fixed))


if __name__ == "__main__":
    main()
