/* internal: interfaces between the simulator, the policies and the predictors. */
#ifndef ARAS_MIGRATE_INTERNAL_H
#define ARAS_MIGRATE_INTERNAL_H

#include "migrate/migrate.h"

/* Per-page two-state Markov chain over per-interval write bits. */
struct predict_markov {
    uint32_t n_pages;
    uint16_t *n_c, *n_cd, *n_d, *n_dd; /* transitions observed (saturating) */
    uint8_t *last;                     /* state in the last observed interval */
    bool have_last;
};
void predict_markov_init(struct predict_markov *m, uint32_t n_pages);
void predict_markov_free(struct predict_markov *m);
/* Feed the next interval's write bitmap. */
void predict_markov_observe(struct predict_markov *m, const uint8_t *row);
/* P(page p is written at least once in the next `steps` intervals). */
double predict_markov_prob(const struct predict_markov *m, uint32_t p, uint32_t steps);
/* Intervals observed for page p (n_c + n_d). */
uint32_t predict_markov_seen(const struct predict_markov *m, uint32_t p);

/* Gilbert-Elliott: hidden good/bad state, write probability eps1 (good) or
 * eps2 (bad), transitions p_gb, p_bg shared by all pages; per-page belief. */
struct predict_ge {
    uint32_t n_pages;
    double p_gb, p_bg, eps1, eps2;
    float *belief; /* P(bad) after the last observation */
    uint32_t cache_steps;
    double cache_g, cache_b; /* P(no write in cache_steps | good / bad) */
};
/* Fit the transitions (and eps1/eps2 when fit_eps) by EM on rows[0..n_rows)
 * (row stride `stride` bytes), then filter the beliefs through them. */
void predict_ge_init(struct predict_ge *g, uint32_t n_pages, double eps1, double eps2, bool fit_eps,
                     const uint8_t *const *rows, uint32_t n_rows);
void predict_ge_free(struct predict_ge *g);
void predict_ge_observe(struct predict_ge *g, const uint8_t *row);
double predict_ge_prob(struct predict_ge *g, uint32_t p, uint32_t steps);

/* What a policy sees before deciding a round (k >= 2). */
struct sim_round_view {
    uint32_t round;       /* the round about to start (2, 3, ...) */
    const uint8_t *dirty; /* pages to (re)send */
    uint64_t n_dirty;
    double est_round_s;          /* duration if every dirty page were sent */
    uint32_t horizon_steps;      /* est_round_s in trace intervals (>= 1) */
    double budget_pages;         /* pages that fit the downtime budget */
    double last_round_s;         /* duration of the previous round */
    uint64_t last_round_written; /* pages written during it */
};

/* The aras policy's state (policy_aras.c). */
struct policy_aras;
struct policy_aras *policy_aras_new(uint32_t n_pages, double interval_s);
void policy_aras_free(struct policy_aras *a);
void policy_aras_observe(struct policy_aras *a, const uint8_t *row);
/* Mark in `defer` the dirty pages to hold back this round. */
void policy_aras_defer(struct policy_aras *a, const struct sim_round_view *v, uint8_t *defer);
/* After a round: true when pre-copy will not converge (switch to post-copy). */
bool policy_aras_diverging(struct policy_aras *a, uint32_t round, uint64_t remaining,
                           double budget_pages, double pages_per_s);

/* The dirty set fits the budget: true when one more round is expected to
 * shrink it clearly (then the caller runs another round; at most a few). */
bool policy_aras_more(struct policy_aras *a, uint64_t remaining, double pages_per_s);

#endif
