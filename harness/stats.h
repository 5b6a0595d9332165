/* Statistics for comparing two sets of repetitions: medians, the two-sided Mann-Whitney U test as
 * SciPy computes it (so that `infercost compare` agrees with Google Benchmark's compare.py, which
 * calls scipy.stats.mannwhitneyu), and geometric means. Pure functions. */
#ifndef IC_STATS_H
#define IC_STATS_H

#include <stddef.h>

/* The median of n values (copied, not reordered); NAN for n == 0. */
double ic_median(const double *v, size_t n);

/* The q-th quantile (0 <= q <= 1) of n values by linear interpolation between the closest ranks
 * (NumPy's default); NAN for n == 0. */
double ic_percentile(const double *v, size_t n, double q);

/* Two-sided Mann-Whitney U test of x against y, SciPy's method="auto": the exact distribution when
 * there are no ties and not both samples exceed 8, else the normal approximation with the tie
 * correction and a continuity correction. Returns the p-value in [0, 1], and U1 (x's statistic)
 * in *u1 when u1 is not NULL; NAN when a sample is empty. At most 256 values a side. */
double ic_mann_whitney_p(const double *x, size_t nx, const double *y, size_t ny, double *u1);

/* The smallest p-value the test can give for samples of these sizes (the samples entirely apart):
 * when it is not below alpha, no difference can be significant and there are too few repetitions
 * to decide. */
double ic_mann_whitney_min_p(size_t nx, size_t ny);

/* exp(mean(log(v))) over the positive finite values; NAN when there are none. */
double ic_geomean(const double *v, size_t n);

#endif
