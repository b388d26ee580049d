/* monitor: polls the backend each tick and keeps, per host and per VM, the
 * latest rates and a time-bounded history window (ring buffers found by name
 * through a hash table, so a tick costs O(hosts + VMs)).
 *
 * Rates come from consecutive cumulative counters (rates.h): an object needs
 * two polls before it has a rate; a counter reset, a VM that moved host or
 * changed identity, or a gap of more than 3 typical tick intervals starts a
 * new baseline. Objects not seen for max(history_ms, 10 ticks) are forgotten.
 * Not thread-safe: one thread (the daemon's loop) owns a monitor.
 */
#ifndef ARAS_MONITOR_MONITOR_H
#define ARAS_MONITOR_MONITOR_H

#include "backend/backend.h"
#include "model/model.h"

#include <stddef.h>
#include <stdint.h>

struct monitor;
/* b is borrowed and must outlive the monitor; history_ms bounds each window. */
struct monitor *monitor_new(struct backend *b, int64_t history_ms);
void monitor_free(struct monitor *m);
/* Poll the backend once and update rates/windows. 0, or -1 with err_set(). */
int monitor_tick(struct monitor *m);
/* Sample every running VM's dirty rate: after a poll, start a measurement
 * over calc_s seconds (clamped to 1..60) for each running VM whose last one
 * started at least period_ms ago (raised to calc_s); the result comes with a
 * later poll (vm_counters.dirty_rate_mib_s, then vm_rates). period_ms 0 turns
 * it off (the default). Backends without dirty-rate support are skipped; a VM
 * that refuses is tried again at its next turn. */
void monitor_set_dirty_rate(struct monitor *m, int64_t period_ms, int calc_s);
/* The inventory of the last successful tick (valid until the next tick);
 * empty before the first. */
const struct inventory *monitor_inventory(const struct monitor *m);
/* Latest rates by name; NULL if unknown or fewer than two polls seen (also
 * when the last tick gave it no rate: host down, VM gone, counters reset). */
const struct vm_rates *monitor_vm_latest(const struct monitor *m, const char *vm);
const struct host_rates *monitor_host_latest(const struct monitor *m, const char *host);
/* Copy up to max samples with t_ms >= since_ms, oldest first; returns the count. */
size_t monitor_vm_window(const struct monitor *m, const char *vm, int64_t since_ms,
                         struct vm_rates *out, size_t max);
size_t monitor_host_window(const struct monitor *m, const char *host, int64_t since_ms,
                           struct host_rates *out, size_t max);

#endif
