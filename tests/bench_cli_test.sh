#!/usr/bin/env bash
# infercost bench: options, exit codes, and the JSON it prints (valid Google Benchmark JSON with our
# context and counters, names that --benchmark_filter selects, counters consistent with the shape).
# Usage: bench_cli_test.sh path/to/infercost
set -u
bin=${1:?usage: bench_cli_test.sh path/to/infercost}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
expect() {
  local want=$1 what=$2; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want; stderr: $(head -c 600 "$tmp/err")"; fi
}
hasnt() { if grep -qE -- "$2" "$1"; then bad "$3: unexpected /$2/ in $(basename "$1")"; else ok; fi; }
has() { if grep -qE -- "$2" "$1"; then ok; else bad "$3: no /$2/ in $(basename "$1"): $(head -c 600 "$1")"; fi; }
tiny=--benchmark_min_time=0.002

if ! "$bin" --help | grep -q "^  bench "; then
  bad "--help does not list bench"
fi
expect 0 "bench --help" -- "$bin" bench --help
has "$tmp/out" "usage: infercost bench" "bench --help prints usage"
# Built without libbenchmark, bench must say so and exit 1; nothing else applies.
expect 0 "list" -- "$bin" list
if grep -qE "^  benchmark +unavailable" "$tmp/out"; then
  expect 1 "bench without libbenchmark" -- "$bin" bench
  has "$tmp/err" "unavailable: built without libbenchmark" "bench names the missing library"
  echo "bench_cli_test: $pass passed, $fail failed (libbenchmark missing: only that path tested)"
  [ "$fail" -eq 0 ]; exit
fi

expect 2 "unknown option" -- "$bin" bench --frob
has "$tmp/err" "infercost bench: unknown option '--frob'" "unknown option named"
has "$tmp/err" "usage: infercost bench" "usage shown"
expect 2 "--threads 0" -- "$bin" bench --threads 0
has "$tmp/err" "--threads '0'" "--threads 0 named"
expect 2 "--threads abc" -- "$bin" bench --threads abc
expect 2 "--bind socket" -- "$bin" bench --bind socket
has "$tmp/err" "--bind 'socket': expected none, core or numa" "bad --bind named"
expect 2 "stray argument" -- "$bin" bench gemv
has "$tmp/err" "unexpected argument 'gemv'" "stray argument named"
expect 2 "bad format" -- "$bin" bench --benchmark_format=xml
has "$tmp/err" "expected console, json or csv in --benchmark_format=xml" "bad format named"
expect 2 "unknown benchmark flag" -- "$bin" bench --benchmark_frobnicate=1
has "$tmp/err" "benchmark_frobnicate" "unknown benchmark flag named"
expect 2 "filter matching nothing" -- "$bin" bench --benchmark_filter=no-such-benchmark
has "$tmp/err" "no benchmark matched" "empty filter explained"
IC_ISA=bogus expect 2 "IC_ISA=bogus" -- env IC_ISA=bogus "$bin" bench --benchmark_list_tests

# The names: every op family, regular, filterable.
expect 0 "list tests" -- "$bin" bench --benchmark_list_tests
cp "$tmp/out" "$tmp/names"
for pat in '^gemv/q8_0/ref/m:4096/k:14336/threads:[0-9]+$' '^gemv/f32/ref/m:128256/k:4096/threads:[0-9]+$' \
           '^gemm/q4_0/ref/m:4096/k:4096/n:512/threads:[0-9]+$' '^blas/sgemv/m:14336/k:4096/threads:[0-9]+$' \
           '^blas/sgemm/m:4096/k:4096/n:8/threads:[0-9]+$' '^attention/f16/ref/ctx:32768/heads:32/kv_heads:8/head_dim:128/threads:[0-9]+$' '^attention/q8_0/ref/ctx:4096/heads:32/kv_heads:8/head_dim:128/threads:[0-9]+$' \
           '^rmsnorm/ref/n:4096/threads:1$' '^quantize/q8_0/ref/n:4096/threads:1$' '^probe/read_bw/read_[a-z0-9]+/threads:[0-9]+$' \
           '^probe/peak_f32/fma_f32_ref/threads:[0-9]+$' '^probe/stream_triad/c/threads:[0-9]+$'; do
  has "$tmp/names" "$pat" "benchmark list"
