/* sla: the SLA rule engine — sustain windows, episodes, hysteresis, cooldown (see sla.h). */
#include "policy/sla.h"

#include "util/mem.h"
#include "util/strmap.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define NO_TIME INT64_MIN

/* State of one (rule, object) pair. */
struct sla_state {
    size_t rule;
    char object[MODEL_NAME_MAX];
    bool object_is_host;
    int64_t last_seen_ms; /* last observation with a known value */
    int64_t run_start_ms; /* condition true since (NO_TIME: not holding) */
    int64_t last_fire_ms; /* NO_TIME: never fired */
    bool firing;
    uint64_t episode;
};

struct sla_engine {
    struct sla_rule *rules;
    size_t n_rules;
    int64_t max_gap_ms;
    struct strmap states; /* "rule-index/object" -> struct sla_state * */
    uint64_t next_episode;
    size_t active;
};

void sla_events_clear(struct sla_events *ev)
{
    ev->n = 0;
}

void sla_events_free(struct sla_events *ev)
{
    free(ev->v);
    memset(ev, 0, sizeof(*ev));
}

static struct sla_event *event_add(struct sla_events *ev)
{
    xgrow((void **)&ev->v, &ev->cap, ev->n + 1, sizeof(*ev->v));
    struct sla_event *e = &ev->v[ev->n++];
    memset(e, 0, sizeof(*e));
    return e;
}

struct sla_engine *sla_engine_new(const struct sla_rule *rules, size_t n_rules, int64_t max_gap_ms)
{
    struct sla_engine *e = xcalloc(1, sizeof(*e));
    e->rules = xcalloc(n_rules ? n_rules : 1, sizeof(*rules));
    if (n_rules)
        memcpy(e->rules, rules, n_rules * sizeof(*rules));
    e->n_rules = n_rules;
    e->max_gap_ms = max_gap_ms;
    e->next_episode = 1;
    strmap_init(&e->states);
    return e;
}

void sla_engine_free(struct sla_engine *e)
{
    if (!e)
        return;
    size_t pos = 0;
    const char *key;
    void *val;
    while (strmap_next(&e->states, &pos, &key, &val))
        free(val);
    strmap_free(&e->states);
    free(e->rules);
    free(e);
}

size_t sla_engine_active(const struct sla_engine *e)
{
    return e->active;
}

static bool holds(enum sla_op op, double v, double threshold)
{
    switch (op) {
    case SLA_OP_GT:
        return v > threshold;
    case SLA_OP_GE:
        return v >= threshold;
    case SLA_OP_LT:
        return v < threshold;
    case SLA_OP_LE:
        return v <= threshold;
    }
    return false;
}

/* Has the value crossed back over the clear threshold? For "> 90, clear 70"
 * the episode ends once the value is no longer above 70. */
static bool cleared(const struct sla_rule *r, double v)
{
    return !holds(r->op, v, r->clear);
}

static struct sla_state *state_get(struct sla_engine *e, size_t rule, const char *object,
                                   bool is_host)
{
    char key[MODEL_NAME_MAX + 24];
    snprintf(key, sizeof(key), "%zu/%s", rule, object);
    struct sla_state *s = strmap_get(&e->states, key);
    if (s)
        return s;
    s = xcalloc(1, sizeof(*s));
    s->rule = rule;
    snprintf(s->object, sizeof(s->object), "%s", object);
    s->object_is_host = is_host;
    s->last_seen_ms = NO_TIME;
    s->run_start_ms = NO_TIME;
    s->last_fire_ms = NO_TIME;
    strmap_put(&e->states, key, s);
    return s;
}

static void emit(struct sla_engine *e, struct sla_state *s, enum sla_event_kind kind, int64_t t_ms,
                 double value, struct sla_events *out)
{
    struct sla_event *ev = event_add(out);
    ev->t_ms = t_ms;
    ev->kind = kind;
    ev->rule = &e->rules[s->rule];
    snprintf(ev->object, sizeof(ev->object), "%s", s->object);
    ev->object_is_host = s->object_is_host;
    ev->value = value;
    ev->held_ms = s->run_start_ms == NO_TIME ? 0 : t_ms - s->run_start_ms;
    ev->episode = s->episode;
}

/* One observation of a known value for one (rule, object). */
static void step(struct sla_engine *e, struct sla_state *s, int64_t t_ms, double v,
                 struct sla_events *out)
{
    const struct sla_rule *r = &e->rules[s->rule];
    bool discontinuity = s->last_seen_ms != NO_TIME &&
                         (t_ms < s->last_seen_ms || t_ms - s->last_seen_ms > e->max_gap_ms);
    if (discontinuity)
        s->run_start_ms = NO_TIME; /* the window must be covered without holes */
    if (s->last_fire_ms != NO_TIME && s->last_fire_ms > t_ms)
        s->last_fire_ms = t_ms; /* clock went backwards: restart the cooldown from now */
    s->last_seen_ms = t_ms;

