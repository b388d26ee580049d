/* check: whether one move may happen, and the one-line reason when it may not. */
#include "planner/internal.h"

#include "util/error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

bool planner_why(char *reason, size_t len, const char *fmt, ...)
{
    if (!reason || len == 0)
        return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, len, fmt, ap);
    va_end(ap);
    return false;
}

const char *planner_host_name(const struct planner_cluster *cl, uint32_t h, char *buf, size_t len)
{
    if (h < cl->n_hosts && cl->hosts[h].name)
        snprintf(buf, len, "%s", cl->hosts[h].name);
    else
        snprintf(buf, len, "host %u", h);
    return buf;
}

const char *planner_vm_name(const struct planner_cluster *cl, uint32_t vm, char *buf, size_t len)
{
    if (vm < cl->n_vms && cl->vms[vm].name)
        snprintf(buf, len, "%s", cl->vms[vm].name);
    else
        snprintf(buf, len, "VM %u", vm);
    return buf;
}

bool planner_check_vm(const struct planner_cluster *cl, const struct planner_config *cfg,
                      uint32_t vm, int64_t now_ms, enum planner_move_mode mode, char *reason,
                      size_t len)
{
    const struct planner_vm *v = &cl->vms[vm];
    char hn[64];
    if (v->host < 0 || (uint32_t)v->host >= cl->n_hosts)
        return planner_why(reason, len, "not placed on any host");
    if (v->never_move)
        return planner_why(reason, len, "never-move is set");
    if (v->pin == v->host)
        return planner_why(reason, len, "pinned to %s",
                           planner_host_name(cl, (uint32_t)v->pin, hn, sizeof(hn)));
    if (v->migrating)
        return planner_why(reason, len, "already migrating");
    if (mode != PLANNER_MODE_EVACUATE && v->last_move_ms != PLANNER_NEVER &&
        (double)(now_ms - v->last_move_ms) < cfg->cooldown_s * 1e3)
        return planner_why(reason, len, "moved %.0f min ago, cooldown %.0f min",
                           (double)(now_ms - v->last_move_ms) / 60e3, cfg->cooldown_s / 60);
    const struct planner_host *src = &cl->hosts[v->host];
    if (cfg->max_migrations_host && src->migrations >= cfg->max_migrations_host)
        return planner_why(reason, len, "source %s has %u migrations in flight (limit %u)",
                           planner_host_name(cl, (uint32_t)v->host, hn, sizeof(hn)),
                           src->migrations, cfg->max_migrations_host);
    return true;
}

/* The hard rules vm would break on dst. */
static bool check_hard_rules(const struct planner_cluster *cl, uint32_t vm, uint32_t dst,
                             char *reason, size_t len)
{
    char on[64], hn[64];
    for (size_t k = 0; k < cl->n_rules; k++) {
        const struct planner_rule *r = &cl->rules[k];
        if (!r->hard || (r->a != vm && !(r->b == vm && r->kind <= PLANNER_RULE_ANTI_AFFINITY)))
            continue;
        switch (r->kind) {
        case PLANNER_RULE_AFFINITY:
        case PLANNER_RULE_ANTI_AFFINITY: {
            uint32_t o = r->a == vm ? r->b : r->a;
            if (o >= cl->n_vms || cl->vms[o].host < 0)
                break;
            bool same = cl->vms[o].host == (int32_t)dst;
            if (r->kind == PLANNER_RULE_AFFINITY && !same)
                return planner_why(
                    reason, len, "hard affinity with %s on %s",
                    planner_vm_name(cl, o, on, sizeof(on)),
                    planner_host_name(cl, (uint32_t)cl->vms[o].host, hn, sizeof(hn)));
            if (r->kind == PLANNER_RULE_ANTI_AFFINITY && same)
                return planner_why(reason, len, "hard anti-affinity with %s on it",
                                   planner_vm_name(cl, o, on, sizeof(on)));
            break;
        }
        case PLANNER_RULE_HOST_AFFINITY:
            if (r->b != dst)
                return planner_why(reason, len, "hard host affinity: must run on %s",
                                   planner_host_name(cl, r->b, hn, sizeof(hn)));
            break;
        case PLANNER_RULE_HOST_ANTI:
            if (r->b == dst)
                return planner_why(reason, len, "hard host anti-affinity");
            break;
        }
    }
    return true;
}

bool planner_fits(const struct planner_cluster *cl, const struct planner_config *cfg, uint32_t vm,
                  uint32_t dst, char *reason, size_t len)
{
    const struct planner_host *d = &cl->hosts[dst];
    const struct planner_vm *v = &cl->vms[vm];
    if (d->maintenance)
        return planner_why(reason, len, "in maintenance");
    if (!check_hard_rules(cl, vm, dst, reason, len))
        return false;
    if (d->core_cap > 0 && v->core_peak > d->core_cap)
        return planner_why(reason, len, "a vCPU needs %.0f at peak, more than one core's %.0f",
                           v->core_peak, d->core_cap);
    double limit = cfg->trigger_util - cfg->margin;
    for (int r = 0; r < PLANNER_RES_COUNT; r++) {
        if (d->cap[r] <= 0)
            continue;
        double u = (d->peak[r] + v->peak[r]) / d->cap[r];
        if (u > limit)
            return planner_why(reason, len,
                               "%s would reach %.0f%% at peak, above %.0f%% (trigger %.0f%% - "
                               "margin %.0f%%)",
                               planner_res_str((enum planner_res)r), u * 100, limit * 100,
                               cfg->trigger_util * 100, cfg->margin * 100);
    }
    return true;
}

