#!/usr/bin/env bash
# The test command: installs everything (idempotent), builds, runs every test (C++ unit and integration tests
# and the checks against the official Python reference) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export SAMMPA_DATA="${SAMMPA_DATA:-$(cd .. && pwd)/shared/data}"
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
