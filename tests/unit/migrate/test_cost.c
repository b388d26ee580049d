/* test_cost: the VM-level cost model (pre-copy, auto-converge, post-copy) on cases
 * computed by hand, and the strategy choice built on it. */
#include "migrate/migrate.h"
#include "test.h"
#include "util/error.h"

#include <math.h>

#define MIB    1048576.0
#define MBIT_S 125000.0 /* bytes/s */

static struct migrate_vm_load load(double mem_mib, double data_mib, double hot_mib, double rate)
{
    struct migrate_vm_load vm = {.mem_bytes = (uint64_t)(mem_mib * MIB),
                                 .data_bytes = (uint64_t)(data_mib * MIB),
                                 .hot_bytes = (uint64_t)(hot_mib * MIB)};
    migrate_dirty_forecast_const(rate, &vm.dirty);
    return vm;
}

static struct migrate_limits limits(void)
{
    struct migrate_limits l;
    migrate_limits_default(&l);
    return l;
}

TEST(idle_vm_one_round)
{
    /* 256 MiB guest, 128 MiB of data, 100 Mbit/s: round 1 is the data plus a
     * 9-byte marker per zero page; nothing is written, so it converges at once. */
    struct migrate_vm_load vm = load(256, 128, 0, 0);
    struct migrate_link link = {.bandwidth_bytes_per_s = 100 * MBIT_S};
    struct migrate_limits lim = limits();
    struct migrate_prediction p;
    CHECK_INT_EQ(migrate_predict(&vm, &link, &lim, MIGRATE_STRATEGY_PRECOPY, 0, 0, &p), 0);
    double sent = 128 * MIB + 128 * MIB / 4096 * 9;
    CHECK_NEAR(p.bytes, sent, 1e-6);
    CHECK_INT_EQ(p.rounds, 1);
    CHECK(p.converges && p.completes);
    CHECK_NEAR(p.downtime_s, 0.01, 1e-12);
    CHECK_NEAR(p.total_s, sent / (100 * MBIT_S) + 0.01, 1e-9);
    CHECK_NEAR(p.degraded_s, 0, 0);
}

TEST(geometric_rounds)
{
    /* 1 GiB all data and hot, 10 MiB/s over 100 MiB/s: round 1 takes 10.24 s and
     * leaves W = 1024 (1 - e^-0.1) MiB; round 2 leaves 1024 (1 - e^-(W/1024))
     * MiB, under the 30 MiB budget. */
    struct migrate_vm_load vm = load(1024, 0, 0, 10);
    struct migrate_link link = {.bandwidth_bytes_per_s = 100 * MIB};
    struct migrate_limits lim = limits();
    struct migrate_prediction p;
    CHECK_INT_EQ(migrate_predict(&vm, &link, &lim, MIGRATE_STRATEGY_PRECOPY, 0, 0, &p), 0);
    double w1 = 1024 * -expm1(-0.1), w2 = 1024 * -expm1(-10 * (w1 / 100) / 1024);
    CHECK_INT_EQ(p.rounds, 2);
    CHECK(p.converges && p.completes);
    CHECK_NEAR(p.bytes / MIB, 1024 + w1 + w2, 1e-6);
    CHECK_NEAR(p.downtime_s, w2 / 100 + 0.01, 1e-9);
    CHECK_NEAR(p.total_s, 10.24 + w1 / 100 + w2 / 100 + 0.01, 1e-9);
    /* A tighter budget needs a third round. */
    lim.max_downtime_s = 0.05;
    CHECK_INT_EQ(migrate_predict(&vm, &link, &lim, MIGRATE_STRATEGY_PRECOPY, 0, 0, &p), 0);
    CHECK_INT_EQ(p.rounds, 3);
    CHECK(p.downtime_s <= 0.05 + 0.01);
}

/* A writer far faster than the link over a 64 MiB hot set: every round sends
 * the whole hot set again, so pre-copy never gets under the budget. */
