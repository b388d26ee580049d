/* test_planner: scoring, classes, rules and the move check with its reasons. */
#include "fixture.h"
#include "test.h"

#include "planner/planner.h"

#define NOW_MS (10 * 3600 * 1000LL)

TEST(test_classify)
{
    double cap[PLANNER_RES_COUNT] = {100, 1000, 200, 100};
    double cpu[PLANNER_RES_COUNT] = {60, 100, 10, 5};
    double mem[PLANNER_RES_COUNT] = {10, 800, 10, 5};
    double io[PLANNER_RES_COUNT] = {10, 100, 20, 70};
    double idle[PLANNER_RES_COUNT] = {5, 50, 2, 1};
    CHECK_INT_EQ(planner_classify(cpu, cap, 0.2), PLANNER_CLASS_CPU);
    CHECK_INT_EQ(planner_classify(mem, cap, 0.2), PLANNER_CLASS_MEM);
    CHECK_INT_EQ(planner_classify(io, cap, 0.2), PLANNER_CLASS_IO);
    CHECK_INT_EQ(planner_classify(idle, cap, 0.2), PLANNER_CLASS_LIGHT);
    CHECK_STR_EQ(planner_class_str(PLANNER_CLASS_IO), "io");
    CHECK_STR_EQ(planner_res_str(PLANNER_RES_NET), "net");
}

/* The same VM counts for less on a host twice as big: per-host normalisation. */
TEST(test_normalised_per_host)
{
    struct fx f;
    fx_init(&f, 2);
    f.hosts[1].cap[PLANNER_RES_CPU] = 200;
    fx_vm(&f, 0, 80);
    uint32_t b = fx_vm(&f, 1, 80);
    (void)b;
    CHECK_NEAR(planner_host_util(&f.cl, 0, -1, -1, NULL), 0.8, 1e-9);
    CHECK_NEAR(planner_host_util(&f.cl, 1, -1, -1, NULL), 0.4, 1e-9);
    /* above the 0.75 target costs, below does not */
    CHECK(planner_host_cost(&f.cl, &f.cfg, 0, -1, -1) > 0);
    CHECK_NEAR(planner_host_cost(&f.cl, &f.cfg, 1, -1, -1), 0, 1e-12);
    /* memory is the worst resource when it is the fuller one */
    f.hosts[1].cap[PLANNER_RES_MEM] = 150;
    enum planner_res res;
    CHECK_NEAR(planner_host_util(&f.cl, 1, -1, -1, &res), 100.0 / 150, 1e-9);
    CHECK_INT_EQ(res, PLANNER_RES_MEM);
}

/* Two CPU-intensive VMs together cost the matrix entry; CPU + memory costs nothing. */
TEST(test_interference)
{
    struct fx f;
    fx_init(&f, 2);
    fx_vm(&f, 0, 10);
    uint32_t m = fx_vm(&f, 1, 10);
    f.vms[m].cls = PLANNER_CLASS_MEM;
    uint32_t n = fx_vm(&f, -1, 10);
    planner_cluster_update(&f.cl);
    double on_cpu = planner_host_cost(&f.cl, &f.cfg, 0, (int32_t)n, -1);
    double on_mem = planner_host_cost(&f.cl, &f.cfg, 1, (int32_t)n, -1);
    CHECK_NEAR(on_cpu, f.cfg.interference[PLANNER_CLASS_CPU][PLANNER_CLASS_CPU], 1e-12);
    CHECK_NEAR(on_mem, 0, 1e-12);
    CHECK_INT_EQ(planner_place(&f.cl, &f.cfg, n, NULL), 1);
    /* a configured matrix that penalises CPU with memory flips the choice */
    f.cfg.interference[PLANNER_CLASS_CPU][PLANNER_CLASS_MEM] = 0.1;
    CHECK_INT_EQ(planner_place(&f.cl, &f.cfg, n, NULL), 0);
}

TEST(test_hard_rules)
{
    struct fx f;
    fx_init(&f, 3);
    uint32_t a = fx_vm(&f, 0, 10), b = fx_vm(&f, 1, 10), c = fx_vm(&f, 2, 10);
    fx_rule(&f, PLANNER_RULE_ANTI_AFFINITY, true, a, b, 0);
    char why[PLANNER_REASON_MAX];
    CHECK(!planner_fits(&f.cl, &f.cfg, a, 1, why, sizeof(why)));
    CHECK(strstr(why, "hard anti-affinity with VM 1") != NULL);
    CHECK(planner_fits(&f.cl, &f.cfg, a, 2, why, sizeof(why)));
    fx_rule(&f, PLANNER_RULE_AFFINITY, true, c, a, 0);
    CHECK(!planner_fits(&f.cl, &f.cfg, c, 1, why, sizeof(why)));
    CHECK(strstr(why, "hard affinity with VM 0 on host 0") != NULL);
    CHECK(planner_fits(&f.cl, &f.cfg, c, 0, why, sizeof(why)));
    fx_rule(&f, PLANNER_RULE_HOST_AFFINITY, true, b, 1, 0);
    CHECK(!planner_fits(&f.cl, &f.cfg, b, 2, why, sizeof(why)));
    CHECK(strstr(why, "must run on host 1") != NULL);
    fx_rule(&f, PLANNER_RULE_HOST_ANTI, true, a, 2, 0);
    CHECK(!planner_fits(&f.cl, &f.cfg, a, 2, why, sizeof(why)));
    CHECK(strstr(why, "host anti-affinity") != NULL);
}

