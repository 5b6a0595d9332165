#!/usr/bin/env bash
# ci/perf-gate.sh on given files (--new, --baseline; nothing is measured): a baseline equal to the
# run passes (exit 0), a run twice as slow fails (1), a baseline that shares no figure with the run
# (here: one with another KV cache type, as a record made before the type was recorded reads: f32)
# is "re-record it" (2), not a regression, and a missing file is an error (2). The files are the
# committed baseline's.
# Usage: perf_gate_test.sh BUILD_DIR SOURCE_DIR
set -u
build=${1:?usage: perf_gate_test.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: perf_gate_test.sh BUILD_DIR SOURCE_DIR}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
gate() { # want what args...
  local want=$1 what=$2; shift 2
  bash "$src/ci/perf-gate.sh" --build "$build" --out "$tmp/out" "$@" >"$tmp/log" 2>&1
  local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want: $(tail -c 600 "$tmp/log")"; fi
}
has() { if grep -qE -- "$1" "$tmp/log"; then ok; else bad "$2: no /$1/ in: $(tail -c 600 "$tmp/log")"; fi; }

base=$(ls -d "$src"/results/perf-baseline/*/ | head -1)
[ -f "$base/run.json" ] && [ -f "$base/bench.json" ] || { echo "FAIL: no baseline under $src/results/perf-baseline" >&2; exit 1; }

gate 0 "the baseline against itself" --new "$base" --baseline "$base"
has "perf-gate: passed" "an unchanged run passes"

mkdir -p "$tmp/slow" "$tmp/stale" "$tmp/half"
cp "$base/bench.json" "$tmp/slow/"
cp "$base/bench.json" "$tmp/stale/"
python3 - "$base/run.json" "$tmp/slow/run.json" "$tmp/stale/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for m in r["measurements"]:  # every repetition twice as slow, the read beside it unchanged
    m["samples_ms"] = [2 * s for s in m["samples_ms"]]
    m["median_ms"] *= 2
    m["tok_per_s"] /= 2
    m["roofline"]["efficiency"] /= 2
json.dump(r, open(sys.argv[2], "w"))
r = json.load(open(sys.argv[1]))
r["model"]["kv_dtype"] = "f16" if r["model"].get("kv_dtype", "f32") == "f32" else "f32"
json.dump(r, open(sys.argv[3], "w"))
PY
gate 1 "a run twice as slow" --new "$tmp/slow" --baseline "$base"
has "perf-gate: FAILED" "a regression fails"
gate 2 "a baseline with another KV cache type" --new "$base" --baseline "$tmp/stale"
has "nothing to compare" "compare's reason is shown"
has "cannot be compared with this run; re-record it" "the gate says to re-record"
if grep -q "FAILED: a significant regression" "$tmp/log"; then bad "an incomparable baseline read as a regression"; else ok; fi
cp "$base/run.json" "$tmp/half/"
gate 2 "--new without bench.json" --new "$tmp/half" --baseline "$base"
has "half/bench.json not found" "the missing file is named"

echo "perf_gate_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
