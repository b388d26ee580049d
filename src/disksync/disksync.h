/* disksync: WAN disk transfer by 4 KiB block dedup against a destination index.
 *
 * An image (raw or qcow2, read as the guest sees it) is cut into 4 KiB blocks.
 * All-zero blocks are marked, never hashed or sent; every other block has a
 * SHA-256. The destination keeps one hash file per image it holds (hash file in
 * block order) plus an in-memory table of a content-sampled subset of those
 * hashes; a match found through the table is extended forward and backward by
 * comparing neighbouring hashes in the hash files. The source streams a manifest,
 * the destination answers with the blocks it lacks, the source sends each of
 * them once in one zstd stream, and the destination assembles and verifies the
 * image (every block, then a whole-image digest), resuming an interrupted run.
 *
 * Ownership: every `*_open/_new/_compute` result is owned by the caller and
 * released with the matching `*_free/_close`; `*_free(NULL)` is a no-op.
 */
#ifndef ARAS_DISKSYNC_DISKSYNC_H
#define ARAS_DISKSYNC_DISKSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DS_BLOCK_BYTES 4096u
#define DS_HASH_BYTES  32u
/* Images up to 16 TiB: block numbers fit in 32 bits in the index table. */
#define DS_IMAGE_MAX_BYTES (UINT64_C(1) << 44)
/* Tenant labels: [A-Za-z0-9._-], 1..DS_TENANT_MAX bytes. */
#define DS_TENANT_MAX 63
/* The tenant label of images every tenant may use as a basis. */
#define DS_TENANT_GOLDEN "golden"

/* ---- hashes of one image (blockread.c, hashfile.c) ---- */

/* Per-block hashes in block order. Bit i of `zero` set: block i is all zeros
 * and its 32-byte slot in `hash` is zero-filled (never hashed). The last block
 * of an image whose size is not a multiple of 4 KiB is hashed zero-padded. */
struct ds_hashes {
    uint64_t image_bytes;
    uint64_t n_blocks;
    uint8_t *zero; /* (n_blocks + 7) / 8 bytes */
    uint8_t *hash; /* n_blocks * DS_HASH_BYTES */
};

static inline bool ds_hashes_is_zero(const struct ds_hashes *h, uint64_t i)
{
    return (h->zero[i >> 3] >> (i & 7)) & 1;
}
static inline const uint8_t *ds_hashes_at(const struct ds_hashes *h, uint64_t i)
{
    return h->hash + i * DS_HASH_BYTES;
}
/* Allocate zeroed arrays for an image of `image_bytes` (<= DS_IMAGE_MAX_BYTES). */
int ds_hashes_init(struct ds_hashes *h, uint64_t image_bytes);
void ds_hashes_free(struct ds_hashes *h);
/* Whole-image digest: SHA-256 over the image size and, per block, a zero marker
 * or the block's SHA-256. Equal digests mean equal guest-visible content. */
void ds_hashes_digest(const struct ds_hashes *h, uint8_t out[DS_HASH_BYTES]);

/* SHA-256 of one buffer (OpenSSL EVP; SHA-NI where the CPU has it). */
struct ds_hasher *ds_hasher_new(void);
void ds_hasher_free(struct ds_hasher *hs);
void ds_hasher_sum(struct ds_hasher *hs, const void *buf, size_t len, uint8_t out[DS_HASH_BYTES]);
bool ds_block_is_zero(const void *block);

/* ---- guest-visible image reading (blockread.c) ---- */

struct ds_image;
/* Open PATH read-only. A qcow2 image (by its magic) is served by a private
 * `qemu-nbd` child through libnbd; anything else is read as raw. */
struct ds_image *ds_image_open(const char *path);
void ds_image_close(struct ds_image *img);
uint64_t ds_image_size_bytes(const struct ds_image *img);
const char *ds_image_format(const struct ds_image *img); /* "raw" or "qcow2" */
/* The next extent that may hold data at or after `off`: returns 1 and sets
 * [*data_off, *data_end), 0 when only holes/zeros remain, -1 on error. */
int ds_image_next_data(struct ds_image *img, uint64_t off, uint64_t *data_off, uint64_t *data_end);
/* Read `len` bytes at `off`; bytes past the end of the image read as zeros. */
int ds_image_read(struct ds_image *img, uint64_t off, size_t len, void *buf);
/* Read the whole image and fill `out` (holes are zero blocks without reading). */
int ds_image_hash(struct ds_image *img, struct ds_hashes *out);

/* ---- hash files and the destination index (hashfile.c, index.c, tenant.c) ---- */

