/* fuzz_disksync_proto: libFuzzer target for the disk-sync frame, HELLO,
 * manifest, NEED and RESULT parsers — any bytes must parse or give an error
 * message, never a crash, a leak or a write past the manifest. */
#include "disksync/dsint.h"
#include "util/error.h"
#include "util/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keep the fuzzer's memory small: images announced larger are refused here. */
#define FUZZ_IMAGE_MAX (UINT64_C(64) << 20)

static int count_need(uint64_t start, uint64_t count, void *arg)
{
    uint64_t *n_blocks = arg;
    if (start >= *n_blocks || count > *n_blocks - start)
        abort(); /* the decoder let an out-of-range request through */
    return 0;
}

static void check_manifest_ok(const struct ds_hashes *h, uint64_t next)
{
    if (next > h->n_blocks)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ds_hashes h = {0};
    uint64_t next = 0, n_blocks = 0;
    size_t pos = 0;
    while (size - pos >= DS_FRAME_HDR) {
        unsigned type;
        size_t len;
        if (ds_frame_check_header(data + pos, &type, &len) < 0) {
            if (strncmp(err_msg(), "protocol error", 14) != 0)
                abort();
            break;
        }
        pos += DS_FRAME_HDR;
        if (len > size - pos)
            break;
        const uint8_t *p = data + pos;
        pos += len;
        struct ds_hello hello;
        struct ds_result res;
        switch (type) {
        case DS_FRAME_HELLO:
            if (ds_hello_decode(p, len, &hello) == 0 && hello.image_bytes <= FUZZ_IMAGE_MAX &&
                !h.hash) {
                if (ds_hashes_init(&h, hello.image_bytes) < 0)
                    abort();
                n_blocks = h.n_blocks;
            }
            break;
        case DS_FRAME_MANIFEST:
            if (h.hash && ds_manifest_decode(p, len, &h, &next) == 0)
                check_manifest_ok(&h, next);
            break;
        case DS_FRAME_NEED:
            ds_need_decode(p, len, n_blocks, count_need, &n_blocks);
            break;
        case DS_FRAME_RESULT:
            ds_result_decode(p, len, &res);
            break;
        default:
            break;
        }
    }
    if (h.hash) {
        uint8_t d[DS_HASH_BYTES];
        ds_hashes_digest(&h, d);
    }
    ds_hashes_free(&h);
    return 0;
}
