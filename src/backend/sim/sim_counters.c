/* sim_counters: the sim:// driver's poll (counters integrated from the traces
 * between polls), growth and modelled migration. */
#include "backend/sim/simb.h"

#include "util/error.h"
#include "util/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Integral of a trace's demand (fraction) over [t0, t1]: exact for the
 * piecewise-linear interpolation (midpoint of each 300 s segment). */
static double demand_integral(const struct sim_traceset *ts, uint32_t tr, double t0, double t1)
{
    double period = (double)ts->n_samples * SIM_TRACE_STEP_S, sum = 0;
    if (t1 - t0 > period) {
        double whole = floor((t1 - t0) / period);
        sum += whole * demand_integral(ts, tr, 0, period);
        t0 += whole * period;
    }
    for (double a = t0; a < t1;) {
        double b = fmin(t1, (floor(a / SIM_TRACE_STEP_S) + 1) * SIM_TRACE_STEP_S);
        sum += sim_trace_util(ts, tr, 0.5 * (a + b)) * (b - a);
        a = b;
    }
    return sum;
}

/* Share of its demand a VM gets from its host's scheduler (contention,
 * migration), as of the host's last update. */
static double vm_share(const struct sim *s, uint32_t vm)
{
    const struct sim_vm *v = &s->vms[vm];
    const struct sim_host *h = &s->hosts[v->host];
    for (uint32_t i = 0; i < h->n_slots; i++) {
        if (h->slots[i].vm != vm || h->slots[i].mig_in)
            continue;
        double req = sim_vm_requested_mips(s, vm);
        return req > 0 ? fmin(1, h->slots[i].alloc_mips / req) : 1;
    }
    return 1;
}

static void integrate(struct simb *sb, double t0, double t1)
{
    struct sim *s = sb->sim;
    if (!(t1 > t0))
        return;
    for (uint32_t i = 0; i < s->n_hosts; i++)
        sb->host_total_ns[i] += (uint64_t)(s->hosts[i].type->pes * (t1 - t0) * 1e9);
    for (uint32_t i = 0; i < s->n_vms; i++) {
        const struct sim_vm *v = &s->vms[i];
        if (v->removed || v->host < 0)
            continue;
        double used_s = demand_integral(&sb->ts, v->trace, t0, t1) * vm_share(s, i);
        double ns = used_s * 1e9 + sb->vm_cpu_frac[i];
        sb->vm_cpu_ns[i] += (uint64_t)ns;
        sb->vm_cpu_frac[i] = ns - floor(ns);
        const struct sim_host *h = &s->hosts[v->host];
        sb->host_busy_ns[v->host] += (uint64_t)(used_s * v->mips / h->type->pe_mips * 1e9);
    }
}

/* Bring the simulation and the counters to the clock's current time. */
static int catch_up(struct backend *b, struct simb *sb)
{
    double target = sb->start_s + (double)(clock_mono_ms(b->clock) - sb->t0_ms) / 1000 * sb->speed;
    struct sim *s = sb->sim;
    while (sb->t_s < target) {
        double next = sim_next_event_s(s), end = fmin(next, target);
        integrate(sb, sb->t_s, end);
        sb->t_s = end;
        if (next > target)
            break;
        if (sim_advance_until(s, sb->policy, next, NULL, NULL) < 0)
            return -1;
    }
    if (s->now_s < sb->t_s)
        s->now_s = sb->t_s;
    return 0;
}

/* Instantaneous host utilization from the VMs' demand now. */
static double host_util_now(const struct simb *sb, uint32_t host)
{
    const struct sim *s = sb->sim;
    const struct sim_host *h = &s->hosts[host];
    double mips = 0;
    for (uint32_t i = 0; i < h->n_slots; i++) {
        const struct sim_vm *v = &s->vms[h->slots[i].vm];
        if (h->slots[i].mig_in)
            continue;
        double d = sim_trace_util(&sb->ts, v->trace, sb->t_s) * v->mips;
        mips += fmin(d, h->type->pe_mips) * vm_share(s, h->slots[i].vm);
    }
    return fmin(1, mips / h->total_mips);
}

