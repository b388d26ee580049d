/* test_trace: DIRTYTR1 round trip and corrupt-file errors. */
#include "migrate/migrate.h"
#include "test.h"
#include "util/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/aras-test-trace-XXXXXX";

static void build(struct migrate_trace *t)
{
    migrate_trace_alloc(t, 13, 3);
    t->interval_us = 100000;
    for (uint32_t p = 0; p < 13; p++)
        t->keys[p] = (p < 10 ? 0 : MIGRATE_KEY_SHARED) | (0x1000 + p * 3);
    for (uint32_t i = 0; i < 3; i++)
        t->t_end[i] = 0.1 * (i + 1) + 0.001 * i;
    migrate_bit_set(t->resident0, 0);
    migrate_bit_set(t->resident0, 12);
    t->rss_start_pages = 2;
    migrate_bit_set(t->bitmaps, 3);
    migrate_bit_set(t->bitmaps + migrate_trace_row_bytes(13) * 2, 12);
    snprintf(t->workload, sizeof(t->workload), "unit");
    snprintf(t->method, sizeof(t->method), "hand-built");
}

static char *path_of(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof(buf), "%s/%s", dir, name);
    return buf;
}

/* Read the whole file into a malloc'ed buffer. */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = malloc(1 << 20);
    *len = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

static void spit(const char *path, const uint8_t *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
}

TEST(round_trip)
{
    struct migrate_trace t, r;
    build(&t);
    CHECK_INT_EQ(migrate_trace_write(path_of("a.trace"), &t), 0);
    CHECK_INT_EQ(migrate_trace_read(path_of("a.trace"), &r), 0);
    CHECK_INT_EQ(r.n_pages, 13);
    CHECK_INT_EQ(r.n_intervals, 3);
    CHECK_INT_EQ(r.interval_us, 100000);
    CHECK_INT_EQ(r.rss_start_pages, 2);
    CHECK_INT_EQ(r.flags, MIGRATE_TRACE_COMPOSITE_KEYS);
    CHECK_STR_EQ(r.workload, "unit");
    CHECK_STR_EQ(r.method, "hand-built");
    CHECK(memcmp(r.keys, t.keys, 13 * 8) == 0);
    CHECK(memcmp(r.t_end, t.t_end, 3 * 8) == 0);
    CHECK(memcmp(r.resident0, t.resident0, 2) == 0);
    CHECK(memcmp(r.bitmaps, t.bitmaps, 6) == 0);
    CHECK(migrate_bit(migrate_trace_row(&r, 0), 3));
    CHECK(!migrate_bit(migrate_trace_row(&r, 1), 3));
    CHECK(migrate_bit(migrate_trace_row(&r, 2), 12));
    migrate_trace_free(&r);
    migrate_trace_free(&t);
}

/* Write a good file, apply `mutate` to its bytes, expect an error naming `field`. */
static void expect_error(const char *name, void (*mutate)(uint8_t *, size_t *), const char *field)
{
    struct migrate_trace t, r;
    build(&t);
    CHECK_INT_EQ(migrate_trace_write(path_of(name), &t), 0);
    migrate_trace_free(&t);
    size_t len;
    uint8_t *b = slurp(path_of(name), &len);
    mutate(b, &len);
    spit(path_of(name), b, len);
    free(b);
    CHECK_INT_EQ(migrate_trace_read(path_of(name), &r), -1);
    CHECK_ERR_HAS(name);
    CHECK_ERR_HAS(field);
    CHECK(r.keys == NULL);
}

static void bad_magic(uint8_t *b, size_t *len)
{
    (void)len;
    b[0] = 'X';
}
static void bad_version(uint8_t *b, size_t *len)
{
    (void)len;
    b[8] = 2;
}
static void bad_pages(uint8_t *b, size_t *len)
{
    (void)len;
    b[16] = 14; /* payload_len no longer matches */
}
static void huge_pages(uint8_t *b, size_t *len)
{
    (void)len;
    b[19] = 0x7f;
}
static void truncated(uint8_t *b, size_t *len)
{
    (void)b;
    *len -= 5;
}
static void trailing(uint8_t *b, size_t *len)
{
    b[*len] = 0;
    *len += 1;
}
static void short_header(uint8_t *b, size_t *len)
{
    (void)b;
    *len = 50;
}
static void no_payload(uint8_t *b, size_t *len)
{
    (void)b;
    *len = MIGRATE_TRACE_HEADER_LEN;
}
static void bad_interval(uint8_t *b, size_t *len)
{
    (void)len;
    memset(b + 24, 0, 4);
}
static void bad_name(uint8_t *b, size_t *len)
{
    (void)len;
    b[60] = 'x'; /* after the NUL of "unit" */
}

TEST(corrupt_files)
{
    expect_error("magic.trace", bad_magic, "field magic");
    expect_error("version.trace", bad_version, "field version");
    expect_error("pages.trace", bad_pages, "field payload_len");
    expect_error("huge.trace", huge_pages, "field n_pages");
    expect_error("trunc.trace", truncated, "field payload");
    expect_error("trail.trace", trailing, "trailing data");
    expect_error("short.trace", short_header, "truncated header");
    expect_error("nopayload.trace", no_payload, "field payload");
    expect_error("interval.trace", bad_interval, "field interval_us");
    expect_error("name.trace", bad_name, "field workload");
    struct migrate_trace r;
    CHECK_INT_EQ(migrate_trace_read(path_of("missing.trace"), &r), -1);
    CHECK_ERR_HAS("missing.trace");
}

TEST(invariants_checked_on_write)
{
    struct migrate_trace t;
    build(&t);
    t.keys[5] = t.keys[4]; /* not strictly increasing */
    CHECK_INT_EQ(migrate_trace_write(path_of("bad.trace"), &t), -1);
    CHECK_ERR_HAS("field keys[5]");
    t.keys[5] = t.keys[4] + 1;
    t.t_end[2] = t.t_end[1] - 0.01;
    CHECK_INT_EQ(migrate_trace_write(path_of("bad.trace"), &t), -1);
    CHECK_ERR_HAS("field t_end[2]");
    t.t_end[2] = t.t_end[1] + 0.1;
    t.bitmaps[1] |= 0x80; /* bit 15 is past n_pages = 13 */
    CHECK_INT_EQ(migrate_trace_write(path_of("bad.trace"), &t), -1);
    CHECK_ERR_HAS("padding");
    CHECK(access(path_of("bad.trace"), F_OK) != 0);
    migrate_trace_free(&t);
}

static void setup(void)
{
    if (!mkdtemp(dir))
        abort();
}

static void cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", dir);
}

TEST(setup_dir)
{
    setup();
}

TEST(cleanup_dir)
{
    cleanup();
}

RUN_TESTS(setup_dir, round_trip, corrupt_files, invariants_checked_on_write, cleanup_dir)
