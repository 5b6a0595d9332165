/* Medians, the Mann-Whitney U test and geometric means (see stats.h). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define IC_STATS_MAX 256

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ic_median(const double *v, size_t n) {
    if (n == 0) return NAN;
    double *s = malloc(n * sizeof *s);
    if (s == NULL) return NAN;
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return m;
}

double ic_percentile(const double *v, size_t n, double q) {
    if (n == 0 || !(q >= 0 && q <= 1)) return NAN;
    double *s = malloc(n * sizeof *s);
    if (s == NULL) return NAN;
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    double r = lo + 1 < n ? s[lo] + (pos - (double)lo) * (s[lo + 1] - s[lo]) : s[lo];
    free(s);
    return r;
}

/* Midranks of the pooled sample (ties get the mean of their ranks, 1-based), the sum of x's ranks,
 * and the tie term sum(t^3 - t) over groups of tied values. */
typedef struct pooled {
    double value;
    int from_x;
} pooled;

static int cmp_pooled(const void *a, const void *b) {
    return cmp_double(&((const pooled *)a)->value, &((const pooled *)b)->value);
}

static void rank_sums(const double *x, size_t nx, const double *y, size_t ny, double *r1,
                      double *tie_term) {
    pooled p[2 * IC_STATS_MAX];
    size_t n = nx + ny;
    for (size_t i = 0; i < nx; i++) p[i] = (pooled){x[i], 1};
    for (size_t i = 0; i < ny; i++) p[nx + i] = (pooled){y[i], 0};
    qsort(p, n, sizeof p[0], cmp_pooled);
    *r1 = 0;
    *tie_term = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && p[j + 1].value == p[i].value) j++;
        double t = (double)(j - i + 1), rank = 0.5 * (double)(i + j) + 1.0;
        for (size_t k = i; k <= j; k++)
            if (p[k].from_x) *r1 += rank;
        *tie_term += t * t * t - t;
        i = j + 1;
    }
}

/* P(U >= u) under the null for sizes m, n, from the count of arrangements of each U: the largest
 * value is either an x (beating all n y's) or a y, so c(m, n, u) = c(m-1, n, u-n) + c(m, n-1, u).
 */
static double exact_sf(long u, size_t m, size_t n) {
    size_t umax = m * n;
    double *prev = calloc((umax + 1) * (n + 1), sizeof *prev);
    double *cur = calloc((umax + 1) * (n + 1), sizeof *cur);
    if (prev == NULL || cur == NULL) {
        free(prev);
        free(cur);
        return NAN;
    }
    /* prev[j][v]: arrangements of i-1 x's and j y's with U = v; start with i = 0: one each. */
#define AT(a, j, v) a[(j) * (umax + 1) + (v)]
    for (size_t j = 0; j <= n; j++) AT(prev, j, 0) = 1;
    for (size_t i = 1; i <= m; i++) {
        memset(cur, 0, (umax + 1) * (n + 1) * sizeof *cur);
        for (size_t j = 0; j <= n; j++)
            for (size_t v = 0; v <= i * j; v++) {
                double c = v >= j ? AT(prev, j, v - j) : 0;
                if (j > 0) c += AT(cur, j - 1, v);
                AT(cur, j, v) = c;
            }
        double *t = prev;
        prev = cur;
        cur = t;
    }
    double total = 0, tail = 0;
    for (size_t v = 0; v <= umax; v++) {
        total += AT(prev, n, v);
        if ((long)v >= u) tail += AT(prev, n, v);
    }
#undef AT
    free(prev);
    free(cur);
    return tail / total;
}

double ic_mann_whitney_p(const double *x, size_t nx, const double *y, size_t ny, double *u1) {
    if (nx == 0 || ny == 0 || nx > IC_STATS_MAX || ny > IC_STATS_MAX) return NAN;
    double r1, tie_term;
    rank_sums(x, nx, y, ny, &r1, &tie_term);
    double n1 = (double)nx, n2 = (double)ny;
    double U1 = r1 - n1 * (n1 + 1) / 2, U2 = n1 * n2 - U1;
    double U = U1 > U2 ? U1 : U2;
    if (u1) *u1 = U1;
    double p;
    if ((nx > 8 && ny > 8) || tie_term > 0) {
        double n = n1 + n2, mu = n1 * n2 / 2;
        double s = sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))));
        if (!(s > 0)) return 1.0;
        double z = (U - mu - 0.5) / s;
        p = 2 * 0.5 * erfc(z / sqrt(2.0));
    } else {
        p = 2 * exact_sf((long)U, nx, ny);
    }
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

double ic_mann_whitney_min_p(size_t nx, size_t ny) {
    double x[IC_STATS_MAX], y[IC_STATS_MAX];
    if (nx == 0 || ny == 0 || nx > IC_STATS_MAX || ny > IC_STATS_MAX) return 1.0;
    for (size_t i = 0; i < nx; i++) x[i] = (double)i;
    for (size_t i = 0; i < ny; i++) y[i] = (double)(nx + i);
    return ic_mann_whitney_p(x, nx, y, ny, NULL);
}

double ic_geomean(const double *v, size_t n) {
    double s = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > 0 && isfinite(v[i])) {
            s += log(v[i]);
            k++;
        }
    return k ? exp(s / (double)k) : NAN;
}
