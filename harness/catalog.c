/* The platform catalog: TSV files under platforms/, the price lookup, and the AWS price-list
 * import. */
#define _GNU_SOURCE
#include "input.h"
#include "fail.h"
#include "catalog.h"
#include "tempfiles.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The source tree's platforms/, an absolute path set by CMake (the last place looked). */
#ifndef IC_PLATFORMS_DIR_DEFAULT
#define IC_PLATFORMS_DIR_DEFAULT "platforms"
#endif

static const char *const g_pricing_names[IC_PRICING_COUNT] = {"on-demand", "spot", "savings-1y",
                                                              "savings-3y"};

const char *ic_pricing_name(ic_pricing p) {
    return (unsigned)p < IC_PRICING_COUNT ? g_pricing_names[p] : "?";
}

int ic_pricing_parse(const char *name, ic_pricing *out) {
    for (int i = 0; i < IC_PRICING_COUNT; i++)
        if (strcmp(name, g_pricing_names[i]) == 0) {
            *out = (ic_pricing)i;
            return 0;
        }
    return -1;
}

static const char *const g_origin_names[] = {"--catalog", "IC_PLATFORMS_DIR", "installed",
                                             "source tree"};

const char *ic_catalog_origin_name(ic_catalog_origin origin) {
    return (unsigned)origin <= IC_CATALOG_SOURCE ? g_origin_names[origin] : "?";
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* <prefix>/share/infercost/platforms for the binary at <prefix>/bin/infercost, into out; 0 when
 * the binary's own path cannot be read. */
static int installed_dir(char *out, size_t len) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return 0;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return 0;
    *slash = '\0';
    return snprintf(out, len, "%s/../share/infercost/platforms", exe) < (int)len;
}

static int found(char *dir, size_t dirlen, const char *path, ic_catalog_origin *origin,
                 ic_catalog_origin o, char *err, size_t errlen) {
    if (strlen(path) >= dirlen)
        return ic_fail(err, errlen, 2, "catalog directory name too long (%s)",
                       ic_catalog_origin_name(o));
    snprintf(dir, dirlen, "%s", path);
    *origin = o;
    return 0;
}

int ic_catalog_find(const char *given, char *dir, size_t dirlen, ic_catalog_origin *origin,
                    char *err, size_t errlen) {
    const char *env = getenv("IC_PLATFORMS_DIR");
    if (given || (env && env[0])) {
        ic_catalog_origin o = given ? IC_CATALOG_GIVEN : IC_CATALOG_ENV;
        const char *path = given ? given : env;
        if (!is_dir(path))
            return ic_fail(err, errlen, 2, "catalog directory '%s' does not exist (given by %s)",
                           path, given ? "--catalog" : "$IC_PLATFORMS_DIR");
        return found(dir, dirlen, path, origin, o, err, errlen);
    }
    char inst[PATH_MAX + 64];
    int have_inst = installed_dir(inst, sizeof inst);
    if (have_inst && is_dir(inst)) {
        char real[PATH_MAX];
        return found(dir, dirlen, realpath(inst, real) ? real : inst, origin, IC_CATALOG_INSTALLED,
                     err, errlen);
    }
    if (is_dir(IC_PLATFORMS_DIR_DEFAULT))
        return found(dir, dirlen, IC_PLATFORMS_DIR_DEFAULT, origin, IC_CATALOG_SOURCE, err, errlen);
    return ic_fail(err, errlen, 2,
                   "no platform catalog found: tried --catalog (not given), $IC_PLATFORMS_DIR "
                   "(unset), %s (installed beside the binary), %s (the source tree it was built "
                   "from); give --catalog DIR or set IC_PLATFORMS_DIR",
                   have_inst ? inst
                             : "<prefix>/share/infercost/platforms (/proc/self/exe unreadable)",
                   IC_PLATFORMS_DIR_DEFAULT);
}

const char *ic_catalog_shown_dir(const ic_catalog *cat) {
    /* The source tree's absolute path is the build machine's: messages say "platforms". */
    return cat->origin == IC_CATALOG_SOURCE ? "platforms" : cat->dir;
}

/* ---- TSV reading: '#' comments, a header row naming the columns, then tab-separated rows. ----
 * Each file is a table of its columns; one reader checks every file against its table, so the
 * rules about rows (width, ranges, control bytes, repeated keys) are written once. */

#define TSV_MAX_COLS 16
#define TSV_UNSTORED SIZE_MAX /* the offset of a column that is checked but not kept */

typedef enum tsv_kind {
    TSV_TEXT,   /* free text: spaces allowed, control bytes not */
    TSV_NAME,   /* a name or key: no whitespace, and no leading '#' (that marks a comment) */
    TSV_INT,    /* a whole number in [lo, hi], kept as int */
    TSV_DOUBLE, /* a finite number in [lo, hi], or [lo, hi) with hi_open, kept as double */
} tsv_kind;

typedef struct tsv_col {
    const char *name;
    tsv_kind kind;
    size_t off, size; /* where the value goes in the row struct, and its size */
    int optional;     /* an empty field reads as "" or 0 */
    double lo, hi;
    int hi_open;
    const char *const *choices; /* TSV_NAME: the n_choices values allowed; NULL: any */
    int n_choices;
} tsv_col;

/* A column's destination: a field of the row struct. */
#define TSV_FIELD(type, field) .off = offsetof(type, field), .size = sizeof(((type *)0)->field)
#define TSV_SKIP               .off = TSV_UNSTORED

