#!/usr/bin/env bash
# The paper's protocol for the whole pipeline: for each dataset x K x selection (k-centroid; random with several
# seeds): select -> propagate -> segment (steps 3-4 with the default options) and score coarse and final masks
# on the query images (supports are never scored). SAM embeddings are computed once per dataset and reused.
# Writes WORK/rows.csv and prints a markdown table (mean +- sd over seeds for random selection).
#
#   bash scripts/eval_pipeline.sh [--datasets "cxr busi"] [--ks "1 5 10"] [--seeds "1 2 3"] [--queries N]
#        [--normals N] [--work out/eval_pipeline] [--bin build/bin/sammpa] [-- SEGMENT_OPTIONS...]
# --queries N: score a fixed random subset of N query candidates (seed 0; BUSI: plus --normals normal images,
# reported apart), the same for every configuration, minus that configuration's supports. 0 = every query.
set -euo pipefail
cd "$(dirname "$0")/.."
DATASETS="cxr busi"; KS="1 5 10"; SEEDS="1 2 3"; QUERIES=0; NORMALS=25; WORK=out/eval_pipeline; BIN=build/bin/sammpa
SEG=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --datasets) DATASETS="$2"; shift 2 ;;
    --ks) KS="$2"; shift 2 ;;
    --seeds) SEEDS="$2"; shift 2 ;;
    --queries) QUERIES="$2"; shift 2 ;;
    --normals) NORMALS="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    --) shift; SEG=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
DATA_ROOT="${SAMMPA_DATA:-$(cd .. && pwd)/shared/data}"
mkdir -p "$WORK"
ROWS="$WORK/rows.csv"
[[ -f "$ROWS" ]] || echo "dataset,k,strategy,seed,n,coarse_dice,final_dice,final_median,final_iou,final_hd95_median,better,normal_n,normal_empty_coarse,normal_empty_final" > "$ROWS"
for ds in $DATASETS; do
  data="$DATA_ROOT/$ds"
  [[ -d "$WORK/$ds/embeddings" ]] || "$BIN" -q sam-embed --data "$data" --out "$WORK/$ds/embeddings"
  qfile=()
  if [[ "$QUERIES" != 0 ]]; then
    /usr/bin/python3 scripts/query_subset.py "$data/images" "$QUERIES" "$NORMALS" > "$WORK/$ds/candidates.txt"
    qfile=(--queries "$WORK/$ds/candidates.txt")
  fi
  for k in $KS; do
    for cfg in "kcentroid 0" $(for s in $SEEDS; do echo "random:$s"; done); do
      strategy=${cfg%%[ :]*}; seed=${cfg##*[ :]}
      run="$WORK/$ds/k${k}_${strategy}_${seed}"
      grep -q "^$ds,$k,$strategy,$seed," "$ROWS" && continue
      mkdir -p "$run"
      "$BIN" -q select --data "$data" -k "$k" --strategy "$strategy" --seed "$seed" --out "$run/sel" --overwrite >/dev/null
      "$BIN" -q propagate --data "$data" --support "$run/sel" "${qfile[@]}" --out "$run/prop" --overwrite >/dev/null
      "$BIN" -q segment --data "$data" --coarse "$run/prop" --embeddings "$WORK/$ds/embeddings" "${qfile[@]}" \
        --no-overlays --out "$run/seg" --overwrite "${SEG[@]}" >/dev/null
      /usr/bin/python3 - "$run/seg" "$ds" "$k" "$strategy" "$seed" >> "$ROWS" <<'PYEOF'
import json, statistics, sys
seg, ds, k, strategy, seed = sys.argv[1:6]
final = json.load(open(f"{seg}/eval.json"))["images"]
coarse = {r["name"]: r for r in json.load(open(f"{seg}/eval_coarse.json"))["images"]}
main = [r for r in final if r["group"] != "normal"]
normal = [r for r in final if r["group"] == "normal"]
hd = [r["hd95"] for r in main if r["hd95"] is not None]
better = sum(r["dice"] > coarse[r["name"]]["dice"] + 1e-9 for r in main) / len(main)
ne_c = statistics.mean(coarse[r["name"]]["dice"] for r in normal) if normal else ""
ne_f = statistics.mean(r["dice"] for r in normal) if normal else ""
print(f"{ds},{k},{strategy},{seed},{len(main)},{statistics.mean(coarse[r['name']]['dice'] for r in main):.4f},"
      f"{statistics.mean(r['dice'] for r in main):.4f},{statistics.median(r['dice'] for r in main):.4f},"
      f"{statistics.mean(r['iou'] for r in main):.4f},{statistics.median(hd) if hd else float('nan'):.1f},"
      f"{better:.2f},{len(normal)},{ne_c},{ne_f}")
PYEOF
      tail -n 1 "$ROWS"
    done
  done
done
/usr/bin/python3 - "$ROWS" <<'PYEOF'
import csv, statistics, sys
from collections import defaultdict
groups = defaultdict(list)
for r in csv.DictReader(open(sys.argv[1])):
    groups[(r["dataset"], int(r["k"]), r["strategy"])].append(r)
print("| dataset | K | selection | runs | queries | coarse Dice | final Dice | final median | better than coarse | normal: empty coarse / final |")
print("|---|---:|---|---:|---:|---|---|---|---|---|")
def ms(rows, key):
    v = [float(r[key]) for r in rows]
    return f"{statistics.mean(v):.4f}" + (f" ± {statistics.stdev(v):.4f}" if len(v) > 1 else "")
for (ds, k, st), rows in sorted(groups.items()):
    normal = f"{ms(rows, 'normal_empty_coarse')} / {ms(rows, 'normal_empty_final')}" if rows[0]["normal_n"] != "0" else "-"
    print(f"| {ds} | {k} | {st} | {len(rows)} | {rows[0]['n']} | {ms(rows, 'coarse_dice')} | {ms(rows, 'final_dice')} | "
          f"{ms(rows, 'final_median')} | {ms(rows, 'better')} | {normal} |")
PYEOF
