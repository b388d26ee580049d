/* pending: the approval queue for semi-automatic decisions (see pending.h). */
#include "policy/pending.h"

#include "util/error.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

struct pending_queue {
    struct pending_item *items;
    size_t n, cap;
    int64_t ttl_ms;
    uint64_t next_id;
};

static const char *const state_names[] = {"waiting", "approved", "rejected", "expired",
                                          "running", "done",     "failed"};

const char *pending_state_str(enum pending_state s)
{
    return (unsigned)s < ARRAY_LEN(state_names) ? state_names[s] : "?";
}

struct pending_queue *pending_new(int64_t ttl_ms, uint64_t first_id)
{
    struct pending_queue *q = xcalloc(1, sizeof(*q));
    q->ttl_ms = ttl_ms;
    q->next_id = first_id ? first_id : 1;
    return q;
}

void pending_free(struct pending_queue *q)
{
    if (!q)
        return;
    free(q->items);
    free(q);
}

static struct pending_item *find(const struct pending_queue *q, uint64_t id)
{
    for (size_t i = 0; i < q->n; i++) {
        if (q->items[i].id == id)
            return &q->items[i];
    }
    return NULL;
}

uint64_t pending_add(struct pending_queue *q, const struct rac_decision *d, int64_t now_ms)
{
    for (size_t i = 0; i < q->n; i++) {
        struct pending_item *it = &q->items[i];
        if (it->state == PENDING_WAITING && it->decision.action == d->action &&
            strcmp(it->decision.vm, d->vm) == 0) {
            it->decision = *d; /* fresher reason and target */
            it->expires_ms = now_ms + q->ttl_ms;
            return it->id;
        }
    }
    xgrow((void **)&q->items, &q->cap, q->n + 1, sizeof(*q->items));
    struct pending_item *it = &q->items[q->n++];
    memset(it, 0, sizeof(*it));
    it->id = q->next_id++;
    it->created_ms = now_ms;
    it->expires_ms = now_ms + q->ttl_ms;
    it->state = PENDING_WAITING;
    it->decision = *d;
    return it->id;
}

/* The entry `id` if it is still waiting; otherwise err_set() says why not. */
static struct pending_item *waiting(struct pending_queue *q, uint64_t id, int64_t now_ms)
{
    struct pending_item *it = find(q, id);
    if (!it)
        return err_set("no recommendation with id %llu", (unsigned long long)id), NULL;
    if (it->state == PENDING_WAITING && now_ms >= it->expires_ms) {
        it->state = PENDING_EXPIRED;
        it->decided_ms = it->expires_ms;
        snprintf(it->note, sizeof(it->note), "expired unapproved");
    }
    if (it->state != PENDING_WAITING)
        return err_set("recommendation %llu is %s, not waiting", (unsigned long long)id,
                       pending_state_str(it->state)),
               NULL;
    return it;
}

static int decide(struct pending_queue *q, uint64_t id, const char *by, int64_t now_ms,
                  enum pending_state to)
{
    struct pending_item *it = waiting(q, id, now_ms);
    if (!it)
        return -1;
    it->state = to;
    it->decided_ms = now_ms;
    snprintf(it->decided_by, sizeof(it->decided_by), "%s", by ? by : "");
    snprintf(it->note, sizeof(it->note), "%s by %s", pending_state_str(to), by ? by : "?");
    return 0;
}

int pending_approve(struct pending_queue *q, uint64_t id, const char *by, int64_t now_ms)
{
    return decide(q, id, by, now_ms, PENDING_APPROVED);
}

int pending_reject(struct pending_queue *q, uint64_t id, const char *by, int64_t now_ms)
{
    return decide(q, id, by, now_ms, PENDING_REJECTED);
}

size_t pending_expire(struct pending_queue *q, int64_t now_ms, struct pending_item *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < q->n; i++) {
        struct pending_item *it = &q->items[i];
        if (it->state != PENDING_WAITING || now_ms < it->expires_ms)
            continue;
        it->state = PENDING_EXPIRED;
        it->decided_ms = now_ms;
        snprintf(it->note, sizeof(it->note), "expired unapproved");
        if (n < max)
            out[n] = *it;
        n++;
    }
    return n;
}

size_t pending_take_approved(struct pending_queue *q, struct pending_item *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < q->n && n < max; i++) {
        struct pending_item *it = &q->items[i];
        if (it->state != PENDING_APPROVED)
            continue;
        it->state = PENDING_RUNNING;
        out[n++] = *it;
    }
    return n;
}

int pending_finish(struct pending_queue *q, uint64_t id, bool ok, const char *note, int64_t now_ms)
{
    struct pending_item *it = find(q, id);
    if (!it || it->state != PENDING_RUNNING)
        return err_set("recommendation %llu is not running", (unsigned long long)id);
    it->state = ok ? PENDING_DONE : PENDING_FAILED;
    it->decided_ms = now_ms;
    snprintf(it->note, sizeof(it->note), "%s", note ? note : "");
    return 0;
}

const struct pending_item *pending_get(const struct pending_queue *q, uint64_t id)
{
    return find(q, id);
}

const struct pending_item *pending_items(const struct pending_queue *q, size_t *n)
{
    *n = q->n;
    return q->items;
}

void pending_prune(struct pending_queue *q, int64_t before_ms)
{
    size_t w = 0;
    for (size_t i = 0; i < q->n; i++) {
        const struct pending_item *it = &q->items[i];
        bool live = it->state == PENDING_WAITING || it->state == PENDING_APPROVED ||
                    it->state == PENDING_RUNNING;
        if (live || it->decided_ms >= before_ms)
            q->items[w++] = *it;
    }
    q->n = w;
}
