# Cross-compiling for aarch64 Linux, linked against the shared libraries of Debian's arm64
# multiarch packages (libjansson-dev:arm64, libbenchmark-dev:arm64), which Debian has no static
# libbenchmark for: the binary can measure, and its .deb depends on the arm64 packages. Used by
# ci/aarch64-package.sh:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu-shared.cmake
# Binaries run under qemu-aarch64 with the arm64 loader and libraries that the multiarch packages
# install (/lib/ld-linux-aarch64.so.1, /usr/lib/aarch64-linux-gnu), or with -L /usr/aarch64-linux-gnu.
include(${CMAKE_CURRENT_LIST_DIR}/aarch64-linux-gnu-common.cmake)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
# benchmarkConfig.cmake lies in /usr/lib/aarch64-linux-gnu/cmake/benchmark, which the root paths
# above do not reach through find_package's search patterns.
if(EXISTS /usr/lib/aarch64-linux-gnu/cmake/benchmark/benchmarkConfig.cmake)
  set(benchmark_DIR /usr/lib/aarch64-linux-gnu/cmake/benchmark CACHE PATH "arm64 Google Benchmark")
endif()
