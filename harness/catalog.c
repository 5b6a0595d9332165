/* The platform catalog: TSV files under platforms/, the price lookup, and the AWS price-list
 * import. */
#define _GNU_SOURCE
#include "catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

const char *ic_catalog_default_dir(void) {
    const char *env = getenv("IC_PLATFORMS_DIR");
    return env && env[0] ? env : IC_PLATFORMS_DIR_DEFAULT;
}

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- TSV reading: '#' comments, a header row naming the columns, then tab-separated rows. ---- */

#define TSV_MAX_COLS 16

typedef struct tsv {
    const char *path;
    char *buf;
    char *next;
    int line;
    int ncols;
    char *cols[TSV_MAX_COLS]; /* header names */
    char *f[TSV_MAX_COLS];    /* fields of the current row */
    int nf;
} tsv;

static int tsv_open(tsv *t, const char *path, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    t->path = path;
    FILE *fp = fopen(path, "rb");
    if (!fp) return fail(err, errlen, 1, "%s: cannot open: %s", path, strerror(errno));
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
                return fail(err, errlen, 2, "%s: too large or out of memory", path);
            }
            buf = nb;
            cap *= 2;
        }
    }
    int rerr = ferror(fp);
    fclose(fp);
    if (!buf || rerr) {
        free(buf);
        return fail(err, errlen, 1, "%s: read failed", path);
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        free(buf);
        return fail(err, errlen, 2, "%s: binary data (a NUL byte) in a text file", path);
    }
    t->buf = t->next = buf;
    return 0;
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
        t->nf = 0;
        char *p = line;
        for (;;) {
            if (t->nf == TSV_MAX_COLS) break;
            t->f[t->nf++] = p;
            char *tab = strchr(p, '\t');
            if (!tab) break;
            *tab = '\0';
            p = tab + 1;
        }
        return 1;
    }
    return 0;
}

static int tsv_header(tsv *t, char *err, size_t errlen) {
    if (!tsv_next(t)) return fail(err, errlen, 2, "%s: no header row", t->path);
    t->ncols = t->nf;
    for (int i = 0; i < t->nf; i++) t->cols[i] = t->f[i];
    return 0;
}

/* Index of the named column, or -1 with a message. */
static int tsv_col(const tsv *t, const char *name, char *err, size_t errlen) {
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i], name) == 0) return i;
    fail(err, errlen, 2, "%s: header has no column '%s'", t->path, name);
    return -1;
}

static const char *tsv_get(const tsv *t, int col) {
    return col >= 0 && col < t->nf ? t->f[col] : "";
}

/* A number in [lo, inf) in column col; empty allowed (as 0) when optional. */
static int tsv_num(const tsv *t, int col, double lo, int optional, double *out, char *err,
                   size_t errlen) {
    const char *s = tsv_get(t, col);
    if (!s[0] && optional) {
        *out = 0;
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!s[0] || *end || errno || !isfinite(v))
        return fail(err, errlen, 2, "%s:%d: %s '%s' is not a number", t->path, t->line,
                    t->cols[col], s);
    if (v < lo)
        return fail(err, errlen, 2, "%s:%d: %s %s is below %g", t->path, t->line, t->cols[col], s,
                    lo);
    *out = v;
    return 0;
}

