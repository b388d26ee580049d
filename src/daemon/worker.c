/* worker: a thread that runs the loop's blocking jobs (scripts, SNMP traps,
 * migrations) one at a time and hands them back with their result; see the
 * contract in daemon.h. */
#include "daemon/daemon.h"

#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define WORKER_IDLE_MS 1000

static void run_job(struct worker *w, struct job *j)
{
    if (j->kind == JOB_MIGRATE)
        migrations_job_run(w->d, j);
    else
        rules_job_run(w->d, j);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        struct job *j = w->todo;
        if (!j) {
            /* Wake at least once a second for the idle work (e-mail retries). */
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += WORKER_IDLE_MS / 1000;
            int rc = pthread_cond_timedwait(&w->cond, &w->lock, &ts);
            if (rc == ETIMEDOUT && w->idle && !w->stop) {
                pthread_mutex_unlock(&w->lock);
                w->idle(w);
                pthread_mutex_lock(&w->lock);
            }
            continue;
        }
        w->todo = j->next;
        if (!w->todo)
            w->todo_tail = NULL;
        w->n_todo--;
        pthread_mutex_unlock(&w->lock);
        j->next = NULL;
        run_job(w, j);
        pthread_mutex_lock(&w->lock);
        if (w->done_tail)
            w->done_tail->next = j;
        else
            w->done = j;
        w->done_tail = j;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int worker_start(struct worker *w, const char *name, struct daemon *d,
                 void (*idle)(struct worker *w))
{
    memset(w, 0, sizeof(*w));
    w->name = name;
    w->d = d;
    w->idle = idle;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &attr);
    pthread_condattr_destroy(&attr);
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc != 0) {
        errno = rc;
        return err_set_errno("cannot start the %s worker thread", name);
    }
    w->started = true;
    return 0;
}

bool worker_post(struct worker *w, struct job *j)
{
    j->next = NULL;
    pthread_mutex_lock(&w->lock);
    bool ok = w->started && w->n_todo < WORKER_QUEUE_MAX;
    if (ok) {
        if (w->todo_tail)
            w->todo_tail->next = j;
        else
            w->todo = j;
        w->todo_tail = j;
        w->n_todo++;
        pthread_cond_signal(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
    if (!ok) {
        log_warn("daemon", "%s worker: queue full (%d jobs), dropping a job", w->name,
                 WORKER_QUEUE_MAX);
        free(j);
    }
    return ok;
}

struct job *worker_take_done(struct worker *w)
{
    if (!w->started)
        return NULL;
    pthread_mutex_lock(&w->lock);
    struct job *j = w->done;
    w->done = w->done_tail = NULL;
    pthread_mutex_unlock(&w->lock);
    return j;
}

static void free_list(struct job *j)
{
    while (j) {
        struct job *next = j->next;
        free(j);
        j = next;
    }
}

void worker_stop(struct worker *w)
{
    if (!w->started)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    if (w->n_todo)
        log_warn("daemon", "%s worker: %zu queued jobs dropped at shutdown", w->name, w->n_todo);
    free_list(w->todo);
    free_list(w->done);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    w->started = false;
}
