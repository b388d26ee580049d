/* cost: the predicted course of a live migration, round by round.
 *
 * Round 1 sends every page holding data (the others as 9-byte zero-page
 * markers, as QEMU does); each later round sends what was written while the
 * previous one was on the wire: W(d) = H (1 - exp(-r d / H)) bytes for a round
 * of d seconds, r the forecast's mean rate over that round and H the hot set
 * (all memory when unknown), so long rounds saturate at the hot set. Pre-copy
 * stops when the rest fits bandwidth x max downtime; the stop-and-copy then
 * takes rest / bandwidth + the fixed switch time.
 *
 * Auto-converge follows QEMU's rule (migration_trigger_throttle): at each
 * round's bitmap sync, if the bytes dirtied exceed 50 % of the bytes sent, a
 * counter grows; every second such round the vCPUs are throttled to 20 %,
 * then 10 % more each time up to 99 %, and a throttled guest writes at
 * (1 - throttle) of its rate. Post-copy after N rounds pauses the guest for
 * the switch only and then pulls the rest once: rest / bandwidth seconds in
 * which the guest runs on the destination faulting pages in from the source.
 */
#include "migrate/migrate.h"
#include "util/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MIB             1048576.0
#define PAGE_BYTES      4096.0
#define ZERO_PAGE_BYTES 9.0
#define AC_TRIGGER      0.5
#define AC_INITIAL_PCT  20.0
#define AC_STEP_PCT     10.0
#define AC_MAX_PCT      99.0

static const char *const strategy_names[MIGRATE_STRATEGY_COUNT] = {
    [MIGRATE_STRATEGY_PRECOPY] = "pre-copy",
    [MIGRATE_STRATEGY_AUTO_CONVERGE] = "auto-converge",
    [MIGRATE_STRATEGY_POSTCOPY] = "post-copy",
};

const char *migrate_strategy_str(enum migrate_strategy s)
{
    return (unsigned)s < MIGRATE_STRATEGY_COUNT ? strategy_names[s] : "unknown";
}

void migrate_limits_default(struct migrate_limits *l)
{
    memset(l, 0, sizeof(*l));
    l->max_downtime_s = 0.3;
    l->max_total_s = 600;
    l->max_rounds = 30;
    l->switch_s = 0.01;
    l->allow_postcopy = true;
    l->allow_auto_converge = true;
    l->max_wait_s = 300;
}

static int check_inputs(const struct migrate_vm_load *vm, const struct migrate_link *link,
                        const struct migrate_limits *lim, enum migrate_strategy s, uint32_t after,
                        double start_in_s)
{
    if (vm->mem_bytes == 0)
        return err_set("migration cost: the VM has no memory size");
    if (!(link->bandwidth_bytes_per_s > 0) || !isfinite(link->bandwidth_bytes_per_s))
        return err_set("migration cost: link bandwidth %g bytes/s is out of range",
                       link->bandwidth_bytes_per_s);
    if (!(lim->max_downtime_s >= 0) || !(lim->max_total_s > 0) || lim->max_rounds < 1 ||
        !(lim->switch_s >= 0))
        return err_set("migration cost: limits out of range (downtime %g s, total %g s, "
                       "%u rounds, switch %g s)",
                       lim->max_downtime_s, lim->max_total_s, lim->max_rounds, lim->switch_s);
    if ((unsigned)s >= MIGRATE_STRATEGY_COUNT)
        return err_set("migration cost: unknown strategy %d", (int)s);
    if (s == MIGRATE_STRATEGY_POSTCOPY && after < 1)
        return err_set("migration cost: post-copy needs at least one pre-copy round");
    if (!(start_in_s >= 0) || !isfinite(start_in_s))
        return err_set("migration cost: start time %g s is out of range", start_in_s);
    return 0;
}

