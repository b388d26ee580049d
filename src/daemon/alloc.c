/* alloc: arasd's resource allocation controller — turns the "allocate"
 * actions of fired rules into decisions (policy/rac.h), and by their mode
 * records them as recommendations (manual), queues them for approval (semi,
 * policy/pending.h) or runs them (auto). Approved entries run on a later
 * tick: growth in place through the backend at once, migrations through
 * migrations_start() (the action worker). At most max_actions_per_tick run per tick and never two
 * at once on one VM; what has to wait stays in `later`. Every step is a row in the history's
 * decisions table and an event, with its reason. */
#include "daemon/daemon.h"

#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define ALLOC_EXPIRE_BATCH 64
#define ALLOC_KEEP_MS      (60 * 60 * 1000) /* decided entries stay listed this long */

/* Queue ids continue after the highest one in the history ("[#N, mode] ..."),
 * so that an id names one recommendation across restarts. */
static uint64_t first_id(struct daemon *d)
{
    struct history_decision *ds = NULL;
    size_t n = 0;
    uint64_t max = 0;
    if (history_list_decisions(d->history, 0, HISTORY_LIST_MAX, &ds, &n) < 0) {
        log_warn("daemon", "reading past decisions: %s", err_msg());
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned long long id;
        if (ds[i].reason && sscanf(ds[i].reason, "[#%llu,", &id) == 1 && id > max)
            max = id;
    }
    history_decisions_free(ds, n);
    return max + 1;
}

int alloc_init(struct daemon *d)
{
    struct alloc *a = &d->alloc;
    a->q = pending_new(d->conf->approval_ttl_ms, first_id(d));
    a->dirty = true;
    return 0;
}

void alloc_free(struct daemon *d)
{
    struct alloc *a = &d->alloc;
    pending_free(a->q);
    free(a->req);
    free(a->later);
    memset(a, 0, sizeof(*a));
}

static enum load_class load_of(enum sla_metric m)
{
    switch (m) {
    case SLA_METRIC_VM_CPU_PCT:
        return LOAD_CLASS_CPU;
    case SLA_METRIC_VM_MEM_PCT:
    case SLA_METRIC_VM_DIRTY_RATE_MIB_S:
        return LOAD_CLASS_MEMORY;
    case SLA_METRIC_VM_DISK_IOPS:
    case SLA_METRIC_VM_DISK_BYTES_PER_S:
    case SLA_METRIC_VM_NET_BYTES_PER_S:
        return LOAD_CLASS_IO;
    default:
        return LOAD_CLASS_IDLE; /* classify from the rates */
    }
}

void alloc_request(struct daemon *d, const struct sla_event *ev)
{
    struct alloc *a = &d->alloc;
    for (size_t i = 0; i < a->n_req; i++) {
        if (strcmp(a->req[i].vm, ev->object) == 0)
            return; /* one request per VM per round */
    }
    xgrow((void **)&a->req, &a->cap_req, a->n_req + 1, sizeof(*a->req));
    struct rac_request *q = &a->req[a->n_req++];
    memset(q, 0, sizeof(*q));
    snprintf(q->vm, sizeof(q->vm), "%s", ev->object);
    q->load = load_of(ev->rule->metric);
    const struct conf_vm *cv = conf_vm_find(d->conf, ev->object);
    if (cv)
        q->limits = cv->limits;
    snprintf(q->cause, sizeof(q->cause), "rule %s episode %" PRIu64, ev->rule->name, ev->episode);
}

/* One step in a decision's life: a row in the decisions table and an event.
 * id 0: a recommendation that is not queued (manual mode, or no action). */
static void record(struct daemon *d, int64_t t_ms, uint64_t id, const struct rac_decision *dec,
                   const char *state, const char *note)
{
    char ref[32] = "";
    if (id)
        snprintf(ref, sizeof(ref), "#%" PRIu64 ", ", id);
    AUTOFREE char *reason = xasprintf("[%s%s] %s%s%s", ref, rac_mode_str(dec->mode), dec->reason,
                                      note && *note ? " — " : "", note ? note : "");
    struct history_decision hd = {.t_ms = t_ms,
                                  .vm = dec->vm,
                                  .action = rac_action_str(dec->action),
                                  .reason = reason,
                                  .state = state};
    if (history_record_decision(d->history, &hd, NULL) < 0)
        log_warn("daemon", "recording a decision: %s", err_msg());
    bool bad = strcmp(state, "failed") == 0 || strcmp(state, "expired") == 0;
    char num[32] = "";
    if (id)
        snprintf(num, sizeof(num), " #%" PRIu64, id);
    char *msg = xasprintf("decision%s %s %s: %s (%s) %s%s%s", num, rac_action_str(dec->action),
                          dec->vm, state, rac_mode_str(dec->mode), dec->reason,
                          note && *note ? " — " : "", note ? note : "");
    /* Into this tick's events, after the SLA event that caused it; outside a
     * tick (API commands) daemon_commands() writes them at once. */
    evlist_add(&d->events, t_ms, bad ? HISTORY_SEV_WARN : HISTORY_SEV_INFO, "decision",
               xasprintf("vm/%s", dec->vm), msg, NULL);
    log_info("alloc", "%s", msg);
    d->alloc.dirty = true;
}

