#!/usr/bin/env bash
# The clang sanitizer job: the whole ctest suite built with clang under AddressSanitizer, UBSan
# (float-cast-overflow included) and the integer check that does not fire on intended wraparound,
# implicit-signed-integer-truncation (build-asan-clang/). Left out: unsigned-integer-overflow,
# unsigned-shift-base and implicit-unsigned-integer-truncation (the FNV-1a hashes and the xorshift
# generators of bench and the tests wrap, shift out and truncate unsigned values on purpose), and
# implicit-integer-sign-change (it fires on flag constants such as SA_RESETHAND, 0x80000000u stored
# in the int sa_flags).
# Any report fails the test that triggered it (-fno-sanitize-recover=all).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${IC_ASAN_CLANG_BUILD_DIR:-build-asan-clang}
jobs=$(nproc 2>/dev/null || echo 2)
if ! command -v clang >/dev/null || ! command -v clang++ >/dev/null; then
  echo "sanitize-clang: clang is not installed (ci/install-deps.sh installs it)" >&2
  exit 1
fi

checks=address,undefined,float-cast-overflow
checks+=,implicit-signed-integer-truncation
flags="-fsanitize=$checks -fno-sanitize-recover=all -fno-omit-frame-pointer"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=$checks" -DINFERCOST_WITH_CUDA=OFF >/dev/null
cmake --build "$build" -j "$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
# A 256 MiB read probe: under ASan every 4 KiB page of the default 2 GiB buffer faults (seconds a run).
export IC_READ_PROBE_MIB=256
ctest --test-dir "$build" --output-on-failure -j "$jobs" -LE packaging # ci/test.sh runs it
