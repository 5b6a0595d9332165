#!/usr/bin/env bash
# CLI tests of `infercost run`: output, exit codes, bad flags, bad model files, memory planning.
# Usage: run_cli_test.sh path/to/infercost. Runs use tiny shapes and --quick to stay fast.
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_lib.sh"  # ok, bad, expect, has, hasnt
bin=${1:?usage: run_cli_test.sh path/to/infercost}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT


tiny="$tmp/tiny.json"
cat >"$tiny" <<'J'
{"name": "tiny", "n_layer": 2, "d_model": 128, "n_head": 4, "n_head_kv": 2, "d_ff": 256,
 "n_vocab": 500, "rope_theta": 10000}
J
fast=(--quick --model "$tiny" --threads 1 --context 8,32 --prefill 8 --repetitions 2)

# Usage errors: exit 2, one line naming the problem, the usage.
expect 0 "run --help" -- "$bin" run --help
has "$tmp/out" "^usage: infercost run" "run --help"
expect 2 "unknown option" -- "$bin" run --frob
has "$tmp/err" "infercost run: unknown option '--frob'" "unknown option named"
has "$tmp/err" "usage: infercost run" "usage shown"
expect 2 "missing value" -- "$bin" run --model
has "$tmp/err" "option '--model' needs a value" "missing value named"
expect 2 "bad dtype" -- "$bin" run --dtype q5_1
has "$tmp/err" "--dtype 'q5_1': expected f32, bf16, q8_0 or q4_0" "bad dtype named"
expect 2 "bad threads" -- "$bin" run --threads 0
has "$tmp/err" "--threads '0'" "bad threads named"
expect 2 "bad context" -- "$bin" run --context 128,abc
has "$tmp/err" "--context '128,abc'" "bad context named"
expect 2 "bad batch" -- "$bin" run --batch 0
has "$tmp/err" "--batch '0'" "bad batch named"
expect 2 "bad price" -- "$bin" run --usd-per-hour -3
has "$tmp/err" "--usd-per-hour '-3'" "bad price named"
expect 2 "stray argument" -- "$bin" run extra
has "$tmp/err" "unexpected argument 'extra'" "stray argument named"
expect 2 "bad kv dtype" -- "$bin" run --kv-dtype q4_0
has "$tmp/err" "--kv-dtype 'q4_0': expected a KV-cache type: f16, bf16, f32 or q8_0" "bad kv dtype named"
expect 2 "f16 weights" -- "$bin" run --dtype f16
has "$tmp/err" "--dtype 'f16': f16 is a KV-cache type \(--kv-dtype\), not a weight type" "f16 as weights refused"
# a q8_0 cache holds each head in blocks of 32: head_dim 16 (64 / 4) is refused before anything runs
echo '{"name": "hd16", "n_layer": 1, "d_model": 64, "n_head": 4, "d_ff": 128, "n_vocab": 50, "rope_theta": 1e4}' >"$tmp/hd16.json"
expect 2 "q8_0 cache, head_dim 16" -- "$bin" run --quick --model "$tmp/hd16.json" --kv-dtype q8_0
has "$tmp/err" "--kv-dtype q8_0 with --model .*hd16.json: a q8_0 KV cache stores each head in blocks of 32 values; head_dim 16 is not a multiple" "q8_0 with head_dim 16 refused"
expect 2 "bad bind" -- "$bin" run --bind everywhere
has "$tmp/err" "--bind 'everywhere'" "bad bind named"
expect 2 "--blas needs f32" -- "$bin" run --model "$tiny" --blas
has "$tmp/err" "--blas runs the f32 prefill" "--blas without f32"
expect 2 "layers beyond the model" -- "$bin" run "${fast[@]}" --layers 3
has "$tmp/err" "--layers 3: tiny has only 2 layers" "--layers too many"
expect 2 "bad benchmark flag" -- "$bin" run "${fast[@]}" --benchmark_bogus=1
has "$tmp/err" "benchmark_bogus" "bad benchmark flag named"