struct ds_hashfile_meta {
    char *image_path; /* absolute */
    char *tenant;
    bool golden;
    uint64_t mtime_ns, inode, size_bytes; /* of the image when hashed */
};
void ds_hashfile_meta_free(struct ds_hashfile_meta *m);
int ds_hashfile_write(const char *path, const struct ds_hashfile_meta *m,
                      const struct ds_hashes *h);
/* Read a whole hash file into memory (checks magic, version, sizes, digest). */
int ds_hashfile_read(const char *path, struct ds_hashfile_meta *m, struct ds_hashes *h);

enum ds_index_action { DS_INDEX_UNCHANGED, DS_INDEX_CREATED, DS_INDEX_REHASHED };
const char *ds_index_action_str(enum ds_index_action a);
struct ds_index_update {
    enum ds_index_action action;
    char *hashfile; /* path of the hash file (owned) */
    uint64_t n_blocks, zero_blocks;
};
/* Bring INDEX_DIR's hash file for IMAGE up to date: unchanged when size, mtime
 * and inode match the recorded ones (and tenant/golden too), else rehash. */
int ds_index_update_image(const char *index_dir, const char *image, const char *tenant, bool golden,
                          struct ds_index_update *res);

/* Tenant rule: may an image labelled (tenant, golden) serve `requester`? */
bool ds_tenant_may_serve(const char *image_tenant, bool golden, const char *requester);
/* 0 if `label` is a valid tenant label, else -1 with a message. */
int ds_tenant_check(const char *label);

struct ds_index;
/* Load every hash file in DIR that may serve `tenant`. sample_shift 3 keeps
 * hashes whose first byte < 256>>3 (1/8); 0 keeps all (the full table). */
struct ds_index *ds_index_open(const char *dir, const char *tenant, unsigned sample_shift);
void ds_index_free(struct ds_index *ix);
struct ds_index_stats {
    uint32_t images;
    uint64_t blocks, entries; /* non-zero blocks seen / entries in the table */
    size_t table_bytes;       /* RAM of this table */
    size_t full_table_bytes;  /* RAM a table of every non-zero block would take */
};
void ds_index_get_stats(const struct ds_index *ix, struct ds_index_stats *st);
/* A local copy of a block: image `file` of the index, block number `block`. */
struct ds_loc {
    uint32_t file; /* DS_LOC_NONE when no local copy */
    uint32_t block;
};
#define DS_LOC_NONE UINT32_MAX
/* For every non-zero block of `want`, find a local block with the same hash
 * (probe the sampled table, then extend each hit both ways). `locs` has
 * want->n_blocks entries. Returns the number of blocks matched. */
uint64_t ds_index_match(const struct ds_index *ix, const struct ds_hashes *want,
                        struct ds_loc *locs);
const char *ds_index_image_path(const struct ds_index *ix, uint32_t file);

/* ---- the transfer (send.c, assemble.c) ---- */

struct ds_sync_stats {
    uint64_t image_bytes, n_blocks;
    uint64_t zero_blocks, matched_blocks, missing_blocks, duplicate_blocks, resumed_blocks;
    uint64_t basis_bad_blocks; /* local matches whose content failed verification */
    uint64_t wire_bytes_sent, wire_bytes_received;
    uint64_t data_blocks_requested; /* blocks asked for in NEED frames so far */
    uint64_t data_blocks_sent;      /* blocks the source put in the zstd stream so far */
};
/* Called by the source after each data frame and at phase changes. */
typedef void (*ds_progress_fn)(const struct ds_sync_stats *st, void *arg);

struct ds_send_opts {
    const char *image;  /* source image path */
    const char *tenant; /* label sent in HELLO (the receiver decides) */
    int zstd_level;
    ds_progress_fn progress;
    void *progress_arg;
};
/* Run the source side over fd_in/fd_out (a socket, pipes, ssh's stdio). On
 * success `st` holds both sides' counts (the receiver reports its own). */
int ds_send(const struct ds_send_opts *o, int fd_in, int fd_out, struct ds_sync_stats *st);

struct ds_recv_opts {
    const char *dest;         /* destination image path (raw, sparse) */
    const char *index_dir;    /* NULL: no local basis */
    const char *tenant;       /* the receiver's own idea of the tenant */
    unsigned sample_shift;    /* index sampling, 3 = 1/8 */
    uint64_t max_image_bytes; /* refuse larger images; 0: DS_IMAGE_MAX_BYTES */
};
/* Run the destination side; on error an ERROR frame carries the message back. */
int ds_receive(const struct ds_recv_opts *o, int fd_in, int fd_out, struct ds_sync_stats *st);

#endif
