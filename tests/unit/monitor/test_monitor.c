/* Unit tests for the monitor tick: a scripted backend on a virtual clock
 * (exact rates, resets, moves, gaps, vanishing VMs, hosts down, windows,
 * scale), and a few ticks over libvirt's in-process test:///default. */
#include "monitor/monitor.h"
#include "test.h"
#include "util/util.h"

#include <time.h>

static struct clock clk;

/* The scripted cluster the fake backend reports, counters stamped at poll. */
static struct inventory script;
static bool script_fail;

static int fake_poll(struct backend *b, struct inventory *inv)
{
    if (script_fail)
        return err_set("fake: host h1 exploded");
    int64_t now = clock_now_ms(b->clock);
    for (size_t i = 0; i < script.n_hosts; i++) {
        struct host *h = inventory_add_host(inv);
        *h = script.hosts[i];
        h->counters.t_ms = now;
    }
    for (size_t i = 0; i < script.n_vms; i++) {
        struct vm *v = inventory_add_vm(inv);
        *v = script.vms[i];
        v->counters.t_ms = now;
    }
    return 0;
}

static const struct backend_ops fake_ops = {.name = "fake", .poll = fake_poll};
static struct backend fake = {.ops = &fake_ops, .clock = &clk};

static struct vm *script_vm(const char *name, const char *host)
{
    struct vm *v = inventory_add_vm(&script);
    snprintf(v->name, sizeof(v->name), "%s", name);
    snprintf(v->host, sizeof(v->host), "%s", host);
    snprintf(v->uuid, sizeof(v->uuid), "uuid-%s", name);
    v->state = VM_STATE_RUNNING;
    v->vcpus = 2;
    return v;
}

static struct host *script_host(const char *name)
{
    struct host *h = inventory_add_host(&script);
    snprintf(h->name, sizeof(h->name), "%s", name);
    h->up = true;
    h->counters.mem_total_kib = 1000;
    h->counters.mem_free_kib = 400;
    return h;
}

static void reset(void)
{
    inventory_free(&script);
    script_fail = false;
    clock_init_virtual(&clk, 1000000);
}

/* One tick 1 s later with VM 0 using `busy_ms` of CPU and the host 50 %. */
static int step(struct monitor *m, uint64_t busy_ms)
{
    clock_advance_ms(&clk, 1000);
    if (script.n_vms > 0)
        script.vms[0].counters.cpu_time_ns += busy_ms * 1000000ULL;
    for (size_t i = 0; i < script.n_hosts; i++) {
        script.hosts[i].counters.cpu_busy_ns += 1000000000ULL;
        script.hosts[i].counters.cpu_total_ns += 2000000000ULL;
    }
    return monitor_tick(m);
}

TEST(rates_after_two_polls_and_windows)
{
    reset();
    script_host("h1");
    script_vm("web", "h1");
    struct monitor *m = monitor_new(&fake, 5000);
    CHECK_INT_EQ(monitor_inventory(m)->n_vms, 0);
    CHECK(step(m, 500) == 0);
    CHECK(monitor_vm_latest(m, "web") == NULL); /* one poll only */
    CHECK(monitor_host_latest(m, "h1") == NULL);
    CHECK_INT_EQ(monitor_inventory(m)->n_vms, 1);
    CHECK(step(m, 500) == 0); /* 0.5 s CPU per s over 2 vCPUs */
    const struct vm_rates *r = monitor_vm_latest(m, "web");
    CHECK(r != NULL);
    if (r) {
        CHECK_NEAR(r->cpu_pct, 25.0, 1e-9);
        CHECK_NEAR(r->mem_used_pct, -1, 0);
        CHECK_INT_EQ(r->t_ms, clock_now_ms(&clk));
    }
    const struct host_rates *hr = monitor_host_latest(m, "h1");
    CHECK(hr && fabs(hr->cpu_pct - 50.0) < 1e-9 && fabs(hr->mem_used_pct - 60.0) < 1e-9);
    CHECK(monitor_vm_latest(m, "nosuch") == NULL);
    for (int i = 0; i < 10; i++)
        CHECK(step(m, 1000) == 0);
    /* The window holds history_ms (5 s) worth of 1 s samples: 6 at most. */
    struct vm_rates w[32];
    size_t n = monitor_vm_window(m, "web", 0, w, ARRAY_LEN(w));
    CHECK_INT_EQ(n, 6);
    for (size_t i = 1; i < n; i++)
        CHECK_INT_EQ(w[i].t_ms - w[i - 1].t_ms, 1000);
    CHECK_NEAR(w[n - 1].cpu_pct, 50.0, 1e-9);
    int64_t now = clock_now_ms(&clk);
    CHECK_INT_EQ(monitor_vm_window(m, "web", now - 1500, w, ARRAY_LEN(w)), 2);
    CHECK_INT_EQ(monitor_vm_window(m, "web", 0, w, 3), 3);
    CHECK_INT_EQ(w[0].t_ms, now - 5000); /* oldest first */
    struct host_rates hw[32];
    CHECK_INT_EQ(monitor_host_window(m, "h1", 0, hw, ARRAY_LEN(hw)), 6);
    CHECK_INT_EQ(monitor_host_window(m, "nosuch", 0, hw, ARRAY_LEN(hw)), 0);
    monitor_free(m);
}