# Bad model files: exit 2 with the file and what is wrong.
expect 2 "unknown preset" -- "$bin" run --model llama-9b
has "$tmp/err" "unknown model 'llama-9b'.*llama-3.2-1b" "unknown preset lists presets"
expect 2 "missing json" -- "$bin" run --model "$tmp/none.json"
has "$tmp/err" "none.json" "missing file named"
echo '{"n_layer": 2, "d_model": 64,' >"$tmp/trunc.json"
expect 2 "malformed json" -- "$bin" run --model "$tmp/trunc.json"
has "$tmp/err" "trunc.json:" "malformed json named"
echo '{"n_layer": 2, "d_model": 64, "n_head": 4, "d_ff": 64, "n_vocab": 10, "rope_theta": 1e4, "hidden": 1}' >"$tmp/extra.json"
expect 2 "unknown field" -- "$bin" run --model "$tmp/extra.json"
has "$tmp/err" "unknown field 'hidden'" "unknown json field named"
printf 'GGML\003\000\000\000' >"$tmp/bad.gguf"
expect 2 "wrong gguf magic" -- "$bin" run --model "$tmp/bad.gguf"
has "$tmp/err" "not a GGUF file" "bad gguf"
head -c 10 /dev/urandom >"$tmp/short.gguf"
expect 2 "truncated gguf" -- "$bin" run --model "$tmp/short.gguf"
has "$tmp/err" "short.gguf" "truncated gguf named"

# A shape whose weight bytes wrap past 2^64 (every field in range): refused with the fields named,
# exit 2, before anything is sized or mapped (it used to map 4.7 MB and write past it).
cat >"$tmp/wrap.json" <<'J'
{"n_layer":1142,"d_model":524289,"n_head":4,"n_head_kv":1,"head_dim":2,"d_ff":3541307,"n_vocab":1,
 "rope_theta":10000,"n_expert":725,"n_expert_used":1,"tied_embeddings":true}
J
expect 2 "wrapping shape" -- "$bin" run --model "$tmp/wrap.json" --dtype f32 --threads 1
has "$tmp/err" "weights of .* exceed" "wrapping shape refused"
has "$tmp/err" "n_layer.*d_model.*n_expert.*d_ff.*n_vocab" "wrapping shape names the fields"

# A shape where not even one layer fits: refused before allocating, exit 2.
cat >"$tmp/huge.json" <<'J'
{"name": "huge", "n_layer": 4, "d_model": 1048576, "n_head": 4096, "d_ff": 4194304,
 "n_vocab": 1000, "rope_theta": 10000}
J
expect 2 "one layer does not fit" -- "$bin" run --model "$tmp/huge.json" --quick
has "$tmp/err" "does not fit even one layer: one layer needs [0-9.]+ GiB" "planner refuses"

# A good run: the table, labels, a result file; no progress noise when stderr is not a terminal.
echo '{"previous": true}' >"$tmp/r.json"
expect 2 "failed run keeps the old result" -- "$bin" run "${fast[@]}" --json "$tmp/r.json" --dtype nope
has "$tmp/r.json" "previous" "old result intact"
expect 0 "run tiny" -- "$bin" run "${fast[@]}" --batch 1,3 --usd-per-hour 2.5 --json "$tmp/r.json"
cp "$tmp/out" "$tmp/run.txt"
has "$tmp/run.txt" "^model +dtype +thr +phase" "table header"
has "$tmp/run.txt" "^tiny +q8_0 +1 +prefill +0 +8 +[0-9.]+ " "prefill row"
has "$tmp/run.txt" "^tiny +q8_0 +1 +decode +8 +1 +[0-9.]+ " "decode row ctx 8"
has "$tmp/run.txt" "^tiny +q8_0 +1 +decode +32 +1 " "decode row ctx 32"
has "$tmp/run.txt" "^tiny +q8_0 +1 +batch decode +8 +3 " "batch row"
has "$tmp/run.txt" "measured on this host \(Google Benchmark, median of 2 repetitions" "provenance line"
has "$tmp/run.txt" "price given on the command line, \\\$2.5000/h" "price labelled"
has "$tmp/run.txt" "^decode op share at ctx 8 \(measured" "op share"
has "$tmp/run.txt" "^prefill op share, 8 tokens \(measured, whole prompt\):.* gate_up_matmul [0-9.]+%" "prefill op share"
if grep -A1 "^prefill op share" "$tmp/run.txt" | grep -q "clock reads"; then
  bad "a prefill op share carries the decode step's clock-read line"
