# Per-file ISA flags. A kernel file's name ends in its ISA ("gemv_q8_0_avx512vnni.c"); only that
# file is compiled for that ISA, so one binary holds every variant and dispatch picks at run time.
function(ic_isa_flags isa out)
  set(x86_avx2 -mavx2 -mfma -mf16c)
  set(x86_avx512 ${x86_avx2} -mavx512f -mavx512bw -mavx512vl -mavx512dq)
  set(flags_avx2 ${x86_avx2})
  set(flags_avxvnni ${x86_avx2} -mavxvnni)
  set(flags_avx512 ${x86_avx512})
  set(flags_avx512vnni ${x86_avx512} -mavx512vnni)
  set(flags_avx512bf16 ${x86_avx512} -mavx512vnni -mavx512bf16)
  set(flags_amx ${x86_avx512} -mavx512vnni -mavx512bf16 -mamx-tile -mamx-int8 -mamx-bf16)
  # Each Arm ISA enables only the extension its variants declare in kernels/list_arm.inc, so the
  # compiler cannot slip in an instruction dispatch did not check (A64FX has SVE but no dotprod;
  # Neoverse N1 has dotprod but no i8mm or bf16).
  set(flags_neon -march=armv8-a)
  set(flags_dotprod -march=armv8.2-a+dotprod)
  set(flags_i8mm -march=armv8.2-a+i8mm)
  set(flags_bf16 -march=armv8.2-a+bf16)
  set(flags_sve -march=armv8.2-a+sve)
  set(flags_sve2 -march=armv8.2-a+sve2)
  if(NOT DEFINED flags_${isa})
    message(FATAL_ERROR "kernel ISA '${isa}' has no flags in cmake/isa.cmake")
  endif()
  set(${out} ${flags_${isa}} PARENT_SCOPE)
endfunction()

# Adds the kernel files of one architecture folder to target, each with the flags of its ISA.
function(ic_add_isa_kernels target dir)
  file(GLOB srcs CONFIGURE_DEPENDS ${dir}/*.c)
  foreach(src ${srcs})
    get_filename_component(stem ${src} NAME_WE)
    string(REGEX MATCH "[a-z0-9]+$" isa ${stem})
    ic_isa_flags(${isa} flags)
    string(REPLACE ";" " " flags "${flags}")
    set_source_files_properties(${src} PROPERTIES COMPILE_FLAGS "${flags}")
    target_sources(${target} PRIVATE ${src})
  endforeach()
endfunction()