typedef struct tsv_table {
    const char *file;
    const tsv_col *cols;
    int ncols;
    size_t row_size;
    int key[2]; /* the columns whose values together may not repeat; -1: none */
} tsv_table;

#define TSV_TABLE(file, cols, row, k0, k1)                                                         \
    {                                                                                              \
        file, cols, (int)(sizeof cols / sizeof cols[0]), sizeof(row), {                            \
            k0, k1                                                                                 \
        }                                                                                          \
    }

/* prices.tsv keeps six decimals: a smaller price would be written as 0. */
#define PRICE_MIN_USD_PER_HOUR 1e-6

static const char *const g_basis_names[] = {"naming", "published"};

static const tsv_col k_instance_cols[] = {
    {"instance_type", TSV_NAME, TSV_FIELD(ic_instance_info, type)},
    {"family", TSV_NAME, TSV_FIELD(ic_instance_info, family)},
    {"vcpus", TSV_INT, TSV_FIELD(ic_instance_info, vcpus), .lo = 1, .hi = 100000},
    {"memory_gib", TSV_DOUBLE, TSV_FIELD(ic_instance_info, memory_gib), .lo = 0.25, .hi = 1e5},
    {"chip", TSV_NAME, TSV_FIELD(ic_instance_info, chip)},
    {"accelerators", TSV_INT, TSV_FIELD(ic_instance_info, accelerators), .lo = 0, .hi = 1000},
    {"basis", TSV_NAME, TSV_FIELD(ic_instance_info, basis), .choices = g_basis_names,
     .n_choices = 2},
};

/* Columns kept for people (families, SIMD, notes) are checked but not stored. */
static const tsv_col k_chip_cols[] = {
    {"chip", TSV_NAME, TSV_FIELD(ic_chip_info, name)},
    {"arch", TSV_NAME, TSV_FIELD(ic_chip_info, arch)},
    {"families", TSV_TEXT, TSV_SKIP, .optional = 1},
    {"cores_per_socket", TSV_INT, TSV_SKIP, .optional = 1, .lo = 1, .hi = 4096},
    {"vcpus_per_socket", TSV_INT, TSV_FIELD(ic_chip_info, vcpus_per_socket), .optional = 1, .lo = 1,
     .hi = 8192},
    {"simd", TSV_TEXT, TSV_SKIP, .optional = 1},
    {"ml_isa", TSV_TEXT, TSV_SKIP, .optional = 1},
    {"memory", TSV_TEXT, TSV_SKIP, .optional = 1},
    {"peak_mem_bw_gbs", TSV_DOUBLE, TSV_FIELD(ic_chip_info, peak_mem_bw_gbs), .optional = 1,
     .lo = 0, .hi = 1e6},
    {"peak_bf16_tflops", TSV_DOUBLE, TSV_FIELD(ic_chip_info, peak_bf16_tflops), .optional = 1,
     .lo = 0, .hi = 1e6},
    {"peak_int8_tops", TSV_DOUBLE, TSV_SKIP, .optional = 1, .lo = 0, .hi = 1e6},
    {"device_mem_gib", TSV_DOUBLE, TSV_FIELD(ic_chip_info, device_mem_gib), .optional = 1, .lo = 0,
     .hi = 1e5},
    {"note", TSV_TEXT, TSV_SKIP, .optional = 1},
};

static const tsv_col k_price_cols[] = {
    {"instance_type", TSV_NAME, TSV_FIELD(ic_price_row, type)},
    {"region", TSV_NAME, TSV_FIELD(ic_price_row, region)},
    {"usd_per_hour", TSV_DOUBLE, TSV_FIELD(ic_price_row, usd_per_hour),
     .lo = PRICE_MIN_USD_PER_HOUR, .hi = 1e5},
    {"source", TSV_TEXT, TSV_FIELD(ic_price_row, source)},
    {"date", TSV_TEXT, TSV_FIELD(ic_price_row, date)},
};

/* discounts.tsv's rows, before they go to the catalog's array indexed by pricing mode. */
typedef struct discount_row {
    char pricing[16];
    double fraction;
    char source[sizeof(((ic_discount *)0)->source)];
    char date[sizeof(((ic_discount *)0)->date)];
} discount_row;

static const tsv_col k_discount_cols[] = {
    {"pricing", TSV_NAME, TSV_FIELD(discount_row, pricing), .choices = g_pricing_names,
     .n_choices = IC_PRICING_COUNT},
    {"discount", TSV_DOUBLE, TSV_FIELD(discount_row, fraction), .lo = 0, .hi = 1, .hi_open = 1},
    {"source", TSV_TEXT, TSV_FIELD(discount_row, source)},
    {"date", TSV_TEXT, TSV_FIELD(discount_row, date)},
};

static const tsv_col k_token_price_cols[] = {
    {"model", TSV_NAME, TSV_FIELD(ic_token_price, model)},
    {"input_usd_per_mtok", TSV_DOUBLE, TSV_FIELD(ic_token_price, input_usd_per_mtok), .lo = 0,
     .hi = 1e4},
    {"output_usd_per_mtok", TSV_DOUBLE, TSV_FIELD(ic_token_price, output_usd_per_mtok), .lo = 0,
     .hi = 1e4},
    {"source", TSV_TEXT, TSV_FIELD(ic_token_price, source)},
    {"date", TSV_TEXT, TSV_FIELD(ic_token_price, date)},
};

