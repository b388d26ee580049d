/* test_index: the sampled table plus match extension finds (almost) all the
 * matches a full table finds, in a fraction of the RAM. */
#include "dstest.h"
#include "test.h"

#define NB 8192 /* 32 MiB images */

/* Base: unique blocks with a few zero runs. */
static uint64_t base_content(uint64_t i, void *arg)
{
    (void)arg;
    return (i % 1000) >= 950 ? 0 : i + 1;
}

/* A later version: 37 blocks inserted at 3000 (everything after shifts),
 * ~1% of blocks rewritten (scattered singles and short runs), a new region. */
static uint64_t derived_content(uint64_t i, void *arg)
{
    (void)arg;
    if (i >= 3000 && i < 3037)
        return 500000 + i;
    uint64_t src = i < 3000 ? i : i - 37;
    if ((src * 2654435761u) % 211 == 0 || (src >= 6000 && src < 6020))
        return 900000 + i; /* rewritten */
    if (i >= 7900)
        return 700000 + i; /* new data at the end */
    return base_content(src, NULL);
}

static uint64_t count_found(const struct ds_index *ix, const struct ds_hashes *want)
{
    struct ds_loc *locs = xcalloc(want->n_blocks, sizeof(*locs));
    uint64_t n = ds_index_match(ix, want, locs);
    /* Every reported match really has the same hash. */
    uint64_t checked = 0;
    for (uint64_t i = 0; i < want->n_blocks; i++)
        checked += locs[i].file != DS_LOC_NONE;
    CHECK_INT_EQ(checked, n);
    free(locs);
    return n;
}

TEST(sampled_index_finds_almost_all_matches)
{
    AUTOFREE char *dir = dst_tmpdir();
    AUTOFREE char *base = xasprintf("%s/base.img", dir);
    AUTOFREE char *derived = xasprintf("%s/derived.img", dir);
    AUTOFREE char *idx = xasprintf("%s/idx", dir);
    CHECK(dst_make_image(base, NB, base_content, NULL) == 0);
    CHECK(dst_make_image(derived, NB, derived_content, NULL) == 0);
    struct ds_index_update up;
    CHECK(ds_index_update_image(idx, base, "t", false, &up) == 0);
    free(up.hashfile);

    /* Ground truth: blocks of `derived` whose content exists in `base`. */
    uint64_t truth = 0;
    for (uint64_t i = 0; i < NB; i++) {
        uint64_t c = derived_content(i, NULL);
        truth += c != 0 && c <= NB;
    }
    struct ds_image *im = ds_image_open(derived);
    struct ds_hashes want;
    CHECK(ds_image_hash(im, &want) == 0);
    ds_image_close(im);

    struct ds_index *full = ds_index_open(idx, "t", 0);
    struct ds_index *sampled = ds_index_open(idx, "t", 3);
    CHECK(full && sampled);
    uint64_t n_full = count_found(full, &want), n_sampled = count_found(sampled, &want);
    struct ds_index_stats sf, ss;
    ds_index_get_stats(full, &sf);
    ds_index_get_stats(sampled, &ss);
    printf("matches: truth %llu, full table %llu, sampled %llu (%.2f%%); RAM full %zu B, "
           "sampled %zu B (%.3f)\n",
           (unsigned long long)truth, (unsigned long long)n_full, (unsigned long long)n_sampled,
           100.0 * (double)n_sampled / (double)n_full, sf.table_bytes, ss.table_bytes,
           (double)ss.table_bytes / (double)sf.table_bytes);
    CHECK_INT_EQ(n_full, truth);
    CHECK(n_sampled * 100 >= n_full * 97);
    CHECK(ss.table_bytes * 5 <= sf.table_bytes); /* about 1/8 */
    CHECK(ss.entries * 6 <= sf.entries && ss.entries * 12 >= sf.entries);
    ds_index_free(full);
    ds_index_free(sampled);
    ds_hashes_free(&want);
    dst_rmdir(dir);
}

/* Harsh case: one block in 12 rewritten at random, so unchanged runs average
 * ~11 blocks; without stepping over rewritten blocks the sampled table found
 * only 82.5% of the full table's matches here. */
static uint64_t scattered_content(uint64_t i, void *arg)
{
    (void)arg;
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    return (x * 0xBF58476D1CE4E5B9ull) % 12 == 0 ? 800000 + i : base_content(i, NULL);
}

TEST(sampled_index_on_scattered_edits)
{
    AUTOFREE char *dir = dst_tmpdir();
    AUTOFREE char *base = xasprintf("%s/base.img", dir);
    AUTOFREE char *derived = xasprintf("%s/derived.img", dir);
    AUTOFREE char *idx = xasprintf("%s/idx", dir);
    CHECK(dst_make_image(base, NB, base_content, NULL) == 0);
    CHECK(dst_make_image(derived, NB, scattered_content, NULL) == 0);
    struct ds_index_update up;
    CHECK(ds_index_update_image(idx, base, "t", false, &up) == 0);
    free(up.hashfile);
    struct ds_image *im = ds_image_open(derived);
    struct ds_hashes want;
    CHECK(ds_image_hash(im, &want) == 0);
    ds_image_close(im);
    struct ds_index *full = ds_index_open(idx, "t", 0);
    struct ds_index *sampled = ds_index_open(idx, "t", 3);
    uint64_t n_full = count_found(full, &want), n_sampled = count_found(sampled, &want);
    printf("scattered edits: full table %llu, sampled %llu (%.2f%%)\n", (unsigned long long)n_full,
           (unsigned long long)n_sampled, 100.0 * (double)n_sampled / (double)n_full);
    CHECK(n_sampled <= n_full);
    CHECK(n_sampled * 100 >= n_full * 95); /* gaps are stepped over by the extension */
    ds_index_free(full);
    ds_index_free(sampled);
    ds_hashes_free(&want);
    dst_rmdir(dir);
}

RUN_TESTS(sampled_index_finds_almost_all_matches, sampled_index_on_scattered_edits)
