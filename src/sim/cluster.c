/* cluster: hosts, VMs and the per-host time-shared, over-subscribing VM scheduler. */
#include "sim/internal.h"

#include "util/error.h"
#include "util/mem.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define VM_BW_KBPS SIM_VM_BW_KBPS

const struct sim_host_type sim_host_types_planetlab[2] = {
    {"hp-ml110-g4", 2, 1860, 4096, 1000000, &sim_power_hp_ml110_g4},
    {"hp-ml110-g5", 2, 2660, 4096, 1000000, &sim_power_hp_ml110_g5},
};

const struct sim_host_type sim_host_types_large[1] = {
    {"large-16x2660", 16, 2660, 65536, 10000000, &sim_power_synthetic_large},
};

/* EC2-like types of CloudSim's examples (RAM halved there to allow over-subscription). */
const struct sim_vm_type sim_vm_types_planetlab[4] = {
    {"high-cpu-medium", 2500, 870},
    {"extra-large", 2000, 1740},
    {"small", 1000, 1740},
    {"micro", 500, 613},
};

void sim_config_default(struct sim_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->n_hosts = 800;
    cfg->interval_s = 300;
    cfg->limit_s = 86400;
    cfg->start_s = 0.1;
}

static void acc_reset(struct sim_state_acc *a)
{
    memset(a, 0, sizeof(*a));
    a->t = -1;
}

/* Java's String.hashCode of a VM's uid "<user>-<id>" (CloudSim's broker is
 * entity 2), spread as HashMap.hash() does. */
static uint32_t uid_hash(uint32_t vm)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "0-%u", vm);
    uint32_t hc = 0;
    for (int i = 0; i < n; i++)
        hc = 31 * hc + (uint32_t)(unsigned char)buf[i];
    return hc ^ (hc >> 16);
}

struct sim *sim_new(const struct sim_traceset *ts, const struct sim_config *cfg)
{
    if (cfg->n_hosts == 0 || cfg->n_hosts > 10000000)
        return err_set("simulated hosts must be 1..10000000, not %u", cfg->n_hosts), NULL;
    if (!(cfg->interval_s > 0) || !(cfg->limit_s > 0) || cfg->start_s < 0)
        return err_set("simulation interval and limit must be positive"), NULL;
    if (ts->n == 0)
        return err_set("no traces to simulate"), NULL;
    struct sim *s = xcalloc(1, sizeof(*s));
    s->ts = ts;
    s->cfg = *cfg;
    if (!s->cfg.host_types) {
        s->cfg.host_types = sim_host_types_planetlab;
        s->cfg.n_host_types = 2;
    }
    memcpy(s->vm_types, sim_vm_types_planetlab, sizeof(s->vm_types));
    s->n_hosts = cfg->n_hosts;
    s->hosts = xcalloc(s->n_hosts, sizeof(*s->hosts));
    for (uint32_t i = 0; i < s->n_hosts; i++) {
        struct sim_host *h = &s->hosts[i];
        h->id = i;
        h->type = &s->cfg.host_types[i % s->cfg.n_host_types];
        h->total_mips = h->type->pe_mips * h->type->pes;
        h->avail_mips = h->total_mips;
        h->power_w = sim_power_w(h->type->power, 0);
        acc_reset(&h->acc);
    }
    s->n_vms = cfg->n_vms ? cfg->n_vms : (uint32_t)ts->n;
    s->vms = xcalloc(s->n_vms, sizeof(*s->vms));
    uint32_t per_type = (s->n_vms + 3) / 4; /* CloudSim: i / ceil(n / VM_TYPES) */
    for (uint32_t i = 0; i < s->n_vms; i++) {
        struct sim_vm *v = &s->vms[i];
        v->id = i;
        v->trace = (uint32_t)(i % ts->n);
        v->type = (uint8_t)(i / per_type);
        v->mips = s->vm_types[v->type].mips;
        v->ram_mb = s->vm_types[v->type].ram_mb;
        v->host = -1;
        v->mig_dst = -1;
        v->instantiating = true;
        v->uid_hash = uid_hash(i);
        v->user_vcpus = 1;
        v->user_mem_kib = (uint64_t)v->ram_mb * 1024;
        for (int k = 0; k < SIM_LEFT_RING; k++)
            v->left_host[k] = -1;
        acc_reset(&v->acc);
    }
    s->hist_epoch = 1;
    s->pos_t_s = -1;
    s->probe_host = -1;
    s->next_step_s = cfg->start_s + cfg->interval_s;
    return s;
}

