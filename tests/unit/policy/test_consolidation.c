/* Unit tests for the consolidation baselines: statistics as CloudSim computes
 * them, each overload detector on hand-computed inputs, MMT and MC selection,
 * PABFD on a tiny cluster, and one planning round. */
#include "policy/policy.h"
#include "test.h"
#include "util/util.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir[64];
static struct sim_traceset ts;

/* A traceset of one constant file (the tests set VM demand by hand). */
static void traces_open(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/aras-test-pol-XXXXXX");
    if (!mkdtemp(tmpdir))
        abort();
    AUTOFREE char *path = xasprintf("%s/t", tmpdir);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs("10\n10\n", f);
    fclose(f);
    if (sim_traceset_load(tmpdir, &ts) < 0)
        abort();
    unlink(path);
    rmdir(tmpdir);
}

/* n_hosts alternating G4 (even) / G5 (odd), n_vms not placed, demand set by hand. */
static struct sim *tiny(uint32_t n_hosts, uint32_t n_vms)
{
    struct sim_config cfg;
    sim_config_default(&cfg);
    cfg.n_hosts = n_hosts;
    cfg.n_vms = n_vms;
    struct sim *s = sim_new(&ts, &cfg);
    s->placed = true;
    for (uint32_t i = 0; i < n_vms; i++)
        s->vms[i].instantiating = false;
    return s;
}

static void vm_set(struct sim *s, uint32_t vm, double mips, double util, uint32_t ram_mb)
{
    s->vms[vm].mips = mips;
    s->vms[vm].util = util;
    s->vms[vm].ram_mb = ram_mb;
}

static void vm_hist(struct sim *s, uint32_t vm, const double *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s->vms[vm].hist[i] = h[i];
    s->vms[vm].n_hist = (uint8_t)n;
    s->hist_epoch++;
}

TEST(stats_like_commons_math)
{
    double a[] = {1, 3, 2}, b[] = {4, 1, 3, 2};
    CHECK_NEAR(policy_stat_median(a, 3), 2, 0);
    CHECK_NEAR(policy_stat_median(b, 4), 2.5, 0);
    double c[12];
    for (int i = 0; i < 12; i++)
        c[i] = 12 - i; /* 12..1: q1 = 3rd, q3 = 10th smallest */
    CHECK_NEAR(policy_stat_iqr(c, 12), 10 - 3, 0);
    double d[] = {1, 1, 2, 2, 4, 6, 9};
    CHECK_NEAR(policy_stat_mad(d, 7), 1, 0);
    double y[10], b0, b1;
    for (int i = 0; i < 10; i++)
        y[i] = 2 * (i + 1) + 1;
    policy_stat_linreg(y, 10, &b0, &b1);
    CHECK_NEAR(b0, 1, 1e-12);
    CHECK_NEAR(b1, 2, 1e-12);
    /* R^2: y = 3 x1 - x2 exactly -> 1; too few rows -> -1 */
    double x[6 * 2], yy[6], work[64], r2;
    for (int r = 0; r < 6; r++) {
        x[r * 2] = r * r % 5;
        x[r * 2 + 1] = (r * 7) % 3;
        yy[r] = 3 * x[r * 2] - x[r * 2 + 1];
    }
    CHECK_INT_EQ(policy_stat_r2(x, yy, 6, 2, work, &r2), 0);
    CHECK_NEAR(r2, 1, 1e-12);
    CHECK_INT_EQ(policy_stat_r2(x, yy, 2, 2, work, &r2), -1);
}

TEST(names)
{
    struct policy_consolidation pc;
    CHECK_INT_EQ(policy_consolidation_init(&pc, "LR-MMT-1.2"), 0);
    CHECK_STR_EQ(pc.name, "lr-mmt-1.2");
    CHECK_INT_EQ(pc.overload, POLICY_OVERLOAD_LR);
    CHECK_INT_EQ(pc.vmsel, POLICY_VMSEL_MMT);
    CHECK_NEAR(pc.param, 1.2, 0);
    CHECK(pc.ops.migrations && !pc.ops.max_power);
    CHECK_INT_EQ(policy_consolidation_init(&pc, "npa"), 0);
    CHECK(pc.ops.max_power && !pc.ops.migrations);
    CHECK(policy_consolidation_init(&pc, "lrr-mmt-1.2") < 0);
    CHECK_ERR_HAS("lrr-mmt-1.2");
    CHECK(policy_consolidation_init(&pc, "thr-xyz-0.8") < 0);
    CHECK(policy_consolidation_init(&pc, "thr-mmt-abc") < 0);
    CHECK(policy_consolidation_init(&pc, "") < 0);
    for (size_t i = 0; policy_reference_names[i]; i++)
        CHECK_INT_EQ(policy_consolidation_init(&pc, policy_reference_names[i]), 0);
}

