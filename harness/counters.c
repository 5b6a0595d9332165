/* Counters on every worker of a pool, through a backend: PAPI here, a stand-in in tests. */
#define _GNU_SOURCE
#include "counters.h"
#include "ic_config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if IC_HAVE_PAPI
#include <papi.h>
#endif

struct ic_counters {
    ic_pool *pool;
    const ic_counter_backend *be;
    int have[IC_CTR_COUNT];
    int n; /* workers */
    void **handles;
    long long (*vals)[IC_CTR_COUNT];
    int *failed;
    char **why; /* per worker, for thread_open */
    char events[128];
};

/* ---- PAPI ---- */
#if IC_HAVE_PAPI
static const int g_papi_events[IC_CTR_COUNT] = {PAPI_TOT_CYC, PAPI_TOT_INS, PAPI_L3_TCM};
static const char *const g_papi_names[IC_CTR_COUNT] = {"PAPI_TOT_CYC", "PAPI_TOT_INS",
                                                       "PAPI_L3_TCM"};

static unsigned long papi_thread_id(void) {
    return (unsigned long)pthread_self();
}

static struct {
    pthread_once_t once;
    int rc;
    char why[400];
} g_papi = {.once = PTHREAD_ONCE_INIT};

/* Why PAPI can count nothing: each compiled-in component's own disabled reason. */
static void papi_component_reasons(char *out, size_t len) {
    size_t used = strlen(out);
    int n = PAPI_num_components();
    for (int c = 0; c < n && used < len; c++) {
        const PAPI_component_info_t *ci = PAPI_get_component_info(c);
        if (ci == NULL || !ci->disabled) continue;
        if (strcmp(ci->name, "perf_event") != 0 && strcmp(ci->name, "perf_event_uncore") != 0)
            continue;
        used += (size_t)snprintf(out + used, len - used, "; component %s disabled: %s", ci->name,
                                 ci->disabled_reason);
    }
}

static void papi_init_once(void) {
    int v = PAPI_library_init(PAPI_VER_CURRENT);
    if (v != PAPI_VER_CURRENT) {
        snprintf(g_papi.why, sizeof g_papi.why, "PAPI_library_init failed: %s",
                 v < 0 ? PAPI_strerror(v) : "version mismatch between header and library");
        g_papi.rc = -1;
        return;
    }
    int rc = PAPI_thread_init(papi_thread_id);
    if (rc != PAPI_OK) {
        snprintf(g_papi.why, sizeof g_papi.why, "PAPI_thread_init failed: %s", PAPI_strerror(rc));
        g_papi.rc = -1;
    }
}

static int papi_init(int have[IC_CTR_COUNT], const char *names[IC_CTR_COUNT], char *why,
                     size_t whylen) {
    pthread_once(&g_papi.once, papi_init_once);
    if (g_papi.rc != 0) {
        snprintf(why, whylen, "%s", g_papi.why);
        return -1;
    }
    int any = 0;
    char missing[200] = "";
    for (int i = 0; i < IC_CTR_COUNT; i++) {
        have[i] = PAPI_query_event(g_papi_events[i]) == PAPI_OK;
        names[i] = g_papi_names[i];
        any |= have[i];
        if (!have[i])
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
                     missing[0] ? ", " : "", g_papi_names[i]);
    }
    if (!any) {
        snprintf(why, whylen, "PAPI %d.%d.%d.%d has no event for %s (hardware counters: %d)",
                 PAPI_VERSION_MAJOR(PAPI_VERSION), PAPI_VERSION_MINOR(PAPI_VERSION),
                 PAPI_VERSION_REVISION(PAPI_VERSION), PAPI_VERSION_INCREMENT(PAPI_VERSION), missing,
                 PAPI_num_hwctrs());
        papi_component_reasons(why, whylen);
        return -1;
    }
    return 0;
}