bool planner_check_dst(const struct planner_cluster *cl, const struct planner_config *cfg,
                       uint32_t vm, uint32_t dst, int64_t now_ms, enum planner_move_mode mode,
                       char *reason, size_t len)
{
    const struct planner_vm *v = &cl->vms[vm];
    const struct planner_host *d = &cl->hosts[dst];
    char hn[64];
    if (v->host == (int32_t)dst)
        return planner_why(reason, len, "already there");
    if (v->pin >= 0 && v->pin != (int32_t)dst)
        return planner_why(reason, len, "pinned to %s",
                           planner_host_name(cl, (uint32_t)v->pin, hn, sizeof(hn)));
    if (mode != PLANNER_MODE_EVACUATE && v->left_host == (int32_t)dst &&
        v->last_move_ms != PLANNER_NEVER &&
        (double)(now_ms - v->last_move_ms) <= cfg->pingpong_s * 1e3)
        return planner_why(reason, len, "left it %.0f min ago: no return within %.0f min",
                           (double)(now_ms - v->last_move_ms) / 60e3, cfg->pingpong_s / 60);
    if (cfg->max_migrations_host && d->migrations >= cfg->max_migrations_host)
        return planner_why(reason, len, "%u migrations in flight (limit %u)", d->migrations,
                           cfg->max_migrations_host);
    if (cfg->max_migrations_total && cl->migrations >= cfg->max_migrations_total)
        return planner_why(reason, len, "cluster has %u migrations in flight (limit %u)",
                           cl->migrations, cfg->max_migrations_total);
    return planner_fits(cl, cfg, vm, dst, reason, len);
}

/* What freeing the source's share is worth in consolidation: its idle power
 * over its maximum (0.7 when unknown), split over its VMs. */
static double consolidation_gain(const struct planner_host *src)
{
    double idle = src->max_w > 0 ? src->idle_w / src->max_w : 0.7;
    return idle / (src->n_vms ? src->n_vms : 1);
}

bool planner_check_gain(const struct planner_cluster *cl, const struct planner_config *cfg,
                        uint32_t vm, uint32_t dst, enum planner_move_mode mode,
                        struct planner_verdict *v, bool want_reason)
{
    const struct planner_vm *m = &cl->vms[vm];
    uint32_t src = (uint32_t)m->host;
    char *rs = want_reason ? v->reason : NULL;
    size_t rl = sizeof(v->reason);
    double src0 = planner_host_cost(cl, cfg, src, -1, -1);
    double src1 = planner_host_cost(cl, cfg, src, -1, (int32_t)vm);
    double dst0 = planner_host_cost(cl, cfg, dst, -1, -1);
    double dst1 = planner_host_cost(cl, cfg, dst, (int32_t)vm, -1);
    v->gain = (src0 - src1) + (dst0 - dst1);
    v->cost_s = v->benefit_s = 0;
    if (mode == PLANNER_MODE_CONSOLIDATE)
        v->gain += consolidation_gain(&cl->hosts[src]);
    if (mode == PLANNER_MODE_RELIEVE && !(src1 < src0))
        return planner_why(rs, rl, "source would not improve (cost %.3f -> %.3f)", src0, src1);
    if (mode != PLANNER_MODE_EVACUATE && v->gain < cfg->min_gain)
        return planner_why(rs, rl, "improvement %.4f below the minimum %.4f", v->gain,
                           cfg->min_gain);
    double bw = cfg->link_bytes_per_s;
    const struct planner_host *s = &cl->hosts[src], *d = &cl->hosts[dst];
    if (s->link_bytes_per_s > 0 && s->link_bytes_per_s < bw)
        bw = s->link_bytes_per_s;
    if (d->link_bytes_per_s > 0 && (d->link_bytes_per_s < bw || bw <= 0))
        bw = d->link_bytes_per_s;
    struct migrate_link link = {.bandwidth_bytes_per_s = bw};
    struct migrate_plan plan;
    if (migrate_plan_choose(&m->load, &link, &cfg->limits, &plan) < 0)
        return planner_why(rs, rl, "migration cost unknown: %s", err_msg());
    if (!plan.feasible)
        return planner_why(rs, rl, "migration would not complete: %s", plan.reason);
    v->cost_s = migrate_plan_cost_s(&plan);
    double horizon = m->horizon_s > 0 ? m->horizon_s : cfg->default_horizon_s;
    if (horizon > cfg->max_horizon_s)
        horizon = cfg->max_horizon_s;
    v->benefit_s = v->gain * horizon;
    if (mode != PLANNER_MODE_EVACUATE && v->benefit_s < cfg->benefit_ratio * v->cost_s)
        return planner_why(rs, rl,
                           "benefit %.0f s (gain %.4f over %.0f min) below %.1f x cost %.1f s",
                           v->benefit_s, v->gain, horizon / 60, cfg->benefit_ratio, v->cost_s);
    planner_why(rs, rl, "ok: gain %.4f, benefit %.0f s against cost %.1f s", v->gain, v->benefit_s,
                v->cost_s);
    return true;
}

bool planner_move_check(const struct planner_cluster *cl, const struct planner_config *cfg,
                        uint32_t vm, uint32_t dst, int64_t now_ms, enum planner_move_mode mode,
                        struct planner_verdict *v)
{
    v->ok = false;
    v->gain = v->cost_s = v->benefit_s = 0;
    v->reason[0] = '\0';
    if (vm >= cl->n_vms || dst >= cl->n_hosts) {
        planner_why(v->reason, sizeof(v->reason), "no such VM or host");
        return false;
    }
    if (!planner_check_vm(cl, cfg, vm, now_ms, mode, v->reason, sizeof(v->reason)) ||
        !planner_check_dst(cl, cfg, vm, dst, now_ms, mode, v->reason, sizeof(v->reason)))
        return false;
    v->ok = planner_check_gain(cl, cfg, vm, dst, mode, v, true);
    return v->ok;
}
