/* fixture: a small cluster for the planner's unit tests. */
#ifndef ARAS_TEST_PLANNER_FIXTURE_H
#define ARAS_TEST_PLANNER_FIXTURE_H

#include "planner/planner.h"

#include <string.h>

#define FX_HOSTS 6
#define FX_VMS   16

struct fx {
    struct planner_host hosts[FX_HOSTS];
    struct planner_vm vms[FX_VMS];
    struct planner_rule rules[8];
    struct planner_cluster cl;
    struct planner_config cfg;
};

/* n_hosts hosts of 100 CPU units and 1000 memory units; no VMs yet. */
static inline void fx_init(struct fx *f, uint32_t n_hosts)
{
    memset(f, 0, sizeof(*f));
    for (uint32_t h = 0; h < n_hosts; h++) {
        f->hosts[h].cap[PLANNER_RES_CPU] = 100;
        f->hosts[h].cap[PLANNER_RES_MEM] = 1000;
        f->hosts[h].idle_w = 70;
        f->hosts[h].max_w = 100;
    }
    f->cl.hosts = f->hosts;
    f->cl.n_hosts = n_hosts;
    f->cl.vms = f->vms;
    f->cl.rules = f->rules;
    planner_config_default(&f->cfg);
}

/* Add a VM on host (-1: unplaced) with cpu units of CPU (now and at peak),
 * 100 memory units and 1 GiB of guest RAM that dirties nothing. */
static inline uint32_t fx_vm(struct fx *f, int32_t host, double cpu)
{
    uint32_t i = f->cl.n_vms++;
    struct planner_vm *v = &f->vms[i];
    v->host = host;
    v->use[PLANNER_RES_CPU] = v->peak[PLANNER_RES_CPU] = cpu;
    v->use[PLANNER_RES_MEM] = v->peak[PLANNER_RES_MEM] = 100;
    v->cls = PLANNER_CLASS_CPU;
    v->pin = -1;
    v->left_host = -1;
    v->last_move_ms = PLANNER_NEVER;
    v->horizon_s = 86400;
    v->load.mem_bytes = 1ull << 30;
    migrate_dirty_forecast_const(0, &v->load.dirty);
    planner_cluster_update(&f->cl);
    return i;
}

static inline void fx_rule(struct fx *f, enum planner_rule_kind k, bool hard, uint32_t a,
                           uint32_t b, double weight)
{
    f->rules[f->cl.n_rules++] = (struct planner_rule){k, hard, a, b, weight};
}

#endif
