/* The history store in SQLite (see history.h). */
#define _GNU_SOURCE
#include "history.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fail.h"
#include "figures.h"
#include "ic_config.h"

#if !IC_HAVE_SQLITE3

int ic_history_open(ic_history **h, const char *path, int create, char *err, size_t errlen) {
    (void)path;
    (void)create;
    *h = NULL;
    return ic_fail(err, errlen, 1, "history: unavailable: built without SQLite (%s)",
                   IC_WHY_NO_SQLITE3);
}
void ic_history_close(ic_history *h) {
    (void)h;
}
int ic_history_add(ic_history *h, const char *path, const char *text, size_t len, int *added,
                   long long *id, char *err, size_t errlen) {
    (void)h, (void)path, (void)text, (void)len, (void)added, (void)id;
    return ic_fail(err, errlen, 1, "history: unavailable: built without SQLite");
}
int ic_history_list(ic_history *h, ic_history_run_fn *fn, void *user, char *err, size_t errlen) {
    (void)h, (void)fn, (void)user;
    return ic_fail(err, errlen, 1, "history: unavailable: built without SQLite");
}
int ic_history_points(ic_history *h, const ic_history_filter *f, ic_history_point_fn *fn,
                      void *user, char *err, size_t errlen) {
    (void)h, (void)f, (void)fn, (void)user;
    return ic_fail(err, errlen, 1, "history: unavailable: built without SQLite");
}
int ic_history_document(ic_history *h, const char *ref, char **text, char *label, size_t labellen,
                        char *err, size_t errlen) {
    (void)h, (void)ref, (void)text, (void)label, (void)labellen;
    return ic_fail(err, errlen, 1, "history: unavailable: built without SQLite");
}
double ic_history_best_read(ic_history *h, const char *machine_id) {
    (void)h, (void)machine_id;
    return 0;
}
int ic_history_each_document(ic_history *h, const char *kind, ic_history_doc_fn *fn, void *user,
                             char *err, size_t errlen) {
    (void)h, (void)kind, (void)fn, (void)user;
    return ic_fail(err, errlen, 1, "history: unavailable: built without SQLite");
}

#else

#include <sqlite3.h>

struct ic_history {
    sqlite3 *db;
    char path[1024];
};

/* ---- schema and migrations ---- */

/* Migration i brings a store from version i to i + 1. A store of version 0 is empty. */
static const char *const g_migrations[] = {
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT INTO meta VALUES('schema', 'infercost-history'), ('schema_version', '0');"
    "CREATE TABLE runs("
    "  id INTEGER PRIMARY KEY, content_hash TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
    "  path TEXT NOT NULL, added_utc TEXT NOT NULL, created_utc TEXT, git_commit TEXT,"
    "  machine_id TEXT, host TEXT, instance_type TEXT, cpu_model TEXT, model TEXT, dtype TEXT,"
    "  threads INTEGER, isa_cap TEXT, read_bw_gbs REAL, document TEXT NOT NULL);"
    "CREATE TABLE figures("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, name TEXT NOT NULL,"
    "  kind TEXT, context INTEGER, batch INTEGER, unit TEXT NOT NULL, median REAL, lo REAL,"
    "  hi REAL, efficiency REAL, paired_gbs REAL, PRIMARY KEY(run_id, name));"
    "CREATE INDEX figures_by_name ON figures(name);",
};
#define N_MIGRATIONS (sizeof g_migrations / sizeof g_migrations[0])
_Static_assert(N_MIGRATIONS == IC_HISTORY_SCHEMA_VERSION, "one migration per schema version");

static int db_fail(ic_history *h, char *err, size_t errlen, const char *what) {
    return ic_fail(err, errlen, 2, "%s: %s: %s", h->path, what, sqlite3_errmsg(h->db));
}