done
# A prompt's attention, its entry and the decode entry a row beside it, for the x86 variants that
# have one; run once each and checked against each other's flop count (the same work).
if [ "$(uname -m)" = x86_64 ]; then
  for pat in '^attention_prompt/f16/avx512/rows:512/heads:32/kv_heads:8/head_dim:128/threads:1$' \
             '^attention_prompt/f16/avx512/per_row/rows:512/heads:32/kv_heads:8/head_dim:128/threads:1$'; do
    has "$tmp/names" "$pat" "benchmark list"
  done
  expect 0 "prompt attention json" -- "$bin" bench "--benchmark_filter=attention_prompt/q8_0/avx512/.*rows:512/" --benchmark_format=json $tiny
  if python3 - "$tmp/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
b = {x["name"]: x for x in d["benchmarks"]}
names = sorted(b)
assert len(names) == 2, names
runs = [x for x in b.values() if "error_message" not in x]
if len(runs) == 2:
    for x in runs:
        assert x["tokens_per_second"] > 0 and x["flop_per_second"] > 0, x
        # 4 * heads * head_dim * n (n + 1) / 2 flops an iteration
        want = 4 * 32 * 128 * 512 * 513 / 2
        got = x["flop_per_second"] / x["tokens_per_second"] * 512
        assert abs(got - want) < 1e-6 * want, (got, want)
else:
    assert len(runs) == 0 and all("skipped" in x["error_message"] for x in b.values()), b
PY
  then ok; else bad "prompt attention json"; fi
fi
if grep -vqE '^[a-z0-9_]+/[a-z0-9_/:]+$' "$tmp/names"; then bad "irregular names: $(grep -vE '^[a-z0-9_]+/[a-z0-9_/:]+$' "$tmp/names" | head -3)"; else ok; fi

# A GEMV shape of every variant as JSON: the context and counters, parsed and checked.
expect 0 "gemv json" -- "$bin" bench --threads 2 "--benchmark_filter=gemv/.*/m:4096/k:14336" --benchmark_format=json $tiny
cp "$tmp/out" "$tmp/gemv.json"
if python3 - "$tmp/gemv.json" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
ctx = d["context"]
for key in ["cpu_features", "isa_cap", "threads", "thread_binding", "thread_binding_detail", "topology",
            "instance_type", "lib_benchmark", "lib_hwloc", "lib_openblas", "lib_papi",
            "infercost_git_commit", "infercost_version", "provenance", "hardware_counters"]:
    assert key in ctx, "context lacks " + key
