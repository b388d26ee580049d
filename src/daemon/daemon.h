/* daemon: arasd's internals shared by its files (main, loop, tick, changes,
 * rules: SLA rules and their notifications, alloc: the resource allocation
 * controller and its approval queue, migrations: every live migration and the
 * reconciliation at start, commands: the API's requests, worker: threads for
 * blocking work). */
#ifndef ARAS_DAEMON_DAEMON_H
#define ARAS_DAEMON_DAEMON_H

#include "backend/backend.h"
#include "conf/conf.h"
#include "history/history.h"
#include "http/http.h"
#include "model/model.h"
#include "monitor/monitor.h"
#include "notify/notify.h"
#include "policy/pending.h"
#include "policy/rac.h"
#include "policy/sla.h"
#include "util/clock.h"
#include "util/strmap.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define DAEMON_EVENTS_PER_TICK   1000 /* more changes than this in one tick are summarised */
#define DAEMON_MONITOR_WINDOW_MS (30 * 60 * 1000)

/* Events gathered during one tick; owns the strings in each event. */
struct evlist {
    struct history_event *ev;
    size_t n, cap;
    size_t dropped; /* over DAEMON_EVENTS_PER_TICK */
};

/* Append an event; object, message and detail (NULL allowed) are taken over. */
void evlist_add(struct evlist *l, int64_t t_ms, enum history_severity sev, const char *kind,
                char *object, char *message, char *detail);
/* Free the strings and forget the events (keeps the array). */
void evlist_clear(struct evlist *l);
void evlist_free(struct evlist *l);

/* What the previous tick saw, to turn inventory differences into events. */
struct changes {
    struct inventory prev;
    bool primed; /* false until the first tick */
};

void changes_init(struct changes *c);
/* Append events for hosts and VMs that appeared, disappeared, changed state
 * or moved since the last call, then remember inv. The first call records one
 * "inventory" event instead of one per object. */
void changes_diff(struct changes *c, const struct inventory *inv, int64_t t_ms, struct evlist *out);
void changes_free(struct changes *c);

/* ---- worker threads (worker.c) ---------------------------------------------
 * Blocking work (scripts, SNMP sends, e-mail delivery, migrations) runs on a
 * worker so that the loop never waits for it. The loop posts jobs; the worker
 * runs them in order and keeps them, with their result, until the loop takes
 * them back at the next tick. A job is self-contained (no pointers into the
 * configuration, which a reload may free). */
#define WORKER_QUEUE_MAX 256 /* queued jobs per worker; more are refused */

enum job_kind { JOB_SCRIPT, JOB_SNMP, JOB_MIGRATE };

/* JOB_MIGRATE: what the worker migrates, and the backend's final report. */
struct migration_job {
    uint64_t id;
    char vm[MODEL_NAME_MAX], src[MODEL_NAME_MAX], dst[MODEL_NAME_MAX];
    struct migrate_params params;
    struct migrate_progress res; /* set by the worker */
};

struct job {
    struct job *next;
    enum job_kind kind;
    struct notify_event ev;      /* JOB_SCRIPT, JOB_SNMP */
    char script[SLA_ACTION_MAX]; /* JOB_SCRIPT: absolute path */
    int64_t script_timeout_ms;
    struct migration_job migr; /* JOB_MIGRATE */
    /* Set by the worker: */
    bool ok;
    char result[384];
};

struct daemon;

struct worker {
    const char *name;
    struct daemon *d;
    pthread_t thread;
    bool started, stop;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *todo, *todo_tail, *done, *done_tail;
    size_t n_todo;
    void (*idle)(struct worker *w); /* called about once a second, may be NULL */
};

/* Start the thread. -1 with err_set() if it cannot be created. */
int worker_start(struct worker *w, const char *name, struct daemon *d,
                 void (*idle)(struct worker *w));
/* Queue j (taken over). Returns false, freeing j, when the queue is full. */
bool worker_post(struct worker *w, struct job *j);
/* Detach the list of finished jobs, oldest first (NULL if none); the caller
 * frees each. */
struct job *worker_take_done(struct worker *w);
/* Ask the thread to stop after its current job, join it, free what is left. */
void worker_stop(struct worker *w);

/* ---- SLA rules and the event controller (rules.c) -------------------------- */

