/* precopy: page-level pre-copy live-migration simulator over a dirty trace.
 *
 * Round 1 sends every page; each later round sends the pages written since they
 * were last sent, minus those the policy defers; pages written while a round is
 * on the wire are dirty again for the next round. After each round the remaining
 * dirty set is checked against the downtime budget (bandwidth x max downtime)
 * and the policy's stop rules; stop-and-copy then sends the rest.
 *
 * Time: interval i of the trace covers [t_end[i-1], t_end[i]); the trace repeats
 * when a migration outlasts it. Inside an interval a page's write is placed at a
 * fixed pseudo-random fraction of the interval (a hash of page and interval), so
 * rounds shorter than the sampling interval see a proportional share of it.
 */
#include "migrate/internal.h"
#include "util/error.h"
#include "util/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A zero page costs its header (address + flags) and one byte, as in QEMU. */
#define ZERO_PAGE_BYTES 9

struct sim {
    const struct migrate_trace *t;
    const struct migrate_sim_config *cfg;
    const struct migrate_policy_spec *spec;
    uint32_t n;
    size_t row;
    double len_s, mean_int_s;
    uint8_t *dirty, *send, *defer, *written;
    uint8_t *zero;     /* pages without data at the start: round 1 sends a marker */
    uint8_t *streak;   /* lastk: consecutive rounds each page was written */
    uint64_t obs_next; /* next unrolled interval the predictors have not seen */
    double last_round_s;
    uint64_t last_round_written; /* pages written while the last round was on the wire */
    uint64_t populated;          /* pages holding data at the start */
    struct predict_markov mk;
    struct predict_ge ge;
    struct policy_aras *aras;
};

