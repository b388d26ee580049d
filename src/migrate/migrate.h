/* migrate: migration cost and strategy per VM, page-level dirty traces
 * (DIRTYTR1) and the pre-copy simulator.
 *
 * VM level (the second half of this header): a two-state (calm/busy) model of
 * each VM's sampled dirty rate, a pre-copy / auto-converge / post-copy cost
 * model for a given link, and the strategy choice that arasd runs and the
 * placement planner uses as the migration cost.
 *
 * Page level: a dirty trace holds, for each sampling interval, one bit per page: 1 iff the
 * page was written in that interval (format: DIRTYTR1, see the project's
 * formats/dirty-trace-v1.md). The simulator replays a trace against
 * a pre-copy live migration over a link of given bandwidth and a downtime budget,
 * with a pluggable per-page deferral policy. Everything here is pure computation
 * except migrate_trace_read()/migrate_trace_write().
 */
#ifndef ARAS_MIGRATE_MIGRATE_H
#define ARAS_MIGRATE_MIGRATE_H

#include "backend/backend.h"
#include "model/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIGRATE_TRACE_MAGIC      "DIRTYTR1"
#define MIGRATE_TRACE_VERSION    1
#define MIGRATE_TRACE_HEADER_LEN 112
#define MIGRATE_TRACE_NAME_LEN   32
/* flags bit0: keys are composite (pid/object index << 36 | page number). */
#define MIGRATE_TRACE_COMPOSITE_KEYS 1u
/* Key bit 63 marks a page of a MAP_SHARED object. */
#define MIGRATE_KEY_SHARED    (1ull << 63)
#define MIGRATE_KEY_IDX_SHIFT 36

/* One trace in memory. All arrays are owned by the struct (migrate_trace_free). */
struct migrate_trace {
    uint32_t page_size, n_pages, n_intervals, interval_us, flags;
    uint64_t rss_start_pages;
    char workload[MIGRATE_TRACE_NAME_LEN + 1], method[MIGRATE_TRACE_NAME_LEN + 1];
    double *t_end;      /* [n_intervals] seconds since the baseline scan, non-decreasing */
    uint64_t *keys;     /* [n_pages], strictly increasing */
    uint8_t *resident0; /* [migrate_trace_row_bytes()] */
    uint8_t *bitmaps;   /* [n_intervals][migrate_trace_row_bytes()] */
};

/* Bytes of one packed bitmap row: ceil(n_pages / 8). */
size_t migrate_trace_row_bytes(uint32_t n_pages);

static inline bool migrate_bit(const uint8_t *row, uint32_t p)
{
    return (row[p >> 3] >> (p & 7)) & 1;
}

static inline void migrate_bit_set(uint8_t *row, uint32_t p)
{
    row[p >> 3] |= (uint8_t)(1u << (p & 7));
}

/* Row of interval i. */
static inline const uint8_t *migrate_trace_row(const struct migrate_trace *t, uint32_t i)
{
    return t->bitmaps + (size_t)i * migrate_trace_row_bytes(t->n_pages);
}

/* Allocate the arrays of a trace with the given sizes (zeroed); header fields
 * other than sizes are set to defaults (page_size 4096, version fields). */
void migrate_trace_alloc(struct migrate_trace *t, uint32_t n_pages, uint32_t n_intervals);
/* Free the arrays; the struct may be reused. NULL-safe on a zeroed struct. */
void migrate_trace_free(struct migrate_trace *t);

/* Parse a DIRTYTR1 image of `len` bytes. `name` (a file name) prefixes every
 * error, which names the field at fault. Payloads larger than max_payload bytes
 * are refused. On success *out owns new arrays; on failure *out is zeroed. */
int migrate_trace_parse(const uint8_t *buf, size_t len, const char *name, uint64_t max_payload,
                        struct migrate_trace *out);
/* Read and validate a trace file (payload limit 4 GiB). */
int migrate_trace_read(const char *path, struct migrate_trace *out);
/* Validate t and write it atomically (path.tmp + rename), zstd level 3. */
int migrate_trace_write(const char *path, const struct migrate_trace *t);
/* Check the in-memory invariants (sizes, sorted keys, monotonic t_end). */
int migrate_trace_check(const struct migrate_trace *t, const char *name);

/* ---- pre-copy simulator ---- */

