/* aras: the placement and balancing planner as a policy of the simulator. */
#include "policy/policy.h"

#include "util/error.h"
#include "util/mem.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define REF_MIPS    5320.0 /* a G5 host: what "CPU-intensive" is measured against */
#define LIGHT_SHARE 0.1    /* a VM using less on average is light */

/* Size the planner's view for s; new VMs start with no move history. */
static void view_ensure(struct policy_aras *pa, const struct sim *s)
{
    if (pa->n_hosts != s->n_hosts) {
        pa->hosts = xrealloc(pa->hosts, s->n_hosts * sizeof(*pa->hosts));
        memset(pa->hosts, 0, s->n_hosts * sizeof(*pa->hosts));
        pa->n_hosts = s->n_hosts;
    }
    if (pa->n_vms != s->n_vms) {
        pa->vms = xrealloc(pa->vms, s->n_vms * sizeof(*pa->vms));
        memset(pa->vms, 0, s->n_vms * sizeof(*pa->vms));
        for (uint32_t i = 0; i < s->n_vms; i++) {
            pa->vms[i].host = -1;
            pa->vms[i].pin = -1;
            pa->vms[i].left_host = -1;
            pa->vms[i].last_move_ms = PLANNER_NEVER;
        }
        pa->n_vms = s->n_vms;
    }
}

/* Host h as the planner sees it: CPU only while running, CPU, RAM and
 * bandwidth at creation (what sim_host_suitable checks then). */
static void view_host(struct policy_aras *pa, const struct sim *s, uint32_t h, bool creating)
{
    const struct sim_host *sh = &s->hosts[h];
    struct planner_host *ph = &pa->hosts[h];
    memset(ph->cap, 0, sizeof(ph->cap));
    ph->cap[PLANNER_RES_CPU] = sh->total_mips;
    if (creating) {
        ph->cap[PLANNER_RES_MEM] = sh->type->ram_mb;
        ph->cap[PLANNER_RES_NET] = sh->type->bw_kbps;
    }
    ph->core_cap = sh->type->pe_mips;
    /* CloudSim moves a VM over half the destination's bandwidth */
    ph->link_bytes_per_s = sh->type->bw_kbps * 1000 / 8 / 2;
    ph->idle_w = sh->type->power->watts[0];
    ph->max_w = sh->type->power->watts[10];
    ph->migrations = sh->n_mig_in;
}

/* Predicted peak utilisation (fraction of the VM's MIPS) over the next hour. */
static double vm_peak_util(const struct policy_aras *pa, const struct sim_vm *v)
{
    double peak = v->util;
    size_t n = v->n_hist < pa->peak_window ? v->n_hist : pa->peak_window;
    if (n == 0)
        return peak;
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++) {
        sum += v->hist[i];
        sq += v->hist[i] * v->hist[i];
    }
    double mean = sum / (double)n, var = sq / (double)n - mean * mean;
    double p = mean + pa->peak_sigmas * sqrt(var > 0 ? var : 0);
    if (p > peak)
        peak = p;
    if (v->hist[0] > peak)
        peak = v->hist[0];
    return peak > 1 ? 1 : peak;
}

static void view_vm(struct policy_aras *pa, const struct sim *s, uint32_t i)
{
    const struct sim_vm *sv = &s->vms[i];
    struct planner_vm *v = &pa->vms[i];
    memset(v->use, 0, sizeof(v->use));
    memset(v->peak, 0, sizeof(v->peak));
    v->host = sv->removed ? -1 : sv->host;
    v->use[PLANNER_RES_CPU] = sim_vm_requested_mips(s, i);
    v->peak[PLANNER_RES_CPU] = vm_peak_util(pa, sv) * sv->mips;
    if (v->peak[PLANNER_RES_CPU] < v->use[PLANNER_RES_CPU])
        v->peak[PLANNER_RES_CPU] = v->use[PLANNER_RES_CPU];
    v->core_peak = v->peak[PLANNER_RES_CPU]; /* one vCPU */
    double mean = 0;
    for (size_t k = 0; k < sv->n_hist; k++)
        mean += sv->hist[k];
    mean = sv->n_hist ? mean / sv->n_hist * sv->mips : v->use[PLANNER_RES_CPU];
    double use[PLANNER_RES_COUNT] = {mean, 0, 0, 0}, ref[PLANNER_RES_COUNT] = {REF_MIPS, 0, 0, 0};
    v->cls = planner_classify(use, ref, LIGHT_SHARE);
    v->migrating = sv->in_migration;
    v->horizon_s = s->cfg.limit_s - s->now_s;
    v->load.mem_bytes = (uint64_t)sv->ram_mb << 20;
    v->load.data_bytes = v->load.hot_bytes = 0;
    migrate_dirty_forecast_const(0, &v->load.dirty);
}

