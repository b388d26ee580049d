/* test_hashfile: image hashing, zero blocks, hash file round trip, incremental
 * update, corruption detection and the tenant rule of the index. */
#include "dstest.h"
#include "test.h"

#include <openssl/evp.h>
#include <sys/time.h>

#define NB 2048 /* 8 MiB images */

/* Blocks 0..511 data, 512..1023 hole, 1024..1535 data, the rest explicit zeros
 * (written below), i.e. both kinds of zero block. */
static uint64_t mixed(uint64_t i, void *arg)
{
    (void)arg;
    return (i < 512 || (i >= 1024 && i < 1536)) ? i + 1 : 0;
}

static void write_explicit_zeros(const char *path)
{
    int fd = open(path, O_WRONLY);
    uint8_t zero[DS_BLOCK_BYTES] = {0};
    for (uint64_t i = 1536; i < NB; i++)
        CHECK(pwrite(fd, zero, sizeof(zero), (off_t)(i * DS_BLOCK_BYTES)) == DS_BLOCK_BYTES);
    close(fd);
}

TEST(zero_blocks_never_hashed)
{
    AUTOFREE char *dir = dst_tmpdir();
    AUTOFREE char *img = xasprintf("%s/a.img", dir);
    CHECK(dst_make_image(img, NB, mixed, NULL) == 0);
    write_explicit_zeros(img);
    struct ds_image *im = ds_image_open(img);
    CHECK(im != NULL);
    struct ds_hashes h;
    CHECK(ds_image_hash(im, &h) == 0);
    ds_image_close(im);
    CHECK_INT_EQ(h.n_blocks, NB);
    uint8_t b[DS_BLOCK_BYTES], want[DS_HASH_BYTES], zero32[DS_HASH_BYTES] = {0};
    uint64_t zeros = 0, bad = 0;
    for (uint64_t i = 0; i < NB; i++) {
        if (mixed(i, NULL) == 0) {
            zeros += ds_hashes_is_zero(&h, i);
            bad += memcmp(ds_hashes_at(&h, i), zero32, DS_HASH_BYTES) != 0;
            continue;
        }
        dst_fill_block(b, mixed(i, NULL));
        unsigned int n;
        EVP_Digest(b, sizeof(b), want, &n, EVP_sha256(), NULL);
        bad += ds_hashes_is_zero(&h, i) || memcmp(ds_hashes_at(&h, i), want, DS_HASH_BYTES) != 0;
    }
    CHECK_INT_EQ(zeros, NB - 1024);
    CHECK_INT_EQ(bad, 0);
    ds_hashes_free(&h);
    dst_rmdir(dir);
}

TEST(hashfile_round_trip_and_corruption)
{
    AUTOFREE char *dir = dst_tmpdir();
    AUTOFREE char *img = xasprintf("%s/a.img", dir);
    AUTOFREE char *idx = xasprintf("%s/idx", dir);
    CHECK(dst_make_image(img, NB, mixed, NULL) == 0);
    struct ds_index_update up;
    CHECK(ds_index_update_image(idx, img, "acme", false, &up) == 0);
    CHECK_INT_EQ(up.action, DS_INDEX_CREATED);
    CHECK_INT_EQ(up.zero_blocks, 1024);
    struct ds_hashfile_meta m;
    struct ds_hashes h, direct;
    CHECK(ds_hashfile_read(up.hashfile, &m, &h) == 0);
    CHECK_STR_EQ(m.tenant, "acme");
    CHECK(!m.golden);
    CHECK(strstr(m.image_path, "/a.img") != NULL);
    struct ds_image *im = ds_image_open(img);
    CHECK(ds_image_hash(im, &direct) == 0);
    ds_image_close(im);
    uint8_t d1[DS_HASH_BYTES], d2[DS_HASH_BYTES];
    ds_hashes_digest(&h, d1);
    ds_hashes_digest(&direct, d2);
    CHECK(memcmp(d1, d2, DS_HASH_BYTES) == 0);
    CHECK(memcmp(h.hash, direct.hash, NB * DS_HASH_BYTES) == 0);
    ds_hashes_free(&h);
    ds_hashes_free(&direct);
    ds_hashfile_meta_free(&m);

    /* One flipped byte in a hash record is detected. */
    int fd = open(up.hashfile, O_RDWR);
    struct stat st;
    fstat(fd, &st);
    uint8_t c;
    CHECK(pread(fd, &c, 1, st.st_size - 100) == 1);
    c ^= 1;
    CHECK(pwrite(fd, &c, 1, st.st_size - 100) == 1);
    close(fd);
    CHECK(ds_hashfile_read(up.hashfile, &m, &h) < 0);
    CHECK_ERR_HAS("digest mismatch");
    /* ... and the next update rebuilds it. */
    struct ds_index_update up2;
    CHECK(ds_index_update_image(idx, img, "acme", false, &up2) == 0);
    CHECK_INT_EQ(up2.action, DS_INDEX_REHASHED);
    CHECK(ds_hashfile_read(up.hashfile, &m, &h) == 0);
    ds_hashes_free(&h);
    ds_hashfile_meta_free(&m);
    free(up.hashfile);
    free(up2.hashfile);
    dst_rmdir(dir);
}

