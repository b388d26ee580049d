/* cmdq: commands from HTTP requests to the daemon loop, and back.
 *
 * A command lives on the requesting thread's stack. States: QUEUED (in the
 * list, the loop may take it), TAKEN (the loop has it and will answer), DONE
 * (answered). The requester waits on the condition variable; on timeout it
 * withdraws a command still QUEUED, but waits on for one TAKEN, so the loop
 * never writes to a command whose requester has gone. */
#include "http/cmdq.h"

#include "util/error.h"
#include "util/mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

enum { CMD_QUEUED = 1, CMD_TAKEN, CMD_DONE };

struct http_cmdq {
    pthread_mutex_t lock;
    pthread_cond_t answered;
    struct http_cmd *head, *tail;
    int efd;
    char *pending_json;
    char *migrations_json;
};

struct http_cmdq *http_cmdq_new(void)
{
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0)
        return err_set_errno("eventfd"), NULL;
    struct http_cmdq *q = xcalloc(1, sizeof(*q));
    q->efd = efd;
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->answered, &attr);
    pthread_condattr_destroy(&attr);
    q->pending_json = xstrdup("{\"pending\":[]}");
    q->migrations_json = xstrdup("{\"migrations\":[]}");
    return q;
}

void http_cmdq_free(struct http_cmdq *q)
{
    if (!q)
        return;
    close(q->efd);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->answered);
    free(q->pending_json);
    free(q->migrations_json);
    free(q);
}

int http_cmdq_fd(const struct http_cmdq *q)
{
    return q->efd;
}

static void unlink_cmd(struct http_cmdq *q, struct http_cmd *c)
{
    struct http_cmd **pp = &q->head, *prev = NULL;
    while (*pp && *pp != c) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = c->next;
    if (q->tail == c)
        q->tail = prev;
}

bool http_cmdq_call(struct http_cmdq *q, struct http_cmd *c, int64_t timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&q->lock);
    c->state = CMD_QUEUED;
    c->next = NULL;
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    uint64_t one = 1;
    if (write(q->efd, &one, sizeof(one)) < 0) {
        /* EAGAIN: the counter is saturated, the loop is woken anyway. */
    }
    bool ok = true;
    while (c->state != CMD_DONE) {
        if (c->state == CMD_TAKEN) {
            pthread_cond_wait(&q->answered, &q->lock);
            continue;
        }
        if (pthread_cond_timedwait(&q->answered, &q->lock, &until) == ETIMEDOUT &&
            c->state == CMD_QUEUED) {
            unlink_cmd(q, c);
            ok = false;
            break;
        }
    }
    pthread_mutex_unlock(&q->lock);
    return ok;
}

struct http_cmd *http_cmdq_take(struct http_cmdq *q)
{
    pthread_mutex_lock(&q->lock);
    struct http_cmd *c = q->head;
    if (c) {
        q->head = c->next;
        if (!q->head)
            q->tail = NULL;
        c->next = NULL;
        c->state = CMD_TAKEN;
    } else {
        uint64_t n;
        if (read(q->efd, &n, sizeof(n)) < 0) {
            /* EAGAIN: nothing to clear. */
        }
    }
    pthread_mutex_unlock(&q->lock);
    return c;
}

void http_cmdq_answer(struct http_cmdq *q, struct http_cmd *c)
{
    pthread_mutex_lock(&q->lock);
    c->state = CMD_DONE;
    pthread_cond_broadcast(&q->answered);
    pthread_mutex_unlock(&q->lock);
}

void http_cmdq_set_pending(struct http_cmdq *q, char *json)
{
    pthread_mutex_lock(&q->lock);
    free(q->pending_json);
    q->pending_json = json;
    pthread_mutex_unlock(&q->lock);
}

char *http_cmdq_pending(struct http_cmdq *q)
{
    pthread_mutex_lock(&q->lock);
    char *s = xstrdup(q->pending_json);
    pthread_mutex_unlock(&q->lock);
    return s;
}

void http_cmdq_set_migrations(struct http_cmdq *q, char *json)
{
    pthread_mutex_lock(&q->lock);
    free(q->migrations_json);
    q->migrations_json = json;
    pthread_mutex_unlock(&q->lock);
}

char *http_cmdq_migrations(struct http_cmdq *q)
{
    pthread_mutex_lock(&q->lock);
    char *s = xstrdup(q->migrations_json);
    pthread_mutex_unlock(&q->lock);
    return s;
}
