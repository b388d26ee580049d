/* Unit tests for linkemu's shaper on a virtual clock: serialisation at the link rate,
 * fixed one-way delay, no credit banked while idle, and throughput equal to the rate. */
#include <stdlib.h>
#include <string.h>

#include "shaper.h"
#include "test.h"

#define MS 1000000LL

static struct pkt *frame(uint32_t flow, size_t len)
{
    unsigned char buf[2000];
    memset(buf, 0, len);
    struct pkt *p = pkt_new(buf, len);
    p->flow = flow;
    return p;
}

TEST(serialisation_then_delay)
{
    struct shaper s;
    int64_t due[5], t = 0;
    int n = 0;
    /* 1 MB/s: a 1000-byte frame takes 1 ms on the wire; 10 ms propagation. */
    shaper_init(&s, 1e6, 10 * MS, 0, 16, 1514);
    for (int i = 0; i < 5; i++)
        shaper_push(&s, frame(1, 1000), 0);
    CHECK_INT_EQ(shaper_next_ns(&s), 1 * MS); /* the link frees up after the first frame */
    /* An event loop: wake at the next event, move frames, collect what is due. */
    while ((t = shaper_next_ns(&s)) != INT64_MAX && n < 5) {
        struct pkt *p;
        shaper_run(&s, t);
        while ((p = shaper_pop_due(&s, t))) {
            due[n++] = p->due_ns;
            CHECK_INT_EQ(p->due_ns, t);
            free(p);
        }
    }
    CHECK_INT_EQ(n, 5);
    for (int i = 0; i < n; i++)
        CHECK_INT_EQ(due[i], (11 + i) * MS);
    CHECK_INT_EQ(shaper_next_ns(&s), INT64_MAX);
    CHECK_INT_EQ(s.sent_frames, 5);
    CHECK_INT_EQ(s.sent_bytes, 5000);
    shaper_fini(&s);
}

TEST(unlimited_rate_is_pure_delay)
{
    struct shaper s;
    shaper_init(&s, 0, 16 * MS, 0, 16, 1514);
    shaper_push(&s, frame(1, 1500), 5 * MS);
    shaper_push(&s, frame(2, 1500), 5 * MS);
    struct pkt *a = shaper_pop_due(&s, 21 * MS), *b = shaper_pop_due(&s, 21 * MS);
    CHECK(a && b && a->due_ns == 21 * MS && b->due_ns == 21 * MS);
    free(a);
    free(b);
    shaper_fini(&s);
}

TEST(idle_link_banks_no_credit)
{
    struct shaper s;
    shaper_init(&s, 1e6, 0, 0, 16, 1514);
    shaper_push(&s, frame(1, 1000), 0);
    free(shaper_pop_due(&s, 1 * MS));
    /* One second idle, then two frames: still 1 ms apart, starting now. */
    shaper_push(&s, frame(1, 1000), 1000 * MS);
    shaper_push(&s, frame(1, 1000), 1000 * MS);
    struct pkt *p = shaper_pop_due(&s, 1001 * MS);
    CHECK(p && p->due_ns == 1001 * MS);
    free(p);
    shaper_run(&s, 1001 * MS);
    p = shaper_pop_due(&s, 1002 * MS);
    CHECK(p && p->due_ns == 1002 * MS);
    free(p);
    shaper_fini(&s);
}

TEST(saturated_throughput_equals_rate)
{
    struct shaper s;
    uint64_t delivered = 0;
    /* 100 Mbit/s, 16 ms delay; offer 200 Mbit/s for one second in 1 ms steps with a
     * wake-up jitter of up to 0.3 ms, as a real event loop has. */
    shaper_init(&s, 100e6 / 8, 16 * MS, 256 * 1024, 1024, 1514);
    for (int64_t t = 0; t < 2000 * MS; t += MS) {
        int64_t now = t + (t / MS % 3) * 100000;
        if (t < 1000 * MS)
            for (int i = 0; i < 17; i++)
                shaper_push(&s, frame((uint32_t)i % 4, 1500), now);
        shaper_run(&s, now);
        struct pkt *p;
        while ((p = shaper_pop_due(&s, now))) {
            if (p->due_ns <= 1016 * MS)
                delivered += p->len;
            free(p);
            shaper_run(&s, now);
        }
    }
    /* Frames that left the link within the first second (due by 1 s + delay). */
    CHECK_NEAR((double)delivered * 8, 100e6, 2e6);
    CHECK(s.queue.dropped > 0);
    shaper_fini(&s);
}

RUN_TESTS(serialisation_then_delay, unlimited_rate_is_pure_delay, idle_link_banks_no_credit,
          saturated_throughput_equals_rate)
