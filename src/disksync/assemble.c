/* assemble: write the destination image, verify every block, journal progress.
 *
 * Blocks go into DEST.dspart (sparse raw; zero blocks stay holes). Every block
 * is hashed as it is written and compared with the manifest. Every few MiB the
 * image is fdatasync'ed and only then are its new blocks recorded in
 * DEST.dsjournal, so a block in the journal is a block on disk; an interrupted
 * transfer reopens both, re-verifies the journaled blocks and asks only for the
 * rest. The finished image is synced and renamed over DEST.
 */
#include "disksync/dsint.h"
#include "util/error.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_MAGIC "ARASDSJ1"
#define JOURNAL_HDR   48u
#define SYNC_BLOCKS   2048u /* checkpoint every 8 MiB written */

static int pread_full(int fd, void *buf, size_t n, uint64_t off, const char *path)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_set_errno("%s: read at %llu", path, (unsigned long long)(off + got));
        if (r == 0) {
            memset((char *)buf + got, 0, n - got);
            return 0;
        }
        got += (size_t)r;
    }
    return 0;
}

static int pwrite_full(int fd, const void *buf, size_t n, uint64_t off, const char *path)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(fd, (const char *)buf + done, n - done, (off_t)(off + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return err_set_errno("%s: write at %llu", path, (unsigned long long)(off + done));
        done += (size_t)w;
    }
    return 0;
}

static void mark_done(struct ds_asm *a, uint64_t blk)
{
    size_t byte = (size_t)(blk >> 3);
    a->done[byte] |= (uint8_t)(1u << (blk & 7));
    if (a->dirty_lo > byte)
        a->dirty_lo = byte;
    if (a->dirty_hi < byte + 1)
        a->dirty_hi = byte + 1;
}

/* Try to resume: a journal for the same digest and a temp image of the right
 * size. Journaled blocks are re-read and verified; failures are dropped. */
static int try_resume(struct ds_asm *a, uint64_t *resumed)
{
    uint8_t hdr[JOURNAL_HDR];
    size_t blen = (size_t)(a->want->n_blocks + 7) / 8;
    struct stat st;
    if (pread_full(a->jfd, hdr, sizeof(hdr), 0, a->journal_path) < 0 ||
        memcmp(hdr, JOURNAL_MAGIC, 8) != 0 || memcmp(hdr + 8, a->digest, DS_HASH_BYTES) != 0 ||
        fstat(a->fd, &st) < 0 || (uint64_t)st.st_size != a->want->image_bytes)
        return 0;
    AUTOFREE uint8_t *bits = xmalloc(blen + 1);
    if (pread_full(a->jfd, bits, blen, JOURNAL_HDR, a->journal_path) < 0)
        return -1;
    uint8_t block[DS_BLOCK_BYTES];
    for (uint64_t i = 0; i < a->want->n_blocks; i++) {
        if (!((bits[i >> 3] >> (i & 7)) & 1) || ds_hashes_is_zero(a->want, i))
            continue;
        if (pread_full(a->fd, block, DS_BLOCK_BYTES, i * DS_BLOCK_BYTES, a->tmp_path) < 0)
            return -1;
        uint8_t *h = a->got.hash + i * DS_HASH_BYTES;
        ds_hasher_sum(a->hs, block, DS_BLOCK_BYTES, h);
        if (memcmp(h, ds_hashes_at(a->want, i), DS_HASH_BYTES) == 0) {
            mark_done(a, i);
            (*resumed)++;
        }
    }
    return 1;
}

static int start_fresh(struct ds_asm *a)
{
    uint8_t hdr[JOURNAL_HDR] = {0};
    memcpy(hdr, JOURNAL_MAGIC, 8);
    memcpy(hdr + 8, a->digest, DS_HASH_BYTES);
    for (int i = 0; i < 8; i++)
        hdr[40 + i] = (uint8_t)(a->want->n_blocks >> (8 * i));
    if (ftruncate(a->fd, 0) < 0 || ftruncate(a->fd, (off_t)a->want->image_bytes) < 0)
        return err_set_errno("%s: truncate", a->tmp_path);
    if (ftruncate(a->jfd, 0) < 0 || pwrite_full(a->jfd, hdr, sizeof(hdr), 0, a->journal_path) < 0)
        return err_set_errno("%s: reset", a->journal_path);
    size_t blen = (size_t)(a->want->n_blocks + 7) / 8;
    if (ftruncate(a->jfd, (off_t)(JOURNAL_HDR + blen)) < 0 || fdatasync(a->jfd) < 0)
        return err_set_errno("%s: sync", a->journal_path);
    memset(a->done, 0, blen);
    return 0;
}

