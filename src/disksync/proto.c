/* proto: length-prefixed frames with hard limits, varints, HELLO and RESULT.
 *
 * A frame is a type byte, a big-endian u32 payload length, the payload. Every
 * length is checked against DS_FRAME_MAX before a byte of payload is read, and
 * every field inside a payload against the bytes that remain.
 */
#include "disksync/dsint.h"
#include "util/error.h"
#include "util/mem.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

const char *ds_frame_type_str(unsigned t)
{
    static const char *const names[] = {"?",        "HELLO", "MANIFEST", "MANIFEST_END", "NEED",
                                        "NEED_END", "DATA",  "DATA_END", "RESULT",       "ERROR"};
    return t < ARRAY_LEN(names) ? names[t] : "?";
}

void ds_conn_init(struct ds_conn *c, int fd_in, int fd_out)
{
    memset(c, 0, sizeof(*c));
    c->fd_in = fd_in;
    c->fd_out = fd_out;
    c->buf = xmalloc(DS_FRAME_MAX + 1);
}

void ds_conn_fini(struct ds_conn *c)
{
    free(c->buf);
    c->buf = NULL;
}

int ds_frame_send(struct ds_conn *c, unsigned type, const void *payload, size_t len)
{
    if (len > DS_FRAME_MAX)
        return err_set("%s frame of %zu bytes exceeds the %u-byte limit", ds_frame_type_str(type),
                       len, DS_FRAME_MAX);
    uint8_t hdr[DS_FRAME_HDR] = {(uint8_t)type, (uint8_t)(len >> 24), (uint8_t)(len >> 16),
                                 (uint8_t)(len >> 8), (uint8_t)len};
    struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)payload, len}};
    size_t total = sizeof(hdr) + len, done = 0;
    int n_iov = 2;
    struct iovec *v = iov;
    while (done < total) {
        ssize_t w = writev(c->fd_out, v, n_iov);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return err_set_errno("sending %s frame", ds_frame_type_str(type));
        done += (size_t)w;
        while (n_iov > 0 && (size_t)w >= v->iov_len) {
            w -= (ssize_t)v->iov_len;
            v++;
            n_iov--;
        }
        if (n_iov > 0) {
            v->iov_base = (char *)v->iov_base + w;
            v->iov_len -= (size_t)w;
        }
    }
    c->sent += total;
    return 0;
}

static int read_full(int fd, void *p, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t r = read(fd, (char *)p + *got, n - *got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_set_errno("receiving a frame");
        if (r == 0)
            return err_set("connection closed by the peer");
        *got += (size_t)r;
    }
    return 0;
}

int ds_frame_check_header(const uint8_t hdr[DS_FRAME_HDR], unsigned *type, size_t *len)
{
    *type = hdr[0];
    *len = (size_t)hdr[1] << 24 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 8 | hdr[4];
    if (*type < DS_FRAME_HELLO || *type > DS_FRAME_ERROR)
        return err_set("protocol error: unknown frame type %u", *type);
    if (*len > DS_FRAME_MAX)
        return err_set("protocol error: %s frame announces %zu bytes, limit is %u",
                       ds_frame_type_str(*type), *len, DS_FRAME_MAX);
    return 0;
}

int ds_frame_recv(struct ds_conn *c, unsigned *type, size_t *len)
{
    uint8_t hdr[DS_FRAME_HDR];
    size_t got;
    int rc = read_full(c->fd_in, hdr, sizeof(hdr), &got);
    c->received += got;
    if (rc < 0 || ds_frame_check_header(hdr, type, len) < 0)
        return -1;
    rc = read_full(c->fd_in, c->buf, *len, &got);
    c->received += got;
    if (rc < 0)
        return -1;
    c->buf[*len] = '\0';
    if (*type == DS_FRAME_ERROR) {
        for (size_t i = 0; i < *len; i++) { /* printable only: it goes to a terminal */
            if (c->buf[i] < 0x20 || c->buf[i] > 0x7e)
                c->buf[i] = '?';
        }
        return err_set("peer: %s", (const char *)c->buf);
    }
    return 0;
}

static void wbuf_need(struct ds_wbuf *b, size_t n)
{
    if (b->len + n > b->cap)
        xgrow((void **)&b->p, &b->cap, b->len + n, 1);
}

void ds_wbuf_u8(struct ds_wbuf *b, uint8_t v)
{
    wbuf_need(b, 1);
    b->p[b->len++] = v;
}

void ds_wbuf_u32(struct ds_wbuf *b, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        ds_wbuf_u8(b, (uint8_t)(v >> (8 * i)));
}

void ds_wbuf_u64(struct ds_wbuf *b, uint64_t v)
{
    ds_wbuf_u32(b, (uint32_t)(v >> 32));
    ds_wbuf_u32(b, (uint32_t)v);
}

