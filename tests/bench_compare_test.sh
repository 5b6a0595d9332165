#!/usr/bin/env bash
# Google Benchmark's own tools/compare.py reads two `infercost bench` JSON files. Needs python3 with
# scipy (python3-scipy) and libbenchmark-tools; skips (exit 77) with the reason when they are missing.
# Usage: bench_compare_test.sh path/to/infercost
set -u
bin=${1:?usage: bench_compare_test.sh path/to/infercost}
compare=${IC_COMPARE_PY:-/usr/share/benchmark/compare.py}
if [ ! -f "$compare" ]; then echo "SKIP: $compare not found (install libbenchmark-tools)"; exit 77; fi
py=""
for cand in python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c "import scipy, numpy" >/dev/null 2>&1; then py=$cand; break; fi
done
if [ -z "$py" ]; then echo "SKIP: no python3 with scipy (install python3-scipy)"; exit 77; fi
if ! "$bin" list | grep -qE "^  benchmark +available"; then echo "SKIP: built without libbenchmark"; exit 77; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in 1 2; do
  if ! "$bin" bench "--benchmark_filter=gemv/(f32|q8_0)/.*/m:4096/k:4096|blas/sgemv/m:4096/k:4096|rmsnorm" \
      --benchmark_min_time=0.005 --benchmark_repetitions=2 "--benchmark_out=$tmp/run$i.json" \
      --benchmark_out_format=json >/dev/null 2>"$tmp/err$i"; then
    echo "FAIL: bench run $i: $(head -c 400 "$tmp/err$i")"; exit 1
  fi
done
if ! "$py" "$compare" benchmarks "$tmp/run1.json" "$tmp/run2.json" >"$tmp/cmp" 2>&1; then
  echo "FAIL: compare.py exited non-zero:"; head -c 1500 "$tmp/cmp"; exit 1
fi
for name in "gemv/q8_0/ref/m:4096/k:4096/threads:" "blas/sgemv/m:4096/k:4096/threads:" "OVERALL_GEOMEAN"; do
  if ! grep -q "$name" "$tmp/cmp"; then echo "FAIL: compare.py output lacks $name:"; head -c 1500 "$tmp/cmp"; exit 1; fi
done
echo "bench_compare_test: compare.py read both files ($(grep -c '/threads:' "$tmp/cmp") rows)"
