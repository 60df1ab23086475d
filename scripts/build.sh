#!/usr/bin/env bash
# Installs the dependencies (idempotent) and builds sammpa into build/ (Release). Prints the compiler output
# only when something fails (the full log stays in build/build.log).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p build
if ! { cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build -j"$(nproc)"; } >build/build.log 2>&1; then
  cat build/build.log
  echo "build failed (log: build/build.log)" >&2
  exit 1
fi
echo "build: ok ($(grep -c 'warning:' build/build.log || true) warnings; log in build/build.log)"
