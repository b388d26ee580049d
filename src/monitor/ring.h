/* ring: a growable ring buffer of fixed-size samples whose first member is
 * `int64_t t_ms`, trimmed to a time window (internal to monitor/). */
#ifndef ARAS_MONITOR_RING_H
#define ARAS_MONITOR_RING_H

#include <stddef.h>
#include <stdint.h>

#define RING_MAX_SAMPLES 65536 /* hard bound per object, whatever the window */

struct ring {
    unsigned char *buf;
    size_t elem, cap, head, n;
};

void ring_init(struct ring *r, size_t elem);
void ring_free(struct ring *r);
/* Append a copy of sample, first dropping samples older than
 * sample.t_ms - window_ms (and the oldest if RING_MAX_SAMPLES is reached). */
void ring_push(struct ring *r, const void *sample, int64_t window_ms);
/* The i-th sample, oldest first (i < r->n). */
const void *ring_at(const struct ring *r, size_t i);
/* Copy up to max samples with t_ms >= since_ms, oldest first. */
size_t ring_copy_since(const struct ring *r, int64_t since_ms, void *out, size_t max);

#endif