static const tsv_table k_instances =
    TSV_TABLE("instances.tsv", k_instance_cols, ic_instance_info, 0, -1);
static const tsv_table k_chips = TSV_TABLE("chips.tsv", k_chip_cols, ic_chip_info, 0, -1);
static const tsv_table k_prices = TSV_TABLE("prices.tsv", k_price_cols, ic_price_row, 0, 1);
static const tsv_table k_discounts =
    TSV_TABLE("discounts.tsv", k_discount_cols, discount_row, 0, -1);
static const tsv_table k_token_prices =
    TSV_TABLE("token-prices.tsv", k_token_price_cols, ic_token_price, 0, -1);

typedef struct tsv {
    const char *name; /* the file as messages name it */
    char *buf;
    char *next;
    int line;
    char *f[TSV_MAX_COLS]; /* fields of the current line */
    int nf;                /* how many it has, counted past TSV_MAX_COLS */
} tsv;

/* Takes buf (len bytes and a terminating NUL, from malloc) as the text to read; frees it on error.
 */
static int tsv_init(tsv *t, char *buf, size_t len, const char *name, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    t->name = name;
    if (memchr(buf, '\0', len)) {
        free(buf);
        return ic_fail(err, errlen, 2, "%s: binary data (a NUL byte) in a text file", name);
    }
    t->buf = t->next = buf;
    return 0;
}

static int tsv_open(tsv *t, const char *path, const char *name, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    t->name = name;
    int bad = ic_input_check(path, name, err, errlen);
    if (bad) return bad;
    FILE *fp = fopen(path, "rb");
    if (!fp) return ic_fail(err, errlen, 1, "%s: cannot open: %s", name, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                fclose(fp);
                return ic_fail(err, errlen, 2, "%s: too large or out of memory", name);
            }
            buf = nb;
            cap *= 2;
        }
    }
    int rerr = ferror(fp);
    fclose(fp);
    if (!buf || rerr) {
        free(buf);
        return ic_fail(err, errlen, 1, "%s: read failed", name);
    }
    buf[len] = '\0';
    return tsv_init(t, buf, len, name, err, errlen);
}

/* Splits line at its tabs into f (at most max fields kept); returns how many fields it has. */
static int tsv_split(char *line, char **f, int max) {
    int n = 0;
    for (char *p = line;;) {
        if (n < max) f[n] = p;
        n++;
        char *tab = strchr(p, '\t');
        if (!tab) return n;
        *tab = '\0';
        p = tab + 1;
    }
}

/* Splits the next non-comment, non-blank line into t->f; returns 1, or 0 at the end. */
static int tsv_next(tsv *t) {
    while (t->next && *t->next) {
        char *line = t->next;
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
            t->next = nl + 1;
        } else {
            t->next = NULL;
        }
        t->line++;
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r') line[--n] = '\0';
        if (line[0] == '#' || n == 0) continue;
        t->nf = tsv_split(line, t->f, TSV_MAX_COLS);
        return 1;
    }
    return 0;
}

/* Checks the text s of column c and, when row is not NULL and c is kept, stores its value there.
 * Returns 0, or 2 with why naming the column. */
static int tsv_field(const tsv_col *c, const char *s, void *row, char *why, size_t whylen) {
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return ic_fail(why, whylen, 2, "%s has a control character (byte 0x%02x at %d)",
                           c->name, (unsigned char)*p, (int)(p - s) + 1);
    if (!s[0]) return c->optional ? 0 : ic_fail(why, whylen, 2, "%s is empty", c->name);
    char *dst = row && c->off != TSV_UNSTORED ? (char *)row + c->off : NULL;
    if (c->kind == TSV_TEXT || c->kind == TSV_NAME) {
        if (c->kind == TSV_NAME && s[0] == '#')
            return ic_fail(why, whylen, 2, "%s '%s' starts with '#', which marks a comment",
                           c->name, s);
        if (c->kind == TSV_NAME && strchr(s, ' '))
            return ic_fail(why, whylen, 2, "%s '%s' contains whitespace", c->name, s);
        int known = !c->choices;
        for (int i = 0; i < c->n_choices && !known; i++) known = strcmp(s, c->choices[i]) == 0;
        if (!known) {
            char list[256] = "";
            for (int i = 0; i < c->n_choices; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                         c->choices[i]);
            return ic_fail(why, whylen, 2, "%s '%s' is not one of %s", c->name, s, list);
        }
        size_t n = strlen(s);
        if (c->off != TSV_UNSTORED && n >= c->size)
            return ic_fail(why, whylen, 2, "%s is longer than %zu characters", c->name,
                           c->size - 1);
        if (dst) memcpy(dst, s, n + 1);
        return 0;
    }
    /* Plain decimal only: strtod would also take leading spaces, hex, "inf" and "nan". */
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (strspn(s, "0123456789.eE+-") != strlen(s) || *end || errno || !isfinite(v))
        return ic_fail(why, whylen, 2, "%s '%s' is not a number", c->name, s);
    if (c->kind == TSV_INT && strpbrk(s, ".eE"))
        return ic_fail(why, whylen, 2, "%s '%s' is not a whole number", c->name, s);
    if (v < c->lo) return ic_fail(why, whylen, 2, "%s %s is below %g", c->name, s, c->lo);
    if (c->hi_open && v >= c->hi)
        return ic_fail(why, whylen, 2, "%s %s must be below %g", c->name, s, c->hi);
    if (v > c->hi) return ic_fail(why, whylen, 2, "%s %s is above %g", c->name, s, c->hi);
    if (dst && c->kind == TSV_INT) {
        assert(c->size == sizeof(int));
        int iv = (int)v;
        memcpy(dst, &iv, sizeof iv);
    } else if (dst) {
        assert(c->size == sizeof(double));
        memcpy(dst, &v, sizeof v);
    }
    return 0;
}

