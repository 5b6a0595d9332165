/* The harness's clock (see clock.h). */
#define _POSIX_C_SOURCE 200809L
#include "clock.h"

#include <time.h>

double ic_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

double ic_now_s(void) {
    return ic_now_ns() * 1e-9;
}
