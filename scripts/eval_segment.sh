#!/usr/bin/env bash
# Steps 3-4 ablation on one propagation output: runs `sammpa segment` once per variant (prompt elements,
# refinement rules) on the same coarse masks and cached SAM embeddings, and prints a markdown table of coarse
# vs final Dice over all query images (support images are never scored).
#
#   bash scripts/eval_segment.sh --data DATA --coarse PROP --embeddings EMB --work WORK [--exclude normal]
#        [--variants "default box box+pos ..."] [--queries FILE] [--bin build/bin/sammpa]
# PROP: a `sammpa run --no-sam` or `sammpa propagate` output; EMB: a `sammpa sam-embed --data DATA` output
# (or any earlier run's embeddings/). --exclude: name-prefix groups left out of the headline and reported apart
# (BUSI: normal images, whose ground truth is empty: their "Dice" is the fraction of empty final masks).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/bin/sammpa; EXCLUDE=""; VARIANTS=""; QUERIES=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --data) DATA="$2"; shift 2 ;;
    --coarse) PROP="$2"; shift 2 ;;
    --embeddings) EMB="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --exclude) EXCLUDE="$2"; shift 2 ;;
    --variants) VARIANTS="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    --queries) QUERIES=(--queries "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
RAW="--candidates single --rounds 0 --no-keep-touching --no-fill-holes --min-agreement 0 --min-iou 0 --min-area-ratio 0 --max-area-ratio 1e9"
declare -A FLAGS=(
  [box]="--no-positive --no-negative --no-mask-prompt $RAW"
  [box+pos]="--no-negative --no-mask-prompt $RAW"
  [box+pos+neg]="--no-mask-prompt $RAW"
  [box+pos+neg+mask]="$RAW"
  [mask-only]="--no-box --no-positive --no-negative $RAW"
  [default]=""
  [no-fallback]="--min-agreement 0 --min-iou 0 --min-area-ratio 0 --max-area-ratio 1e9"
  [no-clean]="--no-keep-touching --no-fill-holes"
  [rounds1]="--rounds 1"
  [rounds2]="--rounds 2"
  [all-candidates]="--candidates all"
  [all-rounds1]="--candidates all --rounds 1"
  [multimask]="--candidates multimask"
  [choose-iou]="--candidates all --choose iou"
  [choose-agreement]="--candidates all --choose agreement"
  [average]="--combine average"
  [no-mask-prompt]="--no-mask-prompt"
  [margin0.05]="--box-margin 0.05"
  [margin0.2]="--box-margin 0.2"
  [scale4]="--mask-logit-scale 4"
  [scale20]="--mask-logit-scale 20"
)
ORDER="box box+pos box+pos+neg box+pos+neg+mask mask-only default no-fallback no-clean rounds1 rounds2 all-candidates all-rounds1 multimask choose-iou choose-agreement average no-mask-prompt margin0.05 margin0.2 scale4 scale20"
[[ -n "$VARIANTS" ]] && ORDER="$VARIANTS"
mkdir -p "$WORK"
for v in $ORDER; do
  [[ -v FLAGS[$v] ]] || { echo "unknown variant $v" >&2; exit 2; }
  out="$WORK/$v"
  [[ -f "$out/eval.json" ]] && continue
  # shellcheck disable=SC2086
  "$BIN" -q segment --data "$DATA" --coarse "$PROP" --embeddings "$EMB" --no-overlays --out "$out" --overwrite "${QUERIES[@]}" \
    ${FLAGS[$v]} >/dev/null
done
/usr/bin/python3 - "$WORK" "$EXCLUDE" $ORDER <<'PYEOF'
import json, statistics, sys
work, exclude, variants = sys.argv[1], set(filter(None, sys.argv[2].split(","))), sys.argv[3:]
def scores(path):
    rows = json.load(open(path))["images"]
    main = [r["dice"] for r in rows if r["group"] not in exclude]
    apart = [r["dice"] for r in rows if r["group"] in exclude]
    return main, apart
coarse, coarse_apart = scores(f"{work}/{variants[0]}/eval_coarse.json")
head = "| variant | Dice mean | median | std | better than coarse | kept coarse (objects) | s/query |"
if exclude: head = head[:-1] + f" {'/'.join(sorted(exclude))}: empty final |"
print(head); print("|" + "---|" * (head.count("|") - 1))
def row(name, d, extra, apart):
    line = f"| {name} | {statistics.mean(d):.4f} | {statistics.median(d):.4f} | {statistics.pstdev(d):.4f} | {extra} |"
    if exclude: line += f" {statistics.mean(apart):.2f} |" if apart else " - |"
    print(line)
row(f"coarse (step 2, n = {len(coarse)})", coarse, " - | - | -", coarse_apart)
for v in variants:
    d, apart = scores(f"{work}/{v}/eval.json")
    seg = json.load(open(f"{work}/{v}/segment.json"))["summary"]
    better = sum(a > b + 1e-9 for a, b in zip(d, coarse)) / len(d)
    row(v, d, f"{better:.0%} | {seg['objects_kept_coarse']}/{seg['objects']} | {seg['seconds_prompt_sam_refine_per_query']:.3f}", apart)
PYEOF
