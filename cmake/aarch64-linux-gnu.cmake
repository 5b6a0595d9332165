# Cross-compiling for aarch64 Linux with Debian's gcc-aarch64-linux-gnu; binaries run under
# qemu-aarch64. Used by ci/aarch64.sh:
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# Libraries (jansson) come from Debian's arm64 multiarch packages (libjansson-dev:arm64), which
# install into /usr/lib/aarch64-linux-gnu. Binaries are linked statically, so qemu needs no
# sysroot and the result runs as-is on a Graviton.
include(${CMAKE_CURRENT_LIST_DIR}/aarch64-linux-gnu-common.cmake)
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
# pkg_check_modules(IMPORTED_TARGET) resolves -ljansson to the shared object, which a static link
# refuses: point its cache entry at the archive from libjansson-dev:arm64.
if(EXISTS /usr/lib/aarch64-linux-gnu/libjansson.a)
  set(pkgcfg_lib_JANSSON_jansson /usr/lib/aarch64-linux-gnu/libjansson.a CACHE FILEPATH
      "arm64 jansson, static")
endif()
