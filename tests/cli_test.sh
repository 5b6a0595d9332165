#!/usr/bin/env bash
# CLI tests: output and exit codes of the infercost binary. Usage: cli_test.sh path/to/infercost
set -u
bin=${1:?usage: cli_test.sh path/to/infercost}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect CODE DESCRIPTION -- command...: runs it, keeping stdout and stderr in $tmp/out, $tmp/err.
expect() {
  local want=$1 what=$2; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want; stderr: $(head -c 400 "$tmp/err")"; fi
}
has() { # has FILE PATTERN DESCRIPTION
  if grep -qE -- "$2" "$1"; then ok; else bad "$3: no /$2/ in $(basename "$1"): $(head -c 400 "$1")"; fi
}
hasnt() {
  if grep -qE -- "$2" "$1"; then bad "$3: unexpected /$2/ in $(basename "$1")"; else ok; fi
}

expect 0 "--help" -- "$bin" --help
has "$tmp/out" "^usage: infercost" "--help prints usage"
has "$tmp/out" "list" "--help lists the list command"
expect 0 "--version" -- "$bin" --version
has "$tmp/out" "^infercost [0-9]+\.[0-9]+\.[0-9]+ \(commit " "--version format"
expect 2 "no arguments" -- "$bin"
has "$tmp/err" "^usage:" "no arguments prints usage"
expect 2 "unknown command" -- "$bin" frobnicate
has "$tmp/err" "unknown command 'frobnicate'" "unknown command named"
has "$tmp/err" "^usage:" "unknown command prints usage"
expect 2 "unknown top-level option" -- "$bin" --frob
has "$tmp/err" "unknown option '--frob'" "unknown option named"
expect 2 "unknown list option" -- "$bin" list --frob
has "$tmp/err" "infercost list: unknown option '--frob'" "list option named"
has "$tmp/err" "usage: infercost list" "list usage shown"
expect 2 "stray list argument" -- "$bin" list extra
has "$tmp/err" "unexpected argument 'extra'" "stray argument named"
expect 0 "list --help" -- "$bin" list --help
has "$tmp/out" "usage: infercost list" "list --help"

# list: the CPU, the features that /proc/cpuinfo reports, the kernels with one chosen per op/type.
expect 0 "list" -- "$bin" list
cp "$tmp/out" "$tmp/list.txt"
has "$tmp/list.txt" "^CPU " "list shows the CPU"
has "$tmp/list.txt" "gemv_q8_0_ref" "list shows the ref GEMV"
has "$tmp/list.txt" "^\* gemv +q8_0" "list marks a chosen q8_0 GEMV"
if [ "$(uname -m)" = x86_64 ]; then
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  for f in avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni avx_vnni avx512_bf16 amx_tile amx_int8 amx_bf16; do
    present_line=$(grep -E '^  present' "$tmp/list.txt")
    if [[ "$flags" == *" $f "* ]]; then
      [[ "$present_line " == *" $f "* ]] && ok || bad "list should show $f present (in /proc/cpuinfo)"
    else
      [[ "$present_line " == *" $f "* ]] && bad "list shows $f present, /proc/cpuinfo lacks it" || ok
    fi
  done
fi

# The ISA cap: "none" with IC_ISA unset (not the top level, which may be one this CPU lacks), and
# the best level this CPU reaches; IC_ISA's level when set.
expect 0 "list, IC_ISA unset" -- env -u IC_ISA "$bin" list
has "$tmp/out" "^ISA cap +none \(IC_ISA unset; best level on this CPU: [a-z0-9]+\)$" "list: no cap is none"
expect 0 "list, IC_ISA=ref" -- env IC_ISA=ref "$bin" list
has "$tmp/out" "^ISA cap +ref \(from IC_ISA; best level on this CPU: [a-z0-9]+\)$" "list: the IC_ISA cap"
has "$tmp/out" "unavailable: above the IC_ISA cap ref" "list: why a variant above the cap is unavailable"
# Offload backends: each says built or not, usable or not, and why.
has "$tmp/list.txt" "^offload backends" "list: the backends section"
has "$tmp/list.txt" "^  neuron +unavailable: (Neuron runtime not found \(|the Neuron runtime )" "list: neuron, never usable (a stub)"
has "$tmp/list.txt" "^  cuda +(not built|unavailable|usable)" "list: cuda's state"
hasnt "$tmp/list.txt" "^  cuda +available" "list: a toolkit is not a usable backend"

