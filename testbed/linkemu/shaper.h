/* shaper: one direction of an emulated link — a fair queue in front of a serialiser at
 * the link rate, then a fixed one-way propagation delay.
 *
 * Pure over time: every call takes the current monotonic time in ns, so tests drive it
 * with a virtual clock. A frame pushed at t waits in the fair queue until the link is
 * free, occupies the link for len / rate, and leaves delay_ns after its last bit.
 */
#ifndef ARAS_LINKEMU_SHAPER_H
#define ARAS_LINKEMU_SHAPER_H

#include <stdint.h>

#include "fq.h"

struct shaper {
    struct fq queue;
    double rate_bytes_per_s; /* 0: unlimited (no serialisation) */
    int64_t delay_ns;
    int64_t link_free_ns;  /* when the frame on the link has been sent */
    struct pkt *line_head; /* frames on the wire, in order of due_ns */
    struct pkt *line_tail;
    uint64_t sent_frames, sent_bytes;
};

/* Set up a shaper; limit_bytes bounds the fair queue (0: unbounded). Free with
 * shaper_fini(). */
void shaper_init(struct shaper *s, double rate_bytes_per_s, int64_t delay_ns, size_t limit_bytes,
                 uint32_t nbuckets, size_t quantum);
void shaper_fini(struct shaper *s);

/* Offer frame p (ownership passes) at now_ns; returns frames dropped for the limit. */
unsigned shaper_push(struct shaper *s, struct pkt *p, int64_t now_ns);

/* Move queued frames onto the wire while the link is free at now_ns. */
void shaper_run(struct shaper *s, int64_t now_ns);

/* The next frame whose delay has elapsed at now_ns (the caller owns it), or NULL. */
struct pkt *shaper_pop_due(struct shaper *s, int64_t now_ns);

/* When shaper_run or shaper_pop_due next has work, or INT64_MAX if idle. */
int64_t shaper_next_ns(const struct shaper *s);

#endif