/* The store's version: 0 for an empty file, -1 (err set) for a database that is not a history. */
static int schema_version(ic_history *h, char *err, size_t errlen) {
    sqlite3_stmt *st;
    int tables = 0, meta = 0;
    if (sqlite3_prepare_v2(h->db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &st,
                           NULL) != SQLITE_OK) {
        int code = sqlite3_errcode(h->db);
        ic_fail(err, errlen, 2, "%s: %s", h->path,
                code == SQLITE_NOTADB ? "not an SQLite database (a history file is one)"
                                      : sqlite3_errmsg(h->db));
        return -1;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        tables++;
        if (strcmp((const char *)sqlite3_column_text(st, 0), "meta") == 0) meta = 1;
    }
    int rc = sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        ic_fail(err, errlen, 2, "%s: %s", h->path,
                rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT ? "not an SQLite database, or corrupt"
                                                            : sqlite3_errmsg(h->db));
        return -1;
    }
    if (tables == 0) return 0;
    int version = -1;
    const char *q = "SELECT (SELECT value FROM meta WHERE key = 'schema'),"
                    " (SELECT value FROM meta WHERE key = 'schema_version')";
    if (meta && sqlite3_prepare_v2(h->db, q, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
            strcmp((const char *)sqlite3_column_text(st, 0), "infercost-history") == 0 &&
            sqlite3_column_text(st, 1))
            version = atoi((const char *)sqlite3_column_text(st, 1));
        sqlite3_finalize(st);
    }
    if (version < 0)
        ic_fail(err, errlen, 2,
                "%s: an SQLite database, but not an infercost history (%d tables, "
                "no infercost-history meta row)",
                h->path, tables);
    return version;
}

