/* Unit tests for rates from cumulative counters, hand-computed: normal
 * intervals, counter resets, clock steps, gaps, clamping, unknown values. */
#include "monitor/rates.h"
#include "test.h"

TEST(vm_rates_by_hand)
{
    struct vm_counters a = {.t_ms = 1000, .dirty_rate_mib_s = -1};
    struct vm_counters b = {.t_ms = 3000,
                            .cpu_time_ns = 2000000000ULL, /* 2 s of CPU in 2 s, 2 vCPUs */
                            .blk_rd_bytes = 4096000,
                            .blk_wr_bytes = 1000,
                            .blk_rd_reqs = 100,
                            .blk_wr_reqs = 300,
                            .net_rx_bytes = 1000,
                            .net_tx_bytes = 3000,
                            .mem_available_kib = 1000000,
                            .mem_unused_kib = 250000,
                            .dirty_rate_mib_s = 12.5};
    struct vm_rates r;
    CHECK_INT_EQ(rates_vm(&a, &b, 2, 0, &r), RATES_OK);
    CHECK_INT_EQ(r.t_ms, 3000);
    CHECK_NEAR(r.cpu_pct, 50.0, 1e-9);
    CHECK_NEAR(r.disk_rd_bytes_per_s, 2048000.0, 1e-9);
    CHECK_NEAR(r.disk_wr_bytes_per_s, 500.0, 1e-9);
    CHECK_NEAR(r.disk_iops, 200.0, 1e-9);
    CHECK_NEAR(r.net_rx_bytes_per_s, 500.0, 1e-9);
    CHECK_NEAR(r.net_tx_bytes_per_s, 1500.0, 1e-9);
    CHECK_NEAR(r.mem_used_pct, 75.0, 1e-9);
    CHECK_NEAR(r.dirty_rate_mib_s, 12.5, 1e-9);
    /* 0 vCPUs is taken as 1; more CPU than the vCPUs can give is clamped. */
    CHECK_INT_EQ(rates_vm(&a, &b, 0, 0, &r), RATES_OK);
    CHECK_NEAR(r.cpu_pct, 100.0, 1e-9);
    b.cpu_time_ns = 500000000ULL; /* 0.5 s over 2 s on 1 vCPU */
    CHECK_INT_EQ(rates_vm(&a, &b, 1, 0, &r), RATES_OK);
    CHECK_NEAR(r.cpu_pct, 25.0, 1e-9);
}

TEST(vm_resets_clock_steps_and_gaps_give_no_rate)
{
    struct vm_counters a = {.t_ms = 10000, .cpu_time_ns = 900, .net_rx_bytes = 50};
    struct vm_counters b = a;
    struct vm_rates r = {.cpu_pct = -7};
    b.t_ms = 11000;
    b.cpu_time_ns = 100; /* restarted VM: counters start again */
    CHECK_INT_EQ(rates_vm(&a, &b, 1, 0, &r), RATES_RESET);
    b.cpu_time_ns = 1000;
    b.net_rx_bytes = 10; /* one counter back is enough */
    CHECK_INT_EQ(rates_vm(&a, &b, 1, 0, &r), RATES_RESET);
    b.net_rx_bytes = 60;
    b.t_ms = 10000; /* no time passed */
    CHECK_INT_EQ(rates_vm(&a, &b, 1, 0, &r), RATES_CLOCK);
    b.t_ms = 9000; /* clock went back */
    CHECK_INT_EQ(rates_vm(&a, &b, 1, 0, &r), RATES_CLOCK);
    b.t_ms = 16001; /* 6.001 s > 5 s allowed gap */
    CHECK_INT_EQ(rates_vm(&a, &b, 1, 5000, &r), RATES_GAP);
    b.t_ms = 15000; /* exactly at the limit is fine */
    CHECK_INT_EQ(rates_vm(&a, &b, 1, 5000, &r), RATES_OK);
    CHECK_NEAR(r.net_rx_bytes_per_s, 2.0, 1e-9);
    CHECK_NEAR(r.cpu_pct, 100.0 * 100 / 5e9, 1e-12);
    CHECK_STR_EQ(rates_result_str(RATES_GAP), "gap");
}

TEST(vm_memory_unknown_is_minus_one)
{
    struct vm_counters c = {.mem_actual_kib = 1 << 20};
    CHECK_NEAR(rates_vm_mem_used_pct(&c), -1, 0);
    c.mem_available_kib = 100;
    c.mem_unused_kib = 200; /* nonsense from the guest */
    CHECK_NEAR(rates_vm_mem_used_pct(&c), -1, 0);
    c.mem_unused_kib = 100;
    CHECK_NEAR(rates_vm_mem_used_pct(&c), 0, 1e-12);
}

TEST(host_rates_by_hand)
{
    struct host_counters a = {
        .t_ms = 0, .cpu_busy_ns = 1000000000ULL, .cpu_total_ns = 4000000000ULL, .disk_io_ms = 100};
    struct host_counters b = {.t_ms = 1000,
                              .cpu_busy_ns = 3000000000ULL,
                              .cpu_total_ns = 8000000000ULL,
                              .mem_total_kib = 1000,
                              .mem_free_kib = 250,
                              .disk_io_ms = 600,
                              .power_w = 142.5};
    struct host_rates r;
    CHECK_INT_EQ(rates_host(&a, &b, 0, &r), RATES_OK);
    CHECK_NEAR(r.cpu_pct, 50.0, 1e-9);
    CHECK_NEAR(r.mem_used_pct, 75.0, 1e-9);
    CHECK_INT_EQ(r.mem_free_kib, 250);
    CHECK_NEAR(r.disk_util_pct, 50.0, 1e-9);
    CHECK_NEAR(r.power_w, 142.5, 1e-9);
    a.disk_io_ms = 0; /* unknown */
    b.disk_io_ms = 0;
    CHECK_INT_EQ(rates_host(&a, &b, 0, &r), RATES_OK);
    CHECK_NEAR(r.disk_util_pct, -1, 0);
    /* No busy time but storage pools (libvirt): the share of space in use. */
    b.disk_capacity_bytes = 400;
    b.disk_allocation_bytes = 100;
    CHECK_INT_EQ(rates_host(&a, &b, 0, &r), RATES_OK);
    CHECK_NEAR(r.disk_util_pct, 25.0, 1e-9);
    b.disk_io_ms = 600; /* busy time, where known, wins */
    a.disk_io_ms = 100;
    CHECK_INT_EQ(rates_host(&a, &b, 0, &r), RATES_OK);
    CHECK_NEAR(r.disk_util_pct, 50.0, 1e-9);
    b.cpu_busy_ns = 10; /* host rebooted */
    CHECK_INT_EQ(rates_host(&a, &b, 0, &r), RATES_RESET);
    b.cpu_busy_ns = a.cpu_busy_ns; /* idle, no counter movement at all */
    b.cpu_total_ns = a.cpu_total_ns;
    CHECK_INT_EQ(rates_host(&a, &b, 0, &r), RATES_OK);
    CHECK_NEAR(r.cpu_pct, 0, 0);
    CHECK_INT_EQ(rates_host(&a, &b, 500, &r), RATES_GAP);
}

RUN_TESTS(vm_rates_by_hand, vm_resets_clock_steps_and_gaps_give_no_rate,
          vm_memory_unknown_is_minus_one, host_rates_by_hand)