/* Checks the header row against the table: every column once, in any order, and no other.
 * map[i] is then the table column of field i. */
static int tsv_header(tsv *t, const tsv_table *tab, int *map, char *err, size_t errlen) {
    if (!tsv_next(t)) return ic_fail(err, errlen, 2, "%s: no header row", t->name);
    int nf = t->nf < TSV_MAX_COLS ? t->nf : TSV_MAX_COLS;
    for (int j = 0; j < tab->ncols; j++) {
        int found = 0;
        for (int i = 0; i < nf && !found; i++) found = strcmp(t->f[i], tab->cols[j].name) == 0;
        if (!found)
            return ic_fail(err, errlen, 2, "%s:%d: header has no column '%s'", t->name, t->line,
                           tab->cols[j].name);
    }
    for (int i = 0; i < t->nf; i++) {
        map[i] = -1;
        for (int j = 0; i < nf && j < tab->ncols && map[i] < 0; j++)
            if (strcmp(t->f[i], tab->cols[j].name) == 0) map[i] = j;
        if (map[i] < 0)
            return ic_fail(err, errlen, 2, "%s:%d: header field %d '%s' is not a column of %s",
                           t->name, t->line, i + 1, i < nf ? t->f[i] : "", tab->file);
        for (int k = 0; k < i; k++)
            if (map[k] == map[i])
                return ic_fail(err, errlen, 2, "%s:%d: header names column '%s' twice", t->name,
                               t->line, t->f[i]);
    }
    return 0;
}

typedef struct tsv_key {
    const char *a, *b; /* the key's values */
    int line;
} tsv_key;

static int tsv_key_cmp(const void *x, const void *y) {
    const tsv_key *p = x, *q = y;
    int c = strcmp(p->a, q->a);
    if (!c) c = strcmp(p->b, q->b);
    return c ? c : (p->line > q->line) - (p->line < q->line);
}

/* A key that repeats is an error naming both lines; sorting keeps this O(n log n) for big imports.
 */
static int tsv_check_keys(const tsv_table *tab, const char *rows, const int *lines, size_t n,
                          const char *name, char *err, size_t errlen) {
    if (tab->key[0] < 0 || n < 2) return 0;
    tsv_key *k = malloc(n * sizeof *k);
    if (!k) return ic_fail(err, errlen, 1, "out of memory reading %s", name);
    const tsv_col *ca = &tab->cols[tab->key[0]];
    const tsv_col *cb = tab->key[1] >= 0 ? &tab->cols[tab->key[1]] : NULL;
    for (size_t i = 0; i < n; i++) {
        k[i].a = rows + i * tab->row_size + ca->off;
        k[i].b = cb ? rows + i * tab->row_size + cb->off : "";
        k[i].line = lines[i];
    }
    qsort(k, n, sizeof *k, tsv_key_cmp);
    int rc = 0;
    for (size_t i = 1; i < n && !rc; i++) {
        if (strcmp(k[i].a, k[i - 1].a) != 0 || strcmp(k[i].b, k[i - 1].b) != 0) continue;
        if (cb)
            rc = ic_fail(err, errlen, 2, "%s:%d: %s '%s' and %s '%s' repeat line %d", name,
                         k[i].line, ca->name, k[i].a, cb->name, k[i].b, k[i - 1].line);
        else
            rc = ic_fail(err, errlen, 2, "%s:%d: %s '%s' repeats line %d", name, k[i].line,
                         ca->name, k[i].a, k[i - 1].line);
    }
    free(k);
    return rc;
}

/* Reads the rows of t's text (which it frees) as table tab. */
static int tsv_parse(tsv *t, const tsv_table *tab, void **rows_out, size_t *n_out, char *err,
                     size_t errlen) {
    const char *name = t->name;
    int rc;
    char *rows = NULL;
    int *lines = NULL;
    size_t n = 0, cap = 0;
    int map[TSV_MAX_COLS];
    if ((rc = tsv_header(t, tab, map, err, errlen))) goto out;
    while (tsv_next(t)) {
        if (t->nf != tab->ncols) {
            rc = ic_fail(err, errlen, 2, "%s:%d: %d fields, the header has %d", name, t->line,
                         t->nf, tab->ncols);
            goto out;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char *nr = realloc(rows, cap * tab->row_size);
            int *nl = nr ? realloc(lines, cap * sizeof *lines) : NULL;
            if (nr) rows = nr;
            if (nl) lines = nl;
            if (!nr || !nl) {
                rc = ic_fail(err, errlen, 1, "out of memory reading %s", name);
                goto out;
            }
        }
        char *row = rows + n * tab->row_size;
        memset(row, 0, tab->row_size);
        for (int i = 0; i < t->nf; i++) {
            char why[300];
            if ((rc = tsv_field(&tab->cols[map[i]], t->f[i], row, why, sizeof why))) {
                ic_fail(err, errlen, rc, "%s:%d: %s", name, t->line, why);
                goto out;
            }
        }
        lines[n++] = t->line;
    }
    rc = tsv_check_keys(tab, rows, lines, n, name, err, errlen);
out:
    free(t->buf);
    free(lines);
    if (rc) {
        free(rows);
        return rc;
    }
    *rows_out = rows;
    *n_out = n;
    return 0;
}