static void decide(struct daemon *d, const struct rac_decision *dec, int64_t t_ms)
{
    struct alloc *a = &d->alloc;
    if (migrations_busy(d, dec->vm)) {
        record(d, t_ms, 0, dec, "skipped", "a migration of this VM is still running");
        return;
    }
    if (dec->action == RAC_ACTION_NONE) {
        record(d, t_ms, 0, dec, "none", NULL);
        return;
    }
    if (dec->mode == RAC_MODE_MANUAL) {
        record(d, t_ms, 0, dec, "recommended", "manual mode: not executed");
        return;
    }
    uint64_t id = pending_add(a->q, dec, t_ms);
    if (dec->mode == RAC_MODE_SEMI) {
        char note[128];
        snprintf(note, sizeof(note), "approve with 'arasctl approve %" PRIu64 "' within %lld s", id,
                 (long long)(d->boot_conf->approval_ttl_ms / 1000));
        record(d, t_ms, id, dec, "waiting", note);
        return;
    }
    if (pending_approve(a->q, id, "auto", t_ms) < 0) {
        record(d, t_ms, id, dec, "failed", err_msg());
        return;
    }
    record(d, t_ms, id, dec, "approved", "automatic mode");
}

/* Growth in place, now; a migration goes to the action worker. */
static void execute(struct daemon *d, const struct pending_item *it, int64_t t_ms)
{
    const struct rac_decision *dec = &it->decision;
    int rc;
    char done[160];
    switch (dec->action) {
    case RAC_ACTION_ADD_VCPU:
        rc = backend_set_vcpus(d->backend, dec->vm, dec->new_vcpus);
        snprintf(done, sizeof(done), "%s now has %u vCPUs", dec->vm, dec->new_vcpus);
        break;
    case RAC_ACTION_GROW_MEMORY:
        rc = backend_set_memory(d->backend, dec->vm, dec->new_mem_kib);
        snprintf(done, sizeof(done), "%s now has %" PRIu64 " MiB", dec->vm,
                 dec->new_mem_kib / 1024);
        break;
    case RAC_ACTION_ATTACH_DISK:
        rc = backend_attach_disk(d->backend, dec->vm, dec->disk_bytes, d->conf->pool_dir);
        snprintf(done, sizeof(done), "attached a %" PRIu64 " GiB disk to %s", dec->disk_bytes >> 30,
                 dec->vm);
        break;
    case RAC_ACTION_MIGRATE: {
        /* Which typed parameters to use is the migration strategy's choice;
         * until it decides, libvirt's defaults. */
        struct migration_request rq = {.decision_id = it->id};
        snprintf(rq.vm, sizeof(rq.vm), "%s", dec->vm);
        snprintf(rq.dst, sizeof(rq.dst), "%s", dec->dst_host);
        snprintf(rq.origin, sizeof(rq.origin), "allocator #%" PRIu64 " (%s)", it->id,
                 rac_mode_str(dec->mode));
        unsigned status;
        uint64_t mid = migrations_start(d, &rq, t_ms, &status);
        if (mid == 0) {
            snprintf(done, sizeof(done), "%s", err_msg());
            pending_finish(d->alloc.q, it->id, false, done, t_ms);
            record(d, t_ms, it->id, dec, "failed", done);
            return;
        }
        snprintf(done, sizeof(done), "live migration #%" PRIu64 " started", mid);
        record(d, t_ms, it->id, dec, "running", done);
        return;
    }
    default:
        rc = err_set("nothing to do");
        break;
    }
    if (rc < 0)
        snprintf(done, sizeof(done), "%s", err_msg());
    pending_finish(d->alloc.q, it->id, rc == 0, done, t_ms);
    record(d, t_ms, it->id, dec, rc == 0 ? "done" : "failed", done);
}

static void later_add(struct alloc *a, const struct pending_item *it)
{
    xgrow((void **)&a->later, &a->cap_later, a->n_later + 1, sizeof(*a->later));
    a->later[a->n_later++] = *it;
}

/* Run what is due: first what waited from earlier ticks, then newly approved
 * entries, within the per-tick budget and one action per VM at a time. */
static void run_due(struct daemon *d, int64_t t_ms)
{
    struct alloc *a = &d->alloc;
    size_t budget = (size_t)d->conf->max_actions_per_tick;
    struct strmap acted; /* VMs acted on this tick */
    strmap_init(&acted);
    struct pending_item *items = a->later;
    size_t n = a->n_later;
    a->later = NULL;
    a->n_later = a->cap_later = 0;
    size_t room = budget > n ? budget - n : 0;
    if (room) {
        items = xrealloc(items, (n + room) * sizeof(*items));
        n += pending_take_approved(a->q, items + n, room);
    }
    for (size_t i = 0; i < n; i++) {
        const char *vm = items[i].decision.vm;
        if (budget == 0 || migrations_busy(d, vm) || strmap_get(&acted, vm)) {
            later_add(a, &items[i]);
            continue;
        }
        budget--;
        strmap_put(&acted, vm, (void *)1);
        execute(d, &items[i], t_ms);
    }
    free(items);
    strmap_free(&acted);
}

