/* recv: the destination side of a transfer.
 *
 * Read HELLO and the manifest (checked against the announced digest), open or
 * resume the image, plan from the index, then run two things at once: a thread
 * sends NEED frames (the initial list, then any local copies that failed
 * verification, then NEED_END) while this thread copies local matches and then
 * decompresses the DATA stream, verifying and writing every block. A writer
 * thread keeps both directions moving, so neither side can block the other.
 */
#include "disksync/dsint.h"
#include "util/error.h"
#include "util/mem.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <zstd.h>

#define OUT_BLOCKS 64u

struct need_writer {
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ds_conn conn; /* write side only: its own byte counter */
    const struct ds_plan *plan;
    bool extras_ready, abort;
    int rc;
    char err[ERR_MSG_MAX];
};

/* Send a sorted block list as NEED frames of ascending ranges. */
static int send_list(struct need_writer *nw, const uint64_t *list, size_t n)
{
    struct ds_wbuf b = {0};
    uint64_t prev_end = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t j = i + 1;
        while (j < n && list[j] == list[j - 1] + 1)
            j++;
        ds_wbuf_varint(&b, list[i] - prev_end);
        ds_wbuf_varint(&b, j - i);
        prev_end = list[j - 1] + 1;
        i = j;
        if (b.len > DS_FRAME_MAX - 32 || i == n) {
            rc = ds_frame_send(&nw->conn, DS_FRAME_NEED, b.p, b.len);
            b.len = 0;
            prev_end = 0;
            pthread_mutex_lock(&nw->mu);
            bool stop = nw->abort;
            pthread_mutex_unlock(&nw->mu);
            if (stop)
                break;
        }
    }
    free(b.p);
    return rc;
}

static void *need_writer_main(void *arg)
{
    struct need_writer *nw = arg;
    int rc = send_list(nw, nw->plan->need, nw->plan->n_need);
    pthread_mutex_lock(&nw->mu);
    while (!nw->extras_ready)
        pthread_cond_wait(&nw->cv, &nw->mu);
    bool stop = nw->abort;
    pthread_mutex_unlock(&nw->mu);
    if (rc == 0 && !stop)
        rc = send_list(nw, nw->plan->extra, nw->plan->n_extra);
    if (rc == 0)
        rc = ds_frame_send(&nw->conn, DS_FRAME_NEED_END, NULL, 0);
    if (rc < 0)
        snprintf(nw->err, sizeof(nw->err), "%s", err_msg());
    nw->rc = rc;
    return NULL;
}

static void need_writer_release(struct need_writer *nw, bool abort)
{
    pthread_mutex_lock(&nw->mu);
    nw->extras_ready = true;
    nw->abort = nw->abort || abort;
    pthread_cond_signal(&nw->cv);
    pthread_mutex_unlock(&nw->mu);
}

struct recv_ctx {
    const struct ds_recv_opts *o;
    struct ds_conn conn;
    struct ds_hello hello;
    struct ds_hashes want;
    struct ds_asm a;
    struct ds_index *ix;
    struct ds_plan plan;
    struct ds_sync_stats *st;
    uint64_t received; /* blocks out of the data stream */
};

