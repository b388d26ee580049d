/* send: the source side of a transfer.
 *
 * Hash the image, send HELLO and the run-length-coded manifest, then serve NEED
 * frames as they arrive: each requested block is read and fed once into one
 * zstd stream (flushed at the end of each NEED frame so the destination can
 * start writing), and finally wait for the destination's RESULT.
 */
#include "disksync/dsint.h"
#include "util/error.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>
#include <zstd.h>

#define OUT_BYTES   (256u * 1024u)
#define READ_BLOCKS 64u

struct send_ctx {
    const struct ds_send_opts *o;
    struct ds_image *img;
    struct ds_hashes h;
    struct ds_conn conn;
    ZSTD_CCtx *cctx;
    uint8_t *out, *blocks;
    uint8_t *requested; /* bitmap: each block is sent at most once */
    struct ds_sync_stats *st;
};

static void progress(struct send_ctx *s)
{
    s->st->wire_bytes_sent = s->conn.sent;
    s->st->wire_bytes_received = s->conn.received;
    if (s->o->progress)
        s->o->progress(s->st, s->o->progress_arg);
}

/* Compress `len` input bytes with `mode`, sending every full output buffer. */
static int compress(struct send_ctx *s, const void *in, size_t len, ZSTD_EndDirective mode)
{
    ZSTD_inBuffer ib = {in, len, 0};
    for (;;) {
        ZSTD_outBuffer ob = {s->out, OUT_BYTES, 0};
        size_t left = ZSTD_compressStream2(s->cctx, &ob, &ib, mode);
        if (ZSTD_isError(left))
            return err_set("zstd: %s", ZSTD_getErrorName(left));
        if (ob.pos > 0) {
            if (ds_frame_send(&s->conn, DS_FRAME_DATA, s->out, ob.pos) < 0)
                return -1;
            progress(s);
        }
        bool done = mode == ZSTD_e_continue ? ib.pos == ib.size : left == 0;
        if (done)
            return 0;
    }
}

