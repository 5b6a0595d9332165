#!/usr/bin/env bash
# CLI tests of the economics commands (cost, compare-chips, econ, prices): output and exit codes.
# Usage: econ_cli_test.sh path/to/infercost tests/data
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_lib.sh"  # ok, bad, expect, has, hasnt
bin=${1:?usage: econ_cli_test.sh path/to/infercost DATA_DIR}
data=${2:?usage: econ_cli_test.sh path/to/infercost DATA_DIR}
root=$(cd "$data/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT


# Keep the tests off the real sysfs so they read the same on EC2 and off it.
export IC_SYSFS_ROOT="$tmp/nosys"
unset IC_PLATFORMS_DIR

# ---- help and usage errors ----
for c in cost compare-chips econ prices; do
  expect 0 "$c --help" -- "$bin" "$c" --help
  has "$tmp/out" "^usage: infercost $c" "$c --help"
  expect 2 "$c --frob" -- "$bin" "$c" --frob
  has "$tmp/err" "infercost $c: unknown option '--frob'" "$c names the option"
done
expect 0 "top-level help lists compare-chips" -- "$bin" --help
has "$tmp/out" "^  compare-chips " "compare-chips in the command list"
expect 2 "cost without files" -- "$bin" cost
has "$tmp/err" "no result file given" "cost without files"
expect 2 "cost bad mix" -- "$bin" cost "$data/result-p5.json" --mix 3-1
has "$tmp/err" "--mix '3-1'" "bad mix named"
expect 2 "cost bad pricing" -- "$bin" cost "$data/result-p5.json" --pricing reserved
has "$tmp/err" "--pricing 'reserved'" "bad pricing named"
expect 2 "cost bad tpot" -- "$bin" cost "$data/result-p5.json" --tpot-ms 0
has "$tmp/err" "--tpot-ms '0'" "bad tpot named"
expect 2 "cost bad instance name" -- "$bin" cost "$data/result-p5.json" --instance 'a b'
expect 2 "cost missing catalog" -- "$bin" cost "$data/result-p5.json" --catalog "$tmp/none"
has "$tmp/err" "catalog directory '.*none' does not exist" "missing catalog named"

# ---- cost: the issue's example, $55.04/h at 8 x 1000 tok/s = $1.911/Mtok ----
expect 0 "cost p5" -- "$bin" cost "$data/result-p5.json"
has "$tmp/out" "decode \(ctx 128\) +8000\.00 +1\.9111 .* imported +2026-07-20" "p5 decode 1.911 imported, dated"
has "$tmp/out" "prefill \(512 tok\) +80000\.00 +0\.1911 " "p5 prefill"
# 3:1 blend: (3 x 0.19111 + 1.91111) / 4 = 0.62111
has "$tmp/out" "blended 3:1 .* 0\.6211 " "3:1 blend"
has "$tmp/out" "price +\\\$55\.040000/h; source: karpenter.*; date 2026-07-20" "price line has source and date"
has "$tmp/out" "^this host +not EC2: " "off EC2 said so"
# Every $/Mtok row ends with its price's date.
awk '/^  (prefill|decode|blended|tpot)/ && $0 !~ /unavailable|none/ && $NF !~ /^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/ {bad=1} END {exit bad}' "$tmp/out" && ok || bad "a cost row lacks its price date"
expect 0 "cost mix 1:1" -- "$bin" cost "$data/result-p5.json" --mix 1:1
has "$tmp/out" "blended 1:1 .* 1\.0511 " "1:1 blend is the mean: (0.19111 + 1.91111)/2"
expect 0 "cost spot" -- "$bin" cost "$data/result-p5.json" --pricing spot
has "$tmp/out" "price +\\\$19\.264000/h" "spot = 55.04 x 0.35"
has "$tmp/out" "less 65% \(spot\): assumption.*date 2026-11-26" "spot discount source and date"
has "$tmp/out" "decode .* 0\.6689 " "spot decode \$/Mtok"
expect 0 "cost savings-3y" -- "$bin" cost "$data/result-p5.json" --pricing savings-3y
has "$tmp/out" "decode .* 0\.9556 " "savings-3y decode \$/Mtok"
expect 0 "cost latency target" -- "$bin" cost "$data/result-c7i.json" --tpot-ms 100
has "$tmp/out" "tpot<=100 b8 83ms +96\.00 +0\.2582 " "tpot 100 picks batch 8"
expect 0 "cost latency target none" -- "$bin" cost "$data/result-c7i.json" --tpot-ms 10
has "$tmp/out" "none: no decode configuration meets the target" "tpot 10 none"
expect 0 "cost given price" -- "$bin" cost "$data/result-p5.json" --usd-per-hour 110.08
has "$tmp/out" "decode .* 3\.8222 " "given price doubles the cost"
has "$tmp/out" "source: price given on the command line \(--usd-per-hour\); date 20" "given price dated"

# A result made on this host, off EC2: measured, priced only with --instance. "This host" is the
# machine id and CPU the result records, never the hostname: the fixture takes both from
# cost's own account of this host, with a hostname that is not this one.
"$bin" cost "$data/result-p5.json" --format json >"$tmp/self.json"
mid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["this_host"]["machine_id"])' "$tmp/self.json")
cpu=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["this_host"]["cpu_model"])' "$tmp/self.json")
sed -e "s/@MACHINE_ID@/$mid/" -e "s/@CPU_MODEL@/$cpu/" "$data/result-here.json.in" >"$tmp/here.json"
expect 2 "off-EC2 result without --instance" -- "$bin" cost "$tmp/here.json"
has "$tmp/err" "no price: not measured on an EC2 instance; add --instance TYPE" "asks for --instance"
expect 0 "off-EC2 result with --instance" -- "$bin" cost "$tmp/here.json" --instance c7g.large
has "$tmp/out" "decode \(ctx 128\) +25\.00 .* measured on a non-EC2 host, priced as c7g.large +2026-07-20" "this host's figure, priced as another type, says so"
has "$tmp/out" "^measured +on not EC2: .*; this host" "says this host"
expect 0 "off-EC2 result at a given price" -- "$bin" cost "$tmp/here.json" --usd-per-hour 1
has "$tmp/out" "decode \(ctx 128\) +25\.00 .* measured +20" "this host's figure at a typeless price is measured"
# The same hostname on another machine (another machine id) is not this host: imported.
echo "a-different-machine" >"$tmp/other-id"
expect 0 "same hostname, another machine" -- env IC_MACHINE_ID_FILE="$tmp/other-id" "$bin" cost "$tmp/here.json" --usd-per-hour 1
has "$tmp/out" "decode \(ctx 128\) +25\.00 .* imported +20" "a shared hostname proves nothing"
# A cloned machine id with another CPU is not this host either.
sed -e "s/@MACHINE_ID@/$mid/" -e "s/@CPU_MODEL@/another cpu/" "$data/result-here.json.in" >"$tmp/clone.json"
expect 0 "cloned machine id" -- "$bin" cost "$tmp/clone.json" --usd-per-hour 1
has "$tmp/out" "decode \(ctx 128\) +25\.00 .* imported +20" "same id, other CPU: imported"
expect 2 "unknown instance" -- "$bin" cost "$data/result-p5.json" --instance z9.huge
has "$tmp/err" "unknown instance type 'z9.huge'" "unknown instance named"
expect 2 "zero throughput" -- "$bin" cost "$data/bad-result-zero.json"
has "$tmp/err" "bad-result-zero.json: measurements\[1\]\.tok_per_s: must be a positive number" "zero tok/s named"
expect 2 "wrong type" -- "$bin" cost "$data/bad-result-type.json"
has "$tmp/err" "measurements\[0\]\.tok_per_s" "wrong type named"
expect 2 "not JSON" -- "$bin" cost "$data/../econ_cli_test.sh"
expect 2 "missing file" -- "$bin" cost "$tmp/nope.json"
has "$tmp/err" "nope.json" "missing file named"
expect 2 "a directory as a result" -- "$bin" cost "$tmp"
has "$tmp/err" "not a regular file" "directory refused"

