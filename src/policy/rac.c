/* rac: resource allocation controller — grow in place or pick a migration target (see rac.h). */
#include "policy/rac.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/strmap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Write a decision's reason; a reason longer than the field is cut, which is
 * fine for a human-readable line. */
__attribute__((format(printf, 2, 3))) static void reason_set(struct rac_decision *d,
                                                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
    va_end(ap);
}

static const char *const mode_names[] = {"manual", "semi", "auto"};
static const char *const action_names[] = {"none", "add-vcpu", "grow-memory", "attach-disk",
                                           "migrate"};

const char *rac_mode_str(enum rac_mode m)
{
    return (unsigned)m < ARRAY_LEN(mode_names) ? mode_names[m] : "?";
}

int rac_mode_parse(const char *s, enum rac_mode *out)
{
    for (size_t i = 0; i < ARRAY_LEN(mode_names); i++) {
        if (strcmp(s, mode_names[i]) == 0) {
            *out = (enum rac_mode)i;
            return 0;
        }
    }
    if (strcmp(s, "semi-automatic") == 0 || strcmp(s, "automatic") == 0) {
        *out = s[0] == 's' ? RAC_MODE_SEMI : RAC_MODE_AUTO;
        return 0;
    }
    return err_set("mode '%s' must be manual, semi or auto", s);
}

const char *rac_action_str(enum rac_action a)
{
    return (unsigned)a < ARRAY_LEN(action_names) ? action_names[a] : "?";
}

void rac_marks_default(struct rac_marks *m)
{
    m->cpu_high_pct = 80;
    m->mem_free_medium_pct = 25;
    m->disk_low_pct = 30;
    m->mem_step_pct = 25;
    m->disk_size_bytes = 10ULL << 30;
    m->migrate_cpu_limit_pct = 80;
}

enum load_class rac_classify(const struct vm *vm, const struct vm_rates *r)
{
    (void)vm;
    if (!r)
        return LOAD_CLASS_IDLE;
    /* Order matters: a VM that is both CPU- and I/O-busy is treated as CPU-bound,
     * because an extra vCPU is the cheapest remedy to try first. */
    if (r->cpu_pct >= 70)
        return LOAD_CLASS_CPU;
    if (r->mem_used_pct >= 85)
        return LOAD_CLASS_MEMORY;
    if (r->disk_iops >= 200 || r->disk_rd_bytes_per_s + r->disk_wr_bytes_per_s >= 20e6)
        return LOAD_CLASS_IO;
    return LOAD_CLASS_IDLE;
}

/* Projected state of a host as grants are handed out in this round. */
struct budget {
    const struct host *host;
    double cpu_pct;
    double mem_free_kib;
    double disk_util_pct;
    unsigned disks_granted;
    char granted_to[MODEL_NAME_MAX]; /* last VM that took headroom here this round */
    int granted_priority;
};

struct round {
    const struct inventory *inv;
    const struct rac_rates_view *rates;
    const struct rac_marks *marks;
    struct strmap budgets; /* host name -> struct budget * */
};

static struct budget *budget_of(struct round *rd, const char *host_name)
{
    struct budget *b = strmap_get(&rd->budgets, host_name);
    if (b)
        return b;
    const struct host *h = inventory_find_host(rd->inv, host_name);
    const struct host_rates *hr = rd->rates->host(rd->rates->ctx, host_name);
    if (!h || !hr)
        return NULL;
    b = xcalloc(1, sizeof(*b));
    b->host = h;
    b->cpu_pct = hr->cpu_pct;
    b->mem_free_kib = (double)hr->mem_free_kib;
    b->disk_util_pct = hr->disk_util_pct;
    strmap_put(&rd->budgets, host_name, b);
    return b;
}

static double mem_free_pct(const struct budget *b)
{
    uint64_t total = b->host->mem_kib ? b->host->mem_kib : b->host->counters.mem_total_kib;
    return total ? 100.0 * b->mem_free_kib / (double)total : 0;
}

/* A VM's CPU demand in % of a host with `cpus` CPUs, assuming it keeps its vCPUs busy. */
static double cpu_demand_pct(const struct vm *vm, const struct vm_rates *r, unsigned cpus)
{
    double busy = r ? r->cpu_pct : 100;
    return cpus ? busy * vm->vcpus / cpus : 100;
}

