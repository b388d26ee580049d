/* trace: read, validate and write DIRTYTR1 dirty-page traces (zstd payload). */
#include "migrate/migrate.h"
#include "util/error.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

/* 2^28 pages = 1 TiB of 4 KiB pages; 2^24 intervals = 19 days at 100 ms. */
#define MAX_PAGES     (1u << 28)
#define MAX_INTERVALS (1u << 24)
#define FILE_MAX      (8ull << 30)

size_t migrate_trace_row_bytes(uint32_t n_pages)
{
    return ((size_t)n_pages + 7) / 8;
}

void migrate_trace_alloc(struct migrate_trace *t, uint32_t n_pages, uint32_t n_intervals)
{
    memset(t, 0, sizeof(*t));
    size_t row = migrate_trace_row_bytes(n_pages);
    t->page_size = 4096;
    t->n_pages = n_pages;
    t->n_intervals = n_intervals;
    t->flags = MIGRATE_TRACE_COMPOSITE_KEYS;
    t->t_end = xcalloc(n_intervals ? n_intervals : 1, sizeof(double));
    t->keys = xcalloc(n_pages ? n_pages : 1, sizeof(uint64_t));
    t->resident0 = xcalloc(row ? row : 1, 1);
    size_t bm = row * n_intervals;
    t->bitmaps = xcalloc(bm ? bm : 1, 1);
}

