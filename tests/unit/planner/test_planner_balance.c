/* test_planner_balance: balancing cycles — hysteresis, relief, limits,
 * consolidation, maintenance evacuation and the kept "why not" reasons. */
#include "fixture.h"
#include "test.h"

#include "planner/planner.h"

#define NOW_MS (10 * 3600 * 1000LL)

/* A host between target and trigger is left alone; above the trigger it is
 * relieved down to the target, not just below the trigger. */
TEST(test_hysteresis)
{
    struct fx f;
    fx_init(&f, 2);
    for (int i = 0; i < 5; i++)
        fx_vm(&f, 0, 17); /* 85 % */
    struct planner_plan p = {0};
    CHECK_INT_EQ(planner_balance(&f.cl, &f.cfg, NOW_MS, &p), 0);
    fx_vm(&f, 0, 10); /* 95 % */
    CHECK_INT_EQ(planner_balance(&f.cl, &f.cfg, NOW_MS, &p), 2);
    CHECK(planner_host_util(&f.cl, 0, -1, -1, NULL) <= f.cfg.target_util + 1e-9);
    CHECK(planner_host_util(&f.cl, 1, -1, -1, NULL) <= f.cfg.trigger_util - f.cfg.margin);
    CHECK_INT_EQ(p.moves[0].src, 0);
    CHECK_INT_EQ(p.moves[0].dst, 1);
    /* the moves were applied: cooldown and the host left are recorded */
    CHECK_INT_EQ(f.vms[p.moves[0].vm].host, 1);
    CHECK_INT_EQ(f.vms[p.moves[0].vm].left_host, 0);
    CHECK(f.vms[p.moves[0].vm].last_move_ms == NOW_MS);
    CHECK_INT_EQ(f.cl.migrations, 2);
    planner_plan_free(&p);
}

/* The VM moved is one that suffices alone and is the cheapest to move. */
TEST(test_relief_choice)
{
    struct fx f;
    fx_init(&f, 2);
    uint32_t big = fx_vm(&f, 0, 55), small = fx_vm(&f, 0, 25), tiny = fx_vm(&f, 0, 15);
    f.vms[big].load.mem_bytes = 4ull << 30;
    f.vms[small].load.mem_bytes = 2ull << 30;
    f.vms[tiny].load.mem_bytes = 1ull << 29;
    struct planner_plan p = {0};
    CHECK_INT_EQ(planner_balance(&f.cl, &f.cfg, NOW_MS, &p), 1);
    CHECK_INT_EQ(p.moves[0].vm, small); /* 95 - 25 = 70 <= 75; tiny is not enough */
    CHECK_INT_EQ(p.moves[0].dst, 1);
    planner_plan_free(&p);
}

TEST(test_moves_per_cycle)
{
    struct fx f;
    fx_init(&f, 4);
    for (uint32_t h = 0; h < 3; h++)
        for (int i = 0; i < 4; i++)
            fx_vm(&f, (int32_t)h, 24); /* three hosts at 96 % */
    f.cfg.max_moves_per_cycle = 2;
    f.cfg.max_migrations_host = 0;
    f.cfg.max_migrations_total = 0;
    struct planner_plan p = {0};
    CHECK_INT_EQ(planner_balance(&f.cl, &f.cfg, NOW_MS, &p), 2);
    /* with the per-host limit of 2, the big host 3 takes two VMs and then
     * nothing: the third host stays overloaded, and says why */
    planner_plan_reset(&p);
    fx_init(&f, 4);
    for (uint32_t h = 0; h < 3; h++)
        for (int i = 0; i < 4; i++)
            fx_vm(&f, (int32_t)h, 24);
    f.hosts[3].cap[PLANNER_RES_CPU] = 1000;
    p.keep_rejects = true;
    CHECK_INT_EQ(planner_balance(&f.cl, &f.cfg, NOW_MS, &p), 2);
    CHECK_INT_EQ(f.hosts[3].migrations, 2);
    bool limit_seen = false;
    for (size_t i = 0; i < p.n_rejects; i++)
        if (p.rejects[i].dst == 3 &&
            strcmp(p.rejects[i].reason, "2 migrations in flight (limit 2)") == 0)
            limit_seen = true;
    CHECK(limit_seen);
    CHECK(planner_host_util(&f.cl, 2, -1, -1, NULL) > f.cfg.trigger_util);
    planner_plan_free(&p);
}

/* Energy mode: the emptier host is freed onto the fuller one; a VM in its
 * cooldown blocks the whole evacuation, which is then undone. */
