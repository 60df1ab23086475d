#!/usr/bin/env bash
# The whole job's speed: `sammpa run` on a dataset (default: BUSI, all 624 images, K = 10, every default) from
# nothing cached, then steps 3-4 again with every embedding reused. Prints wall time, CPU time, peak memory
# and the per-step times from run.json / segment.json. (There is no reference implementation of the whole
# pipeline to time beside it; the SAM parts are compared with PyTorch in scripts/bench.sh.)
#   bash scripts/bench_run.sh [DATASET_FOLDER] [K]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
DATA="${1:-${SAMMPA_DATA:-$(cd .. && pwd)/shared/data}/busi}"
K="${2:-10}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "== $(date -u +%F' '%H:%M) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) x $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== sammpa run --data $DATA -k $K (nothing cached)"
/usr/bin/time -f "wall %e s, cpu %U+%S s, peak RSS %M KB" build/bin/sammpa -q run --data "$DATA" -k "$K" \
  --no-overlays --out "$WORK/run" >/dev/null
echo "== steps 3-4 again on the same coarse masks, embeddings reused (sammpa segment)"
/usr/bin/time -f "wall %e s, cpu %U+%S s, peak RSS %M KB" build/bin/sammpa -q segment --data "$DATA" \
  --coarse "$WORK/run" --embeddings "$WORK/run/embeddings" --no-overlays --out "$WORK/seg" >/dev/null
/usr/bin/python3 - "$WORK" <<'PYEOF'
import json, sys
w = sys.argv[1]
run = json.load(open(f"{w}/run/run.json"))
seg = json.load(open(f"{w}/run/segment.json"))["summary"]
again = json.load(open(f"{w}/seg/segment.json"))["summary"]
s = run["seconds"]
print(f"steps (s): select {s['select']:.1f}, propagate {s['propagate']:.1f}, prompt+SAM+refine {s['segment']:.1f}, "
      f"score {s['score']:.1f}; total {sum(s.values()):.1f}")
print(f"per query: encoder {seg['seconds_encode_per_query']:.3f} s + prompts/SAM/refinement "
      f"{seg['seconds_prompt_sam_refine_per_query']:.3f} s = "
      f"{seg['seconds_encode_per_query'] + seg['seconds_prompt_sam_refine_per_query']:.3f} s "
      f"({seg['queries']} queries, {seg['objects']} objects)")
print(f"with embeddings reused: {again['seconds_prompt_sam_refine_per_query']:.3f} s per query")
PYEOF
