/* server: libmicrohttpd front end of the REST API — routing, input limits,
 * JSON errors, and the hand-over of snapshots from the loop thread. The
 * allocator's endpoints (decisions, pending, approve/reject) are in
 * server_alloc.c. */
#include "http/cmdq.h"
#include "http/server_int.h"
#include "http/snapshot.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define QUERY_VALUE_MAX 128
#define QUERY_ARGS_MAX  8

void reply_json(struct reply *r, unsigned status, char *body)
{
    r->status = status;
    r->body = body;
    r->type = "application/json";
}

void reply_error(struct reply *r, unsigned status, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *j = json_pack("{s:{s:i, s:s}}", "error", "status", (int)status, "message", msg);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    reply_json(r, status, s ? s : xstrdup("{\"error\":{}}"));
}

static struct http_snapshot *snapshot_get(struct http_server *s)
{
    pthread_mutex_lock(&s->lock);
    struct http_snapshot *snap = s->cur;
    snap->refs++;
    pthread_mutex_unlock(&s->lock);
    return snap;
}

static void snapshot_put(struct http_server *s, struct http_snapshot *snap)
{
    pthread_mutex_lock(&s->lock);
    bool last = --snap->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last)
        http_snapshot_free(snap);
}

/* Query arguments must be few, short and known to the endpoint. */
struct arg_check {
    const char *const *allowed;
    const char *bad; /* first offending key, or NULL */
    const char *why;
    unsigned n;
};

static enum MHD_Result arg_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    struct arg_check *c = cls;
    bool known = false;
    for (size_t i = 0; c->allowed[i]; i++)
        known = known || strcmp(key, c->allowed[i]) == 0;
    if (++c->n > QUERY_ARGS_MAX)
        c->why = "too many query arguments";
    else if (!known)
        c->why = "unknown query argument";
    else if (value && strlen(value) > QUERY_VALUE_MAX)
        c->why = "query value too long";
    else
        return MHD_YES;
    c->bad = key;
    return MHD_NO;
}

bool args_ok(struct MHD_Connection *conn, const char *const *allowed, struct reply *r)
{
    struct arg_check c = {.allowed = allowed};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, arg_iter, &c);
    if (!c.bad)
        return true;
    reply_error(r, 400, "%s '%.64s'", c.why, c.bad);
    return false;
}

const char *arg(struct MHD_Connection *conn, const char *key)
{
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
}

static json_t *event_json(const struct history_event *e)
{
    json_t *detail = NULL;
    if (e->detail)
        detail = json_loads(e->detail, JSON_DECODE_ANY, NULL);
    if (e->detail && !detail)
        detail = json_string(e->detail);
    return json_pack("{s:I, s:I, s:s, s:s?, s:s?, s:s?, s:o}", "id", (json_int_t)e->id, "t_ms",
                     (json_int_t)e->t_ms, "severity", history_severity_str(e->severity), "object",
                     e->object, "kind", e->kind, "message", e->message, "detail",
                     detail ? detail : json_null());
}

int history_window_args(struct http_server *s, struct MHD_Connection *conn, struct reply *r,
                        int64_t *since_ms, int64_t *limit)
{
    static const char *const allowed[] = {"since", "limit", NULL};
    if (!args_ok(conn, allowed, r))
        return -1;
    *since_ms = 0;
    *limit = HTTP_EVENTS_LIMIT;
    const char *v = arg(conn, "since");
    if (v) {
        int64_t ago_ms;
        if (parse_duration_ms(v, &ago_ms) < 0 || ago_ms < 0)
            return reply_error(r, 400, "since: %s (expected a duration such as 10m)", err_msg()),
                   -1;
        *since_ms = clock_now_ms(s->clock) - ago_ms;
    }
    v = arg(conn, "limit");
    if (v && parse_int64(v, 1, HISTORY_LIST_MAX, limit) < 0)
        return reply_error(r, 400, "limit: %s", err_msg()), -1;
    return 0;
}

static void get_events(struct http_server *s, struct MHD_Connection *conn, struct reply *r)
{
    int64_t since_ms, limit;
    if (history_window_args(s, conn, r, &since_ms, &limit) < 0)
        return;
    struct history_event *evs = NULL;
    size_t n = 0;
    if (s->hist && history_list_events(s->hist, since_ms, (size_t)limit, &evs, &n) < 0)
        return reply_error(r, 500, "%s", err_msg());
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, event_json(&evs[i]));
    history_events_free(evs, n);
    json_t *j = json_pack("{s:o}", "events", arr);
    reply_json(r, 200, json_dumps(j, JSON_COMPACT));
    json_decref(j);
}

/* GET /api/v1/KIND[/NAME] for KIND hosts or vms. */
static void get_items(struct http_snapshot *snap, struct MHD_Connection *conn, bool hosts,
                      const char *name, struct reply *r)
{
    static const char *const no_args[] = {NULL};
    static const char *const vm_args[] = {"host", NULL};
    if (!args_ok(conn, hosts || name ? no_args : vm_args, r))
        return;
    const struct http_item *items = hosts ? snap->hosts : snap->vms;
    size_t n = hosts ? snap->n_hosts : snap->n_vms;
    if (name) {
        const struct http_item *it = http_items_find(items, n, name);
        if (!it)
            return reply_error(r, 404, "no %s named '%.128s'", hosts ? "host" : "VM", name);
        return reply_json(r, 200, xstrdup(it->json));
    }
    const char *host = hosts ? NULL : arg(conn, "host");
    if (host)
        return reply_json(r, 200, http_items_join(items, n, snap->t_ms, "vms", host));
    reply_json(r, 200, xstrdup(hosts ? snap->hosts_json : snap->vms_json));
}

