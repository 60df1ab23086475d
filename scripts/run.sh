#!/usr/bin/env bash
# The main job: installs everything (idempotent), builds, fetches the MobileSAM checkpoint (unless
# SAMMPA_CHECKPOINT names one), then runs the pipeline.
#   bash scripts/run.sh                 # on a synthetic phantom set (no data needed)
#   bash scripts/run.sh DATA [OPTIONS]  # on DATA/images + DATA/masks; OPTIONS go to `sammpa run` (e.g. -k 10)
# Results go to ${OUT:-out/run}; an earlier result there (and only a sammpa result) is replaced, its SAM
# embeddings reused.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
[ -n "${SAMMPA_CHECKPOINT:-}" ] || bash scripts/fetch_mobile_sam.sh >/dev/null
OUT="${OUT:-out/run}"
if [ $# -ge 1 ] && [ "${1#-}" = "$1" ]; then
  data="$1"; shift
  exec build/bin/sammpa run --data "$data" --out "$OUT" --overwrite "$@"
fi
exec build/bin/sammpa run --out "$OUT" --overwrite "$@"
