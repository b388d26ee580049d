/* rates: rates from cumulative counters, with resets and gaps (see rates.h). */
#include "monitor/rates.h"

#include "util/mem.h"

static const char *const rates_result_names[] = {
    [RATES_OK] = "ok",
    [RATES_RESET] = "reset",
    [RATES_CLOCK] = "clock",
    [RATES_GAP] = "gap",
};

const char *rates_result_str(enum rates_result r)
{
    if ((unsigned)r >= ARRAY_LEN(rates_result_names))
        return "?";
    return rates_result_names[r];
}

static enum rates_result rates_dt(int64_t t0, int64_t t1, int64_t max_gap_ms, double *dt_s)
{
    if (t1 <= t0)
        return RATES_CLOCK;
    if (max_gap_ms > 0 && t1 - t0 > max_gap_ms)
        return RATES_GAP;
    *dt_s = (double)(t1 - t0) / 1000.0;
    return RATES_OK;
}

static double clamp_pct(double x)
{
    return x < 0 ? 0 : x > 100 ? 100 : x;
}

double rates_vm_mem_used_pct(const struct vm_counters *c)
{
    if (c->mem_available_kib == 0 || c->mem_unused_kib > c->mem_available_kib)
        return -1;
    return 100.0 * (double)(c->mem_available_kib - c->mem_unused_kib) /
           (double)c->mem_available_kib;
}

enum rates_result rates_vm(const struct vm_counters *prev, const struct vm_counters *cur,
                           unsigned vcpus, int64_t max_gap_ms, struct vm_rates *out)
{
    double dt;
    enum rates_result r = rates_dt(prev->t_ms, cur->t_ms, max_gap_ms, &dt);
    if (r != RATES_OK)
        return r;
    if (cur->cpu_time_ns < prev->cpu_time_ns || cur->blk_rd_bytes < prev->blk_rd_bytes ||
        cur->blk_wr_bytes < prev->blk_wr_bytes || cur->blk_rd_reqs < prev->blk_rd_reqs ||
        cur->blk_wr_reqs < prev->blk_wr_reqs || cur->net_rx_bytes < prev->net_rx_bytes ||
        cur->net_tx_bytes < prev->net_tx_bytes)
        return RATES_RESET;
    double n = vcpus ? (double)vcpus : 1.0;
    out->t_ms = cur->t_ms;
    out->cpu_pct =
        clamp_pct(100.0 * (double)(cur->cpu_time_ns - prev->cpu_time_ns) / (dt * 1e9 * n));
    out->mem_used_pct = rates_vm_mem_used_pct(cur);
    out->disk_rd_bytes_per_s = (double)(cur->blk_rd_bytes - prev->blk_rd_bytes) / dt;
    out->disk_wr_bytes_per_s = (double)(cur->blk_wr_bytes - prev->blk_wr_bytes) / dt;
    out->disk_iops =
        (double)((cur->blk_rd_reqs - prev->blk_rd_reqs) + (cur->blk_wr_reqs - prev->blk_wr_reqs)) /
        dt;
    out->net_rx_bytes_per_s = (double)(cur->net_rx_bytes - prev->net_rx_bytes) / dt;
    out->net_tx_bytes_per_s = (double)(cur->net_tx_bytes - prev->net_tx_bytes) / dt;
    out->dirty_rate_mib_s = cur->dirty_rate_mib_s;
    return RATES_OK;
}

enum rates_result rates_host(const struct host_counters *prev, const struct host_counters *cur,
                             int64_t max_gap_ms, struct host_rates *out)
{
    double dt;
    enum rates_result r = rates_dt(prev->t_ms, cur->t_ms, max_gap_ms, &dt);
    if (r != RATES_OK)
        return r;
    if (cur->cpu_busy_ns < prev->cpu_busy_ns || cur->cpu_total_ns < prev->cpu_total_ns ||
        cur->disk_io_ms < prev->disk_io_ms)
        return RATES_RESET;
    uint64_t dtotal = cur->cpu_total_ns - prev->cpu_total_ns;
    uint64_t dbusy = cur->cpu_busy_ns - prev->cpu_busy_ns;
    out->t_ms = cur->t_ms;
    out->cpu_pct = dtotal ? clamp_pct(100.0 * (double)dbusy / (double)dtotal) : 0;
    out->mem_free_kib = cur->mem_free_kib;
    out->mem_used_pct =
        cur->mem_total_kib && cur->mem_free_kib <= cur->mem_total_kib
            ? 100.0 * (double)(cur->mem_total_kib - cur->mem_free_kib) / (double)cur->mem_total_kib
            : 0;
    /* Busy time where the backend knows it (sim), else space (libvirt pools). */
    if (prev->disk_io_ms && cur->disk_io_ms)
        out->disk_util_pct =
            clamp_pct(100.0 * (double)(cur->disk_io_ms - prev->disk_io_ms) / (dt * 1000.0));
    else if (cur->disk_capacity_bytes)
        out->disk_util_pct = clamp_pct(100.0 * (double)cur->disk_allocation_bytes /
                                       (double)cur->disk_capacity_bytes);
    else
        out->disk_util_pct = -1;
    out->power_w = cur->power_w;
    return RATES_OK;
}