void migrate_trace_free(struct migrate_trace *t)
{
    free(t->t_end);
    free(t->keys);
    free(t->resident0);
    free(t->bitmaps);
    memset(t, 0, sizeof(*t));
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

/* Expected uncompressed payload length for the given sizes. */
static uint64_t payload_len_for(uint32_t n_pages, uint32_t n_intervals)
{
    uint64_t row = migrate_trace_row_bytes(n_pages);
    return 8ull * n_intervals + 8ull * n_pages + row * (1ull + n_intervals);
}

/* A name field: NUL-padded text, no control characters. */
static int name_field(const uint8_t *p, const char *name, const char *field, char *out)
{
    size_t n = 0;
    while (n < MIGRATE_TRACE_NAME_LEN && p[n])
        n++;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f)
            return err_set("%s: field %s: control character at byte %zu", name, field, i);
    }
    for (size_t i = n; i < MIGRATE_TRACE_NAME_LEN; i++) {
        if (p[i])
            return err_set("%s: field %s: garbage after the terminating NUL", name, field);
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

static int parse_header(const uint8_t *buf, size_t len, const char *name, uint64_t max_payload,
                        struct migrate_trace *t, uint64_t *payload_len)
{
    if (len < MIGRATE_TRACE_HEADER_LEN)
        return err_set("%s: truncated header: %zu of %d bytes", name, len,
                       MIGRATE_TRACE_HEADER_LEN);
    if (memcmp(buf, MIGRATE_TRACE_MAGIC, 8) != 0)
        return err_set("%s: field magic: not a DIRTYTR1 trace", name);
    uint32_t version = rd32(buf + 8);
    if (version != MIGRATE_TRACE_VERSION)
        return err_set("%s: field version: %u not supported (only 1)", name, version);
    t->page_size = rd32(buf + 12);
    if (t->page_size != 4096)
        return err_set("%s: field page_size: %u (only 4096 is supported)", name, t->page_size);
    t->n_pages = rd32(buf + 16);
    t->n_intervals = rd32(buf + 20);
    if (t->n_pages > MAX_PAGES)
        return err_set("%s: field n_pages: %u exceeds %u", name, t->n_pages, MAX_PAGES);
    if (t->n_intervals > MAX_INTERVALS)
        return err_set("%s: field n_intervals: %u exceeds %u", name, t->n_intervals, MAX_INTERVALS);
    t->interval_us = rd32(buf + 24);
    if (t->interval_us == 0)
        return err_set("%s: field interval_us: 0", name);
    t->flags = rd32(buf + 28);
    if (t->flags & ~MIGRATE_TRACE_COMPOSITE_KEYS)
        return err_set("%s: field flags: unknown bits 0x%x", name,
                       t->flags & ~MIGRATE_TRACE_COMPOSITE_KEYS);
    t->rss_start_pages = rd64(buf + 32);
    if (t->rss_start_pages > t->n_pages)
        return err_set("%s: field rss_start_pages: %llu exceeds n_pages %u", name,
                       (unsigned long long)t->rss_start_pages, t->n_pages);
    *payload_len = rd64(buf + 40);
    uint64_t want = payload_len_for(t->n_pages, t->n_intervals);
    if (*payload_len != want)
        return err_set("%s: field payload_len: %llu but n_pages %u and n_intervals %u need %llu",
                       name, (unsigned long long)*payload_len, t->n_pages, t->n_intervals,
                       (unsigned long long)want);
    if (*payload_len > max_payload)
        return err_set("%s: field payload_len: %llu exceeds the limit %llu", name,
                       (unsigned long long)*payload_len, (unsigned long long)max_payload);
    if (name_field(buf + 48, name, "workload", t->workload) < 0 ||
        name_field(buf + 80, name, "method", t->method) < 0)
        return -1;
    return 0;
}

/* Decompress exactly one zstd frame that fills the rest of the file. */
static uint8_t *decompress_payload(const uint8_t *z, size_t zlen, const char *name,
                                   uint64_t payload_len)
{
    if (zlen == 0)
        return err_set("%s: field payload: missing (file ends after the header)", name), NULL;
    size_t fsize = ZSTD_findFrameCompressedSize(z, zlen);
    if (ZSTD_isError(fsize))
        return err_set("%s: field payload: bad or truncated zstd frame (%s)", name,
                       ZSTD_getErrorName(fsize)),
               NULL;
    if (fsize != zlen)
        return err_set("%s: field payload: %zu bytes of trailing data after the zstd frame", name,
                       zlen - fsize),
               NULL;
    unsigned long long csize = ZSTD_getFrameContentSize(z, zlen);
    if (csize != ZSTD_CONTENTSIZE_UNKNOWN && csize != payload_len)
        return err_set("%s: field payload: zstd frame holds %llu bytes, payload_len says %llu",
                       name, csize, (unsigned long long)payload_len),
               NULL;
    uint8_t *out = xmalloc(payload_len ? payload_len : 1);
    size_t got = ZSTD_decompress(out, payload_len, z, zlen);
    if (ZSTD_isError(got) || got != payload_len) {
        err_set("%s: field payload: zstd decompression failed (%s)", name,
                ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short payload");
        free(out);
        return NULL;
    }
    return out;
}

int migrate_trace_check(const struct migrate_trace *t, const char *name)
{
    for (uint32_t i = 0; i < t->n_intervals; i++) {
        double prev = i ? t->t_end[i - 1] : 0;
        if (!isfinite(t->t_end[i]) || t->t_end[i] < prev || t->t_end[i] > 1e9)
            return err_set("%s: field t_end[%u]: %g is not finite and non-decreasing", name, i,
                           t->t_end[i]);
    }
    for (uint32_t p = 1; p < t->n_pages; p++) {
        if (t->keys[p] <= t->keys[p - 1])
            return err_set("%s: field keys[%u]: not strictly increasing", name, p);
    }
    size_t row = migrate_trace_row_bytes(t->n_pages);
    unsigned pad = (unsigned)(row * 8 - t->n_pages);
    uint8_t pad_mask = pad ? (uint8_t)(0xffu << (8 - pad)) : 0;
    for (uint32_t i = 0; pad && i <= t->n_intervals; i++) {
        const uint8_t *r = i == 0 ? t->resident0 : migrate_trace_row(t, i - 1);
        if (r[row - 1] & pad_mask)
            return err_set("%s: field %s: padding bits set past n_pages", name,
                           i == 0 ? "resident0" : "bitmaps");
    }
    return 0;
}

int migrate_trace_parse(const uint8_t *buf, size_t len, const char *name, uint64_t max_payload,
                        struct migrate_trace *out)
{
    struct migrate_trace t;
    memset(&t, 0, sizeof(t));
    memset(out, 0, sizeof(*out));
    uint64_t plen = 0;
    if (parse_header(buf, len, name, max_payload, &t, &plen) < 0)
        return -1;
    AUTOFREE uint8_t *pl = decompress_payload(buf + MIGRATE_TRACE_HEADER_LEN,
                                              len - MIGRATE_TRACE_HEADER_LEN, name, plen);
    if (!pl)
        return -1;
    struct migrate_trace head = t;
    migrate_trace_alloc(&t, head.n_pages, head.n_intervals);
    t.interval_us = head.interval_us;
    t.flags = head.flags;
    t.rss_start_pages = head.rss_start_pages;
    memcpy(t.workload, head.workload, sizeof(t.workload));
    memcpy(t.method, head.method, sizeof(t.method));
    size_t row = migrate_trace_row_bytes(t.n_pages), off = 0;
    for (uint32_t i = 0; i < t.n_intervals; i++, off += 8) {
        uint64_t bits = rd64(pl + off);
        memcpy(&t.t_end[i], &bits, 8);
    }
    for (uint32_t p = 0; p < t.n_pages; p++, off += 8)
        t.keys[p] = rd64(pl + off);
    memcpy(t.resident0, pl + off, row);
    off += row;
    memcpy(t.bitmaps, pl + off, row * t.n_intervals);
    if (migrate_trace_check(&t, name) < 0) {
        migrate_trace_free(&t);
        return -1;
    }
    *out = t;
    return 0;
}

int migrate_trace_read(const char *path, struct migrate_trace *out)
{
    memset(out, 0, sizeof(*out));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set_errno("%s: cannot open", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > FILE_MAX) {
        close(fd);
        return err_set("%s: not a regular file of at most 8 GiB", path);
    }
    size_t len = (size_t)st.st_size, got = 0;
    AUTOFREE uint8_t *buf = xmalloc(len ? len : 1);
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return n < 0 ? err_set_errno("%s: read", path) : err_set("%s: file shrank", path);
        }
        got += (size_t)n;
    }
    close(fd);
    return migrate_trace_parse(buf, len, path, 4ull << 30, out);
}

