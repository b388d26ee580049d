/* stats: median, IQR, MAD and regressions with CloudSim's (commons-math) conventions. */
#include "policy/policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STATS_MAX 64 /* histories are 30 long; callers never pass more */

/* Insertion sort: the inputs are at most 30 long. */
static void sort_doubles(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* commons-math Percentile(50), legacy estimation: pos = (n + 1) / 2. */
static double median_sorted(const double *v, size_t n)
{
    double pos = 0.5 * (double)(n + 1);
    if (pos < 1)
        return v[0];
    if (pos >= (double)n)
        return v[n - 1];
    double fpos = floor(pos);
    double lower = v[(size_t)fpos - 1], upper = v[(size_t)fpos];
    return lower + (pos - fpos) * (upper - lower);
}

double policy_stat_median(const double *v, size_t n)
{
    double tmp[STATS_MAX];
    if (n > STATS_MAX)
        n = STATS_MAX;
    memcpy(tmp, v, n * sizeof(*v));
    sort_doubles(tmp, n);
    return median_sorted(tmp, n);
}

double policy_stat_iqr(const double *v, size_t n)
{
    double tmp[STATS_MAX];
    if (n > STATS_MAX)
        n = STATS_MAX;
    memcpy(tmp, v, n * sizeof(*v));
    sort_doubles(tmp, n);
    /* MathUtil.iqr: Java's Math.round is floor(x + 0.5). */
    long q1 = (long)floor(0.25 * (double)(n + 1) + 0.5) - 1;
    long q3 = (long)floor(0.75 * (double)(n + 1) + 0.5) - 1;
    return tmp[q3] - tmp[q1];
}

double policy_stat_mad(const double *v, size_t n)
{
    double dev[STATS_MAX];
    if (n > STATS_MAX)
        n = STATS_MAX;
    double med = policy_stat_median(v, n);
    for (size_t i = 0; i < n; i++)
        dev[i] = fabs(med - v[i]);
    return policy_stat_median(dev, n);
}

void policy_stat_linreg(const double *y, size_t n, double *b0, double *b1)
{
    /* SimpleRegression.addData's updating formulas, in its order (x = 1..n). */
    double sum_x = 0, sum_y = 0, sum_xx = 0, sum_xy = 0, xbar = 0, ybar = 0;
    for (size_t i = 0; i < n; i++) {
        double x = (double)(i + 1);
        if (i == 0) {
            xbar = x;
            ybar = y[i];
        } else {
            double fact1 = 1.0 + (double)i, fact2 = (double)i / (1.0 + (double)i);
            double dx = x - xbar, dy = y[i] - ybar;
            sum_xx += dx * dx * fact2;
            sum_xy += dx * dy * fact2;
            xbar += dx / fact1;
            ybar += dy / fact1;
        }
        sum_x += x;
        sum_y += y[i];
    }
    double slope = sum_xy / sum_xx;
    *b1 = slope;
    *b0 = (sum_y - slope * sum_x) / (double)n;
}

/* SecondMoment of commons-math: sum of squared deviations, updated per value. */
static double second_moment(const double *y, size_t n)
{
    double m1 = 0, m2 = 0;
    for (size_t i = 0; i < n; i++) {
        double n0 = (double)(i + 1);
        double dev = y[i] - m1, ndev = dev / n0;
        m1 += ndev;
        m2 += ((double)(i + 1) - 1) * dev * ndev;
    }
    return m2;
}

/* Householder QR of the n x (k+1) design matrix [1 x], stored transposed in
 * qrt ((k+1) rows of n), as commons-math's QRDecomposition does. Returns
 * false if a diagonal element is exactly zero (SingularMatrixException). */
static bool qr_decompose(double *qrt, size_t n, size_t p, double *rdiag)
{
    for (size_t minor = 0; minor < p && minor < n; minor++) {
        double *qm = qrt + minor * n, norm2 = 0;
        for (size_t r = minor; r < n; r++)
            norm2 += qm[r] * qm[r];
        double a = qm[minor] > 0 ? -sqrt(norm2) : sqrt(norm2);
        rdiag[minor] = a;
        if (a == 0.0)
            continue;
        qm[minor] -= a;
        for (size_t col = minor + 1; col < p; col++) {
            double *qc = qrt + col * n, alpha = 0;
            for (size_t r = minor; r < n; r++)
                alpha -= qc[r] * qm[r];
            alpha /= a * qm[minor];
            for (size_t r = minor; r < n; r++)
                qc[r] -= alpha * qm[r];
        }
    }
    for (size_t i = 0; i < p; i++)
        if (fabs(rdiag[i]) <= 0)
            return false;
    return true;
}

int policy_stat_r2(const double *x, const double *y, size_t n, size_t k, double *work, double *r2)
{
    size_t p = k + 1;
    if (p > n)
        return -1; /* NOT_ENOUGH_DATA_FOR_NUMBER_OF_PREDICTORS: CloudSim falls back */
    double *qrt = work, *rdiag = qrt + p * n, *yy = rdiag + p, *beta = yy + n;
    for (size_t r = 0; r < n; r++) {
        qrt[r] = 1.0;
        for (size_t j = 0; j < k; j++)
            qrt[(j + 1) * n + r] = x[r * k + j];
    }
    if (!qr_decompose(qrt, n, p, rdiag))
        return -1; /* singular: the exception makes CloudSim fall back too */
    /* QRDecomposition.Solver.solve: apply the reflections to y, then back-substitute. */
    memcpy(yy, y, n * sizeof(*y));
    for (size_t minor = 0; minor < p && minor < n; minor++) {
        const double *qm = qrt + minor * n;
        double dot = 0;
        for (size_t r = minor; r < n; r++)
            dot += yy[r] * qm[r];
        dot /= rdiag[minor] * qm[minor];
        for (size_t r = minor; r < n; r++)
            yy[r] += dot * qm[r];
    }
    for (size_t row = p; row-- > 0;) {
        yy[row] /= rdiag[row];
        double v = yy[row];
        beta[row] = v;
        for (size_t i = 0; i < row; i++)
            yy[i] -= v * qrt[row * n + i];
    }
    double ssr = 0;
    for (size_t r = 0; r < n; r++) {
        double fit = beta[0] * 1.0;
        for (size_t j = 0; j < k; j++)
            fit += x[r * k + j] * beta[j + 1];
        double res = y[r] - fit;
        ssr += res * res;
    }
    *r2 = 1 - ssr / second_moment(y, n);
    return 0;
}