/* A soft anti-affinity costs its weight: placement avoids it while another host fits. */
TEST(test_soft_rules)
{
    struct fx f;
    fx_init(&f, 2);
    uint32_t a = fx_vm(&f, 0, 10);
    fx_vm(&f, 1, 40);
    uint32_t n = fx_vm(&f, -1, 10);
    f.vms[n].cls = PLANNER_CLASS_LIGHT;
    f.vms[a].cls = PLANNER_CLASS_LIGHT;
    planner_cluster_update(&f.cl);
    f.cfg.consolidate = true; /* packing would prefer the fuller host 1 ... */
    CHECK_INT_EQ(planner_place(&f.cl, &f.cfg, n, NULL), 1);
    f.cfg.consolidate = false; /* ... spreading the emptier host 0 */
    CHECK_INT_EQ(planner_place(&f.cl, &f.cfg, n, NULL), 0);
    fx_rule(&f, PLANNER_RULE_ANTI_AFFINITY, false, n, a, 0.5);
    CHECK_NEAR(planner_host_cost(&f.cl, &f.cfg, 0, (int32_t)n, -1), 0.5, 1e-12);
    CHECK_INT_EQ(planner_place(&f.cl, &f.cfg, n, NULL), 1);
    /* soft host affinity pulls it back */
    fx_rule(&f, PLANNER_RULE_HOST_AFFINITY, false, n, 0, 1.0);
    CHECK_INT_EQ(planner_place(&f.cl, &f.cfg, n, NULL), 0);
}

