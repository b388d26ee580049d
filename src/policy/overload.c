/* overload: host overload detectors THR, IQR, MAD and LR (CloudSim 3.0.3 semantics). */
#include "policy/policy.h"

#include <math.h>

#define IQR_MAD_MIN_HISTORY 12 /* "12 has been suggested as a safe value" */
#define LR_WINDOW           10 /* "10 to make the regression responsive enough" */

static const char *const overload_names[] = {
    [POLICY_OVERLOAD_THR] = "thr",
    [POLICY_OVERLOAD_IQR] = "iqr",
    [POLICY_OVERLOAD_MAD] = "mad",
    [POLICY_OVERLOAD_LR] = "lr",
};

const char *policy_overload_str(enum policy_overload o)
{
    return (unsigned)o < sizeof(overload_names) / sizeof(overload_names[0]) ? overload_names[o]
                                                                            : "?";
}

/* Requested (not allocated) MIPS of the host's VMs over its capacity. */
static double requested_util(const struct sim *s, uint32_t host)
{
    return sim_host_requested_mips(s, host) / s->hosts[host].total_mips;
}

static bool thr_overloaded(const struct sim *s, uint32_t host, double thr)
{
    return requested_util(s, host) > thr;
}

/* Longest migration of a VM on the host: RAM over half the host's bandwidth. */
static double max_migration_s(const struct sim *s, uint32_t host)
{
    const struct sim_host *h = &s->hosts[host];
    double max_ram = -2147483648.0; /* CloudSim starts from Integer.MIN_VALUE */
    for (uint32_t i = 0; i < h->n_slots; i++)
        if (s->vms[h->slots[i].vm].ram_mb > max_ram)
            max_ram = s->vms[h->slots[i].vm].ram_mb;
    return max_ram / (h->type->bw_kbps / (2 * 8000));
}

static bool lr_overloaded(const struct policy_consolidation *pc, const struct sim *s, uint32_t host,
                          const double *hist, size_t n)
{
    if (n < LR_WINDOW)
        return thr_overloaded(s, host, pc->fallback_thr);
    double y[LR_WINDOW], b0, b1;
    for (size_t i = 0; i < LR_WINDOW; i++)
        y[i] = hist[LR_WINDOW - i - 1]; /* oldest first */
    policy_stat_linreg(y, LR_WINDOW, &b0, &b1);
    double intervals = ceil(max_migration_s(s, host) / s->cfg.interval_s);
    double predicted = (b0 + b1 * (LR_WINDOW + intervals)) * pc->param;
    return predicted >= 1;
}

bool policy_host_overloaded(const struct policy_consolidation *pc, const struct sim *s,
                            uint32_t host)
{
    if (pc->overload == POLICY_OVERLOAD_THR)
        return thr_overloaded(s, host, pc->param);
    double hist[SIM_HISTORY_LEN];
    size_t n = sim_host_history(s, host, hist);
    if (pc->overload == POLICY_OVERLOAD_LR)
        return lr_overloaded(pc, s, host, hist, n);
    if (n < IQR_MAD_MIN_HISTORY)
        return thr_overloaded(s, host, pc->fallback_thr);
    double spread =
        pc->overload == POLICY_OVERLOAD_IQR ? policy_stat_iqr(hist, n) : policy_stat_mad(hist, n);
    return requested_util(s, host) > 1 - pc->param * spread;
}