static int migrate(ic_history *h, int from, char *err, size_t errlen) {
    if (from > IC_HISTORY_SCHEMA_VERSION)
        return ic_fail(err, errlen, 2,
                       "%s: history schema %d is newer than this build reads (%d): "
                       "update infercost",
                       h->path, from, IC_HISTORY_SCHEMA_VERSION);
    for (int v = from; v < IC_HISTORY_SCHEMA_VERSION; v++) {
        char set[128];
        snprintf(set, sizeof set, "UPDATE meta SET value = '%d' WHERE key = 'schema_version';",
                 v + 1);
        if (sqlite3_exec(h->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(h->db, g_migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(h->db, set, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            int rc = db_fail(h, err, errlen, "migrating the schema");
            sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    return 0;
}

int ic_history_open(ic_history **out, const char *path, int create, char *err, size_t errlen) {
    *out = NULL;
    ic_history *h = calloc(1, sizeof *h);
    if (h == NULL) return ic_fail(err, errlen, 1, "out of memory");
    snprintf(h->path, sizeof h->path, "%s", path);
    /* SQLite would open a FIFO or a device and fail later with "disk I/O error" (or wait on it). */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        ic_history_close(h);
        return ic_fail(err, errlen, 2, "%s: %s, not a history database", path,
                       S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
    }
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &h->db, flags, NULL) != SQLITE_OK) {
        int rc = ic_fail(err, errlen, create ? 1 : 2, "%s: cannot open the history: %s", path,
                         h->db ? sqlite3_errmsg(h->db) : "out of memory");
        ic_history_close(h);
        return rc;
    }
    sqlite3_busy_timeout(h->db, 5000);
    sqlite3_exec(h->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    int v = schema_version(h, err, errlen);
    int rc = v < 0 ? 2 : migrate(h, v, err, errlen);
    if (rc) {
        ic_history_close(h);
        return rc;
    }
    *out = h;
    return 0;
}

void ic_history_close(ic_history *h) {
    if (h == NULL) return;
    sqlite3_close(h->db);
    free(h);
}

/* ---- adding ---- */

static void content_hash(const char *text, size_t len, char *out, size_t outlen) {
    uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
    for (size_t i = 0; i < len; i++) {
        a = (a ^ (unsigned char)text[i]) * 0x100000001b3ull;
        b = (b ^ (unsigned char)text[len - 1 - i]) * 0x100000001b3ull;
    }
    snprintf(out, outlen, "fnv1a64x2:%016llx%016llx:%zu", (unsigned long long)a,
             (unsigned long long)b, len);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s) {
    if (s && s[0])
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_num(sqlite3_stmt *st, int i, double v) {
    if (isfinite(v))
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* The run's row: what identifies it for trends (commit, machine, instance, model...). */
static int insert_run(ic_history *h, const char *path, const char *hash, const char *text,
                      const ic_result *r, const ic_figset *fs, long long *id) {
    sqlite3_stmt *st;
    const char *q = "INSERT INTO runs(content_hash, kind, path, added_utc, created_utc, git_commit,"
                    " machine_id, host, instance_type, cpu_model, model, dtype, threads, isa_cap,"
                    " read_bw_gbs, document) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    if (sqlite3_prepare_v2(h->db, q, -1, &st, NULL) != SQLITE_OK) return -1;
    char now[32];
    time_t t = time(NULL);
    struct tm tmv;
    gmtime_r(&t, &tmv);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    bind_text(st, 1, hash);
    bind_text(st, 2, fs->kind);
    bind_text(st, 3, path);
    bind_text(st, 4, now);
    bind_text(st, 5, fs->created);
    bind_text(st, 6, fs->git_commit);
    bind_text(st, 7, r ? r->host.machine_id : NULL);
    bind_text(st, 8, r ? r->host.host : NULL);
    bind_text(st, 9, r ? r->host.instance_type : NULL);
    bind_text(st, 10, r ? r->host.cpu_model : NULL);
    bind_text(st, 11, r ? r->model.name : NULL);
    bind_text(st, 12, r ? ic_dtype_name(r->model.dtype) : NULL);
    if (r)
        sqlite3_bind_int(st, 13, r->threads);
    else
        sqlite3_bind_null(st, 13);
    bind_text(st, 14, r ? r->isa_cap : NULL);
    bind_num(st, 15, fs->read_bw_gbs > 0 ? fs->read_bw_gbs : NAN);
    bind_text(st, 16, text);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    *id = sqlite3_last_insert_rowid(h->db);
    return rc;
}

static int insert_figures(ic_history *h, long long id, const ic_result *r, const ic_figset *tok,
                          const ic_figset *eff) {
    sqlite3_stmt *st;
    const char *q = "INSERT INTO figures(run_id, name, kind, context, batch, unit, median, lo, hi,"
                    " efficiency, paired_gbs) VALUES(?,?,?,?,?,?,?,?,?,?,?)";
    if (sqlite3_prepare_v2(h->db, q, -1, &st, NULL) != SQLITE_OK) return -1;
    int rc = 0;
    for (size_t i = 0; i < tok->n && rc == 0; i++) {
        const ic_fig *f = &tok->f[i];
        if (f->skipped) continue;
        double lo = INFINITY, hi = -INFINITY;
        for (int j = 0; j < f->n; j++) {
            if (f->samples[j] < lo) lo = f->samples[j];
            if (f->samples[j] > hi) hi = f->samples[j];
        }
        const ic_fig *e = eff ? ic_figset_find(eff, f->name) : NULL;
        const ic_measurement *m = r && i < r->n_meas ? &r->meas[i] : NULL;
        sqlite3_bind_int64(st, 1, id);
        bind_text(st, 2, f->name);
        bind_text(st, 3, m ? ic_meas_kind_name(m->kind) : "bench");
        if (m) {
            sqlite3_bind_int64(st, 4, m->context);
            sqlite3_bind_int64(st, 5, m->batch);
        } else {
            sqlite3_bind_null(st, 4);
            sqlite3_bind_null(st, 5);
        }
        bind_text(st, 6, f->unit);
        bind_num(st, 7, f->median);
        bind_num(st, 8, lo);
        bind_num(st, 9, hi);
        bind_num(st, 10, e ? e->median : NAN);
        bind_num(st, 11, f->paired_gbs > 0 ? f->paired_gbs : NAN);
        if (sqlite3_step(st) != SQLITE_DONE) rc = -1;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_finalize(st);
    return rc;
}

static long long find_hash(ic_history *h, const char *hash) {
    sqlite3_stmt *st;
    long long id = 0;
    if (sqlite3_prepare_v2(h->db, "SELECT id FROM runs WHERE content_hash = ?", -1, &st, NULL) ==
        SQLITE_OK) {
        bind_text(st, 1, hash);
        if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return id;
}

int ic_history_add(ic_history *h, const char *path, const char *text, size_t len, int *added,
                   long long *id, char *err, size_t errlen) {
    *added = 0;
    char hash[80];
    content_hash(text, len, hash, sizeof hash);
    if ((*id = find_hash(h, hash)) != 0) return 0;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) return ic_fail_json(err, errlen, 2, path, &jerr);
    ic_figset tok, eff = {0};
    int rc = ic_figset_from_json(root, path, IC_METRIC_TOK_PER_S, &tok, err, errlen);
    ic_result r;
    int is_result = rc == 0 && strcmp(tok.kind, "result") == 0;
    if (is_result) {
        ic_result_from_json(&r, root, path, err, errlen); /* read fine just above */
        ic_figset_from_json(root, path, IC_METRIC_EFFICIENCY, &eff, err, errlen);
    }
    json_decref(root);
    if (rc) return rc;
    if (sqlite3_exec(h->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        insert_run(h, path, hash, text, is_result ? &r : NULL, &tok, id) ||
        insert_figures(h, *id, is_result ? &r : NULL, &tok, is_result ? &eff : NULL) ||
        sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(h, err, errlen, "adding a run");
        if (rc == 2) rc = 1; /* a write that failed is a runtime failure */
        sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
    } else {
        *added = 1;
    }
    if (is_result) ic_result_free(&r);
    ic_figset_free(&tok);
    ic_figset_free(&eff);
    return rc;
}

/* ---- reading ---- */

static const char *col(sqlite3_stmt *st, int i) {
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}

int ic_history_list(ic_history *h, ic_history_run_fn *fn, void *user, char *err, size_t errlen) {
    sqlite3_stmt *st;
    const char *q = "SELECT r.id, r.kind, r.path, r.added_utc, r.created_utc, r.git_commit,"
                    " r.machine_id, r.host, r.instance_type, r.model, r.dtype,"
                    " (SELECT COUNT(*) FROM figures f WHERE f.run_id = r.id)"
                    " FROM runs r ORDER BY r.id";
    if (sqlite3_prepare_v2(h->db, q, -1, &st, NULL) != SQLITE_OK)
        return db_fail(h, err, errlen, "listing");
    while (sqlite3_step(st) == SQLITE_ROW) {
        ic_history_run r = {sqlite3_column_int64(st, 0),
                            col(st, 1),
                            col(st, 2),
                            col(st, 3),
                            col(st, 4),
                            col(st, 5),
                            col(st, 6),
                            col(st, 7),
                            col(st, 8),
                            col(st, 9),
                            col(st, 10),
                            sqlite3_column_int(st, 11)};
        fn(&r, user);
    }
    return sqlite3_finalize(st) == SQLITE_OK ? 0 : db_fail(h, err, errlen, "listing");
}

static double col_num(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

int ic_history_points(ic_history *h, const ic_history_filter *f, ic_history_point_fn *fn,
                      void *user, char *err, size_t errlen) {
    sqlite3_stmt *st;
    const char *q =
        "SELECT r.id, r.created_utc, r.git_commit, r.machine_id, r.host, r.instance_type,"
        " r.model, r.dtype, f.name, f.unit, f.median, f.lo, f.hi, f.efficiency"
        " FROM figures f JOIN runs r ON r.id = f.run_id"
        " WHERE (?1 IS NULL OR r.model = ?1) AND (?2 IS NULL OR r.dtype = ?2)"
        " AND (?3 IS NULL OR f.kind = ?3) AND (?4 < 0 OR f.context = ?4)"
        " AND (?5 IS NULL OR r.machine_id LIKE ?5 || '%' OR r.instance_type = ?5 OR r.host = ?5)"
        " AND (?6 IS NULL OR r.created_utc >= ?6)"
        " ORDER BY f.name, r.created_utc, r.id";
    if (sqlite3_prepare_v2(h->db, q, -1, &st, NULL) != SQLITE_OK)
        return db_fail(h, err, errlen, "querying");
    bind_text(st, 1, f->model);
    bind_text(st, 2, f->dtype);
    bind_text(st, 3, f->kind);
    sqlite3_bind_int64(st, 4, f->context);
    bind_text(st, 5, f->host);
    bind_text(st, 6, f->since);
    while (sqlite3_step(st) == SQLITE_ROW) {
        ic_history_point p = {sqlite3_column_int64(st, 0),
                              col(st, 1),
                              col(st, 2),
                              col(st, 3),
                              col(st, 4),
                              col(st, 5),
                              col(st, 6),
                              col(st, 7),
                              col(st, 8),
                              col(st, 9),
                              col_num(st, 10),
                              col_num(st, 11),
                              col_num(st, 12),
                              col_num(st, 13)};
        fn(&p, user);
    }
    return sqlite3_finalize(st) == SQLITE_OK ? 0 : db_fail(h, err, errlen, "querying");
}

int ic_history_document(ic_history *h, const char *ref, char **text, char *label, size_t labellen,
                        char *err, size_t errlen) {
    *text = NULL;
    if (ref[0] != '@' || ref[1] == '\0')
        return ic_fail(err, errlen, 2, "'%s': a history reference is @latest or @COMMIT", ref);
    int latest = strcmp(ref, "@latest") == 0;
    sqlite3_stmt *st;
    const char *q = latest
                        ? "SELECT id, path, git_commit, document FROM runs ORDER BY id DESC LIMIT 1"
                        : "SELECT id, path, git_commit, document FROM runs"
                          " WHERE git_commit LIKE ?1 || '%' ORDER BY id DESC LIMIT 1";
    if (sqlite3_prepare_v2(h->db, q, -1, &st, NULL) != SQLITE_OK)
        return db_fail(h, err, errlen, "looking up a reference");
    if (!latest) bind_text(st, 1, ref + 1);
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *text = strdup(col(st, 3));
        snprintf(label, labellen, "%s = history run %lld (%s, commit %s)", ref,
                 (long long)sqlite3_column_int64(st, 0), col(st, 1), col(st, 2));
        if (*text == NULL) rc = ic_fail(err, errlen, 1, "out of memory");
    } else {
        rc = ic_fail(err, errlen, 2, "%s: %s in %s", ref,
                     latest ? "the history is empty" : "no run at a commit starting so", h->path);
    }
    sqlite3_finalize(st);
    return rc;
}

int ic_history_each_document(ic_history *h, const char *kind, ic_history_doc_fn *fn, void *user,
                             char *err, size_t errlen) {
    sqlite3_stmt *st;
    const char *q = "SELECT id, path, git_commit, document FROM runs WHERE kind = ?1 ORDER BY id";
    if (sqlite3_prepare_v2(h->db, q, -1, &st, NULL) != SQLITE_OK)
        return db_fail(h, err, errlen, "reading documents");
    bind_text(st, 1, kind);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char label[700];
        snprintf(label, sizeof label, "history run %lld (%s, commit %s)",
                 (long long)sqlite3_column_int64(st, 0), col(st, 1), col(st, 2));
        fn(col(st, 3), label, user);
    }
    return sqlite3_finalize(st) == SQLITE_OK ? 0 : db_fail(h, err, errlen, "reading documents");
}

double ic_history_best_read(ic_history *h, const char *machine_id) {
    sqlite3_stmt *st;
    double best = 0;
    const char *q = "SELECT MAX(v) FROM (SELECT read_bw_gbs AS v FROM runs WHERE machine_id = ?1"
                    " UNION ALL SELECT f.paired_gbs FROM figures f JOIN runs r ON r.id = f.run_id"
                    " WHERE r.machine_id = ?1)";
    if (machine_id == NULL || !machine_id[0] ||
        sqlite3_prepare_v2(h->db, q, -1, &st, NULL) != SQLITE_OK)
        return 0;
    bind_text(st, 1, machine_id);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        best = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return best;
}

#endif /* IC_HAVE_SQLITE3 */
