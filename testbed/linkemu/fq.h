/* fq: a per-flow fair queue (deficit round robin) with a byte limit, so a saturating
 * flow cannot starve a sparse one (libvirt keepalives beside a migration stream).
 *
 * Frames are hashed into a fixed number of buckets; each bucket is a FIFO. Dequeue serves
 * the active buckets in turn, each up to `quantum` bytes per round. When the queue holds
 * more than `limit` bytes, frames are dropped from the head of the fattest bucket, as
 * fq_codel does, so the flow causing the overflow pays for it.
 */
#ifndef ARAS_LINKEMU_FQ_H
#define ARAS_LINKEMU_FQ_H

#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

struct fq_bucket {
    struct pkt *head, *tail;
    size_t bytes;
    int64_t deficit;
    uint32_t next_active; /* index of the next bucket in the active ring, or FQ_NONE */
    int active;
};

#define FQ_NONE UINT32_MAX

struct fq {
    struct fq_bucket *buckets;
    uint32_t nbuckets;
    uint32_t active_head, active_tail; /* FIFO of active buckets */
    size_t quantum;                    /* bytes per bucket per round */
    size_t limit;                      /* bytes queued at most */
    size_t bytes;                      /* bytes queued now */
    size_t frames;                     /* frames queued now */
    uint64_t dropped;                  /* frames dropped for the limit, ever */
};

/* Set up an empty queue with nbuckets (>= 1) buckets. Free with fq_fini(). */
void fq_init(struct fq *q, uint32_t nbuckets, size_t quantum, size_t limit);

/* Free every queued frame and the buckets. */
void fq_fini(struct fq *q);

/* Queue p (ownership passes to the queue) in bucket p->flow % nbuckets. Returns the
 * number of frames dropped to respect the limit (possibly p itself). */
unsigned fq_enqueue(struct fq *q, struct pkt *p);

/* The next frame in DRR order, or NULL if the queue is empty. The caller owns it. */
struct pkt *fq_dequeue(struct fq *q);

#endif
