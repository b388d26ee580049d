/* index: the destination's sampled in-memory hash table over its hash files.
 *
 * Only hashes whose first byte is below 256 >> sample_shift enter the table
 * (content-defined, so the same blocks are sampled on both sides); the hash
 * files stay mapped read-only and are consulted to extend each table hit
 * forward and backward block by block. A run of k >= ~16 matching blocks is
 * found with probability 1 - (7/8)^k while the table takes ~1/8 of the RAM.
 */
#include "disksync/dsint.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct ix_file {
    char *image_path;
    uint8_t *map;
    size_t map_len;
    struct ds_hashes h; /* points into map */
};

struct ix_entry {
    uint64_t key; /* hash bytes 8..15; 0 = empty slot */
    uint32_t file, block;
};

struct ds_index {
    struct ix_file *files;
    size_t n_files, cap_files;
    struct ix_entry *tab;
    uint64_t cap, entries, blocks;
    unsigned shift;
};

static bool sampled(const struct ds_index *ix, const uint8_t *hash)
{
    return hash[0] < (256u >> ix->shift);
}

static uint64_t hash_key(const uint8_t *hash)
{
    uint64_t k;
    memcpy(&k, hash + 8, sizeof(k));
    return k ? k : 1;
}

static uint64_t slot_of(const struct ds_index *ix, uint64_t key)
{
    return (uint64_t)(((unsigned __int128)key * ix->cap) >> 64);
}

static size_t table_bytes_for(uint64_t entries)
{
    return (size_t)(entries + entries / 2 + 16) * sizeof(struct ix_entry);
}

static int load_file(struct ds_index *ix, const char *path, const char *tenant)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0) {
        if (fd >= 0)
            close(fd);
        return err_set_errno("%s: open", path);
    }
    uint8_t *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return err_set_errno("%s: mmap", path);
    struct ix_file f = {.map = map, .map_len = (size_t)st.st_size};
    struct ds_hashfile_meta m;
    if (ds_hashfile_parse(map, f.map_len, path, &m, &f.h) < 0) {
        munmap(map, f.map_len);
        return -1;
    }
    if (!ds_tenant_may_serve(m.tenant, m.golden, tenant)) {
        ds_hashfile_meta_free(&m);
        munmap(map, f.map_len);
        return 0; /* another tenant's image: invisible */
    }
    f.image_path = STEAL(m.image_path);
    ds_hashfile_meta_free(&m);
    xgrow((void **)&ix->files, &ix->cap_files, ix->n_files + 1, sizeof(f));
    ix->files[ix->n_files++] = f;
    return 0;
}

static void table_insert(struct ds_index *ix, uint32_t file, uint32_t block)
{
    const uint8_t *hash = ds_hashes_at(&ix->files[file].h, block);
    uint64_t key = hash_key(hash);
    for (uint64_t s = slot_of(ix, key);; s = s + 1 == ix->cap ? 0 : s + 1) {
        struct ix_entry *e = &ix->tab[s];
        if (e->key == 0) {
            *e = (struct ix_entry){.key = key, .file = file, .block = block};
            ix->entries++;
            return;
        }
        if (e->key == key &&
            memcmp(ds_hashes_at(&ix->files[e->file].h, e->block), hash, DS_HASH_BYTES) == 0)
            return; /* keep the first copy of a duplicate block */
    }
}

static void table_build(struct ds_index *ix)
{
    uint64_t want = 0;
    for (size_t f = 0; f < ix->n_files; f++) {
        const struct ds_hashes *h = &ix->files[f].h;
        for (uint64_t b = 0; b < h->n_blocks; b++) {
            if (ds_hashes_is_zero(h, b))
                continue;
            ix->blocks++;
            want += sampled(ix, ds_hashes_at(h, b));
        }
    }
    ix->cap = table_bytes_for(want) / sizeof(struct ix_entry);
    ix->tab = xcalloc((size_t)ix->cap, sizeof(struct ix_entry));
    for (size_t f = 0; f < ix->n_files; f++) {
        const struct ds_hashes *h = &ix->files[f].h;
        for (uint64_t b = 0; b < h->n_blocks; b++) {
            if (!ds_hashes_is_zero(h, b) && sampled(ix, ds_hashes_at(h, b)))
                table_insert(ix, (uint32_t)f, (uint32_t)b);
        }
    }
}

