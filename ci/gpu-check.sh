#!/usr/bin/env bash
# The CUDA backend on a GPU machine (the device tool's run, from the repository root there):
# prints the machine (nvidia-smi, the CPU and whether it has AMX), configures build-gpu/ without
# the optional libraries that machine lacks (jansson and Google Benchmark come from gpu-deps/,
# packed here by ci/gpu-pack.sh and carried), builds the CUDA test and infercost, runs the test
# with --bench (every kernel against the references, small models end to end, llama-3.1-8b
# timings and the probes), then `infercost run --device cuda` for llama-3.1-8b in bf16 and q8_0
# at batch 1 and 64, priced as a p5.48xlarge GPU.
# Logs go to $OUT (the device tool's folder; build-gpu/gpu-check/ elsewhere).
#   here:  bash ci/gpu-pack.sh
#   there: run(command="bash ci/gpu-check.sh", carry=["gpu-deps"], timeout_s=480)
# Exit 0 when the test passed, 77 when it found no GPU (it skips: a machine without one), 1
# otherwise. IC_GPU_JOBS sets the build's parallelism (default: every core).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${IC_GPU_BUILD_DIR:-build-gpu}
out=${OUT:-$build/gpu-check}
jobs=${IC_GPU_JOBS:-$(nproc 2>/dev/null || echo 4)}
deps=$PWD/gpu-deps
mkdir -p "$out"
log() { echo "gpu-check: $*" | tee -a "$out/summary.txt"; }

if [ ! -f "$deps/lib/pkgconfig/jansson.pc" ]; then
  log "gpu-deps/ is missing: run ci/gpu-pack.sh on the build machine and carry gpu-deps"
  exit 1
fi
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
export PKG_CONFIG_PATH=$deps/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pc=()
if ! command -v pkg-config >/dev/null || [ -n "${IC_GPU_PC_STANDIN:-}" ]; then
  pc=(-DPKG_CONFIG_EXECUTABLE="$deps/bin/pkg-config")
  log "pkg-config: the stand-in in gpu-deps/bin"
fi

{
  echo "== GPU"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem \
      --format=csv
  else
    echo "nvidia-smi: not found"
  fi
  echo "== CPU"
  grep -m1 '^model name' /proc/cpuinfo
  echo "cores: $(nproc)"
  amx=$(grep -m1 -o 'amx[a-z_0-9]*' /proc/cpuinfo)
  echo "AMX: ${amx:-none (no amx flag in /proc/cpuinfo)}"
  echo "== tools"
  nvcc --version 2>&1 | tail -2
  cmake --version | head -1
  ${CC:-cc} --version | head -1
} > "$out/machine.txt" 2>&1
cat "$out/machine.txt"

t0=$(date +%s)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINFERCOST_WERROR=OFF \
  -DCMAKE_PREFIX_PATH="$deps" -DINFERCOST_WITH_HWLOC=OFF -DINFERCOST_WITH_PAPI=OFF \
  -DINFERCOST_WITH_OPENBLAS=OFF -DINFERCOST_WITH_SQLITE3=OFF -DINFERCOST_WITH_CUDA=ON \
  "${pc[@]}" > "$out/configure.log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
  tail -30 "$out/configure.log"
  log "configure failed (exit $rc): $out/configure.log"
  exit 1
fi
cmake --build "$build" -j "$jobs" --target test_offload_cuda infercost > "$out/build.log" 2>&1
rc=$?
t1=$(date +%s)
if [ $rc -ne 0 ]; then
  grep -E "error|Error" "$out/build.log" | head -30
  log "build failed (exit $rc): $out/build.log"
  exit 1
fi
log "configured and built test_offload_cuda and infercost in $((t1 - t0)) s with -j $jobs"

"$build/tests/test_offload_cuda" --bench 2>&1 | tee "$out/test.log"
rc=${PIPESTATUS[0]}
case $rc in
  0) log "test_offload_cuda passed" ;;
  77) log "test_offload_cuda skipped its GPU checks: $(grep -m1 'skipped' "$out/test.log")" ;;
  *) log "test_offload_cuda FAILED (exit $rc): $out/test.log"; rc=1 ;;
esac

# The whole run on the device, through the benchmark shim (libbenchmark from gpu-deps/).
export LD_LIBRARY_PATH=$deps/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
ic=$build/harness/infercost
"$ic" list > "$out/list.txt" 2>&1 || log "infercost list failed: $(tail -3 "$out/list.txt")"
sed -n '/^offload backends/,/^$/p' "$out/list.txt"
if [ $rc -eq 0 ]; then
  for dt in bf16 q8_0; do
    "$ic" run --device cuda --model llama-3.1-8b --dtype "$dt" --context 128 --batch 1,64 \
      --prefill 512 --repetitions 3 --instance p5.48xlarge --json "$out/run-$dt.json" \
      > "$out/run-$dt.txt" 2>&1
    r=$?
    cat "$out/run-$dt.txt"
    if [ $r -eq 0 ]; then log "run --device cuda $dt: passed ($out/run-$dt.json)"; else
      log "run --device cuda $dt FAILED (exit $r): $(tail -2 "$out/run-$dt.txt")"
      rc=1
    fi
  done
fi
exit $rc
