#!/usr/bin/python3
"""How the ranked mode picks the ranker's penalty with one support (docs/RESULTS.md, "One support: the ranker's
penalty by leaving candidates out"), offline on candidate dumps of K = 1 runs.

    /usr/bin/python3 scripts/one_support_penalty.py DATA CHECKPOINT DUMP [DUMP ...]

With one support no image can be held out, but its candidates can. For each SAMMPA_RANKED_DUMP folder (a run
with one support whose mask is one object, the extra checkpoint's box round on as by default) and each penalty:
- the support's held-out squared error of the predicted IoU, every candidate left out in turn (closed form:
  residual / (1 - leverage));
- the same with candidates that overlap (IoU > 0.5, chained) left out together, so that a near-copy of the
  held-out candidate cannot answer for it;
- the lesion queries' Dice of the chosen candidate and of CHECKPOINT's answer to its box (the box round the
  program runs), both never empty; CHECKPOINT "none" for a run with one checkpoint (no box round).
Then the rules: the fixed strongest penalty (the program's before), the least error of each leave-out, and the
program's rule now: the strongest penalty within one standard error of the least error, candidates left out
one by one (one_standard_error_penalty, src/refine/ranker.cpp). The box answers of the candidates some penalty
chooses are cached in DUMP_chosenboxes.json. Needs numpy, PIL and the module built by scripts/build.sh.
"""
import glob
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from analyze_ranked_dump import load  # noqa: E402
from box_answer_ranker import in_work_frame  # noqa: E402

PENALTIES = [0.01, 0.1, 0.3, 1, 3, 10]


def design(x, mu, sc):
    return np.hstack([(x - mu) * sc, np.ones((len(x), 1))])


def hat(x, penalty):
    """The ridge's hat matrix as the program fits it: features standardised, bias unpenalised."""
    mu, sd = x.mean(0), x.std(0)
    sc = np.where(sd > 1e-12, 1 / np.maximum(sd, 1e-12), 0)
    z = design(x, mu, sc)
    a = z.T @ z
    d = x.shape[1]
    a[np.arange(d), np.arange(d)] += penalty * len(x)
    a[d, d] += 1e-9
    return z @ np.linalg.solve(a, z.T), mu, sc, a, z


def groups_of(masks, link=0.5):
    """Candidates chained by IoU > link share a group."""
    n = len(masks)
    parent = list(range(n))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for i in range(n):
        for j in range(i + 1, n):
            inter = (masks[i] & masks[j]).sum()
            union = (masks[i] | masks[j]).sum()
            if union and inter / union > link:
                parent[root(i)] = root(j)
    return np.array([root(i) for i in range(n)])


def held_out_errors(x, y, groups, penalty):
    """Mean squared held-out error: each candidate alone, and each group together."""
    h = hat(x, penalty)[0]
    r = y - h @ y
    single = r / np.maximum(1 - np.diag(h), 1e-9)
    grouped = np.empty_like(r)
    for g in np.unique(groups):
        idx = np.nonzero(groups == g)[0]
        grouped[idx] = np.linalg.solve(np.eye(len(idx)) - h[np.ix_(idx, idx)], r[idx])
    return single ** 2, grouped ** 2


def fit(x, y, penalty):
    _, mu, sc, a, z = hat(x, penalty)
    w = np.linalg.solve(a, z.T @ y)
    return lambda f: design(f, mu, sc) @ w