/* Bytes written during [t, t + d) (seconds from now) under a vCPU throttle. */
static double written(const struct migrate_vm_load *vm, double t, double d, double throttle_pct)
{
    if (d <= 0)
        return 0;
    double rate = migrate_dirty_forecast_mean(&vm->dirty, t, t + d) * MIB;
    rate *= 1 - throttle_pct / 100.0;
    double h = vm->hot_bytes ? (double)vm->hot_bytes : (double)vm->mem_bytes;
    h = fmin(h, (double)vm->mem_bytes);
    if (rate <= 0 || h <= 0)
        return 0;
    return h * -expm1(-rate * d / h);
}

int migrate_predict(const struct migrate_vm_load *vm, const struct migrate_link *link,
                    const struct migrate_limits *lim, enum migrate_strategy s,
                    uint32_t postcopy_after_rounds, double start_in_s,
                    struct migrate_prediction *out)
{
    memset(out, 0, sizeof(*out));
    out->strategy = s;
    out->start_in_s = start_in_s;
    if (check_inputs(vm, link, lim, s, postcopy_after_rounds, start_in_s) < 0)
        return -1;
    double bw = link->bandwidth_bytes_per_s, mem = (double)vm->mem_bytes;
    double data = vm->data_bytes && vm->data_bytes < vm->mem_bytes ? (double)vm->data_bytes : mem;
    double budget = bw * lim->max_downtime_s, throttle = 0, elapsed = 0, rest;
    double sent = data + (mem - data) / PAGE_BYTES * ZERO_PAGE_BYTES;
    unsigned high = 0;
    if (s == MIGRATE_STRATEGY_POSTCOPY)
        out->postcopy_after_rounds = postcopy_after_rounds;
    for (uint32_t round = 1;; round++) {
        double d = sent / bw;
        rest = written(vm, start_in_s + elapsed, d, throttle);
        out->degraded_s += d * throttle / 100.0;
        elapsed += d;
        out->bytes += sent;
        out->rounds = round;
        if (s == MIGRATE_STRATEGY_POSTCOPY && round == postcopy_after_rounds) {
            out->downtime_s = lim->switch_s;
            out->postcopy_s = rest / bw;
            out->degraded_s += out->postcopy_s;
            out->bytes += rest;
            out->total_s = elapsed + lim->switch_s + out->postcopy_s;
            out->completes = out->total_s <= lim->max_total_s;
            return 0;
        }
        if (rest <= budget) {
            out->converges = true;
            break;
        }
        if (s == MIGRATE_STRATEGY_AUTO_CONVERGE && rest > AC_TRIGGER * sent && ++high >= 2) {
            high = 0;
            throttle = throttle > 0 ? fmin(throttle + AC_STEP_PCT, AC_MAX_PCT) : AC_INITIAL_PCT;
            out->max_throttle_pct = throttle;
        }
        if (round >= lim->max_rounds || elapsed > lim->max_total_s)
            break; /* QEMU would go on; report a forced stop-and-copy here */
        sent = rest;
    }
    out->downtime_s = rest / bw + lim->switch_s;
    out->bytes += rest;
    out->total_s = elapsed + out->downtime_s;
    out->completes = out->converges && out->total_s <= lim->max_total_s;
    return 0;
}

void migrate_prediction_str(const struct migrate_prediction *p, char *buf, size_t len)
{
    char how[64];
    if (p->strategy == MIGRATE_STRATEGY_POSTCOPY)
        snprintf(how, sizeof(how), "post-copy after %u round%s", p->postcopy_after_rounds,
                 p->postcopy_after_rounds == 1 ? "" : "s");
    else if (p->strategy == MIGRATE_STRATEGY_AUTO_CONVERGE)
        snprintf(how, sizeof(how), "auto-converge, %u rounds, throttle up to %.0f%%", p->rounds,
                 p->max_throttle_pct);
    else
        snprintf(how, sizeof(how), "pre-copy, %u rounds", p->rounds);
    snprintf(buf, len, "%s: %.1f s, downtime %.0f ms, %.0f MiB%s", how, p->total_s,
             p->downtime_s * 1000, p->bytes / MIB,
             p->completes   ? ""
             : p->converges ? " (over the time limit)"
                            : " (does not converge)");
}