else ok; fi
has "$tmp/run.txt" "^read bandwidth: ([0-9.]+ GB/s \(measured|unavailable: )" "read bandwidth labelled"
has "$tmp/run.txt" "^KV cache: f16 \(--kv-dtype\), 2 bytes a value; every figure below ran with it" "default KV cache f16 stated"
has "$tmp/run.txt" "^GB/tok: .*KV cache at ctx, in its type \(f16\)" "GB/tok counts the f16 cache"
has "$tmp/run.txt" "^kernels: .*attention_f16_" "an f16 attention variant ran"
has "$tmp/run.txt" "^note: no read passes beside the repetitions: [0-9]+ MiB of weights could sit in the" "tiny weights: no paired passes, said why"
if [ -s "$tmp/err" ]; then bad "stderr should be quiet off a terminal: $(head -c 300 "$tmp/err")"; else ok; fi
python3 - "$tmp/r.json" <<'PY' && ok || bad "result file content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "infercost-result" and d["schema_version"] == 2
assert d["model"]["name"] == "tiny" and d["model"]["n_layer_run"] == 2
assert d["model"]["kv_dtype"] == "f16", d["model"]
assert d["env"]["threads"] == 1 and d["env"]["cpu"]["vendor"]
kinds = [(m["kind"], m["context"], m["batch"]) for m in d["measurements"]]
assert ("prefill", 0, 8) in kinds and ("decode", 8, 1) in kinds and ("batch_decode", 8, 3) in kinds, kinds
for m in d["measurements"]:
    assert m["provenance"] == "measured" and m["extrapolated_from_layers"] is None
    assert m["tok_per_s"] > 0 and m["ms_per_token"] > 0 and len(m["samples_ms"]) == 2, m
    assert abs(m["usd_per_mtok"] - 2.5 / (m["tok_per_s"] * 3600) * 1e6) < 1e-6 * m["usd_per_mtok"]
    if m["kind"] in ("decode", "prefill"):
        assert abs(sum(m["op_share"].values()) - 1) < 1e-6, m["op_share"]
assert d["pricing"]["usd_per_hour"] == 2.5 and "command line" in d["pricing"]["source"]
PY

# --kv-dtype: each type runs, is stated and recorded, and its GB/tok follows the type: at ctx 32
# the tiny shape's cache (2 layers, 2 KV heads of 32) adds 2 x 2 x 33 x 64 values a token, f32
# 4 bytes each, f16 and bf16 2, q8_0 34 per 32.
for kv in f32 bf16 q8_0; do
  expect 0 "run --kv-dtype $kv" -- "$bin" run "${fast[@]}" --prefill 0 --kv-dtype $kv --json "$tmp/kv-$kv.json"
  has "$tmp/out" "^KV cache: $kv \(--kv-dtype\)" "KV cache $kv stated"
  has "$tmp/out" "^kernels: .*attention_${kv}_" "attention over a $kv cache ran"
done
python3 - "$tmp" <<'PY' && ok || bad "KV type recorded and counted in GB/tok"
import json, sys
t = sys.argv[1]
def dec32(kv):
    d = json.load(open("%s/kv-%s.json" % (t, kv)))
    assert d["model"]["kv_dtype"] == kv, d["model"]
    return next(m for m in d["measurements"] if m["kind"] == "decode" and m["context"] == 32)["bytes_per_token"]