void sim_free(struct sim *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n_hosts; i++) {
        free(s->hosts[i].slots);
        free(s->hosts[i].active_iv);
    }
    free(s->hosts);
    free(s->vms);
    free(s->inflight);
    free(s->moves.v);
    free(s);
}

/* What the scheduler was asked for: until the first update after creation,
 * CloudSim's schedulers keep the full-MIPS request made while the VM was
 * being instantiated, though the VM itself already requests its (then zero)
 * demand — which is what overload checks during initial placement see. */
static double sched_request(const struct sim *s, uint32_t vm)
{
    return s->placed ? sim_vm_requested_mips(s, vm) : s->vms[vm].mips;
}

/* Recompute what the host's scheduler gives each VM, as CloudSim's
 * VmSchedulerTimeSharedOverSubscription does after (de)allocations: requests
 * are capped at one PE; a VM migrating in costs 10 % of its request here; a
 * VM migrating out gets 90 %; when the requests do not fit, every share is
 * scaled to the capacity and rounded down. */
/* CloudSim 3.0.3's getUtilizationOfCpuMips(host), which PABFD reads for
 * every candidate host: the allocated MIPS, counting the whole of a VM
 * migrating in. Kept with the allocation (same terms, same order). */
static void alloc_sum_update(struct sim_host *h)
{
    double mips = 0;
    for (uint32_t i = 0; i < h->n_slots; i++) {
        if (h->slots[i].mig_in)
            mips += h->slots[i].alloc_mips * 0.9 / 0.1;
        mips += h->slots[i].alloc_mips;
    }
    h->alloc_sum_mips = mips;
}

/* The sum CloudSim scales over-subscribed requests by: over its scheduler's
 * HashMap of requests, i.e. bucket by bucket (the table never shrinks: its
 * size follows the most VMs the host ever had), each bucket in insertion
 * order, which is the host's list order. The order moves the last bits, and
 * with them a floor() now and then. */
static double hashmap_order_sum(const struct sim *s, const struct sim_host *h)
{
    uint32_t cap = 16;
    while (h->max_slots > cap * 3 / 4)
        cap *= 2;
    double pe = h->type->pe_mips, sum = 0;
    for (uint32_t b = 0; b < cap; b++) {
        for (uint32_t i = 0; i < h->n_slots; i++) {
            const struct sim_slot *sl = &h->slots[i];
            if ((s->vms[sl->vm].uid_hash & (cap - 1)) != b)
                continue;
            double req = fmin(sched_request(s, sl->vm), pe);
            sum += sl->mig_in ? req * 0.1 : req;
        }
    }
    return sum;
}

static void host_realloc(struct sim *s, struct sim_host *h)
{
    double pe = h->type->pe_mips, avail = h->total_mips;
    bool over = false;
    for (uint32_t i = 0; i < h->n_slots; i++) {
        struct sim_slot *sl = &h->slots[i];
        const struct sim_vm *v = &s->vms[sl->vm];
        double req = fmin(sched_request(s, sl->vm), pe);
        bool in = sl->mig_in;
        bool out = v->in_migration && !in;
        double eff = in ? req * 0.1 : req;
        if (!over && avail >= eff) {
            sl->alloc_mips = out ? req * 0.9 : in ? req * 0.1 : req;
            avail -= eff;
        } else {
            over = true;
        }
    }
    if (!over) {
        h->avail_mips = avail;
        alloc_sum_update(h);
        return;
    }
    double scale = h->total_mips / hashmap_order_sum(s, h);
    for (uint32_t i = 0; i < h->n_slots; i++) {
        struct sim_slot *sl = &h->slots[i];
        const struct sim_vm *v = &s->vms[sl->vm];
        double m = fmin(sched_request(s, sl->vm), pe);
        bool in = sl->mig_in;
        bool out = v->in_migration && !in;
        if (out)
            m = m * scale * 0.9;
        else if (in)
            m = m * 0.1 * scale;
        else
            m = m * scale;
        sl->alloc_mips = floor(m);
    }
    h->avail_mips = 0;
    alloc_sum_update(h);
}

