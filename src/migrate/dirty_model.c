/* dirty_model: a VM's sampled dirty rate as a two-state (calm/busy) process.
 *
 * Samples are split into two classes by the exact one-dimensional 2-means
 * split (the threshold minimising the within-class sum of squares); the VM is
 * two-state only when the classes are clearly apart (busy mean at least
 * TWO_STATE_RATIO x the calm mean + TWO_STATE_GAP_MIB_S, and the split
 * explaining TWO_STATE_R2 of the variance), so the sampling noise of a steady
 * VM (QEMU's page sampling hashes 512 pages per GiB: +-30 % was seen) is not
 * mistaken for states.
 *
 * Markov: a chain over the samples' own classes, transitions counted between
 * consecutive samples (with a Beta(1, 4) prior each way). Gilbert-Elliott: the
 * state is hidden, a calm step gives a busy-class sample with probability
 * EPS1 and a busy step with EPS2; the transitions are fitted by EM
 * (Baum-Welch with the emissions fixed) over the samples held and the state
 * is filtered forward, so one odd sample moves the belief but does not flip it.
 *
 * Samples over a longer period than the base one measure the distinct pages
 * written in that period: with a hot set of H pages written at random at rate
 * r, W(c) = H (1 - exp(-r c / H)); solving it for H with r from the base
 * samples gives the hot-set estimate the cost model saturates rounds with.
 */
#include "migrate/migrate.h"
#include "util/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TWO_STATE_RATIO     2.0
#define TWO_STATE_GAP_MIB_S 1.0
#define TWO_STATE_R2        0.6
#define PRIOR_STAY          4.0 /* Beta prior: 4 stays ... */
#define PRIOR_MOVE          1.0 /* ... to 1 move, each way */
#define EM_ITERS            30
#define P_MIN               0.002
#define P_MAX               0.998
#define HOT_SATURATED       0.9 /* W(c)/(r c) below this: the written set saturates */

void migrate_dirty_model_init(struct migrate_dirty_model *m)
{
    memset(m, 0, sizeof(*m));
}

/* Index of the k-th oldest sample (0 = oldest). */
static uint32_t at(const struct migrate_dirty_model *m, uint32_t k)
{
    return (m->head + MIGRATE_DIRTY_RING - m->n + k) % MIGRATE_DIRTY_RING;
}

/* Mean of the base samples within 3 steps of t_ms (the rate the long sample saw). */
static double rate_near(const struct migrate_dirty_model *m, int64_t t_ms, int64_t span_ms)
{
    double sum = 0;
    uint32_t n = 0;
    for (uint32_t k = 0; k < m->n; k++) {
        uint32_t i = at(m, k);
        if (llabs(m->t_ms[i] - t_ms) <= span_ms) {
            sum += m->rate_mib_s[i];
            n++;
        }
    }
    return n ? sum / n : -1;
}

/* Solve H (1 - exp(-r c / H)) = w for H in [w, big]; w < r c. Bisection. */
static double solve_hot(double r, double c, double w)
{
    double lo = w, hi = w * 1e4;
    for (int it = 0; it < 80; it++) {
        double h = 0.5 * (lo + hi);
        if (h * (1 - exp(-r * c / h)) < w)
            lo = h;
        else
            hi = h;
    }
    return 0.5 * (lo + hi);
}

static void observe_long(struct migrate_dirty_model *m, int64_t t_ms, int calc_s, double rate)
{
    double r = rate_near(m, t_ms, 3000LL * (calc_s + m->base_calc_s));
    if (r <= 0)
        return; /* nothing to compare with yet */
    double w = rate * calc_s, rc = r * calc_s;
    /* Not saturated: the hot set is bigger than what this window can show. */
    double h = w < HOT_SATURATED * rc ? solve_hot(r, calc_s, w) : 0;
    m->hot_mib = h;
    m->hot_t_ms = t_ms;
}

