#!/usr/bin/env bash
# Installs the Debian packages infercost needs to build and test. Idempotent: when every package is
# already installed it only says so, and touches neither apt's lists nor the network.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git clang-format
  clang libclang-rt-14-dev              # clang sanitizer job and libFuzzer (ci/sanitize-clang.sh, ci/fuzz.sh)
  libbenchmark-dev libbenchmark-tools   # Google Benchmark, and its tools/compare.py
  libhwloc-dev hwloc                    # topology and thread binding
  libpapi-dev papi-tools                # hardware counters
  libopenblas-dev                       # f32 baseline (cblas_sgemv / cblas_sgemm)
  libjansson-dev                        # JSON for result files, scenarios and catalogs
  libsqlite3-dev sqlite3                # the history store (infercost history, compare)
  gnuplot-nox                           # the charts of infercost report
  python3 python3-scipy python3-numpy python3-pandas   # compare.py reads our JSON in the tests
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user   # aarch64 cross build, run under qemu
  binutils-aarch64-linux-gnu            # nm/objdump for ci/arm_insn_count.py
  valgrind                              # callgrind counts for ci/x86-insn-gate.sh
  slurm-wlm munge                       # a one-node Slurm for the fleet test (ci/slurm-local.sh)
  libjansson-dev:arm64                  # jansson for the aarch64 infercost (multiarch, see below)
  g++-aarch64-linux-gnu libbenchmark-dev:arm64   # the arm64 package that measures (ci/aarch64-package.sh)
)

# The aarch64 cross build links Debian's arm64 jansson: that needs the arm64 architecture in dpkg
# (once; apt then fetches its package lists on the update below).
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "install-deps: adding the arm64 architecture to dpkg (for libjansson-dev:arm64)"
  $sudo dpkg --add-architecture arm64
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
