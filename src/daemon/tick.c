/* tick: one turn of arasd's loop — poll through the monitor, turn changes and
 * backend events into history events, collect the workers' results, follow
 * the migrations, run the SLA rules and the allocator, record the tick,
 * publish the API snapshot. */
#include "daemon/daemon.h"

#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <math.h>
#include <string.h>

#define BACKEND_EVENTS_BATCH 128

static enum history_severity backend_event_severity(enum backend_event_kind k)
{
    switch (k) {
    case BACKEND_EVENT_CRASHED:
    case BACKEND_EVENT_HOST_DOWN:
        return HISTORY_SEV_CRIT;
    case BACKEND_EVENT_STOPPED:
    case BACKEND_EVENT_SHUTDOWN:
        return HISTORY_SEV_WARN;
    default:
        return HISTORY_SEV_INFO;
    }
}

/* Move what the backend queued (lifecycle, migration, host up/down) into events. */
static void drain_backend_events(struct daemon *d)
{
    struct backend_event buf[BACKEND_EVENTS_BATCH];
    for (int round = 0; round < 64; round++) {
        int n = backend_drain_events(d->backend, buf, ARRAY_LEN(buf));
        if (n < 0) {
            log_warn("daemon", "draining backend events: %s", err_msg());
            return;
        }
        for (int i = 0; i < n; i++) {
            const struct backend_event *e = &buf[i];
            const char *kind = backend_event_kind_str(e->kind);
            char *obj = e->vm[0] ? xasprintf("vm/%s", e->vm) : xasprintf("host/%s", e->host);
            char *msg = e->vm[0] ? xasprintf("VM %s on %s: %s%s%s", e->vm, e->host, kind,
                                             e->detail[0] ? ", " : "", e->detail)
                                 : xasprintf("host %s: %s%s%s", e->host, kind,
                                             e->detail[0] ? ", " : "", e->detail);
            evlist_add(&d->events, e->t_ms, backend_event_severity(e->kind), kind, obj, msg, NULL);
        }
        if ((size_t)n < ARRAY_LEN(buf))
            return;
    }
}

/* Latest rates per host and VM, index-aligned with inv (NULL when none yet). */
struct tick_rates {
    const struct host_rates **host;
    const struct vm_rates **vm;
    struct history_host_sample *hs;
    struct history_vm_sample *vs;
};

static void gather(struct daemon *d, const struct inventory *inv, struct tick_rates *r,
                   struct history_tick *t)
{
    r->host = xcalloc(inv->n_hosts + 1, sizeof(*r->host));
    r->vm = xcalloc(inv->n_vms + 1, sizeof(*r->vm));
    r->hs = xcalloc(inv->n_hosts + 1, sizeof(*r->hs));
    r->vs = xcalloc(inv->n_vms + 1, sizeof(*r->vs));
    double cpu_sum = 0, power = 0;
    size_t with_cpu = 0, with_power = 0;
    for (size_t i = 0; i < inv->n_hosts; i++) {
        const struct host *h = &inv->hosts[i];
        const struct host_rates *hr = monitor_host_latest(d->monitor, h->name);
        r->host[i] = hr;
        t->n_hosts_up += h->up;
        r->hs[i] = (struct history_host_sample){h->name, h->up, -1, -1, -1};
        if (!hr)
            continue;
        r->hs[i].cpu_pct = hr->cpu_pct;
        r->hs[i].mem_used_pct = hr->mem_used_pct;
        r->hs[i].power_w = hr->power_w > 0 ? hr->power_w : -1;
        if (h->up && isfinite(hr->cpu_pct)) {
            cpu_sum += hr->cpu_pct;
            with_cpu++;
        }
        if (hr->power_w > 0) {
            power += hr->power_w;
            with_power++;
        }
    }
    for (size_t i = 0; i < inv->n_vms; i++) {
        const struct vm *v = &inv->vms[i];
        const struct vm_rates *vr = monitor_vm_latest(d->monitor, v->name);
        r->vm[i] = vr;
        r->vs[i] = (struct history_vm_sample){v->name, v->host, -1, -1, -1, -1};
        if (!vr)
            continue;
        r->vs[i].cpu_pct = vr->cpu_pct;
        r->vs[i].mem_used_pct = vr->mem_used_pct;
        r->vs[i].disk_bytes_per_s = vr->disk_rd_bytes_per_s + vr->disk_wr_bytes_per_s;
        r->vs[i].net_bytes_per_s = vr->net_rx_bytes_per_s + vr->net_tx_bytes_per_s;
    }
    t->n_hosts = inv->n_hosts;
    t->n_vms = inv->n_vms;
    t->mean_host_cpu_pct = with_cpu ? cpu_sum / (double)with_cpu : 0;
    t->power_w = with_power ? power : -1;
    t->hosts = r->hs;
    t->n_host_samples = inv->n_hosts;
    t->vms = r->vs;
    t->n_vm_samples = inv->n_vms;
}