/* Reads the catalog's file of table tab into a new array of rows (the caller frees it). Every
 * failure names the file, the line and the column. */
static int tsv_read(const ic_catalog *cat, const tsv_table *tab, void **rows_out, size_t *n_out,
                    char *err, size_t errlen) {
    char path[1100], name[1100];
    snprintf(path, sizeof path, "%s/%s", cat->dir, tab->file);
    snprintf(name, sizeof name, "%s/%s", ic_catalog_shown_dir(cat), tab->file);
    tsv t;
    int rc = tsv_open(&t, path, name, err, errlen);
    if (rc) return rc;
    return tsv_parse(&t, tab, rows_out, n_out, err, errlen);
}

int ic_catalog_check_tsv(const char *file, const char *text, size_t len, char *err, size_t errlen) {
    static const tsv_table *const tables[] = {&k_instances, &k_chips, &k_prices, &k_discounts,
                                              &k_token_prices};
    const tsv_table *tab = NULL;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0] && !tab; i++)
        if (strcmp(file, tables[i]->file) == 0) tab = tables[i];
    if (!tab) return ic_fail(err, errlen, 2, "%s: not a file of the catalog", file);
    char *buf = malloc(len + 1);
    if (!buf) return ic_fail(err, errlen, 1, "out of memory reading %s", file);
    memcpy(buf, text, len);
    buf[len] = '\0';
    tsv t;
    void *rows = NULL;
    size_t n = 0;
    int rc = tsv_init(&t, buf, len, file, err, errlen);
    if (!rc) rc = tsv_parse(&t, tab, &rows, &n, err, errlen);
    free(rows);
    return rc;
}

/* 0 when the loader would read text back as one row of tab, written in the table's column order:
 * not a comment, the table's width, every field valid. Else 2 with why. */
static int tsv_check_line(const tsv_table *tab, const char *text, char *why, size_t whylen) {
    char line[1024];
    if (snprintf(line, sizeof line, "%s", text) >= (int)sizeof line)
        return ic_fail(why, whylen, 2, "the row is longer than %zu characters", sizeof line - 1);
    char *f[TSV_MAX_COLS];
    int nf = tsv_split(line, f, TSV_MAX_COLS);
    if (nf != tab->ncols)
        return ic_fail(why, whylen, 2, "%d fields, the header has %d", nf, tab->ncols);
    for (int i = 0; i < nf; i++) {
        int rc = tsv_field(&tab->cols[i], f[i], NULL, why, whylen);
        if (rc) return rc;
    }
    if (f[0][0] == '#') return ic_fail(why, whylen, 2, "the row starts with '#', a comment");
    return 0;
}

static int load_all(ic_catalog *cat, char *err, size_t errlen) {
    void *rows;
    size_t n;
    int rc;
    if ((rc = tsv_read(cat, &k_instances, &rows, &n, err, errlen))) return rc;
    cat->instances = rows, cat->n_instances = n;
    if ((rc = tsv_read(cat, &k_chips, &rows, &n, err, errlen))) return rc;
    cat->chips = rows, cat->n_chips = n;
    if ((rc = tsv_read(cat, &k_prices, &rows, &n, err, errlen))) return rc;
    cat->prices = rows, cat->n_prices = n;
    if ((rc = tsv_read(cat, &k_token_prices, &rows, &n, err, errlen))) return rc;
    cat->token_prices = rows, cat->n_token_prices = n;
    if ((rc = tsv_read(cat, &k_discounts, &rows, &n, err, errlen))) return rc;
    const discount_row *d = rows;
    for (size_t i = 0; i < n; i++) {
        ic_pricing mode;
        if (ic_pricing_parse(d[i].pricing, &mode) != 0) continue; /* the table allows only modes */
        ic_discount *out = &cat->discounts[mode];
        out->present = 1;
        out->fraction = d[i].fraction;
        memcpy(out->source, d[i].source, sizeof out->source);
        memcpy(out->date, d[i].date, sizeof out->date);
    }
    free(rows);
    return 0;
}

void ic_catalog_free(ic_catalog *cat) {
    free(cat->instances);
    free(cat->chips);
    free(cat->prices);
    free(cat->token_prices);
    memset(cat, 0, sizeof *cat);
}

int ic_catalog_load(ic_catalog *cat, const char *dir, char *err, size_t errlen) {
    memset(cat, 0, sizeof *cat);
    int rc = ic_catalog_find(dir, cat->dir, sizeof cat->dir, &cat->origin, err, errlen);
    if (rc) return rc;
    if ((rc = load_all(cat, err, errlen))) ic_catalog_free(cat);
    return rc;
}

const ic_instance_info *ic_catalog_instance(const ic_catalog *cat, const char *type) {
    for (size_t i = 0; i < cat->n_instances; i++)
        if (strcmp(cat->instances[i].type, type) == 0) return &cat->instances[i];
    return NULL;
}