struct ds_index *ds_index_open(const char *dir, const char *tenant, unsigned sample_shift)
{
    if (ds_tenant_check(tenant) < 0 || sample_shift > 8) {
        err_prefix("index %s", dir);
        return NULL;
    }
    DIR *d = opendir(dir);
    if (!d) {
        err_set_errno("%s: opendir", dir);
        return NULL;
    }
    struct ds_index *ix = xcalloc(1, sizeof(*ix));
    ix->shift = sample_shift;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".dsh") != 0)
            continue;
        if (ix->n_files >= DS_LOC_NONE - 1)
            break;
        AUTOFREE char *path = xasprintf("%s/%s", dir, e->d_name);
        if (load_file(ix, path, tenant) < 0)
            log_warn("disksync", "skipping %s: %s", path, err_msg());
    }
    closedir(d);
    table_build(ix);
    return ix;
}

void ds_index_free(struct ds_index *ix)
{
    if (!ix)
        return;
    for (size_t f = 0; f < ix->n_files; f++) {
        munmap(ix->files[f].map, ix->files[f].map_len);
        free(ix->files[f].image_path);
    }
    free(ix->files);
    free(ix->tab);
    free(ix);
}

void ds_index_get_stats(const struct ds_index *ix, struct ds_index_stats *st)
{
    st->images = (uint32_t)ix->n_files;
    st->blocks = ix->blocks;
    st->entries = ix->entries;
    st->table_bytes = (size_t)ix->cap * sizeof(struct ix_entry);
    st->full_table_bytes = table_bytes_for(ix->blocks);
}

const char *ds_index_image_path(const struct ds_index *ix, uint32_t file)
{
    return file < ix->n_files ? ix->files[file].image_path : NULL;
}

static bool table_find(const struct ds_index *ix, const uint8_t *hash, struct ds_loc *out)
{
    if (ix->cap == 0)
        return false;
    uint64_t key = hash_key(hash);
    for (uint64_t s = slot_of(ix, key);; s = s + 1 == ix->cap ? 0 : s + 1) {
        const struct ix_entry *e = &ix->tab[s];
        if (e->key == 0)
            return false;
        if (e->key == key &&
            memcmp(ds_hashes_at(&ix->files[e->file].h, e->block), hash, DS_HASH_BYTES) == 0) {
            *out = (struct ds_loc){.file = e->file, .block = e->block};
            return true;
        }
    }
}

/* Walk from source block i / local block b in direction dir (+1/-1) while the
 * neighbours agree: both zero, or both non-zero with equal hashes. Up to
 * EXTEND_GAP differing blocks in a row are stepped over (a rewritten block
 * inside an unchanged file), since every match is still an equal hash. */
#define EXTEND_GAP 8u
static uint64_t extend(const struct ds_hashes *want, const struct ds_hashes *have, uint32_t file,
                       uint64_t i, uint64_t b, int dir, struct ds_loc *locs)
{
    uint64_t found = 0;
    unsigned misses = 0;
    for (;;) {
        if ((dir < 0 && (i == 0 || b == 0)) ||
            (dir > 0 && (i + 1 >= want->n_blocks || b + 1 >= have->n_blocks)))
            return found;
        i += (uint64_t)dir;
        b += (uint64_t)dir;
        bool wz = ds_hashes_is_zero(want, i), hz = ds_hashes_is_zero(have, b);
        if (wz && hz)
            continue;
        if (locs[i].file != DS_LOC_NONE)
            return found; /* another hit's run already covers this */
        if (!wz && !hz &&
            memcmp(ds_hashes_at(want, i), ds_hashes_at(have, b), DS_HASH_BYTES) == 0) {
            locs[i] = (struct ds_loc){.file = file, .block = (uint32_t)b};
            found++;
            misses = 0;
        } else if (++misses > EXTEND_GAP) {
            return found;
        }
    }
}

uint64_t ds_index_match(const struct ds_index *ix, const struct ds_hashes *want,
                        struct ds_loc *locs)
{
    uint64_t found = 0;
    for (uint64_t i = 0; i < want->n_blocks; i++)
        locs[i] = (struct ds_loc){.file = DS_LOC_NONE, .block = 0};
    for (uint64_t i = 0; i < want->n_blocks; i++) {
        if (ds_hashes_is_zero(want, i) || locs[i].file != DS_LOC_NONE)
            continue;
        const uint8_t *hash = ds_hashes_at(want, i);
        struct ds_loc at;
        if (!sampled(ix, hash) || !table_find(ix, hash, &at))
            continue;
        locs[i] = at;
        found++;
        const struct ds_hashes *have = &ix->files[at.file].h;
        found += extend(want, have, at.file, i, at.block, -1, locs);
        found += extend(want, have, at.file, i, at.block, +1, locs);
    }
    return found;
}
