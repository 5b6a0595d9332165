# cmake --install and CPack (DEB, TGZ): a relocatable tree
#   bin/infercost
#   share/infercost/platforms/   (the catalog: every .tsv and scenarios/)
#   share/doc/infercost/         (README.md, docs/*.md, results/SCHEMA.md)
# The binary finds its catalog at <its directory>/../share/infercost/platforms (harness/catalog.c,
# ic_catalog_find), so these two destinations are fixed, not GNUInstallDirs' settable ones.
install(TARGETS infercost RUNTIME DESTINATION bin)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/platforms/ DESTINATION share/infercost/platforms
        FILES_MATCHING PATTERN "*.tsv" PATTERN "scenarios/*.json")
# The docs keep the source tree's layout, so that README.md's relative links still resolve.
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION share/doc/infercost)
install(FILES ${CMAKE_SOURCE_DIR}/results/SCHEMA.md DESTINATION share/doc/infercost/results)
file(GLOB ic_doc_pages CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${ic_doc_pages} DESTINATION share/doc/infercost/docs)

set(CPACK_PACKAGE_NAME infercost)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "infercost")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "LLM inference cost benchmark: measured tokens/s and $ per million tokens on EC2 types")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "infercost runs architecture-specific kernels (AVX2/AVX-512, NEON/SVE) at the shapes of "
       "real LLMs, composes them into a per-token decode and prefill, and turns the measured "
       "throughput into price-performance for EC2 instance types from its platform catalog.")
set(CPACK_PACKAGE_CONTACT "infercost maintainers <maintainers@users.noreply.r-seed-a934cb7a.example>")
set(CPACK_RESOURCE_FILE_README ${CMAKE_SOURCE_DIR}/README.md)
set(CPACK_GENERATOR "DEB;TGZ")
# The architecture in the file names: a cross build's packages must not read as the host's.
set(CPACK_SYSTEM_NAME Linux-${CMAKE_SYSTEM_PROCESSOR})
set(CPACK_STRIP_FILES OFF) # keep the symbols: perf and the instruction counts read them

# Debian: the dependencies come from the binary's shared libraries (dpkg-shlibdeps), else from the
# optional libraries this build links. A CUDA build also packs lib/infercost/libic_offload_cuda.so
# (kernels/offload/cuda), opened only on first use; its cuBLAS is the CUDA toolkit's, owned by no
# Debian package, so it adds no dependency (CPack runs dpkg-shlibdeps with --ignore-missing-info).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64)$")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "gnuplot-nox")
find_program(IC_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(IC_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(ic_deb_depends "libc6" "libjansson4")
  if(IC_HAVE_BENCHMARK)
    list(APPEND ic_deb_depends "libbenchmark1debian" "libstdc++6")
  endif()
  foreach(dep HWLOC:libhwloc15 PAPI:libpapi7.0 OPENBLAS:libopenblas0 SQLITE3:libsqlite3-0)
    string(REPLACE ":" ";" dep ${dep})
    list(GET dep 0 flag)
    list(GET dep 1 pkg)
    if(IC_HAVE_${flag})
      list(APPEND ic_deb_depends ${pkg})
    endif()
  endforeach()
  string(REPLACE ";" ", " CPACK_DEBIAN_PACKAGE_DEPENDS "${ic_deb_depends}")
endif()
include(CPack)
