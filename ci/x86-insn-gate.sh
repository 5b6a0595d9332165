#!/usr/bin/env bash
# The clock-free performance gate on x86: instructions executed per output element by every kernel
# variant valgrind can run (ref and avx2), counted under callgrind (ci/x86_insn_count.py), against
# the committed ci/x86_insn_baseline.tsv. Fails (exit 1) when one executes more than 5% above its
# baseline; the AVX-512 and AVX-VNNI variants are listed as not covered (valgrind 3.19 cannot
# decode them). The counts hold for the RelWithDebInfo build with Debian 12's gcc.
#
# usage: bash ci/x86-insn-gate.sh [--write-baseline] [--baseline FILE] [--driver PATH] [--only V,..]
#   builds tests/insn_driver in $IC_BUILD_DIR (default build/) unless --driver names one;
#   --write-baseline regenerates the baseline file instead of comparing.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${IC_BUILD_DIR:-build}
baseline=ci/x86_insn_baseline.tsv
driver="" write=0 extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --write-baseline) write=1 ;;
    --baseline) baseline=$2; shift ;;
    --driver) driver=$2; shift ;;
    --only) extra+=(--only "$2"); shift ;;
    *) echo "x86-insn-gate: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
t0=$(date +%s)

case $(uname -m) in
  x86_64 | amd64) ;;
  *) echo "x86-insn-gate: skipped: not an x86-64 host ($(uname -m))"; exit 0 ;;
esac
for tool in valgrind python3; do
  command -v "$tool" >/dev/null || { echo "x86-insn-gate: $tool not found: run ci/install-deps.sh" >&2; exit 1; }
done

if [ -z "$driver" ]; then
  [ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
  if [ "$type" != RelWithDebInfo ] || grep -q '^INFERCOST_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
    echo "x86-insn-gate: $build is a '$type' build (or sanitized); the baseline is for RelWithDebInfo" >&2
    exit 1
  fi
  cmake --build "$build" --target insn_driver >/dev/null
  driver=$build/tests/insn_driver
fi

echo "== x86 instructions per output element ($driver)"
status=0
if [ $write = 1 ]; then
  python3 ci/x86_insn_count.py "$driver" --write-baseline "$baseline" "${extra[@]}" || status=$?
else
  python3 ci/x86_insn_count.py "$driver" --baseline "$baseline" "${extra[@]}" || status=$?
fi
echo "x86-insn-gate: $(( $(date +%s) - t0 )) s; $([ $status = 0 ] && echo PASSED || echo FAILED)"
exit $status
