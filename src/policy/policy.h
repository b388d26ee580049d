/* policy: the published VM-consolidation baselines, as policies of the simulator.
 *
 * Beloglazov & Buyya, "Optimal online deterministic algorithms and adaptive
 * heuristics for energy and performance efficient dynamic consolidation of
 * virtual machines in cloud data centers", CCPE 24(13), 2012, re-implemented
 * with the semantics of CloudSim 3.0.3 (the reference implementation):
 *
 *   npa           no power awareness: first fit, every host at full power
 *   dvfs          first fit, power follows utilization, no migrations
 *   thr-mmt-0.8   static threshold 0.8           + minimum migration time
 *   iqr-mmt-1.5   1 - 1.5 x inter-quartile range + MMT
 *   mad-mmt-2.5   1 - 2.5 x median abs. deviation+ MMT
 *   lr-mmt-1.2    local regression, safety 1.2   + MMT
 *   lr-mc-1.2     local regression, safety 1.2   + maximum correlation
 *
 * Any parameter may be given (e.g. thr-mmt-0.9, lr-mc-1.1). Migrating policies
 * run, each scheduling step: overload detection on every host; VM selection
 * from overloaded hosts until they are not; power-aware best-fit-decreasing
 * placement (PABFD) of those VMs; then underload consolidation, emptying the
 * least-utilized hosts while all their VMs fit elsewhere.
 *
 * Files: consolidation.c (names, placement loop, underload), pabfd.c (host
 * choice, save/restore), overload_*.c (detectors), vmsel_*.c (selection),
 * stats.c (median, IQR, MAD, regressions). All pure: the simulator hands in
 * its model (struct sim) and applies the returned moves.
 */
#ifndef ARAS_POLICY_POLICY_H
#define ARAS_POLICY_POLICY_H

#include "planner/planner.h"
#include "sim/sim.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum policy_kind {
    POLICY_KIND_NPA,
    POLICY_KIND_DVFS,
    POLICY_KIND_MIGRATE,
};

enum policy_overload {
    POLICY_OVERLOAD_THR,
    POLICY_OVERLOAD_IQR,
    POLICY_OVERLOAD_MAD,
    POLICY_OVERLOAD_LR,
};
const char *policy_overload_str(enum policy_overload o);

enum policy_vmsel {
    POLICY_VMSEL_MMT,
    POLICY_VMSEL_MC,
};
const char *policy_vmsel_str(enum policy_vmsel v);

/* A configured baseline. Owns scratch memory sized on first use. */
struct policy_consolidation {
    char name[48];
    enum policy_kind kind;
    enum policy_overload overload;
    enum policy_vmsel vmsel;
    double param;          /* threshold (THR) or safety parameter */
    double fallback_thr;   /* THR used while history is short: 0.7 */
    struct sim_policy ops; /* hand this to the simulator */
    /* scratch (grown, never shrunk) */
    uint8_t *excl_place, *excl_under, *over;  /* per host */
    uint32_t *cand, *saved, *saved_off, *sel; /* VM / host lists */
    uint32_t *live;                           /* hosts placement may use in the underload phase */
    size_t n_live;
    size_t n_hosts_cap, n_vms_cap;
    double *mat; /* MC regression workspace */
    size_t mat_cap;
};

/* Parse a policy name (case-insensitive, e.g. "lr-mmt-1.2") into pc and set
 * pc->ops. Returns 0, or -1 with err_set() naming the known policies. */
int policy_consolidation_init(struct policy_consolidation *pc, const char *name);
void policy_consolidation_fini(struct policy_consolidation *pc);

/* The seven reference policies, NULL-terminated. */
extern const char *const policy_reference_names[];

/* ---- building blocks (exposed for tests and for other planners) ---- */

/* Is the host overloaded under pc's detector (THR/IQR/MAD/LR with CloudSim's
 * fallback to THR 0.7 while the host's history is too short)? */
bool policy_host_overloaded(const struct policy_consolidation *pc, const struct sim *s,
                            uint32_t host);
/* The VM to move off host next (MMT or MC); -1 if none can move. */
int32_t policy_vm_select(struct policy_consolidation *pc, const struct sim *s, uint32_t host);
/* PABFD: the host whose power grows least by taking vm, skipping hosts with
 * excluded[h] set (excluded may be NULL) and hosts that would be overloaded;
 * -1 if none. hosts (ascending, may be NULL = all) limits the search to a
 * superset of the hosts not excluded, for speed. */
int32_t policy_pabfd_find_host(struct policy_consolidation *pc, struct sim *s, uint32_t vm,
                               const uint8_t *excluded, const uint32_t *hosts, size_t n_hosts);

/* ---- aras: the planner (src/planner) as a policy of the simulator (aras.c) ----
 *
 * Each step the simulated cluster becomes a planner_cluster: CPU in MIPS per
 * host (one core's MIPS as core_cap), each VM's predicted peak from its
 * utilisation history (mean + 1.5 standard deviations of the last hour, at
 * least the demand now and the last sample), its horizon the rest of the day,
 * its migration cost from its RAM over half the link (as the simulator moves
 * it). Memory and network are checked at creation only, as CloudSim reserves
 * them then and not for migrated VMs. planner_balance() in energy-aware mode
 * (consolidate) chooses the moves. Initial placement is the planner's
 * placement over the full requested MIPS, RAM and bandwidth. */
struct policy_aras {
    char name[48];
    struct planner_config cfg;
    struct sim_policy ops; /* hand this to the simulator */
    struct planner_host *hosts;
    struct planner_vm *vms; /* kept across steps: cooldowns and hosts left */
    uint32_t n_hosts, n_vms;
    struct planner_plan plan;
    double peak_sigmas;   /* standard deviations above the mean for a VM's peak [1.5] */
    uint32_t peak_window; /* history samples the peak looks at [12: one hour] */
};

/* "aras" (case-insensitive). Returns 0, or -1 with err_set(). */
int policy_aras_init(struct policy_aras *pa, const char *name);
void policy_aras_fini(struct policy_aras *pa);

/* Statistics as CloudSim computes them (stats.c). All take n >= 1 values. */
double policy_stat_median(const double *v, size_t n); /* sorts a copy */
double policy_stat_iqr(const double *v, size_t n);
double policy_stat_mad(const double *v, size_t n);
/* Least squares y = b0 + b1 x over x = 1..n (commons-math SimpleRegression). */
void policy_stat_linreg(const double *y, size_t n, double *b0, double *b1);
/* R^2 of regressing y on the k columns of x (n rows, row-major n x k) with an
 * intercept, by Householder QR as commons-math's OLSMultipleLinearRegression.
 * Returns -1 when there are fewer rows than terms or the design is exactly
 * singular (CloudSim then falls back to MMT), else 0 with *r2 (-inf or NaN
 * when y is constant). work has room for (k + 2) * (n + 2) doubles. */
int policy_stat_r2(const double *x, const double *y, size_t n, size_t k, double *work, double *r2);

#endif
