/* Topology discovery and thread binding over hwloc. One hwloc topology is loaded per process and
 * shared read-only; hwloc allows concurrent binding calls on a loaded topology. */
#define _GNU_SOURCE
#include "topology.h"
#include "ic_config.h"
#include "ic_cpu.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if IC_HAVE_HWLOC
#include <hwloc.h>
#endif

static struct {
    pthread_once_t once;
    ic_topology topo;
#if IC_HAVE_HWLOC
    hwloc_topology_t h; /* NULL when loading failed */
#endif
} g = {.once = PTHREAD_ONCE_INIT};

static void fallback_counts(ic_topology *t, const char *why) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    t->have_hwloc = 0;
    snprintf(t->source, sizeof t->source, "unavailable: %s; counts from sysconf", why);
    t->packages = 1;
    t->pus = n > 0 ? (int)n : 1;
    t->cores = t->pus; /* without hwloc, SMT siblings cannot be told apart */
    t->numa_nodes = 1;
    t->n_caches = 0;
}

#if IC_HAVE_HWLOC
static const char *cache_kind(hwloc_obj_cache_type_t k) {
    switch (k) {
    case HWLOC_OBJ_CACHE_DATA:
        return "data";
    case HWLOC_OBJ_CACHE_INSTRUCTION:
        return "instruction";
    default:
        return "unified";
    }
}

static void add_caches(ic_topology *t, hwloc_obj_type_t type) {
    int n = hwloc_get_nbobjs_by_type(g.h, type);
    for (int i = 0; i < n; i++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(g.h, type, (unsigned)i);
        if (o == NULL || o->attr == NULL) continue;
        const char *kind = cache_kind(o->attr->cache.type);
        int found = 0;
        for (int c = 0; c < t->n_caches; c++) {
            ic_cache_info *ci = &t->caches[c];
            if (ci->level == (int)o->attr->cache.depth && strcmp(ci->kind, kind) == 0 &&
                ci->size_bytes == (size_t)o->attr->cache.size) {
                ci->count++;
                found = 1;
                break;
            }
        }
        if (!found && t->n_caches < IC_TOPO_MAX_CACHES) {
            ic_cache_info *ci = &t->caches[t->n_caches++];
            ci->level = (int)o->attr->cache.depth;
            snprintf(ci->kind, sizeof ci->kind, "%s", kind);
            ci->size_bytes = (size_t)o->attr->cache.size;
            ci->count = 1;
        }
    }
}
#endif

#if IC_HAVE_HWLOC
/* The GEMM kernels block for the L1 data and L2 sizes hwloc reports (ic_cpu_set_caches). */
static void hand_caches_to_kernels(const ic_topology *t) {
    size_t l1d = 0, l2 = 0;
    for (int c = 0; c < t->n_caches; c++) {
        if (strcmp(t->caches[c].kind, "instruction") == 0) continue;
        if (t->caches[c].level == 1 && l1d == 0) l1d = t->caches[c].size_bytes;
        if (t->caches[c].level == 2 && l2 == 0) l2 = t->caches[c].size_bytes;
    }
    ic_cpu_set_caches(l1d, l2);
}
#endif

static void discover(void) {
    ic_topology *t = &g.topo;
#if IC_HAVE_HWLOC
    if (hwloc_topology_init(&g.h) != 0) {
        g.h = NULL;
        fallback_counts(t, "hwloc_topology_init failed");
        return;
    }
    if (hwloc_topology_load(g.h) != 0) {
        char why[96];
        snprintf(why, sizeof why, "hwloc_topology_load failed: %s", strerror(errno));
        hwloc_topology_destroy(g.h);
        g.h = NULL;
        fallback_counts(t, why);
        return;
    }
    t->have_hwloc = 1;
    snprintf(t->source, sizeof t->source, "hwloc %s", ic_topology_hwloc_version());
    t->packages = hwloc_get_nbobjs_by_type(g.h, HWLOC_OBJ_PACKAGE);
    t->cores = hwloc_get_nbobjs_by_type(g.h, HWLOC_OBJ_CORE);
    t->pus = hwloc_get_nbobjs_by_type(g.h, HWLOC_OBJ_PU);
    t->numa_nodes = hwloc_get_nbobjs_by_type(g.h, HWLOC_OBJ_NUMANODE);
    if (t->packages < 1) t->packages = 1;
    if (t->pus < 1) t->pus = 1;
    if (t->cores < 1) t->cores = t->pus;
    if (t->numa_nodes < 1) t->numa_nodes = 1;
    const hwloc_obj_type_t levels[] = {HWLOC_OBJ_L1CACHE,  HWLOC_OBJ_L1ICACHE, HWLOC_OBJ_L2CACHE,
                                       HWLOC_OBJ_L2ICACHE, HWLOC_OBJ_L3CACHE,  HWLOC_OBJ_L3ICACHE,
                                       HWLOC_OBJ_L4CACHE,  HWLOC_OBJ_L5CACHE};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) add_caches(t, levels[i]);
    hand_caches_to_kernels(t);
