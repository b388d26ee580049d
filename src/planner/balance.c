/* balance: placement, the balancing cycle (maintenance evacuation, overload
 * relief with hysteresis, energy-aware consolidation) and its limits. */
#include "planner/internal.h"

#include "util/mem.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_BEST 4 /* destinations that get the full (costly) check, best first */

void planner_plan_reset(struct planner_plan *p)
{
    p->n_moves = p->n_rejects = 0;
    p->n_rejected = 0;
}

void planner_plan_free(struct planner_plan *p)
{
    if (!p)
        return;
    free(p->moves);
    free(p->rejects);
    p->moves = NULL;
    p->rejects = NULL;
    p->n_moves = p->cap_moves = p->n_rejects = p->cap_rejects = 0;
}

size_t planner_plan_why_not(const struct planner_plan *p, uint32_t vm,
                            const struct planner_reject **out, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n_rejects && k < n; i++)
        if (p->rejects[i].vm == vm)
            out[k++] = &p->rejects[i];
    return k;
}

bool planner_keeping(const struct planner_plan *p)
{
    return p && p->keep_rejects;
}

void planner_reject(struct planner_plan *p, uint32_t vm, int32_t dst, const char *reason)
{
    if (!p)
        return;
    p->n_rejected++;
    size_t max = p->max_rejects ? p->max_rejects : 4096;
    if (!p->keep_rejects || p->n_rejects >= max)
        return;
    xgrow((void **)&p->rejects, &p->cap_rejects, p->n_rejects + 1, sizeof(*p->rejects));
    struct planner_reject *r = &p->rejects[p->n_rejects++];
    r->vm = vm;
    r->dst = dst;
    snprintf(r->reason, sizeof(r->reason), "%s", reason);
}

/* Placement key of host h for vm (lower is better). */
static double place_key(const struct planner_cluster *cl, const struct planner_config *cfg,
                        uint32_t vm, uint32_t h)
{
    const struct planner_host *hh = &cl->hosts[h];
    double dcost =
        planner_host_cost(cl, cfg, h, (int32_t)vm, -1) - planner_host_cost(cl, cfg, h, -1, -1);
    if (!cfg->consolidate)
        /* spread: least cost added, then the least loaded */
        return dcost * 1e3 + planner_host_util(cl, h, (int32_t)vm, -1, NULL);
    /* pack: the least power added (a host switched on costs its idle power),
     * best fit among equals, the host cost weighed as a fraction of power */
    double idle = hh->max_w > 0 ? hh->idle_w : 0.7, max = hh->max_w > 0 ? hh->max_w : 1;
    double cpu = hh->cap[PLANNER_RES_CPU] > 0
                     ? cl->vms[vm].peak[PLANNER_RES_CPU] / hh->cap[PLANNER_RES_CPU]
                     : 0;
    double power = (hh->n_vms == 0 ? idle : 0) + (max - idle) * cpu;
    double fill = planner_host_util(cl, h, (int32_t)vm, -1, NULL);
    return power / max + dcost + 1e-3 * (1 - fill);
}

int32_t planner_best_destination(const struct planner_cluster *cl, const struct planner_config *cfg,
                                 uint32_t vm, int64_t now_ms, enum planner_move_mode mode,
                                 const uint8_t *skip, bool only_active, struct planner_plan *plan,
                                 struct planner_verdict *v)
{
    uint32_t best[N_BEST];
    double key[N_BEST];
    size_t nb = 0;
    char reason[PLANNER_REASON_MAX];
    char *rs = planner_keeping(plan) ? reason : NULL;
    for (uint32_t h = 0; h < cl->n_hosts; h++) {
        if ((skip && skip[h]) || cl->vms[vm].host == (int32_t)h ||
            (only_active && cl->hosts[h].n_vms == 0))
            continue;
        if (!planner_check_dst(cl, cfg, vm, h, now_ms, mode, rs, sizeof(reason))) {
            planner_reject(plan, vm, (int32_t)h, reason);
            continue;
        }
        double k = place_key(cl, cfg, vm, h);
        size_t i = nb < N_BEST ? nb++ : N_BEST;
        if (i == N_BEST && k >= key[N_BEST - 1])
            continue;
        if (i == N_BEST)
            i = N_BEST - 1;
        for (; i > 0 && key[i - 1] > k; i--) {
            key[i] = key[i - 1];
            best[i] = best[i - 1];
        }
        key[i] = k;
        best[i] = h;
    }
    for (size_t i = 0; i < nb; i++) {
        if (planner_check_gain(cl, cfg, vm, best[i], mode, v, planner_keeping(plan)))
            return (int32_t)best[i];
        planner_reject(plan, vm, (int32_t)best[i], v->reason);
    }
    return -1;
}

