/* dsint: internals shared by the disksync files (not part of the public API). */
#ifndef ARAS_DISKSYNC_DSINT_H
#define ARAS_DISKSYNC_DSINT_H

#include "disksync/disksync.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- hash file layout (hashfile.c) ---- */
#define DS_HASHFILE_MAGIC   "ARASDSH\001"
#define DS_HASHFILE_VERSION 1u
#define DS_HASHFILE_FIXED   96u
#define DS_PATH_MAX         4096u

/* Parse a hash file held in memory (`buf`, `len`): fills `m` (owned) and `h`,
 * whose arrays point INTO buf (do not ds_hashes_free them). Checks the digest. */
int ds_hashfile_parse(const uint8_t *buf, size_t len, const char *path, struct ds_hashfile_meta *m,
                      struct ds_hashes *h);
/* The hash file name for an absolute image path inside index_dir (owned). */
char *ds_hashfile_name(const char *index_dir, const char *abs_image);

/* ---- wire protocol (proto.c) ---- */
enum ds_frame_type {
    DS_FRAME_HELLO = 1,
    DS_FRAME_MANIFEST = 2,
    DS_FRAME_MANIFEST_END = 3,
    DS_FRAME_NEED = 4,
    DS_FRAME_NEED_END = 5,
    DS_FRAME_DATA = 6,
    DS_FRAME_DATA_END = 7,
    DS_FRAME_RESULT = 8,
    DS_FRAME_ERROR = 9,
};
const char *ds_frame_type_str(unsigned t);

#define DS_PROTO_MAGIC   "ARASDS\r\n"
#define DS_PROTO_VERSION 1u
#define DS_FRAME_HDR     5u         /* type u8, length u32 big-endian */
#define DS_FRAME_MAX     (1u << 20) /* hard limit on every frame's payload */
#define DS_MANIFEST_RUNS (16384u)   /* blocks of hashes per MANIFEST frame */

struct ds_conn {
    int fd_in, fd_out;
    uint64_t sent, received; /* wire bytes, headers included */
    uint8_t *buf;            /* DS_FRAME_MAX receive buffer */
};
void ds_conn_init(struct ds_conn *c, int fd_in, int fd_out);
void ds_conn_fini(struct ds_conn *c);
int ds_frame_send(struct ds_conn *c, unsigned type, const void *payload, size_t len);
/* Receive one frame into c->buf; an ERROR frame becomes -1 with the peer's
 * message; a frame over DS_FRAME_MAX is rejected before reading it. */
int ds_frame_recv(struct ds_conn *c, unsigned *type, size_t *len);
/* Validate a frame header (type, length) without I/O. */
int ds_frame_check_header(const uint8_t hdr[DS_FRAME_HDR], unsigned *type, size_t *len);

/* A bounded byte buffer with varint encoding; `len` never exceeds `cap`. */
struct ds_wbuf {
    uint8_t *p;
    size_t len, cap;
};
void ds_wbuf_u8(struct ds_wbuf *b, uint8_t v);
void ds_wbuf_u32(struct ds_wbuf *b, uint32_t v);
void ds_wbuf_u64(struct ds_wbuf *b, uint64_t v);
void ds_wbuf_varint(struct ds_wbuf *b, uint64_t v);
void ds_wbuf_bytes(struct ds_wbuf *b, const void *p, size_t n);
struct ds_rbuf {
    const uint8_t *p;
    size_t len, pos;
};
int ds_rbuf_u8(struct ds_rbuf *r, uint8_t *v);
int ds_rbuf_u32(struct ds_rbuf *r, uint32_t *v);
int ds_rbuf_u64(struct ds_rbuf *r, uint64_t *v);
int ds_rbuf_varint(struct ds_rbuf *r, uint64_t *v);
int ds_rbuf_bytes(struct ds_rbuf *r, void *out, size_t n);

struct ds_hello {
    uint64_t image_bytes, n_blocks;
    uint8_t digest[DS_HASH_BYTES];
    char tenant[DS_TENANT_MAX + 1];
};
void ds_hello_encode(const struct ds_hello *h, struct ds_wbuf *b);
int ds_hello_decode(const uint8_t *p, size_t len, struct ds_hello *h);

/* ---- manifest (manifest.c) ---- */
/* Encode blocks [*next, n_blocks) of `h` as run-length records into `b` until
 * it would exceed DS_FRAME_MAX; advances *next. */
