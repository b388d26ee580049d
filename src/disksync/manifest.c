/* manifest: run-length coding of the block manifest and of NEED ranges.
 *
 * MANIFEST payload: records of varint (count << 1 | kind); kind 0 is a run of
 * `count` zero blocks, kind 1 a run of `count` non-zero blocks followed by
 * their 32-byte hashes. NEED payload: ascending ranges, each a varint gap from
 * the previous range's end and a varint count.
 */
#include "disksync/dsint.h"
#include "util/error.h"

#include <string.h>

#define RECORD_HDR_MAX 10u

void ds_manifest_encode(const struct ds_hashes *h, uint64_t *next, struct ds_wbuf *b)
{
    uint64_t i = *next;
    while (i < h->n_blocks && b->len + RECORD_HDR_MAX + DS_HASH_BYTES <= DS_FRAME_MAX) {
        bool zero = ds_hashes_is_zero(h, i);
        uint64_t max =
            zero ? UINT64_MAX >> 2 : (DS_FRAME_MAX - b->len - RECORD_HDR_MAX) / DS_HASH_BYTES;
        uint64_t n = 0;
        while (i + n < h->n_blocks && n < max && ds_hashes_is_zero(h, i + n) == zero)
            n++;
        ds_wbuf_varint(b, n << 1 | (zero ? 0 : 1));
        if (!zero)
            ds_wbuf_bytes(b, ds_hashes_at(h, i), (size_t)n * DS_HASH_BYTES);
        i += n;
    }
    *next = i;
}

int ds_manifest_decode(const uint8_t *p, size_t len, struct ds_hashes *h, uint64_t *next)
{
    struct ds_rbuf r = {.p = p, .len = len};
    while (r.pos < r.len) {
        uint64_t rec;
        if (ds_rbuf_varint(&r, &rec) < 0)
            return -1;
        uint64_t n = rec >> 1;
        if (n == 0 || n > h->n_blocks - *next)
            return err_set("protocol error: manifest run of %llu blocks at block %llu overruns "
                           "the %llu-block image",
                           (unsigned long long)n, (unsigned long long)*next,
                           (unsigned long long)h->n_blocks);
        if (rec & 1) {
            if (n > (r.len - r.pos) / DS_HASH_BYTES)
                return err_set("protocol error: manifest hash run truncated at block %llu",
                               (unsigned long long)*next);
            memcpy(h->hash + *next * DS_HASH_BYTES, r.p + r.pos, (size_t)n * DS_HASH_BYTES);
            r.pos += (size_t)n * DS_HASH_BYTES;
            for (uint64_t i = *next; i < *next + n; i++)
                h->zero[i >> 3] &= (uint8_t) ~(1u << (i & 7));
        } else {
            /* The hash slots of a fresh ds_hashes are zero already: leaving them
             * untouched keeps a long zero run from costing memory. */
            for (uint64_t i = *next; i < *next + n; i++)
                h->zero[i >> 3] |= (uint8_t)(1u << (i & 7));
        }
        *next += n;
    }
    return 0;
}

int ds_need_decode(const uint8_t *p, size_t len, uint64_t n_blocks,
                   int (*cb)(uint64_t start, uint64_t count, void *arg), void *arg)
{
    struct ds_rbuf r = {.p = p, .len = len};
    uint64_t prev_end = 0;
    while (r.pos < r.len) {
        uint64_t gap, count;
        if (ds_rbuf_varint(&r, &gap) < 0 || ds_rbuf_varint(&r, &count) < 0)
            return -1;
        if (gap > n_blocks - prev_end || count == 0 || count > n_blocks - prev_end - gap)
            return err_set("protocol error: NEED range (+%llu, %llu) outside the %llu-block image",
                           (unsigned long long)gap, (unsigned long long)count,
                           (unsigned long long)n_blocks);
        if (cb(prev_end + gap, count, arg) < 0)
            return -1;
        prev_end += gap + count;
    }
    return 0;
}