/* Integrate cluster power over wall time into kWh. */
static void account_energy(struct daemon *d, double power_w, int64_t t_ms)
{
    if (power_w < 0)
        return;
    if (d->energy_kwh < 0)
        d->energy_kwh = 0;
    else if (t_ms > d->last_power_t_ms)
        d->energy_kwh += power_w * (double)(t_ms - d->last_power_t_ms) / 3.6e9;
    d->last_power_t_ms = t_ms;
}

/* Results of scripts, traps and migrations that finished since the last tick. */
static void collect_jobs(struct daemon *d, int64_t t_ms)
{
    struct worker *ws[] = {&d->notify_worker, &d->action_worker};
    for (size_t w = 0; w < ARRAY_LEN(ws); w++) {
        struct job *j = worker_take_done(ws[w]);
        while (j) {
            struct job *next = j->next;
            if (j->kind == JOB_MIGRATE)
                migrations_job_done(d, j, t_ms);
            else
                rules_job_done(d, j, t_ms);
            free(j);
            j = next;
        }
    }
}

static void publish(struct daemon *d, const struct inventory *inv, const struct tick_rates *r,
                    int64_t t_ms)
{
    struct http_view v = {.t_ms = t_ms,
                          .started_ms = d->started_ms,
                          .tick_ms = d->conf->tick_ms,
                          .ticks = d->ticks,
                          .backend = d->backend->ops->name,
                          .uris = (const char *const *)d->boot_conf->uris,
                          .n_uris = d->boot_conf->n_uris,
                          .inv = inv,
                          .host_rates = r->host,
                          .vm_rates = r->vm,
                          .energy_kwh = d->energy_kwh};
    http_server_publish(d->http, http_snapshot_build(&v));
}

void daemon_tick(struct daemon *d)
{
    int64_t start_mono = clock_mono_ms(&d->clock);
    if (monitor_tick(d->monitor) < 0) {
        log_error("daemon", "tick: %s", err_msg());
        return;
    }
    int64_t t_ms = clock_now_ms(&d->clock);
    int64_t polled_mono = clock_mono_ms(&d->clock);
    const struct inventory *inv = monitor_inventory(d->monitor);
    d->ticks++;
    changes_diff(&d->changes, inv, t_ms, &d->events);
    drain_backend_events(d);
    collect_jobs(d, t_ms);
    migrations_tick(d, inv, t_ms);
    rules_tick(d, inv, t_ms);
    alloc_tick(d, inv, t_ms);
    if (d->events.dropped)
        evlist_add(&d->events, t_ms, HISTORY_SEV_WARN, "events_dropped", xstrdup("daemon"),
                   xasprintf("%zu more changes in this tick were not recorded one by one",
                             d->events.dropped),
                   NULL);
    struct tick_rates r;
    struct history_tick t = {.t_ms = t_ms};
    gather(d, inv, &r, &t);
    account_energy(d, t.power_w, t_ms);
    t.energy_kwh = d->energy_kwh;
    t.events = d->events.ev;
    t.n_events = d->events.n;
    for (size_t i = 0; i < d->events.n; i++) {
        const struct history_event *e = &d->events.ev[i];
        log_msg(e->severity == HISTORY_SEV_INFO ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN, "event", "%s",
                e->message);
    }
    int64_t history_mono = clock_mono_ms(&d->clock);
    if (history_record_tick(d->history, &t) < 0)
        log_error("daemon", "tick: %s", err_msg());
    history_mono = clock_mono_ms(&d->clock) - history_mono;
    evlist_clear(&d->events);
    publish(d, inv, &r, t_ms);
    free(r.host);
    free(r.vm);
    free(r.hs);
    free(r.vs);
    log_debug("daemon", "tick %llu: %zu hosts (%zu up), %zu VMs, %lld ms (poll %lld, history %lld)",
              (unsigned long long)d->ticks, t.n_hosts, t.n_hosts_up, t.n_vms,
              (long long)(clock_mono_ms(&d->clock) - start_mono),
              (long long)(polled_mono - start_mono), (long long)history_mono);
}
