#!/usr/bin/env bash
# Small folders, as a user with a few dozen images has them: every S-th image of a data set from the O-th (name
# order) as a folder of its own (links, images/ and masks/), then `sammpa run` on it with every default but -k.
# Prints one line per folder: the supports without the object, the mode chosen, where the "no object" threshold
# came from (ranker.json; with Fisher's probability where the supports' threshold was tested), the lesion
# (object) Dice and the share of object-free queries answered empty, from eval.json. SAM embeddings are
# computed once into WORK and reused.
#
#   bash scripts/small_folders.sh [--dataset busi] [--stride 15] [--offsets "1 2 3"] [--k 5] [--work DIR]
#        [--bin build/bin/sammpa] [-- RUN_OPTIONS...]
set -euo pipefail
cd "$(dirname "$0")/.."
DATASET=busi STRIDE=15 OFFSETS="1 2 3 4 5 6 7 8 9" K=5 WORK=out/small_folders BIN=build/bin/sammpa RUN=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dataset) DATASET="$2"; shift 2 ;;
    --stride) STRIDE="$2"; shift 2 ;;
    --offsets) OFFSETS="$2"; shift 2 ;;
    --k) K="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    --) shift; RUN=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
data="${SAMMPA_DATA:-$(cd .. && pwd)/shared/data}/$DATASET"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
BIN=$(realpath "$BIN")
for o in $OFFSETS; do
  d="$WORK/${DATASET}_${STRIDE}_${o}"
  rm -rf "$d" "$d.out"
  mkdir -p "$d/images" "$d/masks"
  for f in $(ls "$data/images" | awk -v s="$STRIDE" -v o="$o" 'NR % s == o % s'); do
    ln -s "$data/images/$f" "$d/images/$f"
    ln -s "$data/masks/$f" "$d/masks/$f"
  done
  "$BIN" -q run --data "$d" -k "$K" --embeddings "$WORK/embeddings" --ranked-extra-embeddings "$WORK/embeddings_extra" \
    --no-overlays --no-report --out "$d.out" "${RUN[@]}" > "$d.log"
  /usr/bin/python3 - "$d.out" "$(basename "$d")" <<'EOF'
import json, sys
out, name = sys.argv[1], sys.argv[2]
run = json.load(open(f"{out}/run.json"))
groups = json.load(open(f"{out}/eval.json"))["groups"]
support = json.load(open(f"{out}/support.json"))["support"]
objects = [g for g in groups if g != "normal"]
n = sum(groups[g]["dice"]["n"] for g in objects)
dice = sum(groups[g]["dice"]["mean"] * groups[g]["dice"]["n"] for g in objects) / max(n, 1)
source = "-"
try:
    e = json.load(open(f"{out}/ranker.json"))["empty_from_queries"]
    source = e.get("source") or ("refused" if "rejected_supports_threshold" in e else "none")
    tested = e.get("supports_threshold_probability", e.get("rejected_supports_threshold", {}).get("probability"))
    if tested is not None:
        source += f" (Fisher {tested:.4f})"
except (OSError, KeyError):
    pass
normal = groups.get("normal", {}).get("dice", {})
print(f"{name}: {run['images']} images, {sum(s.startswith('normal') for s in support)} of {len(support)} supports "
      f"normal, {run['propagation']}, threshold from {source}: object Dice {dice:.4f} over {n}, normal answered "
      f"empty {normal.get('mean', float('nan')):.2f} of {normal.get('n', 0)}")
EOF
done
