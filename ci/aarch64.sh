#!/usr/bin/env bash
# aarch64 without Arm hardware: cross-compiles infercost, the kernels and their tests with
# aarch64-linux-gnu-gcc (static, so qemu needs no sysroot), then runs them under qemu-aarch64 on
# every CPU model below: the kernels, the ops, dispatch, and the forward pass with every kernel set
# the model can run against the reference set. In each it prints the SVE vector length, the
# Graviton generation `infercost list` infers, and the variants the tests checked, and it FAILS
# when a variant that the model's features allow was not checked. Then IC_ISA capping with
# IC_DEBUG, the choice between NEON and SVE at 128 and 256 bits, and the instruction counts per
# output element (ci/arm_insn_count.py) against ci/arm_insn_baseline.tsv, with what dispatch picks
# at each length.
#
# The cross build turns the optional dependencies (benchmark, hwloc, PAPI, OpenBLAS, CUDA, Neuron)
# OFF; jansson, which the harness needs, comes from Debian's arm64 multiarch package
# libjansson-dev:arm64 (ci/install-deps.sh). Usage: bash ci/aarch64.sh   (build dir:
# build-aarch64/, or $IC_AARCH64_BUILD_DIR). Exit 0 when everything passed, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${IC_AARCH64_BUILD_DIR:-build-aarch64}
jobs=$(nproc 2>/dev/null || echo 2)
t0=$(date +%s)

for tool in aarch64-linux-gnu-gcc qemu-aarch64 aarch64-linux-gnu-nm aarch64-linux-gnu-objdump python3; do
  command -v "$tool" >/dev/null || { echo "aarch64: $tool not found: run ci/install-deps.sh" >&2; exit 1; }
done
if [ ! -f /usr/lib/aarch64-linux-gnu/libjansson.a ]; then
  echo "aarch64: libjansson-dev:arm64 is not installed (/usr/lib/aarch64-linux-gnu/libjansson.a): run ci/install-deps.sh" >&2
  exit 1
fi

echo "== aarch64 cross build ($build)"
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINFERCOST_WERROR=ON \
  -DINFERCOST_WITH_BENCHMARK=OFF -DINFERCOST_WITH_HWLOC=OFF -DINFERCOST_WITH_PAPI=OFF \
  -DINFERCOST_WITH_OPENBLAS=OFF -DINFERCOST_WITH_CUDA=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target infercost test_kernels test_ops test_dispatch \
  test_graviton test_forward insn_driver
if command -v file >/dev/null; then file "$build/harness/infercost" | sed "s/, BuildID[^,]*//"; fi

ic=$build/harness/infercost
tests=$build/tests
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# The issue's six models, and two more that split features differently: max without SVE (i8mm
# and bf16 on NEON only) and A64FX (512-bit SVE without dotprod). Listed, started and reported
# slowest first, so that no long run starts last: qemu 7.2 runs float arithmetic several times
# slower under -cpu a64fx and at 256 and 512 bits than under -cpu max at 128 bits (test_ops'
# reference attention: 49 s under a64fx against 1.4 s).
configs=(
  "a64fx"
  "max,sve-default-vector-length=32"
  "max,sve-default-vector-length=64"
  "max,sve-default-vector-length=256"
  "max,sve-default-vector-length=16"
  "neoverse-n1"
  "cortex-a72"
  "max,sve=off"
)

# Variants the model can run (infercost list --json, no IC_ISA cap), less dequantize: its only
# variants are the references the tests dequantize with.
available() {
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for k in d["kernels"]:
    if k["available"] and k["op"] != "dequantize":
        print(k["name"])' "$1"
}
cpu_line() {
  python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["cpu"]
vl = c.get("sve_vl_bits")
g = c.get("graviton_inferred", {})
print("SVE %s, features: %s; Graviton (inferred): %s (%s)" % (
    "%d-bit" % vl if vl else "absent", " ".join(c["features"]), g.get("generation"), g.get("basis")))' "$1"
}

