#!/usr/bin/env bash
# Coarse-mask accuracy of `sammpa propagate` over a grid: dataset x K x selection strategy x seed x fusion rule.
# For each configuration: sammpa select -> sammpa propagate (every fusion rule and the oracle in one run) ->
# sammpa eval on a fixed random subset of query images (the same subset for every configuration; the
# configuration's supports are left out of it and never scored). Writes WORK/rows.csv (one row per run and
# rule) and WORK/results.md (mean +- std over seeds).
#
#   bash scripts/eval_propagation.sh [--datasets "cxr busi"] [--ks "1 5 10"] [--strategies "kcentroid random"]
#        [--seeds "1 2 3"] [--methods demons] [--queries 100] [--normals 25] [--size 128] [--threads 2]
#        [--work out/eval_propagation] [--bin build/bin/sammpa]
# BUSI: the subset is --queries benign/malignant images plus --normals normal images; the headline is
# benign+malignant (normal excluded from the overall score and reported as its own group).
set -euo pipefail
cd "$(dirname "$0")/.."
DATASETS="cxr busi"; KS="1 5 10"; STRATEGIES="kcentroid random"; SEEDS="1 2 3"; METHODS="demons"
QUERIES=100; NORMALS=25; SIZE=128; THREADS=2; WORK=out/eval_propagation; BIN=build/bin/sammpa
while [[ $# -gt 0 ]]; do
  case "$1" in
    --datasets) DATASETS="$2"; shift 2 ;;
    --ks) KS="$2"; shift 2 ;;
    --strategies) STRATEGIES="$2"; shift 2 ;;
    --seeds) SEEDS="$2"; shift 2 ;;
    --methods) METHODS="$2"; shift 2 ;;
    --queries) QUERIES="$2"; shift 2 ;;
    --normals) NORMALS="$2"; shift 2 ;;
    --size) SIZE="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
DATA_ROOT="${SAMMPA_DATA:-$(cd .. && pwd)/shared/data}"
PY=/usr/bin/python3
mkdir -p "$WORK"
ROWS="$WORK/rows.csv"
[[ -f "$ROWS" ]] || echo "dataset,method,k,strategy,seed,rule,dice_mean,dice_median,n,normal_dice,normal_n,seconds,pairs" > "$ROWS"

# A fixed random subset of query candidates per dataset (seed 0), independent of the configuration.
subset() {  # dataset -> file
  local ds=$1 file="$WORK/$1/subset.txt"
  mkdir -p "$WORK/$ds"
  [[ -f "$file" ]] || $PY scripts/query_subset.py "$DATA_ROOT/$ds/images" "$QUERIES" "$NORMALS" > "$file"
  echo "$file"
}

# A dataset view (symbolic links) holding the subset's queries and the supports, so that eval scores exactly them.
make_view() {  # dataset subset support.txt view
  local ds=$1 sub=$2 sup=$3 view=$4
  rm -rf "$view"; mkdir -p "$view/images" "$view/masks"
  for n in $(cat "$sub" "$sup" | sort -u); do
    for kind in images masks; do
      local f
      f=$(ls "$DATA_ROOT/$ds/$kind/$n".* 2>/dev/null | head -n 1 || true)
      [[ -n "$f" ]] && ln -s "$f" "$view/$kind/"
    done
  done
}

for ds in $DATASETS; do
  SUB=$(subset "$ds")
  EVAL_GROUPS=(); [[ "$ds" == busi ]] && EVAL_GROUPS=(--group-by prefix --exclude-groups normal)
  for method in $METHODS; do
  for strategy in $STRATEGIES; do
  for seed in $SEEDS; do
  for k in $KS; do
    tag="$ds/$method-$strategy-k$k-s$seed"
    dir="$WORK/$tag"
    if grep -q "^$ds,$method,$k,$strategy,$seed," "$ROWS"; then echo "skip $tag (done)"; continue; fi
    echo "== $tag"
    mkdir -p "$dir"
    "$BIN" -q select --data "$DATA_ROOT/$ds" -k "$k" --strategy "$strategy" --seed "$seed" --out "$dir/sel" --overwrite >/dev/null
    "$BIN" -q propagate --data "$DATA_ROOT/$ds" --support "$dir/sel" --queries "$SUB" --out "$dir/prop" \
      --method "$method" --work-size "$SIZE" --threads "$THREADS" --all-fusions --oracle --score > "$dir/propagate.log"
    make_view "$ds" "$SUB" "$dir/sel/support.txt" "$dir/view"
    for rule in vote best majority oracle; do
      "$BIN" -q eval --data "$dir/view" --pred "$dir/prop/coarse_$rule" --support "$dir/sel" \
        --out "$dir/eval_$rule" --overwrite "${EVAL_GROUPS[@]}" > /dev/null
      $PY - "$dir/eval_$rule/eval.json" "$dir/prop/propagation.json" "$ds,$method,$k,$strategy,$seed,$rule" >> "$ROWS" <<'PYEOF'
import json, sys
ev = json.load(open(sys.argv[1])); pr = json.load(open(sys.argv[2]))["summary"]
d = ev["overall"]["dice"]; nd = ev.get("groups", {}).get("normal", {}).get("dice", {})
fmt = lambda v: "" if v is None else "%.4f" % v
print(",".join([sys.argv[3], fmt(d["mean"]), fmt(d["median"]), str(d["n"]), fmt(nd.get("mean")), str(nd.get("n", "")),
                "%.1f" % pr["seconds"], str(pr["pairs_deformable"])]))
PYEOF
    done
    rm -rf "$dir/view" "$dir/prop/coarse_"* "$dir/prop/soft"  # keep logs, JSON and the chosen coarse masks
  done; done; done; done
done

$PY - "$ROWS" > "$WORK/results.md" <<'PYEOF'
import csv, statistics, sys
from collections import defaultdict
rows = list(csv.DictReader(open(sys.argv[1])))
groups = defaultdict(list)
for r in rows:
    groups[(r["dataset"], r["method"], int(r["k"]), r["strategy"], r["rule"])].append(r)
def ms(vals):
    vals = [float(v) for v in vals if v != ""]
    if not vals: return "-"
    return "%.3f" % statistics.mean(vals) + (" ± %.3f" % statistics.stdev(vals) if len(vals) > 1 else "")
print("| dataset | method | K | selection | fusion | Dice mean ± sd over seeds | median | seeds | queries scored | normal Dice | s per run |")
print("|---|---|---:|---|---|---|---|---:|---:|---|---:|")
for key in sorted(groups, key=lambda k: (k[0], k[1], k[2], k[3], ["vote", "best", "majority", "oracle"].index(k[4]))):
    g = groups[key]
    print("| %s | %s | %d | %s | %s | %s | %s | %d | %s | %s | %s |" % (key + (ms(r["dice_mean"] for r in g),
          ms(r["dice_median"] for r in g), len(g), "-".join(sorted({min(r["n"] for r in g), max(r["n"] for r in g)}, key=int)),
          ms(r["normal_dice"] for r in g),
          "%.0f" % statistics.mean(float(r["seconds"]) for r in g))))
PYEOF
cat "$WORK/results.md"