static double frac_hash(uint32_t p, uint32_t i)
{
    uint64_t z = ((uint64_t)p << 32 | i) + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static double u_start(const struct sim *s, uint64_t u)
{
    uint32_t i = (uint32_t)(u % s->t->n_intervals);
    return (double)(u / s->t->n_intervals) * s->len_s + (i ? s->t->t_end[i - 1] : 0);
}

static double u_end(const struct sim *s, uint64_t u)
{
    uint32_t i = (uint32_t)(u % s->t->n_intervals);
    return (double)(u / s->t->n_intervals) * s->len_s + s->t->t_end[i];
}

/* OR into out the pages written in the unrolled time window [a, b). */
static void writes_between(const struct sim *s, double a, double b, uint8_t *out)
{
    uint32_t n_int = s->t->n_intervals;
    uint64_t u = (uint64_t)floor(a / s->len_s) * n_int;
    while (u_end(s, u) <= a)
        u++;
    for (; u_start(s, u) < b; u++) {
        double st = u_start(s, u), en = u_end(s, u);
        uint32_t i = (uint32_t)(u % n_int);
        const uint8_t *r = migrate_trace_row(s->t, i);
        if (st >= a && en <= b) {
            for (size_t k = 0; k < s->row; k++)
                out[k] |= r[k];
            continue;
        }
        for (size_t k = 0; k < s->row; k++) {
            for (unsigned bit = 0; r[k] >> bit; bit++) {
                if (!((r[k] >> bit) & 1))
                    continue;
                uint32_t p = (uint32_t)(k * 8 + bit);
                double w = st + frac_hash(p, i) * (en - st);
                if (w >= a && w < b)
                    migrate_bit_set(out, p);
            }
        }
    }
}

static uint64_t popcount_row(const uint8_t *r, size_t n)
{
    uint64_t c = 0;
    for (size_t k = 0; k < n; k++)
        c += (uint64_t)__builtin_popcount(r[k]);
    return c;
}

static void observe(struct sim *s, const uint8_t *row)
{
    switch (s->spec->kind) {
    case MIGRATE_POLICY_MARKOV:
        predict_markov_observe(&s->mk, row);
        break;
    case MIGRATE_POLICY_GE:
        predict_ge_observe(&s->ge, row);
        break;
    case MIGRATE_POLICY_ARAS:
        policy_aras_observe(s->aras, row);
        break;
    default:
        break;
    }
}

/* Feed the predictors every interval that has ended by time `now`. */
static void observe_until(struct sim *s, double now)
{
    while (u_end(s, s->obs_next) <= now) {
        observe(s, migrate_trace_row(s->t, (uint32_t)(s->obs_next % s->t->n_intervals)));
        s->obs_next++;
    }
}

static void sim_init(struct sim *s, uint32_t start)
{
    const struct migrate_trace *t = s->t;
    s->n = t->n_pages;
    s->row = migrate_trace_row_bytes(s->n);
    s->len_s = t->t_end[t->n_intervals - 1];
    s->mean_int_s = s->len_s / t->n_intervals;
    size_t rb = s->row ? s->row : 1;
    s->dirty = xcalloc(rb, 1);
    s->send = xcalloc(rb, 1);
    s->defer = xcalloc(rb, 1);
    s->written = xcalloc(rb, 1);
    s->streak = xcalloc(s->n ? s->n : 1, 1);
    s->zero = xcalloc(rb, 1);
    for (size_t k = 0; k < s->row; k++) {
        uint8_t populated = t->resident0[k];
        for (uint32_t i = 0; i < start; i++)
            populated |= migrate_trace_row(t, i)[k];
        s->zero[k] = (uint8_t)~populated;
    }
    if (s->n % 8)
        s->zero[s->row - 1] &= (uint8_t)((1u << (s->n % 8)) - 1);
    s->populated = s->n - popcount_row(s->zero, s->row);
    uint32_t hist = (uint32_t)fmin(start, ceil(s->cfg->history_s / s->mean_int_s));
    s->obs_next = start - hist;
    if (s->spec->kind == MIGRATE_POLICY_MARKOV)
        predict_markov_init(&s->mk, s->n);
    if (s->spec->kind == MIGRATE_POLICY_ARAS)
        s->aras = policy_aras_new(s->n, s->mean_int_s);
    if (s->spec->kind == MIGRATE_POLICY_GE) {
        const uint8_t **rows = xcalloc(hist ? hist : 1, sizeof(*rows));
        for (uint32_t h = 0; h < hist; h++)
            rows[h] = migrate_trace_row(t, start - hist + h);
        predict_ge_init(&s->ge, s->n, s->spec->eps1, s->spec->eps2, s->spec->ge_fit, rows, hist);
        free(rows);
        s->obs_next = start;
    }
    for (; s->obs_next < start; s->obs_next++)
        observe(s, migrate_trace_row(t, (uint32_t)s->obs_next));
}

static void sim_free(struct sim *s)
{
    free(s->dirty);
    free(s->send);
    free(s->defer);
    free(s->written);
    free(s->streak);
    free(s->zero);
    if (s->spec->kind == MIGRATE_POLICY_MARKOV)
        predict_markov_free(&s->mk);
    if (s->spec->kind == MIGRATE_POLICY_GE)
        predict_ge_free(&s->ge);
    policy_aras_free(s->aras);
}

/* Fill s->defer with the dirty pages the policy holds back in round `round`. */
static void decide(struct sim *s, uint32_t round, uint64_t n_dirty)
{
    memset(s->defer, 0, s->row);
    if (round < 2)
        return;
    double page = s->t->page_size, bw = s->cfg->bandwidth_bytes_per_s;
    struct sim_round_view v = {.round = round, .dirty = s->dirty, .n_dirty = n_dirty};
    v.est_round_s = (double)n_dirty * page / bw;
    v.horizon_steps = (uint32_t)fmax(1, ceil(v.est_round_s / s->mean_int_s));
    v.budget_pages = bw * s->cfg->max_downtime_s / page;
    v.last_round_s = s->last_round_s;
    v.last_round_written = s->last_round_written;
    for (uint32_t p = 0; p < s->n; p++) {
        if (!migrate_bit(s->dirty, p))
            continue;
        bool d = false;
        switch (s->spec->kind) {
        case MIGRATE_POLICY_MARKOV:
            d = predict_markov_prob(&s->mk, p, v.horizon_steps) >= s->spec->threshold;
            break;
        case MIGRATE_POLICY_GE:
            d = predict_ge_prob(&s->ge, p, v.horizon_steps) >= s->spec->threshold;
            break;
        case MIGRATE_POLICY_LASTK:
            d = s->streak[p] >= s->spec->k;
            break;
        default:
            break;
        }
        if (d)
            migrate_bit_set(s->defer, p);
    }
    if (s->spec->kind == MIGRATE_POLICY_ARAS)
        policy_aras_defer(s->aras, &v, s->defer);
}

static bool stop_rule(const struct sim *s, uint32_t round, double bytes)
{
    if (round >= s->cfg->max_rounds)
        return true;
    if (s->spec->kind == MIGRATE_POLICY_XEN)
        return round >= 29 || bytes >= 3.0 * s->n * s->t->page_size;
    return false;
}

/* One round: send dirty minus deferred, collect the writes while on the wire. */
static void round_run(struct sim *s, double *now, struct migrate_sim_result *r)
{
    uint64_t n_send = 0;
    for (size_t k = 0; k < s->row; k++) {
        s->send[k] = s->dirty[k] & (uint8_t)~s->defer[k];
        n_send += (uint64_t)__builtin_popcount(s->send[k]);
    }
    if (n_send == 0) { /* everything deferred: send it anyway, or no progress */
        memcpy(s->send, s->dirty, s->row);
        memset(s->defer, 0, s->row);
        n_send = popcount_row(s->send, s->row);
    }
    /* Never-populated pages go as zero-page markers, once; then they are data. */
    uint64_t n_zero = 0;
    for (size_t k = 0; k < s->row; k++) {
        n_zero += (uint64_t)__builtin_popcount(s->send[k] & s->zero[k]);
        s->zero[k] &= (uint8_t)~s->send[k];
    }
    double sent = (double)(n_send - n_zero) * s->t->page_size + (double)n_zero * ZERO_PAGE_BYTES;
    double dur = sent / s->cfg->bandwidth_bytes_per_s;
    memset(s->written, 0, s->row);
    writes_between(s, *now, *now + dur, s->written);
    for (size_t k = 0; k < s->row; k++) {
        uint8_t d = s->defer[k];
        r->deferred += (uint64_t)__builtin_popcount(d);
        r->deferred_hit += (uint64_t)__builtin_popcount(d & s->written[k]);
        s->dirty[k] = (uint8_t)((s->dirty[k] & ~s->send[k]) | s->written[k]);
    }
    for (uint32_t p = 0; p < s->n; p++)
        s->streak[p] =
            migrate_bit(s->written, p) ? (uint8_t)(s->streak[p] + (s->streak[p] < 255)) : 0;
    for (size_t k = 0; k < s->row; k++)
        s->zero[k] &= (uint8_t)~s->written[k];
    r->bytes += sent;
    s->last_round_s = dur;
    s->last_round_written = popcount_row(s->written, s->row);
    *now += dur;
}

static int check_config(const struct migrate_trace *t, const struct migrate_sim_config *cfg,
                        uint32_t start)
{
    if (!(cfg->bandwidth_bytes_per_s > 0) || !(cfg->max_downtime_s >= 0) || cfg->max_rounds < 1)
        return err_set("pre-copy simulation: bandwidth, downtime or round limit out of range");
    /* Intervals below 0.1 ms on average would make a round span millions of them. */
    if (t->n_intervals == 0 || t->n_pages == 0 ||
        !(t->t_end[t->n_intervals - 1] >= 1e-4 * t->n_intervals))
        return err_set("pre-copy simulation: the trace has no pages or too short a time span");
    if (start >= t->n_intervals)
        return err_set("pre-copy simulation: start interval %u beyond the trace (%u)", start,
                       t->n_intervals);
    return 0;
}

int migrate_sim_run(const struct migrate_trace *t, const struct migrate_sim_config *cfg,
                    const struct migrate_policy_spec *spec, uint32_t start,
                    struct migrate_sim_result *out)
{
    memset(out, 0, sizeof(*out));
    if (check_config(t, cfg, start) < 0)
        return -1;
    struct sim s = {.t = t, .cfg = cfg, .spec = spec};
    sim_init(&s, start);
    double t0 = start ? t->t_end[start - 1] : 0, now = t0, page = t->page_size;
    double budget_pages = cfg->bandwidth_bytes_per_s * cfg->max_downtime_s / page;
    out->start_s = t0;
    memset(s.dirty, 0xff, s.row);
    if (s.n % 8)
        s.dirty[s.row - 1] = (uint8_t)((1u << (s.n % 8)) - 1);
    uint64_t remaining = s.n;
    for (uint32_t round = 1;; round++) {
        observe_until(&s, now);
        decide(&s, round, remaining);
        round_run(&s, &now, out);
        out->rounds = round;
        remaining = popcount_row(s.dirty, s.row);
        if ((double)remaining <= budget_pages) {
            out->converged = true;
            if (spec->kind != MIGRATE_POLICY_ARAS ||
                !policy_aras_more(s.aras, remaining, cfg->bandwidth_bytes_per_s / page))
                break;
            continue;
        }
        out->converged = false;
        if (spec->kind == MIGRATE_POLICY_ARAS &&
            policy_aras_diverging(s.aras, round, remaining, budget_pages,
                                  cfg->bandwidth_bytes_per_s / page)) {
            out->postcopy = true;
            break;
        }
        if (stop_rule(&s, round, out->bytes)) {
            /* aras recommends post-copy rather than a forced stop-and-copy. */
            out->postcopy = spec->kind == MIGRATE_POLICY_ARAS;
            break;
        }
    }
    double rest_s = (double)remaining * page / cfg->bandwidth_bytes_per_s;
    out->bytes += (double)remaining * page;
    if (out->postcopy) {
        out->downtime_s = fmin(rest_s, cfg->postcopy_switch_s);
        out->postcopy_s = rest_s;
    } else {
        out->downtime_s = rest_s;
    }
    out->populated_bytes = (double)s.populated * page;
    out->total_s = now - t0 + out->downtime_s + out->postcopy_s;
    sim_free(&s);
    return 0;
}

uint32_t migrate_sim_offsets(const struct migrate_trace *t, double history_s, uint32_t n,
                             uint32_t *out)
{
    if (t->n_intervals == 0 || n == 0)
        return 0;
    double mean = t->t_end[t->n_intervals - 1] / t->n_intervals;
    uint32_t h = mean > 0 ? (uint32_t)fmin(ceil(history_s / mean), UINT32_MAX) : 0;
    if (h >= t->n_intervals)
        h = t->n_intervals / 2;
    uint32_t span = t->n_intervals - h, k = 0;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t s = h + (uint32_t)((uint64_t)j * span / n);
        if (k == 0 || out[k - 1] != s)
            out[k++] = s;
    }
    return k;
}
