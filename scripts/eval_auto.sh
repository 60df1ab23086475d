#!/usr/bin/env bash
# The paper's protocol for the default `sammpa run` (step 2 chosen by leave-one-out on the supports): for each
# K x selection (k-centroid; random with several seeds), select on the whole data set, then run the whole
# pipeline on a fixed random subset of queries (a folder of links: the supports + the subset minus the
# supports) and score the queries. SAM embeddings are computed once and reused. Writes WORK/rows.csv and prints
# a markdown table (mean +- sd over seeds for random selection) with the mode each run chose.
#
#   bash scripts/eval_auto.sh [--dataset busi] [--ks "5 10"] [--seeds "1 2"] [--queries 75] [--normals 25]
#        [--work out/eval_auto] [--bin build/bin/sammpa] [--embeddings DIR] [--features KIND]
#        [--kcentroid-seeds "0"] [--forced "registration feature ranked"] [-- RUN_OPTIONS...]
# --features: k-centroid selection's image features (sammpa select --features; "sam" encodes into DIR).
# --forced: also run each of these modes forced (--propagation MODE) on every run's supports and queries, to
#   set the automatic choice beside each fixed mode and the best fixed one chosen in hindsight (WORK/forced.csv).
# K = 1 has no leave-one-out (the default's one-support rule, docs/PIPELINE.md). The subset is drawn once with
# seed 0, as in scripts/eval_pipeline.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
DATASET=busi KS="5 10" SEEDS="1 2" QUERIES=75 NORMALS=25 WORK=out/eval_auto BIN=build/bin/sammpa EMB="" FEATURES=thumbnail-hist KSEEDS="0" FORCED="" RUN=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dataset) DATASET="$2"; shift 2 ;;
    --ks) KS="$2"; shift 2 ;;
    --seeds) SEEDS="$2"; shift 2 ;;
    --queries) QUERIES="$2"; shift 2 ;;
    --normals) NORMALS="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    --embeddings) EMB="$2"; shift 2 ;;
    --features) FEATURES="$2"; shift 2 ;;
    --kcentroid-seeds) KSEEDS="$2"; shift 2 ;;
    --forced) FORCED="$2"; shift 2 ;;
    --) shift; RUN=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
