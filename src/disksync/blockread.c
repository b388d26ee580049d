/* blockread: read an image's guest-visible content, skipping holes.
 *
 * Raw images: pread() and SEEK_DATA/SEEK_HOLE. qcow2 images: a private
 * `qemu-nbd --read-only` child (systemd socket activation through libnbd), read
 * with nbd_pread() and skipped with NBD block status (base:allocation), so a
 * sparse qcow2 is read once and only where it holds data.
 */
#include "disksync/disksync.h"
#include "util/error.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <libnbd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK_BYTES (1024u * 1024u)

struct ds_image {
    char *path;
    int fd;                 /* raw; -1 for qcow2 */
    struct nbd_handle *nbd; /* qcow2 */
    uint64_t size_bytes;
};

static int image_open_nbd(struct ds_image *img)
{
    img->nbd = nbd_create();
    if (!img->nbd)
        return err_set("%s: libnbd: %s", img->path, nbd_get_error());
    char *argv[] = {(char *)"qemu-nbd",
                    (char *)"--read-only",
                    (char *)"--format=qcow2",
                    (char *)"--shared=1",
                    img->path,
                    NULL};
    if (nbd_add_meta_context(img->nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) < 0 ||
        nbd_connect_systemd_socket_activation(img->nbd, argv) < 0)
        return err_set("%s: qemu-nbd: %s", img->path, nbd_get_error());
    int64_t size = nbd_get_size(img->nbd);
    if (size < 0)
        return err_set("%s: qemu-nbd: %s", img->path, nbd_get_error());
    img->size_bytes = (uint64_t)size;
    return 0;
}

struct ds_image *ds_image_open(const char *path)
{
    struct ds_image *img = xcalloc(1, sizeof(*img));
    img->path = xstrdup(path);
    img->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (img->fd < 0) {
        err_set_errno("%s: open", path);
        ds_image_close(img);
        return NULL;
    }
    unsigned char magic[4] = {0};
    struct stat st;
    if (fstat(img->fd, &st) < 0 || pread(img->fd, magic, sizeof(magic), 0) < 0) {
        err_set_errno("%s: read", path);
        ds_image_close(img);
        return NULL;
    }
    img->size_bytes = (uint64_t)st.st_size;
    if (memcmp(magic, "QFI\xfb", 4) == 0) {
        close(img->fd);
        img->fd = -1;
        if (image_open_nbd(img) < 0) {
            ds_image_close(img);
            return NULL;
        }
    }
    if (img->size_bytes > DS_IMAGE_MAX_BYTES) {
        err_set("%s: %llu bytes exceeds the %llu-byte limit", path,
                (unsigned long long)img->size_bytes, (unsigned long long)DS_IMAGE_MAX_BYTES);
        ds_image_close(img);
        return NULL;
    }
    return img;
}

void ds_image_close(struct ds_image *img)
{
    if (!img)
        return;
    if (img->fd >= 0)
        close(img->fd);
    if (img->nbd) {
        nbd_shutdown(img->nbd, 0);
        nbd_close(img->nbd); /* also reaps the qemu-nbd child */
    }
    free(img->path);
    free(img);
}

uint64_t ds_image_size_bytes(const struct ds_image *img)
{
    return img->size_bytes;
}

const char *ds_image_format(const struct ds_image *img)
{
    return img->nbd ? "qcow2" : "raw";
}

struct extent_walk {
    uint64_t off;   /* where the reply starts */
    uint64_t first; /* start of the first data extent, or UINT64_MAX */
    uint64_t end;   /* its end */
    bool done;      /* a data extent ended: stop collecting */
};

