/* Unit tests for util/strmap: insert, replace, delete with tombstones, growth,
 * iteration. */
#include "test.h"
#include "util/util.h"

#include <stdint.h>

TEST(put_get_replace_delete)
{
    struct strmap m;
    strmap_init(&m);
    int a = 1, b = 2;
    CHECK(strmap_put(&m, "a", &a) == NULL);
    CHECK(strmap_get(&m, "a") == &a);
    CHECK(strmap_put(&m, "a", &b) == &a);
    CHECK(strmap_get(&m, "a") == &b);
    CHECK(strmap_get(&m, "b") == NULL);
    CHECK(strmap_del(&m, "a") == &b);
    CHECK(strmap_get(&m, "a") == NULL);
    CHECK(strmap_del(&m, "a") == NULL);
    CHECK_INT_EQ(strmap_len(&m), 0);
    strmap_free(&m);
}

TEST(many_keys_with_churn)
{
    struct strmap m;
    strmap_init(&m);
    char key[32];
    for (intptr_t i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "vm-%ld", (long)i);
        strmap_put(&m, key, (void *)(i + 1));
    }
    /* Delete the odd ones, re-add a few: tombstones must not lose keys. */
    for (intptr_t i = 1; i < 20000; i += 2) {
        snprintf(key, sizeof(key), "vm-%ld", (long)i);
        CHECK(strmap_del(&m, key) == (void *)(i + 1));
    }
    for (intptr_t i = 1; i < 200; i += 2) {
        snprintf(key, sizeof(key), "vm-%ld", (long)i);
        strmap_put(&m, key, (void *)(i + 1));
    }
    CHECK_INT_EQ(strmap_len(&m), 10000 + 100);
    int bad = 0;
    for (intptr_t i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "vm-%ld", (long)i);
        void *want = (i % 2 == 0 || i < 200) ? (void *)(i + 1) : NULL;
        bad += strmap_get(&m, key) != want;
    }
    CHECK_INT_EQ(bad, 0);
    size_t pos = 0, seen = 0;
    const char *k;
    void *v;
    while (strmap_next(&m, &pos, &k, &v))
        seen++;
    CHECK_INT_EQ(seen, strmap_len(&m));
    strmap_free(&m);
}

RUN_TESTS(put_get_replace_delete, many_keys_with_churn)
