/* q4_0 GEMM over 16-row panels with AMX-INT8 (prefill): see gemm_q_p16_amx_body.h. */
#define IC_P16_Q4     1
#define IC_P16_AMX_FN ic_gemm_q4_0_p16_amx
#include "gemm_q_p16_amx_body.h"
