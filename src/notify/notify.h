/* notify: the event controller's actions — e-mail (libcurl SMTP with a
 * persistent retry spool), SNMP traps (net-snmp v2c/v3) and scripts (execve,
 * no shell) — over one backend-neutral event record.
 *
 * Producers (SLA rules today, the resource allocator's decisions later) fill a
 * `struct notify_event`; every notifier takes it by const pointer and keeps no
 * reference to it. Blocking work (SMTP, scripts) is meant for a worker thread:
 * no function here touches the daemon loop, and none reads the clock itself
 * except the script runner's real-time timeout.
 */
#ifndef ARAS_NOTIFY_NOTIFY_H
#define ARAS_NOTIFY_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sla_event; /* policy/sla.h */

#define NOTIFY_KIND_MAX     32
#define NOTIFY_SEVERITY_MAX 16
#define NOTIFY_RULE_MAX     64
#define NOTIFY_OBJECT_MAX   128
#define NOTIFY_METRIC_MAX   48
#define NOTIFY_MESSAGE_MAX  512

/* ---- the event ------------------------------------------------------------ */

struct notify_event {
    uint64_t id;                        /* producer-assigned, unique per daemon run */
    int64_t t_ms;                       /* wall time, ms since the Unix epoch */
    char kind[NOTIFY_KIND_MAX];         /* "fired", "cleared", "gone", "decision", ... */
    char severity[NOTIFY_SEVERITY_MAX]; /* "info", "warning", "critical" */
    char rule[NOTIFY_RULE_MAX];         /* rule (or controller) that produced it */
    char object[NOTIFY_OBJECT_MAX];     /* VM or host name */
    char object_kind[8];                /* "vm" or "host" */
    char metric[NOTIFY_METRIC_MAX];     /* the SLA metric, e.g. "cpu"; "" when none */
    double value;                       /* NAN when there is none (GONE) */
    double threshold;                   /* NAN when there is none */
    char message[NOTIFY_MESSAGE_MAX];   /* one human-readable line */
    uint64_t episode;                   /* SLA episode; 0 when none */
};

/* Zero an event and set value/threshold to NAN. */
void notify_event_init(struct notify_event *ev);

/* Copy s into a fixed field of size cap, cutting at cap-1 bytes (on a UTF-8
 * boundary) and replacing control characters by '?'. Used for every string
 * field, so no field ever carries CR/LF into a mail header or a log line. */
void notify_field_set(char *dst, size_t cap, const char *s);

/* Fill ev from an SLA event (the rule must be set); id is the caller's.
 * The message reads like "cpu-hot fired on vm web-1: cpu 93.5 > 90 (held
 * 60 s)". */
void notify_event_from_sla(struct notify_event *ev, const struct sla_event *se, uint64_t id);

/* The event as a JSON object text (one line, UTF-8): id, time_ms, time (RFC
 * 3339 UTC), kind, severity, rule, object, object_kind, metric, value,
 * threshold (null when NAN), message, episode. Caller frees. */
char *notify_event_to_json(const struct notify_event *ev);
/* Parse what notify_event_to_json() wrote. -1 with err_set() on bad input. */
int notify_event_from_json(const char *text, struct notify_event *ev);

/* "2026-11-22T07:45:00.123Z" into buf (>= 32 bytes). */
void notify_time_rfc3339(int64_t t_ms, char *buf, size_t cap);
/* A value as text the way all notifiers print it ("93.5", "" for NAN). */
void notify_value_str(double v, char *buf, size_t cap);

/* ---- e-mail ---------------------------------------------------------------- */

enum notify_tls {
    NOTIFY_TLS_NONE, /* plain smtp:// (loopback relays) */
    NOTIFY_TLS_TRY,  /* STARTTLS if the server offers it */
    NOTIFY_TLS_ALL,  /* STARTTLS required (or smtps://) */
};
const char *notify_tls_str(enum notify_tls t);
/* "none", "try", "all" (also "starttls" = all). -1 with err_set() otherwise. */
int notify_tls_parse(const char *s, enum notify_tls *out);

#define NOTIFY_EMAIL_TO_MAX 16

struct notify_email_conf {
    const char *url; /* smtp://host:port or smtps://host:port */
    enum notify_tls tls;
    const char *user; /* NULL: no AUTH */
    const char *password;
    const char *ca_file; /* NULL: system CAs */
    bool tls_no_verify;  /* tests only: skip peer verification */
    const char *from;    /* envelope and header sender address */
    const char *to[NOTIFY_EMAIL_TO_MAX];
    size_t n_to;
    const char *hostname; /* right side of Message-ID; NULL: gethostname() */
    int64_t timeout_ms;   /* whole SMTP transaction; 0: 30 s */
};