static void fill_host(const struct simb *sb, uint32_t i, int64_t t_ms, struct host *out)
{
    const struct sim *s = sb->sim;
    const struct sim_host *h = &s->hosts[i];
    snprintf(out->name, sizeof(out->name), "host-%03u", i);
    out->cpus = h->type->pes;
    out->cpu_mips = h->type->pe_mips;
    out->mem_kib = (uint64_t)h->type->ram_mb * 1024;
    out->net_bytes_per_s = h->type->bw_kbps * 1000 / 8;
    out->up = true;
    uint64_t used = 0;
    for (uint32_t k = 0; k < h->n_slots; k++)
        used += s->vms[h->slots[k].vm].user_mem_kib;
    out->counters.t_ms = t_ms;
    out->counters.cpu_busy_ns = sb->host_busy_ns[i];
    out->counters.cpu_total_ns = sb->host_total_ns[i];
    out->counters.mem_total_kib = out->mem_kib;
    out->counters.mem_free_kib = used < out->mem_kib ? out->mem_kib - used : 0;
    double u = h->n_slots ? host_util_now(sb, i) : 0;
    out->counters.power_w = h->n_slots ? sim_power_w(h->type->power, u) : 0;
}

static void fill_vm(const struct simb *sb, uint32_t i, int64_t t_ms, struct vm *out)
{
    const struct sim_vm *v = &sb->sim->vms[i];
    snprintf(out->name, sizeof(out->name), "vm-%04u", i);
    snprintf(out->uuid, sizeof(out->uuid), "5e1a0000-0000-4000-8000-%012x", i);
    snprintf(out->host, sizeof(out->host), "host-%03d", v->host);
    out->state = v->in_migration ? VM_STATE_MIGRATING : VM_STATE_RUNNING;
    out->vcpus = v->user_vcpus;
    out->max_vcpus = SIM_BACKEND_MAX_VCPUS;
    out->mem_kib = v->user_mem_kib;
    out->max_mem_kib = (uint64_t)v->ram_mb * 1024 * 2;
    out->vcpu_mips = v->mips;
    out->disks = 1;
    out->counters.t_ms = t_ms;
    out->counters.cpu_time_ns = sb->vm_cpu_ns[i];
    out->counters.mem_actual_kib = v->user_mem_kib;
    out->counters.dirty_rate_mib_s = -1;
}

int simb_poll(struct backend *b, struct inventory *inv)
{
    struct simb *sb = b->priv;
    pthread_mutex_lock(&sb->lock);
    int rc = catch_up(b, sb);
    int64_t t_ms = clock_now_ms(b->clock);
    for (uint32_t i = 0; rc == 0 && i < sb->sim->n_hosts; i++)
        fill_host(sb, i, t_ms, inventory_add_host(inv));
    for (uint32_t i = 0; rc == 0 && i < sb->sim->n_vms; i++) {
        const struct sim_vm *v = &sb->sim->vms[i];
        if (!v->removed && v->host >= 0)
            fill_vm(sb, i, t_ms, inventory_add_vm(inv));
    }
    pthread_mutex_unlock(&sb->lock);
    return rc;
}

/* "vm-0042" -> 42, or -1 (err_set). */
static long vm_index(const struct simb *sb, const char *name)
{
    char *end;
    if (strncmp(name, "vm-", 3) != 0 || name[3] < '0' || name[3] > '9')
        return err_set("sim: no VM named '%s'", name), -1;
    unsigned long i = strtoul(name + 3, &end, 10);
    if (*end || i >= sb->sim->n_vms || sb->sim->vms[i].removed)
        return err_set("sim: no VM named '%s'", name), -1;
    return (long)i;
}

static long host_index(const struct simb *sb, const char *name)
{
    char *end;
    if (strncmp(name, "host-", 5) != 0 || name[5] < '0' || name[5] > '9')
        return err_set("sim: no host named '%s'", name), -1;
    unsigned long i = strtoul(name + 5, &end, 10);
    if (*end || i >= sb->sim->n_hosts)
        return err_set("sim: no host named '%s'", name), -1;
    return (long)i;
}

