/* test_precopy: the pre-copy simulator on tiny traces with hand-computed results. */
#include "migrate/migrate.h"
#include "test.h"
#include "util/error.h"

#define PG 4096.0

/* 8 pages, all resident; 4 intervals of 1 s; page 0 written in every interval. */
static void hot_page_trace(struct migrate_trace *t)
{
    migrate_trace_alloc(t, 8, 4);
    t->interval_us = 1000000;
    for (uint32_t p = 0; p < 8; p++) {
        t->keys[p] = p;
        migrate_bit_set(t->resident0, p);
    }
    t->rss_start_pages = 8;
    for (uint32_t i = 0; i < 4; i++) {
        t->t_end[i] = i + 1;
        migrate_bit_set(t->bitmaps + i, 0);
    }
}

/* One page per second; budget `downtime_s` seconds of it. */
static struct migrate_sim_config cfg_of(double downtime_s)
{
    struct migrate_sim_config c = {.bandwidth_bytes_per_s = PG,
                                   .max_downtime_s = downtime_s,
                                   .max_rounds = 30,
                                   .history_s = 0,
                                   .postcopy_switch_s = 0.005};
    return c;
}

static struct migrate_sim_result run(const struct migrate_trace *t, double downtime_s,
                                     const char *policy)
{
    struct migrate_policy_spec spec;
    struct migrate_sim_result r;
    struct migrate_sim_config c = cfg_of(downtime_s);
    CHECK_INT_EQ(migrate_policy_parse(policy, &spec), 0);
    CHECK_INT_EQ(migrate_sim_run(t, &c, &spec, 0, &r), 0);
    return r;
}

TEST(converges_after_round_one)
{
    struct migrate_trace t;
    hot_page_trace(&t);
    /* Round 1: 8 pages in 8 s; page 0 is written meanwhile; 1 page fits 1 s. */
    struct migrate_sim_result r = run(&t, 1.0, "plain");
    CHECK(r.converged);
    CHECK_INT_EQ(r.rounds, 1);
    CHECK_NEAR(r.bytes, 9 * PG, 1e-6);
    CHECK_NEAR(r.downtime_s, 1.0, 1e-9);
    CHECK_NEAR(r.total_s, 9.0, 1e-9);
    migrate_trace_free(&t);
}

TEST(plain_hits_round_limit)
{
    struct migrate_trace t;
    hot_page_trace(&t);
    /* Budget 0.5 page: page 0 is rewritten during every 1 s round; 30 rounds
     * (8 + 29 pages), then stop-and-copy of page 0. */
    struct migrate_sim_result r = run(&t, 0.5, "plain");
    CHECK(!r.converged);
    CHECK_INT_EQ(r.rounds, 30);
    CHECK_NEAR(r.bytes, 38 * PG, 1e-6);
    CHECK_NEAR(r.downtime_s, 1.0, 1e-9);
    CHECK_NEAR(r.total_s, 38.0, 1e-9);
    CHECK_INT_EQ(r.deferred, 0);
    migrate_trace_free(&t);
}

TEST(xen_stops_at_three_times_memory)
{
    struct migrate_trace t;
    hot_page_trace(&t);
    /* 3 x 8 pages sent after round 17 (8 + 16); stop-and-copy adds page 0. */
    struct migrate_sim_result r = run(&t, 0.5, "xen");
    CHECK(!r.converged);
    CHECK_INT_EQ(r.rounds, 17);
    CHECK_NEAR(r.bytes, 25 * PG, 1e-6);
    CHECK_NEAR(r.total_s, 25.0, 1e-9);
    migrate_trace_free(&t);
}

TEST(lastk_defers_the_hot_page)
{
    struct migrate_trace t;
    hot_page_trace(&t);
    /* lastk:1: page 0 was dirty in round 1, so round 2 defers it; with nothing
     * else to send, the round sends it anyway (no progress otherwise). */
    struct migrate_sim_result r = run(&t, 0.5, "lastk:1");
    CHECK_INT_EQ(r.rounds, 30);
    CHECK_INT_EQ(r.deferred, 0);
    migrate_trace_free(&t);
}

TEST(zero_pages_cost_a_marker)
{
    struct migrate_trace t;
    hot_page_trace(&t);
    t.resident0[0] = 0x7f; /* page 7 holds no data and is never written */
    t.rss_start_pages = 7;
    struct migrate_sim_result r = run(&t, 100.0, "plain");
    CHECK(r.converged);
    CHECK_INT_EQ(r.rounds, 1);
    /* 7 data pages + a 9-byte zero marker, then page 0 (rewritten) at the stop. */
    CHECK_NEAR(r.bytes, 7 * PG + 9 + PG, 1e-6);
    CHECK_NEAR(r.populated_bytes, 7 * PG, 1e-6);
    migrate_trace_free(&t);
}