/* THR compares requested MIPS with the threshold (strictly above). */
TEST(detector_thr)
{
    struct sim *s = tiny(2, 2);
    struct policy_consolidation pc;
    policy_consolidation_init(&pc, "thr-mmt-0.8");
    vm_set(s, 0, 2660, 0.8, 870);
    vm_set(s, 1, 2660, 0.8, 870);
    sim_host_vm_add(s, 1, 0);
    sim_host_vm_add(s, 1, 1);
    CHECK(!policy_host_overloaded(&pc, s, 1)); /* exactly 0.8 */
    s->vms[1].util = 0.81;
    CHECK(policy_host_overloaded(&pc, s, 1));
    policy_consolidation_fini(&pc);
    sim_free(s);
}

/* One VM as big as the host, so the host's history is the VM's. */
static struct sim *one_vm_host(const double *hist, size_t n, double util)
{
    struct sim *s = tiny(2, 1);
    vm_set(s, 0, 5320, util, 870);
    vm_hist(s, 0, hist, n);
    sim_host_vm_add(s, 1, 0);
    return s;
}

TEST(detector_iqr)
{
    double h[12];
    for (int i = 0; i < 12; i++)
        h[i] = 0.30 + 0.02 * i; /* IQR = 0.48 - 0.34 = 0.14 -> threshold 0.79 */
    struct policy_consolidation pc;
    policy_consolidation_init(&pc, "iqr-mmt-1.5");
    struct sim *s = one_vm_host(h, 12, 0.78);
    CHECK(!policy_host_overloaded(&pc, s, 1));
    s->vms[0].util = 0.80;
    CHECK(policy_host_overloaded(&pc, s, 1));
    sim_free(s);
    s = one_vm_host(h, 11, 0.75); /* short history: THR 0.7 */
    CHECK(policy_host_overloaded(&pc, s, 1));
    sim_free(s);
    policy_consolidation_fini(&pc);
}

TEST(detector_mad)
{
    double h[12];
    for (int i = 0; i < 12; i++)
        h[i] = i % 2 ? 0.6 : 0.4; /* median 0.5, MAD 0.1 -> threshold 0.75 */
    struct policy_consolidation pc;
    policy_consolidation_init(&pc, "mad-mmt-2.5");
    struct sim *s = one_vm_host(h, 12, 0.74);
    CHECK(!policy_host_overloaded(&pc, s, 1));
    s->vms[0].util = 0.76;
    CHECK(policy_host_overloaded(&pc, s, 1));
    sim_free(s);
    policy_consolidation_fini(&pc);
}

/* LR: fit the last 10 values (oldest first, x = 1..10), predict at
 * x = 10 + ceil(870 MB / 62.5 MB/s / 300 s) = 11, times 1.2, >= 1. */
TEST(detector_lr)
{
    double slow[10], fast[10];
    for (int i = 0; i < 10; i++) {
        slow[i] = 0.05 * (10 - i); /* newest first: predicts 0.55 * 1.2 */
        fast[i] = 0.09 * (10 - i); /* predicts 0.99 * 1.2 */
    }
    struct policy_consolidation pc;
    policy_consolidation_init(&pc, "lr-mmt-1.2");
    struct sim *s = one_vm_host(slow, 10, 0.95);
    CHECK(!policy_host_overloaded(&pc, s, 1)); /* the current demand does not matter */
    sim_free(s);
    s = one_vm_host(fast, 10, 0.1);
    CHECK(policy_host_overloaded(&pc, s, 1));
    sim_free(s);
    s = one_vm_host(fast, 9, 0.69); /* short history: THR 0.7 */
    CHECK(!policy_host_overloaded(&pc, s, 1));
    sim_free(s);
    policy_consolidation_fini(&pc);
}

TEST(select_mmt)
{
    struct sim *s = tiny(2, 3);
    struct policy_consolidation pc;
    policy_consolidation_init(&pc, "thr-mmt-0.8");
    vm_set(s, 0, 1000, 0.5, 1740);
    vm_set(s, 1, 1000, 0.5, 613);
    vm_set(s, 2, 1000, 0.5, 870);
    for (uint32_t v = 0; v < 3; v++)
        sim_host_vm_add(s, 1, v);
    CHECK_INT_EQ(policy_vm_select(&pc, s, 1), 1);
    s->vms[1].in_migration = true;
    CHECK_INT_EQ(policy_vm_select(&pc, s, 1), 2);
    CHECK_INT_EQ(policy_vm_select(&pc, s, 0), -1); /* empty host */
    policy_consolidation_fini(&pc);
    sim_free(s);
}

