/* consolidation: the baseline policies' names, initial placement and the
 * per-step planning round (overload relief, then underload consolidation). */
#include "policy/consolidation.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *const policy_reference_names[] = {
    "npa", "dvfs", "thr-mmt-0.8", "iqr-mmt-1.5", "mad-mmt-2.5", "lr-mmt-1.2", "lr-mc-1.2", NULL,
};

void policy_scratch_ensure(struct policy_consolidation *pc, const struct sim *s)
{
    if (pc->n_hosts_cap < s->n_hosts + 1) {
        size_t n = s->n_hosts + 1;
        pc->excl_place = xrealloc(pc->excl_place, n);
        pc->excl_under = xrealloc(pc->excl_under, n);
        pc->over = xrealloc(pc->over, n);
        pc->saved_off = xrealloc(pc->saved_off, n * sizeof(*pc->saved_off));
        pc->live = xrealloc(pc->live, n * sizeof(*pc->live));
        pc->n_hosts_cap = n;
    }
    if (pc->n_vms_cap < s->n_vms) {
        size_t n = s->n_vms;
        pc->cand = xrealloc(pc->cand, n * sizeof(*pc->cand));
        pc->saved = xrealloc(pc->saved, n * sizeof(*pc->saved));
        pc->sel = xrealloc(pc->sel, n * sizeof(*pc->sel));
        pc->n_vms_cap = n;
    }
}

/* Stable sort by current CPU demand in MIPS, largest first
 * (PowerVmList.sortByCpuUtilization is a stable Collections.sort). */
