/* monitor: per-tick polling, per-object rate series and windows (see monitor.h). */
#include "monitor/monitor.h"

#include "monitor/rates.h"
#include "monitor/ring.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strmap.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

#define MONITOR_GAP_TICKS    3  /* a reading > 3 typical intervals late is a gap */
#define MONITOR_FORGET_TICKS 10 /* forget objects unseen this many intervals (at least) */

static_assert(offsetof(struct vm_rates, t_ms) == 0, "ring samples start with t_ms");
static_assert(offsetof(struct host_rates, t_ms) == 0, "ring samples start with t_ms");

/* One object's baseline and window. */
struct series {
    bool have_prev;
    struct vm_counters vm_prev;
    struct host_counters host_prev;
    char host[MODEL_NAME_MAX]; /* VMs: where the baseline was read */
    char uuid[MODEL_UUID_LEN];
    int64_t last_seen_ms;
    uint64_t seen_tick, rate_tick; /* tick of the last sighting / last pushed rate */
    int64_t dirty_started_ms;      /* VMs: last dirty-rate measurement started */
    struct ring ring;
};

struct monitor {
    struct backend *b;
    int64_t history_ms;
    struct inventory inv, scratch;
    struct strmap vms, hosts;
    uint64_t tick;
    int64_t last_tick_ms, typical_dt_ms;
    int64_t dirty_period_ms; /* 0: no dirty-rate sampling */
    int dirty_calc_s;
};

struct monitor *monitor_new(struct backend *b, int64_t history_ms)
{
    struct monitor *m = xcalloc(1, sizeof(*m));
    m->b = b;
    m->history_ms = history_ms > 0 ? history_ms : 1;
    inventory_init(&m->inv);
    inventory_init(&m->scratch);
    strmap_init(&m->vms);
    strmap_init(&m->hosts);
    return m;
}

static void series_map_free(struct strmap *map)
{
    const char *k;
    void *v;
    for (size_t i = 0; strmap_next(map, &i, &k, &v);) {
        struct series *s = v;
        ring_free(&s->ring);
        free(s);
    }
    strmap_free(map);
}

void monitor_free(struct monitor *m)
{
    if (!m)
        return;
    series_map_free(&m->vms);
    series_map_free(&m->hosts);
    inventory_free(&m->inv);
    inventory_free(&m->scratch);
    free(m);
}

static struct series *series_get(struct strmap *map, const char *name, size_t elem)
{
    struct series *s = strmap_get(map, name);
    if (!s) {
        s = xcalloc(1, sizeof(*s));
        ring_init(&s->ring, elem);
        strmap_put(map, name, s);
    }
    return s;
}

static int64_t monitor_max_gap_ms(const struct monitor *m)
{
    return m->typical_dt_ms > 0 ? MONITOR_GAP_TICKS * m->typical_dt_ms : 0;
}

static void monitor_update_host(struct monitor *m, const struct host *h, int64_t now)
{
    struct series *s = series_get(&m->hosts, h->name, sizeof(struct host_rates));
    s->last_seen_ms = now;
    s->seen_tick = m->tick;
    if (!h->up) { /* no counters; start over when it is back */
        s->have_prev = false;
        return;
    }
    struct host_rates r;
    if (s->have_prev &&
        rates_host(&s->host_prev, &h->counters, monitor_max_gap_ms(m), &r) == RATES_OK) {
        ring_push(&s->ring, &r, m->history_ms);
        s->rate_tick = m->tick;
    }
    s->host_prev = h->counters;
    s->have_prev = true;
}

static void monitor_update_vm(struct monitor *m, const struct vm *v, int64_t now)
{
    struct series *s = series_get(&m->vms, v->name, sizeof(struct vm_rates));
    /* The same name twice in one poll (both ends of a migration): the first
     * running instance wins. */
    if (s->seen_tick == m->tick && s->have_prev)
        return;
    s->last_seen_ms = now;
    s->seen_tick = m->tick;
    if (v->state != VM_STATE_RUNNING && v->state != VM_STATE_PAUSED) {
        s->have_prev = false; /* no live counters */
        return;
    }
    /* Another host or another domain under the name: its counters are not
     * comparable with the baseline. */
    bool same = strcmp(s->host, v->host) == 0 && strcmp(s->uuid, v->uuid) == 0;
    struct vm_rates r;
    if (s->have_prev && same &&
        rates_vm(&s->vm_prev, &v->counters, v->vcpus, monitor_max_gap_ms(m), &r) == RATES_OK) {
        ring_push(&s->ring, &r, m->history_ms);
        s->rate_tick = m->tick;
    }
    s->vm_prev = v->counters;
    s->have_prev = true;
    memcpy(s->host, v->host, sizeof(s->host));
    memcpy(s->uuid, v->uuid, sizeof(s->uuid));
}