TEST(hot_set_writer_never_converges)
{
    struct migrate_vm_load vm = load(256, 128, 64, 1000);
    struct migrate_link link = {.bandwidth_bytes_per_s = 100 * MBIT_S};
    struct migrate_limits lim = limits();
    lim.max_rounds = 10;
    struct migrate_prediction p;
    CHECK_INT_EQ(migrate_predict(&vm, &link, &lim, MIGRATE_STRATEGY_PRECOPY, 0, 0, &p), 0);
    double sent1 = 128 * MIB + 128 * MIB / 4096 * 9, d = 64 * MIB / link.bandwidth_bytes_per_s;
    CHECK(!p.converges && !p.completes);
    CHECK_INT_EQ(p.rounds, 10);
    CHECK_NEAR(p.bytes, sent1 + 10 * 64 * MIB, 1);
    CHECK_NEAR(p.downtime_s, d + 0.01, 1e-6); /* what a forced stop would cost */

    /* Post-copy after round 1 pulls the hot set once. */
    CHECK_INT_EQ(migrate_predict(&vm, &link, &lim, MIGRATE_STRATEGY_POSTCOPY, 1, 0, &p), 0);
    CHECK(p.completes && !p.converges);
    CHECK_INT_EQ(p.rounds, 1);
    CHECK_INT_EQ(p.postcopy_after_rounds, 1);
    CHECK_NEAR(p.downtime_s, 0.01, 1e-12);
    CHECK_NEAR(p.postcopy_s, d, 1e-6);
    CHECK_NEAR(p.bytes, sent1 + 64 * MIB, 1);
    CHECK_NEAR(p.total_s, sent1 / link.bandwidth_bytes_per_s + 0.01 + d, 1e-6);
    CHECK_NEAR(p.degraded_s, d, 1e-6);

    /* Auto-converge: round 1 (128 MiB sent, 64 MiB dirtied) does not lag by
     * QEMU's rule (dirtied > 50 % of sent); every later round does, and every
     * second lagging round deepens the throttle: 20, 30, 40, 50 % after rounds
     * 3, 5, 7, 9. Even 50 % of 1000 MiB/s refills 64 MiB: no convergence. */
    CHECK_INT_EQ(migrate_predict(&vm, &link, &lim, MIGRATE_STRATEGY_AUTO_CONVERGE, 0, 0, &p), 0);
    CHECK(!p.completes);
    CHECK_NEAR(p.max_throttle_pct, 50, 1e-12);
    CHECK_NEAR(p.degraded_s, d * (2 * 0.2 + 2 * 0.3 + 2 * 0.4 + 0.5), 1e-6);
}

TEST(auto_converge_catches_a_moderate_writer)
{
    /* 15 MiB/s over 12.5 MB/s, 1 GiB hot: plain pre-copy does not converge
     * within 30 rounds; the throttle brings it under the link and it does. */
    struct migrate_vm_load vm = load(1024, 0, 0, 15);
    struct migrate_link link = {.bandwidth_bytes_per_s = 100 * MBIT_S};
    struct migrate_limits lim = limits();
    lim.max_total_s = 3600;
    struct migrate_prediction plain, ac;
    CHECK_INT_EQ(migrate_predict(&vm, &link, &lim, MIGRATE_STRATEGY_PRECOPY, 0, 0, &plain), 0);
    CHECK_INT_EQ(migrate_predict(&vm, &link, &lim, MIGRATE_STRATEGY_AUTO_CONVERGE, 0, 0, &ac), 0);
    CHECK(!plain.converges);
    CHECK(ac.converges && ac.completes);
    CHECK(ac.max_throttle_pct >= 20 && ac.max_throttle_pct <= 99);
    CHECK(ac.degraded_s > 0);
    CHECK(ac.downtime_s <= 0.3 + 0.01 + 1e-9);
}

TEST(predict_rejects_bad_inputs)
{
    struct migrate_vm_load vm = load(256, 0, 0, 1);
    struct migrate_link link = {.bandwidth_bytes_per_s = 100 * MBIT_S};
    struct migrate_limits lim = limits();
    struct migrate_prediction p;
    struct migrate_vm_load none = load(0, 0, 0, 1);
    CHECK_INT_EQ(migrate_predict(&none, &link, &lim, MIGRATE_STRATEGY_PRECOPY, 0, 0, &p), -1);
    CHECK_ERR_HAS("no memory size");
    struct migrate_link dead = {.bandwidth_bytes_per_s = 0};
    CHECK_INT_EQ(migrate_predict(&vm, &dead, &lim, MIGRATE_STRATEGY_PRECOPY, 0, 0, &p), -1);
    CHECK_ERR_HAS("bandwidth");
    CHECK_INT_EQ(migrate_predict(&vm, &link, &lim, MIGRATE_STRATEGY_POSTCOPY, 0, 0, &p), -1);
    CHECK_ERR_HAS("at least one pre-copy round");
    CHECK_INT_EQ(migrate_predict(&vm, &link, &lim, MIGRATE_STRATEGY_COUNT, 0, 0, &p), -1);
    lim.max_rounds = 0;
    CHECK_INT_EQ(migrate_predict(&vm, &link, &lim, MIGRATE_STRATEGY_PRECOPY, 0, 0, &p), -1);
    CHECK_ERR_HAS("limits out of range");
}

