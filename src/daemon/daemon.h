/* daemon: arasd's internals shared by its files (main, loop, tick, changes,
 * rules: SLA rules and their notifications, alloc: the resource allocation
 * controller and its approval queue, worker: threads for blocking work). */
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

struct job {
    struct job *next;
    enum job_kind kind;
    struct notify_event ev;      /* JOB_SCRIPT, JOB_SNMP */
    char script[SLA_ACTION_MAX]; /* JOB_SCRIPT: absolute path */
    int64_t script_timeout_ms;
    struct pending_item item; /* JOB_MIGRATE: the approved entry */
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
    struct strmap busy;         /* VM name -> (void *)1 while a migration runs */
    struct pending_item *later; /* taken but not yet run (VM busy, over budget) */
    size_t n_later, cap_later;
    bool dirty; /* the queue changed since the API last got it */
};

int alloc_init(struct daemon *d);
/* An "allocate" action of a fired rule: a request for this tick's round. */
void alloc_request(struct daemon *d, const struct sla_event *ev);
/* Decide on this tick's requests, expire and run approved entries. */
void alloc_tick(struct daemon *d, const struct inventory *inv, int64_t t_ms);
/* Answer the API's approve/reject commands (loop thread). */
void alloc_commands(struct daemon *d);
/* Record a finished migration. */
void alloc_job_done(struct daemon *d, const struct job *j, int64_t t_ms);
/* Run a migration job (on a worker thread). */
void alloc_job_run(struct daemon *d, struct job *j);
void alloc_free(struct daemon *d);

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