void ds_wbuf_varint(struct ds_wbuf *b, uint64_t v)
{
    while (v >= 0x80) {
        ds_wbuf_u8(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    ds_wbuf_u8(b, (uint8_t)v);
}

void ds_wbuf_bytes(struct ds_wbuf *b, const void *p, size_t n)
{
    wbuf_need(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

int ds_rbuf_bytes(struct ds_rbuf *r, void *out, size_t n)
{
    if (n > r->len - r->pos)
        return err_set("protocol error: truncated field at byte %zu", r->pos);
    memcpy(out, r->p + r->pos, n);
    r->pos += n;
    return 0;
}

int ds_rbuf_u8(struct ds_rbuf *r, uint8_t *v)
{
    return ds_rbuf_bytes(r, v, 1);
}

int ds_rbuf_u32(struct ds_rbuf *r, uint32_t *v)
{
    uint8_t b[4];
    if (ds_rbuf_bytes(r, b, 4) < 0)
        return -1;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return 0;
}

int ds_rbuf_u64(struct ds_rbuf *r, uint64_t *v)
{
    uint32_t hi, lo;
    if (ds_rbuf_u32(r, &hi) < 0 || ds_rbuf_u32(r, &lo) < 0)
        return -1;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

int ds_rbuf_varint(struct ds_rbuf *r, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b;
        if (ds_rbuf_u8(r, &b) < 0)
            return -1;
        if (shift == 63 && b > 1)
            break;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return err_set("protocol error: varint overflow at byte %zu", r->pos);
}

void ds_hello_encode(const struct ds_hello *h, struct ds_wbuf *b)
{
    ds_wbuf_bytes(b, DS_PROTO_MAGIC, 8);
    ds_wbuf_u32(b, DS_PROTO_VERSION);
    ds_wbuf_u32(b, DS_BLOCK_BYTES);
    ds_wbuf_u64(b, h->image_bytes);
    ds_wbuf_u64(b, h->n_blocks);
    ds_wbuf_bytes(b, h->digest, DS_HASH_BYTES);
    size_t tlen = strlen(h->tenant);
    ds_wbuf_u8(b, (uint8_t)tlen);
    ds_wbuf_bytes(b, h->tenant, tlen);
}

int ds_hello_decode(const uint8_t *p, size_t len, struct ds_hello *h)
{
    struct ds_rbuf r = {.p = p, .len = len};
    char magic[8];
    uint32_t version, block;
    uint8_t tlen;
    memset(h, 0, sizeof(*h));
    if (ds_rbuf_bytes(&r, magic, 8) < 0 || memcmp(magic, DS_PROTO_MAGIC, 8) != 0)
        return err_set("protocol error: not an ARAS disk-sync peer");
    if (ds_rbuf_u32(&r, &version) < 0 || ds_rbuf_u32(&r, &block) < 0 ||
        ds_rbuf_u64(&r, &h->image_bytes) < 0 || ds_rbuf_u64(&r, &h->n_blocks) < 0 ||
        ds_rbuf_bytes(&r, h->digest, DS_HASH_BYTES) < 0 || ds_rbuf_u8(&r, &tlen) < 0)
        return -1;
    if (version != DS_PROTO_VERSION || block != DS_BLOCK_BYTES)
        return err_set("protocol error: version %u block size %u not supported (want %u, %u)",
                       version, block, DS_PROTO_VERSION, DS_BLOCK_BYTES);
    if (h->image_bytes > DS_IMAGE_MAX_BYTES ||
        h->n_blocks != (h->image_bytes + DS_BLOCK_BYTES - 1) / DS_BLOCK_BYTES)
        return err_set("protocol error: image of %llu bytes / %llu blocks is invalid",
                       (unsigned long long)h->image_bytes, (unsigned long long)h->n_blocks);
    if (tlen > DS_TENANT_MAX || ds_rbuf_bytes(&r, h->tenant, tlen) < 0 || r.pos != r.len)
        return err_set("protocol error: bad HELLO tenant field");
    h->tenant[tlen] = '\0';
    return ds_tenant_check(h->tenant);
}

void ds_result_encode(const struct ds_result *r, struct ds_wbuf *b)
{
    ds_wbuf_u32(b, r->status);
    ds_wbuf_u64(b, r->zero_blocks);
    ds_wbuf_u64(b, r->matched_blocks);
    ds_wbuf_u64(b, r->missing_blocks);
    ds_wbuf_u64(b, r->duplicate_blocks);
    ds_wbuf_u64(b, r->resumed_blocks);
    ds_wbuf_u64(b, r->basis_bad_blocks);
}

int ds_result_decode(const uint8_t *p, size_t len, struct ds_result *r)
{
    struct ds_rbuf rb = {.p = p, .len = len};
    if (ds_rbuf_u32(&rb, &r->status) < 0 || ds_rbuf_u64(&rb, &r->zero_blocks) < 0 ||
        ds_rbuf_u64(&rb, &r->matched_blocks) < 0 || ds_rbuf_u64(&rb, &r->missing_blocks) < 0 ||
        ds_rbuf_u64(&rb, &r->duplicate_blocks) < 0 || ds_rbuf_u64(&rb, &r->resumed_blocks) < 0 ||
        ds_rbuf_u64(&rb, &r->basis_bad_blocks) < 0 || rb.pos != rb.len)
        return err_set("protocol error: bad RESULT frame");
    return 0;
}
