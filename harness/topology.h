/* The machine's topology from hwloc: cores, PUs, caches and NUMA nodes, the default thread count,
 * and binding of the calling thread to one core or to its NUMA node. Without hwloc the counts come
 * from sysconf and binding is refused with the reason. */
#ifndef IC_TOPOLOGY_H
#define IC_TOPOLOGY_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "pool.h"

#define IC_TOPO_MAX_CACHES 8

/* One cache level and kind, e.g. L3 unified, with its size per instance and instance count. */
typedef struct ic_cache_info {
    int level;         /* 1, 2, 3 ... */
    char kind[12];     /* "data", "instruction" or "unified" */
    size_t size_bytes; /* per instance, as hwloc reports it */
    int count;         /* instances in the machine */
} ic_cache_info;

typedef struct ic_topology {
    int have_hwloc;   /* 0: counts are sysconf's, caches unknown, binding unavailable */
    char source[160]; /* "hwloc 2.9.0" or "unavailable: <why>; counts from sysconf" */
    int packages;
    int cores; /* physical cores */
    int pus;   /* hardware threads */
    int numa_nodes;
    int n_caches;
    ic_cache_info caches[IC_TOPO_MAX_CACHES]; /* ordered by level, data before instruction */
} ic_topology;

/* The host topology, discovered on the first call and cached (thread-safe); never NULL. */
const ic_topology *ic_topology_get(void);

/* One thread per physical core: the default for --threads. */
int ic_default_threads(void);

/* Total bytes of the last-level cache over all its instances (0 when unknown). */
size_t ic_topology_llc_bytes(const ic_topology *t);

/* Prints the topology as the "topology" section of `infercost list`. */
void ic_topology_print(FILE *out, const ic_topology *t);

/* The same as a new JSON object (the caller owns the reference). */
json_t *ic_topology_json(const ic_topology *t);

/* Binds the calling thread to core (worker % cores) for IC_BIND_CORE, or to the NUMA node of that
 * core for IC_BIND_NUMA, and describes it in desc ("core 1 (PU 1)"); IC_BIND_NONE does nothing.
 * Returns 0, or -1 with a message (no hwloc, or the OS refused). */
int ic_topology_bind_thread(ic_bind mode, int worker, char *desc, size_t desclen, char *err,
                            size_t errlen);

/* How many physical cores and PUs the calling thread's current binding covers. Returns 0, or -1
 * with a message without hwloc. */
int ic_topology_thread_cores(int *cores, int *pus, char *err, size_t errlen);

/* The running hwloc library's version ("2.9.0"), or "unavailable". */
const char *ic_topology_hwloc_version(void);

/* Saves and restores the calling thread's CPU binding, so a pool that binds its caller (worker
 * 0) can give it back. save returns an opaque handle (NULL without hwloc); restore frees it. */
void *ic_topology_save_binding(void);
void ic_topology_restore_binding(void *saved);

#endif