enum migrate_policy_kind {
    MIGRATE_POLICY_PLAIN,  /* QEMU-like: send every dirty page, stop when it fits */
    MIGRATE_POLICY_XEN,    /* plain + Xen's stop rules (29 rounds or 3x memory sent) */
    MIGRATE_POLICY_MARKOV, /* per-page two-state Markov chain, defer if P(rewrite) >= th */
    MIGRATE_POLICY_GE,     /* Gilbert-Elliott hidden two-state model, defer if P >= th */
    MIGRATE_POLICY_LASTK,  /* defer pages dirty in each of the last k rounds */
    MIGRATE_POLICY_ARAS,   /* reliable deferral + early non-convergence detection */
    MIGRATE_POLICY_COUNT
};
const char *migrate_policy_kind_str(enum migrate_policy_kind k);

struct migrate_policy_spec {
    enum migrate_policy_kind kind;
    double threshold;  /* markov, ge: defer when P(rewritten before next round) >= threshold */
    double eps1, eps2; /* ge: write probability in the good / bad state */
    bool ge_fit;       /* ge: fit eps1/eps2 too (ge:fit,TH) */
    uint32_t k;        /* lastk */
};
/* Parse "plain", "xen", "markov:0.7", "ge:0.1,0.9,0.7", "ge:fit,0.7", "lastk:3", "aras". */
int migrate_policy_parse(const char *s, struct migrate_policy_spec *out);
/* Canonical name of spec into buf. */
void migrate_policy_name(const struct migrate_policy_spec *spec, char *buf, size_t len);

struct migrate_sim_config {
    double bandwidth_bytes_per_s;
    double max_downtime_s;
    uint32_t max_rounds;      /* forced stop-and-copy after this many rounds (plain: 30) */
    double history_s;         /* trace time before the start offset the predictors may see */
    double postcopy_switch_s; /* aras: downtime of a switch to post-copy (device state) */
};

/* The outcome of one simulated migration. */
struct migrate_sim_result {
    double start_s;         /* start offset in the trace */
    double bytes;           /* total bytes sent (pre-copy rounds + stop-and-copy [+ post-copy]) */
    double total_s;         /* start to resume on the destination (+ post-copy pull) */
    double downtime_s;      /* stop-and-copy (or switch) time */
    uint32_t rounds;        /* pre-copy rounds, stop-and-copy not counted */
    bool converged;         /* remaining fit the budget before a stop rule fired */
    bool postcopy;          /* aras switched to post-copy after detecting non-convergence */
    double postcopy_s;      /* time to pull the remaining pages after the switch */
    uint64_t deferred;      /* page deferrals */
    uint64_t deferred_hit;  /* deferrals of pages that were rewritten before the next round */
    double populated_bytes; /* pages with data at the start: what any policy must send */
};

/* Simulate one migration starting at interval `start`. Writes are replayed from
 * the trace, wrapping around to interval 0 when the migration outlasts it.
 * Returns 0, or -1 on a bad configuration (err_set). */
int migrate_sim_run(const struct migrate_trace *t, const struct migrate_sim_config *cfg,
                    const struct migrate_policy_spec *spec, uint32_t start,
                    struct migrate_sim_result *out);

/* Start intervals for n offsets: evenly spaced after history_s of trace. */
uint32_t migrate_sim_offsets(const struct migrate_trace *t, double history_s, uint32_t n,
                             uint32_t *out);

/* ==== VM level: dirty-rate model, migration cost, strategy ====================
 *
 * Contract for every caller (arasd's migration path, the placement planner):
 * these functions are pure — no I/O, no clock reads (time is passed in, in ms
 * of the caller's clock), no allocation. The structs hold no pointers and may
 * be copied freely, e.g. into a job for a worker thread. Rates are MiB/s as
 * libvirt reports them (1 MiB = 2^20 bytes); sizes are bytes; durations are
 * seconds unless the name says _ms.
 *
 * Typical use:
 *     migrate_dirty_model_observe(&m, t_ms, 1, rate_mib_s);   // every sample
 *     ...
 *     struct migrate_vm_load vm;
 *     migrate_vm_load_from_vm(&vm, v, &m, now_ms);             // or fill it yourself
 *     struct migrate_plan plan;
 *     migrate_plan_choose(&vm, &link, &limits, &plan);
 *     cost = migrate_plan_cost_s(&plan);                       // planner
 *     migrate_plan_params(&plan, &params);                     // daemon: run it
 */

#define MIGRATE_DIRTY_RING 64 /* rate samples a model keeps (oldest dropped) */

/* One VM's sampled dirty rate. Samples taken over the model's base period
 * (the first sample's calc_s) form the calm/busy series; samples over longer
 * periods show how far the written set saturates (its hot set). Initialise
 * with migrate_dirty_model_init(); fields are private to migrate/. */
