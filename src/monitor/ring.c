/* ring: time-window ring buffer of samples (see ring.h). */
#include "monitor/ring.h"

#include "util/mem.h"

#include <string.h>

void ring_init(struct ring *r, size_t elem)
{
    memset(r, 0, sizeof(*r));
    r->elem = elem;
}

void ring_free(struct ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->cap = r->n = r->head = 0;
}

const void *ring_at(const struct ring *r, size_t i)
{
    return r->buf + ((r->head + i) % r->cap) * r->elem;
}

static int64_t ring_t(const struct ring *r, size_t i)
{
    int64_t t;
    memcpy(&t, ring_at(r, i), sizeof(t));
    return t;
}

static void ring_grow(struct ring *r)
{
    size_t cap = r->cap ? r->cap * 2 : 8;
    if (cap > RING_MAX_SAMPLES)
        cap = RING_MAX_SAMPLES;
    unsigned char *buf = xmalloc(cap * r->elem);
    for (size_t i = 0; i < r->n; i++) /* unwrap so head is 0 */
        memcpy(buf + i * r->elem, ring_at(r, i), r->elem);
    free(r->buf);
    r->buf = buf;
    r->cap = cap;
    r->head = 0;
}

void ring_push(struct ring *r, const void *sample, int64_t window_ms)
{
    int64_t t;
    memcpy(&t, sample, sizeof(t));
    if (r->n > 0 && ring_t(r, r->n - 1) > t) /* the clock went back: restart the window */
        r->n = 0;
    while (r->n > 0 && ring_t(r, 0) < t - window_ms) {
        r->head = (r->head + 1) % r->cap;
        r->n--;
    }
    if (r->n == r->cap && r->cap < RING_MAX_SAMPLES)
        ring_grow(r);
    if (r->n == r->cap) { /* at the hard bound: drop the oldest */
        r->head = (r->head + 1) % r->cap;
        r->n--;
    }
    memcpy(r->buf + ((r->head + r->n) % r->cap) * r->elem, sample, r->elem);
    r->n++;
}

size_t ring_copy_since(const struct ring *r, int64_t since_ms, void *out, size_t max)
{
    size_t i = 0, k = 0;
    while (i < r->n && ring_t(r, i) < since_ms) /* samples are in time order */
        i++;
    for (; i < r->n && k < max; i++, k++)
        memcpy((unsigned char *)out + k * r->elem, ring_at(r, i), r->elem);
    return k;
}