TEST(plan_idle_is_precopy)
{
    struct migrate_vm_load vm = load(256, 128, 0, 0.5);
    struct migrate_link link = {.bandwidth_bytes_per_s = 100 * MBIT_S};
    struct migrate_limits lim = limits();
    struct migrate_plan plan;
    CHECK_INT_EQ(migrate_plan_choose(&vm, &link, &lim, &plan), 0);
    CHECK(plan.feasible);
    CHECK_INT_EQ(plan.chosen.strategy, MIGRATE_STRATEGY_PRECOPY);
    CHECK_NEAR(plan.start_in_s, 0, 0);
    CHECK(strstr(plan.reason, "pre-copy converges") != NULL);
    CHECK_NEAR(migrate_plan_cost_s(&plan), plan.chosen.total_s, 1e-12);
    CHECK_NEAR(plan.timeout_s, 2 * plan.chosen.total_s + 30, 1e-9);
    struct migrate_params p = {.bandwidth_bytes_per_s = 5e6};
    migrate_plan_params(&plan, &lim, &p);
    CHECK_INT_EQ(p.max_downtime_ms, 300);
    CHECK(!p.postcopy && !p.auto_converge);
    CHECK_INT_EQ(p.postcopy_after_rounds, 0);
    CHECK_INT_EQ(p.timeout_ms, (int64_t)ceil(plan.timeout_s * 1000));
    CHECK_NEAR(p.bandwidth_bytes_per_s, 5e6, 0); /* left alone */
}

TEST(plan_non_converging_falls_back)
{
    /* The testbed's hot guest: 20 MiB/s over 64 MiB, 100 Mbit/s. */
    struct migrate_vm_load vm = load(256, 128, 64, 20);
    struct migrate_link link = {.bandwidth_bytes_per_s = 100 * MBIT_S};
    struct migrate_limits lim = limits();
    struct migrate_plan plan;
    CHECK_INT_EQ(migrate_plan_choose(&vm, &link, &lim, &plan), 0);
    CHECK(!plan.precopy.completes);
    CHECK(plan.feasible);
    CHECK_INT_EQ(plan.chosen.strategy, MIGRATE_STRATEGY_POSTCOPY);
    CHECK_INT_EQ(plan.chosen.postcopy_after_rounds, 1); /* more rounds do not shrink it */
    CHECK(strstr(plan.reason, "does not converge") != NULL);
    /* The abort bound covers the pre-copy part only (post-copy cannot abort). */
    double pre = plan.chosen.total_s - plan.chosen.postcopy_s - plan.chosen.downtime_s;
    CHECK_NEAR(plan.timeout_s, 2 * pre + 30, 1e-9);
    struct migrate_params p = {0};
    migrate_plan_params(&plan, &lim, &p);
    CHECK(p.postcopy && !p.auto_converge);
    CHECK_INT_EQ(p.postcopy_after_rounds, 1);
    char buf[160];
    migrate_prediction_str(&plan.chosen, buf, sizeof(buf));
    CHECK(strncmp(buf, "post-copy after 1 round: ", 25) == 0);

    /* Without post-copy: auto-converge, throttling the guest hard. */
    lim.allow_postcopy = false;
    CHECK_INT_EQ(migrate_plan_choose(&vm, &link, &lim, &plan), 0);
    CHECK(plan.feasible);
    CHECK_INT_EQ(plan.chosen.strategy, MIGRATE_STRATEGY_AUTO_CONVERGE);
    CHECK(plan.chosen.max_throttle_pct >= 50);
    /* Neither: nothing completes. */
    lim.allow_auto_converge = false;
    CHECK_INT_EQ(migrate_plan_choose(&vm, &link, &lim, &plan), 0);
    CHECK(!plan.feasible);
    CHECK(isinf(migrate_plan_cost_s(&plan)));
    CHECK(strstr(plan.reason, "post-copy not allowed") != NULL);

    /* A moderate writer: auto-converge is the fallback when post-copy is off. */
    lim.allow_auto_converge = true;
    vm = load(1024, 0, 0, 15);
    lim.max_total_s = 3600;
    CHECK_INT_EQ(migrate_plan_choose(&vm, &link, &lim, &plan), 0);
    CHECK(plan.feasible);
    CHECK_INT_EQ(plan.chosen.strategy, MIGRATE_STRATEGY_AUTO_CONVERGE);
    migrate_plan_params(&plan, &lim, &p);
    CHECK(p.auto_converge && !p.postcopy);
}

