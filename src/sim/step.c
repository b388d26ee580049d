/* step: the event loop — scheduling steps, migration starts and completions, energy.
 *
 * Order of operations, as in CloudSim 3.0.3's PowerDatacenter:
 *  - a scheduling step at t (t = 0.1 + 300 k, accumulated in floating point):
 *    every host updates its VMs (demand = trace at t, history sample taken),
 *    re-runs its scheduler and records its state; energy from the last update
 *    to t is added per host from the previous and the new utilization; VMs
 *    whose demand is now exactly zero are dropped ("completed", a CloudSim
 *    quirk kept for fidelity); then the policy plans migrations and each one
 *    starts at once: the destination reserves 10 % of the VM's demand, the
 *    source gives it 90 %, and both hosts update again at t;
 *  - a migration ends after RAM / (destination bandwidth / 2): a full update
 *    at that time (energy up to it), the VM moves, and once the last
 *    migration ending at that time has moved, another update;
 *  - events at or after the limit (86,400 s) never run, so the last step is
 *    at 86,100.1 s.
 */
#include "sim/internal.h"

#include "util/error.h"
#include "util/mem.h"

#include <math.h>
#include <string.h>

/* CloudSim's (t - 0.1) % 300 == 0, with a cheap pre-test (fmod is exact). */
static bool step_time(const struct sim *s, double t)
{
    double q = (t - s->cfg.start_s) / s->cfg.interval_s;
    return fabs(q - nearbyint(q)) < 1e-9 && fmod(t - s->cfg.start_s, s->cfg.interval_s) == 0;
}

/* Cloudlet scheduler + PowerVm.updateVmProcessing: demand now, and a history
 * sample when t is a scheduling step (CloudSim tests (t - 0.1) % 300 == 0). */
static void vm_update(struct sim *s, struct sim_vm *v, double t)
{
    v->sched_t_s = t;
    if (s->pos_t_s != t) {
        sim_trace_pos(s->ts, t, &s->pos);
        s->pos_t_s = t;
    }
    v->util = sim_trace_util_at(s->ts, v->trace, &s->pos);
    if (t > v->hist_t_s && step_time(s, t)) {
        if (t != 0 || v->util != 0) {
            memmove(&v->hist[1], &v->hist[0], (SIM_HISTORY_LEN - 1) * sizeof(v->hist[0]));
            v->hist[0] = v->util;
            if (v->n_hist < SIM_HISTORY_LEN)
                v->n_hist++;
            s->hist_epoch++;
        }
        v->hist_t_s = t;
    }
}

static double clamp_util(double mips, double total)
{
    double u = mips / total;
    return (u > 1 && u < 1.01) ? 1 : u;
}

/* HostDynamicWorkload.updateVmsProcessing. */
static void host_update(struct sim *s, uint32_t hi, double t)
{
    struct sim_host *h = &s->hosts[hi];
    for (uint32_t i = 0; i < h->n_slots; i++)
        vm_update(s, &s->vms[h->slots[i].vm], t);
    h->prev_util_mips = h->util_mips;
    h->prev_power_w = h->power_w;
    sim_host_realloc(s, hi);
    double util = 0, req_total = 0;
    for (uint32_t i = 0; i < h->n_slots; i++) {
        struct sim_vm *v = &s->vms[h->slots[i].vm];
        double req = sim_vm_requested_mips(s, h->slots[i].vm);
        double alloc = h->slots[i].alloc_mips;
        if (!h->slots[i].mig_in) {
            sim_vm_state_add(v, t, alloc, req, v->in_migration);
            if (v->in_migration)
                alloc /= 0.9; /* the source still burns the full share */
        }
        util += alloc;
        req_total += req;
    }
    h->util_mips = util;
    h->power_w = sim_power_w(h->type->power, clamp_util(util, h->total_mips));
    sim_host_state_add(h, t, util, req_total, util > 0);
}

/* Drop the host's VMs whose demand is exactly zero and that are not migrating. */
static void remove_completed(struct sim *s, uint32_t hi)
{
    struct sim_host *h = &s->hosts[hi];
    for (uint32_t i = 0; i < h->n_slots;) {
        uint32_t vm = h->slots[i].vm;
        struct sim_vm *v = &s->vms[vm];
        if (!s->cfg.keep_idle_vms && !v->in_migration && sim_vm_requested_mips(s, vm) == 0) {
            sim_host_vm_remove(s, hi, vm);
            v->removed = true;
            s->removed++;
            continue;
        }
        i++;
    }
}

/* PowerDatacenter.updateCloudetProcessingWithoutSchedulingFutureEventsForce
 * (and the NPA variant, where every host draws its maximum power). */