assert ctx["threads"] == "2", ctx["threads"]
assert ctx["lib_benchmark"] == "1.7.1" or re.match(r"^\d+\.\d+", ctx["lib_benchmark"]), ctx["lib_benchmark"]
names = [b["name"] for b in d["benchmarks"]]
assert "gemv/q8_0/ref/m:4096/k:14336/threads:2" in names, names
wbytes = {"f32": 4.0, "bf16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
abytes = {"f32": 4.0, "bf16": 4.0, "q8_0": 34 / 32, "q4_0": 34 / 32}
m, k = 4096, 14336
for b in d["benchmarks"]:
    mt = re.match(r"^gemv/(f32|bf16|q8_0|q4_0)/(p16_)?([a-z0-9]+)/m:4096/k:14336/threads:2$", b["name"])
    assert mt, "irregular name " + b["name"]
    if b.get("error_occurred"):
        assert b["error_message"].startswith("skipped: "), b["error_message"]
        continue
    for c in ["bytes_per_second", "flop_per_second", "tokens_per_second"]:
        assert b[c] > 0, (b["name"], c)
    flop = b["flop_per_second"] / b["tokens_per_second"]
    assert abs(flop / (2 * m * k) - 1) < 1e-6, (b["name"], flop)
    t = mt.group(1)
    # the AVX-512 BF16 variants read bf16 activations (their atype is bf16, not f32); the panel
    # (p16_) q8_0/q4_0 variants read q8_0s (40-byte blocks). At m = 4096 and k = 14336 the panels
    # have no padding, so the weight bytes are the row-major ones.
    if t == "bf16" and mt.group(3) == "avx512bf16":
        ab = 2.0
    elif mt.group(2) and t in ("q8_0", "q4_0"):
        ab = 40 / 32
    else:
        ab = abytes[t]
    want = m * k * wbytes[t] + k * ab + 4 * m
    got = b["bytes_per_second"] / b["tokens_per_second"]
    assert abs(got / want - 1) < 1e-6, (b["name"], got, want)
    assert b["iterations"] >= 1 and b["real_time"] > 0
print("json ok:", len(names), "benchmarks")
PY
then ok; else bad "gemv JSON did not parse or check"; fi

# --benchmark_out is written whole, and a failing run leaves an existing file alone.
echo keep >"$tmp/keep.json"
expect 2 "bad flag with out" -- "$bin" bench "--benchmark_out=$tmp/keep.json" --benchmark_format=xml
if [ "$(cat "$tmp/keep.json")" = keep ]; then ok; else bad "failed run clobbered --benchmark_out"; fi
expect 0 "out file" -- "$bin" bench "--benchmark_out=$tmp/keep.json" --benchmark_filter=rmsnorm $tiny
if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['benchmarks'][0]['name'].startswith('rmsnorm/')" "$tmp/keep.json"; then ok; else bad "out file not valid JSON"; fi
if ls "$tmp"/keep.json.tmp.* >/dev/null 2>&1; then bad "temporary out file left"; else ok; fi
# An output in a missing directory is bad input, refused before anything runs (as run's --json).
expect 2 "unwritable out" -- "$bin" bench --benchmark_out=/nonexistent-dir/x.json --benchmark_filter=rmsnorm $tiny
has "$tmp/err" "/nonexistent-dir/x.json: the directory /nonexistent-dir does not exist" "unwritable out named"

# CSV and console formats pass through to the library's reporters.
expect 0 "csv" -- "$bin" bench --benchmark_filter=swiglu --benchmark_format=csv $tiny
has "$tmp/out" '^name,iterations,real_time' "csv header"
has "$tmp/out" '^"swiglu/ref/n:4096/threads:1"' "csv row"

# Binding: recorded in the context.
expect 0 "bind numa" -- "$bin" bench --bind numa --benchmark_filter=probe/peak_f32/fma_f32_ref --benchmark_format=json $tiny
has "$tmp/out" '"thread_binding": "numa"' "numa binding recorded"
expect 0 "bind none" -- "$bin" bench --bind none --threads 1 --benchmark_filter=probe/peak_f32/fma_f32_ref --benchmark_format=json $tiny
has "$tmp/out" '"thread_binding_detail": "worker 0: unbound"' "no binding recorded"

# Counters: either the machine has them (cycles arrive), or one line says why not.
expect 0 "counters" -- "$bin" bench --counters "--benchmark_filter=gemv/f32/ref/m:4096/k:4096" --benchmark_format=json $tiny
n=$(grep -c "hardware counters unavailable: " "$tmp/err")
if [ "$n" -eq 1 ]; then
  ok
  has "$tmp/out" '"hardware_counters": "unavailable: ' "context says counters are unavailable"
elif [ "$n" -eq 0 ] && grep -q '"cycles"' "$tmp/out" && grep -q '"ipc"' "$tmp/out"; then
  ok
else
  bad "counters: $n 'unavailable' lines and no cycles counter"
fi

# A value-taking option without its value is named as such, not as unknown.
expect 2 "missing value" -- "$bin" bench --threads
has "$tmp/err" "option '--threads' needs a value" "missing value named"

# IC_ISA caps the kernels, not the probes: the ceilings stay the machine's.
expect 0 "isa cap leaves probes" -- env IC_ISA=ref "$bin" bench --benchmark_filter=probe/peak_f32 --benchmark_format=json $tiny
hasnt "$tmp/out" '"error_message": "skipped: probe' "probes not capped"
has "$tmp/out" '"name": "probe/peak_f32/fma_f32_ref/' "ref probe runs too"

# A variant that cannot run here is skipped with the reason `infercost list` gives: under
# IC_ISA=ref, every figure of FILTER whose variant (field ISA_FIELD of the name) is not ref says
# "skipped: KERNEL_<variant>: above the IC_ISA cap ref", and the ref one runs.
skips_under_ref() { # LABEL FILTER KERNEL ISA_FIELD
  expect 0 "isa cap skips $1" -- env IC_ISA=ref "$bin" bench "--benchmark_filter=$2" --benchmark_format=json $tiny
  python3 - "$tmp/out" "$3" "$4" <<'PY' && ok || bad "$1 skip messages under IC_ISA=ref"
import json, re, sys
d = json.load(open(sys.argv[1]))
kernel, field = sys.argv[2], int(sys.argv[3])
skipped = 0
for b in d["benchmarks"]:
    isa = b["name"].split("/")[field]
    if isa == "ref":
        assert not b.get("error_occurred"), b
    else:
        want = r"^skipped: %s_%s: above the IC_ISA cap ref(; missing .*)?$" % (kernel, isa)
        assert re.match(want, b["error_message"]), b["error_message"]
        skipped += 1
assert skipped, "no variant above ref was skipped"
PY
}
skips_under_ref rmsnorm "^rmsnorm/" rmsnorm 1
# The first figures collected (GEMV) too: items collected after them grow the item array past
# its first allocation, which once left their reasons pointing into freed memory ("skipped:q").
skips_under_ref "GEMV q8_0" "^gemv/q8_0/[a-z0-9_]+/m:4096/k:4096/" gemv_q8_0 2

echo "bench_cli_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
