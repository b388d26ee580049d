/* hashfile: the on-disk per-image hash file and its incremental update.
 *
 * Layout (little-endian): magic[8] "ARASDSH\1", u32 version, u32 block bytes,
 * u64 image bytes (guest-visible), u64 blocks, u64 mtime_ns, u64 inode,
 * u64 file size, u32 flags (1 = golden), u16 path length, u16 tenant length,
 * digest[32] (ds_hashes_digest of the records), path, tenant, padding to 8,
 * zero bitmap (padded to 8), then 32 bytes per block in block order (zero
 * blocks: 32 zero bytes, never hashed). Written to a temp file, fsynced, renamed.
 */
#include "disksync/dsint.h"
#include "util/error.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t pad8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void ds_hashfile_meta_free(struct ds_hashfile_meta *m)
{
    if (!m)
        return;
    free(m->image_path);
    free(m->tenant);
    m->image_path = m->tenant = NULL;
}

static int write_all(int fd, const void *p, size_t n, const char *path)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return err_set_errno("%s: write", path);
        p = (const char *)p + w;
        n -= (size_t)w;
    }
    return 0;
}

int ds_hashfile_write(const char *path, const struct ds_hashfile_meta *m, const struct ds_hashes *h)
{
    size_t plen = strlen(m->image_path), tlen = strlen(m->tenant);
    if (plen >= DS_PATH_MAX || tlen > DS_TENANT_MAX)
        return err_set("%s: image path or tenant label too long", path);
    size_t head = pad8(DS_HASHFILE_FIXED + plen + tlen);
    uint8_t *hdr = xcalloc(1, head);
    memcpy(hdr, DS_HASHFILE_MAGIC, 8);
    put_le(hdr + 8, DS_HASHFILE_VERSION, 4);
    put_le(hdr + 12, DS_BLOCK_BYTES, 4);
    put_le(hdr + 16, h->image_bytes, 8);
    put_le(hdr + 24, h->n_blocks, 8);
    put_le(hdr + 32, m->mtime_ns, 8);
    put_le(hdr + 40, m->inode, 8);
    put_le(hdr + 48, m->size_bytes, 8);
    put_le(hdr + 56, m->golden ? 1 : 0, 4);
    put_le(hdr + 60, plen, 2);
    put_le(hdr + 62, tlen, 2);
    ds_hashes_digest(h, hdr + 64);
    memcpy(hdr + DS_HASHFILE_FIXED, m->image_path, plen);
    memcpy(hdr + DS_HASHFILE_FIXED + plen, m->tenant, tlen);
    AUTOFREE char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(hdr);
        return err_set_errno("%s: create", tmp);
    }
    size_t zlen = (size_t)(h->n_blocks + 7) / 8;
    static const uint8_t zeros[8];
    int rc = write_all(fd, hdr, head, tmp);
    if (rc == 0)
        rc = write_all(fd, h->zero, zlen, tmp);
    if (rc == 0)
        rc = write_all(fd, zeros, pad8(zlen) - zlen, tmp);
    if (rc == 0)
        rc = write_all(fd, h->hash, (size_t)h->n_blocks * DS_HASH_BYTES, tmp);
    if (rc == 0 && fsync(fd) < 0)
        rc = err_set_errno("%s: fsync", tmp);
    close(fd);
    free(hdr);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = err_set_errno("%s: rename to %s", tmp, path);
    if (rc < 0)
        unlink(tmp);
    return rc;
}

int ds_hashfile_parse(const uint8_t *buf, size_t len, const char *path, struct ds_hashfile_meta *m,
                      struct ds_hashes *h)
{
    memset(m, 0, sizeof(*m));
    memset(h, 0, sizeof(*h));
    if (len < DS_HASHFILE_FIXED || memcmp(buf, DS_HASHFILE_MAGIC, 8) != 0)
        return err_set("%s: not an ARAS hash file", path);
    if (get_le(buf + 8, 4) != DS_HASHFILE_VERSION || get_le(buf + 12, 4) != DS_BLOCK_BYTES)
        return err_set("%s: unsupported hash file version %u or block size %u", path,
                       (unsigned)get_le(buf + 8, 4), (unsigned)get_le(buf + 12, 4));
    uint64_t image_bytes = get_le(buf + 16, 8), n_blocks = get_le(buf + 24, 8);
    size_t plen = get_le(buf + 60, 2), tlen = get_le(buf + 62, 2);
    if (image_bytes > DS_IMAGE_MAX_BYTES ||
        n_blocks != (image_bytes + DS_BLOCK_BYTES - 1) / DS_BLOCK_BYTES || plen == 0 ||
        plen >= DS_PATH_MAX || tlen == 0 || tlen > DS_TENANT_MAX)
        return err_set("%s: corrupt hash file header", path);
    size_t head = pad8(DS_HASHFILE_FIXED + plen + tlen), zlen = (size_t)(n_blocks + 7) / 8;
    if (len != head + pad8(zlen) + (size_t)n_blocks * DS_HASH_BYTES)
        return err_set("%s: hash file is %zu bytes, its header implies %zu", path, len,
                       head + pad8(zlen) + (size_t)n_blocks * DS_HASH_BYTES);
    h->image_bytes = image_bytes;
    h->n_blocks = n_blocks;
    h->zero = (uint8_t *)buf + head;
    h->hash = (uint8_t *)buf + head + pad8(zlen);
    uint8_t digest[DS_HASH_BYTES];
    ds_hashes_digest(h, digest);
    if (memcmp(digest, buf + 64, DS_HASH_BYTES) != 0)
        return err_set("%s: hash file digest mismatch (corrupt)", path);
    static const uint8_t zero32[DS_HASH_BYTES];
    for (uint64_t i = 0; i < n_blocks; i++) { /* the digest does not cover these slots */
        if (ds_hashes_is_zero(h, i) && memcmp(ds_hashes_at(h, i), zero32, DS_HASH_BYTES) != 0)
            return err_set("%s: hash file digest mismatch (corrupt zero record %llu)", path,
                           (unsigned long long)i);
    }
    m->image_path = xstrndup((const char *)buf + DS_HASHFILE_FIXED, plen);
    m->tenant = xstrndup((const char *)buf + DS_HASHFILE_FIXED + plen, tlen);
    m->mtime_ns = get_le(buf + 32, 8);
    m->inode = get_le(buf + 40, 8);
    m->size_bytes = get_le(buf + 48, 8);
    m->golden = get_le(buf + 56, 4) & 1;
    return 0;
}

