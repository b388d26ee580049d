/* shaper: fair queue -> serialiser at the link rate -> fixed delay line. */
#include "shaper.h"

#include <stdlib.h>

/* A wake-up later than this after the link became free is idle time, not jitter. */
#define SHAPER_SLACK_NS 1000000

void shaper_init(struct shaper *s, double rate_bytes_per_s, int64_t delay_ns, size_t limit_bytes,
                 uint32_t nbuckets, size_t quantum)
{
    fq_init(&s->queue, nbuckets, quantum, limit_bytes);
    s->rate_bytes_per_s = rate_bytes_per_s;
    s->delay_ns = delay_ns;
    s->link_free_ns = 0;
    s->line_head = s->line_tail = NULL;
    s->sent_frames = s->sent_bytes = 0;
}

void shaper_fini(struct shaper *s)
{
    struct pkt *p = s->line_head;

    while (p) {
        struct pkt *next = p->next;
        free(p);
        p = next;
    }
    s->line_head = s->line_tail = NULL;
    fq_fini(&s->queue);
}

unsigned shaper_push(struct shaper *s, struct pkt *p, int64_t now_ns)
{
    unsigned dropped = fq_enqueue(&s->queue, p);

    shaper_run(s, now_ns);
    return dropped;
}

void shaper_run(struct shaper *s, int64_t now_ns)
{
    while (s->queue.frames > 0 && s->link_free_ns <= now_ns) {
        struct pkt *p = fq_dequeue(&s->queue);
        int64_t start = s->link_free_ns;

        if (!p)
            break;
        /* Keep back-to-back timing when we merely woke up late; restart from now after
         * real idle time, so an idle link does not bank credit. */
        if (now_ns - start > SHAPER_SLACK_NS)
            start = now_ns;
        if (s->rate_bytes_per_s > 0)
            s->link_free_ns = start + (int64_t)((double)p->len * 1e9 / s->rate_bytes_per_s);
        else
            s->link_free_ns = now_ns;
        p->due_ns = s->link_free_ns + s->delay_ns;
        p->next = NULL;
        if (s->line_tail)
            s->line_tail->next = p;
        else
            s->line_head = p;
        s->line_tail = p;
    }
}

struct pkt *shaper_pop_due(struct shaper *s, int64_t now_ns)
{
    struct pkt *p = s->line_head;

    if (!p || p->due_ns > now_ns)
        return NULL;
    s->line_head = p->next;
    if (!s->line_head)
        s->line_tail = NULL;
    p->next = NULL;
    s->sent_frames++;
    s->sent_bytes += p->len;
    return p;
}

int64_t shaper_next_ns(const struct shaper *s)
{
    int64_t next = INT64_MAX;

    if (s->line_head)
        next = s->line_head->due_ns;
    if (s->queue.frames > 0 && s->link_free_ns < next)
        next = s->link_free_ns;
    return next;
}