static json_t *item_json(const struct pending_item *it)
{
    const struct rac_decision *dd = &it->decision;
    return json_pack("{s:I, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:I, "
                     "s:I, s:s, s:s}",
                     "id", (json_int_t)it->id, "state", pending_state_str(it->state), "created_ms",
                     (json_int_t)it->created_ms, "expires_ms", (json_int_t)it->expires_ms,
                     "decided_ms", (json_int_t)it->decided_ms, "decided_by", it->decided_by, "note",
                     it->note, "vm", dd->vm, "host", dd->host, "action", rac_action_str(dd->action),
                     "mode", rac_mode_str(dd->mode), "priority", dd->priority, "new_vcpus",
                     (int)dd->new_vcpus, "new_mem_kib", (json_int_t)dd->new_mem_kib, "disk_bytes",
                     (json_int_t)dd->disk_bytes, "dst_host", dd->dst_host, "reason", dd->reason);
}

static void publish_pending(struct daemon *d, int64_t t_ms)
{
    size_t n;
    const struct pending_item *items = pending_items(d->alloc.q, &n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, item_json(&items[i]));
    json_t *j = json_pack("{s:I, s:o}", "t_ms", (json_int_t)t_ms, "pending", arr);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (s) {
        http_server_publish_pending(d->http, xstrdup(s));
        free(s);
    }
    d->alloc.dirty = false;
}

static const struct vm_rates *vm_rates_of(const void *ctx, const char *vm)
{
    return monitor_vm_latest(ctx, vm);
}

static const struct host_rates *host_rates_of(const void *ctx, const char *host)
{
    return monitor_host_latest(ctx, host);
}

void alloc_tick(struct daemon *d, const struct inventory *inv, int64_t t_ms)
{
    struct alloc *a = &d->alloc;
    struct pending_item gone[ALLOC_EXPIRE_BATCH];
    size_t n_gone = pending_expire(a->q, t_ms, gone, ARRAY_LEN(gone));
    for (size_t i = 0; i < n_gone; i++)
        record(d, t_ms, gone[i].id, &gone[i].decision, "expired", "nobody approved it in time");
    if (a->n_req) {
        struct rac_decision *out = xcalloc(a->n_req, sizeof(*out));
        struct rac_rates_view view = {.vm = vm_rates_of, .host = host_rates_of, .ctx = d->monitor};
        rac_decide(a->req, a->n_req, inv, &view, &d->conf->marks, d->conf->alloc_mode, out);
        for (size_t i = 0; i < a->n_req; i++) {
            /* The reason says which rule asked. */
            size_t len = strlen(out[i].reason);
            snprintf(out[i].reason + len, sizeof(out[i].reason) - len, " (%s)", a->req[i].cause);
            decide(d, &out[i], t_ms);
        }
        free(out);
        a->n_req = 0;
    }
    run_due(d, t_ms);
    pending_prune(a->q, t_ms - ALLOC_KEEP_MS);
    alloc_publish(d, t_ms);
}

void alloc_answer(struct daemon *d, struct http_cmd *c, int64_t t_ms)
{
    struct alloc *a = &d->alloc;
    bool approve = c->kind == HTTP_CMD_APPROVE;
    int rc = approve ? pending_approve(a->q, c->id, c->by, t_ms)
                     : pending_reject(a->q, c->id, c->by, t_ms);
    const struct pending_item *it = pending_get(a->q, c->id);
    if (rc < 0) {
        c->status = it ? 409 : 404;
        snprintf(c->message, sizeof(c->message), "%s", err_msg());
        if (it && it->state == PENDING_EXPIRED)
            a->dirty = true;
        return;
    }
    char note[128];
    snprintf(note, sizeof(note), "%s by %s", approve ? "approved" : "rejected", c->by);
    record(d, t_ms, c->id, &it->decision, approve ? "approved" : "rejected", note);
    c->status = 200;
    snprintf(c->message, sizeof(c->message), "#%" PRIu64 " %s %s: %s%s", c->id,
             rac_action_str(it->decision.action), it->decision.vm, note,
             approve ? "; it runs at the next tick" : "");
}

void alloc_publish(struct daemon *d, int64_t t_ms)
{
    if (d->alloc.dirty)
        publish_pending(d, t_ms);
}

void alloc_migration_done(struct daemon *d, uint64_t id, bool ok, const char *result, int64_t t_ms)
{
    const struct pending_item *it = pending_get(d->alloc.q, id);
    if (!it) {
        log_warn("alloc", "migration result for unknown queue entry #%" PRIu64 ": %s", id, result);
        return;
    }
    pending_finish(d->alloc.q, id, ok, result, t_ms);
    record(d, t_ms, id, &it->decision, ok ? "done" : "failed", result);
}
