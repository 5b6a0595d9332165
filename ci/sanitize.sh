#!/usr/bin/env bash
# The sanitizer job: the whole ctest suite built with AddressSanitizer and UBSan (build-asan/).
# Any report fails the test that triggered it (-fno-sanitize-recover=all).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${IC_ASAN_BUILD_DIR:-build-asan}
jobs=$(nproc 2>/dev/null || echo 2)

# CUDA: the main build compiles the backend; nvcc host code takes no sanitizer flags.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DINFERCOST_SANITIZE=ON -DINFERCOST_WITH_CUDA=OFF >/dev/null
cmake --build "$build" -j "$jobs"
# libbenchmark and OpenBLAS are not instrumented; leaks in their one-time globals are theirs.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
# A 256 MiB read probe: under ASan every 4 KiB page of the default 2 GiB buffer faults (seconds a run).
export IC_READ_PROBE_MIB=256
ctest --test-dir "$build" --output-on-failure -j "$jobs" -LE packaging # ci/test.sh runs it