#else
    fallback_counts(t, "built without hwloc");
#endif
}

const ic_topology *ic_topology_get(void) {
    pthread_once(&g.once, discover);
    return &g.topo;
}

int ic_default_threads(void) {
    return ic_topology_get()->cores;
}

size_t ic_topology_llc_bytes(const ic_topology *t) {
    int top = 0;
    size_t total = 0;
    for (int c = 0; c < t->n_caches; c++)
        if (strcmp(t->caches[c].kind, "instruction") != 0 && t->caches[c].level > top)
            top = t->caches[c].level;
    for (int c = 0; c < t->n_caches; c++)
        if (t->caches[c].level == top && strcmp(t->caches[c].kind, "instruction") != 0)
            total += t->caches[c].size_bytes * (size_t)t->caches[c].count;
    return total;
}

static void human_bytes(size_t b, char *out, size_t len) {
    if (b >= (1u << 20) && b % (1u << 20) == 0)
        snprintf(out, len, "%zu MiB", b >> 20);
    else if (b >= 1024 && b % 1024 == 0)
        snprintf(out, len, "%zu KiB", b >> 10);
    else
        snprintf(out, len, "%zu B", b);
}

void ic_topology_print(FILE *out, const ic_topology *t) {
    fprintf(out, "\ntopology   (%s)\n", t->source);
    fprintf(out, "  packages %d, physical cores %d, PUs %d, NUMA nodes %d; default threads %d\n",
            t->packages, t->cores, t->pus, t->numa_nodes, t->cores);
    for (int c = 0; c < t->n_caches; c++) {
        char sz[32];
        human_bytes(t->caches[c].size_bytes, sz, sizeof sz);
        fprintf(out, "  L%d %-11s %s x %d\n", t->caches[c].level, t->caches[c].kind, sz,
                t->caches[c].count);
    }
    if (t->have_hwloc && t->n_caches == 0) fprintf(out, "  caches: none reported by hwloc\n");
}

json_t *ic_topology_json(const ic_topology *t) {
    json_t *o = json_object();
    json_object_set_new(o, "source", json_string(t->source));
    json_object_set_new(o, "packages", json_integer(t->packages));
    json_object_set_new(o, "cores", json_integer(t->cores));
    json_object_set_new(o, "pus", json_integer(t->pus));
    json_object_set_new(o, "numa_nodes", json_integer(t->numa_nodes));
    json_object_set_new(o, "default_threads", json_integer(t->cores));
    json_t *caches = json_array();
    for (int c = 0; c < t->n_caches; c++) {
        json_t *jc = json_object();
        json_object_set_new(jc, "level", json_integer(t->caches[c].level));
        json_object_set_new(jc, "kind", json_string(t->caches[c].kind));
        json_object_set_new(jc, "size_bytes", json_integer((json_int_t)t->caches[c].size_bytes));
        json_object_set_new(jc, "count", json_integer(t->caches[c].count));
        json_array_append_new(caches, jc);
    }
    json_object_set_new(o, "caches", caches);
    return o;
}

const char *ic_topology_hwloc_version(void) {
#if IC_HAVE_HWLOC && defined(IC_HWLOC_PC_VERSION)
    /* hwloc exposes only its API version at run time; the release comes from pkg-config. */
    return IC_HWLOC_PC_VERSION;
#elif IC_HAVE_HWLOC
    return "unknown";
#else
    return "unavailable";
#endif
}