# Instance detection through a fake sysfs tree: the host's type is shown, and a result measured
# elsewhere is never priced as it.
mkdir -p "$tmp/ec2/devices/virtual/dmi/id"
echo "Amazon EC2" >"$tmp/ec2/devices/virtual/dmi/id/sys_vendor"
echo "c7i.large" >"$tmp/ec2/devices/virtual/dmi/id/product_name"
expect 0 "cost on a (fake) EC2 host" -- env IC_SYSFS_ROOT="$tmp/ec2" "$bin" cost "$data/result-p5.json"
has "$tmp/out" "this host +EC2 c7i\.large \(from DMI" "DMI instance type shown"
has "$tmp/out" "^instance +p5\.48xlarge \(measured on it" "priced as the type it was measured on"
expect 2 "an off-EC2 result is not priced as this host's type" -- env IC_SYSFS_ROOT="$tmp/ec2" "$bin" cost "$tmp/here.json"

# --context and --prompt pick the rows; a missing one lists what there is.
expect 0 "cost --context" -- "$bin" cost "$data/result-c7i.json" --context 2048
has "$tmp/out" "decode \(ctx 2048\) " "--context picks the row"
hasnt "$tmp/out" "smallest context" "no default stated when asked"
expect 2 "cost --context missing" -- "$bin" cost "$data/result-c7i.json" --context 7
has "$tmp/err" "--context 7: no batch-1 decode at that context \(contexts in the result: 128" "missing context lists them"
expect 2 "cost --prompt missing" -- "$bin" cost "$data/result-c7i.json" --prompt 3
has "$tmp/err" "--prompt 3: no prefill of that length \(prompts in the result: " "missing prompt lists them"
# cost --format: JSON, CSV and Markdown, each read by a parser of that format.
expect 0 "cost json" -- "$bin" cost "$data/result-p5.json" "$data/result-c7i.json" --format json
python3 -m json.tool "$tmp/out" >/dev/null && ok || bad "cost --format json is not JSON"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["results"]; assert len(r)==2 and r[0]["figures"][1]["figure"]=="decode" and abs(r[0]["figures"][1]["usd_per_mtok"]-1.91111)<1e-4' "$tmp/out" && ok || bad "cost json content"
expect 0 "cost csv" -- "$bin" cost "$data/result-p5.json" --format csv
python3 -c '
import csv,sys
rows=list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0][:4]==["result","figure","tok/s","usd/Mtok"], rows[0]
d=[r for r in rows if r[1].startswith("decode")][0]
assert abs(float(d[3])-1.9111)<1e-4 and d[6]=="imported", d' "$tmp/out" && ok || bad "cost csv"
expect 0 "cost md" -- "$bin" cost "$data/result-p5.json" --format md
has "$tmp/out" "^\| result \| figure \| tok/s \| usd/Mtok \|" "cost markdown header"

