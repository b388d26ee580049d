/* commands: the API's requests for the loop thread — approvals and
 * rejections (alloc.c), migrations and their aborts (migrations.c) — answered
 * at once between ticks, then the events they caused written and what
 * changed published. */
#include "daemon/daemon.h"

#include "util/error.h"
#include "util/log.h"

void daemon_commands(struct daemon *d)
{
    int64_t t_ms = clock_now_ms(&d->clock);
    struct http_cmd *c;
    while ((c = http_server_cmd_take(d->http)) != NULL) {
        switch (c->kind) {
        case HTTP_CMD_APPROVE:
        case HTTP_CMD_REJECT:
            alloc_answer(d, c, t_ms);
            break;
        case HTTP_CMD_MIGRATE:
        case HTTP_CMD_MIGRATE_ABORT:
            migrations_answer(d, c, t_ms);
            break;
        }
        http_server_cmd_answer(d->http, c);
    }
    daemon_events_flush(d);
    alloc_publish(d, t_ms);
    migrations_publish(d, t_ms);
}

void daemon_events_flush(struct daemon *d)
{
    for (size_t i = 0; i < d->events.n; i++) {
        if (history_record_event(d->history, &d->events.ev[i], NULL) < 0)
            log_warn("daemon", "recording an event: %s", err_msg());
    }
    evlist_clear(&d->events);
}
