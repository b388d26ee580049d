/* internal: the stages of the move check, shared by check.c and balance.c. */
#ifndef ARAS_PLANNER_INTERNAL_H
#define ARAS_PLANNER_INTERNAL_H

#include "planner/planner.h"

/* snprintf into reason when reason is not NULL (callers that keep no reasons
 * pass NULL and save the formatting); always returns false. */
bool planner_why(char *reason, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "name" or "host N" / "VM N" into buf; returns buf. */
const char *planner_host_name(const struct planner_cluster *cl, uint32_t h, char *buf, size_t len);
const char *planner_vm_name(const struct planner_cluster *cl, uint32_t vm, char *buf, size_t len);

/* The destination-independent part: placed, never-move, migrating, cooldown
 * (not for EVACUATE), the source's migration limit. */
bool planner_check_vm(const struct planner_cluster *cl, const struct planner_config *cfg,
                      uint32_t vm, int64_t now_ms, enum planner_move_mode mode, char *reason,
                      size_t len);
/* The cheap destination part: same host, pin, ping-pong, the destination's
 * and the cluster's migration limits, then planner_fits(). */
bool planner_check_dst(const struct planner_cluster *cl, const struct planner_config *cfg,
                       uint32_t vm, uint32_t dst, int64_t now_ms, enum planner_move_mode mode,
                       char *reason, size_t len);
/* The costly part: source improvement, minimum gain, cost against benefit.
 * Fills v (gain, cost_s, benefit_s, reason). */
bool planner_check_gain(const struct planner_cluster *cl, const struct planner_config *cfg,
                        uint32_t vm, uint32_t dst, enum planner_move_mode mode,
                        struct planner_verdict *v, bool want_reason);

/* Is plan keeping reasons (formatting them is worth it)? */
bool planner_keeping(const struct planner_plan *p);
/* Count a rejection and keep it when plan keeps them (plan may be NULL). */
void planner_reject(struct planner_plan *p, uint32_t vm, int32_t dst, const char *reason);
/* The best destination for vm under mode, skipping hosts with skip[h] set
 * (skip may be NULL) and, with only_active, hosts without VMs; -1 if none.
 * Hosts failing the cheap checks are rejected at once; the N_BEST best by
 * placement key get the gain check in order. The winner's verdict goes to *v. */
int32_t planner_best_destination(const struct planner_cluster *cl, const struct planner_config *cfg,
                                 uint32_t vm, int64_t now_ms, enum planner_move_mode mode,
                                 const uint8_t *skip, bool only_active, struct planner_plan *plan,
                                 struct planner_verdict *v);
/* Record the move in plan and apply it to cl (hosts' sums and migration
 * counts, the VM's host, left_host and last_move_ms). */
void planner_apply(struct planner_cluster *cl, struct planner_plan *plan, uint32_t vm, uint32_t dst,
                   const struct planner_verdict *vd, int64_t now_ms);
/* Undo the moves of plan after index `from`, last first. */
void planner_undo(struct planner_cluster *cl, struct planner_plan *plan, size_t from);

#endif
