/* pabfd: power-aware best-fit host choice (PABFD) and saving/restoring the
 * allocation around a planning round, as CloudSim's
 * PowerVmAllocationPolicyMigrationAbstract does. */
#include "policy/policy.h"

#include "policy/consolidation.h"

#include <float.h>

/* Host.vmCreate + isHostOverUtilized + Host.vmDestroy. */
static bool overloaded_after(const struct policy_consolidation *pc, struct sim *s, uint32_t host,
                             uint32_t vm)
{
    sim_host_probe_begin(s, host, vm);
    bool over = policy_host_overloaded(pc, s, host);
    sim_host_probe_end(s, host, vm);
    return over;
}

/* Switched-off hosts of one type are interchangeable (same suitability, same
 * power increase), and ties go to the first, so only the first of each type
 * needs looking at. Returns true if a host of this type was seen before. */
static bool seen_before(const struct sim_host_type **seen, size_t *n, size_t cap,
                        const struct sim_host_type *t)
{
    for (size_t i = 0; i < *n; i++)
        if (seen[i] == t)
            return true;
    if (*n < cap)
        seen[(*n)++] = t;
    return false;
}

int32_t policy_pabfd_find_host(struct policy_consolidation *pc, struct sim *s, uint32_t vm,
                               const uint8_t *excluded, const uint32_t *hosts, size_t n_hosts)
{
    const struct sim_host_type *seen[8];
    size_t n_seen = 0;
    double min_diff = DBL_MAX, req = sim_vm_requested_mips(s, vm);
    int32_t best = -1;
    size_t n = hosts ? n_hosts : s->n_hosts;
    for (size_t k = 0; k < n; k++) {
        uint32_t h = hosts ? hosts[k] : (uint32_t)k;
        const struct sim_host *hh = &s->hosts[h];
        if (excluded && excluded[h])
            continue;
        if (hh->n_slots == 0 && hh->util_mips == 0 && seen_before(seen, &n_seen, 8, hh->type))
            continue;
        if (!sim_host_suitable(s, h, vm))
            continue;
        /* CloudSim 3.0.3 uses the allocated MIPS here, which include VMs
         * placed during this round, not the utilization of the last update */
        double mips = hh->alloc_sum_mips;
        double after = (mips + req) / hh->total_mips;
        double diff = sim_power_w(hh->type->power, after) - sim_host_power_w(s, h);
        /* CloudSim checks overload first; checking only hosts that would win
         * gives the same choice with far fewer what-if allocations. */
        if (diff < min_diff && !(mips != 0 && overloaded_after(pc, s, h, vm))) {
            min_diff = diff;
            best = (int32_t)h;
        }
    }
    return best;
}

void policy_alloc_save(struct policy_consolidation *pc, const struct sim *s)
{
    size_t k = 0;
    for (uint32_t h = 0; h < s->n_hosts; h++) {
        const struct sim_host *hh = &s->hosts[h];
        pc->saved_off[h] = (uint32_t)k;
        for (uint32_t i = 0; i < hh->n_slots; i++)
            if (!hh->slots[i].mig_in)
                pc->saved[k++] = hh->slots[i].vm;
    }
    pc->saved_off[s->n_hosts] = (uint32_t)k;
}

/* Destroy every VM on every host, put back those migrating in, then create
 * the saved ones in their saved order (RAM/BW requests are zero by now). */
void policy_alloc_restore(struct policy_consolidation *pc, struct sim *s)
{
    for (uint32_t h = 0; h < s->n_hosts; h++)
        sim_host_reset(s, h);
    for (uint32_t h = 0; h < s->n_hosts; h++)
        sim_host_vm_add_many(s, h, pc->saved + pc->saved_off[h],
                             pc->saved_off[h + 1] - pc->saved_off[h]);
}
