#!/usr/bin/env bash
# Style checks the test command runs (ctest `lint`): the rules .clang-format describes that matter most to a
# reader, checked without clang-format itself (not installed by the set-up): C++ lines of at most 120
# characters, no tabs, no trailing blanks, no CR line ends; every header starts with `#pragma once` and has no
# `using namespace`; shell scripts parse, Python files compile. Prints each offence as FILE:LINE: problem.
set -euo pipefail
# Tests run beside this one (pip builds in the source tree) may create and remove files while it reads: a file
# that is gone by the time it is read is skipped, and any other stop says where it happened.
trap 'echo "lint: stopped at line $LINENO (exit $?)" >&2' ERR
cd "$(dirname "$0")/.."
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files --cached --others --exclude-standard)
else
  files=$(find . -path ./build -prune -o -type f -print | sed 's|^\./||')
fi
cxx=$(grep -E '^(src|apps|tests|bench|fuzz|python)/.*\.(cpp|h)$' <<<"$files" | while read -r f; do [ -f "$f" ] && echo "$f"; done || true)
headers=$(grep -E '\.h$' <<<"$cxx" || true)
shells=$(grep -E '\.sh$|^\.ci/run$' <<<"$files" | while read -r f; do [ -f "$f" ] && echo "$f"; done || true)
pys=$(grep -E '\.py$' <<<"$files" | while read -r f; do [ -f "$f" ] && echo "$f"; done || true)
bad=0
report() { echo "$1"; bad=$((bad + 1)); }

while IFS= read -r line; do report "$line"; done < <(
  # shellcheck disable=SC2086
  awk 'length($0) > 120 { print FILENAME ":" FNR ": line of " length($0) " characters (at most 120)" }
       /\t/           { print FILENAME ":" FNR ": tab character" }
       /[ \t]+\r?$/   { print FILENAME ":" FNR ": trailing blanks" }
       /\r$/          { print FILENAME ":" FNR ": CR line end" }' $cxx)

for h in $headers; do
  [ -f "$h" ] || continue
  first=$(grep -v -E '^\s*(//.*)?$' "$h" 2>/dev/null | head -n 1 || true)
  [ "$first" = "#pragma once" ] || report "$h:1: a header starts with #pragma once (after comments)"
  while IFS= read -r n; do report "$h:$n: using namespace in a header"; done < <(grep -n -E '^\s*using namespace' "$h" 2>/dev/null | cut -d: -f1)
done

for s in $shells; do
  [ -f "$s" ] || continue
  bash -n "$s" 2>/dev/null || report "$s: does not parse (bash -n)"
  grep -q -E '^set -e' "$s" || report "$s: no 'set -e...' (a failing step must stop the script)"
done

for p in $pys; do
  [ -f "$p" ] || continue
  /usr/bin/python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' "$p" 2>/dev/null \
    || report "$p: does not parse (python3)"
done

n=$(wc -w <<<"$cxx $shells $pys")
if [ "$bad" -gt 0 ]; then
  echo "lint: $bad problem(s) in $n files"
  exit 1
fi
echo "lint: $n files, no problem"