# A real result file written by 'infercost run' (model branch, qwen2.5-0.5b q8_0 --quick, ref kernels).
expect 0 "cost of a run's result" -- "$bin" cost "$data/result-run-qwen.json" --instance c7i.large --tpot-ms 1000
has "$tmp/out" "decode \(ctx 128\) +0\.97 +25\.6632 .* imported: measured on a non-EC2 host, priced as c7i.large +2026-07-20" "run result decode"
has "$tmp/out" "prefill \(16 tok\) +4\.83 +5\.1305 " "run result prefill"
has "$tmp/out" "tpot<=1000 b1 408ms +2\.45 " "run result batch sweep"
expect 0 "cost of a priced run" -- "$bin" cost "$data/result-run-priced.json"
has "$tmp/out" "source: price given on the command line.*date 2026-11-20" "the run's own price and date"
has "$tmp/out" "the price the run recorded" "the run's price named as such"
has "$tmp/out" "price +.0\.500000/h" "the run's own price"
expect 2 "priced run with --pricing spot" -- "$bin" cost "$data/result-run-priced.json" --pricing spot
has "$tmp/err" "the recorded price has no pricing mode; add --instance TYPE" "spot needs a type"

# ---- compare-chips ----
expect 0 "compare-chips" -- "$bin" compare-chips "$data/result-p5.json" "$data/result-c7i.json" "$data/result-c7g.json" "$data/result-other-model.json" --model llama-3.2-1b --dtype q8_0
has "$tmp/out" "^ +1  c7g\.large .* 1\.1188 +1\.00x  imported" "c7g.large cheapest"
has "$tmp/out" "^ +2  c7i\.large .* 1\.2396 +1\.11x" "c7i.large second, ratio 1.2396/1.1188"
has "$tmp/out" "^ +3  p5\.48xlarge .* 1\.9111 +1\.71x" "p5 third"
has "$tmp/err" "result-other-model.json: skipped: model qwen-2.5-7b q4_0" "other model skipped"
hasnt "$tmp/out" "modeled  " "no modeled rows without --project"
awk '/^ +[0-9]+  / && $10 !~ /^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/ {bad=1} END {exit bad}' "$tmp/out" && ok || bad "a compare-chips row lacks its price date"
expect 0 "compare-chips --tpot-ms" -- "$bin" compare-chips "$data/result-c7i.json" "$data/result-c7g.json" --model llama-3.2-1b --dtype q8_0 --tpot-ms 100
has "$tmp/out" "^ +1  c7i\.large .* 8 +96\.00 .* 0\.2582 +1\.00x" "batch 8 of c7i wins at 100 ms"
expect 0 "compare-chips --project" -- "$bin" compare-chips "$data/result-c7i.json" "$data/result-c7g.json" --model llama-3.2-1b --dtype q8_0 --project
has "$tmp/out" "^ +[0-9]+  inf2\.xlarge .* modeled " "a modeled Inferentia row"
has "$tmp/out" "^ +[0-9]+  c7i\.large .* imported " "the measured row stays"
# Every row without a result file in its last column is labelled modeled.
awk '/^ +[0-9]+  / && $0 ~ /modeled:/ && $0 !~ / modeled  / {bad=1} END {exit bad}' "$tmp/out" && ok || bad "a projected row is not labelled modeled"
has "$tmp/out" "modeled CPU rows: decode tok/s = efficiency 0\.600" "projection explained"
# Measured and modeled rows are ranked apart by default, each table from rank 1.
has "$tmp/out" "^measured$" "the measured table"
has "$tmp/out" "^modeled, not measured \(ranked apart" "the modeled table, apart"
# One modeled row per family by default (the cheapest): no family twice among modeled rows.
awk '/^ +[0-9]+  / && / modeled  / {split($2, a, "."); if (seen[a[1]]++) bad=1} END {exit bad}' "$tmp/out" && ok || bad "a family appears twice among modeled rows"
has "$tmp/out" "folded into their family's cheapest row" "the folding is stated"
# Accelerators come from accel.h at the cited efficiency, never from the CPU result's 0.6:
# p5.48xlarge: 8 x 3350 GB/s x 0.60 / (llama-3.2-1b q8_0: 1,313,253,504 B per token + 4,227,072 B of f16 KV:
# the 129 positions a token at ctx 128 reads, as ic_roofline counts them) = 12205.11.
has "$tmp/out" "p5\.48xlarge .* 12205\.11 .* modeled .*1 replica per device x 8, decode efficiency 0\.60 \(cuda\)" "p5 from the accelerator model"
has "$tmp/out" "modeled cuda rows \(accel\.h\): batch 1, bandwidth-bound at efficiency 0\.60: Databricks" "the cited source printed"
expect 0 "compare-chips --every-type" -- "$bin" compare-chips "$data/result-c7i.json" "$data/result-c7g.json" --model llama-3.2-1b --dtype q8_0 --project --every-type
# c7i.large's efficiency 0.6 scaled to c7i.48xlarge: 0.6 x 614.4 GB/s / 1.3 GB = 283.57 tok/s.
has "$tmp/out" "c7i\.48xlarge .* 283\.57 .* modeled " "projection arithmetic"
expect 0 "compare-chips --accel-efficiency" -- "$bin" compare-chips "$data/result-c7i.json" --model llama-3.2-1b --dtype q8_0 --project --accel-efficiency cuda=0.3 --top 40
has "$tmp/out" "p5\.48xlarge .* 6102\.56 .* modeled " "half the efficiency, half the rate"
has "$tmp/out" "efficiency 0\.30: set by the user" "the user's figure is said to be the user's"
expect 0 "compare-chips --top 3" -- "$bin" compare-chips "$data/result-c7i.json" --model llama-3.2-1b --dtype q8_0 --project --top 3
[ "$(grep -cE '^ +[0-9]+  .* modeled  ' "$tmp/out")" -eq 3 ] && ok || bad "--top 3: not 3 modeled rows"
expect 0 "compare-chips --rank-together" -- "$bin" compare-chips "$data/result-c7i.json" --model llama-3.2-1b --dtype q8_0 --project --rank-together --format json
python3 - "$tmp/out" <<'PY' && ok || bad "compare-chips --rank-together json"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["rows"]
assert d["ranked_together"] is True and all(x["group"] == "all" for x in r), r[:2]
assert [x["rank"] for x in r] == list(range(1, len(r) + 1))
costs = [x["usd_per_mtok"] for x in r]
assert costs == sorted(costs), "not one ranking by cost"
assert {x["provenance"] for x in r} == {"imported", "modeled"}
assert d["accelerator_model"]["cuda"]["decode_efficiency"] == 0.6
PY
expect 2 "compare-chips --top without --project" -- "$bin" compare-chips "$data/result-c7i.json" --model llama-3.2-1b --dtype q8_0 --top 3
has "$tmp/err" "need --project" "--top needs --project"
expect 2 "compare-chips bad --accel-efficiency" -- "$bin" compare-chips "$data/result-c7i.json" --model llama-3.2-1b --dtype q8_0 --project --accel-efficiency tpu=0.5
has "$tmp/err" "unknown device class 'tpu'" "bad class named"
expect 2 "compare-chips without --model" -- "$bin" compare-chips "$data/result-p5.json" --dtype q8_0
has "$tmp/err" "--model and --dtype are required" "model required"
expect 2 "compare-chips no match" -- "$bin" compare-chips "$data/result-p5.json" --model m --dtype q8_0
has "$tmp/err" "no result file is for model m" "no match said"
expect 2 "compare-chips unknown instance" -- "$bin" compare-chips "$data/result-unknown-instance.json" --model llama-3.2-1b --dtype q8_0
has "$tmp/err" "unknown instance type 'z9.huge'" "unknown instance named"
# A result whose CPU contradicts the chip of the type it names is flagged, in the ranking and in cost.
python3 - "$data/result-c7i.json" "$tmp/c7i-amd.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["env"]["cpu"]["vendor"] = "AuthenticAMD"
d["env"]["cpu"]["model_name"] = "AMD EPYC 9R14"
json.dump(d, open(sys.argv[2], "w"))
PY
expect 0 "compare-chips, contradicting CPU" -- "$bin" compare-chips "$tmp/c7i-amd.json" --model llama-3.2-1b --dtype q8_0
has "$tmp/out" "c7i\.large .*WARNING: the result's CPU is AMD EPYC 9R14 \(AuthenticAMD\), not xeon-sapphire-rapids's GenuineIntel" "contradiction flagged"
expect 0 "cost, contradicting CPU" -- "$bin" cost "$tmp/c7i-amd.json"
has "$tmp/out" "^warning +c7i\.large: the result's CPU is AMD EPYC" "cost flags it too"
# --format for the ranking, each read by its parser.
expect 0 "compare-chips json" -- "$bin" compare-chips "$data/result-p5.json" "$data/result-c7i.json" "$data/result-c7g.json" --model llama-3.2-1b --dtype q8_0 --format json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["rows"]; assert [x["instance"] for x in r]==["c7g.large","c7i.large","p5.48xlarge"] and abs(r[2]["ratio"]-1.9111/1.1188)<1e-3 and r[0]["provenance"]=="imported", r' "$tmp/out" && ok || bad "compare-chips json"
expect 0 "compare-chips csv" -- "$bin" compare-chips "$data/result-p5.json" "$data/result-c7i.json" --model llama-3.2-1b --dtype q8_0 --format csv
python3 -c '
import csv,sys
rows=list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0][:3]==["rank","instance","chip"] and len(rows)==3 and rows[1][1]=="c7i.large", rows' "$tmp/out" && ok || bad "compare-chips csv"
expect 0 "compare-chips md" -- "$bin" compare-chips "$data/result-p5.json" --model llama-3.2-1b --dtype q8_0 --format md
has "$tmp/out" "^\| rank \| instance \| chip \|" "compare-chips markdown header"
hasnt "$tmp/out" "$(cd "$data/../.." && pwd)/platforms" "the catalog's build-machine path is not printed"