/* Build the rule engine and the notifiers from d->conf. -1 with err_set(). */
int rules_init(struct daemon *d);
/* SIGHUP: a fresh engine from next's rules (open episodes restart). */
void rules_reload(struct daemon *d, const struct conf *next);
/* Feed this tick's rates to the engine, record and act on its events. */
void rules_tick(struct daemon *d, const struct inventory *inv, int64_t t_ms);
/* Record the result of a finished script/SNMP job. */
void rules_job_done(struct daemon *d, const struct job *j, int64_t t_ms);
void rules_free(struct daemon *d);
/* Run a script or SNMP job (on a worker thread). */
void rules_job_run(struct daemon *d, struct job *j);

/* ---- resource allocation controller (alloc.c) ------------------------------ */

struct alloc {
    struct pending_queue *q;
    struct rac_request *req; /* collected this tick from "allocate" actions */
    size_t n_req, cap_req;
    struct pending_item *later; /* taken but not yet run (VM busy, over budget) */
    size_t n_later, cap_later;
    bool dirty; /* the queue changed since the API last got it */
};

int alloc_init(struct daemon *d);
/* An "allocate" action of a fired rule: a request for this tick's round. */
void alloc_request(struct daemon *d, const struct sla_event *ev);
/* Decide on this tick's requests, expire and run approved entries. */
void alloc_tick(struct daemon *d, const struct inventory *inv, int64_t t_ms);
/* Answer an approve/reject command of the API (loop thread). */
void alloc_answer(struct daemon *d, struct http_cmd *c, int64_t t_ms);
/* The outcome of the migration the allocator started for its queue entry id
 * (called by migrations.c). */
void alloc_migration_done(struct daemon *d, uint64_t id, bool ok, const char *result, int64_t t_ms);
/* Publish the approval queue if it changed. */
void alloc_publish(struct daemon *d, int64_t t_ms);
void alloc_free(struct daemon *d);

/* ---- live migrations (migrations.c, reconcile.c) ---------------------------
 * Every live migration arasd runs, the allocator's and the operator's (POST
 * /api/v1/migrations, `arasctl migrate`), goes through migrations_start(): a
 * row in the history's migrations table, a job on the action worker, its
 * progress while it runs (refreshed every MIGRATIONS_REFRESH_MS), the outcome
 * with the "exactly once" check, and an event at each step. At start, the
 * rows still open in the history (migrations arasd was running or had queued
 * when it stopped) are reconciled with what libvirt reports at the first tick:
 * still running (followed until it ends), completed or failed meanwhile. */
#define MIGRATIONS_REFRESH_MS 1000
#define MIGRATIONS_KEEP_MS    (60 * 60 * 1000) /* finished ones stay listed this long */
#define MIGRATIONS_ORIGIN_MAX 128

struct migration_request {
    char vm[MODEL_NAME_MAX];
    char dst[MODEL_NAME_MAX];
    struct migrate_params params;
    char origin[MODEL_NAME_MAX]; /* who asked, for the history: "operator alice" */
    uint64_t decision_id;        /* the allocator's queue id (alloc_migration_done), 0: none */
};

enum migration_state {
    MIGRATION_QUEUED,
    MIGRATION_RUNNING,
    MIGRATION_COMPLETED,
    MIGRATION_FAILED,
    MIGRATION_CANCELLED,
};
const char *migration_state_str(enum migration_state s);

/* One migration as the loop tracks it (loop thread only). */
struct migration {
    uint64_t id; /* = its row id in the history */
    char vm[MODEL_NAME_MAX], src[MODEL_NAME_MAX], dst[MODEL_NAME_MAX];
    char origin[MODEL_NAME_MAX];
    uint64_t decision_id;
    char *params_json; /* as recorded */
    enum migration_state state;
    int64_t created_ms, started_ms, finished_ms; /* 0 = not yet */
    struct migrate_progress progress;
    bool have_progress;
    bool adopted;      /* found open in the history at start */
    bool reconciled;   /* adopted: compared with what libvirt reports */
    bool following;    /* adopted and still running in libvirt */
    bool told_waiting; /* adopted: "cannot reconcile yet" was recorded */
    bool verify;       /* finished, but where the VM runs could not be checked yet */
    char result[384];
};

struct migrations {
    struct migration *v;
    size_t n, cap;
    pthread_mutex_t cancel_lock; /* guards cancelled: the worker reads it */
    uint64_t *cancelled;         /* ids aborted while queued */
    size_t n_cancelled, cap_cancelled;
    int64_t next_refresh_ms; /* monotonic; 0 = nothing in flight */
    int64_t last_tick_ms;    /* wall time of the inventory the checks use */
    bool dirty;              /* changed since last published */
    bool lock_ready;         /* cancel_lock initialised */
};

