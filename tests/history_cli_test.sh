#!/usr/bin/env bash
# CLI tests of `infercost history` and `infercost compare`: the SQLite history's round trip, an
# idempotent add, corrupt and foreign files; compare on hand-made samples (a 20% slowdown over 10
# repetitions is flagged, the same distribution is not, 3 repetitions warn); real bench runs of
# this build (a file against itself: no regression; twice: a verdict; IC_ISA=avx2 as NEW: the AVX-512 kernel is lost, exit 1); and
# agreement with Google Benchmark's compare.py on the direction of every change.
# Usage: history_cli_test.sh path/to/infercost tests/data
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_lib.sh"  # ok, bad, expect, has, hasnt
bin=${1:?usage: history_cli_test.sh path/to/infercost DATA_DIR}
data=${2:?usage: history_cli_test.sh path/to/infercost DATA_DIR}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
data=$(cd "$data" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1


# ---- history ----
db="$tmp/h.sqlite"
expect 2 "history without a subcommand" -- "$bin" history
has "$tmp/err" "want add, list or show" "subcommand asked for"
expect 2 "list of a missing history" -- "$bin" history list --db "$tmp/none.sqlite"
has "$tmp/err" "none.sqlite: cannot open the history" "missing history named"
expect 0 "add two results" -- "$bin" history add "$data/result-c7i.json" "$data/result-run-qwen.json" --db "$db"
has "$tmp/out" "result-c7i.json: added as run 1" "first added"
has "$tmp/out" "result-run-qwen.json: added as run 2" "second added"
expect 0 "add again" -- "$bin" history add "$data/result-c7i.json" --db "$db"
has "$tmp/out" "result-c7i.json: already in the history as run 1" "idempotent add"
cp "$data/result-c7i.json" "$tmp/copy.json"
expect 0 "same content, other name" -- "$bin" history add "$tmp/copy.json" --db "$db"
has "$tmp/out" "already in the history as run 1" "keyed by content, not by name"
expect 0 "list" -- "$bin" history list --db "$db"
has "$tmp/out" "^ *1 .*c7i\\.large +llama-3\\.2-1b q8_0 +8 " "run 1 listed with its instance, model and figures"
has "$tmp/out" "^ *2 .*qwen2\\.5-0\\.5b q8_0 " "run 2 listed"
[ "$(grep -cE '^ *[0-9]+ ' "$tmp/out")" -eq 2 ] && ok || bad "two runs, not more"
expect 0 "show a trend" -- "$bin" history show --db "$db" --model llama-3.2-1b --kind decode --context 128
has "$tmp/out" "^decode/ctx:128/n:1 .* 20 +tok/s" "the decode figure's trend"
hasnt "$tmp/out" "ctx:2048" "filtered by context"
expect 0 "show csv" -- "$bin" history show --db "$db" --format csv --host c7i.large
python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1]))); assert r[0][0]=="figure" and len(r)>2 and all(x[4]=="c7i.large" for x in r[1:]), r' "$tmp/out" && ok || bad "history show --format csv by instance"
expect 0 "show nothing" -- "$bin" history show --db "$db" --model nope
has "$tmp/out" "no figure matches" "empty trend said"
expect 2 "bad kind" -- "$bin" history show --db "$db" --kind sideways
has "$tmp/err" "--kind 'sideways'" "bad kind named"
expect 2 "add a non-result" -- "$bin" history add "$data/scenario-given.json" --db "$db"
has "$tmp/err" "scenario-given.json: schema: want \"infercost-result\"" "foreign document refused"
expect 2 "add a directory" -- "$bin" history add "$tmp" --db "$db"
has "$tmp/err" "not a regular file" "directory refused"
# A file that is not SQLite, an SQLite file of something else, a newer schema: errors, not crashes.
head -c 4096 /dev/urandom >"$tmp/junk.sqlite"
expect 2 "corrupt history" -- "$bin" history list --db "$tmp/junk.sqlite"
has "$tmp/err" "junk.sqlite: not an SQLite database" "corrupt file named"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("create table songs(x)"); c.commit()' "$tmp/foreign.sqlite"
expect 2 "foreign SQLite file" -- "$bin" history add "$data/result-c7i.json" --db "$tmp/foreign.sqlite"
has "$tmp/err" "an SQLite database, but not an infercost history" "foreign database named"
cp "$db" "$tmp/newer.sqlite"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("update meta set value=99 where key=\"schema_version\""); c.commit()' "$tmp/newer.sqlite"
expect 2 "newer history schema" -- "$bin" history list --db "$tmp/newer.sqlite"
has "$tmp/err" "history schema 99 is newer than this build" "newer schema named"

