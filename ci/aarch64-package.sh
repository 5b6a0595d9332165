#!/usr/bin/env bash
# The arm64 package whose binary measures: cross-builds infercost linked against Debian's arm64
# shared libraries (toolchain cmake/aarch64-linux-gnu-shared.cmake; jansson and Google Benchmark
# from libjansson-dev:arm64 and libbenchmark-dev:arm64; hwloc, PAPI, OpenBLAS, SQLite and CUDA
# OFF), packs it with cpack (TGZ and DEB), unpacks the tarball elsewhere and, from /, with
# IC_PLATFORMS_DIR unset, runs its binary under qemu-aarch64 (the arm64 loader and libraries come
# from the multiarch packages): list must name the unpacked catalog as installed, prices show
# reads it, and a short measured run (qwen2.5-0.5b, context 128, one repetition, no prefill) must
# write a result measured on aarch64. The .deb must be arm64, list the binary and the catalog and
# depend on libbenchmark1debian.
# Usage: bash ci/aarch64-package.sh   (build dir: build-arm64/, or $IC_ARM64_BUILD_DIR; $IC_JOBS
# build jobs, default nproc).
# Exit 0 when everything passed, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${IC_ARM64_BUILD_DIR:-build-arm64}
jobs=${IC_JOBS:-$(nproc 2>/dev/null || echo 2)}
t0=$SECONDS

for tool in aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ qemu-aarch64 cpack python3; do
  command -v "$tool" >/dev/null || { echo "aarch64-package: $tool not found: run ci/install-deps.sh" >&2; exit 1; }
done
for f in /usr/lib/aarch64-linux-gnu/cmake/benchmark/benchmarkConfig.cmake /usr/lib/aarch64-linux-gnu/libjansson.so \
  /lib/ld-linux-aarch64.so.1; do
  [ -e "$f" ] || { echo "aarch64-package: $f is missing (libbenchmark-dev:arm64, libjansson-dev:arm64, libc6:arm64): run ci/install-deps.sh" >&2; exit 1; }
done

echo "== arm64 build linked against the shared libraries ($build)"
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu-shared.cmake \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINFERCOST_WERROR=ON -DBUILD_TESTING=OFF \
  -DINFERCOST_WITH_BENCHMARK=ON -DINFERCOST_WITH_HWLOC=OFF -DINFERCOST_WITH_PAPI=OFF \
  -DINFERCOST_WITH_OPENBLAS=OFF -DINFERCOST_WITH_SQLITE3=OFF -DINFERCOST_WITH_CUDA=OFF >/dev/null
build=$(cd "$build" && pwd -P)
cmake --build "$build" -j "$jobs"
if command -v file >/dev/null; then file "$build/harness/infercost" | sed "s/, BuildID[^,]*//"; fi
t_build=$((SECONDS - t0))

echo "== cpack -G TGZ;DEB"
rm -rf "$build/packages"
(cd "$build" && cpack -G "TGZ;DEB" -B "$build/packages" >cpack.log 2>&1) || { tail -20 "$build/cpack.log" >&2; exit 1; }
tgz=$(ls "$build"/packages/infercost-*-Linux-aarch64.tar.gz)
deb=$(ls "$build"/packages/infercost_*_arm64.deb)
ls -l "$tgz" "$deb"
t_pack=$((SECONDS - t0 - t_build))

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P)
fail=0
check() { # check DESCRIPTION command...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; fail=1; fi
}

tar xzf "$tgz" -C "$tmp"
top=$(ls "$tmp")
mv "$tmp/$top" "$tmp/unpacked"
ic=$tmp/unpacked/bin/infercost
mkdir -p "$tmp/nosys"
unset IC_PLATFORMS_DIR
export IC_SYSFS_ROOT=$tmp/nosys # off EC2, whatever this host is

echo "== the unpacked package under qemu-aarch64, from /"
(cd / && qemu-aarch64 "$ic" list) >"$tmp/list.txt" 2>&1 || true
grep -E '^(CPU|catalog)|^  benchmark' "$tmp/list.txt" || true
check "list names the unpacked catalog as installed" \
  grep -qxE "catalog +$tmp/unpacked/share/infercost/platforms \(installed\)" "$tmp/list.txt"
(cd / && qemu-aarch64 "$ic" prices show c7a.large) >"$tmp/prices.txt" 2>&1 || true
check "prices show reads the installed catalog" grep -qE '^c7a\.large +us-east-1 +on-demand' "$tmp/prices.txt"

t_run0=$SECONDS
run=(run --quick --model qwen2.5-0.5b --context 128 --repetitions 1 --prefill 0 --json "$tmp/result.json")
echo "qemu-aarch64 infercost ${run[*]}"
if (cd / && qemu-aarch64 "$ic" "${run[@]}") >"$tmp/run.txt" 2>&1; then
  grep -E '^qwen2\.5-0\.5b ' "$tmp/run.txt" || true
else
  echo "FAIL: run exited non-zero:" >&2
  tail -20 "$tmp/run.txt" >&2
  fail=1
fi
t_run=$((SECONDS - t_run0))
check "the run wrote a result measured on aarch64 with Google Benchmark" python3 - "$tmp/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["env"]["arch"] == "aarch64", r["env"]["arch"]
assert r["env"]["libraries"]["benchmark"] not in (None, "unavailable"), r["env"]["libraries"]
m = [x for x in r["measurements"] if x["kind"] == "decode" and x["provenance"] == "measured"]
assert m and m[0]["tok_per_s"] > 0, r["measurements"]
print("  decode ctx 128: %.3f tok/s (under emulation: not a Graviton figure)" % m[0]["tok_per_s"])
PY

echo "== the .deb"
dpkg-deb -f "$deb" Package Version Architecture Depends | sed 's/^/  /'
check "the .deb is arm64" test "$(dpkg-deb -f "$deb" Architecture)" = arm64
check "the .deb depends on libbenchmark1debian" sh -c 'dpkg-deb -f "$1" Depends | grep -q libbenchmark1debian' sh "$deb"
dpkg-deb -c "$deb" >"$tmp/deb.txt"
check "the .deb lists usr/bin/infercost and the catalog" sh -c \
  'grep -q " \./usr/bin/infercost$" "$1" && grep -q " \./usr/share/infercost/platforms/prices\.tsv$" "$1"' sh "$tmp/deb.txt"

echo "aarch64-package: build $t_build s, cpack $t_pack s, run under qemu $t_run s; total $((SECONDS - t0)) s; $([ $fail = 0 ] && echo PASSED || echo FAILED)"
exit $fail
