#!/usr/bin/env bash
# Runs the benchmarks, each beside its PyTorch reference in the same run, and prints their figures (the
# source of docs/PERFORMANCE.md). The machine is noisy when shared: compare the ratios and run it twice.
#   bash scripts/bench.sh            # MobileSAM and LiteMedSAM encoders, ViT-B encoder, prompt round, propagation
#   FULL=1 bash scripts/bench.sh     # also ViT-L and ViT-H (several minutes each)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
PYREF=$(bash scripts/setup_reference.sh | tail -n 1)
export PYTHONPATH="$PYREF${PYTHONPATH:+:$PYTHONPATH}"
export SAMMPA_MOBILE_SAM="${SAMMPA_MOBILE_SAM:-${SAMMPA_CACHE:-$HOME/.cache/sammpa}/mobile_sam.pt}"
export SAMMPA_DATA="${SAMMPA_DATA:-$(cd .. && pwd)/shared/data}"
export OPENBLAS_CORETYPE=SkylakeX  # Debian's OpenBLAS misdetects this CPU: name it so PyTorch runs fast kernels
B=build/bench
echo "== $(date -u +%F' '%H:%M) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) x $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== the machine's fp32 FMA peak"; PEAK_LINE=$($B/bench_peak --threads 2); echo "$PEAK_LINE"; $B/bench_peak --threads 1
echo "== the encoders' products in fp32 and bf16 (AMX where the CPU has it)"; $B/bench_matmul_precision
PEAK=$(sed -n 's/.*median \([0-9.]*\) GFLOP.*/\1/p' <<<"$PEAK_LINE")  # each encoder's share of it
echo "== MobileSAM TinyViT image encoder (real mobile_sam.pt)"; $B/bench_tinyvit --threads 2 --peak "$PEAK"
echo "== LiteMedSAM TinyViT image encoder (real lite_medsam.pth, 256x256)"
$B/bench_tinyvit --threads 2 --peak "$PEAK" --checkpoint "${SAMMPA_LITE_MEDSAM:-${SAMMPA_CACHE:-$HOME/.cache/sammpa}/lite_medsam.pth}"
echo "== SAM ViT-B image encoder (random weights, official configuration)"; $B/bench_vit --model vit_b --reps 3 --peak "$PEAK"
echo "== one prompt round: prompt encoder + mask decoder + post-processing (real mobile_sam.pt, real image)"
$B/bench_predict --threads 2
$B/bench_predict --threads 1
echo "== the prompt encoder + mask decoder alone, one prompt and batches of prompts"; $B/bench_decoder --threads 2
echo "== segment everything (32 x 32 point prompts, MobileSAM, one BUSI image, 2 threads)"
IMG="$SAMMPA_DATA/busi/images/benign_003.png"
rm -rf /tmp/sammpa-bench-everything
build/bin/sammpa -q everything --image "$IMG" --out /tmp/sammpa-bench-everything
/usr/bin/python3 bench/bench_everything_torch.py "$SAMMPA_MOBILE_SAM" "$IMG" 2
echo "== from Python: official SamPredictor vs sammpa.SamPredictor (set_image + one predict)"
/usr/bin/python3 bench/bench_python.py build/python
echo "== mask propagation (seconds per registered pair)"; $B/bench_propagate --data "$SAMMPA_DATA/cxr"
if [ "${FULL:-0}" = 1 ]; then
  for m in vit_l vit_h; do echo "== SAM $m image encoder"; $B/bench_vit --model $m --reps 1 --peak "$PEAK"; done
fi