static uint8_t *build_payload(const struct migrate_trace *t, size_t *len)
{
    size_t row = migrate_trace_row_bytes(t->n_pages), off = 0;
    *len = payload_len_for(t->n_pages, t->n_intervals);
    uint8_t *pl = xmalloc(*len ? *len : 1);
    for (uint32_t i = 0; i < t->n_intervals; i++, off += 8) {
        uint64_t bits;
        memcpy(&bits, &t->t_end[i], 8);
        wr64(pl + off, bits);
    }
    for (uint32_t p = 0; p < t->n_pages; p++, off += 8)
        wr64(pl + off, t->keys[p]);
    memcpy(pl + off, t->resident0, row);
    memcpy(pl + off + row, t->bitmaps, row * t->n_intervals);
    return pl;
}

static int write_all(int fd, const uint8_t *p, size_t n, const char *path)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return err_set_errno("%s: write", path);
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int migrate_trace_write(const char *path, const struct migrate_trace *t)
{
    if (t->page_size != 4096 || t->interval_us == 0 || t->n_pages > MAX_PAGES ||
        t->n_intervals > MAX_INTERVALS || t->rss_start_pages > t->n_pages)
        return err_set("%s: trace header out of range", path);
    if (migrate_trace_check(t, path) < 0)
        return -1;
    size_t plen;
    AUTOFREE uint8_t *pl = build_payload(t, &plen);
    size_t zcap = ZSTD_compressBound(plen);
    AUTOFREE uint8_t *out = xcalloc(1, MIGRATE_TRACE_HEADER_LEN + zcap);
    size_t zlen = ZSTD_compress(out + MIGRATE_TRACE_HEADER_LEN, zcap, pl, plen, 3);
    if (ZSTD_isError(zlen))
        return err_set("%s: zstd: %s", path, ZSTD_getErrorName(zlen));
    memcpy(out, MIGRATE_TRACE_MAGIC, 8);
    wr32(out + 8, MIGRATE_TRACE_VERSION);
    wr32(out + 12, t->page_size);
    wr32(out + 16, t->n_pages);
    wr32(out + 20, t->n_intervals);
    wr32(out + 24, t->interval_us);
    wr32(out + 28, t->flags);
    wr64(out + 32, t->rss_start_pages);
    wr64(out + 40, plen);
    memcpy(out + 48, t->workload, strnlen(t->workload, MIGRATE_TRACE_NAME_LEN));
    memcpy(out + 80, t->method, strnlen(t->method, MIGRATE_TRACE_NAME_LEN));
    AUTOFREE char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_set_errno("%s: cannot create", tmp);
    if (write_all(fd, out, MIGRATE_TRACE_HEADER_LEN + zlen, tmp) < 0 || fsync(fd) < 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        unlink(tmp);
        return err_set_errno("%s: rename", path);
    }
    return 0;
}