/* Read the open rows of the history (for the first tick to reconcile). */
int migrations_init(struct daemon *d);
void migrations_free(struct daemon *d);
/* Queue a live migration of rq->vm to rq->dst on the action worker, after
 * checking it against the last inventory: the VM runs on a host other than
 * dst, dst is up, no migration of the VM is queued or running. Returns the
 * new migration's id, or 0 with err_set() and *status the HTTP status that
 * fits (404 unknown VM or host, 409 not running, already there or busy, 503
 * host down or queue full, 500 history error). */
uint64_t migrations_start(struct daemon *d, const struct migration_request *rq, int64_t t_ms,
                          unsigned *status);
/* Whether a migration of vm is queued or running. */
bool migrations_busy(const struct daemon *d, const char *vm);
/* Every tick: reconcile adopted rows, refresh progress, re-check where
 * finished VMs run if that failed before, publish. */
void migrations_tick(struct daemon *d, const struct inventory *inv, int64_t t_ms);
/* Between ticks: refresh progress and publish when due (loop.c); returns
 * the monotonic time of the next refresh, or INT64_MAX when none is due. */
int64_t migrations_refresh(struct daemon *d);
/* Run a JOB_MIGRATE (on the action worker). */
void migrations_job_run(struct daemon *d, struct job *j);
/* Record a finished JOB_MIGRATE. */
void migrations_job_done(struct daemon *d, const struct job *j, int64_t t_ms);
/* Answer HTTP_CMD_MIGRATE and HTTP_CMD_MIGRATE_ABORT. */
void migrations_answer(struct daemon *d, struct http_cmd *c, int64_t t_ms);
/* Publish the list for GET /api/v1/migrations if it changed. */
void migrations_publish(struct daemon *d, int64_t t_ms);
/* reconcile.c: the adopted rows at the first tick and after (see above). */
void migrations_reconcile(struct daemon *d, int64_t t_ms);
/* An adopted migration libvirt no longer runs: record where the VM ended up. */
void migrations_resolve(struct daemon *d, struct migration *m, int64_t t_ms);
/* Finish m (state, result) in memory, in the history and as an event. */
void migrations_finish(struct daemon *d, struct migration *m, enum migration_state st,
                       const char *result, int64_t t_ms);
/* Record m's row as it is now (after a change). */
void migrations_save(struct daemon *d, const struct migration *m);
/* An event about m: "migration #N of VM SRC -> DST (ORIGIN): TEXT". */
void migrations_event(struct daemon *d, const struct migration *m, enum history_severity sev,
                      int64_t t_ms, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- API commands (commands.c) --------------------------------------------- */

/* Answer every command the API queued (loop thread), then write the events
 * they caused and publish what changed. */
void daemon_commands(struct daemon *d);
/* Write the events gathered outside a tick to the history now. */
void daemon_events_flush(struct daemon *d);

/* The running daemon. */
struct daemon {
    const char *conf_path;  /* NULL: built-in defaults */
    struct conf *boot_conf; /* as started: settings that need a restart */
    struct conf *conf;      /* latest successfully loaded */
    struct clock clock;
    struct backend *backend;
    struct monitor *monitor;
    struct history *history;
    struct http_server *http;
    int sig_fd;
    bool pid_written; /* remove pid_file on exit */
    int64_t started_ms;
    uint64_t ticks;
    double energy_kwh; /* < 0 while the backend reports no power */
    int64_t last_power_t_ms;
    struct changes changes;
    struct evlist events;
    /* SLA rules and notifiers (rules.c) */
    struct sla_engine *sla;
    struct sla_events sla_events;
    uint64_t next_notify_id;
    struct notify_email *email; /* NULL: no [email] */
    struct notify_snmp_conf snmp;
    bool snmp_on;
    struct worker notify_worker; /* scripts, SNMP, e-mail delivery */
    struct worker action_worker; /* migrations */
    struct alloc alloc;
    struct migrations migr;
};

/* One tick: poll, record, publish (tick.c). Errors are logged, not returned. */
void daemon_tick(struct daemon *d);
/* Run ticks until SIGTERM/SIGINT; SIGHUP reloads the config (loop.c).
 * Returns the exit status. */
int daemon_loop(struct daemon *d);
/* Block the signals the loop handles and open a signalfd for them; call
 * before any thread starts so that no thread gets them asynchronously. */
int daemon_signals_init(struct daemon *d);

#endif