expect 0 "list --json, IC_ISA unset" -- env -u IC_ISA "$bin" list --json
python3 - "$tmp/out" <<'PY' && ok || bad "list --json: isa_cap null, best_level the best available level"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["isa_cap"] is None, d["isa_cap"]
levels = [k["isa"] for k in d["kernels"] if k["available"]]
assert d["best_level"] in levels, (d["best_level"], set(levels))
for k in d["kernels"]:
    if not k["available"]:
        assert k["why"].startswith(("missing ", "above the IC_ISA cap ")), k
PY
expect 0 "list --json" -- "$bin" list --json
python3 - "$tmp/out" <<'PY' && ok || bad "list --json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["cpu"]["vendor"] and d["cpu"]["model_name"], "cpu"
assert isinstance(d["cpu"]["features"], list)
chosen = {}
for k in d["kernels"]:
    assert set(k) >= {"op", "name", "isa", "available", "chosen"}, k
    if k["chosen"]:
        key = (k["op"], k.get("type"))
        assert key not in chosen, f"two chosen for {key}"
        assert k["available"], f"chosen but unavailable: {k['name']}"
        chosen[key] = k["name"]
    if not k["available"]:
        assert k["why"], k
assert ("gemv", "q8_0") in chosen and ("attention", "f16") in chosen, chosen
for dep in ("benchmark", "hwloc", "papi", "openblas", "sqlite3"):
    v = d["dependencies"][dep]
    assert v == "available" or v.startswith("unavailable: "), v
b = d["backends"]
assert set(b) == {"cuda", "neuron"}, b
for name, v in b.items():
    assert v["state"] in ("not built", "unavailable", "usable"), v
    assert v["usable"] == (v["state"] == "usable") and v["built"] == (v["state"] != "not built"), v
    assert v["usable"] or v["why"], v
assert b["neuron"]["built"] and not b["neuron"]["usable"], b["neuron"]
assert b["neuron"]["why"].startswith(("Neuron runtime not found", "the Neuron runtime ")), b["neuron"]
PY

# IC_ISA: ref selects only ref kernels; an unknown name fails and lists the valid ones.
IC_ISA=ref expect 0 "IC_ISA=ref list" -- env IC_ISA=ref "$bin" list --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=[k["name"] for k in d["kernels"] if k["chosen"]]; assert c and all(n.endswith("_ref") for n in c), c; assert d["isa_cap"]=="ref"' "$tmp/out" && ok || bad "IC_ISA=ref chose non-ref"
expect 2 "IC_ISA=bogus" -- env IC_ISA=bogus "$bin" list
has "$tmp/err" "IC_ISA: unknown ISA level 'bogus'; valid: ref" "IC_ISA=bogus lists valid names"
expect 0 "IC_DEBUG" -- env IC_DEBUG=1 "$bin" list
has "$tmp/err" "^infercost: gemv q8_0 -> gemv_q8_0_" "IC_DEBUG logs the choice"
expect 0 "IC_DEBUG, IC_ISA unset" -- env -u IC_ISA IC_DEBUG=1 "$bin" list
has "$tmp/err" "^infercost: gemv q8_0 -> gemv_q8_0_[a-z0-9_]+ \(level [a-z0-9]+, IC_ISA cap none\)$" "IC_DEBUG: no cap is none"
expect 0 "IC_DEBUG under IC_ISA=ref" -- env IC_DEBUG=1 IC_ISA=ref "$bin" list
if [ "$(uname -m)" = x86_64 ]; then
  has "$tmp/err" "passed over gemv_q8_0_avx2: above the IC_ISA cap ref" "IC_DEBUG says why, as list does"
fi
IC_ISA= expect 0 "empty IC_ISA means no cap" -- env IC_ISA= "$bin" list
hasnt "$tmp/err" "unknown" "empty IC_ISA"

echo "cli_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