struct migrate_dirty_model {
    double rate_mib_s[MIGRATE_DIRTY_RING];
    int64_t t_ms[MIGRATE_DIRTY_RING]; /* end of each sample's measurement */
    uint32_t n, head;                 /* samples held; next slot */
    int base_calc_s;                  /* 0 until the first sample */
    double hot_mib;                   /* estimated hot-set size, 0 = unknown */
    int64_t hot_t_ms;
};

/* Which two-state predictor drives the forecast. */
enum migrate_dirty_predictor {
    MIGRATE_DIRTY_GE,     /* Gilbert-Elliott: hidden state, noisy samples (default) */
    MIGRATE_DIRTY_MARKOV, /* Markov chain over the samples' own calm/busy classes */
};

/* What a model says about the VM's dirty rate from `now` on. */
struct migrate_dirty_forecast {
    uint32_t n_samples;
    double step_s;      /* median sampling period (the chain's time step) */
    double age_s;       /* from the last sample to now */
    double mean_mib_s;  /* over the samples held */
    bool two_state;     /* calm and busy are clearly distinct */
    double split_mib_s; /* samples above are classified busy (+inf if one state) */
    double calm_mib_s;  /* mean rate in each state (both = mean_mib_s if one state) */
    double busy_mib_s;  /* */
    double hot_mib;     /* hot-set estimate, 0 = unknown */
    double p_busy_now;  /* P(busy) now, advanced from the last sample over age_s */
    double p_calm_busy; /* P(calm -> busy) per step */
    double p_busy_calm; /* P(busy -> calm) per step */
    enum migrate_dirty_predictor predictor;
    /* Both predictors' view of the last sample, for reports and tests: */
    bool markov_busy_last; /* the last sample's class */
    double ge_p_busy_last; /* Gilbert-Elliott filtered P(busy) at the last sample */
    double markov_p_cb, markov_p_bc, ge_p_cb, ge_p_bc;
};

/* Gilbert-Elliott emission probabilities (the seed's values): a calm step
 * yields a busy-class sample with probability EPS1, a busy step with EPS2. */
#define MIGRATE_DIRTY_GE_EPS1 0.1
#define MIGRATE_DIRTY_GE_EPS2 0.9

void migrate_dirty_model_init(struct migrate_dirty_model *m);
/* Add a sample: `rate_mib_s` measured over the calc_s seconds ending at
 * t_ms. Returns -1 (err_set, the model unchanged) when the rate is negative
 * or not finite, calc_s is outside 1..60, or t_ms is not after the previous
 * sample of the same period. */
int migrate_dirty_model_observe(struct migrate_dirty_model *m, int64_t t_ms, int calc_s,
                                double rate_mib_s);
/* Forecast at now_ms. With no samples: rate 0, one state, n_samples 0. */
void migrate_dirty_model_forecast(const struct migrate_dirty_model *m, int64_t now_ms,
                                  enum migrate_dirty_predictor pred,
                                  struct migrate_dirty_forecast *out);
/* A forecast of one constant rate (no history: e.g. the planner's view of a
 * VM known only by its latest rate). */
void migrate_dirty_forecast_const(double rate_mib_s, struct migrate_dirty_forecast *out);
/* P(busy) t_s seconds from now. */
double migrate_dirty_forecast_p_busy(const struct migrate_dirty_forecast *f, double t_s);
/* Expected mean rate (MiB/s) over [from_s, to_s] from now (to_s > from_s >= 0). */
double migrate_dirty_forecast_mean(const struct migrate_dirty_forecast *f, double from_s,
                                   double to_s);
/* Expected wait until the VM is calm (0 when calm now or one state), and the
 * expected length of a calm period once it starts (+inf if never busy). */
double migrate_dirty_forecast_calm_in_s(const struct migrate_dirty_forecast *f);
double migrate_dirty_forecast_calm_len_s(const struct migrate_dirty_forecast *f);

/* ---- cost model ---- */

enum migrate_strategy {
    MIGRATE_STRATEGY_PRECOPY,       /* plain pre-copy until it fits max downtime */
    MIGRATE_STRATEGY_AUTO_CONVERGE, /* pre-copy, QEMU throttles the vCPUs when it lags */
    MIGRATE_STRATEGY_POSTCOPY,      /* pre-copy for N rounds, then switch to post-copy */
    MIGRATE_STRATEGY_COUNT
};
const char *migrate_strategy_str(enum migrate_strategy s);

/* What is moved. */
struct migrate_vm_load {
    uint64_t mem_bytes;  /* guest RAM */
    uint64_t data_bytes; /* pages holding data, sent in round 1 (0 = all of mem_bytes) */
    uint64_t hot_bytes;  /* the set written over and over (0 = unknown: mem_bytes) */
    struct migrate_dirty_forecast dirty;
};

