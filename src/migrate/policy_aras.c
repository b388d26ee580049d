/* policy_aras: defer only reliably hot pages; detect non-convergence early.
 *
 * Deferral: a page is held back in a round only when it has been watched long
 * enough (MIN_SEEN intervals) and its recent write rate r (exponential average
 * over the interval bits) makes a rewrite within the round likely:
 * 1 - (1 - r)^m >= CONFIDENCE for a round of m intervals, r >= MIN_RATE, and the
 * deferred set (hottest first) stays within DEFER_BUDGET_SHARE of the downtime
 * budget, since whatever is held back at the end lands in the stop-and-copy.
 * Every round re-decides, so pages deferred while rounds were long are sent once
 * rounds become short.
 *
 * Stopping: once the dirty set fits the budget, up to MAX_EXTRA more rounds run
 * while the working-set curve (distinct pages written in windows of the last
 * RING intervals) predicts a final set at least 10 % smaller: short rounds are
 * cheap and cut the downtime. When the set is well above the budget, has
 * stopped shrinking (or its trend cannot reach the budget within the round
 * limit) and the curve's fixed point is clearly above the budget, pre-copy is
 * abandoned (not before round MIN_DIVERGE_ROUND) and post-copy is recommended
 * instead of burning bandwidth on more rounds.
 */
#include "migrate/internal.h"
#include "util/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EWMA_ALPHA         (1.0 / 16)
#define MIN_SEEN           16
#define CONFIDENCE         0.9
#define MIN_RATE           0.3
#define ROUND_LIMIT        30
#define DEFER_BUDGET_SHARE 0.5
#define RATE_BINS          64
#define HOVER              1.5
#define STALL_RATIO        0.9
#define RING               64
#define CLEAR_MISS         1.3
#define MIN_DIVERGE_ROUND  8
#define MAX_EXTRA          3
#define EXTRA_GAIN         0.9
#define WINDOWS            4

struct policy_aras {
    uint32_t n_pages;
    float *rate;    /* EWMA of the per-interval write bit */
    uint16_t *seen; /* intervals observed (saturating) */
    uint64_t prev_remaining[2];
    uint32_t extra_rounds;
    /* The last RING intervals' bitmaps, as 64-bit words, for the working-set curve. */
    uint64_t *ring;
    size_t words;
    uint32_t ring_len, ring_head;
    double interval_s;
};

struct policy_aras *policy_aras_new(uint32_t n_pages, double interval_s)
{
    struct policy_aras *a = xcalloc(1, sizeof(*a));
    a->n_pages = n_pages;
    a->interval_s = interval_s;
    a->words = ((size_t)n_pages + 63) / 64;
    a->ring = xcalloc(a->words ? a->words * RING : 1, sizeof(uint64_t));
    a->rate = xcalloc(n_pages ? n_pages : 1, sizeof(float));
    a->seen = xcalloc(n_pages ? n_pages : 1, sizeof(uint16_t));
    return a;
}

void policy_aras_free(struct policy_aras *a)
{
    if (!a)
        return;
    free(a->rate);
    free(a->seen);
    free(a->ring);
    free(a);
}

void policy_aras_observe(struct policy_aras *a, const uint8_t *row)
{
    uint64_t *slot = a->ring + (size_t)a->ring_head * a->words;
    memset(slot, 0, a->words * sizeof(uint64_t));
    memcpy(slot, row, migrate_trace_row_bytes(a->n_pages));
    a->ring_head = (a->ring_head + 1) % RING;
    if (a->ring_len < RING)
        a->ring_len++;
    for (uint32_t p = 0; p < a->n_pages; p++) {
        float w = migrate_bit(row, p) ? 1.0f : 0.0f;
        a->rate[p] += (float)EWMA_ALPHA * (w - a->rate[p]);
        if (a->seen[p] < UINT16_MAX)
            a->seen[p]++;
    }
}

/* Smallest rate threshold (>= r_min) that keeps the deferred set within cap:
 * the hottest pages are held back first. */
static double cap_threshold(const struct policy_aras *a, const struct sim_round_view *v,
                            double r_min, double cap)
{
    uint64_t hist[RATE_BINS + 1] = {0};
    for (uint32_t p = 0; p < a->n_pages; p++) {
        if (migrate_bit(v->dirty, p) && a->seen[p] >= MIN_SEEN && a->rate[p] >= r_min)
            hist[(int)(a->rate[p] * RATE_BINS)]++;
    }
    double kept = 0;
    for (int b = RATE_BINS; b >= 0; b--) {
        if (kept + (double)hist[b] > cap)
            return (double)(b + 1) / RATE_BINS;
        kept += (double)hist[b];
    }
    return r_min;
}

