/* rates: turn two readings of cumulative counters into rates (pure: no I/O,
 * no clock). A counter that goes backwards (VM restarted or migrated, host
 * rebooted), a reading not later than the previous one, or a gap longer than
 * max_gap_ms yields no rate: the caller takes the new reading as its baseline
 * and never reports a negative or huge rate. */
#ifndef ARAS_MONITOR_RATES_H
#define ARAS_MONITOR_RATES_H

#include "model/model.h"

enum rates_result {
    RATES_OK,    /* *out filled */
    RATES_RESET, /* a cumulative counter went backwards */
    RATES_CLOCK, /* cur is not later than prev */
    RATES_GAP,   /* cur is more than max_gap_ms after prev */
};
const char *rates_result_str(enum rates_result r);

/* VM rates over prev..cur for a VM with `vcpus` vCPUs (0 is taken as 1);
 * max_gap_ms <= 0 disables the gap check. cpu_pct is clamped to 0..100. */
enum rates_result rates_vm(const struct vm_counters *prev, const struct vm_counters *cur,
                           unsigned vcpus, int64_t max_gap_ms, struct vm_rates *out);

/* Host rates over prev..cur; disk_util_pct is the busy time when both readings
 * have disk_io_ms, else the share of storage space allocated in cur
 * (disk_capacity_bytes), else -1. */
enum rates_result rates_host(const struct host_counters *prev, const struct host_counters *cur,
                             int64_t max_gap_ms, struct host_rates *out);

/* Guest memory in use, from balloon stats (available - unused) / available,
 * or -1 when the guest does not report them. */
double rates_vm_mem_used_pct(const struct vm_counters *c);

#endif
