/* Hardware counters around a benchmark's timed loop: cycles, instructions and last-level cache
 * misses, counted on every worker of a pool and summed. PAPI provides them where the machine
 * exposes counters; virtual machines often expose none, and then opening says why. The event
 * source is a small interface so that tests can stand in for PAPI. */
#ifndef IC_COUNTERS_H
#define IC_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "pool.h"

enum { IC_CTR_CYCLES = 0, IC_CTR_INSTRUCTIONS, IC_CTR_LLC_MISSES, IC_CTR_COUNT };

/* Totals of one start/stop, over all workers; have[i] is 0 for an event the machine lacks. */
typedef struct ic_counters_sample {
    long long value[IC_CTR_COUNT];
    int have[IC_CTR_COUNT];
} ic_counters_sample;

/* An event source. Each function returns 0 or -1 (with a reason where it takes one). */
typedef struct ic_counter_backend {
    const char *name;
    /* Once per process: set have[i] for the events this machine can count, and their names;
     * -1 with the library's reason when it can count none. */
    int (*init)(int have[IC_CTR_COUNT], const char *names[IC_CTR_COUNT], char *why, size_t whylen);
    /* Per thread, on that thread: an event set with the events of have[]. */
    int (*thread_open)(void **handle, const int have[IC_CTR_COUNT], char *why, size_t whylen);
    int (*start)(void *handle);
    /* Stops and stores the counts of the events of have[], in enum order, into vals. */
    int (*stop)(void *handle, long long vals[IC_CTR_COUNT]);
    void (*thread_close)(void *handle);
} ic_counter_backend;

typedef struct ic_counters ic_counters;

/* PAPI's backend (NULL in a build without PAPI). */
const ic_counter_backend *ic_counters_papi(void);

/* Opens counters on every worker of pool with backend be (NULL: PAPI). Returns 0, or -1 with
 * the reason in why ("PAPI 7.0.0.0: no usable event ...; perf_event component disabled: ..."). */
int ic_counters_open_with(ic_counters **out, ic_pool *pool, const ic_counter_backend *be, char *why,
                          size_t whylen);
int ic_counters_open(ic_counters **out, ic_pool *pool, char *why, size_t whylen);

/* Starts counting on every worker; stop sums the workers' counts into out. 0 or -1. */
int ic_counters_start(ic_counters *c);
int ic_counters_stop(ic_counters *c, ic_counters_sample *out);

/* The events counted, e.g. "PAPI_TOT_CYC PAPI_TOT_INS PAPI_L3_TCM". Owned by c. */
const char *ic_counters_events(const ic_counters *c);

/* Frees everything; NULL is allowed. */
void ic_counters_close(ic_counters *c);

/* A figure derived from a sample: per-iteration counts, IPC, bytes per instruction. */
typedef struct ic_counter_figure {
    const char *name; /* "cycles", "instructions", "llc_misses", "ipc", "bytes_per_instruction" */
    double value;
} ic_counter_figure;

/* Fills out (room for at least 5) from a sample over `iterations` iterations that each moved
 * bytes_per_iter bytes: counts per iteration, then IPC and bytes per instruction where their
 * inputs exist. Returns how many were written. */
int ic_counters_derive(const ic_counters_sample *s, int64_t iterations, double bytes_per_iter,
                       ic_counter_figure *out);

/* "7.0.0.0", or "unavailable: built without PAPI". */
const char *ic_counters_library_version(void);

#endif
