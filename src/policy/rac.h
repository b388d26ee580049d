/* rac: the resource allocation controller — grow a VM in place when its host
 * has room, otherwise move it to the best-fitting host.
 *
 * Pure: requests (which VM needs what), the inventory and the latest rates in;
 * one decision per request out, each with a one-line reason. The caller (the
 * daemon) decides, from the decision's mode, whether to act now, queue it for
 * approval (see pending.h), or only recommend.
 *
 * The seed algorithm, per load class:
 *   CPU:    host CPU use below the High mark -> hot-add a vCPU (up to the
 *           domain's maximum and the VM's limit), else migrate;
 *   memory: host free memory above the Medium mark -> grow the VM's memory by
 *           one step (up to its maximum and limit), else migrate;
 *   I/O:    host disk use below the Low mark -> attach another disk, else migrate.
 * Requests are served in priority order (then by name, for determinism); each
 * grant consumes projected host headroom, so when several VMs want the same
 * headroom the higher priority wins and the loser's reason says so.
 */
#ifndef ARAS_POLICY_RAC_H
#define ARAS_POLICY_RAC_H

#include "model/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rac_mode {
    RAC_MODE_MANUAL, /* recommend only */
    RAC_MODE_SEMI,   /* wait for an operator's approval */
    RAC_MODE_AUTO,   /* act at once */
};
const char *rac_mode_str(enum rac_mode m);
int rac_mode_parse(const char *s, enum rac_mode *out);

enum rac_action {
    RAC_ACTION_NONE,
    RAC_ACTION_ADD_VCPU,
    RAC_ACTION_GROW_MEMORY,
    RAC_ACTION_ATTACH_DISK,
    RAC_ACTION_MIGRATE,
};
const char *rac_action_str(enum rac_action a);

struct rac_marks {
    double cpu_high_pct;          /* host CPU use at or above this: no vCPU growth */
    double mem_free_medium_pct;   /* host free memory above this % of total: grow memory */
    double disk_low_pct;          /* host disk use below this: attach a disk */
    double mem_step_pct;          /* memory growth step, % of current size */
    uint64_t disk_size_bytes;     /* size of an attached disk */
    double migrate_cpu_limit_pct; /* a destination must stay below this after the move */
};
/* Defaults: High 80 %, Medium 25 % free, Low 30 %, step 25 %, 10 GiB, 80 %. */
void rac_marks_default(struct rac_marks *m);

/* Per-VM settings (from the config); a VM without one gets priority 0, the
 * global mode and the domain's own maxima. */
struct rac_vm_limits {
    int priority;         /* higher wins */
    unsigned max_vcpus;   /* 0 = the domain's maximum */
    uint64_t max_mem_kib; /* 0 = the domain's maximum */
    enum rac_mode mode;
    bool has_mode; /* false: use the global mode */
    bool never_move;
};

struct rac_request {
    char vm[MODEL_NAME_MAX];
    enum load_class load; /* from the rule's metric; IDLE = classify from rates */
    struct rac_vm_limits limits;
    char cause[128]; /* e.g. "rule cpu-hot episode 7" */
};

struct rac_decision {
    char vm[MODEL_NAME_MAX];
    char host[MODEL_NAME_MAX];
    enum load_class load;
    enum rac_action action;
    enum rac_mode mode;
    int priority;
    unsigned new_vcpus;
    uint64_t new_mem_kib;
    uint64_t disk_bytes;
    char dst_host[MODEL_NAME_MAX];
    char reason[256];
};

/* Lookup of latest rates by name (NULL if unknown); ctx is passed through. */
struct rac_rates_view {
    const struct vm_rates *(*vm)(const void *ctx, const char *vm);
    const struct host_rates *(*host)(const void *ctx, const char *host);
    const void *ctx;
};

/* Classify a VM's load from its latest rates (IDLE when nothing stands out). */
enum load_class rac_classify(const struct vm *vm, const struct vm_rates *r);

/* Decide for every request; out must hold n_req decisions. Requests for VMs
 * not in the inventory get RAC_ACTION_NONE with a reason. */
void rac_decide(const struct rac_request *req, size_t n_req, const struct inventory *inv,
                const struct rac_rates_view *rates, const struct rac_marks *marks,
                enum rac_mode global_mode, struct rac_decision *out);

#endif