int simb_set_vcpus(struct backend *b, const char *vm, unsigned vcpus)
{
    struct simb *sb = b->priv;
    pthread_mutex_lock(&sb->lock);
    long i = vm_index(sb, vm);
    int rc = i < 0 ? -1 : 0;
    if (rc == 0 && (vcpus < 1 || vcpus > SIM_BACKEND_MAX_VCPUS))
        rc = err_set("sim: %s: %u vCPUs is outside 1..%u", vm, vcpus, SIM_BACKEND_MAX_VCPUS);
    if (rc == 0)
        sb->sim->vms[i].user_vcpus = vcpus;
    pthread_mutex_unlock(&sb->lock);
    return rc;
}

int simb_set_memory(struct backend *b, const char *vm, uint64_t mem_kib)
{
    struct simb *sb = b->priv;
    pthread_mutex_lock(&sb->lock);
    long i = vm_index(sb, vm);
    int rc = i < 0 ? -1 : 0;
    uint64_t max = rc == 0 ? (uint64_t)sb->sim->vms[i].ram_mb * 1024 * 2 : 0;
    if (rc == 0 && (mem_kib < 1024 || mem_kib > max))
        rc = err_set("sim: %s: memory %llu KiB is outside 1024..%llu KiB", vm,
                     (unsigned long long)mem_kib, (unsigned long long)max);
    if (rc == 0)
        sb->sim->vms[i].user_mem_kib = mem_kib;
    pthread_mutex_unlock(&sb->lock);
    return rc;
}

static double start_migration(struct backend *b, struct simb *sb, const char *vm, const char *dst,
                              uint64_t *bytes)
{
    long i = vm_index(sb, vm), h = i < 0 ? -1 : host_index(sb, dst);
    if (i < 0 || h < 0 || catch_up(b, sb) < 0)
        return -1;
    *bytes = (uint64_t)sb->sim->vms[i].user_mem_kib * 1024;
    double secs = sim_migration_start(sb->sim, (uint32_t)i, (uint32_t)h);
    if (secs < 0)
        err_prefix("sim: migrate %s to %s", vm, dst);
    return secs;
}

int simb_migrate(struct backend *b, const char *vm, const char *dst_host,
                 const struct migrate_params *p, struct migrate_progress *result)
{
    (void)p;
    struct simb *sb = b->priv;
    uint64_t bytes = 0;
    pthread_mutex_lock(&sb->lock);
    double secs = start_migration(b, sb, vm, dst_host, &bytes);
    pthread_mutex_unlock(&sb->lock);
    memset(result, 0, sizeof(*result));
    if (secs < 0) {
        result->state = MIGRATE_JOB_FAILED;
        return -1;
    }
    int64_t real_ms = (int64_t)(secs * 1000 / sb->speed);
    /* With a real clock, block for the modelled duration, as a live
     * migration would; a virtual clock only moves when its owner says so. */
    if (!clock_is_virtual(b->clock)) {
        struct timespec ts = {real_ms / 1000, (long)(real_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    result->state = MIGRATE_JOB_COMPLETED;
    result->elapsed_ms = real_ms;
    result->downtime_ms = 0;
    result->data_total_bytes = result->data_processed_bytes = bytes;
    result->iterations = 1;
    return 0;
}

int simb_migrate_progress(struct backend *b, const char *vm, struct migrate_progress *out)
{
    struct simb *sb = b->priv;
    pthread_mutex_lock(&sb->lock);
    long i = vm_index(sb, vm);
    memset(out, 0, sizeof(*out));
    if (i >= 0) {
        out->state = sb->sim->vms[i].in_migration ? MIGRATE_JOB_RUNNING : MIGRATE_JOB_NONE;
        out->downtime_ms = -1;
    }
    pthread_mutex_unlock(&sb->lock);
    return i < 0 ? -1 : 0;
}
