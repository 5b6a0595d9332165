/* Thread binding through hwloc: with --bind core every worker's cpuset (hwloc_get_cpubind) is a
 * single core, round-robin over the cores; with --bind numa it is its NUMA node; the caller's
 * binding comes back when the pool goes. Without hwloc, binding is refused with the reason. */
#include <stdatomic.h>
#include <string.h>

#include "ic_config.h"
#include "ic_test.h"
#include "pool.h"
#include "topology.h"

#define MAX_WORKERS 64

typedef struct {
    int cores[MAX_WORKERS];
    int pus[MAX_WORKERS];
    int ok[MAX_WORKERS];
} seen_t;

static __attribute__((unused)) void probe_binding(void *arg, int tid, int nt) {
    seen_t *s = arg;
    char err[128];
    (void)nt;
    s->ok[tid] = ic_topology_thread_cores(&s->cores[tid], &s->pus[tid], err, sizeof err) == 0;
}

int main(void) {
    const ic_topology *t = ic_topology_get();
    char err[256];
    CHECK(t->cores >= 1 && t->pus >= t->cores && t->numa_nodes >= 1, "counts %d %d %d", t->cores,
          t->pus, t->numa_nodes);
    CHECK(ic_default_threads() == t->cores, "default threads %d", ic_default_threads());
#if IC_HAVE_HWLOC
    CHECK(t->have_hwloc && strncmp(t->source, "hwloc ", 6) == 0, "source %s", t->source);
    CHECK(t->n_caches > 0 && ic_topology_llc_bytes(t) > 0, "caches %d", t->n_caches);
    int before_cores, before_pus;
    CHECK(ic_topology_thread_cores(&before_cores, &before_pus, err, sizeof err) == 0, "%s", err);
    /* One worker per core, then more workers than cores (round-robin wraps). */
    const int counts[] = {t->cores, t->cores + 1, 1};
    for (int ci = 0; ci < 3; ci++) {
        int n = counts[ci] < MAX_WORKERS ? counts[ci] : MAX_WORKERS;
        ic_pool *p = NULL;
        CHECK(ic_pool_create(&p, n, IC_BIND_CORE, err, sizeof err) == 0, "bind core x%d: %s", n,
              err);
        if (p == NULL) continue;
        seen_t s;
        memset(&s, 0, sizeof s);
        ic_pool_run(p, probe_binding, &s);
        for (int w = 0; w < n; w++)
            CHECK(s.ok[w] && s.cores[w] == 1, "worker %d of %d: bound to %d cores (%d PUs)", w, n,
                  s.cores[w], s.pus[w]);
        const char *d = ic_pool_binding_detail(p);
        CHECK(strstr(d, "worker 0: core 0") != NULL, "detail '%s'", d);
        if (n > 1) CHECK(strstr(d, "worker 1: core ") != NULL, "detail '%s'", d);
        ic_pool_destroy(p);
        int after_cores, after_pus;
        ic_topology_thread_cores(&after_cores, &after_pus, err, sizeof err);
        CHECK(after_cores == before_cores && after_pus == before_pus,
              "caller binding not restored: %d cores before, %d after", before_cores, after_cores);
    }
    /* NUMA: each worker may run on every core of its node. */
    ic_pool *p = NULL;
    CHECK(ic_pool_create(&p, t->cores, IC_BIND_NUMA, err, sizeof err) == 0, "bind numa: %s", err);
    if (p) {
        seen_t s;
        memset(&s, 0, sizeof s);
        ic_pool_run(p, probe_binding, &s);
        int expect = t->numa_nodes == 1 ? t->cores : 0;
        for (int w = 0; w < t->cores && w < MAX_WORKERS; w++)
            CHECK(s.ok[w] && s.cores[w] >= 1 && (expect == 0 || s.cores[w] == expect),
                  "numa worker %d: %d cores", w, s.cores[w]);
        CHECK(strstr(ic_pool_binding_detail(p), "NUMA node") != NULL, "numa detail '%s'",
              ic_pool_binding_detail(p));
        ic_pool_destroy(p);
    }
#else
    ic_pool *p = NULL;
    CHECK(ic_pool_create(&p, 1, IC_BIND_CORE, err, sizeof err) == -1 && strstr(err, "hwloc"),
          "without hwloc: %s", err);
#endif
    ic_pool *q = NULL;
    CHECK(ic_pool_create(&q, 2, IC_BIND_NONE, err, sizeof err) == 0 &&
              strstr(ic_pool_binding_detail(q), "worker 1: unbound"),
          "unbound: %s", err);
    ic_pool_destroy(q);
    return ic_test_finish("test_bind");
}