f32, bf16, q8 = dec32("f32"), dec32("bf16"), dec32("q8_0")
vals = 2 * 2 * 33 * 64
assert abs((f32 - bf16) - vals * 2) < 1e-6 and abs((f32 - q8) - vals * (4 - 34 / 32)) < 1e-6, (f32, bf16, q8)
PY

# --benchmark_* flags pass through: Google Benchmark's own JSON, with the run's context.
expect 0 "benchmark_out" -- "$bin" run "${fast[@]}" --context 8 --prefill 0 --benchmark_out="$tmp/gb.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["context"]["infercost_model"].startswith("tiny"); assert any(b["name"].startswith("decode/ctx:8") for b in d["benchmarks"])' "$tmp/gb.json" && ok || bad "benchmark_out JSON"

# Context 0 with no prefill: a KV cache of one position, which the warm-up tokens and the figure
# share.
expect 0 "run at context 0" -- "$bin" run "${fast[@]}" --context 0 --prefill 0
has "$tmp/out" "^tiny +q8_0 +1 +decode +0 +1 " "a decode row at context 0"

# No price: tokens/s only, and how to add one.
expect 0 "run without price" -- "$bin" run "${fast[@]}" --context 8 --prefill 0
has "$tmp/out" "no price: .*add --instance TYPE \(catalog price\) or --usd-per-hour X" "how to add a price"

# A catalog price: --instance names the type; the footer and result file carry source and date,
# and say the throughput is this host's when the host is not that type.
expect 0 "run --instance" -- env IC_SYSFS_ROOT="$tmp/nosys" "$bin" run "${fast[@]}" --context 8 --prefill 0 --instance c7i.large --pricing spot --json "$tmp/p.json"
has "$tmp/out" "^tiny +q8_0 +1 +decode +8 +1 .* measured on a non-EC2 host, priced as c7i.large\$" "each row says where it was measured and what it is priced as"
has "$tmp/out" "^\\\$/Mtok: c7i.large spot us-east-1 at \\\$[0-9.]+/h \(catalog: .*, 20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]\); [0-9]+% off on-demand" "catalog price with source and date"
has "$tmp/out" "measured on this host \(not EC2: .*\), priced as c7i.large: the \\\$/Mtok is what this throughput would cost" "priced type is not this host"
python3 - "$tmp/p.json" <<'PY' && ok || bad "catalog pricing in the result file"
import json, sys
d = json.load(open(sys.argv[1]))
p = d["pricing"]
assert p["instance_type"] == "c7i.large" and p["pricing"] == "spot" and p["region"] == "us-east-1", p
assert p["usd_per_hour"] < 0.0893 and p["date"] and p["source"], p
# --instance is what it was priced as, never where it was measured: this host is not EC2.
assert d["env"]["instance_type"] is None and d["env"]["instance_source"] is None, d["env"]
assert d["env"]["machine_id"].startswith("fnv1a64:"), d["env"]
m = [m for m in d["measurements"] if m["kind"] == "decode"][0]
assert abs(m["usd_per_mtok"] - p["usd_per_hour"] / (m["tok_per_s"] * 3600) * 1e6) < 1e-6 * m["usd_per_mtok"]
PY
expect 2 "unknown instance" -- "$bin" run "${fast[@]}" --context 8 --prefill 0 --instance zz9.huge
has "$tmp/err" "--instance zz9.huge: .*zz9.huge" "unknown instance named"
expect 2 "malformed instance" -- "$bin" run "${fast[@]}" --instance 'c7i large'
has "$tmp/err" "--instance 'c7i large': not an instance type" "malformed instance named"
expect 2 "bad pricing" -- "$bin" run "${fast[@]}" --pricing cheap
has "$tmp/err" "--pricing 'cheap'" "bad pricing named"