TEST(test_consolidation)
{
    struct fx f;
    fx_init(&f, 3);
    fx_vm(&f, 0, 40);
    uint32_t a = fx_vm(&f, 1, 10), b = fx_vm(&f, 1, 10);
    f.cfg.consolidate = true;
    struct planner_plan p = {0};
    p.keep_rejects = true;
    f.vms[b].last_move_ms = NOW_MS - 60 * 1000;
    CHECK_INT_EQ(planner_balance(&f.cl, &f.cfg, NOW_MS, &p), 0);
    CHECK_INT_EQ(f.vms[a].host, 1); /* undone */
    CHECK_INT_EQ(f.hosts[1].n_vms, 2);
    CHECK_INT_EQ(f.cl.migrations, 0);
    const struct planner_reject *r[4];
    size_t n = planner_plan_why_not(&p, b, r, 4);
    CHECK(n >= 1);
    CHECK(n >= 1 && strcmp(r[0]->reason, "moved 1 min ago, cooldown 60 min") == 0);
    f.vms[b].last_move_ms = PLANNER_NEVER;
    planner_plan_reset(&p);
    CHECK_INT_EQ(planner_balance(&f.cl, &f.cfg, NOW_MS, &p), 2);
    CHECK_INT_EQ(f.hosts[1].n_vms, 0);
    CHECK_INT_EQ(f.hosts[0].n_vms, 3);
    CHECK_INT_EQ(f.hosts[2].n_vms, 0); /* nothing is switched on to free a host */
    /* without the energy mode nothing moves */
    fx_init(&f, 3);
    fx_vm(&f, 0, 40);
    fx_vm(&f, 1, 10);
    planner_plan_reset(&p);
    CHECK_INT_EQ(planner_balance(&f.cl, &f.cfg, NOW_MS, &p), 0);
    planner_plan_free(&p);
}

/* Maintenance: every movable VM leaves, the pinned one stays with its reason,
 * hard rules still hold, and balancing puts nothing there. */
TEST(test_evacuate)
{
    struct fx f;
    fx_init(&f, 3);
    uint32_t a = fx_vm(&f, 0, 30), b = fx_vm(&f, 0, 30), c = fx_vm(&f, 0, 10);
    fx_vm(&f, 1, 10);
    f.vms[c].pin = 0;
    f.vms[a].last_move_ms = NOW_MS - 1000; /* cooldown does not hold evacuation back */
    fx_rule(&f, PLANNER_RULE_ANTI_AFFINITY, true, a, b, 0);
    f.hosts[0].maintenance = true;
    struct planner_plan p = {0};
    p.keep_rejects = true;
    CHECK_INT_EQ(planner_balance(&f.cl, &f.cfg, NOW_MS, &p), 2);
    CHECK(f.vms[a].host != 0 && f.vms[b].host != 0);
    CHECK(f.vms[a].host != f.vms[b].host);
    CHECK_INT_EQ(f.vms[c].host, 0);
    const struct planner_reject *r[4];
    CHECK_INT_EQ(planner_plan_why_not(&p, c, r, 4), 1);
    CHECK_STR_EQ(r[0]->reason, "pinned to host 0");
    uint32_t n = fx_vm(&f, -1, 5);
    CHECK(planner_place(&f.cl, &f.cfg, n, NULL) != 0);
    planner_plan_free(&p);
}

/* An overloaded host whose VMs fit nowhere gets one summary reason. */
TEST(test_why_not_overloaded)
{
    struct fx f;
    fx_init(&f, 2);
    uint32_t a = fx_vm(&f, 0, 50);
    fx_vm(&f, 0, 50);
    fx_vm(&f, 1, 80);
    struct planner_plan p = {0};
    p.keep_rejects = true;
    CHECK_INT_EQ(planner_balance(&f.cl, &f.cfg, NOW_MS, &p), 0);
    const struct planner_reject *r[8];
    size_t n = planner_plan_why_not(&p, a, r, 8);
    CHECK(n >= 2);
    CHECK(n >= 2 && strstr(r[0]->reason, "cpu would reach 130%") != NULL);
    CHECK(n >= 2 && strcmp(r[n - 1]->reason, "host 0 stays at 100% cpu: no VM can move") == 0);
    planner_plan_free(&p);
}

RUN_TESTS(test_hysteresis, test_relief_choice, test_moves_per_cycle, test_consolidation,
          test_evacuate, test_why_not_overloaded)
