/* plan: decide per block whether to copy it locally, request it, or copy it
 * from another block of the same image with the same content.
 *
 * The destination never requests one content twice: within the image a hash
 * map (full 32-byte compare) sends later copies of a block to its first
 * occurrence. Local copies are verified by re-hashing what is read, so a
 * corrupted basis block is requested from the source instead of being used.
 */
#include "disksync/dsint.h"
#include "util/error.h"
#include "util/mem.h"

#include <string.h>

#define COPY_RUN 64u

struct pmap {
    uint64_t *slot; /* block + 1; 0 = empty */
    uint64_t cap;
    const struct ds_hashes *want;
};

/* The block already recorded with blk's content, else record blk and return
 * UINT64_MAX. */
static uint64_t pmap_find_or_add(struct pmap *m, uint64_t blk)
{
    const uint8_t *hash = ds_hashes_at(m->want, blk);
    uint64_t key;
    memcpy(&key, hash + 16, sizeof(key));
    uint64_t s = (uint64_t)(((unsigned __int128)key * m->cap) >> 64);
    for (;; s = s + 1 == m->cap ? 0 : s + 1) {
        if (m->slot[s] == 0) {
            m->slot[s] = blk + 1;
            return UINT64_MAX;
        }
        if (memcmp(ds_hashes_at(m->want, m->slot[s] - 1), hash, DS_HASH_BYTES) == 0)
            return m->slot[s] - 1;
    }
}

void ds_plan_make(struct ds_plan *p, const struct ds_asm *a, const struct ds_index *ix)
{
    const struct ds_hashes *w = a->want;
    memset(p, 0, sizeof(*p));
    p->locs = xcalloc((size_t)w->n_blocks + 1, sizeof(*p->locs));
    if (ix) {
        ds_index_match(ix, w, p->locs);
    } else {
        for (uint64_t i = 0; i < w->n_blocks; i++)
            p->locs[i].file = DS_LOC_NONE;
    }
    uint64_t nonzero = 0;
    for (uint64_t i = 0; i < w->n_blocks; i++) {
        nonzero += !ds_hashes_is_zero(w, i);
        if (ds_asm_is_done(a, i))
            p->locs[i].file = DS_LOC_NONE;
    }
    struct pmap m = {.cap = nonzero * 2 + 16, .want = w};
    m.slot = xcalloc((size_t)m.cap, sizeof(*m.slot));
    p->need = xmalloc(((size_t)nonzero + 1) * sizeof(*p->need));
    p->dups = xmalloc(((size_t)nonzero + 1) * sizeof(*p->dups));
    for (uint64_t i = 0; i < w->n_blocks; i++) { /* blocks we will have anyway */
        if (!ds_hashes_is_zero(w, i) && (ds_asm_is_done(a, i) || p->locs[i].file != DS_LOC_NONE))
            pmap_find_or_add(&m, i);
    }
    for (uint64_t i = 0; i < w->n_blocks; i++) {
        if (ds_hashes_is_zero(w, i) || ds_asm_is_done(a, i) || p->locs[i].file != DS_LOC_NONE)
            continue;
        uint64_t prov = pmap_find_or_add(&m, i);
        if (prov == UINT64_MAX) {
            p->need[p->n_need++] = i;
        } else if (p->locs[prov].file != DS_LOC_NONE) {
            p->locs[i] = p->locs[prov];
        } else {
            p->dups[p->n_dups][0] = i;
            p->dups[p->n_dups++][1] = prov;
        }
    }
    free(m.slot);
}

static void add_extra(struct ds_plan *p, uint64_t blk)
{
    xgrow((void **)&p->extra, &p->cap_extra, p->n_extra + 1, sizeof(*p->extra));
    p->extra[p->n_extra++] = blk;
    p->basis_bad++;
}

/* Length of the run of local copies at i that are consecutive in one image. */
static uint64_t run_len(const struct ds_plan *p, uint64_t i, uint64_t n)
{
    uint64_t r = 1;
    while (i + r < n && r < COPY_RUN && p->locs[i + r].file == p->locs[i].file &&
           p->locs[i + r].block == p->locs[i].block + r)
        r++;
    return r;
}

int ds_plan_copy_local(struct ds_plan *p, struct ds_asm *a, const struct ds_index *ix)
{
    uint64_t n = a->want->n_blocks;
    uint8_t *buf = xmalloc(COPY_RUN * DS_BLOCK_BYTES);
    struct ds_image *img = NULL;
    uint32_t img_file = DS_LOC_NONE;
    int ret = 0;
    for (uint64_t i = 0; i < n && ret == 0; i++) {
        if (p->locs[i].file == DS_LOC_NONE)
            continue;
        uint64_t r = run_len(p, i, n);
        if (p->locs[i].file != img_file) {
            ds_image_close(img);
            img_file = p->locs[i].file;
            img = ds_image_open(ds_index_image_path(ix, img_file)); /* NULL: all bad */
        }
        bool ok = img && ds_image_read(img, (uint64_t)p->locs[i].block * DS_BLOCK_BYTES,
                                       (size_t)r * DS_BLOCK_BYTES, buf) == 0;
        for (uint64_t k = 0; k < r && ret == 0; k++) {
            int rc = ok ? ds_asm_write(a, i + k, buf + k * DS_BLOCK_BYTES) : 1;
            if (rc == 0)
                p->matched++;
            else if (rc == 1)
                add_extra(p, i + k);
            else
                ret = -1;
        }
        i += r - 1;
    }
    ds_image_close(img);
    free(buf);
    return ret;
}

int ds_plan_copy_dups(struct ds_plan *p, struct ds_asm *a)
{
    for (size_t d = 0; d < p->n_dups; d++) {
        if (ds_asm_copy_within(a, p->dups[d][0], p->dups[d][1]) < 0)
            return -1;
    }
    return 0;
}

void ds_plan_free(struct ds_plan *p)
{
    free(p->locs);
    free(p->need);
    free(p->dups);
    free(p->extra);
    memset(p, 0, sizeof(*p));
}
