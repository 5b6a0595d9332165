/* Cache sizes for the x86 kernels' blocking, read once at run time. (Built with the AVX2 flags
 * because every file here carries an ISA suffix; it uses none.) */
#define _GNU_SOURCE
#include "x86_util.h"

#include <pthread.h>
#include <unistd.h>

static size_t g_l2 = 1u << 20;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void read_l2(void) {
    long v = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (v >= 64 * 1024 && v <= (1l << 30)) g_l2 = (size_t)v;
}

size_t ic_x86_l2_bytes(void) {
    pthread_once(&g_once, read_l2);
    return g_l2;
}
