/* The history store: result records and Google Benchmark JSON files in one SQLite file, for
 * trends and for comparing against earlier runs. Each file is kept whole (the document) and
 * indexed by its figures; adding the same content twice is a no-op. The schema is versioned and
 * opened through a list of migrations. */
#ifndef IC_HISTORY_H
#define IC_HISTORY_H

#include <stddef.h>

#define IC_HISTORY_SCHEMA_VERSION 1
#define IC_HISTORY_DEFAULT_DB     "results/history.sqlite"

typedef struct ic_history ic_history;

/* Opens (creating when absent and create is set) the store at path and brings its schema up to
 * date. A file that is not SQLite, an SQLite file of something else, or a newer schema is an error
 * (2) that says so; unavailable when the build has no SQLite (1). */
int ic_history_open(ic_history **h, const char *path, int create, char *err, size_t errlen);

void ic_history_close(ic_history *h);

/* Adds a result record or Google Benchmark JSON document (len bytes of text, as read from path)
 * in one transaction. *added is 0 when the same content was already there; *id is its run id. */
int ic_history_add(ic_history *h, const char *path, const char *text, size_t len, int *added,
                   long long *id, char *err, size_t errlen);

/* One stored run, for listing. */
typedef struct ic_history_run {
    long long id;
    const char *kind, *path, *added_utc, *created_utc, *git_commit, *machine_id, *host;
    const char *instance_type, *model, *dtype;
    int n_figures;
} ic_history_run;

typedef void ic_history_run_fn(const ic_history_run *r, void *user);

/* Every run, oldest first. */
int ic_history_list(ic_history *h, ic_history_run_fn *fn, void *user, char *err, size_t errlen);

/* One figure of one run, for trends. */
typedef struct ic_history_point {
    long long run_id;
    const char *created_utc, *git_commit, *machine_id, *host, *instance_type, *model, *dtype;
    const char *name, *unit;
    double median, lo, hi, efficiency; /* efficiency NAN when absent */
} ic_history_point;

typedef struct ic_history_filter {
    const char *model, *dtype, *kind, *host, *since; /* NULL: any */
    long context;                                    /* < 0: any */
} ic_history_filter;

typedef void ic_history_point_fn(const ic_history_point *p, void *user);

/* The figures that match the filter, by figure name, then oldest first. host matches a machine
 * id prefix, the instance type or the hostname. */
int ic_history_points(ic_history *h, const ic_history_filter *f, ic_history_point_fn *fn,
                      void *user, char *err, size_t errlen);

/* The document a reference names: "@latest" (the run added last) or "@COMMIT" (the last run made
 * at a git commit starting with COMMIT). *text is malloc'd; label describes what was found. */
int ic_history_document(ic_history *h, const char *ref, char **text, char *label, size_t labellen,
                        char *err, size_t errlen);

/* Calls fn for every stored document of a kind ("result" or "bench"), oldest first, with a label
 * naming the run. */
typedef void ic_history_doc_fn(const char *text, const char *label, void *user);
int ic_history_each_document(ic_history *h, const char *kind, ic_history_doc_fn *fn, void *user,
                             char *err, size_t errlen);

/* The best read bandwidth (GB/s) this machine has shown in the history: the probe or a read pass
 * beside a repetition; 0 when none. */
double ic_history_best_read(ic_history *h, const char *machine_id);

#endif