static int tsv_str(const tsv *t, int col, char *dst, size_t dstlen, char *err, size_t errlen) {
    const char *s = tsv_get(t, col);
    if (!s[0]) return fail(err, errlen, 2, "%s:%d: %s is empty", t->path, t->line, t->cols[col]);
    if (strlen(s) >= dstlen)
        return fail(err, errlen, 2, "%s:%d: %s is longer than %zu characters", t->path, t->line,
                    t->cols[col], dstlen - 1);
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static int tsv_check_width(const tsv *t, char *err, size_t errlen) {
    if (t->nf != t->ncols)
        return fail(err, errlen, 2, "%s:%d: %d fields, the header has %d", t->path, t->line, t->nf,
                    t->ncols);
    return 0;
}

/* Grows *arr (element size sz) to hold one more than *n; returns the new slot or NULL. */
static void *grow(void *arr_p, size_t *n, size_t sz) {
    void **arr = arr_p;
    void *na = realloc(*arr, (*n + 1) * sz);
    if (!na) return NULL;
    *arr = na;
    memset((char *)na + *n * sz, 0, sz);
    return (char *)na + (*n)++ * sz;
}

static void path_join(char *out, size_t len, const char *dir, const char *file) {
    snprintf(out, len, "%s/%s", dir, file);
}

static int load_instances(ic_catalog *cat, char *err, size_t errlen) {
    char path[1100];
    path_join(path, sizeof path, cat->dir, "instances.tsv");
    tsv t;
    int rc = tsv_open(&t, path, err, errlen);
    if (rc) return rc;
    int c[7];
    const char *names[7] = {"instance_type", "family",       "vcpus", "memory_gib",
                            "chip",          "accelerators", "basis"};
    if ((rc = tsv_header(&t, err, errlen))) goto out;
    for (int i = 0; i < 7; i++)
        if ((c[i] = tsv_col(&t, names[i], err, errlen)) < 0) {
            rc = 2;
            goto out;
        }
    while (tsv_next(&t)) {
        ic_instance_info *in = grow(&cat->instances, &cat->n_instances, sizeof *in);
        if (!in) {
            rc = fail(err, errlen, 1, "out of memory reading %s", path);
            goto out;
        }
        double v, m, a;
        if ((rc = tsv_check_width(&t, err, errlen)) ||
            (rc = tsv_str(&t, c[0], in->type, sizeof in->type, err, errlen)) ||
            (rc = tsv_str(&t, c[1], in->family, sizeof in->family, err, errlen)) ||
            (rc = tsv_num(&t, c[2], 1, 0, &v, err, errlen)) ||
            (rc = tsv_num(&t, c[3], 0, 0, &m, err, errlen)) ||
            (rc = tsv_str(&t, c[4], in->chip, sizeof in->chip, err, errlen)) ||
            (rc = tsv_num(&t, c[5], 0, 0, &a, err, errlen)) ||
            (rc = tsv_str(&t, c[6], in->basis, sizeof in->basis, err, errlen)))
            goto out;
        if (v > 100000 || a > 1000) {
            rc = fail(err, errlen, 2, "%s:%d: vcpus or accelerators out of range", path, t.line);
            goto out;
        }
        in->vcpus = (int)v;
        in->memory_gib = m;
        in->accelerators = (int)a;
    }
out:
    free(t.buf);
    return rc;
}

static int load_chips(ic_catalog *cat, char *err, size_t errlen) {
    char path[1100];
    path_join(path, sizeof path, cat->dir, "chips.tsv");
    tsv t;
    int rc = tsv_open(&t, path, err, errlen);
    if (rc) return rc;
    int cn, ca, cv, cb, cf, cm;
    if ((rc = tsv_header(&t, err, errlen))) goto out;
    if ((cn = tsv_col(&t, "chip", err, errlen)) < 0 ||
        (ca = tsv_col(&t, "arch", err, errlen)) < 0 ||
        (cv = tsv_col(&t, "vcpus_per_socket", err, errlen)) < 0 ||
        (cb = tsv_col(&t, "peak_mem_bw_gbs", err, errlen)) < 0 ||
        (cf = tsv_col(&t, "peak_bf16_tflops", err, errlen)) < 0 ||
        (cm = tsv_col(&t, "device_mem_gib", err, errlen)) < 0) {
        rc = 2;
        goto out;
    }
    while (tsv_next(&t)) {
        ic_chip_info *ch = grow(&cat->chips, &cat->n_chips, sizeof *ch);
        if (!ch) {
            rc = fail(err, errlen, 1, "out of memory reading %s", path);
            goto out;
        }
        double v;
        if ((rc = tsv_str(&t, cn, ch->name, sizeof ch->name, err, errlen)) ||
            (rc = tsv_str(&t, ca, ch->arch, sizeof ch->arch, err, errlen)) ||
            (rc = tsv_num(&t, cv, 0, 1, &v, err, errlen)) ||
            (rc = tsv_num(&t, cb, 0, 1, &ch->peak_mem_bw_gbs, err, errlen)) ||
            (rc = tsv_num(&t, cf, 0, 1, &ch->peak_bf16_tflops, err, errlen)) ||
            (rc = tsv_num(&t, cm, 0, 1, &ch->device_mem_gib, err, errlen)))
            goto out;
        ch->vcpus_per_socket = (int)v;
    }
out:
    free(t.buf);
    return rc;
}

static int load_prices(ic_catalog *cat, char *err, size_t errlen) {
    char path[1100];
    path_join(path, sizeof path, cat->dir, "prices.tsv");
    tsv t;
    int rc = tsv_open(&t, path, err, errlen);
    if (rc) return rc;
    int c[5];
    const char *names[5] = {"instance_type", "region", "usd_per_hour", "source", "date"};
    if ((rc = tsv_header(&t, err, errlen))) goto out;
    for (int i = 0; i < 5; i++)
        if ((c[i] = tsv_col(&t, names[i], err, errlen)) < 0) {
            rc = 2;
            goto out;
        }
    while (tsv_next(&t)) {
        ic_price_row *p = grow(&cat->prices, &cat->n_prices, sizeof *p);
        if (!p) {
            rc = fail(err, errlen, 1, "out of memory reading %s", path);
            goto out;
        }
        if ((rc = tsv_check_width(&t, err, errlen)) ||
            (rc = tsv_str(&t, c[0], p->type, sizeof p->type, err, errlen)) ||
            (rc = tsv_str(&t, c[1], p->region, sizeof p->region, err, errlen)) ||
            (rc = tsv_num(&t, c[2], 0, 0, &p->usd_per_hour, err, errlen)) ||
            (rc = tsv_str(&t, c[3], p->source, sizeof p->source, err, errlen)) ||
            (rc = tsv_str(&t, c[4], p->date, sizeof p->date, err, errlen)))
            goto out;
        if (p->usd_per_hour <= 0) {
            rc = fail(err, errlen, 2, "%s:%d: usd_per_hour must be positive", path, t.line);
            goto out;
        }
    }
out:
    free(t.buf);
    return rc;
}

static int load_discounts(ic_catalog *cat, char *err, size_t errlen) {
    char path[1100];
    path_join(path, sizeof path, cat->dir, "discounts.tsv");
    tsv t;
    int rc = tsv_open(&t, path, err, errlen);
    if (rc) return rc;
    int cp, cd, cs, ct;
    if ((rc = tsv_header(&t, err, errlen))) goto out;
    if ((cp = tsv_col(&t, "pricing", err, errlen)) < 0 ||
        (cd = tsv_col(&t, "discount", err, errlen)) < 0 ||
        (cs = tsv_col(&t, "source", err, errlen)) < 0 ||
        (ct = tsv_col(&t, "date", err, errlen)) < 0) {
        rc = 2;
        goto out;
    }
    while (tsv_next(&t)) {
        ic_pricing mode;
        if ((rc = tsv_check_width(&t, err, errlen))) goto out;
        if (ic_pricing_parse(tsv_get(&t, cp), &mode) != 0) {
            rc = fail(err, errlen, 2,
                      "%s:%d: pricing '%s' is not one of on-demand, spot, savings-1y, savings-3y",
                      path, t.line, tsv_get(&t, cp));
            goto out;
        }
        ic_discount *d = &cat->discounts[mode];
        if ((rc = tsv_num(&t, cd, 0, 0, &d->fraction, err, errlen)) ||
            (rc = tsv_str(&t, cs, d->source, sizeof d->source, err, errlen)) ||
            (rc = tsv_str(&t, ct, d->date, sizeof d->date, err, errlen)))
            goto out;
        if (d->fraction >= 1) {
            rc = fail(err, errlen, 2, "%s:%d: discount %g must be below 1", path, t.line,
                      d->fraction);
            goto out;
        }
        d->present = 1;
    }
out:
    free(t.buf);
    return rc;
}

static int load_token_prices(ic_catalog *cat, char *err, size_t errlen) {
    char path[1100];
    path_join(path, sizeof path, cat->dir, "token-prices.tsv");
    tsv t;
    int rc = tsv_open(&t, path, err, errlen);
    if (rc) return rc;
    int c[5];
    const char *names[5] = {"model", "input_usd_per_mtok", "output_usd_per_mtok", "source", "date"};
    if ((rc = tsv_header(&t, err, errlen))) goto out;
    for (int i = 0; i < 5; i++)
        if ((c[i] = tsv_col(&t, names[i], err, errlen)) < 0) {
            rc = 2;
            goto out;
        }
    while (tsv_next(&t)) {
        ic_token_price *p = grow(&cat->token_prices, &cat->n_token_prices, sizeof *p);
        if (!p) {
            rc = fail(err, errlen, 1, "out of memory reading %s", path);
            goto out;
        }
        if ((rc = tsv_check_width(&t, err, errlen)) ||
            (rc = tsv_str(&t, c[0], p->model, sizeof p->model, err, errlen)) ||
            (rc = tsv_num(&t, c[1], 0, 0, &p->input_usd_per_mtok, err, errlen)) ||
            (rc = tsv_num(&t, c[2], 0, 0, &p->output_usd_per_mtok, err, errlen)) ||
            (rc = tsv_str(&t, c[3], p->source, sizeof p->source, err, errlen)) ||
            (rc = tsv_str(&t, c[4], p->date, sizeof p->date, err, errlen)))
            goto out;
    }
out:
    free(t.buf);
    return rc;
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
    if (!dir) dir = ic_catalog_default_dir();
    if (strlen(dir) >= sizeof cat->dir)
        return fail(err, errlen, 2, "catalog directory name too long");
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return fail(err, errlen, 2,
                    "catalog directory '%s' does not exist (give --catalog DIR or "
                    "set IC_PLATFORMS_DIR)",
                    dir);
    snprintf(cat->dir, sizeof cat->dir, "%s", dir);
    int rc;
    if ((rc = load_instances(cat, err, errlen)) || (rc = load_chips(cat, err, errlen)) ||
        (rc = load_prices(cat, err, errlen)) || (rc = load_discounts(cat, err, errlen)) ||
        (rc = load_token_prices(cat, err, errlen))) {
        ic_catalog_free(cat);
        return rc;
    }
    return 0;
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
        return fail(err, errlen, 2, "invalid pricing mode %d", (int)pricing);
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
            return fail(err, errlen, 2,
                        "instance type '%s' has no price for region '%s' in %s/prices.tsv "
                        "(import one with 'infercost prices import')",
                        instance, region, cat->dir);
        return fail(err, errlen, 2, "unknown instance type '%s': no price in %s/prices.tsv",
                    instance, cat->dir);
    }
    const ic_discount *d = &cat->discounts[pricing];
    if (pricing != IC_PRICING_ON_DEMAND && !d->present)
        return fail(err, errlen, 2, "pricing '%s' has no discount row in %s/discounts.tsv",
                    ic_pricing_name(pricing), cat->dir);
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

int ic_write_file_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen) {
    char tmp[1200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return fail(err, errlen, 1, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return fail(err, errlen, 1, "%s: cannot create a temporary file: %s", path,
                    strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return fail(err, errlen, 1, "%s: write failed: %s", tmp, strerror(e));
        }
        off += (size_t)w;
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return fail(err, errlen, 1, "%s: %s", tmp, strerror(e));
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return fail(err, errlen, 1, "%s: cannot replace: %s", path, strerror(e));
    }
    return 0;
}

/* Keeps text safe for a TSV field: tabs, newlines and control bytes become spaces. */
static void tsv_clean(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20) *s = ' ';
}