TEST(test_never_move_and_pin)
{
    struct fx f;
    fx_init(&f, 3);
    uint32_t a = fx_vm(&f, 0, 95), b = fx_vm(&f, 0, 5);
    struct planner_verdict v;
    f.vms[a].never_move = true;
    CHECK(!planner_move_check(&f.cl, &f.cfg, a, 1, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK_STR_EQ(v.reason, "never-move is set");
    f.vms[b].pin = 0;
    CHECK(!planner_move_check(&f.cl, &f.cfg, b, 1, NOW_MS, PLANNER_MODE_EVACUATE, &v));
    CHECK_STR_EQ(v.reason, "pinned to host 0");
    /* a VM pinned to host 2 but running on 0 may go to 2 only */
    f.vms[b].pin = 2;
    CHECK(!planner_move_check(&f.cl, &f.cfg, b, 1, NOW_MS, PLANNER_MODE_EVACUATE, &v));
    CHECK_STR_EQ(v.reason, "pinned to host 2");
    CHECK(planner_move_check(&f.cl, &f.cfg, b, 2, NOW_MS, PLANNER_MODE_EVACUATE, &v));
    struct planner_vm *pv = &f.vms[fx_vm(&f, -1, 10)];
    pv->pin = 1;
    CHECK_INT_EQ(planner_place(&f.cl, &f.cfg, (uint32_t)(pv - f.vms), NULL), 1);
}

/* Cooldown, no return to the host left, and what evacuation overrides. */
TEST(test_cooldown_and_pingpong)
{
    struct fx f;
    fx_init(&f, 3);
    fx_vm(&f, 0, 60);
    uint32_t a = fx_vm(&f, 0, 40);
    struct planner_verdict v;
    f.vms[a].last_move_ms = NOW_MS - 20 * 60 * 1000;
    f.vms[a].left_host = 1;
    CHECK(!planner_move_check(&f.cl, &f.cfg, a, 2, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK_STR_EQ(v.reason, "moved 20 min ago, cooldown 60 min");
    f.cfg.cooldown_s = 600;
    CHECK(!planner_move_check(&f.cl, &f.cfg, a, 1, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK_STR_EQ(v.reason, "left it 20 min ago: no return within 60 min");
    CHECK(planner_move_check(&f.cl, &f.cfg, a, 2, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    /* an hour later the way back is open */
    CHECK(planner_move_check(&f.cl, &f.cfg, a, 1, NOW_MS + 3600 * 1000, PLANNER_MODE_RELIEVE, &v));
    /* evacuation ignores both */
    f.cfg.cooldown_s = 3600;
    CHECK(planner_move_check(&f.cl, &f.cfg, a, 1, NOW_MS, PLANNER_MODE_EVACUATE, &v));
}

/* The destination must stay below trigger - margin; the source must improve. */
TEST(test_projected_post_move)
{
    struct fx f;
    fx_init(&f, 2);
    uint32_t a = fx_vm(&f, 0, 60), b = fx_vm(&f, 0, 40);
    fx_vm(&f, 1, 50);
    struct planner_verdict v;
    CHECK(!planner_move_check(&f.cl, &f.cfg, b, 1, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK_STR_EQ(v.reason, "cpu would reach 90% at peak, above 85% (trigger 90% - margin 5%)");
    CHECK(planner_move_check(&f.cl, &f.cfg, b, 1, NOW_MS + 1, PLANNER_MODE_RELIEVE, &v) == false);
    f.vms[b].peak[PLANNER_RES_CPU] = f.vms[b].use[PLANNER_RES_CPU] = 30;
    planner_cluster_update(&f.cl);
    /* host 0 at 90 %: moving 30 to host 1 (-> 80 %) helps */
    CHECK(planner_move_check(&f.cl, &f.cfg, b, 1, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK(v.gain > 0);
    CHECK(strncmp(v.reason, "ok:", 3) == 0);
    /* a source below its target does not improve by losing a VM (with no
     * interference to escape) */
    memset(f.cfg.interference, 0, sizeof(f.cfg.interference));
    f.vms[a].peak[PLANNER_RES_CPU] = 30;
    planner_cluster_update(&f.cl);
    CHECK(!planner_move_check(&f.cl, &f.cfg, b, 1, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK(strstr(v.reason, "source would not improve") != NULL);
}

/* Minimum gain and cost against benefit over the VM's horizon. */
TEST(test_gain_and_cost_benefit)
{
    struct fx f;
    fx_init(&f, 2);
    fx_vm(&f, 0, 70);
    uint32_t b = fx_vm(&f, 0, 7);
    struct planner_verdict v;
    memset(f.cfg.interference, 0, sizeof(f.cfg.interference)); /* utilisation only */
    /* host 0 at 77 %: taking 7 off gains 0.02^2 = 0.0004 < 0.005 */
    CHECK(!planner_move_check(&f.cl, &f.cfg, b, 1, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK(strstr(v.reason, "improvement 0.0004 below the minimum 0.0050") != NULL);
    f.vms[b].peak[PLANNER_RES_CPU] = 25; /* host at 95 %: gain 0.04 */
    planner_cluster_update(&f.cl);
    CHECK(planner_move_check(&f.cl, &f.cfg, b, 1, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK(v.cost_s > 8 && v.cost_s < 9); /* 1 GiB at 125 MB/s */
    /* the same move for a VM about to end does not pay */
    f.vms[b].horizon_s = 300;
    CHECK(!planner_move_check(&f.cl, &f.cfg, b, 1, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK(strstr(v.reason, "benefit 12 s (gain 0.0400 over 5 min) below 2.0 x cost 8.6 s") != NULL);
    /* a migration that cannot complete is refused with the cost model's reason */
    f.vms[b].horizon_s = 86400;
    f.cfg.link_bytes_per_s = 1e5;
    CHECK(!planner_move_check(&f.cl, &f.cfg, b, 1, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK(strstr(v.reason, "migration would not complete") != NULL);
}

TEST(test_migration_limits)
{
    struct fx f;
    fx_init(&f, 3);
    fx_vm(&f, 0, 70);
    uint32_t b = fx_vm(&f, 0, 25);
    struct planner_verdict v;
    f.hosts[1].migrations = 2;
    CHECK(!planner_move_check(&f.cl, &f.cfg, b, 1, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK_STR_EQ(v.reason, "2 migrations in flight (limit 2)");
    f.hosts[0].migrations = 2;
    CHECK(!planner_move_check(&f.cl, &f.cfg, b, 2, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK_STR_EQ(v.reason, "source host 0 has 2 migrations in flight (limit 2)");
    f.hosts[0].migrations = f.hosts[1].migrations = 0;
    f.cl.migrations = 16;
    CHECK(!planner_move_check(&f.cl, &f.cfg, b, 2, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK_STR_EQ(v.reason, "cluster has 16 migrations in flight (limit 16)");
    f.cl.migrations = 0;
    f.hosts[2].core_cap = 20;
    f.vms[b].core_peak = 25;
    CHECK(!planner_move_check(&f.cl, &f.cfg, b, 2, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK_STR_EQ(v.reason, "a vCPU needs 25 at peak, more than one core's 20");
    f.hosts[2].core_cap = 0;
    f.hosts[2].maintenance = true;
    CHECK(!planner_move_check(&f.cl, &f.cfg, b, 2, NOW_MS, PLANNER_MODE_RELIEVE, &v));
    CHECK_STR_EQ(v.reason, "in maintenance");
}

RUN_TESTS(test_classify, test_normalised_per_host, test_interference, test_hard_rules,
          test_soft_rules, test_never_move_and_pin, test_cooldown_and_pingpong,
          test_projected_post_move, test_gain_and_cost_benefit, test_migration_limits)