/* Render the RFC 5322 message (CRLF line ends): Date (from ev->t_ms), From, To,
 * Message-ID, Subject "[ARAS warning] cpu-hot fired on web-1" (RFC 2047-encoded
 * when not ASCII), MIME headers for UTF-8 plain text, and a body with the
 * message line and every field. Caller frees. */
char *notify_email_render(const struct notify_email_conf *c, const struct notify_event *ev);

/* Deliver one rendered message now through libcurl (blocking, up to
 * timeout_ms). 0 once the server accepted it at end-of-data; -1 with err_set()
 * naming the URL and curl's reason otherwise. Thread-safe. */
int notify_email_send(const struct notify_email_conf *c, const char *msg, size_t len);

/* ---- the e-mail spool (persistent retry queue) ----------------------------- */

/* One file per message in spool_dir, written atomically (tmp + fsync + rename
 * + fsync of the directory), named "<t_ms>-<seq>.eml" so name order is age
 * order. The sender removes a file only after the server accepted it. Retries
 * back off exponentially: after the n-th failure the next attempt is at
 * failure time + min(base_ms * 2^(n-1), max_ms), no jitter, so a test on a
 * virtual clock sees an exact schedule. Retry state lives in memory; after a
 * restart every spooled message is due at once (attempts start over).
 *
 * Bounded: when a new message would exceed max_msgs, the OLDEST is dropped
 * with a warning log line (the newest state of the cluster is what an operator
 * needs; enqueue never fails for lack of room). Thread-safe: one mutex; the
 * send itself runs with the mutex released, so enqueue never waits for SMTP. */
struct notify_spool_conf {
    const char *dir;       /* created (0700) if missing */
    size_t max_msgs;       /* 0: 1000 */
    int64_t retry_base_ms; /* 0: 30 s */
    int64_t retry_max_ms;  /* 0: 1 h */
};

/* Sends one message; 0 = accepted. The email notifier passes a wrapper of
 * notify_email_send(); tests pass a fake. */
typedef int (*notify_send_fn)(void *ctx, const char *msg, size_t len);

struct notify_spool;

/* Open (and create) the spool, deleting stale temporaries and loading every
 * "*.eml" already there, all due at now_ms. NULL with err_set() on I/O errors. */
struct notify_spool *notify_spool_open(const struct notify_spool_conf *c, int64_t now_ms);
void notify_spool_free(struct notify_spool *s);

/* Write msg as a new spool file, due at now_ms. The caller keeps msg.
 * -1 with err_set() if the file cannot be written (disk full, permissions). */
int notify_spool_add(struct notify_spool *s, const char *msg, size_t len, int64_t t_ms,
                     int64_t now_ms);

/* Try the messages due at now_ms, oldest first, with send(ctx, ...).
 * Accepted ones are removed. At the first failure (log line with the error)
 * that message is rescheduled by its back-off, the other due ones are moved
 * to the same time (a down server costs one attempt per flush, not one per
 * message) and the flush stops. Returns the number delivered. */
size_t notify_spool_flush(struct notify_spool *s, notify_send_fn send, void *ctx, int64_t now_ms);

size_t notify_spool_count(struct notify_spool *s);
/* Earliest due time, or INT64_MAX when empty. */
int64_t notify_spool_next_due_ms(struct notify_spool *s);
/* Delay after the n-th consecutive failure (n >= 1), capped at max_ms. */
int64_t notify_spool_backoff_ms(int64_t base_ms, int64_t max_ms, unsigned n);

/* The e-mail notifier: render + spool + flush through libcurl. */
struct notify_email;
/* Copies the strings of c. NULL with err_set() on bad config or spool errors. */
struct notify_email *notify_email_new(const struct notify_email_conf *c,
                                      const struct notify_spool_conf *sc, int64_t now_ms);
void notify_email_free(struct notify_email *m);
/* Spool the event's message (never sends). -1 with err_set() if not written. */
int notify_email_enqueue(struct notify_email *m, const struct notify_event *ev, int64_t now_ms);
/* Deliver what is due (blocking; call from a worker). Returns the number sent. */
size_t notify_email_flush(struct notify_email *m, int64_t now_ms);
struct notify_spool *notify_email_spool(struct notify_email *m);

