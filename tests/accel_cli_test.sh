#!/usr/bin/env bash
# CLI tests of the accelerators: `run --device` on a machine without the device (exit 2 with the
# backend's reason), `run --device cuda|neuron --model-only` (every row modeled, the hand-computed
# figures of tests/test_accel.c, the cited efficiencies printed), and its bad input.
# Usage: accel_cli_test.sh path/to/infercost
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cli_lib.sh"  # ok, bad, expect, has, hasnt
bin=${1:?usage: accel_cli_test.sh path/to/infercost}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT


# ---- run --device without the device ----
IC_NRT_LIBRARY=/nonexistent/libnrt.so.1 expect 2 "run --device neuron" -- env IC_NRT_LIBRARY=/nonexistent/libnrt.so.1 "$bin" run --device neuron
has "$tmp/err" "run --device neuron: unavailable: Neuron runtime not found \(" "neuron: the runtime is named missing"
if "$bin" list --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["backends"]["cuda"]["usable"] else 1)'; then
  echo "accel_cli_test: a CUDA device answers here: the no-device checks of cuda are skipped"
else
  expect 2 "run --device cuda without a GPU" -- "$bin" run --device cuda --quick
  has "$tmp/err" "run --device cuda: (not built|unavailable): " "cuda: why it cannot run"
  has "$tmp/err" "--model-only models it from chips.tsv instead" "and what to do instead"
fi
# The CUDA backend is a plugin: a binary whose plugin cannot be loaded says so, and a CPU command
# never loads it.
if "$bin" list --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["backends"]["cuda"]["built"] else 1)'; then
  expect 0 "list, the CUDA plugin missing" -- env IC_CUDA_PLUGIN=/nonexistent/libic_offload_cuda.so "$bin" list
  has "$tmp/out" "^  cuda +unavailable: the CUDA backend plugin cannot be loaded \(/nonexistent/libic_offload_cuda.so: cannot open" "a missing plugin named"
  expect 2 "run --device cuda, the plugin missing" -- env IC_CUDA_PLUGIN=/nonexistent/libic_offload_cuda.so "$bin" run --device cuda
  has "$tmp/err" "run --device cuda: unavailable: the CUDA backend plugin cannot be loaded" "run says why"
  if command -v ldd >/dev/null; then
    ldd "$bin" | grep -q cublas && bad "the binary links cuBLAS: every command would load it" || ok
  fi
fi
expect 2 "run --device tpu" -- "$bin" run --device tpu
has "$tmp/err" "--device 'tpu': expected cpu, cuda or neuron" "unknown device named"

# ---- --model-only ----
expect 0 "cuda --model-only" -- "$bin" run --device cuda --model-only --model llama-3.1-8b --context 128 --batch 1,64
has "$tmp/out" "^MODELED, not measured: no cuda device ran" "the table says modeled first"
has "$tmp/out" "decode efficiency 0\.60 of peak HBM bandwidth: Databricks" "the cited decode efficiency"
has "$tmp/out" "prefill efficiency 0\.40 of peak bf16 compute: Meta" "the cited prefill efficiency"
# test_accel.c's hand case: 8 x 3350e9 x 0.60 / (15,010,390,016 + 16,777,216) = 1070.06.
has "$tmp/out" "^p5\.48xlarge +h100-sxm +8 +1 replica per device x 8 +128 +1 +1070\.1 " "p5.48xlarge 8b"
awk 'NR > 7 && /^[a-z0-9]+\.[a-z0-9]+ / && $0 !~ / modeled / {bad=1} END {exit bad}' "$tmp/out" && ok || bad "a --model-only row not labelled modeled"
has "$tmp/out" "without chip facts in chips.tsv, not modeled: a10g" "GPU types without facts said"
has "$tmp/out" "^price source: .+" "each price's source printed (the date is in every row)"
expect 0 "neuron --model-only 70b" -- "$bin" run --device neuron --model-only --model llama-3.1-70b --context 128 --format json
python3 - "$tmp/out" <<'PY' && ok || bad "neuron --model-only json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["provenance"] == "modeled" and d["device"] == "neuron", d
rows = {r["instance"]: r for r in d["rows"]}
t = rows["trn1.32xlarge"]
# test_accel.c: 8 chips per replica, 2 replicas, 0.85^3, 21.777 tok/s.
assert t["tensor_parallel"] == 8 and t["replicas"] == 2 and abs(t["decode_tok_per_s"] - 21.7772) < 0.01, t
assert "inf2.xlarge" not in rows and d["skipped_does_not_fit"] >= 1, "one Inferentia2 chip cannot hold 70b"
assert all(r["provenance"] == "modeled" for r in d["rows"])
assert "trn1" in d["assumptions"]["decode_efficiency_source"]
PY
expect 2 "inf2.xlarge cannot hold 70b" -- "$bin" run --device neuron --model-only --model llama-3.1-70b --instance inf2.xlarge
has "$tmp/err" "nothing to model for llama-3.1-70b bf16 .*[0-9]+ cases do not fit" "does not fit, said"
expect 0 "a user's efficiency" -- "$bin" run --device cuda --model-only --model llama-3.1-8b --context 128 --instance p5.48xlarge --accel-efficiency cuda=0.3
has "$tmp/out" "^p5\.48xlarge .* 535\.0 " "half the efficiency, half the rate"
has "$tmp/out" "decode efficiency 0\.30 of peak HBM bandwidth: set by the user" "the user's figure is the user's"
expect 2 "--model-only without --device" -- "$bin" run --model-only
has "$tmp/err" "give --device cuda or neuron" "--model-only needs a device class"
expect 2 "--model-only --json" -- "$bin" run --device cuda --model-only --json "$tmp/r.json"
has "$tmp/err" "--json writes measured results" "no result file of modeled rows"
[ ! -e "$tmp/r.json" ] && ok || bad "--model-only wrote a result file"
expect 2 "--model-only, a CPU type" -- "$bin" run --device neuron --model-only --instance c7a.large
has "$tmp/err" "its chip epyc-genoa is not a neuron device" "a CPU type refused"
expect 2 "--usd-per-hour without --instance" -- "$bin" run --device cuda --model-only --usd-per-hour 10
has "$tmp/err" "give --instance T" "one price needs one type"
expect 2 "--tp-scaling 0" -- "$bin" run --device cuda --model-only --tp-scaling 0
has "$tmp/err" "--tp-scaling '0': the scaling per doubling must be a number in \(0, 1\]" "bad scaling named"

echo "accel_cli_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
