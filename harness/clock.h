/* The one clock every timing in the harness reads: CLOCK_MONOTONIC, immune to wall-clock steps.
 * Google Benchmark keeps its own timers for what it measures; these time everything else (op
 * shares inside the forward pass, probe passes, budgets). */
#ifndef IC_CLOCK_H
#define IC_CLOCK_H

/* Nanoseconds since an arbitrary start. */
double ic_now_ns(void);

/* Seconds since the same start. */
double ic_now_s(void);

#endif