/* Drop objects not seen for a while, so vanished VMs do not accumulate. */
static void monitor_forget(struct strmap *map, int64_t cutoff_ms)
{
    const char *k;
    void *v;
    for (size_t i = 0; strmap_next(map, &i, &k, &v);) {
        struct series *s = v;
        if (s->last_seen_ms < cutoff_ms) {
            ring_free(&s->ring);
            free(s);
            strmap_del(map, k);
        }
    }
}

void monitor_set_dirty_rate(struct monitor *m, int64_t period_ms, int calc_s)
{
    m->dirty_calc_s = calc_s < 1 ? 1 : calc_s > 60 ? 60 : calc_s;
    /* a measurement must end before the next one starts */
    int64_t min_ms = (int64_t)m->dirty_calc_s * 1000;
    m->dirty_period_ms = period_ms <= 0 ? 0 : period_ms < min_ms ? min_ms : period_ms;
}

/* Start the dirty-rate measurements that are due (see monitor.h). */
static void monitor_sample_dirty(struct monitor *m, int64_t now)
{
    if (m->dirty_period_ms == 0 || !m->b->ops->dirty_rate_start)
        return;
    int64_t period_ms = m->dirty_period_ms;
    for (size_t i = 0; i < m->inv.n_vms; i++) {
        const struct vm *v = &m->inv.vms[i];
        struct series *s = strmap_get(&m->vms, v->name);
        if (!s || v->state != VM_STATE_RUNNING || now - s->dirty_started_ms < period_ms)
            continue;
        s->dirty_started_ms = now;
        if (backend_dirty_rate_start(m->b, v->name, m->dirty_calc_s) < 0)
            log_debug("monitor", "dirty rate of %s: %s", v->name, err_msg());
    }
}

int monitor_tick(struct monitor *m)
{
    if (backend_poll(m->b, &m->scratch) < 0)
        return err_prefix("monitor: polling the backend");
    struct inventory t = m->inv;
    m->inv = m->scratch;
    m->scratch = t;
    int64_t now = clock_now_ms(m->b->clock);
    if (m->tick > 0 && now > m->last_tick_ms) { /* EWMA of the tick interval */
        int64_t dt = now - m->last_tick_ms;
        m->typical_dt_ms = m->typical_dt_ms ? (4 * m->typical_dt_ms + dt) / 5 : dt;
        if (m->typical_dt_ms < 1)
            m->typical_dt_ms = 1;
    }
    m->last_tick_ms = now;
    m->tick++;
    for (size_t i = 0; i < m->inv.n_hosts; i++)
        monitor_update_host(m, &m->inv.hosts[i], now);
    for (size_t i = 0; i < m->inv.n_vms; i++)
        monitor_update_vm(m, &m->inv.vms[i], now);
    int64_t keep = MONITOR_FORGET_TICKS * m->typical_dt_ms;
    if (keep < m->history_ms)
        keep = m->history_ms;
    monitor_forget(&m->vms, now - keep);
    monitor_forget(&m->hosts, now - keep);
    monitor_sample_dirty(m, now);
    return 0;
}

const struct inventory *monitor_inventory(const struct monitor *m)
{
    return &m->inv;
}

static const void *series_latest(const struct monitor *m, const struct strmap *map,
                                 const char *name)
{
    const struct series *s = strmap_get(map, name);
    if (!s || s->ring.n == 0 || s->rate_tick != m->tick)
        return NULL;
    return ring_at(&s->ring, s->ring.n - 1);
}

const struct vm_rates *monitor_vm_latest(const struct monitor *m, const char *vm)
{
    return series_latest(m, &m->vms, vm);
}

const struct host_rates *monitor_host_latest(const struct monitor *m, const char *host)
{
    return series_latest(m, &m->hosts, host);
}

size_t monitor_vm_window(const struct monitor *m, const char *vm, int64_t since_ms,
                         struct vm_rates *out, size_t max)
{
    const struct series *s = strmap_get(&m->vms, vm);
    return s ? ring_copy_since(&s->ring, since_ms, out, max) : 0;
}

size_t monitor_host_window(const struct monitor *m, const char *host, int64_t since_ms,
                           struct host_rates *out, size_t max)
{
    const struct series *s = strmap_get(&m->hosts, host);
    return s ? ring_copy_since(&s->ring, since_ms, out, max) : 0;
}