const ic_chip_info *ic_catalog_chip(const ic_catalog *cat, const char *name) {
    for (size_t i = 0; i < cat->n_chips; i++)
        if (strcmp(cat->chips[i].name, name) == 0) return &cat->chips[i];
    return NULL;
}

const ic_token_price *ic_catalog_token_price(const ic_catalog *cat, const char *model) {
    for (size_t i = 0; i < cat->n_token_prices; i++)
        if (strcmp(cat->token_prices[i].model, model) == 0) return &cat->token_prices[i];
    return NULL;
}

int ic_price_lookup(const ic_catalog *cat, const char *instance, const char *region,
                    ic_pricing pricing, ic_price *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if ((unsigned)pricing >= IC_PRICING_COUNT)
        return ic_fail(err, errlen, 2, "invalid pricing mode %d", (int)pricing);
    const ic_price_row *row = NULL;
    int other_regions = 0;
    for (size_t i = 0; i < cat->n_prices; i++) {
        if (strcmp(cat->prices[i].type, instance) != 0) continue;
        if (strcmp(cat->prices[i].region, region) == 0) {
            row = &cat->prices[i];
            break;
        }
        other_regions++;
    }
    if (!row) {
        if (other_regions)
            return ic_fail(err, errlen, 2,
                           "instance type '%s' has no price for region '%s' in %s/prices.tsv "
                           "(import one with 'infercost prices import')",
                           instance, region, ic_catalog_shown_dir(cat));
        return ic_fail(err, errlen, 2, "unknown instance type '%s': no price in %s/prices.tsv",
                       instance, ic_catalog_shown_dir(cat));
    }
    const ic_discount *d = &cat->discounts[pricing];
    if (pricing != IC_PRICING_ON_DEMAND && !d->present)
        return ic_fail(err, errlen, 2, "pricing '%s' has no discount row in %s/discounts.tsv",
                       ic_pricing_name(pricing), ic_catalog_shown_dir(cat));
    snprintf(out->instance_type, sizeof out->instance_type, "%s", instance);
    snprintf(out->region, sizeof out->region, "%s", region);
    out->pricing = pricing;
    out->on_demand_usd_per_hour = row->usd_per_hour;
    out->discount = pricing == IC_PRICING_ON_DEMAND ? 0 : d->fraction;
    out->usd_per_hour = row->usd_per_hour * (1 - out->discount);
    snprintf(out->source, sizeof out->source, "%s", row->source);
    snprintf(out->date, sizeof out->date, "%s", row->date);
    if (pricing != IC_PRICING_ON_DEMAND) {
        snprintf(out->discount_source, sizeof out->discount_source, "%s", d->source);
        snprintf(out->discount_date, sizeof out->discount_date, "%s", d->date);
    }
    return 0;
}

/* ---- Writing ---- */

/* Keeps text safe for a TSV field: tabs, newlines and control bytes become spaces. */
static void tsv_clean(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20) *s = ' ';
}

/* One prices.tsv row as write_prices writes it, in k_price_cols' order, without the newline. */
static void price_row_text(const ic_price_row *r, char *buf, size_t len) {
    snprintf(buf, len, "%s\t%s\t%.6f\t%s\t%s", r->type, r->region, r->usd_per_hour, r->source,
             r->date);
}

static int write_prices(const ic_catalog *cat, const ic_price_row *rows, size_t n, char *err,
                        size_t errlen) {
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", cat->dir, k_prices.file);
    /* Keep the file's comment header as it is, then write every row. */
    char *header = NULL;
    size_t hlen = 0;
    FILE *fp = fopen(path, "rb");
    if (fp) {
        char line[2048];
        FILE *mem = open_memstream(&header, &hlen);
        while (mem && fgets(line, sizeof line, fp) && line[0] == '#') fputs(line, mem);
        if (mem) fclose(mem);
        fclose(fp);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out) {
        free(header);
        return ic_fail(err, errlen, 1, "out of memory");
    }
    if (header) fputs(header, out);
    free(header);
    for (int i = 0; i < k_prices.ncols; i++)
        fprintf(out, "%s%c", k_prices.cols[i].name, i + 1 < k_prices.ncols ? '\t' : '\n');
    for (size_t i = 0; i < n; i++) {
        char line[1024];
        price_row_text(&rows[i], line, sizeof line);
        fprintf(out, "%s\n", line);
    }
    if (fclose(out) != 0) {
        free(buf);
        return ic_fail(err, errlen, 1, "out of memory");
    }
    int rc = ic_write_file_atomic(path, buf, len, err, errlen);
    free(buf);
    return rc;
}

/* ---- AWS Price List import ---- */