int migrate_dirty_model_observe(struct migrate_dirty_model *m, int64_t t_ms, int calc_s,
                                double rate_mib_s)
{
    if (!isfinite(rate_mib_s) || rate_mib_s < 0)
        return err_set("dirty rate %g MiB/s is not a rate", rate_mib_s);
    if (calc_s < 1 || calc_s > 60)
        return err_set("dirty-rate period %d s is out of range (1..60)", calc_s);
    if (m->base_calc_s == 0)
        m->base_calc_s = calc_s;
    if (calc_s != m->base_calc_s) {
        if (m->hot_t_ms && t_ms <= m->hot_t_ms)
            return err_set("dirty-rate sample at %lld ms is not after the previous one",
                           (long long)t_ms);
        observe_long(m, t_ms, calc_s, rate_mib_s);
        return 0;
    }
    if (m->n && t_ms <= m->t_ms[at(m, m->n - 1)])
        return err_set("dirty-rate sample at %lld ms is not after the previous one (%lld ms)",
                       (long long)t_ms, (long long)m->t_ms[at(m, m->n - 1)]);
    m->rate_mib_s[m->head] = rate_mib_s;
    m->t_ms[m->head] = t_ms;
    m->head = (m->head + 1) % MIGRATE_DIRTY_RING;
    if (m->n < MIGRATE_DIRTY_RING)
        m->n++;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Exact 2-means split of the sorted values; sets the forecast's state fields. */
static void split_states(const double *sorted, uint32_t n, struct migrate_dirty_forecast *f)
{
    double total = 0, sq = 0;
    for (uint32_t i = 0; i < n; i++) {
        total += sorted[i];
        sq += sorted[i] * sorted[i];
    }
    double mean = total / n, var = sq / n - mean * mean;
    f->mean_mib_s = mean;
    f->calm_mib_s = f->busy_mib_s = mean;
    f->split_mib_s = INFINITY;
    f->two_state = false;
    if (n < 4 || var <= 0)
        return;
    double best = INFINITY, left = 0;
    uint32_t best_k = 0;
    for (uint32_t k = 1; k < n; k++) {
        left += sorted[k - 1];
        if (sorted[k] == sorted[k - 1])
            continue; /* equal values stay in one class */
        double ml = left / k, mr = (total - left) / (n - k);
        /* Within-class SS = total SS - between-class SS. */
        double between = k * (ml - mean) * (ml - mean) + (n - k) * (mr - mean) * (mr - mean);
        if (-between < best) {
            best = -between;
            best_k = k;
        }
    }
    if (best_k == 0)
        return;
    double lsum = 0;
    for (uint32_t i = 0; i < best_k; i++)
        lsum += sorted[i];
    double calm = lsum / best_k, busy = (total - lsum) / (n - best_k);
    double r2 = -best / (var * n);
    if (busy < TWO_STATE_RATIO * calm + TWO_STATE_GAP_MIB_S || r2 < TWO_STATE_R2)
        return;
    f->two_state = true;
    f->calm_mib_s = calm;
    f->busy_mib_s = busy;
    f->split_mib_s = 0.5 * (sorted[best_k - 1] + sorted[best_k]);
}

static double clampp(double p)
{
    return fmin(P_MAX, fmax(P_MIN, p));
}

/* Baum-Welch over the class sequence x[0..n) with fixed emissions; fits the
 * transitions and returns the filtered P(busy) at the last sample. */
static double ge_fit(const uint8_t *x, uint32_t n, double *p_cb, double *p_bc)
{
    double a[MIGRATE_DIRTY_RING][2], b[MIGRATE_DIRTY_RING][2];
    const double e1 = MIGRATE_DIRTY_GE_EPS1, e2 = MIGRATE_DIRTY_GE_EPS2;
    double cb = *p_cb, bc = *p_bc, last = 0;
    for (int it = 0; it < EM_ITERS; it++) {
        double pb = cb / (cb + bc);
        for (uint32_t t = 0; t < n; t++) {
            if (t)
                pb = a[t - 1][0] * cb + a[t - 1][1] * (1 - bc);
            double lc = (1 - pb) * (x[t] ? e1 : 1 - e1), lb = pb * (x[t] ? e2 : 1 - e2);
            a[t][0] = lc / (lc + lb);
            a[t][1] = lb / (lc + lb);
        }
        last = a[n - 1][1];
        b[n - 1][0] = b[n - 1][1] = 1;
        for (uint32_t t = n - 1; t > 0; t--) {
            double lc = (x[t] ? e1 : 1 - e1) * b[t][0], lb = (x[t] ? e2 : 1 - e2) * b[t][1];
            double bcalm = (1 - cb) * lc + cb * lb, bbusy = bc * lc + (1 - bc) * lb;
            b[t - 1][0] = bcalm / (bcalm + bbusy);
            b[t - 1][1] = bbusy / (bcalm + bbusy);
        }
        /* Expected transitions, with the same prior as the Markov counts. */
        double ncc = PRIOR_STAY, ncb = PRIOR_MOVE, nbc = PRIOR_MOVE, nbb = PRIOR_STAY;
        for (uint32_t t = 0; t + 1 < n; t++) {
            double lc = (x[t + 1] ? e1 : 1 - e1) * b[t + 1][0];
            double lb = (x[t + 1] ? e2 : 1 - e2) * b[t + 1][1];
            double e[4] = {a[t][0] * (1 - cb) * lc, a[t][0] * cb * lb, a[t][1] * bc * lc,
                           a[t][1] * (1 - bc) * lb};
            double s = e[0] + e[1] + e[2] + e[3];
            ncc += e[0] / s;
            ncb += e[1] / s;
            nbc += e[2] / s;
            nbb += e[3] / s;
        }
        cb = clampp(ncb / (ncc + ncb));
        bc = clampp(nbc / (nbc + nbb));
    }
    *p_cb = cb;
    *p_bc = bc;
    return last;
}

/* Advance P(busy) by k (real-valued) steps of the chain. */
static double advance(double p_busy, double p_cb, double p_bc, double k)
{
    double pi = p_cb / (p_cb + p_bc), lambda = 1 - p_cb - p_bc;
    if (lambda <= 0)
        return k >= 1 ? pi : p_busy;
    return pi + (p_busy - pi) * pow(lambda, k);
}

static void forecast_states(const struct migrate_dirty_model *m, struct migrate_dirty_forecast *f,
                            enum migrate_dirty_predictor pred)
{
    uint8_t x[MIGRATE_DIRTY_RING];
    double ncc = PRIOR_STAY, ncb = PRIOR_MOVE, nbc = PRIOR_MOVE, nbb = PRIOR_STAY;
    for (uint32_t k = 0; k < m->n; k++) {
        x[k] = m->rate_mib_s[at(m, k)] > f->split_mib_s;
        if (k == 0)
            continue;
        if (x[k - 1])
            x[k] ? nbb++ : nbc++;
        else
            x[k] ? ncb++ : ncc++;
    }
    f->markov_p_cb = ncb / (ncc + ncb);
    f->markov_p_bc = nbc / (nbc + nbb);
    f->markov_busy_last = x[m->n - 1];
    f->ge_p_cb = f->markov_p_cb;
    f->ge_p_bc = f->markov_p_bc;
    f->ge_p_busy_last = ge_fit(x, m->n, &f->ge_p_cb, &f->ge_p_bc);
    double p_last;
    if (pred == MIGRATE_DIRTY_MARKOV) {
        f->p_calm_busy = f->markov_p_cb;
        f->p_busy_calm = f->markov_p_bc;
        p_last = f->markov_busy_last;
    } else {
        f->p_calm_busy = f->ge_p_cb;
        f->p_busy_calm = f->ge_p_bc;
        p_last = f->ge_p_busy_last;
    }
    f->p_busy_now = advance(p_last, f->p_calm_busy, f->p_busy_calm, f->age_s / f->step_s);
}

void migrate_dirty_forecast_const(double rate_mib_s, struct migrate_dirty_forecast *out)
{
    memset(out, 0, sizeof(*out));
    double r = isfinite(rate_mib_s) && rate_mib_s > 0 ? rate_mib_s : 0;
    out->step_s = 1;
    out->mean_mib_s = out->calm_mib_s = out->busy_mib_s = r;
    out->split_mib_s = INFINITY;
    out->p_calm_busy = out->p_busy_calm = 0.5;
    out->markov_p_cb = out->markov_p_bc = out->ge_p_cb = out->ge_p_bc = 0.5;
}

void migrate_dirty_model_forecast(const struct migrate_dirty_model *m, int64_t now_ms,
                                  enum migrate_dirty_predictor pred,
                                  struct migrate_dirty_forecast *out)
{
    migrate_dirty_forecast_const(0, out);
    out->predictor = pred;
    out->hot_mib = m->hot_mib;
    if (m->n == 0)
        return;
    out->n_samples = m->n;
    double v[MIGRATE_DIRTY_RING], gaps[MIGRATE_DIRTY_RING];
    for (uint32_t k = 0; k < m->n; k++) {
        v[k] = m->rate_mib_s[at(m, k)];
        if (k)
            gaps[k - 1] = (double)(m->t_ms[at(m, k)] - m->t_ms[at(m, k - 1)]) / 1000.0;
    }
    if (m->n >= 2) {
        qsort(gaps, m->n - 1, sizeof(double), cmp_double);
        out->step_s = gaps[(m->n - 1) / 2];
    } else {
        out->step_s = m->base_calc_s;
    }
    int64_t last = m->t_ms[at(m, m->n - 1)];
    out->age_s = now_ms > last ? (double)(now_ms - last) / 1000.0 : 0;
    qsort(v, m->n, sizeof(double), cmp_double);
    split_states(v, m->n, out);
    if (out->two_state)
        forecast_states(m, out, pred);
}

double migrate_dirty_forecast_p_busy(const struct migrate_dirty_forecast *f, double t_s)
{
    if (!f->two_state)
        return 0;
    return advance(f->p_busy_now, f->p_calm_busy, f->p_busy_calm, fmax(0, t_s) / f->step_s);
}

double migrate_dirty_forecast_mean(const struct migrate_dirty_forecast *f, double from_s,
                                   double to_s)
{
    if (!f->two_state)
        return f->mean_mib_s;
    double a = fmax(0, from_s), b = to_s, mean_b;
    double pi = f->p_calm_busy / (f->p_calm_busy + f->p_busy_calm);
    double lambda = 1 - f->p_calm_busy - f->p_busy_calm, b0 = f->p_busy_now;
    if (!(b > a)) {
        mean_b = migrate_dirty_forecast_p_busy(f, a); /* the rate at that instant */
    } else if (lambda <= 0) {
        mean_b = pi;
    } else if (lambda >= 1 - 1e-12) {
        mean_b = b0;
    } else {
        /* b(t) = pi + (b0 - pi) lambda^(t / step), integrated in closed form. */
        double l = log(lambda) / f->step_s; /* < 0 */
        mean_b = pi + (b0 - pi) * (exp(l * b) - exp(l * a)) / (l * (b - a));
    }
    return f->calm_mib_s + (f->busy_mib_s - f->calm_mib_s) * mean_b;
}

double migrate_dirty_forecast_calm_in_s(const struct migrate_dirty_forecast *f)
{
    if (!f->two_state || f->p_busy_now < 0.5)
        return 0;
    /* Busy: a geometric number of steps until it turns calm. */
    return f->p_busy_now * f->step_s / f->p_busy_calm;
}

double migrate_dirty_forecast_calm_len_s(const struct migrate_dirty_forecast *f)
{
    if (!f->two_state)
        return INFINITY;
    return f->step_s / f->p_calm_busy;
}