/* ---- SNMP traps ------------------------------------------------------------ */

enum notify_snmp_version { NOTIFY_SNMP_V2C, NOTIFY_SNMP_V3 };

struct notify_snmp_conf {
    enum notify_snmp_version version;
    const char *target;       /* "udp:127.0.0.1:162", "host:port" or "host" */
    const char *community;    /* v2c */
    const char *user;         /* v3 USM user, authPriv with SHA-1 + AES-128 */
    const char *auth_pass;    /* v3, >= 8 characters */
    const char *priv_pass;    /* v3, >= 8 characters */
    const char *engine_id;    /* v3 sender engine ID in hex ("0x8000..."), required */
    unsigned engine_boots;    /* v3 snmpEngineBoots, grown per start (arasd keeps it
                                 in the history database), or receivers that cached
                                 an earlier run's time may drop traps; 0 means 1 */
    int64_t uptime_origin_ms; /* sysUpTime.0 counts from here (caller's clock) */
};

/* Numeric OIDs of ARAS-MIB (mibs/ARAS-MIB.txt), as text, for tests. */
#define NOTIFY_OID_ARAS          "1.3.6.1.4.1.99999"
#define NOTIFY_OID_SLA_FIRED     NOTIFY_OID_ARAS ".0.1"
#define NOTIFY_OID_SLA_CLEARED   NOTIFY_OID_ARAS ".0.2"
#define NOTIFY_OID_SLA_GONE      NOTIFY_OID_ARAS ".0.3"
#define NOTIFY_OID_EVENT         NOTIFY_OID_ARAS ".0.4"
#define NOTIFY_OID_EVENT_OBJECTS NOTIFY_OID_ARAS ".1.1"

/* Send one trap (SNMPv2-Trap PDU, or the v3 equivalent) for ev, now_ms being
 * the caller's clock for sysUpTime. Varbinds: sysUpTime.0, snmpTrapOID.0, then
 * arasEventId, Time, Kind, Severity, Rule, Object, ObjectKind, Metric, Value,
 * Threshold, Episode, Message (".0" instances; see the MIB; the message is
 * cut to 255 bytes). UDP: 0 means it was handed to the
 * network, not that anyone received it. -1 with err_set() on bad config or
 * send errors. Thread-safe (sends are serialised). */
int notify_snmp_send(const struct notify_snmp_conf *c, const struct notify_event *ev,
                     int64_t now_ms);

/* ---- scripts --------------------------------------------------------------- */

struct notify_script_conf {
    const char *path;      /* absolute path of an executable; run without a shell */
    int64_t timeout_ms;    /* 0: 10 s; then SIGTERM to its process group */
    int64_t kill_grace_ms; /* 0: 2 s after SIGTERM, SIGKILL */
    size_t output_max;     /* bytes kept of stdout and of stderr each; 0: 64 KiB */
};

struct notify_script_result {
    bool exited; /* normal exit: exit_status is valid */
    int exit_status;
    bool signaled; /* killed by a signal: term_signal is valid */
    int term_signal;
    bool timed_out; /* we sent SIGTERM (and maybe SIGKILL) */
    int64_t duration_ms;
    char *out, *err; /* NUL-terminated, owned by the result */
    size_t out_len, err_len;
    bool out_truncated, err_truncated;
};

/* Run the script for ev and wait for it (bounded by timeout + grace + drain).
 * Environment: ARAS_EVENT_ID, ARAS_EVENT_KIND, ARAS_EVENT_TIME_MS,
 * ARAS_EVENT_TIME, ARAS_SEVERITY, ARAS_RULE, ARAS_OBJECT, ARAS_OBJECT_KIND,
 * ARAS_METRIC, ARAS_VALUE, ARAS_THRESHOLD, ARAS_MESSAGE, ARAS_EPISODE,
 * PATH=/usr/local/bin:/usr/bin:/bin, LANG=C.UTF-8; nothing else is inherited.
 * stdin: the event JSON then EOF. cwd "/". Its own process group.
 * Returns 0 when the script ran (whatever its exit status: see res) and -1
 * with err_set() when it could not be started (not absolute, missing, not
 * executable, exec failure). The caller frees res with
 * notify_script_result_free(). The process's SIGCHLD must not be SIG_IGN. */
int notify_script_run(const struct notify_script_conf *c, const struct notify_event *ev,
                      struct notify_script_result *res);
void notify_script_result_free(struct notify_script_result *res);

#endif
