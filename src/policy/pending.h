/* pending: recommendations waiting for an operator (semi-automatic mode).
 *
 * A decision in semi-automatic mode is queued with an expiry; `arasctl approve
 * ID` (or the API) approves it, after which the daemon takes it and executes
 * it and records the result. One waiting entry per (VM, action): a repeated
 * recommendation refreshes the existing one instead of piling up. Pure: times
 * are passed in. Not thread-safe (owned by the daemon loop).
 */
#ifndef ARAS_POLICY_PENDING_H
#define ARAS_POLICY_PENDING_H

#include "policy/rac.h"

#include <stddef.h>
#include <stdint.h>

enum pending_state {
    PENDING_WAITING,
    PENDING_APPROVED,
    PENDING_REJECTED,
    PENDING_EXPIRED,
    PENDING_RUNNING,
    PENDING_DONE,
    PENDING_FAILED,
};
const char *pending_state_str(enum pending_state s);

struct pending_item {
    uint64_t id;
    int64_t created_ms, expires_ms, decided_ms;
    enum pending_state state;
    struct rac_decision decision;
    char decided_by[64];
    char note[256]; /* result or reason of the last state change */
};

struct pending_queue;

/* ttl_ms: how long a recommendation waits before it expires. first_id lets a
 * restarted daemon continue numbering after the ids in its history. */
struct pending_queue *pending_new(int64_t ttl_ms, uint64_t first_id);
void pending_free(struct pending_queue *q);

/* Queue a decision; returns its id (an existing waiting entry for the same VM
 * and action is refreshed and its id returned). */
uint64_t pending_add(struct pending_queue *q, const struct rac_decision *d, int64_t now_ms);
/* Approve or reject a waiting entry. -1 with err_set() naming the id if it is
 * unknown, already decided, or expired (expired entries are marked so). */
int pending_approve(struct pending_queue *q, uint64_t id, const char *by, int64_t now_ms);
int pending_reject(struct pending_queue *q, uint64_t id, const char *by, int64_t now_ms);
/* Mark waiting entries past their expiry as expired; copies them to out (up to
 * max) and returns how many expired. */
size_t pending_expire(struct pending_queue *q, int64_t now_ms, struct pending_item *out,
                      size_t max);
/* Move approved entries to RUNNING and copy them to out (up to max). */
size_t pending_take_approved(struct pending_queue *q, struct pending_item *out, size_t max);
/* Record the outcome of a RUNNING entry. */
int pending_finish(struct pending_queue *q, uint64_t id, bool ok, const char *note, int64_t now_ms);
/* Look up by id (NULL if unknown); entries are kept until pending_prune. */
const struct pending_item *pending_get(const struct pending_queue *q, uint64_t id);
/* All entries, oldest first. */
const struct pending_item *pending_items(const struct pending_queue *q, size_t *n);
/* Drop finished entries (not WAITING/APPROVED/RUNNING) decided before before_ms. */
void pending_prune(struct pending_queue *q, int64_t before_ms);

#endif
