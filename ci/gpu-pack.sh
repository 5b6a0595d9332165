#!/usr/bin/env bash
# Packs, on this (Debian) machine, what ci/gpu-check.sh needs on a GPU machine that has CUDA and
# CMake but none of Debian's development packages and no network: jansson, which the top-level
# CMakeLists.txt requires, as Debian's static libjansson.a with its headers and a relocatable
# pkg-config file, in gpu-deps/ (ignored by git). The device tool carries it:
#   bash ci/gpu-pack.sh                    (here)
#   run(command="bash ci/gpu-check.sh", carry=["gpu-deps"])
# Google Benchmark too (Debian's shared libbenchmark with its headers and a small CMake package
# file), so that the GPU build has the shim `run --device cuda` times through; it needs a C++
# runtime on that machine at least as new as Debian 12's (gpu-check.sh says so when it is not).
# Also a stand-in `pkg-config` (gpu-deps/bin) that answers CMake's questions about jansson alone,
# for a machine without pkg-config; gpu-check.sh uses it only there.
set -euo pipefail
cd "$(dirname "$0")/.."
lib=${IC_JANSSON_A:-/usr/lib/x86_64-linux-gnu/libjansson.a}
inc=${IC_JANSSON_INCLUDE:-/usr/include}
for f in "$lib" "$inc/jansson.h" "$inc/jansson_config.h"; do
  [ -f "$f" ] || { echo "gpu-pack: $f not found: install libjansson-dev (ci/install-deps.sh)" >&2; exit 1; }
done
version=$(pkg-config --modversion jansson 2>/dev/null || true)
[ -n "$version" ] || version=$(sed -n 's/^#define JANSSON_VERSION *"\([^"]*\)".*/\1/p' "$inc/jansson.h")
[ -n "$version" ] || { echo "gpu-pack: cannot tell jansson's version" >&2; exit 1; }

rm -rf gpu-deps
mkdir -p gpu-deps/lib/pkgconfig gpu-deps/include gpu-deps/bin
cp "$lib" gpu-deps/lib/libjansson.a
cp "$inc/jansson.h" "$inc/jansson_config.h" gpu-deps/include/
bench=${IC_BENCHMARK_SO:-/usr/lib/x86_64-linux-gnu/libbenchmark.so.1.7.1}
[ -f "$bench" ] && [ -f /usr/include/benchmark/benchmark.h ] ||
  { echo "gpu-pack: $bench or its headers not found: install libbenchmark-dev" >&2; exit 1; }
soname=$(objdump -p "$bench" | sed -n 's/^ *SONAME *//p')
mkdir -p gpu-deps/lib/cmake/benchmark gpu-deps/include/benchmark
cp "$bench" "gpu-deps/lib/$soname"
cp /usr/include/benchmark/*.h gpu-deps/include/benchmark/
# The imported target find_package(benchmark) gives, relative to this file wherever it lands.
cat > gpu-deps/lib/cmake/benchmark/benchmarkConfig.cmake <<CFG
# Debian's libbenchmark $(basename "$bench"), packed by ci/gpu-pack.sh.
set(benchmark_VERSION ${bench##*.so.})
if(NOT TARGET benchmark::benchmark)
  add_library(benchmark::benchmark SHARED IMPORTED)
  set_target_properties(benchmark::benchmark PROPERTIES
    IMPORTED_LOCATION "\${CMAKE_CURRENT_LIST_DIR}/../../$soname"
    INTERFACE_INCLUDE_DIRECTORIES "\${CMAKE_CURRENT_LIST_DIR}/../../../include")
endif()
CFG
# ${pcfiledir}: the paths hold wherever the working tree lands on the other machine.
cat > gpu-deps/lib/pkgconfig/jansson.pc <<EOF
prefix=\${pcfiledir}/../..
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: Jansson
Description: jansson $version, static, from $lib (ci/gpu-pack.sh)
Version: $version
Libs: -L\${libdir} -ljansson
Cflags: -I\${includedir}
EOF

cat > gpu-deps/bin/pkg-config <<'EOF'
#!/usr/bin/env bash
# A stand-in for pkg-config that knows one package, jansson in this gpu-deps/ (ci/gpu-pack.sh),
# and answers the questions CMake's FindPkgConfig asks; anything else is "not found".
deps=$(cd "$(dirname "$0")/.." && pwd)
version=@VERSION@
query="" pkgs=()
for a in "$@"; do
  case "$a" in
    --version) echo 0.29.2; exit 0 ;;
    --print-errors|--short-errors|--static|--silence-errors|--errors-to-stdout) ;;
    --*) query=$a ;;
    *) pkgs+=("$a") ;;
  esac
done
for p in "${pkgs[@]}"; do
  case "$p" in jansson|jansson\>*|jansson=*) ;; *) echo "Package $p was not found" >&2; exit 1 ;; esac
done
case "$query" in
  --exists|"") exit 0 ;;
  --modversion) echo "$version" ;;
  --variable=prefix|--variable=exec_prefix) echo "$deps" ;;
  --variable=libdir) echo "$deps/lib" ;;
  --variable=includedir) echo "$deps/include" ;;
  --variable=pcfiledir) echo "$deps/lib/pkgconfig" ;;
  --variable=*) echo "" ;;
  --libs) echo "-L$deps/lib -ljansson" ;;
  --libs-only-L) echo "-L$deps/lib" ;;
  --libs-only-l) echo "-ljansson" ;;
  --libs-only-other|--cflags-only-other) echo "" ;;
  --cflags|--cflags-only-I) echo "-I$deps/include" ;;
  *) echo "pkg-config stand-in: $query is not answered" >&2; exit 1 ;;
esac
EOF
sed -i "s/@VERSION@/$version/" gpu-deps/bin/pkg-config
chmod +x gpu-deps/bin/pkg-config
echo "gpu-pack: gpu-deps/ holds jansson $version ($(du -sh gpu-deps | cut -f1)); carry it: carry=[\"gpu-deps\"], command: bash ci/gpu-check.sh"