static int papi_thread_open(void **handle, const int have[IC_CTR_COUNT], char *why, size_t whylen) {
    int *set = malloc(sizeof *set);
    if (set == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    *set = PAPI_NULL;
    int rc = PAPI_register_thread();
    if (rc == PAPI_OK) rc = PAPI_create_eventset(set);
    for (int i = 0; i < IC_CTR_COUNT && rc == PAPI_OK; i++)
        if (have[i]) rc = PAPI_add_event(*set, g_papi_events[i]);
    if (rc != PAPI_OK) {
        snprintf(why, whylen, "PAPI event set: %s", PAPI_strerror(rc));
        free(set);
        return -1;
    }
    *handle = set;
    return 0;
}

static int papi_start(void *h) {
    return PAPI_start(*(int *)h) == PAPI_OK ? 0 : -1;
}

static int papi_stop(void *h, long long vals[IC_CTR_COUNT]) {
    return PAPI_stop(*(int *)h, vals) == PAPI_OK ? 0 : -1;
}

static void papi_thread_close(void *h) {
    int *set = h;
    PAPI_cleanup_eventset(*set);
    PAPI_destroy_eventset(set);
    free(set);
    PAPI_unregister_thread();
}

static const ic_counter_backend g_papi_backend = {"papi",     papi_init, papi_thread_open,
                                                  papi_start, papi_stop, papi_thread_close};
#endif

const ic_counter_backend *ic_counters_papi(void) {
#if IC_HAVE_PAPI
    return &g_papi_backend;
#else
    return NULL;
#endif
}

const char *ic_counters_library_version(void) {
#if IC_HAVE_PAPI && defined(IC_PAPI_PC_VERSION)
    return IC_PAPI_PC_VERSION;
#elif IC_HAVE_PAPI
    return "unknown";
#else
    return "unavailable: built without PAPI";
#endif
}

/* ---- the pool side ---- */
typedef enum { OP_OPEN, OP_START, OP_STOP, OP_CLOSE } ctr_op;

typedef struct {
    ic_counters *c;
    ctr_op op;
} ctr_task_ctx;

static void ctr_task(void *arg, int tid, int nt) {
    ctr_task_ctx *t = arg;
    ic_counters *c = t->c;
    (void)nt;
    switch (t->op) {
    case OP_OPEN:
        c->failed[tid] = c->be->thread_open(&c->handles[tid], c->have, c->why[tid], 160) != 0;
        break;
    case OP_START:
        c->failed[tid] = c->be->start(c->handles[tid]) != 0;
        break;
    case OP_STOP:
        memset(c->vals[tid], 0, sizeof c->vals[tid]);
        c->failed[tid] = c->be->stop(c->handles[tid], c->vals[tid]) != 0;
        break;
    case OP_CLOSE:
        if (c->handles[tid]) c->be->thread_close(c->handles[tid]);
        c->handles[tid] = NULL;
        break;
    }
}

static int run_op(ic_counters *c, ctr_op op) {
    ctr_task_ctx t = {c, op};
    ic_pool_run(c->pool, ctr_task, &t);
    for (int i = 0; i < c->n; i++)
        if (c->failed[i]) return -1;
    return 0;
}

void ic_counters_close(ic_counters *c) {
    if (c == NULL) return;
    if (c->handles) run_op(c, OP_CLOSE);
    if (c->why)
        for (int i = 0; i < c->n; i++) free(c->why[i]);
    free(c->why);
    free(c->handles);
    free(c->vals);
    free(c->failed);
    free(c);
}

int ic_counters_open_with(ic_counters **out, ic_pool *pool, const ic_counter_backend *be, char *why,
                          size_t whylen) {
    *out = NULL;
    if (be == NULL) {
        snprintf(why, whylen, "built without PAPI");
        return -1;
    }
    int have[IC_CTR_COUNT] = {0};
    const char *names[IC_CTR_COUNT] = {0};
    if (be->init(have, names, why, whylen) != 0) return -1;
    ic_counters *c = calloc(1, sizeof *c);
    int n = ic_pool_threads(pool);
    if (c == NULL || (c->handles = calloc((size_t)n, sizeof *c->handles)) == NULL ||
        (c->vals = calloc((size_t)n, sizeof *c->vals)) == NULL ||
        (c->failed = calloc((size_t)n, sizeof *c->failed)) == NULL ||
        (c->why = calloc((size_t)n, sizeof *c->why)) == NULL) {
        ic_counters_close(c);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    c->pool = pool;
    c->be = be;
    c->n = n;
    memcpy(c->have, have, sizeof have);
    for (int i = 0; i < n; i++)
        if ((c->why[i] = calloc(1, 160)) == NULL) {
            ic_counters_close(c);
            snprintf(why, whylen, "out of memory");
            return -1;
        }
    for (int i = 0; i < IC_CTR_COUNT; i++)
        if (have[i])
            snprintf(c->events + strlen(c->events), sizeof c->events - strlen(c->events), "%s%s",
                     c->events[0] ? " " : "", names[i] ? names[i] : "?");
    if (run_op(c, OP_OPEN) != 0) {
        for (int i = 0; i < n; i++)
            if (c->failed[i]) {
                snprintf(why, whylen, "worker %d: %s", i, c->why[i]);
                break;
            }
        ic_counters_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

int ic_counters_open(ic_counters **out, ic_pool *pool, char *why, size_t whylen) {
    return ic_counters_open_with(out, pool, ic_counters_papi(), why, whylen);
}

int ic_counters_start(ic_counters *c) {
    return run_op(c, OP_START);
}

int ic_counters_stop(ic_counters *c, ic_counters_sample *out) {
    memset(out, 0, sizeof *out);
    if (run_op(c, OP_STOP) != 0) return -1;
    for (int e = 0; e < IC_CTR_COUNT; e++) {
        out->have[e] = c->have[e];
        if (!c->have[e]) continue;
        /* Backends pack the counted events in enum order. */
        int slot = 0;
        for (int j = 0; j < e; j++) slot += c->have[j];
        for (int w = 0; w < c->n; w++) out->value[e] += c->vals[w][slot];
    }
    return 0;
}

const char *ic_counters_events(const ic_counters *c) {
    return c->events;
}

int ic_counters_derive(const ic_counters_sample *s, int64_t iterations, double bytes_per_iter,
                       ic_counter_figure *out) {
    static const char *const names[IC_CTR_COUNT] = {"cycles", "instructions", "llc_misses"};
    int n = 0;
    double it = iterations > 0 ? (double)iterations : 1.0;
    for (int i = 0; i < IC_CTR_COUNT; i++)
        if (s->have[i]) out[n++] = (ic_counter_figure){names[i], (double)s->value[i] / it};
    double cyc = (double)s->value[IC_CTR_CYCLES], ins = (double)s->value[IC_CTR_INSTRUCTIONS];
    if (s->have[IC_CTR_CYCLES] && s->have[IC_CTR_INSTRUCTIONS] && cyc > 0)
        out[n++] = (ic_counter_figure){"ipc", ins / cyc};
    if (s->have[IC_CTR_INSTRUCTIONS] && ins > 0 && bytes_per_iter > 0)
        out[n++] = (ic_counter_figure){"bytes_per_instruction", bytes_per_iter * it / ins};
    return n;
}