# ---- compare on hand-made samples ----
python3 - "$tmp" <<'PY'
import json, random, sys
d = sys.argv[1]
def bench(path, times):
    bs = [{"name": "work/a", "run_name": "work/a", "run_type": "iteration", "repetitions": len(times),
           "repetition_index": i, "iterations": 100, "real_time": t, "cpu_time": t, "time_unit": "ns"}
          for i, t in enumerate(times)]
    json.dump({"context": {"date": "2026-12-05"}, "benchmarks": bs}, open(path, "w"))
r = random.Random(7)
bench(f"{d}/base.json", [100 + r.gauss(0, 1) for _ in range(10)])
bench(f"{d}/slow.json", [120 + r.gauss(0, 1) for _ in range(10)])   # 20% slower
bench(f"{d}/same.json", [100 + r.gauss(0, 1) for _ in range(10)])   # same distribution
bench(f"{d}/base3.json", [100 + r.gauss(0, 1) for _ in range(3)])
bench(f"{d}/slow3.json", [120 + r.gauss(0, 1) for _ in range(3)])
PY
expect 1 "a 20% slowdown over 10 repetitions" -- "$bin" compare base.json slow.json --fail-on-regression 5%
has "$tmp/out" "^work/a +ns .* \\+(19|20)\\.[0-9]% .* REGRESSION" "slowdown flagged"
expect 0 "the same distribution" -- "$bin" compare base.json same.json --fail-on-regression 5%
hasnt "$tmp/out" "REGRESSION" "no regression from noise"
expect 0 "3 repetitions" -- "$bin" compare base3.json slow3.json --fail-on-regression 5%
has "$tmp/out" "too few repetitions to decide" "3 repetitions: undecided"
has "$tmp/out" "^warning: 1 figure\\(s\\) have too few repetitions" "3 repetitions: a warning"
expect 0 "a slowdown under the threshold" -- "$bin" compare base.json slow.json --fail-on-regression 50%
has "$tmp/out" "worse, under the threshold" "under the threshold: worse, not failed"
expect 0 "compare json" -- "$bin" compare base.json slow.json --format json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); f=d["figures"][0]; assert f["verdict"]=="worse" and abs(f["change"]-0.2)<0.02 and f["p"]<0.001, d' "$tmp/out" && ok || bad "compare --format json"
expect 0 "compare md" -- "$bin" compare base.json slow.json --format md
has "$tmp/out" "^\\| figure \\| unit \\| base \\| new \\| change \\| p \\|" "markdown table for a PR comment"
expect 2 "compare nothing in common" -- "$bin" compare base.json "$data/result-c7i.json"
has "$tmp/err" "nothing to compare" "nothing in common said"
expect 2 "compare one side" -- "$bin" compare base.json
expect 2 "bad threshold" -- "$bin" compare base.json slow.json --fail-on-regression lots
has "$tmp/err" "--fail-on-regression 'lots'" "bad threshold named"

# Results: tok/s and efficiency per repetition; a history reference.
expect 0 "compare results" -- "$bin" compare "$data/result-c7i.json" "$data/result-c7i.json"
has "$tmp/out" "^decode/ctx:128/n:1 +tok/s " "result figures by kind, context and batch"
expect 0 "compare @latest" -- "$bin" compare @latest "$data/result-run-qwen.json" --db "$db"
has "$tmp/out" "^base: @latest = history run 2" "@latest resolved"
expect 0 "compare @COMMIT" -- "$bin" compare @fixture "$data/result-c7i.json" --db "$db" --metric efficiency
has "$tmp/out" "history run 1 .*commit fixture" "@COMMIT resolved"
expect 2 "unknown reference" -- "$bin" compare @deadbeef "$data/result-c7i.json" --db "$db"
has "$tmp/err" "@deadbeef: no run at a commit" "unknown commit said"
# Efficiencies against different bounds are not judged: a prefill whose bound was compute-limited
# in BASE (the rule before 2026-12-07) and memory-limited in NEW shows a large "improvement" that
# is only the bound; the decode figures, memory-limited on both sides, are still compared.
python3 - "$data/result-c7i.json" "$tmp" <<'PY'
import json, sys
src, out = sys.argv[1], sys.argv[2]
for name, limit, bound, dec in (("bound-base.json", "compute", 1000.0, 30.0), ("bound-new.json", "memory", 300.0, 27.0)):
    r = json.load(open(src))
    for m in r["measurements"]:
        if m["kind"] == "prefill" and m["batch"] == 64:
            m["roofline"] = {"bound_tok_per_s": bound, "efficiency": m["tok_per_s"] / bound, "limit": limit, "provenance": "modeled"}
        elif m["kind"] == "decode" and m["context"] == 128:
            m["roofline"] = {"bound_tok_per_s": dec, "efficiency": m["tok_per_s"] / dec, "limit": "memory", "provenance": "modeled"}
    json.dump(r, open(out + "/" + name, "w"))
