#!/usr/bin/env bash
# The test command: installs everything (idempotent), builds, runs every test (C++ unit and integration tests
# and the checks against the official Python reference) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export SAMMPA_DATA="${SAMMPA_DATA:-$(cd .. && pwd)/shared/data}"
# The Python reference (official SAM, MobileSAM and LiteMedSAM code, real mobile_sam.pt and lite_medsam.pth),
# cached outside the repo.
PYREF=$(bash scripts/setup_reference.sh | tail -n 1)
export PYTHONPATH="$PYREF${PYTHONPATH:+:$PYTHONPATH}"
export SAMMPA_MOBILE_SAM="${SAMMPA_MOBILE_SAM:-${SAMMPA_CACHE:-$HOME/.cache/sammpa}/mobile_sam.pt}"
export SAMMPA_LITE_MEDSAM="${SAMMPA_LITE_MEDSAM:-${SAMMPA_CACHE:-$HOME/.cache/sammpa}/lite_medsam.pth}"
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