TEST(resets_moves_and_gaps_start_a_new_baseline)
{
    reset();
    script_host("h1");
    script_host("h2");
    script_vm("db", "h1");
    struct monitor *m = monitor_new(&fake, 60000);
    CHECK(step(m, 100) == 0);
    CHECK(step(m, 100) == 0);
    CHECK(monitor_vm_latest(m, "db") != NULL);
    /* Restarted: counters back to near zero. No negative or huge rate. */
    script.vms[0].counters.cpu_time_ns = 0;
    CHECK(step(m, 10) == 0);
    CHECK(monitor_vm_latest(m, "db") == NULL);
    CHECK(step(m, 200) == 0);
    const struct vm_rates *r = monitor_vm_latest(m, "db");
    CHECK(r && fabs(r->cpu_pct - 10.0) < 1e-9);
    /* Migrated to h2: a new QEMU process, counters not comparable. */
    snprintf(script.vms[0].host, sizeof(script.vms[0].host), "h2");
    script.vms[0].counters.cpu_time_ns += 5000000000ULL; /* would read as 250 % */
    CHECK(step(m, 0) == 0);
    CHECK(monitor_vm_latest(m, "db") == NULL);
    CHECK(step(m, 400) == 0);
    r = monitor_vm_latest(m, "db");
    CHECK(r && fabs(r->cpu_pct - 20.0) < 1e-9);
    /* A 10 s gap after 1 s ticks: not averaged over, a new baseline. */
    clock_advance_ms(&clk, 9000);
    CHECK(step(m, 100) == 0);
    CHECK(monitor_vm_latest(m, "db") == NULL);
    CHECK(monitor_host_latest(m, "h1") == NULL);
    CHECK(step(m, 100) == 0);
    CHECK(monitor_vm_latest(m, "db") != NULL);
    /* Every sample in the window is a sane rate. */
    struct vm_rates w[64];
    size_t n = monitor_vm_window(m, "db", 0, w, ARRAY_LEN(w));
    CHECK_INT_EQ(n, 4); /* ticks 2, 4, 6 and 8; 1, 3, 5 and 7 were baselines */
    for (size_t i = 0; i < n; i++)
        CHECK(w[i].cpu_pct >= 0 && w[i].cpu_pct <= 100);
    monitor_free(m);
}

TEST(vanished_vms_are_forgotten_and_down_hosts_have_no_rate)
{
    reset();
    script_host("h1");
    script_vm("tmp", "h1");
    struct monitor *m = monitor_new(&fake, 5000);
    CHECK(step(m, 100) == 0);
    CHECK(step(m, 100) == 0);
    CHECK(monitor_vm_latest(m, "tmp") != NULL);
    script.n_vms = 0; /* gone */
    script.hosts[0].up = false;
    memset(&script.hosts[0].counters, 0, sizeof(script.hosts[0].counters));
    CHECK(step(m, 0) == 0);
    CHECK(monitor_vm_latest(m, "tmp") == NULL);
    CHECK(monitor_host_latest(m, "h1") == NULL);
    struct vm_rates w[8];
    CHECK_INT_EQ(monitor_vm_window(m, "tmp", 0, w, ARRAY_LEN(w)), 1); /* still remembered */
    for (int i = 0; i < 12; i++) /* > max(history 5 s, 10 ticks) */
        CHECK(step(m, 0) == 0);
    CHECK_INT_EQ(monitor_vm_window(m, "tmp", 0, w, ARRAY_LEN(w)), 0);
    /* The host comes back: baseline, then rates. */
    script.hosts[0].up = true;
    CHECK(step(m, 0) == 0);
    CHECK(monitor_host_latest(m, "h1") == NULL);
    CHECK(step(m, 0) == 0);
    CHECK(monitor_host_latest(m, "h1") != NULL);
    /* A failed poll keeps the last good inventory and says why. */
    script_fail = true;
    CHECK(step(m, 0) == -1);
    CHECK_ERR_HAS("monitor: polling the backend: fake: host h1 exploded");
    CHECK_INT_EQ(monitor_inventory(m)->n_hosts, 1);
    monitor_free(m);
}