def box_dice(data, checkpoint, wanted, cache):
    """Dice of CHECKPOINT's answer to each wanted candidate's box (widened by 10% a side, as the program's box
    round), per query name and candidate index; cached in the file cache."""
    done = json.load(open(cache)) if os.path.exists(cache) else {}
    todo = {n: [i for i in idx if str(i) not in done.get(n, {})] for n, (idx, _) in wanted.items()}
    if any(todo.values()):
        from PIL import Image
        import sammpa
        predictor = sammpa.SamPredictor(checkpoint)
        for count, (name, idx) in enumerate(todo.items()):
            if not idx:
                continue
            masks = wanted[name][1]
            image = Image.open(glob.glob(f"{data}/images/{name}.*")[0]).convert("RGB")
            w, h = image.size
            predictor.set_image(np.array(image))
            shape = masks[0].shape
            truth = in_work_frame(np.array(Image.open(f"{data}/masks/{name}.png").convert("L")) > 127, shape)
            for i in idx:
                ys, xs = np.nonzero(masks[i])
                x0, x1 = xs.min() * w / shape[1], (xs.max() + 1) * w / shape[1]
                y0, y1 = ys.min() * h / shape[0], (ys.max() + 1) * h / shape[0]
                dx, dy = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
                box = np.array([max(0, x0 - dx), max(0, y0 - dy), min(w - 1, x1 + dx), min(h - 1, y1 + dy)])
                a = in_work_frame(predictor.predict(box=box, multimask_output=False)[0][0], shape)
                done.setdefault(name, {})[str(i)] = float(2 * (a & truth).sum() / max(a.sum() + truth.sum(), 1))
            print(f"\r{count + 1}/{len(todo)} images", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        json.dump(done, open(cache, "w"))
    return done


def main():
    data, checkpoint, dumps = sys.argv[1], sys.argv[2], sys.argv[3:]
    totals = {}
    for dump in dumps:
        keys = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"{dump}/*.csv"))
        (skey,) = [k for k in keys if k.startswith("support_")]
        sup = load(dump, data, skey, skey[len("support_"):])
        groups = groups_of(sup["masks"])
        lesions = [q for q in (load(dump, data, k, k) | {"name": k} for k in keys if not k.startswith("support_"))
                   if not q["empty"]]
        fits = {p: fit(sup["x"], sup["iou"], p) for p in PENALTIES}
        chosen = {q["name"]: {p: int(np.argmax(f(q["x"]))) for p, f in fits.items()} for q in lesions if len(q["x"])}
        boxes = {} if checkpoint == "none" else box_dice(
            data, checkpoint, {q["name"]: (sorted(set(chosen[q["name"]].values())), q["masks"])
                               for q in lesions if q["name"] in chosen}, f"{dump.rstrip('/')}_chosenboxes.json")
        rows, errors = [], {}
        for p in PENALTIES:
            single, grouped = held_out_errors(sup["x"], sup["iou"], groups, p)
            errors[p] = single
            cand = [q["dice"][chosen[q["name"]][p]] if q["name"] in chosen else 0.0 for q in lesions]
            boxed = cand if checkpoint == "none" else [
                boxes[q["name"]][str(chosen[q["name"]][p])] if q["name"] in chosen else 0.0 for q in lesions]
            rows.append((p, single.mean(), grouped.mean(), np.mean(cand), np.mean(boxed)))
        print(f"{dump}: support {skey[len('support_'):]}, {len(sup['x'])} candidates in {len(set(groups))} groups, "
              f"{len(lesions)} lesion queries")
        for p, single, grouped, cand, boxed in rows:
            print(f"  penalty {p:5g}: held-out error {single:.4f} (candidate) {grouped:.4f} (group); "
                  f"queries: candidate {cand:.3f}, answer {boxed:.3f}")

        def pick(col):  # least error; ties go to the stronger penalty
            best = min(r[col] for r in rows)
            return max(r[0] for r in rows if r[col] <= best + 1e-12)

        def one_se():  # the strongest penalty within one standard error of the least candidate error
            best = pick(1)
            e = errors[best]
            limit = e.mean() + e.std() / np.sqrt(len(e))
            return max(r[0] for r in rows if r[1] <= limit)
        rules = {"fixed 10": 10, "candidate": pick(1), "group": pick(2), "cand 1se": one_se()}  # 1se: the program
        for name, p in rules.items():
            (row,) = [r for r in rows if r[0] == p]
            totals.setdefault(name, []).append(row[4])
            print(f"  rule {name:9s}: penalty {p:g}, answer {row[4]:.3f}")
        for r in rows:
            totals.setdefault(f"penalty {r[0]:g}", []).append(r[4])
    print("mean over dumps (lesion queries' Dice of the answer: after the box round unless CHECKPOINT is none):")
    for name, v in totals.items():
        print(f"  {name:13s} {np.mean(v):.3f} +- {np.std(v):.3f}  [{' '.join(f'{x:.3f}' for x in v)}]")


if __name__ == "__main__":
    main()