void ds_manifest_encode(const struct ds_hashes *h, uint64_t *next, struct ds_wbuf *b);
/* Decode one MANIFEST payload into `h` (fresh from ds_hashes_init, so zeroed)
 * starting at block *next (advanced); never writes past h->n_blocks. */
int ds_manifest_decode(const uint8_t *p, size_t len, struct ds_hashes *h, uint64_t *next);
/* NEED payload: ranges [start, start+count) as varint deltas, ascending. */
int ds_need_decode(const uint8_t *p, size_t len, uint64_t n_blocks,
                   int (*cb)(uint64_t start, uint64_t count, void *arg), void *arg);

struct ds_result {
    uint32_t status; /* 0 ok */
    uint64_t zero_blocks, matched_blocks, missing_blocks, duplicate_blocks, resumed_blocks,
        basis_bad_blocks;
};
void ds_result_encode(const struct ds_result *r, struct ds_wbuf *b);
int ds_result_decode(const uint8_t *p, size_t len, struct ds_result *r);

/* ---- destination image assembly (assemble.c) ---- */
/* The image being built: DEST.dspart (sparse raw, zero blocks are holes) and
 * DEST.dsjournal (digest + bitmap of blocks written, synced and verified). */
struct ds_asm {
    char *dest, *tmp_path, *journal_path;
    int fd, jfd;
    const struct ds_hashes *want;
    uint8_t digest[DS_HASH_BYTES];
    uint8_t *done;        /* bitmap of verified blocks */
    struct ds_hashes got; /* hashes computed from the bytes written */
    struct ds_hasher *hs;
    size_t dirty_lo, dirty_hi; /* journal bitmap bytes not yet written */
    uint64_t since_sync;       /* blocks written since the last checkpoint */
};
/* Open or resume the assembly of `want` (whose digest is `digest`) at DEST.
 * Blocks recorded in a matching journal are re-read and verified; *resumed
 * counts those that passed. */
int ds_asm_open(struct ds_asm *a, const char *dest, const struct ds_hashes *want,
                const uint8_t digest[DS_HASH_BYTES], uint64_t *resumed);
static inline bool ds_asm_is_done(const struct ds_asm *a, uint64_t blk)
{
    return (a->done[blk >> 3] >> (blk & 7)) & 1;
}
/* Verify `data` against the manifest hash of `blk`, write it, mark it done.
 * Returns 0, 1 on a hash mismatch (message set, nothing written), -1 on I/O error. */
int ds_asm_write(struct ds_asm *a, uint64_t blk, const uint8_t *data);
/* fdatasync the image, then record newly done blocks in the journal. */
int ds_asm_checkpoint(struct ds_asm *a);
/* Copy a verified block already in the image to `blk` (a duplicate). */
int ds_asm_copy_within(struct ds_asm *a, uint64_t blk, uint64_t from);
/* All blocks done, digest of the written bytes equals the source's: sync,
 * rename over DEST, remove the journal. */
int ds_asm_finish(struct ds_asm *a);
/* Close; an unfinished image and its journal stay for a resume. */
void ds_asm_close(struct ds_asm *a);

/* ---- what to fetch, copy and request (plan.c) ---- */
struct ds_plan {
    struct ds_loc *locs; /* per block: local copy to take, or DS_LOC_NONE */
    uint64_t *need;      /* blocks to request, ascending, each content once */
    size_t n_need;
    uint64_t (*dups)[2]; /* {block, earlier block with the same content} */
    size_t n_dups;
    uint64_t *extra; /* local copies that failed verification: request too */
    size_t n_extra, cap_extra;
    uint64_t matched, basis_bad;
};
/* Decide, for every non-zero block not yet done in `a`: local copy (through
 * the index, or the same content elsewhere in the image), request, or copy of
 * a block that will be requested. `ix` may be NULL. */
void ds_plan_make(struct ds_plan *p, const struct ds_asm *a, const struct ds_index *ix);
/* Copy and verify the local matches; failures go to p->extra. */
int ds_plan_copy_local(struct ds_plan *p, struct ds_asm *a, const struct ds_index *ix);
/* Fill duplicates from their (now written) originals. */
int ds_plan_copy_dups(struct ds_plan *p, struct ds_asm *a);
void ds_plan_free(struct ds_plan *p);

#endif