static void route(struct http_server *s, struct MHD_Connection *conn, const char *url,
                  struct reply *r)
{
    static const char *const no_args[] = {NULL};
    static const char hosts[] = "/api/v1/hosts", vms[] = "/api/v1/vms";
    struct http_snapshot *snap = snapshot_get(s);
    if (strcmp(url, "/api/v1/status") == 0) {
        if (args_ok(conn, no_args, r))
            reply_json(r, 200, xstrdup(snap->status_json));
    } else if (strcmp(url, hosts) == 0 || strcmp(url, vms) == 0) {
        get_items(snap, conn, url[8] == 'h', NULL, r);
    } else if (strncmp(url, hosts, sizeof(hosts) - 1) == 0 && url[sizeof(hosts) - 1] == '/') {
        get_items(snap, conn, true, url + sizeof(hosts), r);
    } else if (strncmp(url, vms, sizeof(vms) - 1) == 0 && url[sizeof(vms) - 1] == '/') {
        get_items(snap, conn, false, url + sizeof(vms), r);
    } else if (strcmp(url, "/api/v1/events") == 0) {
        get_events(s, conn, r);
    } else if (strcmp(url, "/api/v1/decisions") == 0) {
        http_get_decisions(s, conn, r);
    } else if (strcmp(url, "/api/v1/migrations") == 0 ||
               strncmp(url, "/api/v1/migrations/", 19) == 0) {
        http_get_migrations(s, conn, url, r);
    } else if (strcmp(url, "/api/v1/pending") == 0) {
        if (args_ok(conn, no_args, r))
            reply_json(r, 200, http_cmdq_pending(s->cmdq));
    } else if (strcmp(url, "/metrics") == 0) {
        if (args_ok(conn, no_args, r)) {
            r->status = 200;
            r->body = xstrdup(snap->metrics);
            r->type = "text/plain; version=0.0.4";
        }
    } else {
        reply_error(r, 404,
                    "no endpoint '%.128s' (try /api/v1/status, /api/v1/hosts, /api/v1/vms, "
                    "/api/v1/events, /api/v1/decisions, /api/v1/pending, /api/v1/migrations, "
                    "/metrics)",
                    url);
    }
    snapshot_put(s, snap);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct reply r = {0};
    bool post = strcmp(method, "POST") == 0;
    if (post) {
        /* Collect the body first: MHD calls again for each piece, then once
         * with nothing left. */
        struct post_body *b = *req_cls;
        if (!b) {
            *req_cls = xcalloc(1, sizeof(*b));
            return MHD_YES;
        }
        if (*upload_data_size) {
            http_body_add(b, upload_data, *upload_data_size);
            *upload_data_size = 0;
            return MHD_YES;
        }
    }
    if (strlen(url) > HTTP_URL_MAX)
        reply_error(&r, 414, "request path longer than %d bytes", HTTP_URL_MAX);
    else if (post)
        http_post(s, conn, url, *req_cls, &r);
    else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        reply_error(&r, 405,
                    "method %.16s not allowed; use GET (and POST for "
                    "/api/v1/pending/ID/approve|reject and /api/v1/migrations[/ID/abort])",
                    method);
    else
        route(s, conn, url, &r);
    if (!r.body)
        reply_error(&r, 500, "internal error: no reply");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(r.body), r.body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(r.body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.type);
    if (r.status == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r.allow ? r.allow : "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(conn, r.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Bind and listen ourselves, so a failure says exactly why (EADDRINUSE, ...). */
static int listen_socket(const char *host, uint16_t port, bool *v6)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        len = sizeof(*a4);
        *v6 = false;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        len = sizeof(*a6);
        *v6 = true;
    } else {
        return err_set("'%s' is not an IP address", host);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return err_set_errno("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
        err_set_errno("cannot listen on %s%s%s:%u", *v6 ? "[" : "", host, *v6 ? "]" : "",
                      (unsigned)port);
        close(fd);
        return -1;
    }
    return fd;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void request_done(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*req_cls); /* a POST's body, if any */
    *req_cls = NULL;
}

struct http_server *http_server_start(const char *host, uint16_t port, struct history *hist,
                                      const struct clock *clock)
{
    struct http_cmdq *q = http_cmdq_new();
    if (!q)
        return NULL;
    bool v6 = false;
    int fd = listen_socket(host, port, &v6);
    if (fd < 0) {
        http_cmdq_free(q);
        return NULL;
    }
    struct http_server *s = xcalloc(1, sizeof(*s));
    s->cmdq = q;
    pthread_mutex_init(&s->lock, NULL);
    s->hist = hist;
    s->clock = clock;
    s->port = bound_port(fd);
    struct http_view empty = {.t_ms = clock_now_ms(clock), .started_ms = clock_now_ms(clock)};
    s->cur = http_snapshot_build(&empty);
    s->cur->refs = 1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | (v6 ? MHD_USE_IPv6 : 0);
    s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS_MAX,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
                              MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL, MHD_OPTION_END);
    if (!s->mhd) {
        close(fd);
        err_set("cannot start the HTTP server on %s:%u", host, (unsigned)port);
        http_server_stop(s);
        return NULL;
    }
    return s;
}

uint16_t http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_publish(struct http_server *s, struct http_snapshot *snap)
{
    snap->refs = 1;
    pthread_mutex_lock(&s->lock);
    struct http_snapshot *old = s->cur;
    s->cur = snap;
    bool last = --old->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last)
        http_snapshot_free(old);
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    if (s->mhd)
        MHD_stop_daemon(s->mhd); /* joins its thread and closes the listening socket */
    http_snapshot_free(s->cur);
    http_cmdq_free(s->cmdq);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