int ds_asm_open(struct ds_asm *a, const char *dest, const struct ds_hashes *want,
                const uint8_t digest[DS_HASH_BYTES], uint64_t *resumed)
{
    memset(a, 0, sizeof(*a));
    a->fd = a->jfd = -1;
    *resumed = 0;
    a->dest = xstrdup(dest);
    a->tmp_path = xasprintf("%s.dspart", dest);
    a->journal_path = xasprintf("%s.dsjournal", dest);
    a->want = want;
    memcpy(a->digest, digest, DS_HASH_BYTES);
    a->hs = ds_hasher_new();
    a->done = xcalloc((size_t)(want->n_blocks + 7) / 8 + 1, 1);
    a->dirty_lo = SIZE_MAX;
    if (ds_hashes_init(&a->got, want->image_bytes) < 0)
        return -1;
    memcpy(a->got.zero, want->zero, (size_t)(want->n_blocks + 7) / 8);
    a->fd = open(a->tmp_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (a->fd < 0)
        return err_set_errno("%s: open", a->tmp_path);
    a->jfd = open(a->journal_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (a->jfd < 0)
        return err_set_errno("%s: open", a->journal_path);
    int rc = try_resume(a, resumed);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return start_fresh(a);
    a->dirty_lo = SIZE_MAX; /* the journal already says so */
    a->dirty_hi = 0;
    return 0;
}

int ds_asm_write(struct ds_asm *a, uint64_t blk, const uint8_t *data)
{
    uint8_t *h = a->got.hash + blk * DS_HASH_BYTES;
    ds_hasher_sum(a->hs, data, DS_BLOCK_BYTES, h);
    if (memcmp(h, ds_hashes_at(a->want, blk), DS_HASH_BYTES) != 0) {
        err_set("block %llu: SHA-256 of the data does not match the manifest",
                (unsigned long long)blk);
        return 1;
    }
    uint64_t off = blk * DS_BLOCK_BYTES;
    size_t len = DS_BLOCK_BYTES;
    if (off + len > a->want->image_bytes) /* the padded last block */
        len = (size_t)(a->want->image_bytes - off);
    if (pwrite_full(a->fd, data, len, off, a->tmp_path) < 0)
        return -1;
    mark_done(a, blk);
    if (++a->since_sync >= SYNC_BLOCKS)
        return ds_asm_checkpoint(a);
    return 0;
}

int ds_asm_copy_within(struct ds_asm *a, uint64_t blk, uint64_t from)
{
    uint8_t block[DS_BLOCK_BYTES];
    if (pread_full(a->fd, block, DS_BLOCK_BYTES, from * DS_BLOCK_BYTES, a->tmp_path) < 0)
        return -1;
    return ds_asm_write(a, blk, block) == 0 ? 0 : -1;
}

int ds_asm_checkpoint(struct ds_asm *a)
{
    a->since_sync = 0;
    if (a->dirty_lo >= a->dirty_hi)
        return 0;
    if (fdatasync(a->fd) < 0)
        return err_set_errno("%s: fdatasync", a->tmp_path);
    if (pwrite_full(a->jfd, a->done + a->dirty_lo, a->dirty_hi - a->dirty_lo,
                    JOURNAL_HDR + a->dirty_lo, a->journal_path) < 0)
        return -1;
    if (fdatasync(a->jfd) < 0)
        return err_set_errno("%s: fdatasync", a->journal_path);
    a->dirty_lo = SIZE_MAX;
    a->dirty_hi = 0;
    return 0;
}

int ds_asm_finish(struct ds_asm *a)
{
    for (uint64_t i = 0; i < a->want->n_blocks; i++) {
        if (!ds_hashes_is_zero(a->want, i) && !ds_asm_is_done(a, i))
            return err_set("%s: block %llu was never received", a->dest, (unsigned long long)i);
    }
    uint8_t digest[DS_HASH_BYTES];
    ds_hashes_digest(&a->got, digest);
    if (memcmp(digest, a->digest, DS_HASH_BYTES) != 0)
        return err_set("%s: whole-image digest mismatch", a->dest);
    if (ds_asm_checkpoint(a) < 0 || fsync(a->fd) < 0)
        return err_set_errno("%s: fsync", a->tmp_path);
    if (rename(a->tmp_path, a->dest) < 0)
        return err_set_errno("%s: rename to %s", a->tmp_path, a->dest);
    AUTOFREE char *dir_copy = xstrdup(a->dest);
    int dfd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    unlink(a->journal_path);
    return 0;
}

void ds_asm_close(struct ds_asm *a)
{
    if (a->fd >= 0)
        close(a->fd);
    if (a->jfd >= 0)
        close(a->jfd);
    ds_hasher_free(a->hs);
    ds_hashes_free(&a->got);
    free(a->done);
    free(a->dest);
    free(a->tmp_path);
    free(a->journal_path);
    memset(a, 0, sizeof(*a));
    a->fd = a->jfd = -1;
}