int ic_topology_bind_thread(ic_bind mode, int worker, char *desc, size_t desclen, char *err,
                            size_t errlen) {
    if (desc && desclen) desc[0] = '\0';
    if (mode == IC_BIND_NONE) {
        if (desc) snprintf(desc, desclen, "unbound");
        return 0;
    }
    const ic_topology *t = ic_topology_get();
#if IC_HAVE_HWLOC
    if (!t->have_hwloc || g.h == NULL) {
        snprintf(err, errlen, "--bind %s needs hwloc: %s", ic_bind_name(mode), t->source);
        return -1;
    }
    int core_idx = worker % t->cores;
    hwloc_obj_t core = hwloc_get_obj_by_type(g.h, HWLOC_OBJ_CORE, (unsigned)core_idx);
    if (core == NULL) {
        snprintf(err, errlen, "hwloc has no core %d", core_idx);
        return -1;
    }
    hwloc_const_cpuset_t set = core->cpuset;
    char what[64];
    snprintf(what, sizeof what, "core %d", core_idx);
    if (mode == IC_BIND_NUMA) {
        hwloc_obj_t node = NULL;
        int nn = hwloc_get_nbobjs_by_type(g.h, HWLOC_OBJ_NUMANODE);
        for (int i = 0; i < nn && node == NULL; i++) {
            hwloc_obj_t cand = hwloc_get_obj_by_type(g.h, HWLOC_OBJ_NUMANODE, (unsigned)i);
            if (cand && hwloc_bitmap_isincluded(core->cpuset, cand->cpuset)) node = cand;
        }
        if (node == NULL) {
            snprintf(err, errlen, "hwloc has no NUMA node holding core %d", core_idx);
            return -1;
        }
        set = node->cpuset;
        snprintf(what, sizeof what, "NUMA node %u (of core %d)", node->os_index, core_idx);
    }
    if (hwloc_set_cpubind(g.h, set, HWLOC_CPUBIND_THREAD) != 0) {
        snprintf(err, errlen, "binding worker %d to %s failed: %s", worker, what, strerror(errno));
        return -1;
    }
    if (desc) {
        char *list = NULL;
        hwloc_bitmap_list_asprintf(&list, set);
        snprintf(desc, desclen, "%s (PU %s)", what, list ? list : "?");
        free(list);
    }
    return 0;
#else
    (void)worker;
    snprintf(err, errlen, "--bind %s needs hwloc: %s", ic_bind_name(mode), t->source);
    return -1;
#endif
}

int ic_topology_thread_cores(int *cores, int *pus, char *err, size_t errlen) {
    const ic_topology *t = ic_topology_get();
#if IC_HAVE_HWLOC
    if (t->have_hwloc && g.h != NULL) {
        hwloc_bitmap_t set = hwloc_bitmap_alloc();
        if (set == NULL || hwloc_get_cpubind(g.h, set, HWLOC_CPUBIND_THREAD) != 0) {
            snprintf(err, errlen, "hwloc_get_cpubind failed: %s", strerror(errno));
            hwloc_bitmap_free(set);
            return -1;
        }
        *cores = hwloc_get_nbobjs_inside_cpuset_by_type(g.h, set, HWLOC_OBJ_CORE);
        *pus = hwloc_bitmap_weight(set);
        hwloc_bitmap_free(set);
        return 0;
    }
#endif
    *cores = *pus = 0;
    snprintf(err, errlen, "thread binding is unknown: %s", t->source);
    return -1;
}

void *ic_topology_save_binding(void) {
#if IC_HAVE_HWLOC
    if (ic_topology_get()->have_hwloc && g.h != NULL) {
        hwloc_bitmap_t set = hwloc_bitmap_alloc();
        if (set && hwloc_get_cpubind(g.h, set, HWLOC_CPUBIND_THREAD) == 0) return set;
        hwloc_bitmap_free(set);
    }
#endif
    return NULL;
}

void ic_topology_restore_binding(void *saved) {
#if IC_HAVE_HWLOC
    if (saved == NULL) return;
    hwloc_set_cpubind(g.h, (hwloc_bitmap_t)saved, HWLOC_CPUBIND_THREAD);
    hwloc_bitmap_free((hwloc_bitmap_t)saved);
#else
    (void)saved;
#endif
}
