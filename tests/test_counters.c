/* Counters: the PAPI path for real (on this VM it is the "unavailable" path: PAPI lists no events,
 * and opening must say why), and the available path through a stand-in backend with a fixed
 * event list: per-worker start/stop, the sum over workers, missing events packed out, derived IPC
 * and bytes per instruction, and failures in init or on one worker. */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "counters.h"
#include "ic_config.h"
#include "ic_test.h"

static int g_fake_have[IC_CTR_COUNT];
static int g_fail_init, g_fail_worker_open;
static _Atomic int g_opened, g_started, g_stopped, g_closed;

typedef struct {
    int running;
} fake_handle;

static int fake_init(int have[IC_CTR_COUNT], const char *names[IC_CTR_COUNT], char *why,
                     size_t whylen) {
    static const char *const n[IC_CTR_COUNT] = {"FAKE_CYC", "FAKE_INS", "FAKE_LLC"};
    if (g_fail_init) {
        snprintf(why, whylen, "fake library: no events on this machine");
        return -1;
    }
    for (int i = 0; i < IC_CTR_COUNT; i++) {
        have[i] = g_fake_have[i];
        names[i] = n[i];
    }
    return 0;
}

static int fake_open(void **h, const int have[IC_CTR_COUNT], char *why, size_t whylen) {
    (void)have;
    if (g_fail_worker_open && atomic_fetch_add(&g_opened, 1) == 1) {
        snprintf(why, whylen, "fake event set refused");
        return -1;
    }
    fake_handle *f = calloc(1, sizeof *f);
    *h = f;
    return f ? 0 : -1;
}

static int fake_start(void *h) {
    ((fake_handle *)h)->running = 1;
    atomic_fetch_add(&g_started, 1);
    return 0;
}

/* Each worker counts 100 cycles, 250 instructions and 3 LLC misses, packed by have[]. */
static int fake_stop(void *h, long long vals[IC_CTR_COUNT]) {
    fake_handle *f = h;
    if (!f->running) return -1;
    f->running = 0;
    const long long per[IC_CTR_COUNT] = {100, 250, 3};
    int slot = 0;
    for (int i = 0; i < IC_CTR_COUNT; i++)
        if (g_fake_have[i]) vals[slot++] = per[i];
    atomic_fetch_add(&g_stopped, 1);
    return 0;
}

static void fake_close(void *h) {
    free(h);
    atomic_fetch_add(&g_closed, 1);
}

static const ic_counter_backend g_fake = {"fake",     fake_init, fake_open,
                                          fake_start, fake_stop, fake_close};

static double fig(const ic_counter_figure *f, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0) return f[i].value;
    return NAN;
}

int main(void) {
    char why[512];
    ic_pool *pool = NULL;
    const int nt = 3;
    CHECK(ic_pool_create(&pool, nt, IC_BIND_NONE, why, sizeof why) == 0, "%s", why);
    if (!pool) return ic_test_finish("test_counters");

    /* PAPI for real. */
    ic_counters *c = NULL;
    int rc = ic_counters_open(&c, pool, why, sizeof why);
#if IC_HAVE_PAPI
    if (rc != 0) {
        CHECK(c == NULL && strstr(why, "PAPI") != NULL, "unavailable reason names PAPI: %s", why);
        printf("  PAPI unavailable here, as expected on this VM: %s\n", why);
    } else {
        ic_counters_sample s;
        CHECK(ic_counters_start(c) == 0, "papi start");
        volatile double x = 0;
        for (int i = 0; i < 1000000; i++) x += i;
        (void)x; /* the loop is the work counted; clang warns on a volatile only set */
        CHECK(ic_counters_stop(c, &s) == 0, "papi stop");
        CHECK(!s.have[IC_CTR_CYCLES] || s.value[IC_CTR_CYCLES] > 0, "cycles %lld",
              s.value[IC_CTR_CYCLES]);
        printf("  PAPI available: %s\n", ic_counters_events(c));
        ic_counters_close(c);
    }
#else
    CHECK(rc == -1 && strstr(why, "without PAPI"), "no PAPI: %s", why);
#endif

    /* All three events, on three workers. */
    g_fake_have[0] = g_fake_have[1] = g_fake_have[2] = 1;
    CHECK(ic_counters_open_with(&c, pool, &g_fake, why, sizeof why) == 0, "fake open: %s", why);
    CHECK(c && strcmp(ic_counters_events(c), "FAKE_CYC FAKE_INS FAKE_LLC") == 0, "events '%s'",
          c ? ic_counters_events(c) : "");
    ic_counters_sample s;
    CHECK(ic_counters_start(c) == 0 && atomic_load(&g_started) == nt, "started %d",
          atomic_load(&g_started));
    CHECK(ic_counters_stop(c, &s) == 0 && atomic_load(&g_stopped) == nt, "stopped");
    CHECK(s.have[0] && s.have[1] && s.have[2] && s.value[0] == 300 && s.value[1] == 750 &&
              s.value[2] == 9,
          "sums %lld %lld %lld", s.value[0], s.value[1], s.value[2]);
    ic_counter_figure f[8];
    int n = ic_counters_derive(&s, 10, 50.0, f);
    CHECK(n == 5, "5 figures, got %d", n);
    CHECK(fig(f, n, "cycles") == 30 && fig(f, n, "instructions") == 75 &&
              fig(f, n, "llc_misses") == 0.9,
          "per-iteration counts");
    CHECK(fabs(fig(f, n, "ipc") - 2.5) < 1e-12, "ipc %g", fig(f, n, "ipc"));
    CHECK(fabs(fig(f, n, "bytes_per_instruction") - 500.0 / 750.0) < 1e-12, "bytes/ins %g",
          fig(f, n, "bytes_per_instruction"));
    CHECK(ic_counters_stop(c, &s) == -1, "stop without start is an error");
    ic_counters_close(c);
    CHECK(atomic_load(&g_closed) == nt, "closed %d", atomic_load(&g_closed));

    /* No LLC event: values stay packed, IPC still derived. */
    g_fake_have[2] = 0;
    CHECK(ic_counters_open_with(&c, pool, &g_fake, why, sizeof why) == 0, "%s", why);
    ic_counters_start(c);
    CHECK(ic_counters_stop(c, &s) == 0 && s.value[0] == 300 && s.value[1] == 750 && !s.have[2] &&
              s.value[2] == 0,
          "packed %lld %lld %lld", s.value[0], s.value[1], s.value[2]);
    n = ic_counters_derive(&s, 10, 0, f);
    CHECK(n == 3 && isnan(fig(f, n, "llc_misses")) && isnan(fig(f, n, "bytes_per_instruction")),
          "figures without llc and bytes: %d", n);
    ic_counters_close(c);

    /* Failures: the library has no events; one worker's event set is refused. */
    g_fail_init = 1;
    CHECK(ic_counters_open_with(&c, pool, &g_fake, why, sizeof why) == -1 && c == NULL &&
              strstr(why, "no events"),
          "init failure: %s", why);
    g_fail_init = 0;
    g_fail_worker_open = 1;
    atomic_store(&g_opened, 0);
    CHECK(ic_counters_open_with(&c, pool, &g_fake, why, sizeof why) == -1 && c == NULL &&
              strstr(why, "refused") && strstr(why, "worker "),
          "worker failure: %s", why);
    ic_pool_destroy(pool);
    return ic_test_finish("test_counters");
}
