#!/usr/bin/env bash
# The x86 kernels whose speed rests on software prefetch still have it in their object code.
# GCC may drop a prefetch without a word: it judged an inline helper that only prefetched to have
# no effect, and every call to it went (kernels/x86/attention_prefetch.h). A kernel listed here
# with no prefetch instruction fails the test; a library without the member is a failure too.
#
# usage: prefetch_test.sh LIBIC_KERNELS.a   (skipped, exit 77, without objdump)
set -u
lib=${1:?usage: prefetch_test.sh LIBIC_KERNELS.a}
command -v objdump >/dev/null || { echo "prefetch_test: skipped: no objdump"; exit 77; }
[ -r "$lib" ] || { echo "prefetch_test: cannot read $lib"; exit 1; }

kernels="attention_f32_avx2 attention_f16_avx2 attention_bf16_avx2 attention_q8_0_avx2
attention_f32_avx512 attention_f16_avx512 attention_bf16_avx512 attention_q8_0_avx512
gemv_q8_0_avx2 gemv_q4_0_avx2 gemv_q8_0_avxvnni gemv_q4_0_avxvnni
gemv_q8_0_avx512vnni gemv_q4_0_avx512vnni gemv_bf16_avx512bf16
gemm_q8_0_p16_avx512vnni gemm_q4_0_p16_avx512vnni"
# and those that also prefetch into L2 (prefetcht1): the p16 GEMMs' next panel group
# (prefetch_next_group in kernels/x86/p16_q_avx512vnni_body.h)
l2_kernels="gemm_q8_0_p16_avx512vnni gemm_q4_0_p16_avx512vnni"

# prefetch instructions per archive member: "name.c.o count count_t1"
counts=$(objdump -d "$lib" | awk '
  /file format/ { m = $1; sub(/:$/, "", m); n[m] = 0; t1[m] = 0; next }
  /\tprefetch/ { n[m]++ }
  /\tprefetcht1/ { t1[m]++ }
  END { for (k in n) print k, n[k], t1[k] }')
[ -n "$counts" ] || { echo "prefetch_test: objdump read no members from $lib"; exit 1; }

pass=0 fail=0
# check COLUMN WHAT KERNELS...: each kernel's member has a non-zero count in column COLUMN of
# $counts (2: any prefetch, 3: prefetcht1)
check() {
  local col=$1 what=$2 k c
  shift 2
  for k in "$@"; do
    c=$(awk -v m="$k.c.o" -v col="$col" '$1 == m { print $col }' <<<"$counts")
    if [ -z "$c" ]; then
      echo "FAIL: $k: no member $k.c.o in $lib"; fail=$((fail + 1))
    elif [ "$c" -eq 0 ]; then
      echo "FAIL: $k: no $what in its object code"; fail=$((fail + 1))
    else
      pass=$((pass + 1))
    fi
  done
}
# shellcheck disable=SC2086 # the lists split on purpose
check 2 "prefetch instruction" $kernels
# shellcheck disable=SC2086
check 3 "prefetcht1 (the next panel group into L2)" $l2_kernels
echo "prefetch_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