# The provenance chain: a run priced as c7i.large on a non-EC2 host stays "measured on a non-EC2
# host, priced as c7i.large" through cost, and compare-chips never ranks it as c7i.large's chip.
expect 0 "cost of a run priced as another type" -- env IC_SYSFS_ROOT="$tmp/nosys" "$bin" cost "$tmp/p.json"
has "$tmp/out" "decode \(ctx 8\) .* measured on a non-EC2 host, priced as c7i.large " "cost keeps the priced-as label"
hasnt "$tmp/out" "decode \(ctx 8\) .* measured +[0-9.]+ " "cost does not call it measured on c7i.large"
expect 0 "cost of the run as c7a.large" -- env IC_SYSFS_ROOT="$tmp/nosys" "$bin" cost "$tmp/p.json" --instance c7a.large
has "$tmp/out" "decode \(ctx 8\) .* measured on a non-EC2 host, priced as c7a.large " "--instance labels the rows priced-as"
cp "$tmp/p.json" "$tmp/p2.json"
expect 2 "compare-chips of off-EC2 runs" -- "$bin" compare-chips "$tmp/p.json" "$tmp/p2.json" --model tiny --dtype q8_0
has "$tmp/err" "p.json: skipped: measured off EC2" "off-EC2 result not ranked as its priced type"
has "$tmp/err" "nothing to rank" "nothing ranked"
# The same file read where another machine id is: imported, not measured.
echo "another-machine" >"$tmp/other-id"
expect 0 "cost on another machine" -- env IC_MACHINE_ID_FILE="$tmp/other-id" "$bin" cost "$tmp/p.json" --usd-per-hour 1
has "$tmp/out" "decode \(ctx 8\) .* imported " "another machine id: imported"
has "$tmp/out" "another machine" "says another machine"

# Output checked before anything is measured: a missing directory fails at once.
start=$(date +%s)
expect 2 "json into a missing directory" -- "$bin" run "${fast[@]}" --json "$tmp/no/such/dir/x.json"
has "$tmp/err" "--json .*x.json: the directory .*no/such/dir does not exist" "missing directory named"
[ $(( $(date +%s) - start )) -le 3 ] && ok || bad "the missing directory was found only after measuring"
expect 2 "json onto a directory" -- "$bin" run "${fast[@]}" --json "$tmp"
has "$tmp/err" "is a directory" "directory refused"

# A run that measured nothing leaves an earlier result file as it was.
cp "$tmp/r.json" "$tmp/keep.json"
expect 1 "nothing measured" -- "$bin" run "${fast[@]}" --benchmark_filter=nomatch --json "$tmp/keep.json"
has "$tmp/err" "nothing was measured" "nothing measured said"
cmp -s "$tmp/r.json" "$tmp/keep.json" && ok || bad "a run that measured nothing replaced the result file"

# --format: each form parsed by a reader of that format.
expect 0 "format json" -- "$bin" run "${fast[@]}" --context 8 --prefill 4 --format json
python3 -m json.tool "$tmp/out" >/dev/null && ok || bad "--format json is not JSON"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["schema"]=="infercost-result" and len(d["measurements"])==2' "$tmp/out" && ok || bad "--format json is the result record"
expect 0 "format csv" -- "$bin" run "${fast[@]}" --context 8 --prefill 4 --format csv
python3 - "$tmp/out" <<'PY' && ok || bad "--format csv"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0][:7] == ["model", "dtype", "thr", "phase", "ctx", "n", "tok/s"], rows[0]
assert "TTFT ms" in rows[0] and "GB/tok" in rows[0] and "how" in rows[0], rows[0]
assert len(rows) == 3 and all(len(r) == len(rows[0]) for r in rows), rows
pf = dict(zip(rows[0], rows[1]))
assert pf["phase"] == "prefill" and float(pf["TTFT ms"]) > 0 and float(pf["tok/s"]) > 0, pf
assert "-" in pf["range"], pf
PY
expect 0 "format md" -- "$bin" run "${fast[@]}" --context 8 --prefill 4 --format md
has "$tmp/out" "^\| model \| dtype \| thr \| phase \| ctx \| n \| tok/s \| range \|" "markdown header row"
has "$tmp/out" "^\| --- \| --- \|" "markdown separator row"
expect 2 "bad format" -- "$bin" run --format xml
has "$tmp/err" "--format 'xml': expected table, md, csv or json" "bad format named"
# The table: the prefill row's TTFT and bytes per token differ from decode's.
python3 - "$tmp/run.txt" <<'PY' && ok || bad "per-row GB/tok and TTFT"
import sys, re
lines = open(sys.argv[1]).read().splitlines()
head = next(l for l in lines if l.startswith("model "))
cols = re.split(r"  +", head.strip())
assert cols[:7] == ["model", "dtype", "thr", "phase", "ctx", "n", "tok/s"], cols
pf = next(l for l in lines if re.match(r"tiny +q8_0 +1 +prefill ", l)).split()
dc = next(l for l in lines if re.match(r"tiny +q8_0 +1 +decode +8 ", l)).split()
# prefill: model dtype thr phase ctx n tok/s range ms/tok TTFT GB/tok ...
assert float(pf[9]) > 0 and dc[9] == "-", (pf, dc)
assert float(pf[10]) < float(dc[10]), (pf, dc)   # the weights are shared by the prompt's tokens
PY

