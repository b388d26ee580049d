/* server_int: what server.c shares with server_alloc.c and server_migr.c
 * (internal to http/). */
#ifndef ARAS_HTTP_SERVER_INT_H
#define ARAS_HTTP_SERVER_INT_H

#include "http/cmdq.h"
#include "http/http.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct http_server {
    struct MHD_Daemon *mhd;
    uint16_t port;
    struct history *hist;
    const struct clock *clock;
    pthread_mutex_t lock;      /* guards cur and every snapshot's refs */
    struct http_snapshot *cur; /* never NULL while running */
    struct http_cmdq *cmdq;    /* commands for the loop, the pending list */
};

/* What a handler answers: status, body (malloc'd), content type. */
struct reply {
    unsigned status;
    char *body;
    const char *type;
    const char *allow; /* Allow header of a 405; NULL = "GET, HEAD" */
};

/* A POST body as it arrives, cut off (and flagged) at HTTP_BODY_MAX. */
struct post_body {
    size_t len;
    bool too_big;
    char data[HTTP_BODY_MAX + 1];
};

void reply_json(struct reply *r, unsigned status, char *body);
void reply_error(struct reply *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Query arguments must be few, short and in `allowed` (NULL-terminated);
 * otherwise a 400 is put in r and false returned. */
bool args_ok(struct MHD_Connection *conn, const char *const *allowed, struct reply *r);
const char *arg(struct MHD_Connection *conn, const char *key);
/* The ?since=DURATION&limit=N arguments of a history listing (defaults: all,
 * HTTP_EVENTS_LIMIT). -1 with the 400 reply set in r when they are bad. */
int history_window_args(struct http_server *s, struct MHD_Connection *conn, struct reply *r,
                        int64_t *since_ms, int64_t *limit);

void http_body_add(struct post_body *b, const char *data, size_t n);
/* POST url with body b (server_alloc.c). */
void http_post(struct http_server *s, struct MHD_Connection *conn, const char *url,
               const struct post_body *b, struct reply *r);
/* GET /api/v1/migrations[/ID]; POST /api/v1/migrations[/ID/abort] (server_migr.c). */
void http_get_migrations(struct http_server *s, struct MHD_Connection *conn, const char *url,
                         struct reply *r);
void http_post_migrations(struct http_server *s, const char *url, const struct post_body *b,
                          struct reply *r);
/* GET /api/v1/decisions (server_alloc.c). */
void http_get_decisions(struct http_server *s, struct MHD_Connection *conn, struct reply *r);

#endif
