/* migrations: every live migration arasd runs — the allocator's and the
 * operator's — from the request (checked against the last inventory) to a
 * row in the history, a job on the action worker, progress from the backend
 * while it runs, the outcome with the "exactly once" check, and the list the
 * API serves. The rows found open at start are reconciled in reconcile.c. */
#include "daemon/daemon.h"

#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const state_names[] = {
    [MIGRATION_QUEUED] = "queued",       [MIGRATION_RUNNING] = "running",
    [MIGRATION_COMPLETED] = "completed", [MIGRATION_FAILED] = "failed",
    [MIGRATION_CANCELLED] = "cancelled",
};

const char *migration_state_str(enum migration_state s)
{
    return (unsigned)s < ARRAY_LEN(state_names) ? state_names[s] : "?";
}

static bool in_flight(const struct migration *m)
{
    return m->state == MIGRATION_QUEUED || m->state == MIGRATION_RUNNING;
}

static struct migration *find(struct migrations *ms, uint64_t id)
{
    for (size_t i = 0; i < ms->n; i++) {
        if (ms->v[i].id == id)
            return &ms->v[i];
    }
    return NULL;
}

bool migrations_busy(const struct daemon *d, const char *vm)
{
    for (size_t i = 0; i < d->migr.n; i++) {
        if (in_flight(&d->migr.v[i]) && strcmp(d->migr.v[i].vm, vm) == 0)
            return true;
    }
    return false;
}

void migrations_event(struct daemon *d, const struct migration *m, enum history_severity sev,
                      int64_t t_ms, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    char *msg = xasprintf("migration #%" PRIu64 " of %s %s -> %s (%s): %s", m->id, m->vm, m->src,
                          m->dst, m->origin, text);
    log_msg(sev == HISTORY_SEV_INFO ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, "migrate", "%s", msg);
    evlist_add(&d->events, t_ms, sev, "migration", xasprintf("vm/%s", m->vm), msg, NULL);
}

static void to_row(const struct migration *m, struct history_migration *r)
{
    bool fin = m->finished_ms != 0 && m->have_progress;
    *r = (struct history_migration){
        .id = (int64_t)m->id,
        .vm = m->vm,
        .src = m->src,
        .dst = m->dst,
        .origin = m->origin,
        .decision_id = (int64_t)m->decision_id,
        .params = m->params_json,
        .state = migration_state_str(m->state),
        .created_ms = m->created_ms,
        .started_ms = m->started_ms,
        .finished_ms = m->finished_ms,
        .elapsed_ms = fin ? m->progress.elapsed_ms : -1,
        .downtime_ms = fin ? m->progress.downtime_ms : -1,
        .bytes = fin && m->progress.data_processed_bytes ? (int64_t)m->progress.data_processed_bytes
                                                         : -1,
        .result = m->result[0] ? m->result : NULL,
    };
}

void migrations_save(struct daemon *d, const struct migration *m)
{
    struct history_migration r;
    to_row(m, &r);
    if (history_migration_update(d->history, &r) < 0)
        log_warn("migrate", "recording migration #%" PRIu64 ": %s", m->id, err_msg());
    d->migr.dirty = true;
}

void migrations_finish(struct daemon *d, struct migration *m, enum migration_state st,
                       const char *result, int64_t t_ms)
{
    m->state = st;
    m->finished_ms = t_ms;
    if (!m->started_ms) {
        int64_t el = m->have_progress ? m->progress.elapsed_ms : 0;
        m->started_ms = el > 0 && t_ms - el > m->created_ms ? t_ms - el : t_ms;
    }
    snprintf(m->result, sizeof(m->result), "%s", result);
    migrations_save(d, m);
    migrations_event(d, m, st == MIGRATION_COMPLETED ? HISTORY_SEV_INFO : HISTORY_SEV_WARN, t_ms,
                     "%s: %s", migration_state_str(st), result);
}

/* Where the VM runs: the host the last completed migration put it on, if that
 * finished after the inventory was taken; else the inventory's. */
static const char *source_of(const struct migrations *ms, const struct vm *v)
{
    const char *src = v->host;
    for (size_t i = 0; i < ms->n; i++) {
        const struct migration *m = &ms->v[i];
        if (m->state == MIGRATION_COMPLETED && strcmp(m->vm, v->name) == 0 &&
            m->finished_ms >= ms->last_tick_ms)
            src = m->dst;
    }
    return src;
}

