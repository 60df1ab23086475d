#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, AddressSanitizer and UndefinedBehaviorSanitizer, and runs
# each for FUZZ_SECONDS (default 1800) on all cores but one. Seeds come from the test fixtures and the cached
# MobileSAM checkpoint. Crashes land in build-fuzz/crashes/TARGET/; the corpora grow in build-fuzz/corpus/.
#   bash scripts/fuzz.sh                     # every target, 30 minutes each
#   FUZZ_SECONDS=60 bash scripts/fuzz.sh npy # one target, one minute
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
if ! command -v clang++ >/dev/null || ! dpkg -s libomp-14-dev >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev libomp-14-dev
fi
SECONDS_EACH=${FUZZ_SECONDS:-1800}
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(pickle checkpoint npy embedding support_list image)
B=build-fuzz
# The image reader is built by gcc (ITK 5.2's headers refuse clang 14) and linked into the clang harness.
G=build-fuzz-gcc
cmake -S . -B $G -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAMMPA_BUILD_TESTS=OFF -DSAMMPA_BUILD_BENCH=OFF >/dev/null
cmake --build $G --target sammpa_io
cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DSAMMPA_FUZZ=ON -DSAMMPA_BUILD_TESTS=OFF -DSAMMPA_BUILD_BENCH=OFF -DSAMMPA_FUZZ_IO_LIB="$PWD/$G/src/io/libsammpa_io.a" >/dev/null
cmake --build $B --target "${TARGETS[@]/#/fuzz_}"

CKPT=${SAMMPA_MOBILE_SAM:-${SAMMPA_CACHE:-$HOME/.cache/sammpa}/mobile_sam.pt}
seed() {  # seed TARGET: a few valid inputs to start from
  local dir=$B/corpus/$1
  mkdir -p "$dir"
  case $1 in
    pickle) [ -f "$CKPT" ] && unzip -p "$CKPT" '*/data.pkl' > "$dir/mobile_sam.pkl" || true ;;
    checkpoint) /usr/bin/python3 - "$dir/tiny.pt" <<'PY' || true
import sys, torch
torch.save({"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.zeros(3, dtype=torch.float16)}, sys.argv[1])
PY
      ;;
    npy) find build -name '*.npy' -size -64k 2>/dev/null | head -20 | xargs -r -I{} cp {} "$dir/" || true ;;  # head closes the pipe early
    embedding) : ;;  # the embedding header is tiny: the fuzzer finds the format from the magic quickly
    image) /usr/bin/python3 - "$dir" <<'PY' || true
import struct, sys
from pathlib import Path
from PIL import Image
d = Path(sys.argv[1]); px = bytes(range(0, 256, 16))  # a 4 x 4 grey ramp; the first byte picks the extension
for i, fmt in enumerate(["PNG", "JPEG", "BMP", "TIFF"]):
    f = d / f"seed.{fmt.lower()}"; Image.frombytes("L", (4, 4), px).save(f, fmt)
    (d / f"seed{i}").write_bytes(bytes([i]) + f.read_bytes()); f.unlink()
nii = struct.pack("<i", 348) + bytes(36) + struct.pack("<8h", 2, 4, 4, 1, 1, 1, 1, 1) + bytes(14) \
    + struct.pack("<hh", 2, 8) + bytes(2) + struct.pack("<8f", 1, 1, 1, 1, 1, 1, 1, 1) + struct.pack("<f", 352)
nii = nii.ljust(344, b"\0") + b"n+1\0"
(d / "seed4").write_bytes(bytes([4]) + nii + bytes(4) + px)
(d / "seed5").write_bytes(bytes([5]) + b"ObjectType = Image\nNDims = 2\nDimSize = 4 4\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n" + px)
(d / "seed6").write_bytes(bytes([6]) + b"NRRD0004\ntype: uint8\ndimension: 2\nsizes: 4 4\nencoding: raw\n\n" + px)
PY
      ;;
    support_list) printf '{"support": ["a", "b_1"]}' > "$dir/s.json"; printf 'a\nb\n' > "$dir/s.txt" ;;
  esac
}
status=0
for t in "${TARGETS[@]}"; do
  seed "$t"
  mkdir -p $B/crashes/$t
  echo "fuzz: $t for ${SECONDS_EACH}s"
  # ITK 5.2's TIFF and MetaImage readers leak buffers on corrupt files: not ours to fix, and not a crash.
  extra=(); leaks=1
  [ "$t" != image ] || { extra=(-detect_leaks=0); leaks=0; }
  if ! ASAN_OPTIONS="detect_leaks=$leaks" "$B/fuzz/fuzz_$t" "$B/corpus/$t" "${extra[@]}" -max_total_time="$SECONDS_EACH" -max_len=262144 -rss_limit_mb=4096 \
      -timeout=20 -artifact_prefix="$B/crashes/$t/" -print_final_stats=1 2>"$B/$t.log"; then
    echo "fuzz: $t FOUND A PROBLEM: see $B/$t.log and $B/crashes/$t/"
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov: " "$B/$t.log" | tail -3 || true
done
exit $status