static int32_t place(void *ctx, struct sim *s, uint32_t vm)
{
    struct policy_aras *pa = ctx;
    view_ensure(pa, s);
    for (uint32_t h = 0; h < s->n_hosts; h++) {
        struct planner_host *ph = &pa->hosts[h];
        view_host(pa, s, h, true);
        const struct sim_host *sh = &s->hosts[h];
        memset(ph->peak, 0, sizeof(ph->peak));
        ph->peak[PLANNER_RES_CPU] = sh->alloc_sum_mips;
        ph->peak[PLANNER_RES_MEM] = sh->ram_used_mb;
        ph->peak[PLANNER_RES_NET] = sh->bw_used;
        ph->n_vms = sh->n_slots;
        memset(ph->n_class, 0, sizeof(ph->n_class));
    }
    struct planner_vm *v = &pa->vms[vm];
    double req = sim_vm_requested_mips(s, vm);
    memset(v->peak, 0, sizeof(v->peak));
    v->peak[PLANNER_RES_CPU] = v->use[PLANNER_RES_CPU] = v->core_peak = req;
    v->peak[PLANNER_RES_MEM] = s->vms[vm].ram_mb;
    v->peak[PLANNER_RES_NET] = SIM_VM_BW_KBPS;
    v->cls = PLANNER_CLASS_LIGHT; /* no history yet */
    v->host = -1;
    /* creation fills hosts up to what the simulator accepts */
    struct planner_config cfg = pa->cfg;
    cfg.trigger_util = 1;
    cfg.margin = 0;
    struct planner_cluster cl = {pa->hosts, s->n_hosts, pa->vms, s->n_vms, NULL, 0, 0};
    int32_t h = planner_place(&cl, &cfg, vm, NULL);
    if (h >= 0 && !sim_host_suitable(s, (uint32_t)h, vm))
        h = -1; /* rounding at the edge: let the simulator report it */
    return h;
}

static int optimize(void *ctx, struct sim *s, struct sim_moves *out)
{
    struct policy_aras *pa = ctx;
    view_ensure(pa, s);
    for (uint32_t h = 0; h < s->n_hosts; h++)
        view_host(pa, s, h, false);
    uint32_t in_flight = 0;
    for (uint32_t i = 0; i < s->n_vms; i++) {
        view_vm(pa, s, i);
        in_flight += s->vms[i].in_migration;
    }
    struct planner_cluster cl = {pa->hosts, s->n_hosts, pa->vms, s->n_vms, NULL, 0, in_flight};
    planner_cluster_update(&cl);
    planner_plan_reset(&pa->plan);
    planner_balance(&cl, &pa->cfg, (int64_t)llround(s->now_s * 1e3), &pa->plan);
    for (size_t k = 0; k < pa->plan.n_moves; k++) {
        xgrow((void **)&out->v, &out->cap, out->n + 1, sizeof(*out->v));
        out->v[out->n++] = (struct sim_move){pa->plan.moves[k].vm, pa->plan.moves[k].dst};
    }
    return 0;
}

int policy_aras_init(struct policy_aras *pa, const char *name)
{
    memset(pa, 0, sizeof(*pa));
    size_t len = strlen(name);
    if (len >= sizeof(pa->name))
        return err_set("unknown policy '%s'", name);
    for (size_t i = 0; i <= len; i++)
        pa->name[i] = (char)tolower((unsigned char)name[i]);
    if (strcmp(pa->name, "aras") != 0)
        return err_set("unknown policy '%s'", name);
    planner_config_default(&pa->cfg);
    pa->cfg.consolidate = true;
    /* the simulator starts every move at once and each ends within 30 s of
     * a 300 s step: a host's moves of one step would run one after the other
     * well within it */
    pa->cfg.max_migrations_host = 8;
    pa->cfg.max_migrations_total = 0;
    pa->cfg.max_moves_per_cycle = 0;
    /* CloudSim's SLA metric counts only time at 100 % CPU: relieve hosts
     * whose predicted peak passes full capacity, down to 85 %, fill
     * destinations to 95 % and empty hosts below 70 % when they can go.
     * One configuration for every trace day (bench/planner.sh). */
    pa->cfg.trigger_util = 1.0;
    pa->cfg.target_util = 0.85;
    pa->cfg.margin = 0.05;
    pa->cfg.low_util = 0.7;
    pa->peak_sigmas = 1.5;
    pa->peak_window = 12;
    pa->ops.name = pa->name;
    pa->ops.migrations = true;
    pa->ops.place = place;
    pa->ops.optimize = optimize;
    pa->ops.ctx = pa;
    return 0;
}

void policy_aras_fini(struct policy_aras *pa)
{
    if (!pa)
        return;
    free(pa->hosts);
    free(pa->vms);
    planner_plan_free(&pa->plan);
    memset(pa, 0, sizeof(*pa));
}