/* The request against the last inventory; 0 or -1 with err_set(), *status. */
static int check_request(struct daemon *d, const struct migration_request *rq, const char **src,
                         unsigned *status)
{
    const struct inventory *inv = monitor_inventory(d->monitor);
    const struct vm *v = inventory_find_vm(inv, rq->vm);
    const struct host *h = inventory_find_host(inv, rq->dst);
    *status = 404;
    if (!v)
        return err_set("no VM named '%s' (as of arasd's last poll)", rq->vm);
    if (!h)
        return err_set("no host named '%s' in the cluster", rq->dst);
    *status = 409;
    *src = source_of(&d->migr, v);
    if (migrations_busy(d, rq->vm))
        return err_set("VM '%s' is already being migrated (see 'arasctl migrations')", rq->vm);
    if (v->state != VM_STATE_RUNNING)
        return err_set("VM '%s' is %s; only a running VM can be live-migrated", rq->vm,
                       vm_state_str(v->state));
    if (strcmp(*src, rq->dst) == 0)
        return err_set("VM '%s' already runs on '%s'", rq->vm, rq->dst);
    *status = 503;
    if (!h->up)
        return err_set("host '%s' is not connected", rq->dst);
    return 0;
}

static struct migration *add_entry(struct migrations *ms)
{
    xgrow((void **)&ms->v, &ms->cap, ms->n + 1, sizeof(*ms->v));
    struct migration *m = &ms->v[ms->n++];
    memset(m, 0, sizeof(*m));
    return m;
}