static int recv_manifest(struct recv_ctx *r)
{
    unsigned type;
    size_t len;
    if (ds_frame_recv(&r->conn, &type, &len) < 0)
        return -1;
    if (type != DS_FRAME_HELLO)
        return err_set("protocol error: expected HELLO, got %s", ds_frame_type_str(type));
    if (ds_hello_decode(r->conn.buf, len, &r->hello) < 0)
        return -1;
    if (r->o->tenant && strcmp(r->o->tenant, r->hello.tenant) != 0)
        return err_set("source claims tenant '%s', this receiver serves tenant '%s'",
                       r->hello.tenant, r->o->tenant);
    if (r->o->max_image_bytes && r->hello.image_bytes > r->o->max_image_bytes)
        return err_set("image of %llu bytes exceeds this receiver's limit of %llu bytes",
                       (unsigned long long)r->hello.image_bytes,
                       (unsigned long long)r->o->max_image_bytes);
    if (ds_hashes_init(&r->want, r->hello.image_bytes) < 0)
        return -1;
    uint64_t next = 0;
    for (;;) {
        if (ds_frame_recv(&r->conn, &type, &len) < 0)
            return -1;
        if (type == DS_FRAME_MANIFEST_END)
            break;
        if (type != DS_FRAME_MANIFEST)
            return err_set("protocol error: expected MANIFEST, got %s", ds_frame_type_str(type));
        if (ds_manifest_decode(r->conn.buf, len, &r->want, &next) < 0)
            return -1;
    }
    if (next != r->want.n_blocks)
        return err_set("protocol error: manifest covers %llu of %llu blocks",
                       (unsigned long long)next, (unsigned long long)r->want.n_blocks);
    uint8_t digest[DS_HASH_BYTES];
    ds_hashes_digest(&r->want, digest);
    if (memcmp(digest, r->hello.digest, DS_HASH_BYTES) != 0)
        return err_set("manifest does not match the announced image digest (corrupted)");
    return 0;
}

/* The k-th block of the data stream is need[k], then extra[k - n_need]. */
static int take_block(struct recv_ctx *r, const uint8_t *data)
{
    const struct ds_plan *p = &r->plan;
    uint64_t k = r->received;
    if (k >= p->n_need + p->n_extra)
        return err_set("protocol error: more data than the %zu blocks requested",
                       p->n_need + p->n_extra);
    uint64_t blk = k < p->n_need ? p->need[k] : p->extra[k - p->n_need];
    int rc = ds_asm_write(&r->a, blk, data);
    if (rc != 0)
        return err_prefix("data stream (corrupted in transit?)");
    r->received++;
    return 0;
}

static int recv_data(struct recv_ctx *r)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    uint8_t *out = xmalloc(OUT_BLOCKS * DS_BLOCK_BYTES);
    size_t have = 0, zret = 0;
    int rc = 0;
    for (;;) {
        unsigned type;
        size_t len;
        if ((rc = ds_frame_recv(&r->conn, &type, &len)) < 0)
            break;
        if (type == DS_FRAME_DATA_END)
            break;
        if (type != DS_FRAME_DATA) {
            rc = err_set("protocol error: expected DATA, got %s", ds_frame_type_str(type));
            break;
        }
        ZSTD_inBuffer ib = {r->conn.buf, len, 0};
        while (rc == 0 && ib.pos < ib.size) {
            ZSTD_outBuffer ob = {out, OUT_BLOCKS * DS_BLOCK_BYTES, have};
            zret = ZSTD_decompressStream(dctx, &ob, &ib);
            if (ZSTD_isError(zret)) {
                rc = err_set("data stream: zstd: %s (corrupted in transit?)",
                             ZSTD_getErrorName(zret));
                break;
            }
            size_t full = ob.pos / DS_BLOCK_BYTES;
            for (size_t k = 0; k < full && rc == 0; k++)
                rc = take_block(r, out + k * DS_BLOCK_BYTES);
            have = ob.pos - full * DS_BLOCK_BYTES;
            memmove(out, out + full * DS_BLOCK_BYTES, have);
        }
        if (rc < 0)
            break;
        r->st->wire_bytes_received = r->conn.received;
    }
    if (rc == 0 && (have != 0 || zret != 0))
        rc = err_set("data stream ended inside a block or a zstd frame");
    if (rc == 0 && r->received != r->plan.n_need + r->plan.n_extra)
        rc = err_set("data stream ended after %llu of %zu blocks", (unsigned long long)r->received,
                     r->plan.n_need + r->plan.n_extra);
    free(out);
    ZSTD_freeDCtx(dctx);
    return rc;
}

/* After an error while the writer runs: stop it early, drain the peer's data
 * so that it can read our NEED_END and the ERROR that follows. */
static void drain(struct recv_ctx *r)
{
    unsigned type;
    size_t len;
    while (ds_frame_recv(&r->conn, &type, &len) == 0 && type != DS_FRAME_DATA_END)
        ;
}

