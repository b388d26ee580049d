/* cycle: one balancing cycle — maintenance, overload relief down to the
 * target (hysteresis), then energy-aware consolidation of underloaded hosts. */
#include "planner/internal.h"

#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>

struct host_util {
    double util;
    uint32_t h;
};

static int by_util_desc(const void *a, const void *b)
{
    const struct host_util *x = a, *y = b;
    if (x->util != y->util)
        return x->util < y->util ? 1 : -1;
    return x->h < y->h ? -1 : x->h > y->h;
}

static bool budget_left(const struct planner_config *cfg, const struct planner_plan *plan,
                        size_t start, size_t need)
{
    return !cfg->max_moves_per_cycle || plan->n_moves - start + need <= cfg->max_moves_per_cycle;
}

/* Preference order of the VMs on h to relieve its worst resource res by
 * `need`: VMs big enough alone, cheapest to move (least memory) first, then
 * the others, largest first. Returns how many went into out. */
static size_t relief_order(const struct planner_cluster *cl, uint32_t h, enum planner_res res,
                           double need, uint32_t *out)
{
    size_t n = 0;
    for (uint32_t i = 0; i < cl->n_vms; i++)
        if (cl->vms[i].host == (int32_t)h)
            out[n++] = i;
    /* insertion sort: a host holds tens of VMs */
    for (size_t i = 1; i < n; i++) {
        uint32_t x = out[i];
        const struct planner_vm *vx = &cl->vms[x];
        bool x_big = vx->peak[res] >= need;
        size_t j = i;
        while (j > 0) {
            const struct planner_vm *vy = &cl->vms[out[j - 1]];
            bool y_big = vy->peak[res] >= need;
            bool before = x_big != y_big ? x_big
                          : x_big        ? vx->load.mem_bytes < vy->load.mem_bytes
                                         : vx->peak[res] > vy->peak[res];
            if (!before)
                break;
            out[j] = out[j - 1];
            j--;
        }
        out[j] = x;
    }
    return n;
}

/* Move VMs off overloaded host h until its peak is at most the target. */
static void relieve(struct planner_cluster *cl, const struct planner_config *cfg, uint32_t h,
                    int64_t now_ms, struct planner_plan *plan, size_t start, uint32_t *scratch)
{
    char reason[PLANNER_REASON_MAX], hn[64];
    char *rs = planner_keeping(plan) ? reason : NULL;
    for (;;) {
        enum planner_res res;
        double u = planner_host_util(cl, h, -1, -1, &res);
        if (u <= cfg->target_util || !budget_left(cfg, plan, start, 1))
            return;
        double need = (u - cfg->target_util) * cl->hosts[h].cap[res];
        size_t n = relief_order(cl, h, res, need, scratch);
        bool moved = false;
        for (size_t k = 0; k < n && !moved; k++) {
            uint32_t vm = scratch[k];
            if (!planner_check_vm(cl, cfg, vm, now_ms, PLANNER_MODE_RELIEVE, rs, sizeof(reason))) {
                planner_reject(plan, vm, -1, reason);
                continue;
            }
            struct planner_verdict vd;
            int32_t dst = planner_best_destination(cl, cfg, vm, now_ms, PLANNER_MODE_RELIEVE, NULL,
                                                   false, plan, &vd);
            if (dst >= 0) {
                planner_apply(cl, plan, vm, (uint32_t)dst, &vd, now_ms);
                moved = true;
            }
        }
        if (!moved) {
            planner_why(rs, sizeof(reason), "%s stays at %.0f%% %s: no VM can move",
                        planner_host_name(cl, h, hn, sizeof(hn)), u * 100, planner_res_str(res));
            if (n)
                planner_reject(plan, scratch[0], -1, reason);
            return;
        }
    }
}

