/* reconcile: migrations arasd had queued or running when it stopped (killed,
 * crashed, or shut down while a migration ran). At start they are read from
 * the history's open rows; the first tick compares each with what libvirt
 * reports — still running (followed until it ends), the VM on the
 * destination (completed meanwhile), on the source (did not complete), or
 * neither/both — and records the outcome: the row closed, an event, and for
 * the allocator's migrations a decision row. */
#include "daemon/daemon.h"

#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <inttypes.h>
#include <string.h>

int migrations_init(struct daemon *d)
{
    struct migrations *ms = &d->migr;
    pthread_mutex_init(&ms->cancel_lock, NULL);
    ms->lock_ready = true;
    ms->dirty = true;
    struct history_migration *rows = NULL;
    size_t n = 0;
    if (history_list_migrations(d->history, 0, HISTORY_LIST_MAX, true, &rows, &n) < 0)
        return err_prefix("reading the migrations arasd had in flight");
    for (size_t i = 0; i < n; i++) {
        const struct history_migration *r = &rows[i];
        xgrow((void **)&ms->v, &ms->cap, ms->n + 1, sizeof(*ms->v));
        struct migration *m = &ms->v[ms->n++];
        memset(m, 0, sizeof(*m));
        m->id = (uint64_t)r->id;
        snprintf(m->vm, sizeof(m->vm), "%s", r->vm ? r->vm : "");
        snprintf(m->src, sizeof(m->src), "%s", r->src ? r->src : "");
        snprintf(m->dst, sizeof(m->dst), "%s", r->dst ? r->dst : "");
        snprintf(m->origin, sizeof(m->origin), "%s", r->origin ? r->origin : "");
        m->decision_id = r->decision_id > 0 ? (uint64_t)r->decision_id : 0;
        m->params_json = r->params ? xstrdup(r->params) : NULL;
        m->state =
            r->state && strcmp(r->state, "queued") == 0 ? MIGRATION_QUEUED : MIGRATION_RUNNING;
        m->created_ms = r->created_ms;
        m->started_ms = r->started_ms;
        m->adopted = true;
        log_info("migrate", "migration #%" PRIu64 " of %s %s -> %s was %s when arasd stopped",
                 m->id, m->vm, m->src, m->dst, migration_state_str(m->state));
    }
    history_migrations_free(rows, n);
    return 0;
}

/* The allocator's decision behind an adopted migration: its queue is gone
 * with the old process, so the outcome goes straight into the history. */
static void record_decision(struct daemon *d, const struct migration *m, bool ok, int64_t t_ms)
{
    AUTOFREE char *reason = xasprintf("[#%" PRIu64 ", reconciled] %s (after an arasd restart)",
                                      m->decision_id, m->result);
    struct history_decision hd = {.t_ms = t_ms,
                                  .vm = m->vm,
                                  .action = "migrate",
                                  .reason = reason,
                                  .state = ok ? "done" : "failed"};
    if (history_record_decision(d->history, &hd, NULL) < 0)
        log_warn("migrate", "recording a decision: %s", err_msg());
}

static void close_adopted(struct daemon *d, struct migration *m, enum migration_state st,
                          const char *result, int64_t t_ms)
{
    m->reconciled = true;
    m->following = false;
    migrations_finish(d, m, st, result, t_ms);
    if (m->decision_id)
        record_decision(d, m, st == MIGRATION_COMPLETED, t_ms);
}

void migrations_resolve(struct daemon *d, struct migration *m, int64_t t_ms)
{
    struct vm_placement p;
    if (backend_vm_placement(d->backend, m->vm, m->src, m->dst, &p) < 0) {
        if (!m->told_waiting)
            migrations_event(d, m, HISTORY_SEV_WARN, t_ms,
                             "cannot reconcile it yet (retrying every tick): %s", err_msg());
        m->told_waiting = true;
        return;
    }
    char where[MODEL_NAME_MAX], text[384];
    int once = backend_vm_check_once(d->backend, m->vm, m->src, m->dst, where, sizeof(where));
    const char *when = m->following ? "after arasd's restart" : "while arasd was not running";
    if (once == 0 && strcmp(where, m->dst) == 0) {
        snprintf(text, sizeof(text), "completed %s; the VM runs once, on %s", when, where);
        close_adopted(d, m, MIGRATION_COMPLETED, text, t_ms);
    } else if (once == 0) {
        snprintf(text, sizeof(text), "did not complete %s; the VM still runs once, on %s", when,
                 where);
        close_adopted(d, m, MIGRATION_FAILED, text, t_ms);
    } else {
        snprintf(text, sizeof(text), "ended %s: %s", when, err_msg());
        close_adopted(d, m, MIGRATION_FAILED, text, t_ms);
        migrations_event(d, m, HISTORY_SEV_CRIT, t_ms, "%s", text);
    }
}

static void reconcile_one(struct daemon *d, struct migration *m, int64_t t_ms)
{
    if (m->state == MIGRATION_QUEUED) {
        close_adopted(d, m, MIGRATION_CANCELLED,
                      "arasd stopped before it started this migration; not run", t_ms);
        return;
    }
    struct migrate_progress p;
    if (backend_migrate_progress(d->backend, m->vm, &p) == 0 && p.state == MIGRATE_JOB_RUNNING) {
        m->reconciled = m->following = true;
        m->progress = p;
        m->have_progress = true;
        d->migr.dirty = true;
        uint64_t sent = p.data_processed_bytes, left = p.data_remaining_bytes;
        migrations_event(d, m, HISTORY_SEV_INFO, t_ms,
                         "was running when arasd stopped; libvirt still runs it (%.0f%% of the "
                         "data sent): following it",
                         sent + left ? 100.0 * (double)sent / (double)(sent + left) : 0.0);
        return;
    }
    err_clear();
    migrations_resolve(d, m, t_ms);
}

void migrations_reconcile(struct daemon *d, int64_t t_ms)
{
    for (size_t i = 0; i < d->migr.n; i++) {
        struct migration *m = &d->migr.v[i];
        if (m->adopted && !m->reconciled)
            reconcile_one(d, m, t_ms);
    }
}
