/* vmsel: VM selection from an overloaded host — minimum migration time (MMT)
 * and maximum correlation (MC, falling back to MMT). */
#include "policy/consolidation.h"

#include "util/mem.h"

#include <math.h>

static const char *const vmsel_names[] = {
    [POLICY_VMSEL_MMT] = "mmt",
    [POLICY_VMSEL_MC] = "mc",
};

const char *policy_vmsel_str(enum policy_vmsel v)
{
    return (unsigned)v < sizeof(vmsel_names) / sizeof(vmsel_names[0]) ? vmsel_names[v] : "?";
}

/* MMT: the first VM with the least RAM (migration time is RAM / bandwidth). */
static int32_t select_mmt(const struct sim *s, uint32_t host)
{
    const struct sim_host *h = &s->hosts[host];
    int32_t best = -1;
    double best_ram = INFINITY;
    for (uint32_t i = 0; i < h->n_slots; i++) {
        const struct sim_vm *v = &s->vms[h->slots[i].vm];
        if (v->in_migration)
            continue;
        if (v->ram_mb < best_ram) {
            best_ram = v->ram_mb;
            best = (int32_t)h->slots[i].vm;
        }
    }
    return best;
}

/* MC: the VM whose history is best explained (highest R^2 of a multiple
 * regression) by the histories of the host's other VMs. */
static int32_t select_mc(struct policy_consolidation *pc, const struct sim *s, uint32_t host)
{
    const struct sim_host *h = &s->hosts[host];
    uint32_t n = 0;
    size_t m = SIZE_MAX;
    for (uint32_t i = 0; i < h->n_slots; i++) {
        const struct sim_vm *v = &s->vms[h->slots[i].vm];
        if (v->in_migration)
            continue;
        pc->sel[n++] = h->slots[i].vm;
        if (v->n_hist < m)
            m = v->n_hist;
    }
    if (n == 0)
        return -1;
    if (m < n) /* fewer samples than terms: CloudSim falls back to MMT */
        return select_mmt(s, host);
    size_t k = n - 1;
    size_t need = m * k + m + (k + 2) * (m + 2);
    xgrow((void **)&pc->mat, &pc->mat_cap, need, sizeof(*pc->mat));
    double *x = pc->mat, *y = x + m * k, *work = y + m;
    double best_r2 = 4.9e-324; /* Java's Double.MIN_VALUE */
    uint32_t best = 0;
    for (uint32_t i = 0; i < n; i++) {
        for (size_t r = 0; r < m; r++) {
            y[r] = s->vms[pc->sel[i]].hist[r];
            size_t c = 0;
            for (uint32_t j = 0; j < n; j++)
                if (j != i)
                    x[r * k + c++] = s->vms[pc->sel[j]].hist[r];
        }
        double r2;
        if (policy_stat_r2(x, y, m, k, work, &r2) < 0)
            return select_mmt(s, host);
        if (r2 > best_r2) {
            best_r2 = r2;
            best = i;
        }
    }
    return (int32_t)pc->sel[best];
}

int32_t policy_vm_select(struct policy_consolidation *pc, const struct sim *s, uint32_t host)
{
    if (pc->vmsel != POLICY_VMSEL_MC)
        return select_mmt(s, host);
    policy_scratch_ensure(pc, s);
    return select_mc(pc, s, host);
}
