/* Statistics: the Mann-Whitney U p-values against SciPy 1.10's scipy.stats.mannwhitneyu (computed
 * once and written here), medians and geometric means. */
#include "ic_test.h"
#include "stats.h"

#include <math.h>

static int near(double a, double b) {
    return fabs(a - b) <= 1e-9 * fabs(b) + 1e-15;
}

#define N(a) (sizeof(a) / sizeof(a)[0])

int main(void) {
    /* Exact distribution (no ties, small samples). */
    const double a1[] = {1, 2, 3}, b1[] = {4, 5, 6};
    double u;
    CHECK(near(ic_mann_whitney_p(a1, 3, b1, 3, &u), 0.1) && u == 0, "3 vs 3 apart: p 0.1");
    const double a2[] = {1.0, 2.5, 3.1, 4.2}, b2[] = {2.0, 3.3, 5.0, 6.1};
    CHECK(near(ic_mann_whitney_p(a2, 4, b2, 4, &u), 0.34285714285714286) && u == 4, "4 vs 4");
    const double a6[] = {5, 1, 4, 2, 3, 9, 8, 7, 6}, b6[] = {11, 10, 13, 12, 1.5, 14, 16, 15, 17};
    CHECK(near(ic_mann_whitney_p(a6, 9, b6, 9, &u), 0.004718198728115028) && u == 8,
          "9 vs 9, asymptotic: %.17g", ic_mann_whitney_p(a6, 9, b6, 9, NULL));
    /* Ties: the normal approximation with the tie correction. */
    const double a4[] = {1, 2, 2, 3}, b4[] = {2, 3, 3, 4};
    CHECK(near(ic_mann_whitney_p(a4, 4, b4, 4, &u), 0.1720337089218229) && u == 3, "ties: %.17g",
          ic_mann_whitney_p(a4, 4, b4, 4, NULL));
    const double a3[] = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19},
                 b3[] = {12, 13, 14, 15, 16, 17, 18, 19, 20, 21};
    CHECK(near(ic_mann_whitney_p(a3, 10, b3, 10, &u), 0.18455093943501133) && u == 32,
          "10 vs 10 with ties: %.17g", ic_mann_whitney_p(a3, 10, b3, 10, NULL));
    double a5[10], b5[10];
    for (int i = 0; i < 10; i++) {
        a5[i] = 100 + i * 0.1;
        b5[i] = 120 + i * 0.1;
    }
    CHECK(near(ic_mann_whitney_p(a5, 10, b5, 10, NULL), 0.00018267179110955002),
          "a 20%% shift over 10 repetitions: %.17g", ic_mann_whitney_p(a5, 10, b5, 10, NULL));
    const double same[] = {3, 1, 2};
    CHECK(near(ic_mann_whitney_p(same, 3, same, 3, &u), 1.0) && u == 4.5, "identical samples");
    const double flat[] = {7, 7, 7};
    CHECK(ic_mann_whitney_p(flat, 3, flat, 3, NULL) == 1.0, "all equal: p 1, not NAN");
    CHECK(isnan(ic_mann_whitney_p(a1, 0, b1, 3, NULL)), "an empty side");
    /* Too few repetitions to decide: 3 and 3 can never reach p < 0.05, 4 and 4 can. */
    CHECK(near(ic_mann_whitney_min_p(3, 3), 0.1) && ic_mann_whitney_min_p(4, 4) < 0.05,
          "smallest p: %g %g", ic_mann_whitney_min_p(3, 3), ic_mann_whitney_min_p(4, 4));
    const double q[] = {4, 1, 3, 2, 5};
    CHECK(ic_percentile(q, 5, 0.5) == 3 && ic_percentile(q, 5, 0.9) == 4.6 &&
              ic_percentile(q, 5, 0) == 1 && ic_percentile(q, 5, 1) == 5 &&
              isnan(ic_percentile(q, 0, 0.5)),
          "percentiles as numpy.percentile: %g", ic_percentile(q, 5, 0.9));
    const double m[] = {5, 1, 4, 2};
    CHECK(ic_median(m, 4) == 3 && ic_median(m, 3) == 4 && isnan(ic_median(m, 0)), "median");
    CHECK(m[0] == 5, "median leaves its input alone");
    const double g[] = {2, 8, -1, NAN};
    CHECK(near(ic_geomean(g, 4), 4) && isnan(ic_geomean(g + 2, 2)), "geometric mean");
    (void)N(a1);
    return ic_test_finish("test_stats");
}