static const char *attr(json_t *attrs, const char *key) {
    json_t *v = json_object_get(attrs, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A few location names, for offer files whose products lack regionCode. */
static const char *region_of_location(const char *loc) {
    static const char *const map[][2] = {{"US East (N. Virginia)", "us-east-1"},
                                         {"US East (Ohio)", "us-east-2"},
                                         {"US West (N. California)", "us-west-1"},
                                         {"US West (Oregon)", "us-west-2"},
                                         {"EU (Ireland)", "eu-west-1"},
                                         {"EU (Frankfurt)", "eu-central-1"},
                                         {"Asia Pacific (Tokyo)", "ap-northeast-1"}};
    for (size_t i = 0; loc && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(loc, map[i][0]) == 0) return map[i][1];
    return NULL;
}

static void note_first(char *dst, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note_first(char *dst, size_t len, const char *fmt, ...) {
    if (dst[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, len, fmt, ap);
    va_end(ap);
}

/* The hourly USD price of a sku's on-demand term: 0 ok, 3 missing, 4 non-USD only, 2 error. */
static int sku_price(json_t *ondemand, const char *sku, double *usd, char *date, size_t datelen,
                     char *err, size_t errlen) {
    json_t *terms = json_object_get(ondemand, sku);
    if (!json_is_object(terms) || json_object_size(terms) == 0) return 3;
    const char *tkey;
    json_t *term;
    int saw_other_currency = 0;
    json_object_foreach(terms, tkey, term) {
        json_t *dims = json_object_get(term, "priceDimensions");
        if (!json_is_object(dims)) continue;
        const char *dkey;
        json_t *dim;
        json_object_foreach(dims, dkey, dim) {
            const char *unit = json_string_value(json_object_get(dim, "unit"));
            if (!unit || (strcmp(unit, "Hrs") != 0 && strcmp(unit, "Hours") != 0)) continue;
            json_t *ppu = json_object_get(dim, "pricePerUnit");
            if (!json_is_object(ppu)) continue;
            json_t *jusd = json_object_get(ppu, "USD");
            if (!jusd) {
                if (json_object_size(ppu) > 0) saw_other_currency = 1;
                continue;
            }
            const char *s = json_string_value(jusd);
            char *end = NULL;
            double v = s ? strtod(s, &end) : NAN;
            if (!s || !s[0] || *end || !isfinite(v) || v < 0)
                return ic_fail(
                    err, errlen, 2,
                    "terms.OnDemand.%s.%s.priceDimensions.%s.pricePerUnit.USD: '%s' is not "
                    "a non-negative number",
                    sku, tkey, dkey, s ? s : "(not a string)");
            *usd = v;
            const char *eff = json_string_value(json_object_get(term, "effectiveDate"));
            snprintf(date, datelen, "%.10s", eff ? eff : "");
            return 0;
        }
    }
    return saw_other_currency ? 4 : 3;
}

/* The catalog's price rows with the offer in root imported for region: a new array in *rows_out
 * (the caller frees it). offer_path names the offer in messages and in the rows' source. */
static int import_rows(const ic_catalog *cat, json_t *root, const char *offer_path,
                       const char *region, ic_import_report *rep, ic_price_row **rows_out,
                       size_t *n_out, char *err, size_t errlen) {
    char why[300];
    int rc = 0;
    ic_price_row *rows = NULL;
    size_t n = 0;
    json_t *products = json_object_get(root, "products");
    json_t *ondemand = json_object_get(json_object_get(root, "terms"), "OnDemand");
    if (!json_is_object(root) || !json_is_object(products)) {
        rc = ic_fail(err, errlen, 2, "%s: not an AWS price-list offer file: no 'products' object",
                     offer_path);
        goto out;
    }
    if (!json_is_object(ondemand)) {
        rc = ic_fail(err, errlen, 2, "%s: no 'terms.OnDemand' object", offer_path);
        goto out;
    }
    const char *pub = json_string_value(json_object_get(root, "publicationDate"));
    snprintf(rep->publication_date, sizeof rep->publication_date, "%s", pub ? pub : "");
    const char *base = strrchr(offer_path, '/');
    base = base ? base + 1 : offer_path;

    /* Start from a copy of the current rows, so nothing changes unless everything succeeds. */
    rows = malloc((cat->n_prices + 1) * sizeof *rows);
    if (!rows) {
        rc = ic_fail(err, errlen, 1, "out of memory");
        goto out;
    }
    memcpy(rows, cat->prices, cat->n_prices * sizeof *rows);
    n = cat->n_prices;
    size_t first_new = n;

    const char *sku;
    json_t *prod;
    json_object_foreach(products, sku, prod) {
        json_t *attrs = json_object_get(prod, "attributes");
        const char *family = json_string_value(json_object_get(prod, "productFamily"));
        if (!json_is_object(prod) || !json_is_object(attrs) || !family) {
            rep->skipped_missing++;
            note_first(rep->first_missing, sizeof rep->first_missing,
                       "products.%s: no productFamily or attributes", sku);
            continue;
        }
        if (strncmp(family, "Compute Instance", 16) != 0) {
            rep->skipped_not_matching++;
            continue;
        }
        static const char *const need[] = {"instanceType", "operatingSystem", "tenancy",
                                           "preInstalledSw", "capacitystatus"};
        const char *missing = NULL;
        for (size_t i = 0; i < sizeof need / sizeof need[0] && !missing; i++)
            if (!attr(attrs, need[i])) missing = need[i];
        const char *rcode = attr(attrs, "regionCode");
        if (!rcode) rcode = region_of_location(attr(attrs, "location"));
        if (!missing && !rcode) missing = "regionCode (or a known location)";
        if (missing) {
            rep->skipped_missing++;
            note_first(rep->first_missing, sizeof rep->first_missing,
                       "products.%s.attributes.%s missing", sku, missing);
            continue;
        }
        if (strcmp(rcode, region) != 0 || strcmp(attr(attrs, "operatingSystem"), "Linux") != 0 ||
            strcmp(attr(attrs, "tenancy"), "Shared") != 0 ||
            strcmp(attr(attrs, "preInstalledSw"), "NA") != 0 ||
            strcmp(attr(attrs, "capacitystatus"), "Used") != 0) {
            rep->skipped_not_matching++;
            continue;
        }
        const char *type = attr(attrs, "instanceType");
        double usd = 0;
        char date[32] = "";
        int pr = sku_price(ondemand, sku, &usd, date, sizeof date, err, errlen);
        if (pr == 2) {
            rc = 2;
            goto out;
        }
        if (pr == 3) {
            rep->skipped_missing++;
            note_first(rep->first_missing, sizeof rep->first_missing,
                       "terms.OnDemand.%s: no hourly price dimension", sku);
            continue;
        }
        if (pr == 4) {
            rep->skipped_non_usd++;
            note_first(rep->first_non_usd, sizeof rep->first_non_usd,
                       "terms.OnDemand.%s (%s): priced in another currency only", sku, type);
            continue;
        }
        if (usd == 0) {
            rep->skipped_zero++;
            continue;
        }
        if (strlen(type) >= sizeof rows[0].type) {
            rep->skipped_missing++;
            note_first(rep->first_missing, sizeof rep->first_missing,
                       "products.%s: instanceType too long", sku);
            continue;
        }
        ic_price_row nrow = {0};
        snprintf(nrow.type, sizeof nrow.type, "%s", type);
        snprintf(nrow.region, sizeof nrow.region, "%s", region);
        nrow.usd_per_hour = usd;
        snprintf(nrow.source, sizeof nrow.source,
                 "AWS Price List offer file %s (publicationDate %s)", base, pub ? pub : "absent");
        snprintf(nrow.date, sizeof nrow.date, "%.10s",
                 date[0] ? date : (pub && pub[0] ? pub : "undated"));
        tsv_clean(nrow.source);
        tsv_clean(nrow.date);
        /* A row the loader would refuse or skip (a $0.000000 price, an empty type, one starting
         * with '#' or holding a space or control byte) makes the catalog unreadable: refuse it. */
        char text[1024];
        price_row_text(&nrow, text, sizeof text);
        if (tsv_check_line(&k_prices, text, why, sizeof why)) {
            rc = ic_fail(err, errlen, 2, "products.%s: its row would not read back from %s: %s",
                         sku, k_prices.file, why);
            goto out;
        }
        ic_price_row *row = NULL;
        for (size_t i = 0; i < n; i++)
            if (strcmp(rows[i].type, type) == 0 && strcmp(rows[i].region, region) == 0)
                row = &rows[i];
        if (row && (size_t)(row - rows) >= first_new)
            continue; /* a second sku for a type already added */
        if (row) {
            rep->updated++;
        } else {
            ic_price_row *nr = realloc(rows, (n + 1) * sizeof *rows);
            if (!nr) {
                rc = ic_fail(err, errlen, 1, "out of memory");
                goto out;
            }
            rows = nr;
            row = &rows[n++];
            rep->added++;
            if (!ic_catalog_instance(cat, type)) rep->unknown_types++;
        }
        *row = nrow;
    }
    if (rep->updated + rep->added == 0) {
        rc =
            ic_fail(err, errlen, 2,
                    "%s: no Linux/Shared/NA/Used on-demand USD price for region '%s' (skipped: %zu "
                    "other, %zu missing fields, %zu non-USD)",
                    offer_path, region, rep->skipped_not_matching, rep->skipped_missing,
                    rep->skipped_non_usd);
        goto out;
    }
    *rows_out = rows;
    *n_out = n;
    rows = NULL;
out:
    free(rows);
    return rc;
}

static int check_region(const char *region, char *err, size_t errlen) {
    char why[300];
    if (tsv_field(&k_price_cols[1], region, NULL, why, sizeof why))
        return ic_fail(err, errlen, 2, "--region: %s", why);
    return 0;
}

/* Puts the imported rows in the catalog (which then owns them). */
static void take_rows(ic_catalog *cat, ic_price_row *rows, size_t n) {
    free(cat->prices);
    cat->prices = rows;
    cat->n_prices = n;
}

int ic_prices_import(ic_catalog *cat, const char *offer_path, const char *region,
                     ic_import_report *rep, char *err, size_t errlen) {
    memset(rep, 0, sizeof *rep);
    int rc = check_region(region, err, errlen);
    if (rc) return rc;
    json_error_t jerr;
    if ((rc = ic_input_check(offer_path, NULL, err, errlen))) return rc;
    json_t *root = json_load_file(offer_path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return ic_fail_json(err, errlen, 2, offer_path, &jerr);
    ic_price_row *rows = NULL;
    size_t n = 0;
    rc = import_rows(cat, root, offer_path, region, rep, &rows, &n, err, errlen);
    json_decref(root);
    if (!rc) rc = write_prices(cat, rows, n, err, errlen);
    if (rc) {
        free(rows);
        return rc;
    }
    take_rows(cat, rows, n);
    return 0;
}

int ic_prices_import_mem(ic_catalog *cat, const char *text, size_t len, const char *label,
                         const char *region, ic_import_report *rep, char *err, size_t errlen) {
    memset(rep, 0, sizeof *rep);
    int rc = check_region(region, err, errlen);
    if (rc) return rc;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return ic_fail_json(err, errlen, 2, label, &jerr);
    ic_price_row *rows = NULL;
    size_t n = 0;
    rc = import_rows(cat, root, label, region, rep, &rows, &n, err, errlen);
    json_decref(root);
    if (!rc) take_rows(cat, rows, n);
    return rc;
}
