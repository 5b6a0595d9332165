/* Softmax with AVX-512F: max, exp and sum, scale; the vector exp is in ops_avx512.h. */
#ifndef __AVX512F__
#error "softmax_avx512.c needs AVX-512F (-mavx512f)"
#endif
#include <assert.h>
#include <math.h>

#include "ops_avx512.h"

float ic_softmax_avx512(float *x, size_t n) {
    assert(x != NULL && n >= 1);
    return ic_x86_softmax512(x, n);
}