static void dc_update(struct sim *s, const struct sim_policy *p, double t)
{
    double dt = t - s->last_process_s;
    for (uint32_t i = 0; i < s->n_hosts; i++)
        host_update(s, i, t);
    if (dt > 0) {
        double frame_j = 0; /* summed per frame first, as CloudSim does */
        for (uint32_t i = 0; i < s->n_hosts; i++) {
            struct sim_host *h = &s->hosts[i];
            double e;
            if (p->max_power)
                e = h->type->power->watts[10] * dt;
            else
                /* CloudSim's getEnergyLinearInterpolation (nothing when the
                 * host was off), with powers the updates already computed */
                e = h->prev_util_mips == 0
                        ? 0
                        : (h->prev_power_w + (h->power_w - h->prev_power_w) / 2) * dt;
            h->energy_j += e;
            frame_j += e;
        }
        s->energy_j += frame_j;
    }
    for (uint32_t i = 0; i < s->n_hosts; i++)
        remove_completed(s, i);
    s->last_process_s = t;
}

/* The update CloudSim runs after the last migration ending at t: a full one,
 * but at the same time as the one before, so only the hosts the migrations
 * touched can change (the others would record the same state again). */
static void dirty_update(struct sim *s, double t)
{
    for (uint32_t i = 0; i < s->n_hosts; i++)
        if (s->hosts[i].dirty)
            host_update(s, i, t);
    for (uint32_t i = 0; i < s->n_hosts; i++) {
        if (s->hosts[i].dirty)
            remove_completed(s, i);
        s->hosts[i].dirty = false;
    }
    s->last_process_s = t;
}

/* Count a ping-pong when vm goes back to a host it left within
 * SIM_PINGPONG_S, and remember that it leaves its current host now. */
static void pingpong_note(struct sim *s, struct sim_vm *v, uint32_t dst, double t)
{
    for (int k = 0; k < SIM_LEFT_RING; k++)
        if (v->left_host[k] == (int32_t)dst && t - v->left_s[k] <= SIM_PINGPONG_S) {
            s->pingpongs++;
            break;
        }
    if (v->host < 0)
        return;
    v->left_host[v->left_head] = v->host;
    v->left_s[v->left_head] = t;
    v->left_head = (uint8_t)((v->left_head + 1) % SIM_LEFT_RING);
}

/* Host.addMigratingInVm plus the datacenter's bookkeeping. */
static void migration_start(struct sim *s, uint32_t vm, uint32_t dst, double t)
{
    struct sim_vm *v = &s->vms[vm];
    struct sim_host *d = &s->hosts[dst];
    pingpong_note(s, v, dst, t);
    v->in_migration = true;
    v->mig_dst = (int32_t)dst;
    d->n_mig_in++;
    sim_host_slot_append(s, dst, vm, true);
    host_update(s, dst, t);
    if (v->host >= 0)
        host_update(s, (uint32_t)v->host, t);
    s->migrations++;
    xgrow((void **)&s->inflight, &s->cap_inflight, s->n_inflight + 1, sizeof(*s->inflight));
    /* CloudSim: RAM (MB) / (BW (kbit/s) / (2 * 8000)): half the link, in MB/s. */
    double secs = v->ram_mb / (d->type->bw_kbps / (2 * 8000));
    s->inflight[s->n_inflight++] = (struct sim_inflight){vm, dst, t + secs};
}

/* Datacenter.processVmMigrate: the VM leaves its source and is created anew
 * (appended) on the destination. */
static void migration_finish(struct sim *s, uint32_t vm, uint32_t dst)
{
    struct sim_vm *v = &s->vms[vm];
    s->hosts[dst].dirty = true;
    if (v->host >= 0) {
        s->hosts[v->host].dirty = true;
        sim_host_vm_remove(s, (uint32_t)v->host, vm);
    }
    sim_host_slot_remove(s, dst, vm, true);
    s->hosts[dst].n_mig_in--;
    v->mig_dst = -1;
    v->in_migration = false;
    sim_host_vm_add(s, dst, vm);
}

/* Index of the earliest in-flight migration (first started among equals), or -1. */
static long next_inflight(const struct sim *s)
{
    long best = -1;
    for (size_t i = 0; i < s->n_inflight; i++)
        if (best < 0 || s->inflight[i].end_s < s->inflight[best].end_s)
            best = (long)i;
    return best;
}

static void run_migration_event(struct sim *s, const struct sim_policy *p, long i)
{
    struct sim_inflight m = s->inflight[i];
    memmove(&s->inflight[i], &s->inflight[i + 1],
            (s->n_inflight - (size_t)i - 1) * sizeof(*s->inflight));
    s->n_inflight--;
    s->now_s = m.end_s;
    if (m.end_s > s->last_process_s)
        dc_update(s, p, m.end_s);
    migration_finish(s, m.vm, m.dst);
    long nx = next_inflight(s);
    if (nx < 0 || s->inflight[nx].end_s > m.end_s)
        dirty_update(s, m.end_s);
}

