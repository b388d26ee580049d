/* server_migr: the migration endpoints — GET /api/v1/migrations[/ID] (as the
 * loop published them, older ones from the history), POST /api/v1/migrations
 * (ask for one) and POST /api/v1/migrations/ID/abort, handed to the loop
 * thread like approvals; and the JSON shape of a migration and its typed
 * parameters, shared with the daemon, which renders its published list. */
#include "http/server_int.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#define MIGR_PREFIX "/api/v1/migrations"

static const char *const storage_names[] = {
    [STORAGE_COPY_NONE] = "none", [STORAGE_COPY_ALL] = "all", [STORAGE_COPY_INC] = "inc"};

/* A printable name of 1..size-1 bytes without '/' (VM and host names). */
static int take_name(json_t *v, const char *key, char *out, size_t size)
{
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (!s || n == 0 || n >= size)
        return err_set("\"%s\" must be a string of 1 to %zu bytes", key, size - 1);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '/')
            return err_set("\"%s\" holds a control character or '/'", key);
    }
    memcpy(out, s, n + 1);
    return 0;
}

/* An integer member in [min, max]. */
static int take_int(json_t *v, const char *key, int64_t min, int64_t max, int64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return err_set("\"params\".\"%s\" must be an integer from %" PRId64 " to %" PRId64, key,
                       min, max);
    *out = json_integer_value(v);
    return 0;
}

static int take_bool(json_t *v, const char *key, bool *out)
{
    if (!json_is_boolean(v))
        return err_set("\"params\".\"%s\" must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

/* One member of "params". */
static int take_param(const char *key, json_t *v, struct migrate_params *p)
{
    int64_t x = 0;
    int rc;
    if (strcmp(key, "bandwidth_bytes_per_s") == 0) {
        double d = json_number_value(v);
        if (!json_is_number(v) || !isfinite(d) || d < 0 || d > 1e13)
            return err_set("\"params\".\"%s\" must be a number from 0 to 1e13", key);
        p->bandwidth_bytes_per_s = d;
        return 0;
    }
    if (strcmp(key, "max_downtime_ms") == 0) {
        rc = take_int(v, key, 0, 3600000, &x);
        p->max_downtime_ms = x;
        return rc;
    }
    if (strcmp(key, "postcopy_after_ms") == 0) {
        rc = take_int(v, key, 0, 86400000, &x);
        p->postcopy_after_ms = x;
        return rc;
    }
    if (strcmp(key, "timeout_ms") == 0) {
        rc = take_int(v, key, 0, 7 * 86400000LL, &x);
        p->timeout_ms = x;
        return rc;
    }
    if (strcmp(key, "postcopy_after_rounds") == 0) {
        rc = take_int(v, key, 0, 1000, &x);
        p->postcopy_after_rounds = (uint32_t)x;
        return rc;
    }
    if (strcmp(key, "parallel_connections") == 0) {
        rc = take_int(v, key, 0, 255, &x);
        p->parallel_connections = (unsigned)x;
        return rc;
    }
    if (strcmp(key, "auto_converge") == 0)
        return take_bool(v, key, &p->auto_converge);
    if (strcmp(key, "postcopy") == 0)
        return take_bool(v, key, &p->postcopy);
    if (strcmp(key, "compress") == 0)
        return take_bool(v, key, &p->compress);
    if (strcmp(key, "storage") == 0) {
        const char *s = json_string_value(v);
        for (size_t i = 0; s && i < ARRAY_LEN(storage_names); i++) {
            if (strcmp(s, storage_names[i]) == 0) {
                p->storage = (enum storage_copy)i;
                return 0;
            }
        }
        return err_set("\"params\".\"storage\" must be \"none\", \"all\" or \"inc\"");
    }
    if (strcmp(key, "migrate_uri") == 0) {
        const char *s = json_string_value(v);
        if (!s || !strstr(s, "://") || strlen(s) >= sizeof(p->dest_uri))
            return err_set("\"params\".\"migrate_uri\" must be a URI (e.g. tcp://ADDR) of at "
                           "most %zu bytes",
                           sizeof(p->dest_uri) - 1);
        for (const char *c = s; *c; c++) {
            if ((unsigned char)*c <= 0x20 || *c == 0x7f)
                return err_set("\"params\".\"migrate_uri\" holds a blank or control character");
        }
        snprintf(p->dest_uri, sizeof(p->dest_uri), "%s", s);
        return 0;
    }
    return err_set("unknown member \"params\".\"%.32s\"", key);
}

static int take_params(json_t *obj, struct migrate_params *p)
{
    if (!json_is_object(obj))
        return err_set("\"params\" must be an object");
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (take_param(key, v, p) < 0)
            return -1;
    }
    if (!p->postcopy && (p->postcopy_after_ms || p->postcopy_after_rounds))
        return err_set("\"params\": postcopy_after_ms/postcopy_after_rounds need \"postcopy\": "
                       "true");
    return 0;
}

int http_migrate_req_parse(const char *body, size_t len, struct http_migrate_req *out, char *by)
{
    memset(out, 0, sizeof(*out));
    snprintf(by, HTTP_BY_MAX, "api");
    json_error_t jerr;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return err_set("body is not a JSON object%s%s", j ? "" : ": ", j ? "" : jerr.text);
    }
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(j, key, v)
    {
        if (strcmp(key, "vm") == 0)
            rc = take_name(v, "vm", out->vm, sizeof(out->vm));
        else if (strcmp(key, "host") == 0)
            rc = take_name(v, "host", out->host, sizeof(out->host));
        else if (strcmp(key, "by") == 0)
            rc = take_name(v, "by", by, HTTP_BY_MAX);
        else if (strcmp(key, "params") == 0)
            rc = take_params(v, &out->params);
        else
            rc = err_set("unknown member \"%.32s\" (vm, host, by, params)", key);
        if (rc < 0)
            break;
    }
    if (rc == 0 && (!out->vm[0] || !out->host[0]))
        rc = err_set("\"vm\" and \"host\" are required");
    json_decref(j);
    return rc;
}

