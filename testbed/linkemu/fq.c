/* fq: deficit round robin over hashed flow buckets, drop from the fattest on overflow. */
#include "fq.h"

#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

void fq_init(struct fq *q, uint32_t nbuckets, size_t quantum, size_t limit)
{
    memset(q, 0, sizeof(*q));
    q->nbuckets = nbuckets ? nbuckets : 1;
    q->buckets = xcalloc(q->nbuckets, sizeof(*q->buckets));
    q->active_head = q->active_tail = FQ_NONE;
    q->quantum = quantum ? quantum : 1514;
    q->limit = limit;
}

void fq_fini(struct fq *q)
{
    for (uint32_t i = 0; i < q->nbuckets; i++) {
        struct pkt *p = q->buckets[i].head;
        while (p) {
            struct pkt *next = p->next;
            free(p);
            p = next;
        }
    }
    free(q->buckets);
    q->buckets = NULL;
}

static void active_push(struct fq *q, uint32_t i)
{
    q->buckets[i].next_active = FQ_NONE;
    q->buckets[i].active = 1;
    if (q->active_tail == FQ_NONE)
        q->active_head = i;
    else
        q->buckets[q->active_tail].next_active = i;
    q->active_tail = i;
}

static uint32_t active_pop(struct fq *q)
{
    uint32_t i = q->active_head;

    q->active_head = q->buckets[i].next_active;
    if (q->active_head == FQ_NONE)
        q->active_tail = FQ_NONE;
    q->buckets[i].active = 0;
    return i;
}

/* Unlink the head frame of bucket i; the bucket stays in the active ring even when it
 * becomes empty (fq_dequeue drops empty buckets from the ring when it meets them). */
static struct pkt *bucket_pop(struct fq *q, uint32_t i)
{
    struct fq_bucket *b = &q->buckets[i];
    struct pkt *p = b->head;

    b->head = p->next;
    if (!b->head)
        b->tail = NULL;
    p->next = NULL;
    b->bytes -= p->len;
    q->bytes -= p->len;
    q->frames--;
    return p;
}

static uint32_t fattest(const struct fq *q)
{
    uint32_t best = 0;

    for (uint32_t i = 1; i < q->nbuckets; i++)
        if (q->buckets[i].bytes > q->buckets[best].bytes)
            best = i;
    return best;
}

unsigned fq_enqueue(struct fq *q, struct pkt *p)
{
    uint32_t i = p->flow % q->nbuckets;
    struct fq_bucket *b = &q->buckets[i];
    unsigned dropped = 0;

    p->next = NULL;
    if (b->tail)
        b->tail->next = p;
    else
        b->head = p;
    b->tail = p;
    b->bytes += p->len;
    q->bytes += p->len;
    q->frames++;
    if (!b->active) {
        b->deficit = (int64_t)q->quantum;
        active_push(q, i);
    }
    while (q->limit && q->bytes > q->limit) {
        free(bucket_pop(q, fattest(q)));
        dropped++;
    }
    q->dropped += dropped;
    return dropped;
}

struct pkt *fq_dequeue(struct fq *q)
{
    while (q->active_head != FQ_NONE) {
        uint32_t i = q->active_head;
        struct fq_bucket *b = &q->buckets[i];

        if (!b->head) {
            active_pop(q); /* emptied (or drained by drops): leaves the ring */
            continue;
        }
        if (b->deficit <= 0) {
            b->deficit += (int64_t)q->quantum;
            active_pop(q);
            active_push(q, i);
            continue;
        }
        struct pkt *p = bucket_pop(q, i);
        b->deficit -= (int64_t)p->len;
        return p;
    }
    return NULL;
}