data="${SAMMPA_DATA:-$(cd .. && pwd)/shared/data}/$DATASET"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
EMB="${EMB:-$WORK/embeddings}"
ROWS="$WORK/rows.csv"
[[ -f "$ROWS" ]] || echo "k,strategy,seed,chose,n,final_dice,final_median,normal_n,normal_empty,seconds" > "$ROWS"
/usr/bin/python3 scripts/query_subset.py "$data/images" "$QUERIES" "$NORMALS" > "$WORK/candidates.txt"
for k in $KS; do
  for cfg in $(for s in $KSEEDS; do echo "kcentroid:$s"; done) $(for s in $SEEDS; do echo "random:$s"; done); do
    strategy=${cfg%%:*}; seed=${cfg##*:}
    grep -q "^$k,$strategy,$seed," "$ROWS" && continue
    run="$WORK/k${k}_${strategy}_${seed}"
    rm -rf "$run" && mkdir -p "$run/data/images" "$run/data/masks"
    "$BIN" -q select --data "$data" -k "$k" --strategy "$strategy" --seed "$seed" --features "$FEATURES" \
      --embeddings "$EMB" --out "$run/sel" >/dev/null
    for n in $(sort -u "$run/sel/support.txt" "$WORK/candidates.txt"); do
      for kind in images masks; do
        f=$(ls "$data/$kind/$n".* 2>/dev/null | head -n 1)
        [[ -n "$f" ]] && ln -s "$f" "$run/data/$kind/"
      done
    done
    # Where no support shows the object, the run replaces one by the first of support.json's alternates that
    # does (as a person who found nothing to outline would take the selection's next image): link the
    # alternates it will look at, in its order (round by round over the supports), up to that one.
    /usr/bin/python3 - "$run/sel/support.json" "$data" "$run/data" <<'PYEOF'
import glob, json, os, sys
import cv2
sel, data, dst = sys.argv[1:4]
j = json.load(open(sel))
def files(n, kind):
    return sorted(glob.glob(f"{data}/{kind}/{glob.escape(n)}.*"))[:1]
def shows_object(n):
    return any(cv2.countNonZero(cv2.imread(f, cv2.IMREAD_GRAYSCALE)) > 0 for f in files(n, "masks"))
if any(shows_object(n) for n in j["support"]):
    sys.exit()
alternates = j.get("alternates", [])
for r in range(max((len(a) for a in alternates), default=0)):
    for a in (a for a in alternates if r < len(a)):
        for kind in ("images", "masks"):
            for f in files(a[r], kind):
                link = f"{dst}/{kind}/{os.path.basename(f)}"
                if not os.path.lexists(link):
                    os.symlink(f, link)
        if shows_object(a[r]):
            sys.exit()
PYEOF
    start=$(date +%s)
    "$BIN" -q run --data "$run/data" --support "$run/sel" --embeddings "$EMB" --no-overlays \
      --out "$run/out" "${RUN[@]}" >/dev/null
    /usr/bin/python3 - "$run/out" "$k" "$strategy" "$seed" "$(( $(date +%s) - start ))" >> "$ROWS" <<'PYEOF'
import json, statistics, sys
out, k, strategy, seed, seconds = sys.argv[1:6]
chose = json.load(open(f"{out}/run.json"))["propagation"]
final = json.load(open(f"{out}/eval.json"))["images"]
main = [r for r in final if not r["name"].startswith("normal_")]
normal = [r for r in final if r["name"].startswith("normal_")]
ne = statistics.mean(r["dice"] for r in normal) if normal else ""
print(f"{k},{strategy},{seed},{chose},{len(main)},{statistics.mean(r['dice'] for r in main):.4f},"
      f"{statistics.median(r['dice'] for r in main):.4f},{len(normal)},{ne},{seconds}")
PYEOF
    tail -n 1 "$ROWS"
  done
done
FROWS="$WORK/forced.csv"
[[ -n "$FORCED" && ! -f "$FROWS" ]] && echo "k,strategy,seed,mode,n,final_dice,normal_empty" > "$FROWS"
for mode in $FORCED; do
  for k in $KS; do
    for cfg in $(for s in $KSEEDS; do echo "kcentroid:$s"; done) $(for s in $SEEDS; do echo "random:$s"; done); do
      strategy=${cfg%%:*}; seed=${cfg##*:}
      grep -q "^$k,$strategy,$seed,$mode," "$FROWS" && continue
      run="$WORK/k${k}_${strategy}_${seed}"
      rm -rf "$run/forced_$mode"
      # a forced mode may refuse a support set (feature propagation where no support shows the object)
      if ! "$BIN" -q run --data "$run/data" --support "$run/sel" --embeddings "$EMB" --no-overlays --no-report \
        --propagation "$mode" --out "$run/forced_$mode" "${RUN[@]}" >/dev/null; then
        echo "$mode forced: refused on $run (message above); left out of the comparison" >&2
        continue
      fi
      /usr/bin/python3 - "$run/forced_$mode" "$k" "$strategy" "$seed" "$mode" >> "$FROWS" <<'PYEOF'
import json, statistics, sys
out, k, strategy, seed, mode = sys.argv[1:6]
final = json.load(open(f"{out}/eval.json"))["images"]
main = [r["dice"] for r in final if not r["name"].startswith("normal_")]
normal = [r["dice"] for r in final if r["name"].startswith("normal_")]
print(f"{k},{strategy},{seed},{mode},{len(main)},{statistics.mean(main):.4f},"
      f"{statistics.mean(normal) if normal else ''}")
PYEOF
      tail -n 1 "$FROWS"
    done
  done
done
/usr/bin/python3 - "$ROWS" <<'PYEOF'
import csv, statistics, sys
from collections import defaultdict
groups = defaultdict(list)
for r in csv.DictReader(open(sys.argv[1])):
    groups[(int(r["k"]), r["strategy"])].append(r)
print("| K | selection | runs | chose | queries | final Dice | final median | normal: empty final | s per run |")
print("|---:|---|---:|---|---:|---|---|---|---:|")
def ms(rows, key):
    v = [float(r[key]) for r in rows]
    return f"{statistics.mean(v):.4f}" + (f" ± {statistics.stdev(v):.4f}" if len(v) > 1 else "")
for (k, st), rows in sorted(groups.items()):
    normal = ms(rows, "normal_empty") if rows[0]["normal_n"] != "0" else "-"
    chose = ", ".join(sorted(r["chose"] for r in rows))
    print(f"| {k} | {st} | {len(rows)} | {chose} | {rows[0]['n']} | {ms(rows, 'final_dice')} | "
          f"{ms(rows, 'final_median')} | {normal} | {statistics.mean(float(r['seconds']) for r in rows):.0f} |")
PYEOF
if [[ -n "$FORCED" ]]; then
/usr/bin/python3 - "$ROWS" "$FROWS" <<'PYEOF'
import csv, statistics, sys
from collections import defaultdict
auto = {(r["k"], r["strategy"], r["seed"]): r for r in csv.DictReader(open(sys.argv[1]))}
forced = defaultdict(dict)
for r in csv.DictReader(open(sys.argv[2])):
    forced[(r["k"], r["strategy"], r["seed"])][r["mode"]] = float(r["final_dice"])
modes = sorted({m for v in forced.values() for m in v})
print()
print("| K | selection | runs | automatic choice | " + " | ".join(f"{m} forced" for m in modes) +
      " | best fixed mode in hindsight | best mode per run (oracle) |")
print("|---:|---|---:|---|" + "---|" * len(modes) + "---|---|")
groups = defaultdict(list)
for key in auto:
    if len(forced.get(key, {})) == len(modes):
        groups[(int(key[0]), key[1])].append(key)
def ms(v):
    return f"{statistics.mean(v):.4f}" + (f" ± {statistics.stdev(v):.4f}" if len(v) > 1 else "")
for (k, st), keys in sorted(groups.items()):
    per_mode = {m: [forced[key][m] for key in keys] for m in modes}
    best = max(modes, key=lambda m: statistics.mean(per_mode[m]))
    oracle = [max(forced[key].values()) for key in keys]
    print(f"| {k} | {st} | {len(keys)} | {ms([float(auto[key]['final_dice']) for key in keys])} | " +
          " | ".join(ms(per_mode[m]) for m in modes) + f" | {best}: {ms(per_mode[best])} | {ms(oracle)} |")
PYEOF
fi
