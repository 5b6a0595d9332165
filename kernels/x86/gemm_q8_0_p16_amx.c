/* q8_0 GEMM over 16-row panels with AMX-INT8 (prefill): see gemm_q_p16_amx_body.h. */
#define IC_P16_Q4     0
#define IC_P16_AMX_FN ic_gemm_q8_0_p16_amx
#include "gemm_q_p16_amx_body.h"
