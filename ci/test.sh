#!/usr/bin/env bash
# The whole test suite: configure, build (warnings are errors under CI=true), and run ctest.
# Then the aarch64 kernels, cross-compiled and run under qemu at every SVE vector length
# (ci/aarch64.sh; build-aarch64/), the clock-free x86 instruction gate (ci/x86-insn-gate.sh), the
# same ctest suite under AddressSanitizer and UBSan twice, with GCC (ci/sanitize.sh; build-asan/)
# and with clang, float-cast-overflow and the signed-truncation check included
# (ci/sanitize-clang.sh; build-asan-clang/), and the fuzz smoke: every parser's libFuzzer target
# replays its regression inputs and runs 10 s (ci/fuzz.sh; build-fuzz/).
# Usage: bash ci/test.sh            (build dir: build/, or $IC_BUILD_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${IC_BUILD_DIR:-build}
jobs=$(nproc 2>/dev/null || echo 2)

# Each stage says how long it took: the whole command must stay under 30 minutes on 2 cores.
stage() {
  local name=$1 t0=$SECONDS
  shift
  "$@"
  echo "test.sh: $name: $((SECONDS - t0)) s (total $SECONDS s)"
}
stage build cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
stage build cmake --build "$build" -j "$jobs"
stage ctest ctest --test-dir "$build" --output-on-failure -j "$jobs"
stage aarch64 bash ci/aarch64.sh
stage aarch64-package bash ci/aarch64-package.sh # arm64 .deb/.tar.gz, its binary measuring under qemu
stage x86-insn-gate bash ci/x86-insn-gate.sh # instructions per element vs ci/x86_insn_baseline.tsv
stage sanitize-gcc bash ci/sanitize.sh
stage sanitize-clang bash ci/sanitize-clang.sh
stage fuzz bash ci/fuzz.sh
