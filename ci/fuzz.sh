#!/usr/bin/env bash
# The fuzzing job: builds the libFuzzer targets of tests/fuzz/ with clang (build-fuzz/), the
# parsers (the harness and the targets) under coverage, ASan and UBSan and the kernels
# uninstrumented (CMakeLists.txt says why). Replays every input under
# tests/fuzz/regressions/<target>/, then runs each target for IC_FUZZ_SECONDS (default 10) from its
# seed corpus tests/fuzz/corpus/<target>/. A crash fails the job and names the reproducer; the
# corpus grown by a run stays in build-fuzz/ (never committed).
# Usage: bash ci/fuzz.sh [TARGET...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${IC_FUZZ_BUILD_DIR:-build-fuzz}
build=$(realpath -m "$build")  # fuzz_cli runs in a directory of its own: absolute paths only
seconds=${IC_FUZZ_SECONDS:-10}
jobs=$(nproc 2>/dev/null || echo 2)
if ! command -v clang >/dev/null; then
  echo "fuzz: clang is not installed (ci/install-deps.sh installs it)" >&2
  exit 1
fi

# Google Benchmark's C++ shim is not a parser: the fuzz build leaves it out (and so C++).
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DINFERCOST_FUZZ=ON -DINFERCOST_WITH_BENCHMARK=OFF -DINFERCOST_WITH_CUDA=OFF -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target ic_fuzz

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
# The targets run commands and print what a user would see: libFuzzer keeps its own report only.
opts=(-close_fd_mask=3 -rss_limit_mb=2048 -timeout=25 -max_len=65536)
failed=0
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/$t"
  regs="$PWD/tests/fuzz/regressions/$t"
  if [ -d "$regs" ] && [ -n "$(ls -A "$regs")" ]; then
    if ! "$bin" "${opts[@]}" "$regs"/* >"$build/$t.regressions.log" 2>&1; then
      echo "fuzz: $t: a regression input fails again:"
      tail -40 "$build/$t.regressions.log"
      failed=1
      continue
    fi
    echo "fuzz: $t: $(ls "$regs" | wc -l) regression inputs pass"
  fi
  corpus="$build/corpus/$t"
  artifacts="$build/artifacts/$t/"
  mkdir -p "$corpus" "$artifacts"
  if ! "$bin" "${opts[@]}" -max_total_time="$seconds" -artifact_prefix="$artifacts" \
      "$corpus" "$PWD/tests/fuzz/corpus/$t" >"$build/$t.log" 2>&1; then
    echo "fuzz: $t: FAILED"
    tail -60 "$build/$t.log"
    repro=$(ls -t "$artifacts" 2>/dev/null | head -1)
    echo "fuzz: $t: reproducer: $artifacts$repro (replay: $bin $artifacts$repro)"
    failed=1
    continue
  fi
  echo "fuzz: $t: $(grep -o "Done [0-9]* runs" "$build/$t.log" | tail -1), no crash"
done
exit $failed
