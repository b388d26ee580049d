/* Unit tests for linkemu's flow hash and fair queue: flows are told apart by their
 * 5-tuple, DRR serves a sparse flow promptly beside a saturating one, and overflow drops
 * hit the fattest flow. */
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "fq.h"
#include "test.h"

/* An Ethernet + IPv4 + TCP/UDP header with the given ports. */
static size_t frame_ipv4(unsigned char *f, unsigned proto, unsigned sport, unsigned dport,
                         unsigned char last_dst_octet)
{
    memset(f, 0, 64);
    f[12] = 0x08;
    f[13] = 0x00;
    unsigned char *ip = f + 14;
    ip[0] = 0x45;
    ip[9] = (unsigned char)proto;
    ip[12] = 198, ip[13] = 19, ip[14] = 0, ip[15] = 1;
    ip[16] = 198, ip[17] = 19, ip[18] = 0, ip[19] = last_dst_octet;
    ip[20] = (unsigned char)(sport >> 8), ip[21] = (unsigned char)sport;
    ip[22] = (unsigned char)(dport >> 8), ip[23] = (unsigned char)dport;
    return 64;
}

static struct pkt *pkt_flow(uint32_t flow, size_t len, unsigned char tag)
{
    unsigned char buf[2000];
    memset(buf, tag, len);
    struct pkt *p = pkt_new(buf, len);
    p->flow = flow;
    return p;
}

TEST(flow_hash_tells_tuples_apart)
{
    unsigned char a[64], b[64];
    size_t n = frame_ipv4(a, 6, 40000, 16509, 2);

    frame_ipv4(b, 6, 40000, 16509, 2);
    CHECK(flow_hash(a, n) == flow_hash(b, n));
    frame_ipv4(b, 6, 40000, 49152, 2);
    CHECK(flow_hash(a, n) != flow_hash(b, n));
    frame_ipv4(b, 6, 40001, 16509, 2);
    CHECK(flow_hash(a, n) != flow_hash(b, n));
    frame_ipv4(b, 17, 40000, 16509, 2);
    CHECK(flow_hash(a, n) != flow_hash(b, n));
    frame_ipv4(b, 6, 40000, 16509, 3);
    CHECK(flow_hash(a, n) != flow_hash(b, n));
    /* Payload bytes beyond the headers do not matter. */
    frame_ipv4(b, 6, 40000, 16509, 2);
    b[60] = 0x99;
    CHECK(flow_hash(a, n) == flow_hash(b, n));
    /* Short frames hash without reading past their end. */
    CHECK(flow_hash(a, 10) == flow_hash(a, 10));
}

TEST(fifo_within_a_flow)
{
    struct fq q;
    fq_init(&q, 16, 1514, 0);
    for (unsigned char i = 0; i < 5; i++)
        CHECK_INT_EQ(fq_enqueue(&q, pkt_flow(7, 100, i)), 0);
    CHECK_INT_EQ(q.frames, 5);
    CHECK_INT_EQ(q.bytes, 500);
    for (unsigned char i = 0; i < 5; i++) {
        struct pkt *p = fq_dequeue(&q);
        CHECK(p != NULL && p->data[0] == i);
        free(p);
    }
    CHECK(fq_dequeue(&q) == NULL);
    CHECK_INT_EQ(q.bytes, 0);
    fq_fini(&q);
}

TEST(sparse_flow_served_beside_saturating_flow)
{
    struct fq q;
    fq_init(&q, 64, 1514, 0);
    for (int i = 0; i < 200; i++)
        fq_enqueue(&q, pkt_flow(1, 1500, 'm'));
    fq_enqueue(&q, pkt_flow(2, 80, 'k')); /* a keepalive behind 300 kB of migration */
    int pos = -1;
    for (int i = 0; i < 201; i++) {
        struct pkt *p = fq_dequeue(&q);
        CHECK(p != NULL);
        if (p && p->data[0] == 'k')
            pos = i;
        free(p);
    }
    CHECK(pos >= 0 && pos <= 2);
    fq_fini(&q);
}

TEST(drr_shares_bytes_equally)
{
    struct fq q;
    size_t bytes[2] = {0, 0};
    fq_init(&q, 64, 1514, 0);
    for (int i = 0; i < 400; i++) {
        fq_enqueue(&q, pkt_flow(1, 1500, 'a'));
        fq_enqueue(&q, pkt_flow(2, 300, 'b'));
    }
    for (int i = 0; i < 300; i++) {
        struct pkt *p = fq_dequeue(&q);
        bytes[p->data[0] == 'b'] += p->len;
        free(p);
    }
    /* Equal bytes (not equal frames) for both flows, within a quantum or two. */
    CHECK(labs((long)bytes[0] - (long)bytes[1]) <= 2 * 1514);
    fq_fini(&q);
}

TEST(overflow_drops_from_the_fattest_flow)
{
    struct fq q;
    unsigned dropped = 0;
    fq_init(&q, 64, 1514, 10 * 1500);
    fq_enqueue(&q, pkt_flow(3, 100, 'k'));
    for (int i = 0; i < 20; i++)
        dropped += fq_enqueue(&q, pkt_flow(1, 1500, 'm'));
    CHECK(dropped >= 10);
    CHECK_INT_EQ(q.dropped, dropped);
    CHECK(q.bytes <= 10 * 1500);
    int seen_k = 0;
    struct pkt *p;
    while ((p = fq_dequeue(&q))) {
        seen_k += p->data[0] == 'k';
        free(p);
    }
    CHECK_INT_EQ(seen_k, 1);
    fq_fini(&q);
}

RUN_TESTS(flow_hash_tells_tuples_apart, fifo_within_a_flow,
          sparse_flow_served_beside_saturating_flow, drr_shares_bytes_equally,
          overflow_drops_from_the_fattest_flow)
