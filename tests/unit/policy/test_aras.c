/* test_aras: the planner's simulator policy on the bundled PlanetLab day,
 * against the baselines run in the same process: no ping-pong, no VM moved
 * twice within its cooldown, and the goals on this day. */
#include "policy/policy.h"
#include "sim/sim.h"
#include "test.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>

static struct sim_traceset ts;

static void load_day(void)
{
    const char *src = getenv("ARAS_SOURCE_DIR");
    AUTOFREE char *dir = xasprintf("%s/data/planetlab/20110303", src ? src : ".");
    if (sim_traceset_load(dir, &ts) < 0) {
        fprintf(stderr, "%s\n", err_msg());
        exit(1);
    }
}

static void run_baseline(const char *name, struct sim_result *r)
{
    struct policy_consolidation pc;
    CHECK_INT_EQ(policy_consolidation_init(&pc, name), 0);
    struct sim_config cfg;
    sim_config_default(&cfg);
    struct sim *s = sim_new(&ts, &cfg);
    CHECK_INT_EQ(sim_place_all(s, &pc.ops), 0);
    CHECK_INT_EQ(sim_run(s, &pc.ops, NULL, NULL), 0);
    sim_result_get(s, r);
    sim_free(s);
    policy_consolidation_fini(&pc);
}

TEST(test_aras_day)
{
    struct policy_aras pa;
    CHECK_INT_EQ(policy_aras_init(&pa, "ARAS"), 0);
    struct sim_config cfg;
    sim_config_default(&cfg);
    struct sim *s = sim_new(&ts, &cfg);
    CHECK_INT_EQ(sim_place_all(s, &pa.ops), 0);
    /* in ms as the policy hands time to the planner (step times are not
     * exact in binary floating point) */
    int64_t *last = calloc(s->n_vms, sizeof(*last));
    for (uint32_t i = 0; i < s->n_vms; i++)
        last[i] = INT64_MIN / 2;
    int rc;
    bool step;
    uint32_t too_soon = 0;
    while ((rc = sim_advance(s, &pa.ops, NULL, &step)) > 0) {
        if (!step)
            continue;
        for (size_t k = 0; k < s->moves.n; k++) {
            uint32_t vm = s->moves.v[k].vm;
            int64_t now_ms = llround(s->now_s * 1e3);
            too_soon += (double)(now_ms - last[vm]) < pa.cfg.cooldown_s * 1e3;
            last[vm] = now_ms;
        }
    }
    CHECK_INT_EQ(rc, 0);
    CHECK_INT_EQ(too_soon, 0);
    free(last);
    struct sim_result r, lr, b;
    sim_result_get(s, &r);
    sim_free(s);
    policy_aras_fini(&pa);
    CHECK_INT_EQ(r.pingpongs, 0);
    CHECK(r.migrations > 0);
    run_baseline("lr-mmt-1.2", &lr);
    CHECK(lr.pingpongs > 0); /* the baseline does ping-pong: the count works */
    CHECK(r.energy_kwh <= 1.05 * lr.energy_kwh);
    CHECK(r.migrations <= 0.2 * (double)lr.migrations);
    static const char *const others[] = {"thr-mmt-0.8", "iqr-mmt-1.5", "mad-mmt-2.5", "lr-mc-1.2"};
    double min_slav = lr.slav_pct;
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        run_baseline(others[i], &b);
        if (b.slav_pct < min_slav)
            min_slav = b.slav_pct;
    }
    CHECK(r.slav_pct <= 0.5 * min_slav);
}

TEST(test_aras_name)
{
    struct policy_aras pa;
    CHECK(policy_aras_init(&pa, "aras-x") < 0);
    CHECK_ERR_HAS("unknown policy 'aras-x'");
}

int main(void)
{
    load_day();
    test_aras_day();
    test_aras_name();
    sim_traceset_free(&ts);
    if (test_failures)
        fprintf(stderr, "%d check(s) failed\n", test_failures);
    return test_failures ? 1 : 0;
}