PY
expect 0 "efficiency against another bound" -- "$bin" compare bound-base.json bound-new.json --metric efficiency --fail-on-regression 5%
has "$tmp/out" "^prefill/ctx:0/n:64 +efficiency .* - +5/5 +not comparable: another bound" "prefill with another bound not judged"
has "$tmp/out" "prefill/ctx:0/n:64: not judged: its bound is compute-limited in BASE and memory-limited in NEW" "and why"
has "$tmp/out" "^decode/ctx:128/n:1 +efficiency .* (better|no significant change|too few)" "decode still compared"
has "$tmp/out" "over 2 figures" "the geometric mean leaves it out"

# ---- real runs of this build ----
filter='--benchmark_filter=gemv/q8_0/(avx2|avx512vnni)/m:4096/k:4096/threads:1$'
gb=(--threads 1 --benchmark_repetitions=5 --benchmark_min_time=0.02)
"$bin" bench "${gb[@]}" "$filter" --benchmark_out=a.json >/dev/null 2>&1
"$bin" bench "${gb[@]}" "$filter" --benchmark_out=b.json >/dev/null 2>&1
IC_ISA=avx2 "$bin" bench "${gb[@]}" "$filter" --benchmark_out=c.json >/dev/null 2>&1
if grep -q avx512vnni a.json 2>/dev/null && ! grep -q '"error_occurred": true' a.json; then
  # A real bench file against itself: every change is zero, nothing is flagged, even at a
  # threshold of 0.1%. (Two real runs of the same build are NOT asserted to pass the gate: on a
  # shared VM a second run can be significantly slower, which is the gate doing its job; CI saw
  # it. That no-false-alarm property is tested on the hand-made samples above.)
  expect 0 "bench against itself" -- "$bin" compare a.json a.json --fail-on-regression 0.1%
  hasnt "$tmp/out" "REGRESSION|LOST" "bench against itself: no regression"
  has "$tmp/out" "gemv/q8_0/avx512vnni/m:4096/k:4096/threads:1 " "the real figure is compared"
  # Two real runs: a verdict either way (0 or 1), never a usage or parse error.
  "$bin" compare a.json b.json --fail-on-regression 30% >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "$rc" -le 1 ]; then ok; else bad "bench twice: exit $rc, want 0 or 1: $(head -c 600 "$tmp/err")"; fi
  has "$tmp/out" "gemv/q8_0/avx512vnni/m:4096/k:4096/threads:1 " "bench twice: the figure is compared"
  expect 1 "IC_ISA=avx2 as NEW" -- "$bin" compare a.json c.json --fail-on-regression 30%
  has "$tmp/out" "gemv/q8_0/avx512vnni/.* LOST: ran in BASE, skipped in NEW" "the capped kernel is lost"
  has "$tmp/out" "skipped in NEW: .*above the IC_ISA cap avx2" "and why"
  # compare.py (SciPy) agrees on the direction of every change.
  if /usr/bin/python3 -c 'import scipy' 2>/dev/null && [ -f /usr/share/benchmark/compare.py ]; then
    /usr/bin/python3 /usr/share/benchmark/compare.py -d cp.json benchmarks a.json b.json >/dev/null 2>&1
    "$bin" compare a.json b.json --format json >ours.json
    python3 - cp.json ours.json <<'PY' && ok || bad "compare.py and infercost compare disagree"
import json, sys
rows = json.load(open(sys.argv[1]))
theirs = {b["name"]: b for b in rows if b.get("run_type") != "aggregate"}
medians = {b["name"][: -len("_median")]: b for b in rows if b.get("aggregate_name") == "median"}
ours = json.load(open(sys.argv[2]))["figures"]
assert ours, "no figures"
for f in ours:
    # compare.py's _median row is the change of the medians, as ours is: same sign, same size.
    tc = medians[f["figure"]]["measurements"][0]["time"]
    assert (tc > 0) == (f["change"] > 0) and abs(tc - f["change"]) < 1e-6, (f, tc)
    u = theirs[f["figure"]].get("utest") or {}
    if u.get("time_pvalue") is not None:
        assert abs(u["time_pvalue"] - f["p"]) < 1e-9, (u, f["p"])
PY
  else
    echo "history_cli_test: compare.py agreement skipped: SciPy or compare.py missing"
  fi
else
  echo "history_cli_test: real-run checks skipped: this CPU has no AVX-512 VNNI"
fi

echo "history_cli_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