void policy_aras_defer(struct policy_aras *a, const struct sim_round_view *v, uint8_t *defer)
{
    /* Rate above which a rewrite within m intervals has probability >= CONFIDENCE. */
    double m = v->horizon_steps;
    double r_min = 1 - pow(1 - CONFIDENCE, 1 / m);
    if (r_min < MIN_RATE)
        r_min = MIN_RATE; /* rare writers are unpredictable: never defer them */
    /* What is held back lands in the stop-and-copy when it is not rewritten:
     * keep the deferred set within a share of the downtime budget. */
    r_min = fmax(r_min, cap_threshold(a, v, r_min, DEFER_BUDGET_SHARE * v->budget_pages));
    for (uint32_t p = 0; p < a->n_pages; p++) {
        if (!migrate_bit(v->dirty, p) || a->seen[p] < MIN_SEEN)
            continue;
        if (a->rate[p] >= r_min)
            migrate_bit_set(defer, p);
    }
}

/* Distinct pages written in a window of m intervals, averaged over up to
 * WINDOWS recent windows; beyond the ring, scaled linearly (an overestimate). */
static double working_set(const struct policy_aras *a, double m)
{
    uint32_t len = a->ring_len;
    if (len == 0)
        return 0;
    uint32_t mi = (uint32_t)fmax(1, fmin(ceil(m), len));
    uint64_t *acc = xcalloc(a->words ? a->words : 1, sizeof(uint64_t));
    double sum = 0;
    uint32_t n = 0;
    for (uint32_t w = 0; w < WINDOWS && w * mi + mi <= len; w++, n++) {
        memset(acc, 0, a->words * sizeof(uint64_t));
        for (uint32_t j = 0; j < mi; j++) {
            uint32_t idx = (a->ring_head + RING - 1 - (w * mi + j)) % RING;
            const uint64_t *r = a->ring + (size_t)idx * a->words;
            for (size_t k = 0; k < a->words; k++)
                acc[k] |= r[k];
        }
        for (size_t k = 0; k < a->words; k++)
            sum += __builtin_popcountll(acc[k]);
    }
    free(acc);
    double ws = sum / n;
    if (m > mi)
        ws *= m / mi;
    return fmin(ws, a->n_pages);
}

/* Expected dirty set after a round that sends `pages` (working set of its length). */
static double next_remaining(const struct policy_aras *a, double pages, double pages_per_s)
{
    double m = pages / pages_per_s / a->interval_s;
    if (m >= 1)
        return working_set(a, m);
    return working_set(a, 1) * m; /* sub-interval round: a share of one interval */
}

/* Iterate round lengths d -> W(d) / bandwidth from `remaining` pages over the
 * rounds left; the smallest dirty set reached. */
static double curve_floor(const struct policy_aras *a, uint32_t round, uint64_t remaining,
                          double pages_per_s)
{
    double r = (double)remaining, best = r;
    for (uint32_t k = round; k < ROUND_LIMIT; k++) {
        r = next_remaining(a, r, pages_per_s);
        best = fmin(best, r);
    }
    return best;
}

bool policy_aras_diverging(struct policy_aras *a, uint32_t round, uint64_t remaining,
                           double budget_pages, double pages_per_s)
{
    uint64_t r1 = a->prev_remaining[0], r2 = a->prev_remaining[1];
    a->prev_remaining[1] = r1;
    a->prev_remaining[0] = remaining;
    /* Hovering just above the budget: the next short round may well fit, and
     * trying costs little (the round limit ends it). */
    if ((double)remaining <= HOVER * budget_pages || round < MIN_DIVERGE_ROUND || r1 == 0 ||
        r2 == 0)
        return false;
    /* Both the recent rounds' trend and the working-set curve must say no, the
     * curve by a clear margin: a burst of writes alone does not abandon
     * pre-copy, nor does a fixed point that noise can carry below the budget. */
    double ratio = sqrt((double)remaining / (double)r2);
    bool trend = ratio >= STALL_RATIO ||
                 round + log(budget_pages / (double)remaining) / log(ratio) > ROUND_LIMIT;
    return trend && curve_floor(a, round, remaining, pages_per_s) > CLEAR_MISS * budget_pages;
}

bool policy_aras_more(struct policy_aras *a, uint64_t remaining, double pages_per_s)
{
    if (a->extra_rounds >= MAX_EXTRA || remaining == 0)
        return false;
    if (next_remaining(a, (double)remaining, pages_per_s) > EXTRA_GAIN * (double)remaining)
        return false;
    a->extra_rounds++;
    return true;
}
