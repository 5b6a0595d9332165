# Cross-compiling for aarch64 Linux with Debian's gcc-aarch64-linux-gnu; binaries run under
# qemu-aarch64. Used by ci/aarch64.sh:
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# Libraries (jansson) come from Debian's arm64 multiarch packages (libjansson-dev:arm64), which
# install into /usr/lib/aarch64-linux-gnu. Binaries are linked statically, so qemu needs no
# sysroot and the result runs as-is on a Graviton.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config must see only the arm64 .pc files, never the host's.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
# pkg_check_modules(IMPORTED_TARGET) resolves -ljansson to the shared object, which a static link
# refuses: point its cache entry at the archive from libjansson-dev:arm64.
if(EXISTS /usr/lib/aarch64-linux-gnu/libjansson.a)
  set(pkgcfg_lib_JANSSON_jansson /usr/lib/aarch64-linux-gnu/libjansson.a CACHE FILEPATH
      "arm64 jansson, static")
endif()
