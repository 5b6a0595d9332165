#!/usr/bin/env bash
# The performance gate for CI: a quick, fixed set of measurements (a few GEMVs through
# `infercost bench`, one `infercost run --quick`), compared with the baseline committed for this
# machine class under results/perf-baseline/<class>/ by `infercost compare` (Mann-Whitney U over 9
# repetitions; the run by its roofline efficiency, which cancels a machine that reads slower
# today). Exit 1 only on a real regression of the run (significantly worse AND worse by more than
# the threshold), or a kernel that ran in the baseline and is skipped now; the GEMV times are
# reported but advisory (see below). Exit 2 when the baseline cannot be compared at all: it shares
# no figure with this run (recorded by an older infercost or with other options, e.g. before the
# KV cache type was part of a figure): re-record it, do not read that as a regression.
#
# usage: ci/perf-gate.sh [--record] [--build DIR] [--threshold PCT] [--db HISTORY.sqlite] [--out DIR]
#                        [--new DIR] [--baseline DIR]
#   --record      measure and write this machine class's baseline instead of comparing
#   --threshold   the regression threshold in percent (default 15: shared runners are noisy)
#   --db          also add the new measurements to this history (infercost history)
#   --out         where the new files and the Markdown report go (default perf-gate-out/)
#   --new         compare the bench.json and run.json in DIR instead of measuring
#   --baseline    the baseline directory (default results/perf-baseline/<machine class>/)
# The Markdown report (perf-gate-out/report.md) is a PR comment; it is also appended to
# $GITHUB_STEP_SUMMARY when that is set. See docs/ci.md.
set -uo pipefail
cd "$(dirname "$0")/.."
record=0 build=build threshold=15 db="" out=perf-gate-out new="" base=""
while [ $# -gt 0 ]; do
  case "$1" in
    --record) record=1 ;;
    --build) build=${2:?--build needs a directory}; shift ;;
    --threshold) threshold=${2:?--threshold needs a percentage}; shift ;;
    --db) db=${2:?--db needs a file}; shift ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    --new) new=${2:?--new needs a directory}; shift ;;
    --baseline) base=${2:?--baseline needs a directory}; shift ;;
    *) echo "perf-gate: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
bin="$build/harness/infercost"
[ -x "$bin" ] || { echo "perf-gate: $bin not found: build first (cmake --build $build)" >&2; exit 2; }

mkdir -p "$out"

measure() {
  gemvs='--benchmark_filter=gemv/(q8_0|q4_0)/[a-z0-9]+/m:(4096/k:4096|4096/k:14336)/threads:'
  reps=(--benchmark_repetitions=9 --benchmark_min_time=0.05)
  echo "perf-gate: measuring (a minute or two)"
  "$bin" bench "$gemvs" "${reps[@]}" --benchmark_out="$out/bench.json" >/dev/null 2>"$out/bench.err" ||
    { echo "perf-gate: infercost bench failed:"; cat "$out/bench.err"; exit 1; } >&2
  "$bin" run --quick --repetitions 9 --json "$out/run.json" >"$out/run.txt" 2>&1 ||
    { echo "perf-gate: infercost run failed:"; cat "$out/run.txt"; exit 1; } >&2
}
if [ -n "$new" ]; then
  for f in bench.json run.json; do
    [ -f "$new/$f" ] || { echo "perf-gate: $new/$f not found" >&2; exit 2; }
    [ "$new/$f" -ef "$out/$f" ] || cp "$new/$f" "$out/$f"
  done
else
  measure
fi
# The machine class: the CPU the run identified (CPUID brand string) and its thread count.
class=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["env"]; print("%s-%dt" % (e["cpu"]["model_name"], e["threads"]))' "$out/run.json" |
  tr 'A-Z' 'a-z' | tr -c 'a-z0-9\n' '-' | tr -s '-' | sed 's/^-//; s/-$//')
[ -n "$base" ] || base="results/perf-baseline/$class"
echo "perf-gate: machine class $class"
if [ -n "$db" ]; then "$bin" history add "$out/bench.json" "$out/run.json" --db "$db"; fi

if [ "$record" -eq 1 ]; then
  mkdir -p "$base"
  cp "$out/bench.json" "$out/run.json" "$base/"
  echo "perf-gate: baseline recorded in $base/ (commit it)"
  exit 0
fi
if [ ! -f "$base/bench.json" ] || [ ! -f "$base/run.json" ]; then
  echo "perf-gate: no baseline for machine class '$class' in results/perf-baseline/: record one with"
  echo "  bash ci/perf-gate.sh --record   (on a quiet machine of this class), and commit it"
  exit 0
fi
rc=0
{
  echo "## infercost performance gate ($class, threshold ${threshold}%)"
  echo
} >"$out/report.md"
# The gate: the run by roofline efficiency (each repetition against the read measured beside it).
# compare exits 1 on a regression and 2 when it cannot compare (its message says why).
"$bin" compare "$base/run.json" "$out/run.json" --metric efficiency --fail-on-regression "${threshold}%" --format md >>"$out/report.md" 2>"$out/compare.err"
crc=$?
if [ "$crc" -ge 2 ]; then
  cat "$out/compare.err" >&2
  echo "perf-gate: the baseline in $base/ cannot be compared with this run; re-record it on a quiet machine of this class: bash ci/perf-gate.sh --record" >&2
  exit 2
fi
cat "$out/compare.err" >&2
[ "$crc" -eq 0 ] || rc=1
# Advisory: the GEMVs by time. On a shared runner their time follows the neighbours (2-3x swings
# were seen on the development VM while other jobs ran), so they inform and do not fail; the
# kernels are gated clock-free by the instruction counts (ci/x86-insn-gate.sh, ci/aarch64.sh),
# and a kernel that ran in the baseline and is skipped now still fails.
{ echo; echo "GEMV times (advisory: they follow the machine's load; a lost kernel still fails):"; echo; } >>"$out/report.md"
"$bin" compare "$base/bench.json" "$out/bench.json" --format md >>"$out/report.md"
if grep -q "LOST: ran in BASE" "$out/report.md"; then rc=1; fi
cat "$out/report.md"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$out/report.md" >>"$GITHUB_STEP_SUMMARY"; fi
if [ "$rc" -ne 0 ]; then echo "perf-gate: FAILED: a significant regression above ${threshold}% (see above)"; else echo "perf-gate: passed"; fi
exit "$rc"