uint64_t migrations_start(struct daemon *d, const struct migration_request *rq, int64_t t_ms,
                          unsigned *status)
{
    const char *src = NULL;
    if (check_request(d, rq, &src, status) < 0)
        return 0;
    json_t *pj = http_migrate_params_json(&rq->params);
    char *params = json_dumps(pj, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(pj);
    struct history_migration row = {.vm = rq->vm,
                                    .src = src,
                                    .dst = rq->dst,
                                    .origin = rq->origin,
                                    .decision_id = (int64_t)rq->decision_id,
                                    .params = params,
                                    .state = "queued",
                                    .created_ms = t_ms,
                                    .elapsed_ms = -1,
                                    .downtime_ms = -1,
                                    .bytes = -1};
    int64_t id = 0;
    if (history_migration_add(d->history, &row, &id) < 0 || id <= 0) {
        *status = 500;
        free(params);
        return 0;
    }
    struct migration *m = add_entry(&d->migr);
    m->id = (uint64_t)id;
    snprintf(m->vm, sizeof(m->vm), "%s", rq->vm);
    snprintf(m->src, sizeof(m->src), "%s", src);
    snprintf(m->dst, sizeof(m->dst), "%s", rq->dst);
    snprintf(m->origin, sizeof(m->origin), "%s", rq->origin);
    m->decision_id = rq->decision_id;
    m->params_json = params;
    m->created_ms = t_ms;
    m->state = MIGRATION_QUEUED;
    struct job *j = xcalloc(1, sizeof(*j));
    j->kind = JOB_MIGRATE;
    j->migr.id = m->id;
    snprintf(j->migr.vm, sizeof(j->migr.vm), "%s", rq->vm);
    snprintf(j->migr.src, sizeof(j->migr.src), "%s", src);
    snprintf(j->migr.dst, sizeof(j->migr.dst), "%s", rq->dst);
    j->migr.params = rq->params;
    if (!worker_post(&d->action_worker, j)) {
        migrations_finish(d, m, MIGRATION_FAILED, "not started: the action queue is full", t_ms);
        *status = 503;
        return err_set("migration #%" PRIu64 " not started: the action queue is full", m->id), 0;
    }
    migrations_event(d, m, HISTORY_SEV_INFO, t_ms, "queued, parameters %s", params);
    d->migr.dirty = true;
    d->migr.next_refresh_ms = clock_mono_ms(&d->clock);
    return m->id;
}

static bool take_cancelled(struct migrations *ms, uint64_t id)
{
    bool found = false;
    pthread_mutex_lock(&ms->cancel_lock);
    for (size_t i = 0; i < ms->n_cancelled && !found; i++) {
        if (ms->cancelled[i] == id) {
            ms->cancelled[i] = ms->cancelled[--ms->n_cancelled];
            found = true;
        }
    }
    pthread_mutex_unlock(&ms->cancel_lock);
    return found;
}

void migrations_job_run(struct daemon *d, struct job *j)
{
    struct migration_job *mj = &j->migr;
    memset(&mj->res, 0, sizeof(mj->res));
    mj->res.downtime_ms = -1;
    if (take_cancelled(&d->migr, mj->id)) {
        j->ok = false;
        mj->res.state = MIGRATE_JOB_CANCELLED;
        snprintf(j->result, sizeof(j->result), "migration of %s aborted before it started", mj->vm);
        return;
    }
    int rc = backend_migrate(d->backend, mj->vm, mj->dst, &mj->params, &mj->res);
    j->ok = rc == 0;
    if (rc == 0)
        snprintf(j->result, sizeof(j->result),
                 "migrated %s from %s to %s in %.1f s, downtime %" PRId64
                 " ms, %.1f MiB transferred%s",
                 mj->vm, mj->src, mj->dst, (double)mj->res.elapsed_ms / 1000.0, mj->res.downtime_ms,
                 (double)mj->res.data_processed_bytes / (1 << 20),
                 mj->res.postcopy_active ? ", post-copy" : "");
    else
        snprintf(j->result, sizeof(j->result), "migration of %s from %s to %s failed: %s", mj->vm,
                 mj->src, mj->dst, err_msg());
}

/* Add where the VM runs now to result; false when a host could not be asked. */
static bool verdict(struct daemon *d, const struct migration *m, char *out, size_t size)
{
    struct vm_placement p;
    char where[MODEL_NAME_MAX];
    if (backend_vm_placement(d->backend, m->vm, m->src, m->dst, &p) < 0) {
        snprintf(out, size, "where it runs is not known yet: %s", err_msg());
        return false;
    }
    if (backend_vm_check_once(d->backend, m->vm, m->src, m->dst, where, sizeof(where)) < 0)
        snprintf(out, size, "%s", err_msg());
    else
        snprintf(out, size, "the VM runs once, on %s", where);
    return true;
}

void migrations_job_done(struct daemon *d, const struct job *j, int64_t t_ms)
{
    const struct migration_job *mj = &j->migr;
    struct migration *m = find(&d->migr, mj->id);
    if (!m) {
        log_warn("migrate", "result of unknown migration #%" PRIu64 ": %s", mj->id, j->result);
        return;
    }
    m->progress = mj->res;
    m->have_progress = true;
    enum migration_state st = j->ok                                    ? MIGRATION_COMPLETED
                              : mj->res.state == MIGRATE_JOB_CANCELLED ? MIGRATION_CANCELLED
                                                                       : MIGRATION_FAILED;
    char where[256], result[sizeof(m->result)];
    m->verify = !verdict(d, m, where, sizeof(where));
    snprintf(result, sizeof(result), "%s; %s", j->result, where);
    migrations_finish(d, m, st, result, t_ms);
    if (strstr(where, "does not run exactly once"))
        migrations_event(d, m, HISTORY_SEV_CRIT, t_ms, "%s", where);
    if (m->decision_id)
        alloc_migration_done(d, m->decision_id, st == MIGRATION_COMPLETED, result, t_ms);
}

/* Progress of each migration in flight; adopted ones that ended are resolved. */
static bool refresh(struct daemon *d, int64_t t_ms)
{
    bool any = false;
    for (size_t i = 0; i < d->migr.n; i++) {
        struct migration *m = &d->migr.v[i];
        if (!in_flight(m) || (m->adopted && !m->reconciled))
            continue;
        any = true;
        struct migrate_progress p;
        if (backend_migrate_progress(d->backend, m->vm, &p) == 0 &&
            p.state == MIGRATE_JOB_RUNNING) {
            if (m->state == MIGRATION_QUEUED) {
                m->state = MIGRATION_RUNNING;
                m->started_ms = t_ms;
                migrations_save(d, m);
                migrations_event(d, m, HISTORY_SEV_INFO, t_ms, "running");
            }
            m->progress = p;
            m->have_progress = true;
            d->migr.dirty = true;
            continue;
        }
        err_clear();
        if (m->following)
            migrations_resolve(d, m, t_ms); /* it ended: see what libvirt left */
    }
    return any;
}

/* Finished VMs whose placement could not be checked: try again. */
static void reverify(struct daemon *d, const struct inventory *inv, int64_t t_ms)
{
    for (size_t i = 0; i < d->migr.n; i++) {
        struct migration *m = &d->migr.v[i];
        const struct host *s = inventory_find_host(inv, m->src);
        const struct host *t = inventory_find_host(inv, m->dst);
        if (!m->verify || !s || !t || !s->up || !t->up)
            continue;
        char where[256];
        if (!verdict(d, m, where, sizeof(where)))
            continue;
        m->verify = false;
        bool once = strstr(where, "does not run exactly once") == NULL;
        migrations_event(d, m, once ? HISTORY_SEV_INFO : HISTORY_SEV_CRIT, t_ms,
                         "checked again now that both hosts answer: %s", where);
    }
}

static void prune(struct migrations *ms, int64_t t_ms)
{
    size_t k = 0;
    for (size_t i = 0; i < ms->n; i++) {
        struct migration *m = &ms->v[i];
        if (!in_flight(m) && !m->verify && m->finished_ms < t_ms - MIGRATIONS_KEEP_MS) {
            free(m->params_json);
            ms->dirty = true;
            continue;
        }
        ms->v[k++] = *m;
    }
    ms->n = k;
}

void migrations_publish(struct daemon *d, int64_t t_ms)
{
    if (!d->migr.dirty)
        return;
    json_t *arr = json_array();
    for (size_t i = 0; i < d->migr.n; i++) {
        const struct migration *m = &d->migr.v[i];
        struct history_migration r;
        to_row(m, &r);
        bool live = in_flight(m) && m->have_progress;
        json_array_append_new(arr, http_migration_json(&r, live ? &m->progress : NULL));
    }
    json_t *j = json_pack("{s:I, s:o}", "t_ms", (json_int_t)t_ms, "migrations", arr);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (s) {
        http_server_publish_migrations(d->http, xstrdup(s));
        free(s);
    }
    d->migr.dirty = false;
}

void migrations_tick(struct daemon *d, const struct inventory *inv, int64_t t_ms)
{
    d->migr.last_tick_ms = t_ms;
    migrations_reconcile(d, t_ms);
    bool any = refresh(d, t_ms);
    reverify(d, inv, t_ms);
    prune(&d->migr, t_ms);
    d->migr.next_refresh_ms = any ? clock_mono_ms(&d->clock) + MIGRATIONS_REFRESH_MS : 0;
    migrations_publish(d, t_ms);
}

int64_t migrations_refresh(struct daemon *d)
{
    int64_t now = clock_mono_ms(&d->clock);
    if (d->migr.next_refresh_ms == 0)
        return INT64_MAX;
    if (now < d->migr.next_refresh_ms)
        return d->migr.next_refresh_ms;
    int64_t t_ms = clock_now_ms(&d->clock);
    bool any = refresh(d, t_ms);
    d->migr.next_refresh_ms = any ? now + MIGRATIONS_REFRESH_MS : 0;
    daemon_events_flush(d);
    migrations_publish(d, t_ms);
    return any ? d->migr.next_refresh_ms : INT64_MAX;
}

static void answer_abort(struct daemon *d, struct http_cmd *c, int64_t t_ms)
{
    struct migration *m = find(&d->migr, c->id);
    c->status = 409;
    if (!m) {
        c->status = 404;
        snprintf(c->message, sizeof(c->message),
                 "no migration #%" PRIu64 " in flight or finished in the last hour", c->id);
        return;
    }
    if (!in_flight(m)) {
        snprintf(c->message, sizeof(c->message), "migration #%" PRIu64 " has already %s", m->id,
                 m->state == MIGRATION_COMPLETED ? "completed" : "ended");
        return;
    }
    if (m->state == MIGRATION_QUEUED) {
        /* The worker skips it; if it has just begun, the backend aborts it. */
        pthread_mutex_lock(&d->migr.cancel_lock);
        xgrow((void **)&d->migr.cancelled, &d->migr.cap_cancelled, d->migr.n_cancelled + 1,
              sizeof(*d->migr.cancelled));
        d->migr.cancelled[d->migr.n_cancelled++] = m->id;
        pthread_mutex_unlock(&d->migr.cancel_lock);
        if (backend_migrate_abort(d->backend, m->vm) < 0)
            err_clear();
    } else if (backend_migrate_abort(d->backend, m->vm) < 0) {
        snprintf(c->message, sizeof(c->message), "migration #%" PRIu64 ": %s", m->id, err_msg());
        return;
    }
    migrations_event(d, m, HISTORY_SEV_WARN, t_ms, "abort requested by %s", c->by);
    c->status = 200;
    snprintf(c->message, sizeof(c->message),
             "abort of migration #%" PRIu64 " (%s %s -> %s) requested; the VM stays on %s", m->id,
             m->vm, m->src, m->dst, m->src);
}

void migrations_answer(struct daemon *d, struct http_cmd *c, int64_t t_ms)
{
    if (c->kind == HTTP_CMD_MIGRATE_ABORT)
        return answer_abort(d, c, t_ms);
    struct migration_request rq = {.params = c->migrate.params};
    snprintf(rq.vm, sizeof(rq.vm), "%s", c->migrate.vm);
    snprintf(rq.dst, sizeof(rq.dst), "%s", c->migrate.host);
    snprintf(rq.origin, sizeof(rq.origin), "operator %s", c->by);
    unsigned status = 500;
    uint64_t id = migrations_start(d, &rq, t_ms, &status);
    if (id == 0) {
        c->status = status;
        snprintf(c->message, sizeof(c->message), "%s", err_msg());
        return;
    }
    const struct migration *m = find(&d->migr, id);
    c->id = id;
    c->status = 202;
    snprintf(c->message, sizeof(c->message), "migration #%" PRIu64 " of %s %s -> %s queued", id,
             m->vm, m->src, m->dst);
}

void migrations_free(struct daemon *d)
{
    struct migrations *ms = &d->migr;
    for (size_t i = 0; i < ms->n; i++)
        free(ms->v[i].params_json);
    free(ms->v);
    free(ms->cancelled);
    if (ms->lock_ready)
        pthread_mutex_destroy(&ms->cancel_lock);
    memset(ms, 0, sizeof(*ms));
}
