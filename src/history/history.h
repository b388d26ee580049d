/* history: arasd's SQLite record of ticks, samples, events, decisions and
 * migrations.
 *
 * One database file (or ":memory:"), WAL mode, a schema version in
 * PRAGMA user_version with forward migrations; a database written by a newer
 * ARAS is refused rather than guessed at. Each tick is written in one
 * transaction with prepared statements, and rows older than the retention are
 * pruned then: events, decisions and tick summaries after `retention_ms`,
 * per-host and per-VM samples (the bulky part) after `sample_retention_ms`.
 *
 * Thread safety: every function takes the handle's mutex, so the daemon loop
 * can write while the HTTP thread lists events.
 */
#ifndef ARAS_HISTORY_HISTORY_H
#define ARAS_HISTORY_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_SCHEMA_VERSION 3
#define HISTORY_LIST_MAX       10000 /* rows one list call returns at most */

enum history_severity {
    HISTORY_SEV_INFO,
    HISTORY_SEV_WARN,
    HISTORY_SEV_CRIT,
};
const char *history_severity_str(enum history_severity s);
int history_severity_parse(const char *s, enum history_severity *out);

/* One event. In lists returned by history_list_events() the strings are owned
 * by the list; when recording, they are borrowed for the call. */
struct history_event {
    int64_t id; /* assigned by the database; ignored when recording */
    int64_t t_ms;
    enum history_severity severity;
    const char *object;  /* "host/NAME", "vm/NAME", "daemon" */
    const char *kind;    /* short machine word: "vm_appeared", "host_down", ... */
    const char *message; /* one human line */
    const char *detail;  /* JSON text, or NULL */
};

/* One decision of the policy (RAC/planner): what it chose for a VM and why. */
struct history_decision {
    int64_t id;
    int64_t t_ms;
    const char *vm;
    const char *action; /* "grow_vcpus", "migrate", ... */
    const char *reason;
    const char *state; /* "proposed", "approved", "done", "failed", ... */
};

struct history_host_sample {
    const char *host;
    bool up;
    double cpu_pct, mem_used_pct, power_w;
};

struct history_vm_sample {
    const char *vm;
    const char *host;
    double cpu_pct, mem_used_pct;
    double disk_bytes_per_s, net_bytes_per_s;
};

/* Everything one tick writes, in one transaction. Arrays are borrowed. */
struct history_tick {
    int64_t t_ms;
    size_t n_hosts, n_hosts_up, n_vms;
    double mean_host_cpu_pct;
    double power_w;    /* cluster total, < 0 if the backend has no power model */
    double energy_kwh; /* cumulative since start, < 0 if unknown */
    const struct history_host_sample *hosts;
    size_t n_host_samples;
    const struct history_vm_sample *vms;
    size_t n_vm_samples;
    const struct history_event *events;
    size_t n_events;
};

struct history;

/* Open (creating it and its parent directory if needed) and migrate the
 * database at path, or ":memory:". Returns NULL with err_set() naming the
 * path on failure, including a schema newer than this build knows. */
struct history *history_open(const char *path, int64_t retention_ms, int64_t sample_retention_ms);
void history_close(struct history *h);
void history_set_retention(struct history *h, int64_t retention_ms, int64_t sample_retention_ms);

/* Write one tick and prune rows past the retention, all in one transaction. */
int history_record_tick(struct history *h, const struct history_tick *tick);
/* Write one event / decision now (its own transaction); *id_out gets the row id if non-NULL. */
int history_record_event(struct history *h, const struct history_event *ev, int64_t *id_out);
int history_record_decision(struct history *h, const struct history_decision *d, int64_t *id_out);

/* The newest `limit` (1..HISTORY_LIST_MAX) events with t_ms >= since_ms, oldest
 * first. *out is a new array the caller frees with history_events_free(). */
int history_list_events(struct history *h, int64_t since_ms, size_t limit,
                        struct history_event **out, size_t *n_out);
void history_events_free(struct history_event *evs, size_t n);
int history_list_decisions(struct history *h, int64_t since_ms, size_t limit,
                           struct history_decision **out, size_t *n_out);
void history_decisions_free(struct history_decision *ds, size_t n);

/* One live migration (schema 3), from the request to its outcome. A row whose
 * finished_ms is 0 is open: the migration was queued or running when it was
 * last written (after a crash or kill, arasd reconciles these at start). In
 * rows returned by the list/get calls the strings are owned by the row
 * (history_migrations_free); when recording they are borrowed. */
struct history_migration {
    int64_t id;
    const char *vm, *src, *dst;
    const char *origin;  /* who asked: "operator alice", "allocator #12 (auto)" */
    int64_t decision_id; /* the allocator's queue id, 0 for none */
    const char *params;  /* the typed parameters as JSON text, or NULL */
    const char *state;   /* "queued", "running", "completed", "failed", "cancelled" */
    int64_t created_ms, started_ms, finished_ms; /* 0 = not yet */
    int64_t elapsed_ms, downtime_ms;             /* -1 = unknown */
    int64_t bytes;                               /* data transferred, -1 = unknown */
    const char *result;                          /* one line, or NULL */
};

/* Insert m (its id is ignored); *id_out gets the new id. */
int history_migration_add(struct history *h, const struct history_migration *m, int64_t *id_out);
/* Overwrite the row m->id with m's origin, state, times, figures and result.
 * -1 with err_set() if there is no such row. */
int history_migration_update(struct history *h, const struct history_migration *m);
/* The newest `limit` (1..HISTORY_LIST_MAX) migrations created at or after
 * since_ms, oldest first; with open_only, only the open ones (any age). */
int history_list_migrations(struct history *h, int64_t since_ms, size_t limit, bool open_only,
                            struct history_migration **out, size_t *n_out);
/* Row id into *out (its strings owned: history_migration_clear); returns 1
 * when found, 0 when not, -1 with err_set() on error. */
int history_get_migration(struct history *h, int64_t id, struct history_migration *out);
/* Free one row's strings / a list and its rows. */
void history_migration_clear(struct history_migration *m);
void history_migrations_free(struct history_migration *ms, size_t n);

/* Row counts, for tests and status: table is one of "ticks", "host_samples",
 * "vm_samples", "events", "decisions", "migrations". Returns -1 with err_set()
 * on error. */
int64_t history_count(struct history *h, const char *table);

/* Persistent counters (schema 2): adds 1 to counter `key` (created at 0) and
 * stores the new value in *out, durably, before returning 0. For values that
 * must grow across restarts, e.g. SNMPv3 snmpEngineBoots. -1 with err_set(). */
int history_counter_next(struct history *h, const char *key, int64_t *out);

#endif
