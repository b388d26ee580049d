/* strategy: how and when to migrate a VM, from the cost model's predictions.
 *
 * Order of preference (see migrate.h): plain pre-copy now; plain pre-copy in
 * the predicted calm period when the VM is busy now; post-copy after N rounds
 * or auto-converge, whichever costs less (total + degraded time). Post-copy
 * tries N = 1..POSTCOPY_MAX_ROUNDS: more rounds only pay while they shrink
 * the set left to pull. The abort bound of a run is twice its predicted
 * pre-copy phase plus TIMEOUT_SLACK_S, so a wrong prediction ends in an abort
 * (the VM keeps running on the source), never in an endless migration.
 */
#include "migrate/migrate.h"
#include "util/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MIB                 1048576.0
#define POSTCOPY_MAX_ROUNDS 5
#define TIMEOUT_SLACK_S     30.0

static double score(const struct migrate_prediction *p)
{
    return p->total_s + p->degraded_s;
}

/* Seconds of the run that can be aborted: all of it but post-copy's pull. */
static double abortable_s(const struct migrate_prediction *p)
{
    return p->strategy == MIGRATE_STRATEGY_POSTCOPY ? p->total_s - p->postcopy_s - p->downtime_s
                                                    : p->total_s;
}

/* Plain pre-copy as if the VM had just turned calm, started in `wait` s. */
static int predict_calm(const struct migrate_vm_load *vm, const struct migrate_link *link,
                        const struct migrate_limits *lim, double wait,
                        struct migrate_prediction *out)
{
    struct migrate_vm_load calm = *vm;
    calm.dirty.p_busy_now = 0;
    calm.dirty.age_s = 0;
    if (migrate_predict(&calm, link, lim, MIGRATE_STRATEGY_PRECOPY, 0, 0, out) < 0)
        return -1;
    out->start_in_s = wait;
    return 0;
}

/* The best completing fallback (post-copy after N, auto-converge), or none. */
static int best_fallback(const struct migrate_vm_load *vm, const struct migrate_link *link,
                         const struct migrate_limits *lim, struct migrate_prediction *best,
                         bool *found)
{
    *found = false;
    struct migrate_prediction p;
    if (lim->allow_postcopy) {
        uint32_t max_n =
            lim->max_rounds < POSTCOPY_MAX_ROUNDS ? lim->max_rounds : POSTCOPY_MAX_ROUNDS;
        for (uint32_t n = 1; n <= max_n; n++) {
            if (migrate_predict(vm, link, lim, MIGRATE_STRATEGY_POSTCOPY, n, 0, &p) < 0)
                return -1;
            if (p.completes && (!*found || score(&p) < score(best))) {
                *best = p;
                *found = true;
            }
        }
    }
    if (lim->allow_auto_converge) {
        if (migrate_predict(vm, link, lim, MIGRATE_STRATEGY_AUTO_CONVERGE, 0, 0, &p) < 0)
            return -1;
        if (p.completes && (!*found || score(&p) < score(best))) {
            *best = p;
            *found = true;
        }
    }
    return 0;
}

int migrate_plan_choose(const struct migrate_vm_load *vm, const struct migrate_link *link,
                        const struct migrate_limits *lim, struct migrate_plan *out)
{
    memset(out, 0, sizeof(*out));
    if (migrate_predict(vm, link, lim, MIGRATE_STRATEGY_PRECOPY, 0, 0, &out->precopy) < 0)
        return -1;
    const struct migrate_dirty_forecast *f = &vm->dirty;
    double rate = migrate_dirty_forecast_mean(f, 0, out->precopy.total_s);
    double link_mib_s = link->bandwidth_bytes_per_s / MIB;
    char why[160];
    snprintf(why, sizeof(why), "dirty rate %.1f MiB/s over a %.1f MiB/s link", rate, link_mib_s);
    out->chosen = out->precopy;
    out->feasible = true;
    if (out->precopy.completes) {
        snprintf(out->reason, sizeof(out->reason), "pre-copy converges: %s", why);
    } else {
        double wait = migrate_dirty_forecast_calm_in_s(f);
        struct migrate_prediction calm, fb;
        bool have_calm = false, have_fb;
        if (f->two_state && wait > 0 && wait <= lim->max_wait_s) {
            if (predict_calm(vm, link, lim, wait, &calm) < 0)
                return -1;
            have_calm = calm.completes;
        }
        if (best_fallback(vm, link, lim, &fb, &have_fb) < 0)
            return -1;
        if (have_calm) {
            out->chosen = calm;
            out->start_in_s = wait;
            snprintf(out->reason, sizeof(out->reason),
                     "busy now (P %.2f, %.1f MiB/s): wait ~%.0f s for a calm period "
                     "(%.1f MiB/s, ~%.0f s long) in which pre-copy converges",
                     f->p_busy_now, f->busy_mib_s, wait, f->calm_mib_s,
                     migrate_dirty_forecast_calm_len_s(f));
        } else if (have_fb) {
            out->chosen = fb;
            snprintf(out->reason, sizeof(out->reason), "pre-copy does not converge (%s)", why);
        } else {
            out->feasible = false;
            snprintf(out->reason, sizeof(out->reason),
                     "no allowed strategy completes within %.0f s (%s%s%s)", lim->max_total_s, why,
                     lim->allow_postcopy ? "" : "; post-copy not allowed",
                     lim->allow_auto_converge ? "" : "; auto-converge not allowed");
        }
    }
    out->timeout_s = 2 * abortable_s(&out->chosen) + TIMEOUT_SLACK_S;
    return 0;
}

double migrate_plan_cost_s(const struct migrate_plan *plan)
{
    if (!plan->feasible)
        return INFINITY;
    return plan->start_in_s + score(&plan->chosen);
}

void migrate_plan_params(const struct migrate_plan *plan, const struct migrate_limits *lim,
                         struct migrate_params *p)
{
    const struct migrate_prediction *c = &plan->chosen;
    p->max_downtime_ms = (int64_t)ceil(lim->max_downtime_s * 1000);
    p->auto_converge = c->strategy == MIGRATE_STRATEGY_AUTO_CONVERGE;
    p->postcopy = c->strategy == MIGRATE_STRATEGY_POSTCOPY;
    p->postcopy_after_rounds = p->postcopy ? c->postcopy_after_rounds : 0;
    p->postcopy_after_ms = 0;
    p->timeout_ms = (int64_t)ceil(plan->timeout_s * 1000);
}

void migrate_vm_load_from_vm(struct migrate_vm_load *out, const struct vm *v,
                             const struct migrate_dirty_model *m, int64_t now_ms)
{
    memset(out, 0, sizeof(*out));
    uint64_t mem_kib = v->mem_kib ? v->mem_kib : v->max_mem_kib;
    out->mem_bytes = mem_kib * 1024;
    uint64_t unused = v->counters.mem_unused_kib;
    if (unused > 0 && unused < mem_kib)
        out->data_bytes = (mem_kib - unused) * 1024;
    if (m && m->n > 0)
        migrate_dirty_model_forecast(m, now_ms, MIGRATE_DIRTY_GE, &out->dirty);
    else
        migrate_dirty_forecast_const(v->counters.dirty_rate_mib_s, &out->dirty);
    out->hot_bytes = (uint64_t)(out->dirty.hot_mib * MIB);
}
