/* http: arasd's REST API and Prometheus /metrics on a loopback address.
 *
 * Endpoints (GET unless noted, JSON unless noted):
 *   /api/v1/status                      daemon and cluster summary
 *   /api/v1/hosts, /api/v1/hosts/NAME   hosts with their latest rates
 *   /api/v1/vms[?host=H], /api/v1/vms/NAME
 *   /api/v1/events[?since=DURATION&limit=N]   newest N events of the last DURATION
 *   /api/v1/decisions[?since=DURATION&limit=N] the allocator's decisions (history)
 *   /api/v1/pending                     the approval queue (as the loop last published it)
 *   POST /api/v1/pending/ID/approve, POST /api/v1/pending/ID/reject
 *                                       body optional: {"by": "NAME"}
 *   /api/v1/migrations                  live migrations: running, queued and those
 *                                       finished in the last hour (as the loop published them)
 *   /api/v1/migrations/ID               one of them, or an older one from the history
 *   POST /api/v1/migrations             body {"vm": V, "host": H, "by": NAME, "params": {...}}:
 *                                       ask for a live migration (202 with its id)
 *   POST /api/v1/migrations/ID/abort    body optional: {"by": "NAME"}
 *   /metrics                            Prometheus text format
 * Errors are JSON too: {"error": {"status": 404, "message": "..."}}.
 *
 * Threading: libmicrohttpd answers requests on its own thread. The daemon
 * loop builds an immutable `struct http_snapshot` each tick (every response
 * body pre-rendered) and publishes it; handlers take a reference to the
 * current snapshot under a mutex and never see a half-built one. Events come
 * from the history, which has its own lock. The approval queue belongs to the
 * loop thread: a POST becomes a `struct http_cmd` in a mutex-guarded queue,
 * the loop is woken through http_server_cmd_fd(), takes it, answers it, and
 * the HTTP thread waits for that answer (up to HTTP_CMD_TIMEOUT_MS; a command
 * the loop has not taken by then is withdrawn and answered 503).
 */
#ifndef ARAS_HTTP_HTTP_H
#define ARAS_HTTP_HTTP_H

#include "backend/backend.h"
#include "history/history.h"
#include "model/model.h"
#include "util/clock.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_URL_MAX         512 /* longer request paths get 414 */
#define HTTP_EVENTS_LIMIT    100 /* default ?limit= */
#define HTTP_CONNECTIONS_MAX 64
#define HTTP_CMD_TIMEOUT_MS  5000
#define HTTP_BODY_MAX        4096 /* bytes of a POST body */
#define HTTP_BY_MAX          64   /* "by" of an approval */

/* What the daemon knows at one tick; everything is borrowed for the call. */
struct http_view {
    int64_t t_ms;        /* wall time of the tick (clock_now_ms) */
    int64_t started_ms;  /* wall time arasd started */
    int64_t tick_ms;     /* configured tick */
    uint64_t ticks;      /* ticks done so far */
    const char *backend; /* driver name, e.g. "sim" */
    const char *const *uris;
    size_t n_uris;
    const struct inventory *inv; /* NULL before the first tick */
    /* Latest rates, index-aligned with inv->hosts / inv->vms; entries (or the
     * arrays) may be NULL when no rate is known yet. */
    const struct host_rates *const *host_rates;
    const struct vm_rates *const *vm_rates;
    double energy_kwh; /* cumulative cluster energy, < 0 if unknown */
};

struct http_snapshot;

/* Render everything the API serves for one tick. Never fails. The result is
 * owned by the caller until passed to http_server_publish(). */
struct http_snapshot *http_snapshot_build(const struct http_view *v);
void http_snapshot_free(struct http_snapshot *s);

struct http_server;

/* Listen on host:port (an IPv4 or IPv6 literal; port 0 picks a free one) and
 * serve on a thread of libmicrohttpd's. `hist` and `clock` are borrowed and
 * must outlive the server; hist may be NULL (then /events is empty).
 * Returns NULL with err_set() naming the address on failure. */
struct http_server *http_server_start(const char *host, uint16_t port, struct history *hist,
                                      const struct clock *clock);
/* The port actually bound (useful with port 0). */
uint16_t http_server_port(const struct http_server *s);
/* Make snap the one requests see from now on; takes ownership of it. */
void http_server_publish(struct http_server *s, struct http_snapshot *snap);
/* ---- commands for the loop thread ---------------------------------------- */

enum http_cmd_kind {
    HTTP_CMD_APPROVE,       /* id: pending entry */
    HTTP_CMD_REJECT,        /* id: pending entry */
    HTTP_CMD_MIGRATE,       /* migrate: what to move where; answer id: the new migration */
    HTTP_CMD_MIGRATE_ABORT, /* id: migration */
};

/* The body of POST /api/v1/migrations. */
struct http_migrate_req {
    char vm[MODEL_NAME_MAX];
    char host[MODEL_NAME_MAX]; /* destination */
    struct migrate_params params;
};

struct http_cmd {
    enum http_cmd_kind kind;
    uint64_t id;          /* pending entry or migration; set by the loop for MIGRATE */
    char by[HTTP_BY_MAX]; /* who: from the body, default "api" */
    struct http_migrate_req migrate;
    /* The loop's answer: */
    unsigned status;   /* 200, 404, 409 ... */
    char message[256]; /* one line for the reply */
    /* Internal to http/: */
    int state;
    struct http_cmd *next;
};

/* A file descriptor that polls readable while commands wait to be taken. */
int http_server_cmd_fd(const struct http_server *s);
/* Take the next waiting command (loop thread), NULL if none. Every command
 * taken must be answered, promptly, with http_server_cmd_answer(). */
struct http_cmd *http_server_cmd_take(struct http_server *s);
/* Hand the answer (status, message filled in) back to the waiting request. */
void http_server_cmd_answer(struct http_server *s, struct http_cmd *c);
/* Make json the body of GET /api/v1/pending; takes ownership of it. */
void http_server_publish_pending(struct http_server *s, char *json);
/* Make json ({"t_ms": T, "migrations": [http_migration_json() ...]}) the body
 * of GET /api/v1/migrations; takes ownership of it. */
void http_server_publish_migrations(struct http_server *s, char *json);

/* ---- migrations ------------------------------------------------------------ */

/* Parse a POST /api/v1/migrations body (at most HTTP_BODY_MAX bytes, len of
 * them) into *out and by[HTTP_BY_MAX] (default "api"). Members: "vm" and
 * "host" (required), "by", "params" — an object of bandwidth_bytes_per_s,
 * max_downtime_ms, auto_converge, postcopy, postcopy_after_ms,
 * postcopy_after_rounds, compress, parallel_connections, storage ("none",
 * "all", "inc"), timeout_ms, migrate_uri. Unknown members, wrong types and
 * out-of-range values are refused: -1 with err_set() naming the member. */
int http_migrate_req_parse(const char *body, size_t len, struct http_migrate_req *out, char *by);
/* The typed parameters as a JSON object (the shape the request takes;
 * defaults left out). New reference. */
json_t *http_migrate_params_json(const struct migrate_params *p);
/* One migration as the API shows it: the history row's fields, "params"
 * parsed back into an object, and "progress" when p is non-NULL (a running
 * one). New reference. */
json_t *http_migration_json(const struct history_migration *m, const struct migrate_progress *p);

/* Stop serving (waits for the server thread) and free everything. NULL is a no-op. */
void http_server_stop(struct http_server *s);

#endif