int32_t planner_place(const struct planner_cluster *cl, const struct planner_config *cfg,
                      uint32_t vm, struct planner_plan *plan)
{
    int32_t best = -1;
    double best_key = DBL_MAX;
    char reason[PLANNER_REASON_MAX];
    char *rs = planner_keeping(plan) ? reason : NULL;
    const struct planner_vm *v = &cl->vms[vm];
    for (uint32_t h = 0; h < cl->n_hosts; h++) {
        if (v->pin >= 0 && v->pin != (int32_t)h) {
            planner_why(rs, sizeof(reason), "pinned elsewhere");
            planner_reject(plan, vm, (int32_t)h, reason);
            continue;
        }
        if (!planner_fits(cl, cfg, vm, h, rs, sizeof(reason))) {
            planner_reject(plan, vm, (int32_t)h, reason);
            continue;
        }
        double k = place_key(cl, cfg, vm, h);
        if (k < best_key) {
            best_key = k;
            best = (int32_t)h;
        }
    }
    return best;
}

/* Add (sign 1) or remove (sign -1) vm's load on host h. */
static void host_account(struct planner_cluster *cl, uint32_t h, uint32_t vm, int sign)
{
    struct planner_host *hh = &cl->hosts[h];
    const struct planner_vm *v = &cl->vms[vm];
    for (int r = 0; r < PLANNER_RES_COUNT; r++) {
        hh->used[r] += sign * v->use[r];
        hh->peak[r] += sign * v->peak[r];
    }
    hh->n_vms += (uint32_t)sign;
    hh->n_class[v->cls] += (uint32_t)sign;
}

void planner_apply(struct planner_cluster *cl, struct planner_plan *plan, uint32_t vm, uint32_t dst,
                   const struct planner_verdict *vd, int64_t now_ms)
{
    struct planner_vm *v = &cl->vms[vm];
    uint32_t src = (uint32_t)v->host;
    xgrow((void **)&plan->moves, &plan->cap_moves, plan->n_moves + 1, sizeof(*plan->moves));
    plan->moves[plan->n_moves++] = (struct planner_move){
        vm, src, dst, vd->gain, vd->cost_s, v->left_host, v->last_move_ms,
    };
    host_account(cl, src, vm, -1);
    v->host = (int32_t)dst;
    host_account(cl, dst, vm, 1);
    v->left_host = (int32_t)src;
    v->last_move_ms = now_ms;
    cl->hosts[src].migrations++;
    cl->hosts[dst].migrations++;
    cl->migrations++;
}

void planner_undo(struct planner_cluster *cl, struct planner_plan *plan, size_t from)
{
    while (plan->n_moves > from) {
        const struct planner_move *m = &plan->moves[--plan->n_moves];
        struct planner_vm *v = &cl->vms[m->vm];
        host_account(cl, m->dst, m->vm, -1);
        v->host = (int32_t)m->src;
        host_account(cl, m->src, m->vm, 1);
        v->left_host = m->prev_left_host;
        v->last_move_ms = m->prev_last_move_ms;
        cl->hosts[m->src].migrations--;
        cl->hosts[m->dst].migrations--;
        cl->migrations--;
    }
}

size_t planner_evacuate(struct planner_cluster *cl, const struct planner_config *cfg, uint32_t h,
                        int64_t now_ms, struct planner_plan *plan)
{
    size_t left = 0;
    char reason[PLANNER_REASON_MAX];
    char *rs = planner_keeping(plan) ? reason : NULL;
    for (uint32_t vm = 0; vm < cl->n_vms; vm++) {
        if (cl->vms[vm].host != (int32_t)h)
            continue;
        struct planner_verdict vd;
        int32_t dst = -1;
        if (planner_check_vm(cl, cfg, vm, now_ms, PLANNER_MODE_EVACUATE, rs, sizeof(reason)))
            dst = planner_best_destination(cl, cfg, vm, now_ms, PLANNER_MODE_EVACUATE, NULL, false,
                                           plan, &vd);
        else
            planner_reject(plan, vm, -1, reason);
        if (dst < 0) {
            left++;
            continue;
        }
        planner_apply(cl, plan, vm, (uint32_t)dst, &vd, now_ms);
    }
    return left;
}
