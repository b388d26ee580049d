/* Unit tests for src/sim: power interpolation, trace loading and its errors
 * (names with spaces), interpolation, and the metrics of tiny runs that can be
 * checked by hand. */
#include "policy/policy.h"
#include "sim/sim.h"
#include "test.h"
#include "util/util.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

/* A temporary trace directory; files are written with write_trace(). */
static char tmpdir[64];

static void make_dir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/aras-test-sim-XXXXXX");
    if (!mkdtemp(tmpdir))
        abort();
}

static void write_trace(const char *name, const char *text)
{
    AUTOFREE char *path = xasprintf("%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

static void remove_dir(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        AUTOFREE char *path = xasprintf("%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(tmpdir);
}

TEST(power_interpolation)
{
    const struct sim_power_model *g4 = &sim_power_hp_ml110_g4, *g5 = &sim_power_hp_ml110_g5;
    CHECK_NEAR(sim_power_w(g4, 0), 86, 1e-12);
    CHECK_NEAR(sim_power_w(g4, 1), 117, 1e-12);
    CHECK_NEAR(sim_power_w(g4, 0.5), 102, 1e-9);
    CHECK_NEAR(sim_power_w(g4, 0.05), 86 + 3.4 / 2, 1e-9);
    CHECK_NEAR(sim_power_w(g5, 0.95), 133 + 2.0 / 2, 1e-9);
    CHECK_NEAR(sim_power_w(g5, 0.235), 101 + 4 * 0.35, 1e-9);
    CHECK_NEAR(sim_power_w(g5, 1.5), 135, 0); /* clamped */
}

TEST(trace_load_sorted_with_spaces)
{
    make_dir();
    write_trace("b node", "10\n20\n30\n");
    write_trace("a_node", "0\n100\n");
    write_trace(".hidden", "garbage\n");
    struct sim_traceset ts;
    CHECK_INT_EQ(sim_traceset_load(tmpdir, &ts), 0);
    CHECK_INT_EQ(ts.n, 2);
    CHECK_STR_EQ(ts.traces[0].name, "a_node");
    CHECK_STR_EQ(ts.traces[1].name, "b node");
    CHECK_INT_EQ(ts.n_samples, 3);
    /* interpolation: exact samples, midpoints, the padded copy of the last */
    CHECK_NEAR(sim_trace_util(&ts, 1, 0), 0.10, 1e-12);
    CHECK_NEAR(sim_trace_util(&ts, 1, 150), 0.15, 1e-12);
    CHECK_NEAR(sim_trace_util(&ts, 1, 300), 0.20, 1e-12);
    CHECK_NEAR(sim_trace_util(&ts, 1, 750), 0.30, 1e-12);
    CHECK_NEAR(sim_trace_util(&ts, 0, 450), 1.00, 1e-12); /* "a_node" padded with 100 */
    sim_traceset_free(&ts);
    remove_dir();
}

TEST(trace_errors_name_line)
{
    struct sim_traceset ts;
    make_dir();
    write_trace("host with space_slice", "12\n13\nabc\n");
    CHECK(sim_traceset_load(tmpdir, &ts) < 0);
    CHECK_ERR_HAS("host with space_slice:3");
    CHECK_ERR_HAS("abc");
    write_trace("host with space_slice", "12\n101\n");
    CHECK(sim_traceset_load(tmpdir, &ts) < 0);
    CHECK_ERR_HAS("host with space_slice:2");
    write_trace("host with space_slice", "12\n-1\n");
    CHECK(sim_traceset_load(tmpdir, &ts) < 0);
    CHECK_ERR_HAS(":2");
    write_trace("host with space_slice", "12\n\n13\n");
    CHECK(sim_traceset_load(tmpdir, &ts) < 0);
    CHECK_ERR_HAS(":2");
    write_trace("host with space_slice", "");
    CHECK(sim_traceset_load(tmpdir, &ts) < 0);
    CHECK_ERR_HAS("empty trace");
    remove_dir();
    make_dir();
    CHECK(sim_traceset_load(tmpdir, &ts) < 0);
    CHECK_ERR_HAS("no trace files");
    remove_dir();
    CHECK(sim_traceset_load("/nonexistent/aras", &ts) < 0);
    CHECK_ERR_HAS("/nonexistent/aras");
}

/* A day of 288 samples at a constant percentage. */
static void write_constant(const char *name, int pct)
{
    char buf[288 * 4 + 1], *p = buf;
    for (int i = 0; i < 288; i++)
        p += sprintf(p, "%d\n", pct);
    write_trace(name, buf);
}

/* One VM at 50 % of 2500 MIPS on a G5 (the G4 cannot take a 2500 MIPS PE):
 * 286 intervals of 300 s at P(1250 / 5320) (the first interval starts from an
 * off host and counts nothing, as in CloudSim); the unused G4 counts as one
 * shutdown because its first state is "off". */
TEST(metrics_static_day)
{
    make_dir();
    write_constant("vm", 50);
    struct sim_traceset ts;
    CHECK_INT_EQ(sim_traceset_load(tmpdir, &ts), 0);
    struct sim_config cfg;
    sim_config_default(&cfg);
    cfg.n_hosts = 2;
    struct sim *s = sim_new(&ts, &cfg);
    struct policy_consolidation pc;
    CHECK_INT_EQ(policy_consolidation_init(&pc, "dvfs"), 0);
    CHECK_INT_EQ(sim_place_all(s, &pc.ops), 0);
    CHECK_INT_EQ(s->vms[0].host, 1);
    CHECK_INT_EQ(sim_run(s, &pc.ops, NULL, NULL), 0);
    struct sim_result r;
    sim_result_get(s, &r);
    double p = sim_power_w(&sim_power_hp_ml110_g5, 1250.0 / 5320);
    CHECK_NEAR(r.energy_kwh, p * 300 * 286 / 3.6e6, 1e-9);
    CHECK_INT_EQ(r.steps, 287);
    CHECK_NEAR(r.sim_time_s, 86100.1, 1e-6);
    CHECK_INT_EQ(r.migrations, 0);
    CHECK_NEAR(r.slatah_pct, 0, 0);
    CHECK_NEAR(r.pdm_pct, 0, 0);
    CHECK_INT_EQ(r.host_shutdowns, 1);
    /* NPA: both hosts at full power for 86,100.1 s */
    sim_free(s);
    policy_consolidation_fini(&pc);
    CHECK_INT_EQ(policy_consolidation_init(&pc, "npa"), 0);
    s = sim_new(&ts, &cfg);
    CHECK_INT_EQ(sim_place_all(s, &pc.ops), 0);
    CHECK_INT_EQ(sim_run(s, &pc.ops, NULL, NULL), 0);
    sim_result_get(s, &r);
    CHECK_NEAR(r.energy_kwh, (117 + 135) * 86100.1 / 3.6e6, 1e-9);
    sim_free(s);
    policy_consolidation_fini(&pc);
    sim_traceset_free(&ts);
    remove_dir();
}

/* One migration of the 870 MB VM at the first step: it lasts 870 / 62.5 s,
 * the VM gets 90 % meanwhile (PDM) and the destination is in violation while
 * the VM migrates in (SLATAH); the source switches off after. */
TEST(metrics_one_migration)
{
    make_dir();
    write_constant("vm", 50);
    struct sim_traceset ts;
    CHECK_INT_EQ(sim_traceset_load(tmpdir, &ts), 0);
    struct sim_config cfg;
    sim_config_default(&cfg);
    cfg.n_hosts = 2;
    struct sim *s = sim_new(&ts, &cfg);
    struct policy_consolidation pc;
    CHECK_INT_EQ(policy_consolidation_init(&pc, "dvfs"), 0);
    CHECK_INT_EQ(sim_place_all(s, &pc.ops), 0);
    bool step;
    CHECK_INT_EQ(sim_advance(s, &pc.ops, NULL, &step), 1);
    CHECK(step);
    double secs = sim_migration_start(s, 0, 0);
    CHECK_NEAR(secs, 870 / 62.5, 1e-9);
    CHECK(sim_migration_start(s, 0, 0) < 0); /* already migrating */
    CHECK_ERR_HAS("already migrating");
    CHECK_INT_EQ(sim_run(s, &pc.ops, NULL, NULL), 0);
    CHECK_INT_EQ(s->vms[0].host, 0);
    struct sim_result r;
    sim_result_get(s, &r);
    double total = 86100.1 - 300.1;
    CHECK_INT_EQ(r.migrations, 1);
    CHECK_NEAR(r.pdm_pct, 0.1 * secs / total * 100, 1e-9);
    CHECK_NEAR(r.slatah_pct, secs / (total + secs) * 100, 1e-9);
    CHECK_INT_EQ(r.host_shutdowns, 1);
    sim_free(s);
    policy_consolidation_fini(&pc);
    sim_traceset_free(&ts);
    remove_dir();
}

/* CloudSim drops a VM whose demand is exactly zero at an update. */
TEST(zero_demand_vm_dropped)
{
    make_dir();
    char buf[288 * 4 + 1], *p = buf;
    for (int i = 0; i < 288; i++)
        p += sprintf(p, "%d\n", i < 5 ? 40 : 0);
    write_trace("idle", buf);
    struct sim_traceset ts;
    CHECK_INT_EQ(sim_traceset_load(tmpdir, &ts), 0);
    struct sim_config cfg;
    sim_config_default(&cfg);
    cfg.n_hosts = 2;
    struct policy_consolidation pc;
    CHECK_INT_EQ(policy_consolidation_init(&pc, "dvfs"), 0);
    struct sim *s = sim_new(&ts, &cfg);
    CHECK_INT_EQ(sim_place_all(s, &pc.ops), 0);
    CHECK_INT_EQ(sim_run(s, &pc.ops, NULL, NULL), 0);
    struct sim_result r;
    sim_result_get(s, &r);
    CHECK_INT_EQ(r.vms_removed, 1);
    CHECK(s->vms[0].removed);
    sim_free(s);
    cfg.keep_idle_vms = true;
    s = sim_new(&ts, &cfg);
    CHECK_INT_EQ(sim_place_all(s, &pc.ops), 0);
    CHECK_INT_EQ(sim_run(s, &pc.ops, NULL, NULL), 0);
    sim_result_get(s, &r);
    CHECK_INT_EQ(r.vms_removed, 0);
    sim_free(s);
    policy_consolidation_fini(&pc);
    sim_traceset_free(&ts);
    remove_dir();
}

/* A ping-pong is a VM going back within an hour to a host it left, however
 * many hosts it visited in between; a return after the hour is not one. */
TEST(pingpong_counted)
{
    make_dir();
    write_constant("vm", 50);
    struct sim_traceset ts;
    CHECK_INT_EQ(sim_traceset_load(tmpdir, &ts), 0);
    struct sim_config cfg;
    sim_config_default(&cfg);
    cfg.n_hosts = 3;
    struct sim *s = sim_new(&ts, &cfg);
    struct policy_consolidation pc;
    CHECK_INT_EQ(policy_consolidation_init(&pc, "dvfs"), 0);
    CHECK_INT_EQ(sim_place_all(s, &pc.ops), 0);
    CHECK_INT_EQ(s->vms[0].host, 1); /* the 2500 MIPS VM needs a G5 at creation */
    static const struct {
        double t_s;
        uint32_t dst;
        uint64_t pingpongs;
    } hops[] = {
        {300.1, 2, 0},  {600.1, 0, 0}, {900.1, 1, 1}, /* 1 -> 2 -> 0 -> 1 in 10 min */
        {1200.1, 0, 2},                               /* back to 0, left 5 min ago */
        {5100.1, 2, 2},                               /* 2 was left 75 min ago */
    };
    for (size_t i = 0; i < sizeof(hops) / sizeof(hops[0]); i++) {
        CHECK(sim_advance_until(s, &pc.ops, hops[i].t_s, NULL, NULL) > 0);
        CHECK(sim_migration_start(s, 0, hops[i].dst) > 0);
        CHECK_INT_EQ(s->pingpongs, hops[i].pingpongs);
    }
    CHECK_INT_EQ(sim_run(s, &pc.ops, NULL, NULL), 0);
    struct sim_result r;
    sim_result_get(s, &r);
    CHECK_INT_EQ(r.migrations, 5);
    CHECK_INT_EQ(r.pingpongs, 2);
    sim_free(s);
    policy_consolidation_fini(&pc);
    sim_traceset_free(&ts);
    remove_dir();
}

RUN_TESTS(power_interpolation, trace_load_sorted_with_spaces, trace_errors_name_line,
          metrics_static_day, metrics_one_migration, zero_demand_vm_dropped, pingpong_counted)
