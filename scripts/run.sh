#!/usr/bin/env bash
# The main job: installs everything (idempotent), builds, fetches the MobileSAM checkpoint (unless
# SAMMPA_CHECKPOINT names one) and the LiteMedSAM one, then runs the pipeline.
#   bash scripts/run.sh                 # on a synthetic phantom set (no data needed)
#   bash scripts/run.sh DATA [OPTIONS]  # on DATA/images + DATA/masks; OPTIONS go to `sammpa run` (e.g. -k 10)
# Results go to ${OUT:-out/run}; an earlier result there (and only a sammpa result) is replaced, its SAM
# embeddings reused.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
[ -n "${SAMMPA_CHECKPOINT:-}" ] || bash scripts/fetch_mobile_sam.sh >/dev/null
# The medical checkpoint that the ranked mode uses beside MobileSAM (--ranked-extra-checkpoint auto); the run
# goes on without it if it cannot be fetched.
bash scripts/fetch_lite_medsam.sh >/dev/null ||
  echo "run.sh: LiteMedSAM could not be fetched (scripts/fetch_lite_medsam.sh); the run uses MobileSAM alone" >&2
OUT="${OUT:-out/run}"
if [ $# -ge 1 ] && [ "${1#-}" = "$1" ]; then
  data="$1"; shift
  exec build/bin/sammpa run --data "$data" --out "$OUT" --overwrite "$@"
fi
exec build/bin/sammpa run --out "$OUT" --overwrite "$@"