TEST(aras_switches_to_postcopy)
{
    /* 64 pages all rewritten every interval: pre-copy can never fit 0.5 page. */
    struct migrate_trace t;
    migrate_trace_alloc(&t, 64, 40);
    t.interval_us = 1000000;
    for (uint32_t p = 0; p < 64; p++) {
        t.keys[p] = p;
        migrate_bit_set(t.resident0, p);
    }
    t.rss_start_pages = 64;
    for (uint32_t i = 0; i < 40; i++) {
        t.t_end[i] = i + 1;
        memset(t.bitmaps + i * 8, 0xff, 8);
    }
    struct migrate_sim_result plain = run(&t, 0.5, "plain");
    struct migrate_sim_result aras = run(&t, 0.5, "aras");
    CHECK(!plain.converged);
    CHECK(aras.postcopy);
    /* No shrinking at all: divergence is declared at the earliest round it may
     * be (8); 8 rounds of 64 pages, then the 64 dirty pages pulled once. */
    CHECK_INT_EQ(aras.rounds, 8);
    CHECK_NEAR(aras.bytes, 576 * PG, 1e-6);
    CHECK_NEAR(plain.bytes, 31 * 64 * PG, 1e-6);
    CHECK_NEAR(aras.downtime_s, 0.005, 1e-9);
    migrate_trace_free(&t);
}

TEST(bad_config)
{
    struct migrate_trace t;
    hot_page_trace(&t);
    struct migrate_policy_spec spec = {.kind = MIGRATE_POLICY_PLAIN};
    struct migrate_sim_config c = cfg_of(1);
    struct migrate_sim_result r;
    c.bandwidth_bytes_per_s = 0;
    CHECK_INT_EQ(migrate_sim_run(&t, &c, &spec, 0, &r), -1);
    c = cfg_of(1);
    CHECK_INT_EQ(migrate_sim_run(&t, &c, &spec, 4, &r), -1);
    CHECK_ERR_HAS("start interval 4");
    migrate_trace_free(&t);
}

TEST(policy_names)
{
    struct migrate_policy_spec s;
    char buf[64];
    CHECK_INT_EQ(migrate_policy_parse("ge:0.1,0.9,0.7", &s), 0);
    CHECK_NEAR(s.eps1, 0.1, 1e-12);
    CHECK_NEAR(s.eps2, 0.9, 1e-12);
    CHECK_NEAR(s.threshold, 0.7, 1e-12);
    migrate_policy_name(&s, buf, sizeof(buf));
    CHECK_STR_EQ(buf, "ge:0.1,0.9,0.7");
    CHECK_INT_EQ(migrate_policy_parse("ge:fit,0.6", &s), 0);
    CHECK(s.ge_fit);
    CHECK_INT_EQ(migrate_policy_parse("markov:0.7", &s), 0);
    migrate_policy_name(&s, buf, sizeof(buf));
    CHECK_STR_EQ(buf, "markov:0.7");
    CHECK_INT_EQ(migrate_policy_parse("lastk:3", &s), 0);
    CHECK_INT_EQ(s.k, 3);
    CHECK_INT_EQ(migrate_policy_parse("aras", &s), 0);
    CHECK_INT_EQ(migrate_policy_parse("markov", &s), -1);
    CHECK_INT_EQ(migrate_policy_parse("markov:1.5", &s), -1);
    CHECK_INT_EQ(migrate_policy_parse("ge:0.9,0.1,0.5", &s), -1);
    CHECK_INT_EQ(migrate_policy_parse("plain:1", &s), -1);
    CHECK_INT_EQ(migrate_policy_parse("lru", &s), -1);
    CHECK_ERR_HAS("unknown policy 'lru'");
}

TEST(offsets_spread)
{
    struct migrate_trace t;
    migrate_trace_alloc(&t, 1, 100);
    for (uint32_t i = 0; i < 100; i++)
        t.t_end[i] = 0.1 * (i + 1);
    uint32_t s[8];
    /* 3 s of history = 30 intervals; 5 starts over the remaining 70. */
    CHECK_INT_EQ(migrate_sim_offsets(&t, 3.0, 5, s), 5);
    CHECK_INT_EQ(s[0], 30);
    CHECK_INT_EQ(s[1], 44);
    CHECK_INT_EQ(s[4], 86);
    migrate_trace_free(&t);
}

RUN_TESTS(converges_after_round_one, plain_hits_round_limit, xen_stops_at_three_times_memory,
          lastk_defers_the_hot_page, zero_pages_cost_a_marker, aras_switches_to_postcopy,
          bad_config, policy_names, offsets_spread)