/* Empty host u if every VM on it finds an active destination, else nothing. */
static bool consolidate_host(struct planner_cluster *cl, const struct planner_config *cfg,
                             uint32_t u, int64_t now_ms, struct planner_plan *plan, uint8_t *skip,
                             uint8_t *received, uint32_t *scratch)
{
    char reason[PLANNER_REASON_MAX];
    char *rs = planner_keeping(plan) ? reason : NULL;
    size_t n = 0;
    for (uint32_t i = 0; i < cl->n_vms; i++)
        if (cl->vms[i].host == (int32_t)u)
            scratch[n++] = i;
    size_t mark = plan->n_moves;
    skip[u] = 1;
    for (size_t k = 0; k < n; k++) {
        uint32_t vm = scratch[k];
        struct planner_verdict vd;
        int32_t dst = -1;
        if (planner_check_vm(cl, cfg, vm, now_ms, PLANNER_MODE_CONSOLIDATE, rs, sizeof(reason)))
            dst = planner_best_destination(cl, cfg, vm, now_ms, PLANNER_MODE_CONSOLIDATE, skip,
                                           true, plan, &vd);
        else
            planner_reject(plan, vm, -1, reason);
        if (dst < 0) {
            planner_undo(cl, plan, mark);
            skip[u] = 0;
            return false;
        }
        planner_apply(cl, plan, vm, (uint32_t)dst, &vd, now_ms);
        received[dst] = 1;
    }
    return true;
}

static void consolidate(struct planner_cluster *cl, const struct planner_config *cfg,
                        int64_t now_ms, struct planner_plan *plan, size_t start,
                        struct host_util *order, uint8_t *received, uint32_t *scratch)
{
    size_t n = 0;
    for (uint32_t h = 0; h < cl->n_hosts; h++) {
        const struct planner_host *hh = &cl->hosts[h];
        double u = planner_host_util(cl, h, -1, -1, NULL);
        if (hh->n_vms > 0 && !hh->maintenance && !received[h] && u < cfg->low_util)
            order[n++] = (struct host_util){-u, h}; /* ascending utilisation */
    }
    qsort(order, n, sizeof(*order), by_util_desc);
    uint8_t *skip = xcalloc(cl->n_hosts, 1);
    for (size_t k = 0; k < n; k++) {
        uint32_t h = order[k].h;
        if (received[h] || !budget_left(cfg, plan, start, cl->hosts[h].n_vms))
            continue;
        consolidate_host(cl, cfg, h, now_ms, plan, skip, received, scratch);
    }
    free(skip);
}

size_t planner_balance(struct planner_cluster *cl, const struct planner_config *cfg, int64_t now_ms,
                       struct planner_plan *plan)
{
    size_t start = plan->n_moves;
    struct host_util *order = xmalloc((cl->n_hosts + 1) * sizeof(*order));
    uint8_t *received = xcalloc(cl->n_hosts + 1, 1);
    uint32_t *scratch = xmalloc((cl->n_vms + 1) * sizeof(*scratch));
    for (uint32_t h = 0; h < cl->n_hosts; h++)
        if (cl->hosts[h].maintenance && cl->hosts[h].n_vms > 0)
            planner_evacuate(cl, cfg, h, now_ms, plan);
    size_t n = 0;
    for (uint32_t h = 0; h < cl->n_hosts; h++) {
        double u = planner_host_util(cl, h, -1, -1, NULL);
        if (!cl->hosts[h].maintenance && u > cfg->trigger_util)
            order[n++] = (struct host_util){u, h};
    }
    qsort(order, n, sizeof(*order), by_util_desc);
    for (size_t k = 0; k < n; k++)
        relieve(cl, cfg, order[k].h, now_ms, plan, start, scratch);
    for (size_t k = start; k < plan->n_moves; k++)
        received[plan->moves[k].dst] = 1;
    if (cfg->consolidate)
        consolidate(cl, cfg, now_ms, plan, start, order, received, scratch);
    free(order);
    free(received);
    free(scratch);
    return plan->n_moves - start;
}
