/* history: arasd's SQLite record of ticks, samples, events and decisions.
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

#define HISTORY_SCHEMA_VERSION 2
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

/* Row counts, for tests and status: table is one of "ticks", "host_samples",
 * "vm_samples", "events", "decisions". Returns -1 with err_set() on error. */
int64_t history_count(struct history *h, const char *table);

/* Persistent counters (schema 2): adds 1 to counter `key` (created at 0) and
 * stores the new value in *out, durably, before returning 0. For values that
 * must grow across restarts, e.g. SNMPv3 snmpEngineBoots. -1 with err_set(). */
int history_counter_next(struct history *h, const char *key, int64_t *out);

#endif