# One -cpu configuration: the tests under it, its report in $log.report, its summary row in
# $log.row and its status in $log.ok. The configurations run two (or nproc) at a time: each is
# one single-threaded qemu process, and run one after the other they took 989 s of this stage
# on a 2-vCPU Sapphire-Rapids-class VM (239 s on the Zen 5 VMs).
run_cfg() {
  local cfg=$1 log=$tmp/${1//[^a-z0-9]/_} ok=1 t0_cfg=$SECONDS
  local q=(qemu-aarch64 -cpu "$cfg")
  {
    "${q[@]}" "$ic" list --json >"$log.json" 2>"$log.err" || { echo "infercost list failed under -cpu $cfg"; cat "$log.err"; ok=0; }
    for t in test_kernels test_ops test_dispatch test_forward; do
      if ! IC_TEST_QUICK=1 "${q[@]}" "$tests/$t" >"$log.$t" 2>&1; then
        echo "FAIL: $t under -cpu $cfg:"
        grep -E 'failed' "$log.$t" | tail -20
        ok=0
      fi
    done
    if ! IC_ISA=ref "${q[@]}" "$tests/test_dispatch" env-ref >"$log.envref" 2>&1; then
      echo "FAIL: test_dispatch env-ref under -cpu $cfg"; ok=0
    fi
    grep -hoE '^  [a-z0-9_]+ +checked' "$log.test_kernels" "$log.test_ops" | awk '{print $1}' | sort -u >"$log.checked"
    available "$log.json" | sort -u >"$log.avail"
    missing=$(comm -23 "$log.avail" "$log.checked")
    if [ -n "$missing" ]; then
      echo "FAIL: under -cpu $cfg these usable variants were not tested: $missing"
      ok=0
    fi
    echo
    echo "-- -cpu $cfg: $(cpu_line "$log.json")"
    echo "   tested: $(grep -v '_ref$' "$log.checked" | tr '\n' ' ')"
    echo "   (and the $(grep -c '_ref$' "$log.checked") reference variants); $(tail -1 "$log.test_kernels"); $(tail -1 "$log.test_ops")"
  } >"$log.report" 2>&1
  printf '%-34s %6s %6s %5s  %s' "$cfg" "$(wc -l <"$log.checked")" "$(wc -l <"$log.avail")" \
    "$((SECONDS - t0_cfg))" "$([ $ok = 1 ] && echo ok || echo FAIL)" >"$log.row"
  echo $ok >"$log.ok"
}

par=$(nproc 2>/dev/null || echo 2)
for cfg in "${configs[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$par" ]; do wait -n || true; done
  run_cfg "$cfg" &