static int extent_cb(void *arg, const char *ctx, uint64_t off, uint32_t *e, size_t n, int *error)
{
    struct extent_walk *w = arg;
    (void)error;
    if (strcmp(ctx, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0)
        return 0;
    for (size_t i = 0; i + 1 < n && !w->done; i += 2) {
        bool zero = (e[i + 1] & LIBNBD_STATE_ZERO) != 0;
        if (!zero && w->first == UINT64_MAX)
            w->first = off;
        if (!zero)
            w->end = off + e[i];
        else if (w->first != UINT64_MAX)
            w->done = true;
        off += e[i];
    }
    w->off = off;
    return 0;
}

static int next_data_nbd(struct ds_image *img, uint64_t off, uint64_t *d_off, uint64_t *d_end)
{
    while (off < img->size_bytes) {
        uint64_t len = img->size_bytes - off;
        if (len > (UINT64_C(1) << 30))
            len = UINT64_C(1) << 30;
        struct extent_walk w = {.off = off, .first = UINT64_MAX, .end = 0, .done = false};
        nbd_extent_callback cb = {.callback = extent_cb, .user_data = &w};
        if (nbd_block_status(img->nbd, len, off, cb, 0) < 0)
            return err_set("%s: block status at %llu: %s", img->path, (unsigned long long)off,
                           nbd_get_error());
        if (w.first != UINT64_MAX) {
            *d_off = w.first;
            *d_end = w.end < img->size_bytes ? w.end : img->size_bytes;
            return 1;
        }
        if (w.off <= off)
            return err_set("%s: block status made no progress at %llu", img->path,
                           (unsigned long long)off);
        off = w.off;
    }
    return 0;
}

int ds_image_next_data(struct ds_image *img, uint64_t off, uint64_t *d_off, uint64_t *d_end)
{
    if (off >= img->size_bytes)
        return 0;
    if (img->nbd)
        return next_data_nbd(img, off, d_off, d_end);
    off_t data = lseek(img->fd, (off_t)off, SEEK_DATA);
    if (data < 0 && errno == ENXIO)
        return 0;
    if (data < 0) { /* no SEEK_DATA on this file system: all data */
        *d_off = off;
        *d_end = img->size_bytes;
        return 1;
    }
    off_t hole = lseek(img->fd, data, SEEK_HOLE);
    *d_off = (uint64_t)data;
    *d_end = hole < 0 ? img->size_bytes : (uint64_t)hole;
    if (*d_end > img->size_bytes)
        *d_end = img->size_bytes;
    return *d_off < *d_end ? 1 : 0;
}

int ds_image_read(struct ds_image *img, uint64_t off, size_t len, void *buf)
{
    size_t avail = off >= img->size_bytes        ? 0
                   : img->size_bytes - off < len ? (size_t)(img->size_bytes - off)
                                                 : len;
    memset((char *)buf + avail, 0, len - avail);
    if (avail == 0)
        return 0;
    if (img->nbd) {
        if (nbd_pread(img->nbd, buf, avail, off, 0) < 0)
            return err_set("%s: read at %llu: %s", img->path, (unsigned long long)off,
                           nbd_get_error());
        return 0;
    }
    size_t got = 0;
    while (got < avail) {
        ssize_t n = pread(img->fd, (char *)buf + got, avail - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set_errno("%s: read at %llu", img->path, (unsigned long long)(off + got));
        if (n == 0) /* the file shrank: the rest reads as zeros */
            break;
        got += (size_t)n;
    }
    memset((char *)buf + got, 0, avail - got);
    return 0;
}

/* Hash blocks [first, last) whose bytes start at `off`, reading in chunks. */
static int hash_range(struct ds_image *img, struct ds_hasher *hs, uint8_t *buf, uint64_t first,
                      uint64_t last, struct ds_hashes *out)
{
    while (first < last) {
        uint64_t n = last - first;
        if (n > READ_CHUNK_BYTES / DS_BLOCK_BYTES)
            n = READ_CHUNK_BYTES / DS_BLOCK_BYTES;
        if (ds_image_read(img, first * DS_BLOCK_BYTES, n * DS_BLOCK_BYTES, buf) < 0)
            return -1;
        for (uint64_t i = 0; i < n; i++) {
            const uint8_t *b = buf + i * DS_BLOCK_BYTES;
            uint64_t blk = first + i;
            if (ds_block_is_zero(b))
                continue; /* stays marked zero */
            out->zero[blk >> 3] &= (uint8_t) ~(1u << (blk & 7));
            ds_hasher_sum(hs, b, DS_BLOCK_BYTES, out->hash + blk * DS_HASH_BYTES);
        }
        first += n;
    }
    return 0;
}

int ds_image_hash(struct ds_image *img, struct ds_hashes *out)
{
    if (ds_hashes_init(out, img->size_bytes) < 0)
        return -1;
    memset(out->zero, 0xff, (out->n_blocks + 7) / 8);
    struct ds_hasher *hs = ds_hasher_new();
    uint8_t *buf = xmalloc(READ_CHUNK_BYTES);
    uint64_t off = 0, d_off, d_end;
    int rc, ret = 0;
    while ((rc = ds_image_next_data(img, off, &d_off, &d_end)) == 1) {
        uint64_t first = d_off / DS_BLOCK_BYTES;
        uint64_t last = (d_end + DS_BLOCK_BYTES - 1) / DS_BLOCK_BYTES;
        if (hash_range(img, hs, buf, first, last, out) < 0) {
            ret = -1;
            break;
        }
        off = last * DS_BLOCK_BYTES;
    }
    if (rc < 0)
        ret = -1;
    free(buf);
    ds_hasher_free(hs);
    if (ret < 0)
        ds_hashes_free(out);
    return ret;
}