/* MC: c follows a closely, b is unrelated and has the least RAM (MMT's pick). */
TEST(select_mc)
{
    struct sim *s = tiny(2, 3);
    struct policy_consolidation pc;
    policy_consolidation_init(&pc, "lr-mc-1.2");
    double a[12], b[12], c[12];
    for (int i = 0; i < 12; i++) {
        a[i] = 0.1 + 0.05 * ((i * 7) % 11);
        b[i] = 0.2 + 0.03 * ((i * 5) % 7);
        c[i] = a[i] * 0.9 + 0.01 * (i % 3);
    }
    vm_set(s, 0, 1000, 0.3, 1740);
    vm_set(s, 1, 1000, 0.3, 613);
    vm_set(s, 2, 1000, 0.3, 1740);
    vm_hist(s, 0, a, 12);
    vm_hist(s, 1, b, 12);
    vm_hist(s, 2, c, 12);
    for (uint32_t v = 0; v < 3; v++)
        sim_host_vm_add(s, 1, v);
    int32_t pick = policy_vm_select(&pc, s, 1);
    CHECK(pick == 0 || pick == 2);
    /* too little history for three terms: MMT */
    vm_hist(s, 0, a, 2);
    CHECK_INT_EQ(policy_vm_select(&pc, s, 1), 1);
    policy_consolidation_fini(&pc);
    sim_free(s);
}

/* PABFD: a VM of 200 MIPS costs 0.0538 * 34 W on an empty G4, 0.0376 * 33 W
 * on an empty G5, and 0.0376 * 20 W on the G5 at 90 % — if that host does
 * not become overloaded. */
TEST(pabfd_tiny_cluster)
{
    struct sim *s = tiny(4, 3);
    vm_set(s, 0, 2660, 0.9, 870);
    vm_set(s, 1, 2660, 0.9, 870);
    vm_set(s, 2, 1000, 0.2, 870);
    sim_host_vm_add(s, 3, 0);
    sim_host_vm_add(s, 3, 1);
    s->hosts[3].util_mips = 2 * 2394;
    s->hosts[3].power_w = sim_power_w(&sim_power_hp_ml110_g5, 0.9);
    struct policy_consolidation pc;
    policy_consolidation_init(&pc, "thr-mmt-0.8");
    CHECK_INT_EQ(policy_pabfd_find_host(&pc, s, 2, NULL, NULL, 0), 1);
    policy_consolidation_fini(&pc);
    policy_consolidation_init(&pc, "thr-mmt-0.95");
    CHECK_INT_EQ(policy_pabfd_find_host(&pc, s, 2, NULL, NULL, 0), 3);
    uint8_t excl[4] = {0, 0, 0, 1};
    CHECK_INT_EQ(policy_pabfd_find_host(&pc, s, 2, excl, NULL, 0), 1);
    uint8_t all[4] = {1, 1, 1, 1};
    CHECK_INT_EQ(policy_pabfd_find_host(&pc, s, 2, all, NULL, 0), -1);
    CHECK_INT_EQ(s->n_hosts, 4); /* the what-if checks left no trace */
    CHECK_INT_EQ(s->hosts[3].n_slots, 2);
    policy_consolidation_fini(&pc);
    sim_free(s);
}

/* Underload: the emptier of two lightly loaded hosts is emptied onto the
 * other; the plan is returned and the allocation left as it was. */
TEST(optimize_underload)
{
    struct sim *s = tiny(4, 2);
    vm_set(s, 0, 1000, 0.3, 870);
    vm_set(s, 1, 1000, 0.2, 870);
    sim_host_vm_add(s, 1, 0);
    sim_host_vm_add(s, 3, 1);
    s->hosts[1].util_mips = 300;
    s->hosts[3].util_mips = 200;
    struct policy_consolidation pc;
    policy_consolidation_init(&pc, "thr-mmt-0.8");
    struct sim_moves out = {0};
    CHECK_INT_EQ(pc.ops.optimize(pc.ops.ctx, s, &out), 0);
    CHECK_INT_EQ(out.n, 1);
    if (out.n == 1) {
        CHECK_INT_EQ(out.v[0].vm, 1);
        CHECK_INT_EQ(out.v[0].dst, 1);
    }
    CHECK_INT_EQ(s->vms[1].host, 3);
    CHECK_INT_EQ(s->hosts[3].n_slots, 1);
    CHECK_INT_EQ(s->hosts[1].n_slots, 1);
    free(out.v);
    policy_consolidation_fini(&pc);
    sim_free(s);
}

static void setup(void)
{
    traces_open();
}

static void teardown(void)
{
    sim_traceset_free(&ts);
}

RUN_TESTS(setup, stats_like_commons_math, names, detector_thr, detector_iqr, detector_mad,
          detector_lr, select_mmt, select_mc, pabfd_tiny_cluster, optimize_underload, teardown)