done
wait
summary=()
for cfg in "${configs[@]}"; do
  log=$tmp/${cfg//[^a-z0-9]/_}
  cat "$log.report" 2>/dev/null || echo "FAIL: no report from -cpu $cfg" >&2
  summary+=("$(cat "$log.row" 2>/dev/null || echo "$cfg FAIL")")
  [ "$(cat "$log.ok" 2>/dev/null)" = 1 ] || fail=1
done

echo
echo "== test_graviton (pure inference from feature masks)"
qemu-aarch64 -cpu max "$tests/test_graviton" || fail=1

# Every model above has a power-of-two vector length. SVE before Armv9 allows any multiple of 128
# bits, and the q8_0 attention walks a 32-value block with WHILELT where the length does not
# divide it: that path, against the reference, at 384 bits (about 11 s).
echo
echo "== test_ops, attention_q8_0_sve only, under -cpu max,sve-default-vector-length=48 (384-bit SVE)"
if IC_TEST_ONLY=attention_q8_0_sve qemu-aarch64 -cpu max,sve-default-vector-length=48 \
  "$tests/test_ops" >"$tmp/vl384.log" 2>&1; then
  tail -1 "$tmp/vl384.log"
else
  echo "FAIL: test_ops attention_q8_0_sve at 384 bits:"
  grep -E 'failed' "$tmp/vl384.log" | tail -20
  fail=1
fi

echo
echo "== infercost list under -cpu max,sve-default-vector-length=16 (Graviton4-like)"
qemu-aarch64 -cpu max,sve-default-vector-length=16 "$ic" list | sed -n '1,12p'

# IC_ISA caps: neon on an SVE model picks NEON variants; sve on Neoverse N1 (no SVE) picks the best
# NEON-family variant, and IC_DEBUG=1 says why each other one was passed over.
echo
echo "== IC_ISA=neon IC_DEBUG=1 on -cpu max,sve-default-vector-length=32"
IC_ISA=neon IC_DEBUG=1 qemu-aarch64 -cpu max,sve-default-vector-length=32 "$ic" list --json \
  >"$tmp/neon.json" 2>"$tmp/neon.err"
grep -E 'gemv q8_0|gemm_q8_0_(sve|dotprod|i8mm)' "$tmp/neon.err" | head -6
bad=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
chosen = [k["name"] for k in d["kernels"] if k["chosen"]]
print(" ".join(n for n in chosen if not (n.endswith("_neon") or n.endswith("_ref"))))
if not any(n.endswith("_neon") for n in chosen): print("no-neon-variant-chosen")' "$tmp/neon.json")
if [ -n "$bad" ] || ! grep -q 'passed over gemv_q8_0_sve: above the IC_ISA cap neon' "$tmp/neon.err"; then
  echo "FAIL: IC_ISA=neon chose $bad, or IC_DEBUG did not say the SVE variant was above the cap" >&2
  fail=1
else
  echo "ok: every chosen variant is _neon or _ref"
fi

echo
echo "== IC_ISA=sve IC_DEBUG=1 on -cpu neoverse-n1"
IC_ISA=sve IC_DEBUG=1 qemu-aarch64 -cpu neoverse-n1 "$ic" list --json >"$tmp/n1.json" 2>"$tmp/n1.err"
grep -A5 -E '^infercost: gemv q8_0' "$tmp/n1.err"
if grep -q 'gemv q8_0 -> gemv_q8_0_dotprod' "$tmp/n1.err" &&
   grep -q 'passed over gemv_q8_0_sve: missing sve' "$tmp/n1.err" &&
   grep -q 'IC_ISA cap sve' "$tmp/n1.err"; then
  echo "ok: capped at sve, Neoverse N1 gets the dotprod variant, and the log says why"
else
  echo "FAIL: IC_ISA=sve on neoverse-n1 did not choose gemv_q8_0_dotprod with the reasons logged" >&2
  fail=1
fi

# The vector length decides between NEON and SVE (kernels/list_arm.inc): the same CPU model at 128
# bits keeps gemv_f32_neon, saying the SVE variant misses sve_vl256, and at 256 bits takes SVE.
echo
echo "== vector-length choice: -cpu max at 128 and at 256 bits"
IC_DEBUG=1 qemu-aarch64 -cpu max,sve-default-vector-length=16 "$ic" list --json >"$tmp/vl128.json" 2>"$tmp/vl128.err"
IC_DEBUG=1 qemu-aarch64 -cpu max,sve-default-vector-length=32 "$ic" list --json >"$tmp/vl256.json" 2>"$tmp/vl256.err"
grep -A3 -E '^infercost: gemv f32' "$tmp/vl128.err"
grep -E '^infercost: gemv f32' "$tmp/vl256.err"
python3 -c '
import json, sys
for f in sys.argv[1:]:
    chosen = sorted(k["name"] for k in json.load(open(f))["kernels"] if k["chosen"] and k["isa"] != "ref")
    print("   %s: %s" % ("128-bit" if "vl128" in f else "256-bit", " ".join(chosen)))' "$tmp/vl128.json" "$tmp/vl256.json"
if grep -q 'gemv f32 -> gemv_f32_neon' "$tmp/vl128.err" &&
   grep -q 'passed over gemv_f32_sve: missing sve_vl256' "$tmp/vl128.err" &&
   grep -q 'gemv f32 -> gemv_f32_sve' "$tmp/vl256.err"; then
  echo "ok: 128 bits keeps gemv_f32_neon (missing sve_vl256), 256 bits takes gemv_f32_sve"
else
  echo "FAIL: the GEMV f32 choice did not follow the vector length (128: neon, 256: sve)" >&2
  fail=1
fi

echo
echo "== instructions per output element"
t_insn=$SECONDS
python3 ci/arm_insn_count.py "$build" --baseline ci/arm_insn_baseline.tsv || fail=1
echo "instruction counts: $((SECONDS - t_insn)) s"

echo
printf '%-34s %6s %6s %5s  %s\n' "configuration" "tested" "usable" "s" "result"
printf '%s\n' "${summary[@]}"
echo "aarch64: $(( $(date +%s) - t0 )) s; $([ $fail = 0 ] && echo PASSED || echo FAILED)"
exit $fail
