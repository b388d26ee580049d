/* metrics: energy and the SLA metrics of Beloglazov & Buyya (SLATAH, PDM, SLAV).
 *
 * CloudSim keeps a state-history list per host and per VM and folds it at the
 * end (examples' Helper.getSlaTimePerActiveHost, getSlaMetrics,
 * getTimesBeforeHostShutdown). We fold each entry as soon as the next one with
 * a later time arrives; an entry with the same time replaces the pending one,
 * exactly as addStateHistoryEntry does, so the sums are the same.
 */
#include "sim/internal.h"

#include "util/mem.h"

#include <math.h>

void sim_vm_state_add(struct sim_vm *v, double t, double alloc, double req, bool migrating)
{
    struct sim_state_acc *a = &v->acc;
    if (a->t >= 0 && a->t != t) {
        double dt = t - a->t;
        v->total_alloc += a->alloc * dt;
        v->total_req += a->req * dt;
        if (a->alloc < a->req && a->flag)
            v->under_mig += (a->req - a->alloc) * dt;
    }
    a->t = t;
    a->alloc = alloc;
    a->req = req;
    a->flag = migrating;
}

/* Commit the pending host entry: count a shutdown if it switches the host
 * off, and credit the interval up to t_end (if any) to active / overload time. */
static void host_commit(struct sim_host *h, double t_end, bool has_end)
{
    struct sim_state_acc *a = &h->acc;
    bool prev_active = a->has_prev ? a->prev_active : true;
    if (prev_active && !a->flag)
        h->shutdowns++;
    if (has_end && a->flag) {
        double dt = t_end - a->t; /* > 0: entries at the same time replace each other */
        xgrow((void **)&h->active_iv, &h->cap_active_iv, h->n_active_iv + 1, sizeof(*h->active_iv));
        h->active_iv[h->n_active_iv++] = a->alloc < a->req ? -dt : dt;
    }
    a->has_prev = true;
    a->prev_active = a->flag;
}

void sim_host_state_add(struct sim_host *h, double t, double alloc, double req, bool active)
{
    struct sim_state_acc *a = &h->acc;
    if (a->t >= 0 && a->t != t)
        host_commit(h, t, true);
    a->t = t;
    a->alloc = alloc;
    a->req = req;
    a->flag = active;
}

void sim_result_get(const struct sim *s, struct sim_result *r)
{
    double active = 0, over = 0, req = 0, under = 0;
    uint32_t shutdowns = 0;
    for (uint32_t i = 0; i < s->n_hosts; i++) {
        struct sim_host h = s->hosts[i]; /* copy: the last entry is committed here only */
        if (h.acc.t >= 0)
            host_commit(&h, 0, false);
        for (size_t k = 0; k < h.n_active_iv; k++) {
            double dt = fabs(h.active_iv[k]);
            active += dt;
            if (h.active_iv[k] < 0)
                over += dt;
        }
        shutdowns += h.shutdowns;
    }
    for (uint32_t i = 0; i < s->n_vms; i++) {
        req += s->vms[i].total_req;
        under += s->vms[i].under_mig;
    }
    r->hosts = s->n_hosts;
    r->vms = s->n_vms;
    r->sim_time_s = s->last_process_s;
    r->energy_kwh = s->energy_j / 3.6e6;
    r->migrations = s->migrations;
    r->pingpongs = s->pingpongs;
    double slatah = active > 0 ? over / active : 0;
    double pdm = req > 0 ? under / req : 0;
    r->slatah_pct = slatah * 100;
    r->pdm_pct = pdm * 100;
    r->slav_pct = slatah * pdm * 100;
    r->host_shutdowns = shutdowns;
    r->vms_removed = s->removed;
    r->steps = s->steps;
}