# Sweeps: a prefill per prompt, batch decode on a batch x context grid, per-step latency
# percentiles for every decode figure.
expect 0 "sweeps" -- "$bin" run "${fast[@]}" --prompt 4,12 --batch 2,3 --json "$tmp/sweep.json"
has "$tmp/out" "^tiny +q8_0 +1 +prefill +0 +4 " "prompt 4"
has "$tmp/out" "^tiny +q8_0 +1 +prefill +0 +12 " "prompt 12"
has "$tmp/out" "^tiny +q8_0 +1 +batch decode +32 +3 " "the grid reaches the second context"
has "$tmp/out" "^tiny +q8_0 +1 +decode +8 +1 .* [0-9.]+/[0-9.]+ +measured" "p50/p99 in the table"
python3 - "$tmp/sweep.json" <<'PY' && ok || bad "sweep result"
import json, sys
d = json.load(open(sys.argv[1]))
ms = d["measurements"]
assert sorted(m["batch"] for m in ms if m["kind"] == "prefill") == [4, 12]
grid = sorted((m["context"], m["batch"]) for m in ms if m["kind"] == "batch_decode")
assert grid == [(8, 2), (8, 3), (32, 2), (32, 3)], grid
for m in ms:
    if m["kind"] == "prefill":
        assert "latency_ms" not in m
        continue
    l = m["latency_ms"]
    assert 0 < l["p50"] <= l["p90"] <= l["p99"] and l["steps"] >= 1, l
PY
expect 0 "threads sweep" -- "$bin" run --quick --model "$tiny" --threads 1,2 --context 8 --prefill 4 --repetitions 2 --json "$tmp/thr.json"
has "$tmp/out" "^tiny +q8_0 +2 +decode +8 +1 " "a pass at 2 threads"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t=sorted((m["kind"], m["threads"]) for m in d["measurements"]); assert t==[("decode",1),("decode",2),("prefill",1),("prefill",2)], t' "$tmp/thr.json" && ok || bad "one record with every thread count"
expect 2 "bad prompt list" -- "$bin" run --prompt 4,0
has "$tmp/err" "--prompt '4,0'" "bad prompt named"

# A slice: every figure says it is extrapolated.
expect 0 "run a slice" -- "$bin" run "${fast[@]}" --layers 1 --json "$tmp/s.json"
has "$tmp/out" "extrapolated from 1 of 2 layers" "slice labelled"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert all(m["extrapolated_from_layers"]==1 and m["provenance"]=="extrapolated" for m in d["measurements"]); assert d["model"]["n_layer_run"]==1' "$tmp/s.json" && ok || bad "slice result"

# The f32 path with its prefill GEMMs through OpenBLAS, side by side.
expect 0 "run --blas" -- "$bin" run "${fast[@]}" --dtype f32 --blas --context 8
has "$tmp/out" "prefill-sgemm|unavailable" "blas row"