static int transfer(struct recv_ctx *r)
{
    struct need_writer nw = {.plan = &r->plan};
    pthread_mutex_init(&nw.mu, NULL);
    pthread_cond_init(&nw.cv, NULL);
    ds_conn_init(&nw.conn, -1, r->conn.fd_out);
    int rc = -1;
    if (pthread_create(&nw.tid, NULL, need_writer_main, &nw) != 0) {
        err_set("cannot start the NEED writer thread");
        goto out;
    }
    rc = ds_plan_copy_local(&r->plan, &r->a, r->ix);
    need_writer_release(&nw, rc < 0);
    if (rc == 0)
        rc = recv_data(r);
    if (rc < 0) {
        AUTOFREE char *m = xstrdup(err_msg());
        need_writer_release(&nw, true);
        if (strstr(m, "connection closed") == NULL)
            drain(r);
        err_set("%s", m);
    }
    pthread_join(nw.tid, NULL);
    if (rc == 0 && nw.rc < 0)
        rc = err_set("%s", nw.err);
out:
    r->conn.sent += nw.conn.sent;
    ds_conn_fini(&nw.conn);
    pthread_cond_destroy(&nw.cv);
    pthread_mutex_destroy(&nw.mu);
    return rc;
}

static int run(struct recv_ctx *r)
{
    uint64_t resumed;
    if (recv_manifest(r) < 0 ||
        ds_asm_open(&r->a, r->o->dest, &r->want, r->hello.digest, &resumed) < 0)
        return -1;
    struct ds_sync_stats *st = r->st;
    st->image_bytes = r->want.image_bytes;
    st->n_blocks = r->want.n_blocks;
    for (uint64_t i = 0; i < r->want.n_blocks; i++)
        st->zero_blocks += ds_hashes_is_zero(&r->want, i);
    st->resumed_blocks = resumed;
    if (r->o->index_dir) {
        r->ix = ds_index_open(r->o->index_dir, r->hello.tenant, r->o->sample_shift);
        if (!r->ix)
            return -1;
    }
    ds_plan_make(&r->plan, &r->a, r->ix);
    int rc = transfer(r);
    if (rc == 0)
        rc = ds_asm_checkpoint(&r->a);
    if (rc == 0)
        rc = ds_plan_copy_dups(&r->plan, &r->a);
    st->matched_blocks = r->plan.matched;
    st->basis_bad_blocks = r->plan.basis_bad;
    st->missing_blocks = r->received;
    st->duplicate_blocks = r->plan.n_dups;
    if (rc == 0)
        rc = ds_asm_finish(&r->a);
    return rc;
}

int ds_receive(const struct ds_recv_opts *o, int fd_in, int fd_out, struct ds_sync_stats *st)
{
    memset(st, 0, sizeof(*st));
    struct recv_ctx r = {.o = o, .st = st};
    ds_conn_init(&r.conn, fd_in, fd_out);
    r.a.fd = r.a.jfd = -1;
    int rc = run(&r);
    struct ds_wbuf b = {0};
    if (rc == 0) {
        struct ds_result res = {.zero_blocks = st->zero_blocks,
                                .matched_blocks = st->matched_blocks,
                                .missing_blocks = st->missing_blocks,
                                .duplicate_blocks = st->duplicate_blocks,
                                .resumed_blocks = st->resumed_blocks,
                                .basis_bad_blocks = st->basis_bad_blocks};
        ds_result_encode(&res, &b);
        rc = ds_frame_send(&r.conn, DS_FRAME_RESULT, b.p, b.len);
    } else if (strncmp(err_msg(), "peer:", 5) != 0 && !strstr(err_msg(), "connection closed")) {
        AUTOFREE char *m = xstrdup(err_msg());
        ds_frame_send(&r.conn, DS_FRAME_ERROR, m, strlen(m)); /* best effort */
        err_set("%s", m);
    }
    free(b.p);
    st->wire_bytes_sent = r.conn.sent;
    st->wire_bytes_received = r.conn.received;
    ds_plan_free(&r.plan);
    ds_index_free(r.ix);
    ds_asm_close(&r.a);
    ds_hashes_free(&r.want);
    ds_conn_fini(&r.conn);
    return rc;
}