int ds_hashfile_read(const char *path, struct ds_hashfile_meta *m, struct ds_hashes *h)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set_errno("%s: open", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size < 0 || (uint64_t)st.st_size > DS_IMAGE_MAX_BYTES / 64) {
        close(fd);
        return err_set("%s: cannot stat or too large", path);
    }
    size_t len = (size_t)st.st_size;
    AUTOFREE uint8_t *buf = xmalloc(len + 1);
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0) {
            close(fd);
            return err_set_errno("%s: read", path);
        }
        got += (size_t)n;
    }
    close(fd);
    struct ds_hashes view;
    if (ds_hashfile_parse(buf, len, path, m, &view) < 0)
        return -1;
    if (ds_hashes_init(h, view.image_bytes) < 0) {
        ds_hashfile_meta_free(m);
        return -1;
    }
    memcpy(h->zero, view.zero, (size_t)(view.n_blocks + 7) / 8);
    memcpy(h->hash, view.hash, (size_t)view.n_blocks * DS_HASH_BYTES);
    return 0;
}

char *ds_hashfile_name(const char *index_dir, const char *abs_image)
{
    uint8_t d[DS_HASH_BYTES];
    struct ds_hasher *hs = ds_hasher_new();
    ds_hasher_sum(hs, abs_image, strlen(abs_image), d);
    ds_hasher_free(hs);
    AUTOFREE char *copy = xstrdup(abs_image);
    const char *base = basename(copy);
    return xasprintf("%s/%.64s-%02x%02x%02x%02x%02x%02x%02x%02x.dsh", index_dir, base, d[0], d[1],
                     d[2], d[3], d[4], d[5], d[6], d[7]);
}

const char *ds_index_action_str(enum ds_index_action a)
{
    static const char *const names[] = {"unchanged", "created", "rehashed"};
    return (unsigned)a < ARRAY_LEN(names) ? names[a] : "?";
}

int ds_index_update_image(const char *index_dir, const char *image, const char *tenant, bool golden,
                          struct ds_index_update *res)
{
    memset(res, 0, sizeof(*res));
    if (ds_tenant_check(tenant) < 0)
        return -1;
    AUTOFREE char *abs = realpath(image, NULL);
    struct stat st;
    if (!abs || stat(abs, &st) < 0)
        return err_set_errno("%s", image);
    if (mkdir(index_dir, 0755) < 0 && errno != EEXIST)
        return err_set_errno("%s: mkdir", index_dir);
    res->hashfile = ds_hashfile_name(index_dir, abs);
    struct ds_hashfile_meta m = {.image_path = abs,
                                 .tenant = (char *)tenant,
                                 .golden = golden,
                                 .mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u +
                                             (uint64_t)st.st_mtim.tv_nsec,
                                 .inode = (uint64_t)st.st_ino,
                                 .size_bytes = (uint64_t)st.st_size};
    struct ds_hashfile_meta old;
    struct ds_hashes h;
    res->action = DS_INDEX_CREATED;
    if (access(res->hashfile, F_OK) == 0) {
        res->action = DS_INDEX_REHASHED;
        /* A corrupt or outdated hash file is simply rebuilt. */
        if (ds_hashfile_read(res->hashfile, &old, &h) == 0) {
            bool same = old.mtime_ns == m.mtime_ns && old.inode == m.inode &&
                        old.size_bytes == m.size_bytes && old.golden == golden &&
                        strcmp(old.tenant, tenant) == 0 && strcmp(old.image_path, abs) == 0;
            ds_hashfile_meta_free(&old);
            if (same) {
                res->action = DS_INDEX_UNCHANGED;
                res->n_blocks = h.n_blocks;
                for (uint64_t i = 0; i < h.n_blocks; i++)
                    res->zero_blocks += ds_hashes_is_zero(&h, i);
                ds_hashes_free(&h);
                return 0;
            }
            ds_hashes_free(&h);
        }
    }
    struct ds_image *img = ds_image_open(abs);
    if (!img)
        return -1;
    int rc = ds_image_hash(img, &h);
    ds_image_close(img);
    if (rc < 0)
        return -1;
    res->n_blocks = h.n_blocks;
    for (uint64_t i = 0; i < h.n_blocks; i++)
        res->zero_blocks += ds_hashes_is_zero(&h, i);
    rc = ds_hashfile_write(res->hashfile, &m, &h);
    ds_hashes_free(&h);
    return rc;
}
