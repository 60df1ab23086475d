#!/usr/bin/env bash
# Installs the build into a temporary prefix, then configures, builds and runs tests/install/consumer against it
# (find_package(sammpa) and the headers under include/sammpa/). Usage: install_and_use.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
test -f "$work/prefix/include/sammpa/pipeline/pipeline.h"
test -x "$work/prefix/bin/sammpa"
cmake -S "$here/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > "$work/configure.log"
cmake --build "$work/build" -j2 > "$work/build.log"
"$work/build/consumer" "$work/run"