    if (s->firing) {
        if (cleared(r, v)) {
            emit(e, s, SLA_EVENT_CLEARED, t_ms, v, out);
            s->firing = false;
            s->run_start_ms = NO_TIME;
            e->active--;
        }
        return;
    }
    if (!holds(r->op, v, r->threshold)) {
        s->run_start_ms = NO_TIME;
        return;
    }
    if (s->run_start_ms == NO_TIME)
        s->run_start_ms = t_ms;
    if (t_ms - s->run_start_ms < r->for_ms)
        return;
    if (s->last_fire_ms != NO_TIME && t_ms - s->last_fire_ms < r->cooldown_ms)
        return;
    s->firing = true;
    s->episode = e->next_episode++;
    s->last_fire_ms = t_ms;
    e->active++;
    emit(e, s, SLA_EVENT_FIRED, t_ms, v, out);
}

static double vm_value(enum sla_metric m, const struct vm_rates *r)
{
    switch (m) {
    case SLA_METRIC_VM_CPU_PCT:
        return r->cpu_pct;
    case SLA_METRIC_VM_MEM_PCT:
        return r->mem_used_pct >= 0 ? r->mem_used_pct : NAN;
    case SLA_METRIC_VM_DISK_IOPS:
        return r->disk_iops;
    case SLA_METRIC_VM_DISK_BYTES_PER_S:
        return r->disk_rd_bytes_per_s + r->disk_wr_bytes_per_s;
    case SLA_METRIC_VM_NET_BYTES_PER_S:
        return r->net_rx_bytes_per_s + r->net_tx_bytes_per_s;
    case SLA_METRIC_VM_DIRTY_RATE_MIB_S:
        return r->dirty_rate_mib_s >= 0 ? r->dirty_rate_mib_s : NAN;
    default:
        return NAN;
    }
}

static double host_value(enum sla_metric m, const struct host_rates *r)
{
    switch (m) {
    case SLA_METRIC_HOST_CPU_PCT:
        return r->cpu_pct;
    case SLA_METRIC_HOST_MEM_FREE_KIB:
        return (double)r->mem_free_kib;
    case SLA_METRIC_HOST_DISK_UTIL_PCT:
        return r->disk_util_pct >= 0 ? r->disk_util_pct : NAN;
    default:
        return NAN;
    }
}

/* Does a comma-separated tag list contain tag? */
static bool has_tag(const char *tags, const char *tag)
{
    size_t n = strlen(tag);
    for (const char *p = tags; p && *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == n && strncmp(p, tag, n) == 0)
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

void sla_engine_observe_vm(struct sla_engine *e, int64_t t_ms, const char *vm, const char *tags,
                           const struct vm_rates *r, struct sla_events *out)
{
    for (size_t i = 0; i < e->n_rules; i++) {
        const struct sla_rule *rule = &e->rules[i];
        bool match = rule->scope == SLA_SCOPE_VM    ? fnmatch(rule->pattern, vm, 0) == 0
                     : rule->scope == SLA_SCOPE_TAG ? has_tag(tags, rule->pattern)
                                                    : false;
        if (!match)
            continue;
        double v = vm_value(rule->metric, r);
        if (isnan(v))
            continue; /* unknown now: a gap, judged by max_gap at the next known value */
        step(e, state_get(e, i, vm, false), t_ms, v, out);
    }
}

void sla_engine_observe_host(struct sla_engine *e, int64_t t_ms, const char *host,
                             const struct host_rates *r, struct sla_events *out)
{
    for (size_t i = 0; i < e->n_rules; i++) {
        const struct sla_rule *rule = &e->rules[i];
        if (rule->scope != SLA_SCOPE_HOST || fnmatch(rule->pattern, host, 0) != 0)
            continue;
        double v = host_value(rule->metric, r);
        if (isnan(v))
            continue;
        step(e, state_get(e, i, host, true), t_ms, v, out);
    }
}

void sla_engine_sweep(struct sla_engine *e, int64_t t_ms, int64_t forget_ms, struct sla_events *out)
{
    size_t pos = 0;
    const char *key;
    void *val;
    while (strmap_next(&e->states, &pos, &key, &val)) {
        struct sla_state *s = val;
        if (s->last_seen_ms != NO_TIME && t_ms - s->last_seen_ms <= forget_ms)
            continue;
        if (s->firing) {
            emit(e, s, SLA_EVENT_GONE, t_ms, NAN, out);
            e->active--;
        }
        strmap_del(&e->states, key);
        free(s);
    }
}