static int write_prices(const ic_catalog *cat, const ic_price_row *rows, size_t n, char *err,
                        size_t errlen) {
    char path[1100];
    path_join(path, sizeof path, cat->dir, "prices.tsv");
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
        return fail(err, errlen, 1, "out of memory");
    }
    if (header) fputs(header, out);
    free(header);
    fputs("instance_type\tregion\tusd_per_hour\tsource\tdate\n", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s\t%s\t%.6f\t%s\t%s\n", rows[i].type, rows[i].region, rows[i].usd_per_hour,
                rows[i].source, rows[i].date);
    if (fclose(out) != 0) {
        free(buf);
        return fail(err, errlen, 1, "out of memory");
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
                return fail(err, errlen, 2,
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

int ic_prices_import(ic_catalog *cat, const char *offer_path, const char *region,
                     ic_import_report *rep, char *err, size_t errlen) {
    memset(rep, 0, sizeof *rep);
    json_error_t jerr;
    json_t *root = json_load_file(offer_path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return fail(err, errlen, 2, "%s:%d: %s", offer_path, jerr.line, jerr.text);
    int rc = 0;
    ic_price_row *rows = NULL;
    size_t n = 0;
    json_t *products = json_object_get(root, "products");
    json_t *ondemand = json_object_get(json_object_get(root, "terms"), "OnDemand");
    if (!json_is_object(root) || !json_is_object(products)) {
        rc = fail(err, errlen, 2, "%s: not an AWS price-list offer file: no 'products' object",
                  offer_path);
        goto out;
    }
    if (!json_is_object(ondemand)) {
        rc = fail(err, errlen, 2, "%s: no 'terms.OnDemand' object", offer_path);
        goto out;
    }
    const char *pub = json_string_value(json_object_get(root, "publicationDate"));
    snprintf(rep->publication_date, sizeof rep->publication_date, "%s", pub ? pub : "");
    const char *base = strrchr(offer_path, '/');
    base = base ? base + 1 : offer_path;

    /* Start from a copy of the current rows, so nothing changes unless everything succeeds. */
    rows = malloc((cat->n_prices + 1) * sizeof *rows);
    if (!rows) {
        rc = fail(err, errlen, 1, "out of memory");
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
                rc = fail(err, errlen, 1, "out of memory");
                goto out;
            }
            rows = nr;
            row = &rows[n++];
            memset(row, 0, sizeof *row);
            snprintf(row->type, sizeof row->type, "%s", type);
            snprintf(row->region, sizeof row->region, "%s", region);
            rep->added++;
            if (!ic_catalog_instance(cat, type)) rep->unknown_types++;
        }
        row->usd_per_hour = usd;
        snprintf(row->source, sizeof row->source,
                 "AWS Price List offer file %s (publicationDate %s)", base, pub ? pub : "absent");
        snprintf(row->date, sizeof row->date, "%.10s", date[0] ? date : (pub ? pub : "undated"));
        tsv_clean(row->source);
        tsv_clean(row->date);
        tsv_clean(row->type);
    }
    if (rep->updated + rep->added == 0) {
        rc = fail(err, errlen, 2,
                  "%s: no Linux/Shared/NA/Used on-demand USD price for region '%s' (skipped: %zu "
                  "other, %zu missing fields, %zu non-USD)",
                  offer_path, region, rep->skipped_not_matching, rep->skipped_missing,
                  rep->skipped_non_usd);
        goto out;
    }
    if ((rc = write_prices(cat, rows, n, err, errlen))) goto out;
    free(cat->prices);
    cat->prices = rows;
    cat->n_prices = n;
    rows = NULL;
out:
    free(rows);
    json_decref(root);
    return rc;
}
