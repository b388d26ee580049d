/* cmdq: the queue of API commands for the loop thread and the lists the loop
 * publishes (pending, migrations) (internal to http/; the contract is in
 * http.h). */
#ifndef ARAS_HTTP_CMDQ_H
#define ARAS_HTTP_CMDQ_H

#include "http/http.h"

#include <stdbool.h>

struct http_cmdq;

/* NULL with err_set() if the eventfd cannot be made. */
struct http_cmdq *http_cmdq_new(void);
void http_cmdq_free(struct http_cmdq *q);
int http_cmdq_fd(const struct http_cmdq *q);
/* HTTP thread: queue c, wake the loop, wait for the answer. False when the
 * loop did not take it within timeout_ms (c is then withdrawn). */
bool http_cmdq_call(struct http_cmdq *q, struct http_cmd *c, int64_t timeout_ms);
struct http_cmd *http_cmdq_take(struct http_cmdq *q);
void http_cmdq_answer(struct http_cmdq *q, struct http_cmd *c);
void http_cmdq_set_pending(struct http_cmdq *q, char *json);
/* A copy of the published pending list (caller frees). */
char *http_cmdq_pending(struct http_cmdq *q);
/* The same for the published migrations list. */
void http_cmdq_set_migrations(struct http_cmdq *q, char *json);
char *http_cmdq_migrations(struct http_cmdq *q);

#endif