# Bounds: every figure printed is finite (values past any real figure are refused, not printed).
expect 2 "absurd mix" -- "$bin" cost "$data/result-p5.json" --mix 1e308:1e308
has "$tmp/err" "--mix '1e308:1e308'" "absurd mix named"
expect 2 "absurd price" -- "$bin" cost "$data/result-p5.json" --usd-per-hour 1e308
has "$tmp/err" "--usd-per-hour '1e308': .*at most 1e6" "absurd price named"
python3 - "$data/result-c7i.json" "$tmp/eff5.json" "$tmp/rate.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for m in d["measurements"]:
    m["roofline"] = {"bound_tok_per_s": m["tok_per_s"] / 5.0, "efficiency": 5.0, "limit": "memory"}
json.dump(d, open(sys.argv[2], "w"))
d["measurements"][0]["tok_per_s"] = 1e308
json.dump(d, open(sys.argv[3], "w"))
PY
expect 0 "projection from an efficiency of 5" -- "$bin" compare-chips "$tmp/eff5.json" --model llama-3.2-1b --dtype q8_0 --project
has "$tmp/out" "CPU projection unavailable: .*efficiency 5 is above 1.2" "efficiency above the roofline refused"
hasnt "$tmp/out" "GB/s x efficiency" "no modeled CPU rows from it"
# The accelerators' rows do not depend on a CPU's efficiency at all: the same p5 figure as above.
has "$tmp/out" "p5\.48xlarge .* 12205\.11 .* modeled " "accelerator rows unchanged by the CPU's efficiency"
expect 2 "a rate of 1e308" -- "$bin" cost "$tmp/rate.json"
has "$tmp/err" "measurements\[0\]\.tok_per_s: 1e\+308 is out of range" "absurd rate refused"
# econ --json keeps a key whose value is not finite, as null (a platform with no revenue has no
# margin), instead of dropping it.
python3 - "$data/scenario-given.json" "$tmp/nomargin.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["serving_cost"]["input_usd_per_mtok"] = d["serving_cost"]["output_usd_per_mtok"] = 0
d["platform"]["revenue_share"] = 0
json.dump(d, open(sys.argv[2], "w"))
PY
expect 0 "econ --json, no platform revenue" -- "$bin" econ "$tmp/nomargin.json" --json
python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
def find(o):
    if isinstance(o, dict):
        for k,v in o.items():
            if k == "platform_margin": return True, v
            f = find(v)
            if f[0]: return f
    if isinstance(o, list):
        for v in o:
            f = find(v)
            if f[0]: return f
    return False, None