static int run_step(struct sim *s, const struct sim_policy *p, struct sim_step_info *info)
{
    double t = s->next_step_s;
    s->now_s = t;
    dc_update(s, p, t);
    uint64_t before = s->migrations;
    if (p->migrations && p->optimize) {
        s->moves.n = 0;
        if (p->optimize(p->ctx, s, &s->moves) < 0)
            return err_prefix("policy %s at t=%.1f s", p->name, t);
        for (size_t i = 0; i < s->moves.n; i++)
            migration_start(s, s->moves.v[i].vm, s->moves.v[i].dst, t);
    }
    s->steps++;
    s->next_step_s = t + s->cfg.interval_s;
    if (info) {
        memset(info, 0, sizeof(*info));
        info->step = s->steps;
        info->t_s = t;
        info->migrations_started = (uint32_t)(s->migrations - before);
        info->energy_kwh = s->energy_j / 3.6e6;
        for (uint32_t i = 0; i < s->n_hosts; i++) {
            if (s->hosts[i].util_mips > 0)
                info->active_hosts++;
            info->power_w += p->max_power
                                 ? s->hosts[i].type->power->watts[10]
                                 : (s->hosts[i].util_mips > 0 ? sim_host_power_w(s, i) : 0);
        }
    }
    return 0;
}

int sim_place_all(struct sim *s, const struct sim_policy *p)
{
    for (uint32_t i = 0; i < s->n_vms; i++) {
        int32_t h = p->place(p->ctx, s, i);
        if (h < 0)
            return err_set("policy %s: no host can take VM %u (%s, %.0f MIPS, %u MB)", p->name, i,
                           s->ts->traces[s->vms[i].trace].name, s->vms[i].mips, s->vms[i].ram_mb);
        sim_host_vm_add(s, (uint32_t)h, i);
        /* CloudSim clears isBeingInstantiated right after each creation; the
         * VM then asks for its demand, zero until its cloudlet arrives, while
         * the host keeps the full-MIPS reservation (see sched_request). */
        s->vms[i].instantiating = false;
        s->vms[i].util = 0;
    }
    s->placed = true;
    for (uint32_t i = 0; i < s->n_vms; i++)
        s->vms[i].util = sim_trace_util(s->ts, s->vms[i].trace, 0);
    return 0;
}

int sim_advance(struct sim *s, const struct sim_policy *p, struct sim_step_info *info,
                bool *was_step)
{
    if (!s->placed)
        return err_set("simulation not placed yet");
    long mi = next_inflight(s);
    double tm = mi >= 0 ? s->inflight[mi].end_s : INFINITY;
    double next = fmin(tm, s->next_step_s);
    *was_step = false;
    if (!(next < s->cfg.limit_s))
        return 0;
    if (mi >= 0 && tm <= s->next_step_s) {
        run_migration_event(s, p, mi);
        return 1;
    }
    *was_step = true;
    return run_step(s, p, info) < 0 ? -1 : 1;
}

int sim_advance_until(struct sim *s, const struct sim_policy *p, double t_s,
                      void (*step_cb)(void *arg, const struct sim_step_info *info), void *arg)
{
    int n = 0;
    struct sim_step_info info;
    for (;;) {
        long mi = next_inflight(s);
        double next = fmin(mi >= 0 ? s->inflight[mi].end_s : INFINITY, s->next_step_s);
        if (next > t_s)
            return n;
        bool was_step;
        int rc = sim_advance(s, p, &info, &was_step);
        if (rc <= 0)
            return rc < 0 ? -1 : n;
        n++;
        if (was_step && step_cb)
            step_cb(arg, &info);
    }
}

double sim_next_event_s(const struct sim *s)
{
    long mi = next_inflight(s);
    return fmin(mi >= 0 ? s->inflight[mi].end_s : INFINITY, s->next_step_s);
}

double sim_migration_start(struct sim *s, uint32_t vm, uint32_t dst)
{
    if (vm >= s->n_vms || dst >= s->n_hosts)
        return err_set("no such VM or host in the simulation"), -1;
    struct sim_vm *v = &s->vms[vm];
    if (v->removed || v->host < 0)
        return err_set("VM %u is not running", vm), -1;
    if (v->in_migration)
        return err_set("VM %u is already migrating", vm), -1;
    if (v->host == (int32_t)dst)
        return err_set("VM %u already runs on host %u", vm, dst), -1;
    if (!sim_host_suitable(s, dst, vm))
        return err_set("host %u has not enough free CPU for VM %u", dst, vm), -1;
    size_t before = s->n_inflight;
    migration_start(s, vm, dst, s->now_s);
    return s->inflight[before].end_s - s->now_s;
}

int sim_run(struct sim *s, const struct sim_policy *p,
            void (*step_cb)(void *arg, const struct sim_step_info *info), void *arg)
{
    struct sim_step_info info;
    for (;;) {
        bool was_step;
        int rc = sim_advance(s, p, step_cb ? &info : NULL, &was_step);
        if (rc <= 0)
            return rc;
        if (was_step && step_cb)
            step_cb(arg, &info);
    }
}