TEST(same_name_twice_takes_the_running_one)
{
    reset();
    script_host("h1");
    script_host("h2");
    script_vm("mig", "h1");
    struct vm *in = script_vm("mig", "h2"); /* incoming side, paused at 0 */
    in->state = VM_STATE_MIGRATING;
    struct monitor *m = monitor_new(&fake, 60000);
    CHECK(step(m, 300) == 0);
    CHECK(step(m, 300) == 0);
    const struct vm_rates *r = monitor_vm_latest(m, "mig");
    CHECK(r && fabs(r->cpu_pct - 15.0) < 1e-9);
    monitor_free(m);
}

TEST(scale_1000_hosts_20000_vms)
{
    reset();
    char name[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "host%04d", i);
        script_host(name);
    }
    for (int i = 0; i < 20000; i++) {
        snprintf(name, sizeof(name), "vm%05d", i);
        struct vm *v = script_vm(name, script.hosts[i % 1000].name);
        v->counters.net_rx_bytes = (uint64_t)i;
    }
    struct monitor *m = monitor_new(&fake, 60000);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int k = 0; k < 5; k++) {
        for (size_t i = 0; i < script.n_vms; i++)
            script.vms[i].counters.net_rx_bytes += 1000 * (i % 7);
        CHECK(step(m, 0) == 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    fprintf(stderr, "scale: 5 ticks of 1000 hosts / 20000 VMs in %.1f ms\n", ms);
    const struct vm_rates *r = monitor_vm_latest(m, "vm12345");
    CHECK(r && fabs(r->net_rx_bytes_per_s - 1000.0 * (12345 % 7)) < 1e-9);
    CHECK(monitor_host_latest(m, "host0999") != NULL);
    monitor_free(m);
    inventory_free(&script);
}

TEST(monitor_over_libvirt_test_driver)
{
    reset();
    const char *uris[] = {"test:///default"};
    struct backend *b = backend_open(uris, 1, &clk);
    CHECK(b != NULL);
    if (!b)
        return;
    struct monitor *m = monitor_new(b, 60000);
    for (int i = 0; i < 4; i++) {
        CHECK(monitor_tick(m) == 0);
        clock_advance_ms(&clk, 1000);
    }
    const struct inventory *inv = monitor_inventory(m);
    CHECK_INT_EQ(inv->n_hosts, 1);
    CHECK_INT_EQ(inv->n_vms, 1);
    const struct vm_rates *r = monitor_vm_latest(m, "test");
    CHECK(r != NULL);
    if (r) {
        CHECK(r->cpu_pct >= 0 && r->cpu_pct <= 100);
        CHECK(r->disk_rd_bytes_per_s >= 0 && r->net_rx_bytes_per_s >= 0);
        CHECK_NEAR(r->mem_used_pct, 50.0, 1e-9); /* test driver: 2 GiB available, 1 GiB unused */
        CHECK(r->dirty_rate_mib_s < 0);
    }
    const struct host_rates *hr = monitor_host_latest(m, inv->hosts[0].name);
    CHECK(hr != NULL && hr->cpu_pct >= 0 && hr->cpu_pct <= 100);
    /* Disk use from the storage pools: the test driver's one is 100 GiB, empty. */
    if (hr)
        CHECK_NEAR(hr->disk_util_pct, 0.0, 1e-9);
    struct vm_rates w[8];
    CHECK_INT_EQ(monitor_vm_window(m, "test", 0, w, ARRAY_LEN(w)), 3);
    monitor_free(m);
    backend_close(b);
    reset();
}

RUN_TESTS(rates_after_two_polls_and_windows, resets_moves_and_gaps_start_a_new_baseline,
          vanished_vms_are_forgotten_and_down_hosts_have_no_rate,
          same_name_twice_takes_the_running_one, scale_1000_hosts_20000_vms,
          monitor_over_libvirt_test_driver)