ok, v = find(d)
assert ok and v is None, (ok, v)' "$tmp/out" && ok || bad "econ --json drops a non-finite key"

# ---- econ ----
expect 0 "econ given" -- "$bin" econ "$data/scenario-given.json"
has "$tmp/out" "vendor gross margin .* 65\.0% +70\.8% +\+5\.8 pts" "vendor margin and change"
has "$tmp/out" "platform margin .* 55\.5% +59\.0% +\+3\.5 pts" "platform margin and change"
has "$tmp/out" "selling price +input \\\$3/Mtok.*date 2026-11-26" "selling price dated"
has "$tmp/out" "serving cost .*date 2026-11-26" "serving cost dated"
has "$tmp/out" "^ +1\.00 +75\.0%/ +62\.6% +82\.5%/ +73\.3%" "sensitivity row u=1"
expect 0 "econ --json" -- "$bin" econ "$data/scenario-given.json" --json
python3 - "$tmp/out" <<'PY' && ok || bad "econ --json values"
import json, sys
d = json.load(open(sys.argv[1]))
def near(a, b, tol=1e-6): assert abs(a - b) <= tol, (a, b)
b, m, c = d["base"], d["improved"], d["change"]
near(b["price_usd_per_mtok"], 6); near(b["serving_cost_full_use_usd_per_mtok"], 0.9)
near(b["infrastructure_fee_usd_per_mtok"], 1.5); near(b["revenue_share_usd_per_mtok"], 0.6)
near(b["vendor_profit_usd_per_mtok"], 3.9); near(b["vendor_gross_margin"], 0.65)
near(b["platform_revenue_usd_per_mtok"], 2.1); near(b["tco_usd_per_server_hour"], 400000 / (5 * 8766) + 0.96)
near(b["platform_cost_usd_per_mtok"], 0.933905); near(b["platform_margin"], 0.555283)
near(m["vendor_gross_margin"], 0.707692); near(m["platform_margin"], 0.590392)
near(m["platform_revenue_usd_per_mtok"], 1.753846)
near(c["vendor_gross_margin_points"], 5.7692, 1e-4); near(c["platform_margin_points"], 3.5109, 1e-4)
near(c["platform_revenue_usd_per_mtok"], -0.346154)
cells = {(x["utilization"], x["ratio"]): x for x in d["sensitivity"]}
assert len(cells) == 4, cells
near(cells[(1.0, 2.0)]["vendor_gross_margin"], 0.825)
near(cells[(0.5, 1.0)]["vendor_gross_margin"], 0.6)  # F = 1.8, S = 0.6: (6 - 2.4)/6
assert d["inputs"]["selling_date"] == "2026-11-26"
PY
expect 0 "econ from a result" -- "$bin" econ "$data/scenario-result.json" --json
python3 - "$tmp/out" <<'PY' && ok || bad "econ from a result: values"
import json, sys
d = json.load(open(sys.argv[1]))
i = d["inputs"]
assert abs(i["serving_output_usd_per_mtok"] - 1.911111) < 1e-6, i
assert abs(i["serving_input_usd_per_mtok"] - 0.191111) < 1e-6, i
assert i["selling_input_usd_per_mtok"] == 3 and i["selling_output_usd_per_mtok"] == 15
assert i["serving_date"] == "2026-07-20" and "p5.48xlarge" in i["serving_source"]
assert "imported" in i["serving_source"]
assert "platform_margin" not in d["base"]
PY
for f in type:"utilization: must be a number" negative:"selling_price.output_usd_per_mtok: must be in \[0, 1e12\]" \
         unknown-instance:"serving_cost.instance: unknown instance type 'z9.huge'" field:"utilisation: unknown field" \
         model:"selling_price.model: 'gpt-99' not in" zero-tput:"serving_cost.result: .*measurements\[1\]\.tok_per_s"; do
  name=${f%%:*} want=${f#*:}
  expect 2 "bad scenario $name" -- "$bin" econ "$data/bad-scenario-$name.json"
  has "$tmp/err" "bad-scenario-$name.json: $want" "bad scenario $name names the field"
done
expect 2 "econ two files" -- "$bin" econ a.json b.json
expect 2 "econ not JSON" -- "$bin" econ "$data/result-here.json.in.nope"
# The shipped example: the article's figures, cited as claims.
for s in "$root"/platforms/scenarios/*.json; do
  expect 0 "example scenario $(basename "$s")" -- "$bin" econ "$s"
  has "$tmp/out" "^claims cited by this scenario" "$(basename "$s") cites its claims"
  has "$tmp/out" "trainium_price_performance_vs_gpu +1\.3 " "$(basename "$s") cites the 1.30 claim"
done

# ---- prices ----
cp -r "$root/platforms" "$tmp/cat"
expect 0 "prices show" -- "$bin" prices show p5.48xlarge --catalog "$tmp/cat"
has "$tmp/out" "p5\.48xlarge +us-east-1 +on-demand +55\.040000  2026-07-20 karpenter" "show with date and source"
expect 2 "prices show unknown" -- "$bin" prices show z9.huge --catalog "$tmp/cat"
has "$tmp/err" "unknown instance type 'z9.huge'" "show unknown named"
expect 0 "prices import" -- env IC_PLATFORMS_DIR="$tmp/cat" "$bin" prices import "$data/aws-offer-ec2.json"
has "$tmp/out" "2 prices updated, 1 added" "import counts"
has "$tmp/out" "1 priced in non-USD only" "non-USD stated"
has "$tmp/out" "2 with missing fields" "missing fields stated"
has "$tmp/cat/prices.tsv" "^c7i\.large	us-east-1	0\.090000	AWS Price List offer file aws-offer-ec2\.json .*	2026-11-01$" "imported row with source and date"
has "$tmp/cat/prices.tsv" "^# EC2 prices" "the header comment survives"
expect 0 "cost after import" -- "$bin" cost "$data/result-c7i.json" --catalog "$tmp/cat"
has "$tmp/out" "price +\\\$0\.090000/h; source: AWS Price List offer file.*date 2026-11-01" "cost uses the imported price"
cp "$tmp/cat/prices.tsv" "$tmp/before.tsv"
expect 2 "prices import bad price" -- "$bin" prices import "$data/aws-offer-bad-price.json" --catalog "$tmp/cat"
has "$tmp/err" "SKU1.*pricePerUnit\.USD: 'abc'.*the catalog is unchanged" "bad price named"
cmp -s "$tmp/before.tsv" "$tmp/cat/prices.tsv" && ok || bad "bad import changed prices.tsv"
expect 2 "prices import no products" -- "$bin" prices import "$data/aws-offer-no-products.json" --catalog "$tmp/cat"
expect 2 "prices import missing file" -- "$bin" prices import "$tmp/none.json" --catalog "$tmp/cat"
expect 2 "prices import two files" -- "$bin" prices import a b --catalog "$tmp/cat"
# Offers (SKU1 of aws-offer-ec2.json, altered) whose row prices.tsv would not read back: refused,
# exit 2, naming the sku; the catalog stays whole and readable.
for c in "tiny-price:SKU21:usd_per_hour 0\.000000 is below 1e-06" "empty-type:SKU22:instance_type is empty" \
         "hash-type:SKU23:starts with '#'" "space-type:SKU24:instance_type 'c7i large' contains whitespace" \
         "control-type:SKU25:instance_type has a control character"; do
  name=${c%%:*} rest=${c#*:}; sku=${rest%%:*} want=${rest#*:}
  expect 2 "prices import $name" -- "$bin" prices import "$data/aws-offer-$name.json" --catalog "$tmp/cat"
  has "$tmp/err" "products\.$sku: .*$want.*the catalog is unchanged" "import $name refused, naming the sku"
  cmp -s "$tmp/before.tsv" "$tmp/cat/prices.tsv" && ok || bad "refused import $name changed prices.tsv"
done
expect 0 "the catalog reads after refused imports" -- "$bin" prices show --catalog "$tmp/cat"
expect 2 "prices import bad region" -- "$bin" prices import "$data/aws-offer-ec2.json" --region 'us east' --catalog "$tmp/cat"
has "$tmp/err" "--region 'us east': not a region name" "bad region named"
# An import keeps prices.tsv's mode, and writes through a symbolic link to its target.
chmod 0600 "$tmp/cat/prices.tsv"
expect 0 "prices import keeps the mode" -- "$bin" prices import "$data/aws-offer-ec2.json" --catalog "$tmp/cat"
[ "$(stat -c %a "$tmp/cat/prices.tsv")" = 600 ] && ok || bad "import changed the mode to $(stat -c %a "$tmp/cat/prices.tsv")"
chmod 0644 "$tmp/cat/prices.tsv"
mkdir -p "$tmp/linked" "$tmp/real"
cp "$root"/platforms/*.tsv "$tmp/linked/"
mv "$tmp/linked/prices.tsv" "$tmp/real/prices.tsv"
ln -s ../real/prices.tsv "$tmp/linked/prices.tsv"
chmod 0640 "$tmp/real/prices.tsv"
expect 0 "prices import through a symlink" -- "$bin" prices import "$data/aws-offer-ec2.json" --catalog "$tmp/linked"
[ -L "$tmp/linked/prices.tsv" ] && ok || bad "the import replaced the symbolic link with a file"
has "$tmp/real/prices.tsv" "^c7i\.large	us-east-1	0\.090000	AWS Price List" "the link's target was updated"
[ "$(stat -c %a "$tmp/real/prices.tsv")" = 640 ] && ok || bad "the target's mode is now $(stat -c %a "$tmp/real/prices.tsv")"
if [ -n "$(find "$tmp/linked" "$tmp/real" -name '*.tmp.*')" ]; then bad "a temporary file was left"; else ok; fi
expect 2 "prices bad subcommand" -- "$bin" prices frob
has "$tmp/err" "unknown subcommand 'frob'" "bad subcommand named"
# A read-only catalog: the import fails at run time (1) and leaves the file whole.
if [ "$(id -u)" -ne 0 ]; then
  chmod a-w "$tmp/cat"
  expect 1 "prices import read-only" -- "$bin" prices import "$data/aws-offer-ec2.json" --catalog "$tmp/cat"
  has "$tmp/err" "cannot create a temporary file" "read-only catalog explained"
  cmp -s "$tmp/before.tsv" "$tmp/cat/prices.tsv" && ok || bad "failed import changed prices.tsv"
  chmod u+w "$tmp/cat"
fi
# A hostile catalog file: binary data.
printf 'instance_type\tregion\tusd_per_hour\tsource\tdate\n\0\0\0' >"$tmp/cat/prices.tsv"
expect 2 "binary prices.tsv" -- "$bin" cost "$data/result-p5.json" --catalog "$tmp/cat"
has "$tmp/err" "prices.tsv: binary data" "binary file named"

# ---- nothing a user reads names a machine's path ----
# The shipped scenarios and the default catalog's messages, run from the source tree, and the data.
: >"$tmp/paths"
for s in "$root"/platforms/scenarios/*.json; do
  (cd "$root" && "$bin" econ "platforms/scenarios/$(basename "$s")") >>"$tmp/paths" 2>&1 || bad "econ $(basename "$s")"
done
"$bin" prices show >>"$tmp/paths" 2>&1
"$bin" prices show z9.huge >>"$tmp/paths" 2>&1
"$bin" prices show --region xx-none-1 >>"$tmp/paths" 2>&1
"$bin" prices show --pricing savings-1y c7i.large >>"$tmp/paths" 2>&1
hasnt "$tmp/paths" "/work/|/home/" "econ or prices output names a machine path"
if grep -qF -- "$root" "$tmp/paths"; then bad "econ or prices output names the source tree's path $root"; else ok; fi
if grep -rlE "/work/|/home/" "$root/platforms" "$root/docs/economics.md"; then bad "a catalog file or docs/economics.md names a machine path"; else ok; fi

echo "econ_cli_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
