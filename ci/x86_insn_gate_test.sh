#!/usr/bin/env bash
# ctest x86_insn_gate: the instruction-count gate (ci/x86-insn-gate.sh) fails on a planted rise.
# It counts three variants with this build's insn_driver into a fresh baseline (so the test holds
# for any build type), lowers gemv_q8_0_avx2's count 10%, and expects the gate to exit 1 naming
# that variant and no other; an AVX-512 variant in the set must be reported "not covered".
# usage: x86_insn_gate_test.sh INSN_DRIVER    (exit 77, skipped, where valgrind is missing)
set -euo pipefail
driver=$1
gate="$(dirname "$0")/x86-insn-gate.sh"
command -v valgrind >/dev/null || { echo "skipped: valgrind is not installed"; exit 77; }
# valgrind cannot run a binary built with AddressSanitizer (or TSan, MSan), however the flags came
# in (-DINFERCOST_SANITIZE=ON, or CMAKE_C_FLAGS as in ci/sanitize-clang.sh).
if nm "$driver" 2>/dev/null | grep -E ' (__asan_init|__tsan_init|__msan_init)$' >/dev/null; then
  echo "skipped: $driver is built with a sanitizer runtime that valgrind cannot run"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
only=gemv_q8_0_avx2,gemv_f32_ref,gemm_q4_0_avx2,gemv_q8_0_avx512vnni
planted=gemv_q8_0_avx2

bash "$gate" --driver "$driver" --only "$only" --write-baseline --baseline "$tmp/base.tsv"
awk -F'\t' -v OFS='\t' -v v=$planted '$1 == v { $3 = sprintf("%.4f", $3 * 0.9) } { print }' \
  "$tmp/base.tsv" >"$tmp/planted.tsv"
rc=0
bash "$gate" --driver "$driver" --only "$only" --baseline "$tmp/planted.tsv" >"$tmp/out" || rc=$?
cat "$tmp/out"
fail=0
[ $rc = 1 ] || { echo "FAIL: the gate exited $rc on a planted 10% rise, not 1"; fail=1; }
grep -qE "^$planted .*REGRESSION" "$tmp/out" || { echo "FAIL: $planted not named as a regression"; fail=1; }
others=$(grep REGRESSION "$tmp/out" | grep -v "^$planted " || true)
[ -z "$others" ] || { echo "FAIL: variants other than $planted named: $others"; fail=1; }
grep -q "not covered: gemv_q8_0_avx512vnni" "$tmp/out" || { echo "FAIL: gemv_q8_0_avx512vnni not reported as not covered"; fail=1; }
[ $fail = 0 ] && echo "ok: a 10% rise in $planted fails the gate (exit 1), naming it alone"
exit $fail