json_t *http_migrate_params_json(const struct migrate_params *p)
{
    json_t *j = json_object();
    if (p->bandwidth_bytes_per_s > 0)
        json_object_set_new(j, "bandwidth_bytes_per_s", json_real(p->bandwidth_bytes_per_s));
    if (p->max_downtime_ms > 0)
        json_object_set_new(j, "max_downtime_ms", json_integer(p->max_downtime_ms));
    if (p->auto_converge)
        json_object_set_new(j, "auto_converge", json_true());
    if (p->postcopy)
        json_object_set_new(j, "postcopy", json_true());
    if (p->postcopy_after_ms > 0)
        json_object_set_new(j, "postcopy_after_ms", json_integer(p->postcopy_after_ms));
    if (p->postcopy_after_rounds > 0)
        json_object_set_new(j, "postcopy_after_rounds", json_integer(p->postcopy_after_rounds));
    if (p->compress)
        json_object_set_new(j, "compress", json_true());
    if (p->parallel_connections > 1)
        json_object_set_new(j, "parallel_connections", json_integer(p->parallel_connections));
    if (p->storage != STORAGE_COPY_NONE && (unsigned)p->storage < ARRAY_LEN(storage_names))
        json_object_set_new(j, "storage", json_string(storage_names[p->storage]));
    if (p->timeout_ms > 0)
        json_object_set_new(j, "timeout_ms", json_integer(p->timeout_ms));
    if (p->dest_uri[0])
        json_object_set_new(j, "migrate_uri", json_string(p->dest_uri));
    return j;
}

static json_t *opt_int(int64_t v, int64_t none)
{
    return v == none ? json_null() : json_integer(v);
}

static json_t *progress_json(const struct migrate_progress *p)
{
    double pct = p->data_total_bytes
                     ? 100.0 * (double)p->data_processed_bytes /
                           (double)(p->data_processed_bytes + p->data_remaining_bytes)
                     : 0;
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:b}", "job",
                     migrate_job_state_str(p->state), "elapsed_ms", (json_int_t)p->elapsed_ms,
                     "data_total_bytes", (json_int_t)p->data_total_bytes, "data_processed_bytes",
                     (json_int_t)p->data_processed_bytes, "data_remaining_bytes",
                     (json_int_t)p->data_remaining_bytes, "percent", isfinite(pct) ? pct : 0.0,
                     "iterations", (json_int_t)p->iterations, "dirty_rate_pages_s",
                     (json_int_t)p->mem_dirty_rate_pages_s, "postcopy", p->postcopy_active);
}

json_t *http_migration_json(const struct history_migration *m, const struct migrate_progress *p)
{
    json_t *params = m->params ? json_loads(m->params, 0, NULL) : NULL;
    json_t *j = json_pack(
        "{s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:o, s:I, s:o, s:o, s:o, s:o, s:o, "
        "s:s?}",
        "id", (json_int_t)m->id, "vm", m->vm, "src", m->src, "dst", m->dst, "origin", m->origin,
        "state", m->state, "decision_id", opt_int(m->decision_id, 0), "created_ms",
        (json_int_t)m->created_ms, "started_ms", opt_int(m->started_ms, 0), "finished_ms",
        opt_int(m->finished_ms, 0), "elapsed_ms", opt_int(m->elapsed_ms, -1), "downtime_ms",
        opt_int(m->downtime_ms, -1), "bytes", opt_int(m->bytes, -1), "result", m->result);
    json_object_set_new(j, "params", params ? params : json_object());
    if (p)
        json_object_set_new(j, "progress", progress_json(p));
    return j;
}