/* Appending a VM adds its terms last, exactly as the full sum would, so a
 * valid history cache stays bit-identical to a recomputation. */
static void hist_cache_append(const struct sim *s, struct sim_host *h, uint32_t vm)
{
    if (h->hist_epoch != s->hist_epoch)
        return;
    const struct sim_vm *v = &s->vms[vm];
    for (size_t i = 0; i < v->n_hist; i++)
        h->hist_cache[i] += v->hist[i] * v->mips / h->total_mips;
}

/* Append vm to h's list and reserve RAM/BW (only while being instantiated:
 * afterwards CloudSim's VMs request none, their utilization models being null). */
void sim_host_slot_append(struct sim *s, uint32_t host, uint32_t vm, bool mig_in)
{
    struct sim_host *h = &s->hosts[host];
    const struct sim_vm *v = &s->vms[vm];
    xgrow((void **)&h->slots, &h->cap_slots, h->n_slots + 1, sizeof(*h->slots));
    struct sim_slot *sl = &h->slots[h->n_slots++];
    if (h->n_slots > h->max_slots)
        h->max_slots = h->n_slots;
    sl->vm = vm;
    sl->alloc_mips = 0;
    sl->mig_in = mig_in;
    sl->ram_mb = v->instantiating ? v->ram_mb : 0;
    sl->bw_kbps = v->instantiating ? VM_BW_KBPS : 0;
    h->ram_used_mb += sl->ram_mb;
    h->bw_used += sl->bw_kbps;
    hist_cache_append(s, h, vm);
    host_realloc(s, h);
}

/* Remove vm's slot from h's list, keeping the order of the others. */
void sim_host_slot_remove(struct sim *s, uint32_t host, uint32_t vm, bool mig_in)
{
    struct sim_host *h = &s->hosts[host];
    for (uint32_t i = 0; i < h->n_slots; i++) {
        if (h->slots[i].vm != vm || h->slots[i].mig_in != mig_in)
            continue;
        h->ram_used_mb -= h->slots[i].ram_mb;
        h->bw_used -= h->slots[i].bw_kbps;
        memmove(&h->slots[i], &h->slots[i + 1], (h->n_slots - i - 1) * sizeof(*h->slots));
        h->n_slots--;
        h->hist_epoch = 0;
        host_realloc(s, h);
        return;
    }
}

/* Re-run the scheduler over the host's list (after demands changed). */
void sim_host_realloc(struct sim *s, uint32_t host)
{
    host_realloc(s, &s->hosts[host]);
}

void sim_host_vm_add(struct sim *s, uint32_t host, uint32_t vm)
{
    sim_host_slot_append(s, host, vm, false);
    s->vms[vm].host = (int32_t)host;
}

void sim_host_vm_add_many(struct sim *s, uint32_t host, const uint32_t *vms, size_t n)
{
    struct sim_host *h = &s->hosts[host];
    xgrow((void **)&h->slots, &h->cap_slots, h->n_slots + n, sizeof(*h->slots));
    for (size_t k = 0; k < n; k++) {
        const struct sim_vm *v = &s->vms[vms[k]];
        struct sim_slot *sl = &h->slots[h->n_slots++];
        if (h->n_slots > h->max_slots)
            h->max_slots = h->n_slots;
        *sl = (struct sim_slot){.vm = vms[k]};
        sl->ram_mb = v->instantiating ? v->ram_mb : 0;
        sl->bw_kbps = v->instantiating ? VM_BW_KBPS : 0;
        h->ram_used_mb += sl->ram_mb;
        h->bw_used += sl->bw_kbps;
        hist_cache_append(s, h, vms[k]);
        s->vms[vms[k]].host = (int32_t)host;
    }
    host_realloc(s, h); /* a set function: once at the end is the same */
}

