/* Cache sizes for the x86 kernels' blocking: ic_cpu's (hwloc's when the harness set them). (Built
 * with the AVX2 flags because every file here carries an ISA suffix; it uses none.) */
#include "../ic_cpu.h"
#include "x86_util.h"

size_t ic_x86_l2_bytes(void) {
    return ic_cpu_l2_bytes();
}
