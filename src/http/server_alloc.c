/* server_alloc: the allocator's endpoints — GET /api/v1/decisions from the
 * history, POST /api/v1/pending/ID/approve|reject handed to the loop thread
 * (http_server_cmd_*), which owns the approval queue — and the dispatch of
 * every POST (migrations: server_migr.c). */
#include "http/server_int.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <jansson.h>
#include <string.h>

void http_body_add(struct post_body *b, const char *data, size_t n)
{
    if (b->too_big || b->len + n > HTTP_BODY_MAX) {
        b->too_big = true;
        return;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static json_t *decision_json(const struct history_decision *d)
{
    return json_pack("{s:I, s:I, s:s?, s:s?, s:s?, s:s?}", "id", (json_int_t)d->id, "t_ms",
                     (json_int_t)d->t_ms, "vm", d->vm, "action", d->action, "reason", d->reason,
                     "state", d->state);
}

void http_get_decisions(struct http_server *s, struct MHD_Connection *conn, struct reply *r)
{
    int64_t since_ms, limit;
    if (history_window_args(s, conn, r, &since_ms, &limit) < 0)
        return;
    struct history_decision *ds = NULL;
    size_t n = 0;
    if (s->hist && history_list_decisions(s->hist, since_ms, (size_t)limit, &ds, &n) < 0)
        return reply_error(r, 500, "%s", err_msg());
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, decision_json(&ds[i]));
    history_decisions_free(ds, n);
    json_t *j = json_pack("{s:o}", "decisions", arr);
    reply_json(r, 200, json_dumps(j, JSON_COMPACT));
    json_decref(j);
}

/* The optional body {"by": "NAME"}: who approves, printable, short. */
static int parse_by(const struct post_body *b, char *by, size_t size)
{
    snprintf(by, size, "api");
    if (b->too_big)
        return err_set("request body longer than %d bytes", HTTP_BODY_MAX);
    if (b->len == 0)
        return 0;
    json_error_t jerr;
    json_t *j = json_loadb(b->data, b->len, 0, &jerr);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return err_set("body is not a JSON object: %s", j ? "" : jerr.text);
    }
    const char *key;
    json_t *val;
    int rc = 0;
    json_object_foreach(j, key, val)
    {
        if (strcmp(key, "by") != 0) {
            rc = err_set("unknown member '%.32s' (only \"by\")", key);
            break;
        }
        const char *s = json_string_value(val);
        size_t n = s ? strlen(s) : 0;
        if (!s || n == 0 || n >= size) {
            rc = err_set("\"by\" must be a string of 1 to %zu bytes", size - 1);
            break;
        }
        for (size_t i = 0; i < n && rc == 0; i++) {
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                rc = err_set("\"by\" holds a control character");
        }
        if (rc == 0)
            snprintf(by, size, "%s", s);
    }
    json_decref(j);
    return rc;
}

/* "/api/v1/pending/ID/approve" -> id and kind. */
static bool parse_pending_url(const char *url, uint64_t *id, enum http_cmd_kind *kind)
{
    static const char prefix[] = "/api/v1/pending/";
    if (strncmp(url, prefix, sizeof(prefix) - 1) != 0)
        return false;
    const char *p = url + sizeof(prefix) - 1;
    const char *slash = strchr(p, '/');
    if (!slash || slash == p || slash - p > 20)
        return false;
    char num[24];
    memcpy(num, p, (size_t)(slash - p));
    num[slash - p] = '\0';
    if (parse_uint64(num, UINT64_MAX, id) < 0 || *id == 0)
        return false;
    if (strcmp(slash + 1, "approve") == 0)
        *kind = HTTP_CMD_APPROVE;
    else if (strcmp(slash + 1, "reject") == 0)
        *kind = HTTP_CMD_REJECT;
    else
        return false;
    return true;
}

void http_post(struct http_server *s, struct MHD_Connection *conn, const char *url,
               const struct post_body *b, struct reply *r)
{
    static const char *const no_args[] = {NULL};
    static const char migr[] = "/api/v1/migrations";
    struct http_cmd c = {0};
    if (strncmp(url, migr, sizeof(migr) - 1) == 0 &&
        (url[sizeof(migr) - 1] == '\0' || url[sizeof(migr) - 1] == '/')) {
        if (args_ok(conn, no_args, r))
            http_post_migrations(s, url, b, r);
        return;
    }
    if (!parse_pending_url(url, &c.id, &c.kind)) {
        r->allow = "GET, HEAD";
        return reply_error(r, strncmp(url, "/api/v1/", 8) == 0 ? 405 : 404,
                           "'%.128s' is read-only (GET); POST is only for "
                           "/api/v1/pending/ID/approve, /api/v1/pending/ID/reject, "
                           "/api/v1/migrations and /api/v1/migrations/ID/abort",
                           url);
    }
    if (!args_ok(conn, no_args, r))
        return;
    if (parse_by(b, c.by, sizeof(c.by)) < 0)
        return reply_error(r, 400, "%s", err_msg());
    if (!http_cmdq_call(s->cmdq, &c, HTTP_CMD_TIMEOUT_MS))
        return reply_error(r, 503, "arasd's loop did not take the request within %d ms; retry",
                           HTTP_CMD_TIMEOUT_MS);
    if (c.status < 200 || c.status > 299)
        return reply_error(r, c.status, "%s", c.message);
    json_t *j = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)c.id, "action",
                          c.kind == HTTP_CMD_APPROVE ? "approve" : "reject", "by", c.by, "message",
                          c.message);
    reply_json(r, c.status, json_dumps(j, JSON_COMPACT));
    json_decref(j);
}

int http_server_cmd_fd(const struct http_server *s)
{
    return http_cmdq_fd(s->cmdq);
}

struct http_cmd *http_server_cmd_take(struct http_server *s)
{
    return http_cmdq_take(s->cmdq);
}

void http_server_cmd_answer(struct http_server *s, struct http_cmd *c)
{
    http_cmdq_answer(s->cmdq, c);
}

void http_server_publish_pending(struct http_server *s, char *json)
{
    http_cmdq_set_pending(s->cmdq, json);
}
