/* test_proto: manifest run-length coding, NEED ranges and the hard limits of
 * the frame parser. */
#include "disksync/dsint.h"
#include "dstest.h"
#include "test.h"

static void fill_manifest(struct ds_hashes *h)
{
    for (uint64_t i = 0; i < h->n_blocks; i++) {
        bool zero = (i / 1000) % 3 == 1 || i % 7 == 3;
        if (zero) {
            h->zero[i >> 3] |= (uint8_t)(1u << (i & 7));
            continue;
        }
        for (unsigned k = 0; k < DS_HASH_BYTES; k++)
            h->hash[i * DS_HASH_BYTES + k] = (uint8_t)(i * 31 + k * 7 + (i >> 8));
    }
}

TEST(manifest_rle_round_trip)
{
    struct ds_hashes h, back;
    /* 100000 blocks: more hashes than fit in one frame. */
    CHECK(ds_hashes_init(&h, 100000ull * DS_BLOCK_BYTES - 100) == 0);
    fill_manifest(&h);
    CHECK(ds_hashes_init(&back, h.image_bytes) == 0);
    struct ds_wbuf b = {0};
    uint64_t next = 0, dec = 0, nonzero = 0;
    int frames = 0;
    size_t total = 0;
    while (next < h.n_blocks) {
        b.len = 0;
        ds_manifest_encode(&h, &next, &b);
        CHECK(b.len <= DS_FRAME_MAX);
        CHECK(ds_manifest_decode(b.p, b.len, &back, &dec) == 0);
        CHECK_INT_EQ(dec, next);
        total += b.len;
        frames++;
    }
    for (uint64_t i = 0; i < h.n_blocks; i++)
        nonzero += !ds_hashes_is_zero(&h, i);
    CHECK(frames >= 2);
    CHECK(memcmp(h.hash, back.hash, h.n_blocks * DS_HASH_BYTES) == 0);
    uint64_t zero_diff = 0;
    for (uint64_t i = 0; i < h.n_blocks; i++)
        zero_diff += ds_hashes_is_zero(&h, i) != ds_hashes_is_zero(&back, i);
    CHECK_INT_EQ(zero_diff, 0);
    /* Zero runs cost a few bytes each, hashes 32 bytes each. */
    CHECK(total < nonzero * DS_HASH_BYTES + h.n_blocks / 2);
    uint8_t d1[32], d2[32];
    ds_hashes_digest(&h, d1);
    ds_hashes_digest(&back, d2);
    CHECK(memcmp(d1, d2, 32) == 0);

    /* A run that would overrun the image is rejected. */
    struct ds_hashes small;
    CHECK(ds_hashes_init(&small, 10 * DS_BLOCK_BYTES) == 0);
    uint8_t bad[] = {(uint8_t)(11 << 1)}; /* 11 zero blocks into a 10-block image */
    uint64_t at = 0;
    CHECK(ds_manifest_decode(bad, sizeof(bad), &small, &at) < 0);
    CHECK_ERR_HAS("overruns");
    uint8_t trunc[] = {(uint8_t)(2 << 1 | 1), 1, 2, 3}; /* 2 hashes, 3 bytes */
    at = 0;
    CHECK(ds_manifest_decode(trunc, sizeof(trunc), &small, &at) < 0);
    CHECK_ERR_HAS("truncated");
    uint8_t overflow[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    at = 0;
    CHECK(ds_manifest_decode(overflow, sizeof(overflow), &small, &at) < 0);
    free(b.p);
    ds_hashes_free(&small);
    ds_hashes_free(&h);
    ds_hashes_free(&back);
}

static int collect(uint64_t start, uint64_t count, void *arg)
{
    uint64_t *sum = arg;
    sum[0] += count;
    sum[1] = start;
    return 0;
}

TEST(need_ranges_bounded)
{
    struct ds_wbuf b = {0};
    ds_wbuf_varint(&b, 5); /* [5, 8) */
    ds_wbuf_varint(&b, 3);
    ds_wbuf_varint(&b, 2); /* [10, 11) */
    ds_wbuf_varint(&b, 1);
    uint64_t sum[2] = {0, 0};
    CHECK(ds_need_decode(b.p, b.len, 100, collect, sum) == 0);
    CHECK_INT_EQ(sum[0], 4);
    CHECK_INT_EQ(sum[1], 10);
    ds_wbuf_varint(&b, 80); /* [91, 101): past the end of a 100-block image */
    ds_wbuf_varint(&b, 10);
    CHECK(ds_need_decode(b.p, b.len, 100, collect, sum) < 0);
    CHECK_ERR_HAS("outside");
    b.len = 0;
    ds_wbuf_varint(&b, 0);
    ds_wbuf_varint(&b, 0); /* empty range */
    CHECK(ds_need_decode(b.p, b.len, 100, collect, sum) < 0);
    free(b.p);
}

TEST(frame_of_4gib_rejected)
{
    int p[2];
    CHECK(pipe(p) == 0);
    uint8_t hdr[DS_FRAME_HDR] = {DS_FRAME_MANIFEST, 0xff, 0xff, 0xff, 0xff};
    CHECK(write(p[1], hdr, sizeof(hdr)) == sizeof(hdr));
    struct ds_conn c;
    ds_conn_init(&c, p[0], -1);
    unsigned type;
    size_t len;
    CHECK(ds_frame_recv(&c, &type, &len) < 0);
    CHECK_ERR_HAS("announces 4294967295 bytes, limit is 1048576");
    /* Unknown type, and an oversized send, are refused too. */
    uint8_t hdr2[DS_FRAME_HDR] = {77, 0, 0, 0, 1};
    CHECK(ds_frame_check_header(hdr2, &type, &len) < 0);
    CHECK_ERR_HAS("unknown frame type 77");
    c.fd_out = p[1];
    CHECK(ds_frame_send(&c, DS_FRAME_DATA, c.buf, DS_FRAME_MAX + 1) < 0);
    CHECK_ERR_HAS("exceeds");
    ds_conn_fini(&c);
    close(p[0]);
    close(p[1]);
}

TEST(hello_validated)
{
    struct ds_hello h = {.image_bytes = 12345, .n_blocks = 4}, back;
    snprintf(h.tenant, sizeof(h.tenant), "acme");
    struct ds_wbuf b = {0};
    ds_hello_encode(&h, &b);
    CHECK(ds_hello_decode(b.p, b.len, &back) == 0);
    CHECK_INT_EQ(back.image_bytes, 12345);
    CHECK_STR_EQ(back.tenant, "acme");
    b.p[8 + 4 + 4 + 7 + 8] = 9; /* n_blocks low byte: inconsistent with the size */
    CHECK(ds_hello_decode(b.p, b.len, &back) < 0);
    CHECK_ERR_HAS("invalid");
    b.p[0] = 'X';
    CHECK(ds_hello_decode(b.p, b.len, &back) < 0);
    CHECK_ERR_HAS("not an ARAS");
    free(b.p);
}

RUN_TESTS(manifest_rle_round_trip, need_ranges_bounded, frame_of_4gib_rejected, hello_validated)