/* "/api/v1/migrations/ID[/VERB]" -> id and the rest ("" or "/abort"). */
static bool parse_migr_url(const char *url, uint64_t *id, const char **rest)
{
    const char *p = url + sizeof(MIGR_PREFIX) - 1;
    if (*p != '/')
        return false;
    p++;
    size_t n = strspn(p, "0123456789");
    char num[24];
    if (n == 0 || n >= sizeof(num))
        return false;
    memcpy(num, p, n);
    num[n] = '\0';
    *rest = p + n;
    return parse_uint64(num, UINT64_MAX, id) == 0 && *id > 0;
}

/* The published entry with this id (a new reference), or NULL. */
static json_t *published_find(struct http_server *s, uint64_t id)
{
    AUTOFREE char *doc = http_cmdq_migrations(s->cmdq);
    json_t *j = json_loads(doc, 0, NULL);
    json_t *arr = json_object_get(j, "migrations"), *v, *found = NULL;
    size_t i;
    json_array_foreach(arr, i, v)
    {
        if ((uint64_t)json_integer_value(json_object_get(v, "id")) == id) {
            found = json_incref(v);
            break;
        }
    }
    json_decref(j);
    return found;
}

void http_get_migrations(struct http_server *s, struct MHD_Connection *conn, const char *url,
                         struct reply *r)
{
    static const char *const no_args[] = {NULL};
    if (!args_ok(conn, no_args, r))
        return;
    if (strcmp(url, MIGR_PREFIX) == 0)
        return reply_json(r, 200, http_cmdq_migrations(s->cmdq));
    uint64_t id;
    const char *rest;
    if (!parse_migr_url(url, &id, &rest) || *rest)
        return reply_error(r, 404, "no endpoint '%.128s' (try " MIGR_PREFIX "/ID)", url);
    json_t *j = published_find(s, id);
    if (!j && s->hist) {
        struct history_migration m;
        int found = history_get_migration(s->hist, (int64_t)id, &m);
        if (found < 0)
            return reply_error(r, 500, "%s", err_msg());
        if (found)
            j = http_migration_json(&m, NULL);
        history_migration_clear(&m);
    }
    if (!j)
        return reply_error(r, 404, "no migration #%" PRIu64, id);
    reply_json(r, 200, json_dumps(j, JSON_COMPACT));
    json_decref(j);
}

/* The optional {"by": NAME} of an abort. */
static int parse_abort(const struct post_body *b, char *by)
{
    snprintf(by, HTTP_BY_MAX, "api");
    if (b->len == 0)
        return 0;
    json_error_t jerr;
    json_t *j = json_loadb(b->data, b->len, 0, &jerr);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return err_set("body is not a JSON object");
    }
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(j, key, v)
    {
        rc = strcmp(key, "by") == 0 ? take_name(v, "by", by, HTTP_BY_MAX)
                                    : err_set("unknown member \"%.32s\" (only \"by\")", key);
        if (rc < 0)
            break;
    }
    json_decref(j);
    return rc;
}

void http_post_migrations(struct http_server *s, const char *url, const struct post_body *b,
                          struct reply *r)
{
    struct http_cmd c = {0};
    uint64_t id = 0;
    const char *rest = "";
    bool start = strcmp(url, MIGR_PREFIX) == 0;
    if (!start && (!parse_migr_url(url, &id, &rest) || strcmp(rest, "/abort") != 0)) {
        r->allow = "GET, HEAD";
        return reply_error(
            r, 405, "'%.128s': POST only to " MIGR_PREFIX " and " MIGR_PREFIX "/ID/abort", url);
    }
    if (b->too_big)
        return reply_error(r, 413, "request body longer than %d bytes", HTTP_BODY_MAX);
    int rc =
        start ? http_migrate_req_parse(b->data, b->len, &c.migrate, c.by) : parse_abort(b, c.by);
    if (rc < 0)
        return reply_error(r, 400, "%s", err_msg());
    c.kind = start ? HTTP_CMD_MIGRATE : HTTP_CMD_MIGRATE_ABORT;
    c.id = id;
    if (!http_cmdq_call(s->cmdq, &c, HTTP_CMD_TIMEOUT_MS))
        return reply_error(r, 503, "arasd's loop did not take the request within %d ms; retry",
                           HTTP_CMD_TIMEOUT_MS);
    if (c.status < 200 || c.status > 299)
        return reply_error(r, c.status, "%s", c.message);
    json_t *j = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)c.id, "action",
                          start ? "migrate" : "abort", "by", c.by, "message", c.message);
    reply_json(r, c.status, json_dumps(j, JSON_COMPACT));
    json_decref(j);
}

void http_server_publish_migrations(struct http_server *s, char *json)
{
    http_cmdq_set_migrations(s->cmdq, json);
}
