/* sla: SLA rules — "metric op threshold, held for a sustain window" — turned
 * into one event per episode, cleared with hysteresis, limited by a cooldown.
 *
 * Pure: observations (rates + timestamps) in, events out; no I/O and no clock
 * reads, so a replay on virtual time gives the same events every time.
 *
 * Semantics, per (rule, object):
 *  - the condition must hold on every observation over the whole `for`
 *    window; a gap longer than max_gap_ms between observations, an unknown
 *    value held that long, or a clock jump backwards restarts the window;
 *  - when it has held for `for`, one FIRED event opens an episode; no further
 *    events while the episode lasts (no alert storms);
 *  - the episode ends with one CLEARED event when the value crosses the clear
 *    threshold (hysteresis; defaults to the threshold itself), or one GONE event
 *    when the object stops being observed (sla_engine_sweep);
 *  - a new episode cannot fire until `cooldown` has passed since the last fire.
 */
#ifndef ARAS_POLICY_SLA_H
#define ARAS_POLICY_SLA_H

#include "model/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLA_NAME_MAX    64
#define SLA_ACTIONS_MAX 8
#define SLA_ACTION_MAX  256

enum sla_scope_kind {
    SLA_SCOPE_VM,   /* vm:GLOB   — VMs whose name matches */
    SLA_SCOPE_HOST, /* host:GLOB — hosts whose name matches */
    SLA_SCOPE_TAG,  /* tag:NAME  — VMs carrying that tag */
};

enum sla_metric {
    SLA_METRIC_VM_CPU_PCT,
    SLA_METRIC_VM_MEM_PCT,
    SLA_METRIC_VM_DISK_IOPS,
    SLA_METRIC_VM_DISK_BYTES_PER_S,
    SLA_METRIC_VM_NET_BYTES_PER_S,
    SLA_METRIC_VM_DIRTY_RATE_MIB_S,
    SLA_METRIC_HOST_CPU_PCT,
    SLA_METRIC_HOST_MEM_FREE_KIB,
    SLA_METRIC_HOST_DISK_UTIL_PCT,
};
const char *sla_metric_str(enum sla_metric m);
/* True for metrics observed on hosts, false for VM metrics. */
bool sla_metric_is_host(enum sla_metric m);

enum sla_op { SLA_OP_GT, SLA_OP_GE, SLA_OP_LT, SLA_OP_LE };
const char *sla_op_str(enum sla_op op);

enum sla_severity { SLA_SEVERITY_INFO, SLA_SEVERITY_WARNING, SLA_SEVERITY_CRITICAL };
const char *sla_severity_str(enum sla_severity s);

struct sla_rule {
    char name[SLA_NAME_MAX];
    enum sla_scope_kind scope;
    char pattern[MODEL_NAME_MAX]; /* glob (vm/host) or tag name */
    enum sla_metric metric;
    enum sla_op op;
    double threshold;
    double clear; /* hysteresis threshold; == threshold unless set */
    int64_t for_ms;
    int64_t cooldown_ms;
    enum sla_severity severity;
    char actions[SLA_ACTIONS_MAX][SLA_ACTION_MAX]; /* "email", "snmp", "script:/path", "allocate" */
    size_t n_actions;
    unsigned set_mask; /* which keys were given (internal to sla_rule_set/validate) */
};

/* Start a rule with defaults (for = 0, cooldown = 0, severity warning). */
void sla_rule_init(struct sla_rule *r, const char *name);
/* Set one key from the config ("scope", "metric", "op", "threshold", "clear",
 * "for", "cooldown", "severity", "actions"). Returns -1 with err_set() naming
 * the key and the value; the caller prefixes file:line. `metric` must be set
 * before `threshold`/`clear` when they use units (sizes, rates). */
int sla_rule_set(struct sla_rule *r, const char *key, const char *value);
/* Check that scope, metric, op and threshold were given and that the clear
 * threshold lies on the non-firing side. -1 with err_set() otherwise. */
int sla_rule_validate(struct sla_rule *r);

enum sla_event_kind { SLA_EVENT_FIRED, SLA_EVENT_CLEARED, SLA_EVENT_GONE };
const char *sla_event_kind_str(enum sla_event_kind k);

struct sla_event {
    int64_t t_ms;
    enum sla_event_kind kind;
    const struct sla_rule *rule; /* points into the engine's copy of the rules */
    char object[MODEL_NAME_MAX];
    bool object_is_host;
    double value;    /* value that fired/cleared (NAN for GONE) */
    int64_t held_ms; /* how long the condition had held when it fired */
    uint64_t episode;
};

struct sla_events {
    struct sla_event *v;
    size_t n, cap;
};
void sla_events_clear(struct sla_events *ev);
void sla_events_free(struct sla_events *ev);

struct sla_engine;

/* Copy the rules; max_gap_ms is the longest silence that still counts as
 * "held" (use about two ticks). */
struct sla_engine *sla_engine_new(const struct sla_rule *rules, size_t n_rules, int64_t max_gap_ms);
void sla_engine_free(struct sla_engine *e);

/* Feed one VM observation (tags: comma-separated, may be NULL) or one host
 * observation at t_ms; appends any resulting events to out. */
void sla_engine_observe_vm(struct sla_engine *e, int64_t t_ms, const char *vm, const char *tags,
                           const struct vm_rates *r, struct sla_events *out);
void sla_engine_observe_host(struct sla_engine *e, int64_t t_ms, const char *host,
                             const struct host_rates *r, struct sla_events *out);
/* Close episodes of objects not observed since t_ms - forget_ms (GONE events)
 * and drop their state. */
void sla_engine_sweep(struct sla_engine *e, int64_t t_ms, int64_t forget_ms,
                      struct sla_events *out);
/* Number of (rule, object) pairs with an open episode. */
size_t sla_engine_active(const struct sla_engine *e);

#endif