/* Best fit: the feasible host left with the least CPU headroom after the move. */
static struct budget *pick_target(struct round *rd, const struct vm *vm, const struct vm_rates *r,
                                  char *why, size_t why_size)
{
    struct budget *best = NULL;
    double best_after = -1;
    size_t n_feasible = 0;
    for (size_t i = 0; i < rd->inv->n_hosts; i++) {
        const struct host *h = &rd->inv->hosts[i];
        if (!h->up || h->maintenance || strcmp(h->name, vm->host) == 0)
            continue;
        struct budget *b = budget_of(rd, h->name);
        if (!b)
            continue;
        double after = b->cpu_pct + cpu_demand_pct(vm, r, h->cpus);
        uint64_t total = h->mem_kib ? h->mem_kib : h->counters.mem_total_kib;
        double free_after_pct =
            total ? 100.0 * (b->mem_free_kib - (double)vm->mem_kib) / (double)total : -1;
        if (after >= rd->marks->migrate_cpu_limit_pct ||
            free_after_pct < rd->marks->mem_free_medium_pct)
            continue;
        n_feasible++;
        if (after > best_after || (after == best_after && strcmp(h->name, best->host->name) < 0)) {
            best = b;
            best_after = after;
        }
    }
    if (!best)
        snprintf(why, why_size,
                 "no host can take it (CPU below %.0f%% and free memory above "
                 "%.0f%% after the move)",
                 rd->marks->migrate_cpu_limit_pct, rd->marks->mem_free_medium_pct);
    else
        snprintf(why, why_size, "best fit of %zu feasible hosts (CPU %.0f%% after the move)",
                 n_feasible, best_after);
    return best;
}

static void decide_migrate(struct round *rd, const struct vm *vm, const struct vm_rates *r,
                           const struct rac_request *q, const char *why_not_here,
                           struct rac_decision *d)
{
    if (q->limits.never_move) {
        reason_set(d, "%s; VM is marked never-move", why_not_here);
        return;
    }
    char why[160];
    struct budget *dst = pick_target(rd, vm, r, why, sizeof(why));
    if (!dst) {
        reason_set(d, "%s; %s", why_not_here, why);
        return;
    }
    d->action = RAC_ACTION_MIGRATE;
    snprintf(d->dst_host, sizeof(d->dst_host), "%s", dst->host->name);
    reason_set(d, "%s; migrate to %s: %s", why_not_here, dst->host->name, why);
    dst->cpu_pct += cpu_demand_pct(vm, r, dst->host->cpus);
    dst->mem_free_kib -= (double)vm->mem_kib;
    struct budget *src = budget_of(rd, vm->host);
    if (src) {
        src->cpu_pct -= cpu_demand_pct(vm, r, src->host->cpus);
        src->mem_free_kib += (double)vm->mem_kib;
    }
}

/* "host h1 CPU 85% >= High 80%", or, when only this round's grants pushed it
 * over, who took the headroom. */
static void no_room(const struct budget *b, const char *what, double value, const char *cmp,
                    double mark, char *out, size_t out_size)
{
    if (b->granted_to[0])
        snprintf(out, out_size,
                 "host %s %s headroom went to higher-priority VM %s (priority %d); "
                 "projected %s %.0f%% %s %.0f%%",
                 b->host->name, what, b->granted_to, b->granted_priority, what, value, cmp, mark);
    else
        snprintf(out, out_size, "host %s %s %.0f%% %s %.0f%%", b->host->name, what, value, cmp,
                 mark);
}

static void grant(struct budget *b, const struct rac_decision *d)
{
    snprintf(b->granted_to, sizeof(b->granted_to), "%s", d->vm);
    b->granted_priority = d->priority;
}

static void decide_cpu(struct round *rd, const struct vm *vm, const struct vm_rates *r,
                       const struct rac_request *q, struct budget *b, struct rac_decision *d)
{
    unsigned limit = vm->max_vcpus;
    if (q->limits.max_vcpus && q->limits.max_vcpus < limit)
        limit = q->limits.max_vcpus;
    char why[200];
    if (b->cpu_pct >= rd->marks->cpu_high_pct) {
        no_room(b, "CPU", b->cpu_pct, ">=", rd->marks->cpu_high_pct, why, sizeof(why));
        decide_migrate(rd, vm, r, q, why, d);
        return;
    }
    if (vm->vcpus >= limit) {
        reason_set(d, "CPU-bound but already at its limit of %u vCPUs", limit);
        return;
    }
    d->action = RAC_ACTION_ADD_VCPU;
    d->new_vcpus = vm->vcpus + 1;
    reason_set(d, "host %s CPU %.0f%% < High %.0f%%: vCPUs %u -> %u", b->host->name, b->cpu_pct,
               rd->marks->cpu_high_pct, vm->vcpus, d->new_vcpus);
    b->cpu_pct += b->host->cpus ? 100.0 / b->host->cpus : 100;
    grant(b, d);
}