/* First pass over a NEED frame: validate and count before sending anything. */
static int check_range(uint64_t start, uint64_t count, void *arg)
{
    struct send_ctx *s = arg;
    for (uint64_t i = start; i < start + count; i++) {
        if (ds_hashes_is_zero(&s->h, i))
            return err_set("protocol error: destination asked for zero block %llu",
                           (unsigned long long)i);
        if (s->requested[i >> 3] & (1u << (i & 7)))
            return err_set("protocol error: destination asked twice for block %llu",
                           (unsigned long long)i);
        s->requested[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
    s->st->data_blocks_requested += count;
    return 0;
}

static int send_range(uint64_t start, uint64_t count, void *arg)
{
    struct send_ctx *s = arg;
    while (count > 0) {
        uint64_t n = count < READ_BLOCKS ? count : READ_BLOCKS;
        if (ds_image_read(s->img, start * DS_BLOCK_BYTES, (size_t)n * DS_BLOCK_BYTES, s->blocks) <
                0 ||
            compress(s, s->blocks, (size_t)n * DS_BLOCK_BYTES, ZSTD_e_continue) < 0)
            return -1;
        s->st->data_blocks_sent += n;
        start += n;
        count -= n;
    }
    return 0;
}

static int send_manifest(struct send_ctx *s)
{
    struct ds_hello hello = {.image_bytes = s->h.image_bytes, .n_blocks = s->h.n_blocks};
    ds_hashes_digest(&s->h, hello.digest);
    snprintf(hello.tenant, sizeof(hello.tenant), "%s", s->o->tenant);
    struct ds_wbuf b = {0};
    ds_hello_encode(&hello, &b);
    int rc = ds_frame_send(&s->conn, DS_FRAME_HELLO, b.p, b.len);
    uint64_t next = 0;
    while (rc == 0 && next < s->h.n_blocks) {
        b.len = 0;
        ds_manifest_encode(&s->h, &next, &b);
        rc = ds_frame_send(&s->conn, DS_FRAME_MANIFEST, b.p, b.len);
    }
    free(b.p);
    if (rc == 0)
        rc = ds_frame_send(&s->conn, DS_FRAME_MANIFEST_END, NULL, 0);
    return rc;
}

static int apply_result(struct send_ctx *s, size_t len)
{
    struct ds_result r;
    if (ds_result_decode(s->conn.buf, len, &r) < 0)
        return -1;
    if (r.status != 0)
        return err_set("destination reported failure %u", r.status);
    s->st->matched_blocks = r.matched_blocks;
    s->st->missing_blocks = r.missing_blocks;
    s->st->duplicate_blocks = r.duplicate_blocks;
    s->st->resumed_blocks = r.resumed_blocks;
    s->st->basis_bad_blocks = r.basis_bad_blocks;
    if (r.zero_blocks != s->st->zero_blocks)
        return err_set("destination counted %llu zero blocks, source %llu",
                       (unsigned long long)r.zero_blocks, (unsigned long long)s->st->zero_blocks);
    return 0;
}

static int serve(struct send_ctx *s)
{
    if (send_manifest(s) < 0)
        return -1;
    progress(s);
    for (;;) {
        unsigned type;
        size_t len;
        if (ds_frame_recv(&s->conn, &type, &len) < 0)
            return -1;
        switch (type) {
        case DS_FRAME_NEED:
            if (ds_need_decode(s->conn.buf, len, s->h.n_blocks, check_range, s) < 0 ||
                ds_need_decode(s->conn.buf, len, s->h.n_blocks, send_range, s) < 0 ||
                compress(s, NULL, 0, ZSTD_e_flush) < 0)
                return -1;
            break;
        case DS_FRAME_NEED_END:
            if (compress(s, NULL, 0, ZSTD_e_end) < 0 ||
                ds_frame_send(&s->conn, DS_FRAME_DATA_END, NULL, 0) < 0)
                return -1;
            break;
        case DS_FRAME_RESULT:
            if (apply_result(s, len) < 0)
                return -1;
            progress(s);
            return 0;
        default:
            return err_set("protocol error: unexpected %s frame from the destination",
                           ds_frame_type_str(type));
        }
    }
}

int ds_send(const struct ds_send_opts *o, int fd_in, int fd_out, struct ds_sync_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (ds_tenant_check(o->tenant) < 0)
        return -1;
    struct send_ctx s = {.o = o, .st = st};
    s.img = ds_image_open(o->image);
    if (!s.img)
        return -1;
    if (ds_image_hash(s.img, &s.h) < 0) {
        ds_image_close(s.img);
        return -1;
    }
    st->image_bytes = s.h.image_bytes;
    st->n_blocks = s.h.n_blocks;
    for (uint64_t i = 0; i < s.h.n_blocks; i++)
        st->zero_blocks += ds_hashes_is_zero(&s.h, i);
    ds_conn_init(&s.conn, fd_in, fd_out);
    s.cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(s.cctx, ZSTD_c_compressionLevel, o->zstd_level ? o->zstd_level : 3);
    s.out = xmalloc(OUT_BYTES);
    s.blocks = xmalloc(READ_BLOCKS * DS_BLOCK_BYTES);
    s.requested = xcalloc((size_t)(s.h.n_blocks + 7) / 8 + 1, 1);
    int rc = serve(&s);
    if (rc < 0 && strncmp(err_msg(), "sending ", 8) == 0) {
        /* The receiver closed on us: it has usually said why in an ERROR frame
         * (it has stopped reading, so this read ends at its close). */
        AUTOFREE char *why = xstrdup(err_msg());
        unsigned type;
        size_t len;
        while (ds_frame_recv(&s.conn, &type, &len) == 0)
            ;
        if (strncmp(err_msg(), "peer:", 5) != 0)
            err_set("%s", why);
    }
    if (rc < 0 && strncmp(err_msg(), "peer:", 5) != 0 &&
        strstr(err_msg(), "connection closed") == NULL) {
        AUTOFREE char *m = xstrdup(err_msg());
        ds_frame_send(&s.conn, DS_FRAME_ERROR, m, strlen(m)); /* best effort */
        err_set("%s", m);
    }
    st->wire_bytes_sent = s.conn.sent;
    st->wire_bytes_received = s.conn.received;
    free(s.requested);
    free(s.blocks);
    free(s.out);
    ZSTD_freeCCtx(s.cctx);
    ds_conn_fini(&s.conn);
    ds_hashes_free(&s.h);
    ds_image_close(s.img);
    return rc;
}