/* A two-state VM that is busy now (too fast for the link) but calm most of
 * the time: wait for the calm period rather than fall back. */
TEST(plan_waits_for_calm)
{
    struct migrate_dirty_model m;
    migrate_dirty_model_init(&m);
    int64_t t = 0;
    for (int i = 0; i < 60; i++) {
        t += 10000;
        double r = (i % 30) >= 24 ? 40 : 1; /* busy for the last 6 of every 30 */
        CHECK_INT_EQ(migrate_dirty_model_observe(&m, t, 1, r), 0);
    }
    struct migrate_vm_load vm = load(256, 128, 0, 0);
    migrate_dirty_model_forecast(&m, t, MIGRATE_DIRTY_GE, &vm.dirty);
    CHECK(vm.dirty.two_state && vm.dirty.p_busy_now > 0.5);
    struct migrate_link link = {.bandwidth_bytes_per_s = 100 * MBIT_S};
    struct migrate_limits lim = limits();
    struct migrate_plan plan;
    CHECK_INT_EQ(migrate_plan_choose(&vm, &link, &lim, &plan), 0);
    CHECK(!plan.precopy.completes);
    CHECK(plan.feasible);
    CHECK(plan.start_in_s > 0 && plan.start_in_s <= lim.max_wait_s);
    CHECK_NEAR(plan.start_in_s, migrate_dirty_forecast_calm_in_s(&vm.dirty), 1e-12);
    CHECK_INT_EQ(plan.chosen.strategy, MIGRATE_STRATEGY_PRECOPY);
    CHECK(plan.chosen.completes);
    CHECK(strstr(plan.reason, "wait") != NULL);
    CHECK_NEAR(migrate_plan_cost_s(&plan), plan.start_in_s + plan.chosen.total_s, 1e-9);
    /* Not allowed to wait: post-copy now. */
    lim.max_wait_s = 0;
    CHECK_INT_EQ(migrate_plan_choose(&vm, &link, &lim, &plan), 0);
    CHECK_NEAR(plan.start_in_s, 0, 0);
    CHECK_INT_EQ(plan.chosen.strategy, MIGRATE_STRATEGY_POSTCOPY);
}

TEST(load_from_vm)
{
    struct vm v = {.mem_kib = 262144};
    v.counters.mem_unused_kib = 131072;
    v.counters.dirty_rate_mib_s = 7;
    struct migrate_vm_load l;
    migrate_vm_load_from_vm(&l, &v, NULL, 0);
    CHECK_INT_EQ(l.mem_bytes, 256 * MIB);
    CHECK_INT_EQ(l.data_bytes, 128 * MIB);
    CHECK_NEAR(l.dirty.mean_mib_s, 7, 0);
    v.counters.mem_unused_kib = 0; /* unknown: all of it */
    v.counters.dirty_rate_mib_s = -1;
    struct migrate_dirty_model m;
    migrate_dirty_model_init(&m);
    CHECK_INT_EQ(migrate_dirty_model_observe(&m, 1000, 1, 3), 0);
    migrate_vm_load_from_vm(&l, &v, &m, 2000);
    CHECK_INT_EQ(l.data_bytes, 0);
    CHECK_NEAR(l.dirty.mean_mib_s, 3, 0);
    CHECK_INT_EQ(l.dirty.n_samples, 1);
}

RUN_TESTS(idle_vm_one_round, geometric_rounds, hot_set_writer_never_converges,
          auto_converge_catches_a_moderate_writer, predict_rejects_bad_inputs, plan_idle_is_precopy,
          plan_non_converging_falls_back, plan_waits_for_calm, load_from_vm)