static void decide_memory(struct round *rd, const struct vm *vm, const struct vm_rates *r,
                          const struct rac_request *q, struct budget *b, struct rac_decision *d)
{
    uint64_t limit = vm->max_mem_kib;
    if (q->limits.max_mem_kib && q->limits.max_mem_kib < limit)
        limit = q->limits.max_mem_kib;
    char why[200];
    double free_pct = mem_free_pct(b);
    if (free_pct <= rd->marks->mem_free_medium_pct) {
        no_room(b, "free memory", free_pct, "<=", rd->marks->mem_free_medium_pct, why, sizeof(why));
        decide_migrate(rd, vm, r, q, why, d);
        return;
    }
    if (vm->mem_kib >= limit) {
        reason_set(d, "memory-bound but already at its limit of %llu MiB",
                   (unsigned long long)(limit / 1024));
        return;
    }
    uint64_t step = (uint64_t)((double)vm->mem_kib * rd->marks->mem_step_pct / 100.0);
    uint64_t grow = vm->mem_kib + (step ? step : 1024);
    if (grow > limit)
        grow = limit;
    /* Never grow past the Medium mark of the host's free memory. */
    uint64_t total = b->host->mem_kib ? b->host->mem_kib : b->host->counters.mem_total_kib;
    double keep_kib = (double)total * rd->marks->mem_free_medium_pct / 100.0;
    if (b->mem_free_kib - (double)(grow - vm->mem_kib) < keep_kib)
        grow = vm->mem_kib + (uint64_t)(b->mem_free_kib - keep_kib);
    d->action = RAC_ACTION_GROW_MEMORY;
    d->new_mem_kib = grow;
    reason_set(d, "host %s free memory %.0f%% > Medium %.0f%%: memory %llu -> %llu MiB",
               b->host->name, free_pct, rd->marks->mem_free_medium_pct,
               (unsigned long long)(vm->mem_kib / 1024), (unsigned long long)(grow / 1024));
    b->mem_free_kib -= (double)(grow - vm->mem_kib);
    grant(b, d);
}

static void decide_io(struct round *rd, const struct vm *vm, const struct vm_rates *r,
                      const struct rac_request *q, struct budget *b, struct rac_decision *d)
{
    char why[200];
    if (b->disk_util_pct < 0) {
        snprintf(why, sizeof(why), "host %s disk use unknown", b->host->name);
        decide_migrate(rd, vm, r, q, why, d);
        return;
    }
    /* One new disk per host per round: its I/O lands on the same host storage. */
    if (b->disk_util_pct >= rd->marks->disk_low_pct || b->disks_granted > 0) {
        no_room(b, "disk", b->disk_util_pct, ">=", rd->marks->disk_low_pct, why, sizeof(why));
        decide_migrate(rd, vm, r, q, why, d);
        return;
    }
    d->action = RAC_ACTION_ATTACH_DISK;
    d->disk_bytes = rd->marks->disk_size_bytes;
    reason_set(d, "host %s disk %.0f%% < Low %.0f%%: attach a %llu GiB disk", b->host->name,
               b->disk_util_pct, rd->marks->disk_low_pct,
               (unsigned long long)(d->disk_bytes >> 30));
    b->disks_granted++;
    grant(b, d);
}

static int by_priority(const void *a, const void *b)
{
    const struct rac_request *x = *(const struct rac_request *const *)a;
    const struct rac_request *y = *(const struct rac_request *const *)b;
    if (x->limits.priority != y->limits.priority)
        return x->limits.priority > y->limits.priority ? -1 : 1;
    return strcmp(x->vm, y->vm);
}

static void decide_one(struct round *rd, const struct rac_request *q, enum rac_mode global_mode,
                       struct rac_decision *d)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->vm, sizeof(d->vm), "%s", q->vm);
    d->priority = q->limits.priority;
    d->mode = q->limits.has_mode ? q->limits.mode : global_mode;
    const struct vm *vm = inventory_find_vm(rd->inv, q->vm);
    if (!vm) {
        reason_set(d, "VM %s is not in the inventory", q->vm);
        return;
    }
    snprintf(d->host, sizeof(d->host), "%s", vm->host);
    const struct vm_rates *r = rd->rates->vm(rd->rates->ctx, vm->name);
    d->load = q->load != LOAD_CLASS_IDLE ? q->load : rac_classify(vm, r);
    struct budget *b = budget_of(rd, vm->host);
    if (!b) {
        reason_set(d, "no rates for host %s yet", vm->host);
        return;
    }
    switch (d->load) {
    case LOAD_CLASS_CPU:
        decide_cpu(rd, vm, r, q, b, d);
        break;
    case LOAD_CLASS_MEMORY:
        decide_memory(rd, vm, r, q, b, d);
        break;
    case LOAD_CLASS_IO:
        decide_io(rd, vm, r, q, b, d);
        break;
    case LOAD_CLASS_IDLE:
        reason_set(d, "load is not CPU-, memory- or I/O-intensive");
        break;
    }
}

void rac_decide(const struct rac_request *req, size_t n_req, const struct inventory *inv,
                const struct rac_rates_view *rates, const struct rac_marks *marks,
                enum rac_mode global_mode, struct rac_decision *out)
{
    struct round rd = {.inv = inv, .rates = rates, .marks = marks};
    strmap_init(&rd.budgets);
    const struct rac_request **order = xcalloc(n_req ? n_req : 1, sizeof(*order));
    for (size_t i = 0; i < n_req; i++)
        order[i] = &req[i];
    qsort(order, n_req, sizeof(*order), by_priority);
    /* Decide in priority order but report in the caller's order. */
    for (size_t i = 0; i < n_req; i++)
        decide_one(&rd, order[i], global_mode, &out[order[i] - req]);
    free(order);
    size_t pos = 0;
    const char *key;
    void *val;
    while (strmap_next(&rd.budgets, &pos, &key, &val))
        free(val);
    strmap_free(&rd.budgets);
}