static void sort_by_demand(const struct sim *s, uint32_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t x = v[i];
        double key = s->vms[x].util * s->vms[x].mips;
        size_t j = i;
        while (j > 0 && s->vms[v[j - 1]].util * s->vms[v[j - 1]].mips < key) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static void moves_push(struct sim_moves *out, uint32_t vm, uint32_t dst)
{
    xgrow((void **)&out->v, &out->cap, out->n + 1, sizeof(*out->v));
    out->v[out->n++] = (struct sim_move){vm, dst};
}

/* Take VMs off each overloaded host until it is not, then place them (PABFD). */
static void relieve_overloads(struct policy_consolidation *pc, struct sim *s, struct sim_moves *out)
{
    size_t nc = 0;
    for (uint32_t h = 0; h < s->n_hosts; h++) {
        if (!pc->over[h])
            continue;
        for (;;) {
            int32_t vm = policy_vm_select(pc, s, h);
            if (vm < 0)
                break;
            pc->cand[nc++] = (uint32_t)vm;
            sim_host_vm_remove(s, h, (uint32_t)vm);
            if (!policy_host_overloaded(pc, s, h))
                break;
        }
    }
    sort_by_demand(s, pc->cand, nc);
    for (size_t i = 0; i < nc; i++) {
        int32_t h = policy_pabfd_find_host(pc, s, pc->cand[i], pc->over, NULL, 0);
        if (h < 0)
            continue;
        sim_host_vm_add(s, (uint32_t)h, pc->cand[i]);
        moves_push(out, pc->cand[i], (uint32_t)h);
    }
}

/* CloudSim's areAllVmsMigratingOutOrAnyVmMigratingIn. */
static bool all_migrating(const struct sim *s, uint32_t h)
{
    const struct sim_host *hh = &s->hosts[h];
    for (uint32_t i = 0; i < hh->n_slots; i++) {
        const struct sim_vm *v = &s->vms[hh->slots[i].vm];
        if (!v->in_migration)
            return false;
        if (hh->slots[i].mig_in)
            return true;
    }
    return true;
}

/* The least utilized (at the last update) powered host not yet excluded. */
static int32_t underloaded_host(const struct policy_consolidation *pc, const struct sim *s)
{
    double min_util = 1;
    int32_t best = -1;
    for (uint32_t h = 0; h < s->n_hosts; h++) {
        if (pc->excl_under[h])
            continue;
        double u = sim_host_util(s, h);
        if (u > 0 && u < min_util && !all_migrating(s, h)) {
            min_util = u;
            best = (int32_t)h;
        }
    }
    return best;
}

/* Place all of vms (n) elsewhere, or none: returns false and undoes on failure. */
static bool place_all_or_none(struct policy_consolidation *pc, struct sim *s, uint32_t *vms,
                              size_t n, struct sim_moves *out)
{
    size_t start = out->n;
    sort_by_demand(s, vms, n);
    for (size_t i = 0; i < n; i++) {
        int32_t h = policy_pabfd_find_host(pc, s, vms[i], pc->excl_place, pc->live, pc->n_live);
        if (h >= 0) {
            sim_host_vm_add(s, (uint32_t)h, vms[i]);
            moves_push(out, vms[i], (uint32_t)h);
            continue;
        }
        for (size_t k = start; k < out->n; k++)
            sim_host_vm_remove(s, out->v[k].dst, out->v[k].vm);
        out->n = start;
        return false;
    }
    return true;
}

/* Empty the least utilized hosts while all their VMs fit elsewhere. As in
 * CloudSim, hosts that just received VMs from overloaded ones are not
 * excluded (its exclusion list is built from an empty map). */
static void consolidate_underloads(struct policy_consolidation *pc, struct sim *s,
                                   struct sim_moves *out)
{
    uint32_t n_excl = 0;
    pc->n_live = 0;
    for (uint32_t h = 0; h < s->n_hosts; h++) {
        bool ex = pc->over[h] || sim_host_util(s, h) == 0;
        pc->excl_under[h] = pc->excl_place[h] = ex;
        n_excl += ex;
        if (!ex)
            pc->live[pc->n_live++] = h; /* placement never needs the others */
    }
    while (n_excl < s->n_hosts) {
        int32_t u = underloaded_host(pc, s);
        if (u < 0)
            break;
        pc->excl_under[u] = pc->excl_place[u] = 1;
        n_excl++;
        const struct sim_host *hh = &s->hosts[u];
        size_t n = 0;
        for (uint32_t i = 0; i < hh->n_slots; i++)
            if (!s->vms[hh->slots[i].vm].in_migration)
                pc->sel[n++] = hh->slots[i].vm;
        if (n == 0)
            continue;
        size_t start = out->n;
        if (!place_all_or_none(pc, s, pc->sel, n, out))
            continue;
        for (size_t k = start; k < out->n; k++) {
            if (!pc->excl_under[out->v[k].dst]) {
                pc->excl_under[out->v[k].dst] = 1;
                n_excl++;
            }
        }
    }
}

static int optimize(void *ctx, struct sim *s, struct sim_moves *out)
{
    struct policy_consolidation *pc = ctx;
    policy_scratch_ensure(pc, s);
    for (uint32_t h = 0; h < s->n_hosts; h++)
        pc->over[h] = policy_host_overloaded(pc, s, h);
    policy_alloc_save(pc, s);
    relieve_overloads(pc, s, out);
    consolidate_underloads(pc, s, out);
    policy_alloc_restore(pc, s);
    return 0;
}

static int32_t place_first_fit(void *ctx, struct sim *s, uint32_t vm)
{
    (void)ctx;
    for (uint32_t h = 0; h < s->n_hosts; h++)
        if (sim_host_suitable(s, h, vm))
            return (int32_t)h;
    return -1;
}

static int32_t place_pabfd(void *ctx, struct sim *s, uint32_t vm)
{
    struct policy_consolidation *pc = ctx;
    policy_scratch_ensure(pc, s);
    return policy_pabfd_find_host(pc, s, vm, NULL, NULL, 0);
}

/* "thr-mmt-0.8" -> parts; returns -1 (err_set) on a malformed name. */
static int parse_migrating(struct policy_consolidation *pc, const char *name)
{
    static const char *const det[] = {"thr", "iqr", "mad", "lr"};
    char buf[48];
    snprintf(buf, sizeof(buf), "%s", name);
    char *d1 = strchr(buf, '-'), *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
    if (!d2)
        return -1;
    *d1 = *d2 = '\0';
    size_t i;
    for (i = 0; i < 4 && strcmp(buf, det[i]) != 0; i++)
        ;
    if (i == 4)
        return -1;
    pc->overload = (enum policy_overload)i;
    if (strcmp(d1 + 1, "mmt") == 0)
        pc->vmsel = POLICY_VMSEL_MMT;
    else if (strcmp(d1 + 1, "mc") == 0)
        pc->vmsel = POLICY_VMSEL_MC;
    else
        return -1;
    return parse_double(d2 + 1, 0, 100, &pc->param);
}

int policy_consolidation_init(struct policy_consolidation *pc, const char *name)
{
    memset(pc, 0, sizeof(*pc));
    size_t len = strlen(name);
    if (len == 0 || len >= sizeof(pc->name))
        return err_set("unknown policy '%s'", name);
    for (size_t i = 0; i <= len; i++)
        pc->name[i] = (char)tolower((unsigned char)name[i]);
    pc->fallback_thr = 0.7;
    if (strcmp(pc->name, "npa") == 0)
        pc->kind = POLICY_KIND_NPA;
    else if (strcmp(pc->name, "dvfs") == 0)
        pc->kind = POLICY_KIND_DVFS;
    else if (parse_migrating(pc, pc->name) == 0)
        pc->kind = POLICY_KIND_MIGRATE;
    else
        return err_set("unknown policy '%s' (known: npa, dvfs, or DETECTOR-SELECTION-PARAM with "
                       "DETECTOR thr|iqr|mad|lr and SELECTION mmt|mc, e.g. lr-mmt-1.2)",
                       name);
    pc->ops.name = pc->name;
    pc->ops.migrations = pc->kind == POLICY_KIND_MIGRATE;
    pc->ops.max_power = pc->kind == POLICY_KIND_NPA;
    pc->ops.place = pc->kind == POLICY_KIND_MIGRATE ? place_pabfd : place_first_fit;
    pc->ops.optimize = pc->kind == POLICY_KIND_MIGRATE ? optimize : NULL;
    pc->ops.ctx = pc;
    return 0;
}

void policy_consolidation_fini(struct policy_consolidation *pc)
{
    if (!pc)
        return;
    free(pc->excl_place);
    free(pc->excl_under);
    free(pc->over);
    free(pc->cand);
    free(pc->saved);
    free(pc->saved_off);
    free(pc->live);
    free(pc->sel);
    free(pc->mat);
    memset(pc, 0, sizeof(*pc));
}
