/* Unit tests for util/parse: every parser accepts its documented forms and
 * rejects garbage with a message naming the input. */
#include "test.h"
#include "util/util.h"

TEST(durations)
{
    int64_t ms;
    CHECK(parse_duration_ms("2m", &ms) == 0 && ms == 120000);
    CHECK(parse_duration_ms("250ms", &ms) == 0 && ms == 250);
    CHECK(parse_duration_ms("30", &ms) == 0 && ms == 30000);
    CHECK(parse_duration_ms("1.5h", &ms) == 0 && ms == 5400000);
    CHECK(parse_duration_ms("1d", &ms) == 0 && ms == 86400000);
    CHECK(parse_duration_ms("2 m", &ms) < 0);
    CHECK_ERR_HAS("2 m");
    CHECK(parse_duration_ms("-1s", &ms) < 0);
    CHECK(parse_duration_ms("", &ms) < 0);
    CHECK(parse_duration_ms("5 fortnights", &ms) < 0);
}

TEST(sizes_and_rates)
{
    uint64_t b;
    CHECK(parse_size_bytes("4k", &b) == 0 && b == 4096);
    CHECK(parse_size_bytes("2GiB", &b) == 0 && b == 2147483648ULL);
    CHECK(parse_size_bytes("512", &b) == 0 && b == 512);
    CHECK(parse_size_bytes("12X", &b) < 0);
    CHECK_ERR_HAS("unknown size unit 'X'");
    double r;
    CHECK(parse_rate_bytes_per_s("100Mbit", &r) == 0);
    CHECK_NEAR(r, 12.5e6, 1e-6);
    CHECK(parse_rate_bytes_per_s("2.5Gbit", &r) == 0);
    CHECK_NEAR(r, 312.5e6, 1e-3);
    CHECK(parse_rate_bytes_per_s("100", &r) < 0);
    CHECK_ERR_HAS("needs a unit");
    CHECK(parse_rate_bytes_per_s("0Mbit", &r) < 0);
}

TEST(integers_and_bools)
{
    int64_t v;
    CHECK(parse_int64("42", 0, 100, &v) == 0 && v == 42);
    CHECK(parse_int64("101", 0, 100, &v) < 0);
    CHECK_ERR_HAS("out of range");
    CHECK(parse_int64("4x", 0, 100, &v) < 0);
    CHECK(parse_int64(" 4", 0, 100, &v) < 0);
    uint64_t u;
    CHECK(parse_uint64("-1", 10, &u) < 0);
    bool flag;
    CHECK(parse_bool("Yes", &flag) == 0 && flag);
    CHECK(parse_bool("off", &flag) == 0 && !flag);
    CHECK(parse_bool("maybe", &flag) < 0);
    double pct;
    CHECK(parse_percent("80%", false, &pct) == 0 && pct == 80);
    CHECK(parse_percent("180", false, &pct) < 0);
    CHECK(parse_percent("180", true, &pct) == 0);
}

TEST(virtual_clock)
{
    struct clock c;
    clock_init_virtual(&c, 1000);
    CHECK(clock_is_virtual(&c));
    CHECK_INT_EQ(clock_now_ms(&c), 1000);
    clock_advance_ms(&c, 300000);
    CHECK_INT_EQ(clock_now_ms(&c), 301000);
    CHECK_INT_EQ(clock_mono_ms(&c), 301000);
    clock_set_ms(&c, 5);
    CHECK_INT_EQ(clock_now_ms(&c), 5);
    struct clock r;
    clock_init_real(&r);
    CHECK(!clock_is_virtual(&r));
    CHECK(clock_now_ms(&r) > 1700000000000LL);
}

TEST(error_messages)
{
    CHECK(err_set("first %d", 1) == -1);
    CHECK_STR_EQ(err_msg(), "first 1");
    err_prefix("conf.ini:3");
    CHECK_STR_EQ(err_msg(), "conf.ini:3: first 1");
    err_clear();
    CHECK_STR_EQ(err_msg(), "unknown error");
    char *s = xasprintf("%s-%d", "vm", 7);
    CHECK_STR_EQ(s, "vm-7");
    free(s);
}

RUN_TESTS(durations, sizes_and_rates, integers_and_bools, virtual_clock, error_messages)