# A GGUF header gives the shape and weight type.
python3 - "$tmp/m.gguf" <<'PY'
import struct, sys
def s(x): b = x.encode(); return struct.pack("<Q", len(b)) + b
kv = [("general.architecture", 8, s("llama")), ("llama.block_count", 4, struct.pack("<I", 2)),
      ("llama.embedding_length", 4, struct.pack("<I", 128)),
      ("llama.attention.head_count", 4, struct.pack("<I", 4)),
      ("llama.attention.head_count_kv", 4, struct.pack("<I", 2)),
      ("llama.feed_forward_length", 4, struct.pack("<I", 256)),
      ("llama.rope.freq_base", 6, struct.pack("<f", 500000.0))]
out = b"GGUF" + struct.pack("<IQQ", 3, 3, len(kv))
for k, t, v in kv: out += s(k) + struct.pack("<I", t) + v
for name, d0, d1 in [("token_embd.weight", 128, 300), ("blk.0.attn_q.weight", 128, 128),
                     ("blk.0.ffn_down.weight", 256, 128)]:
    out += s(name) + struct.pack("<IQQIQ", 2, d0, d1, 2, 0)   # ggml type 2 = q4_0
open(sys.argv[1], "wb").write(out)
PY
expect 0 "run a gguf" -- "$bin" run "${fast[@]}" --model "$tmp/m.gguf" --context 8 --prefill 0
has "$tmp/out" "^llama +q4_0 +1 +decode +8 " "gguf shape and type used"
has "$tmp/out" "gguf:.*m.gguf" "gguf source shown"

# Memory planning on a real shape: Llama-3.1-70B at q8_0 (~75 GB) on this machine runs a
# labelled slice (skipped where the machine could hold it all).
mem_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
if [ "${mem_kb:-0}" -lt 60000000 ]; then
  expect 0 "70b slice" -- "$bin" run --model llama-3.1-70b --dtype q8_0 --quick --context 16 --prefill 0 --repetitions 2 --json "$tmp/70b.json"
  has "$tmp/out" "slice: the full model does not fit; ran [0-9]+ of 80 layers" "70b slice explained"
  # Its weights (GBs) are read once before each repetition: the bound is the best read seen.
  has "$tmp/out" "^decode bound: the best read this run saw \\(measured on this host\\)" "paired read passes named"
  has "$tmp/out" "^  decode ctx 16: passes beside the repetitions [0-9.]+ GB/s median \([0-9.]+ to [0-9.]+, 2 passes\), bound from [0-9.]+ GB/s" "paired passes listed"
  python3 - "$tmp/70b.json" <<'PY' && ok || bad "paired roofline in the result file"
import json, sys
d = json.load(open(sys.argv[1]))
probe = d["probes"]["read_bw_gbs"]["value"]
(m,) = [m for m in d["measurements"] if m["kind"] == "decode"]
r = m["roofline"]
assert len(r["paired_read_gbs"]) == 2 and all(g > 0 for g in r["paired_read_gbs"]), r
assert abs(r["read_bw_gbs"] - max([probe] + r["paired_read_gbs"])) < 1e-9, r
assert abs(r["bound_tok_per_s"] - r["read_bw_gbs"] * 1e9 / m["bytes_per_token"]) < 1e-6 * r["bound_tok_per_s"], r
assert abs(r["efficiency"] - m["tok_per_s"] / r["bound_tok_per_s"]) < 1e-9, r
assert "best of the standalone probe" in r["read_bw_source"], r
PY
  has "$tmp/out" "extrapolated from [0-9]+ of 80 layers" "70b figures labelled"
  has "$tmp/out" "^llama-3.1-70b +q8_0 .* decode +16 +1 +[0-9.]+" "70b decode row"
else
  echo "run_cli_test: 70b slice check skipped: ${mem_kb} kB available holds the whole model"
fi

echo "run_cli_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