void sim_host_vm_remove(struct sim *s, uint32_t host, uint32_t vm)
{
    sim_host_slot_remove(s, host, vm, false);
    s->vms[vm].host = -1;
}

double sim_host_util(const struct sim *s, uint32_t host)
{
    const struct sim_host *h = &s->hosts[host];
    double u = h->util_mips / h->total_mips;
    if (u > 1 && u < 1.01)
        u = 1;
    return u;
}

double sim_host_requested_mips(const struct sim *s, uint32_t host)
{
    const struct sim_host *h = &s->hosts[host];
    double sum = 0;
    for (uint32_t i = 0; i < h->n_slots; i++)
        sum += sim_vm_requested_mips(s, h->slots[i].vm);
    return sum;
}

size_t sim_host_history(const struct sim *s, uint32_t host, double *out)
{
    /* The cache is logically const: it only ever holds what the loop gives. */
    struct sim_host *h = (struct sim_host *)&s->hosts[host];
    if (h->n_slots == 0)
        return 0;
    bool probing = s->probe_host == (int32_t)host; /* the probed VM is last */
    uint32_t n_real = h->n_slots - (probing ? 1 : 0);
    if (h->hist_epoch != s->hist_epoch) {
        for (size_t i = 0; i < SIM_HISTORY_LEN; i++)
            h->hist_cache[i] = 0;
        for (uint32_t k = 0; k < n_real; k++) {
            const struct sim_vm *v = &s->vms[h->slots[k].vm];
            for (size_t i = 0; i < v->n_hist; i++)
                h->hist_cache[i] += v->hist[i] * v->mips / h->total_mips;
        }
        h->hist_epoch = s->hist_epoch;
    }
    memcpy(out, h->hist_cache, sizeof(h->hist_cache));
    if (probing) {
        const struct sim_vm *v = &s->vms[h->slots[n_real].vm];
        for (size_t i = 0; i < v->n_hist; i++)
            out[i] += v->hist[i] * v->mips / h->total_mips;
    }
    size_t n = SIM_HISTORY_LEN;
    while (n > 0 && out[n - 1] == 0)
        n--;
    return n;
}

void sim_host_reset(struct sim *s, uint32_t host)
{
    struct sim_host *h = &s->hosts[host];
    uint32_t n = 0;
    for (uint32_t i = 0; i < h->n_slots; i++)
        if (h->slots[i].mig_in)
            h->slots[n++] = h->slots[i];
    h->n_slots = n;
    h->ram_used_mb = 0;
    h->bw_used = 0;
    h->hist_epoch = 0;
    host_realloc(s, h);
}

void sim_host_probe_begin(struct sim *s, uint32_t host, uint32_t vm)
{
    struct sim_host *h = &s->hosts[host];
    xgrow((void **)&h->slots, &h->cap_slots, h->n_slots + 1, sizeof(*h->slots));
    h->slots[h->n_slots++] = (struct sim_slot){.vm = vm};
    if (h->n_slots > h->max_slots)
        h->max_slots = h->n_slots; /* CloudSim's what-if vmCreate fills its map too */
    s->probe_host = (int32_t)host;
    s->vms[vm].host = (int32_t)host;
}

void sim_host_probe_end(struct sim *s, uint32_t host, uint32_t vm)
{
    struct sim_host *h = &s->hosts[host];
    if (h->n_slots > 0 && h->slots[h->n_slots - 1].vm == vm)
        h->n_slots--;
    s->probe_host = -1;
    s->vms[vm].host = -1;
}