TEST(incremental_update)
{
    AUTOFREE char *dir = dst_tmpdir();
    AUTOFREE char *img = xasprintf("%s/a.img", dir);
    AUTOFREE char *idx = xasprintf("%s/idx", dir);
    CHECK(dst_make_image(img, NB, mixed, NULL) == 0);
    struct ds_index_update up;
    CHECK(ds_index_update_image(idx, img, "acme", false, &up) == 0);
    free(up.hashfile);
    CHECK(ds_index_update_image(idx, img, "acme", false, &up) == 0);
    CHECK_INT_EQ(up.action, DS_INDEX_UNCHANGED);
    free(up.hashfile);
    /* Write into a hole: the image changed, the hash file follows. */
    int fd = open(img, O_WRONLY);
    uint8_t b[DS_BLOCK_BYTES];
    dst_fill_block(b, 777777);
    CHECK(pwrite(fd, b, sizeof(b), 600 * DS_BLOCK_BYTES) == DS_BLOCK_BYTES);
    struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    futimens(fd, ts);
    close(fd);
    CHECK(ds_index_update_image(idx, img, "acme", false, &up) == 0);
    CHECK_INT_EQ(up.action, DS_INDEX_REHASHED);
    CHECK_INT_EQ(up.zero_blocks, 1023);
    /* A change of tenant label is an update too. */
    free(up.hashfile);
    CHECK(ds_index_update_image(idx, img, "other", false, &up) == 0);
    CHECK_INT_EQ(up.action, DS_INDEX_REHASHED);
    free(up.hashfile);
    CHECK(ds_index_update_image(idx, img, "bad tenant!", false, &up) < 0);
    CHECK_ERR_HAS("tenant label");
    dst_rmdir(dir);
}

TEST(index_serves_only_own_tenant_and_golden)
{
    AUTOFREE char *dir = dst_tmpdir();
    AUTOFREE char *a = xasprintf("%s/a.img", dir);
    AUTOFREE char *g = xasprintf("%s/g.img", dir);
    AUTOFREE char *idx = xasprintf("%s/idx", dir);
    CHECK(dst_make_image(a, NB, mixed, NULL) == 0);
    CHECK(dst_make_image(g, NB, mixed, NULL) == 0);
    struct ds_index_update up;
    CHECK(ds_index_update_image(idx, a, "acme", false, &up) == 0);
    free(up.hashfile);
    struct ds_index_stats st;
    struct ds_index *ix = ds_index_open(idx, "globex", 3);
    ds_index_get_stats(ix, &st);
    CHECK_INT_EQ(st.images, 0);
    ds_index_free(ix);
    ix = ds_index_open(idx, "acme", 3);
    ds_index_get_stats(ix, &st);
    CHECK_INT_EQ(st.images, 1);
    ds_index_free(ix);
    CHECK(ds_index_update_image(idx, g, "base", true, &up) == 0);
    free(up.hashfile);
    ix = ds_index_open(idx, "globex", 3);
    ds_index_get_stats(ix, &st);
    CHECK_INT_EQ(st.images, 1);
    CHECK_STR_EQ(ds_index_image_path(ix, 0) + strlen(ds_index_image_path(ix, 0)) - 6, "/g.img");
    ds_index_free(ix);
    CHECK(ds_tenant_may_serve("a", false, "a"));
    CHECK(!ds_tenant_may_serve("a", false, "b"));
    CHECK(ds_tenant_may_serve("a", true, "b"));
    dst_rmdir(dir);
}

RUN_TESTS(zero_blocks_never_hashed, hashfile_round_trip_and_corruption, incremental_update,
          index_serves_only_own_tenant_and_golden)