struct migrate_link {
    double bandwidth_bytes_per_s; /* what the migration stream gets */
};

/* What a plan must respect. migrate_limits_default() gives the values in []. */
struct migrate_limits {
    double max_downtime_s;    /* stop-and-copy budget [0.3, QEMU's default] */
    double max_total_s;       /* a prediction longer than this does not complete [600] */
    uint32_t max_rounds;      /* pre-copy rounds predicted at most [30] */
    double switch_s;          /* fixed part of any downtime: device state [0.01] */
    bool allow_postcopy;      /* [true] */
    bool allow_auto_converge; /* [true] */
    double max_wait_s;        /* longest wait for a calm period, 0 = start now [300] */
};
void migrate_limits_default(struct migrate_limits *l);

/* The predicted course of one migration. */
struct migrate_prediction {
    enum migrate_strategy strategy;
    uint32_t postcopy_after_rounds; /* post-copy: pre-copy rounds before the switch */
    double start_in_s;              /* when it starts, from now */
    bool completes;                 /* ends within max_total_s and max downtime */
    bool converges;                 /* pre-copy met the downtime budget (no post-copy) */
    uint32_t rounds;                /* pre-copy rounds */
    double total_s;                 /* start to the VM running on the destination alone */
    double downtime_s;              /* VM paused */
    double bytes;                   /* on the wire */
    double postcopy_s;              /* post-copy: pulling pages, the VM faulting remotely */
    double max_throttle_pct;        /* auto-converge: deepest vCPU throttle */
    double degraded_s;              /* guest slowed: throttle x time, or post-copy pull time */
};

/* Predict one strategy started start_in_s from now (the dirty forecast is
 * read from then on). postcopy_after_rounds >= 1 for post-copy. Returns -1
 * (err_set) on inputs out of range (no memory, bandwidth <= 0, ...). */
int migrate_predict(const struct migrate_vm_load *vm, const struct migrate_link *link,
                    const struct migrate_limits *lim, enum migrate_strategy s,
                    uint32_t postcopy_after_rounds, double start_in_s,
                    struct migrate_prediction *out);

/* ---- strategy ---- */

#define MIGRATE_PLAN_REASON_MAX 256

struct migrate_plan {
    bool feasible;                     /* an allowed strategy completes */
    struct migrate_prediction chosen;  /* what to run (the best try when !feasible) */
    struct migrate_prediction precopy; /* plain pre-copy now: the default, for comparison */
    double start_in_s; /* 0: start now; > 0: wait for the predicted calm period, re-plan then */
    double timeout_s;  /* abort bound for the chosen run (pre-copy phases only) */
    char reason[MIGRATE_PLAN_REASON_MAX];
};

/* Choose how and when to migrate:
 *  1. plain pre-copy now, when it completes;
 *  2. otherwise, when the VM is busy now and plain pre-copy started in the
 *     predicted calm period completes, wait for it (up to max_wait_s);
 *  3. otherwise the allowed one of post-copy after N rounds (N where further
 *     rounds stop shrinking the dirty set) and auto-converge with the least
 *     total + degraded time;
 *  4. otherwise infeasible: chosen holds the best try, reason says why.
 * Returns -1 (err_set) only on inputs out of range. */
int migrate_plan_choose(const struct migrate_vm_load *vm, const struct migrate_link *link,
                        const struct migrate_limits *lim, struct migrate_plan *out);

/* The planner's scalar migration cost, in seconds: total time + degraded
 * time + waiting; +inf when infeasible. */
double migrate_plan_cost_s(const struct migrate_plan *plan);

/* Backend parameters that run plan->chosen: strategy flags, max downtime,
 * post-copy switch round and timeout. Other fields of *p are left as they are
 * (bandwidth cap, destination URI, storage...). */
void migrate_plan_params(const struct migrate_plan *plan, const struct migrate_limits *lim,
                         struct migrate_params *p);

/* The load of `v` (memory, data from guest-reported unused memory) with the
 * forecast of `m` at now_ms; m NULL: a constant rate from
 * v->counters.dirty_rate_mib_s (0 when unknown). */
void migrate_vm_load_from_vm(struct migrate_vm_load *out, const struct vm *v,
                             const struct migrate_dirty_model *m, int64_t now_ms);

/* "post-copy after 1 round: 21.3 s, downtime 10 ms, 212 MiB" into buf. */
void migrate_prediction_str(const struct migrate_prediction *p, char *buf, size_t len);

#endif
