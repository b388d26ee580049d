/* planner: placement and balancing of VMs over hosts — pure policy.
 *
 * The caller describes the cluster in a struct planner_cluster (hosts with
 * capacities, VMs with their demand now and predicted peak, rules) and a
 * timestamp; the planner answers where a VM should go (planner_place), which
 * moves a balancing cycle should start (planner_balance) and whether one given
 * move is worth it (planner_move_check). It never reads a clock, does no I/O
 * and calls no backend, so a trace replay is deterministic.
 *
 * Scoring: every resource (CPU, memory, disk I/O, network) is normalised by
 * the host's own capacity, so heterogeneous hosts compare; a host's cost is
 * the weighted sum over resources of how far its predicted peak exceeds the
 * target utilisation (quadratic, steeper above 100 %), plus an interference
 * penalty for each pair of co-located VMs of the same load class (CPU-,
 * memory- or I/O-intensive; the matrix is configurable), plus the weights of
 * the soft rules the placement breaks.
 *
 * No ping-pong: a VM that moved less than cooldown_s ago stays; a VM never
 * returns within pingpong_s to the host it left; a host is relieved only when
 * its peak passes trigger_util and only down to target_util (hysteresis);
 * the destination must stay below trigger_util - margin after the move and
 * the source must improve; the cost reduction must reach min_gain; and the
 * benefit (cost reduction x the VM's horizon) must exceed benefit_ratio x the
 * migration cost from src/migrate (migrate_plan_choose / migrate_plan_cost_s).
 * Every refused candidate gets a one-line reason ("why not").
 *
 * Files: score.c (config, classes, host cost, rules), check.c (the move
 * check and its reasons), balance.c (placement, balancing, consolidation,
 * evacuation, limits).
 */
#ifndef ARAS_PLANNER_PLANNER_H
#define ARAS_PLANNER_PLANNER_H

#include "migrate/migrate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLANNER_REASON_MAX 160
#define PLANNER_NEVER      INT64_MIN /* last_move_ms / left_ms: never happened */

enum planner_res {
    PLANNER_RES_CPU,  /* e.g. MIPS or cores */
    PLANNER_RES_MEM,  /* e.g. MiB */
    PLANNER_RES_DISK, /* e.g. MB/s or IOPS */
    PLANNER_RES_NET,  /* e.g. MB/s */
    PLANNER_RES_COUNT
};
const char *planner_res_str(enum planner_res r);

/* A VM's load type, from its history (planner_classify). */
enum planner_class {
    PLANNER_CLASS_LIGHT, /* no resource stands out */
    PLANNER_CLASS_CPU,
    PLANNER_CLASS_MEM,
    PLANNER_CLASS_IO, /* disk or network */
    PLANNER_CLASS_COUNT
};
const char *planner_class_str(enum planner_class c);

struct planner_host {
    const char *name;              /* borrowed, for reasons; NULL: "host N" */
    double cap[PLANNER_RES_COUNT]; /* capacity; 0 = resource not modelled on this host */
    double core_cap;               /* CPU capacity of one core (0: not checked) */
    double link_bytes_per_s;       /* migration bandwidth in and out (0: cfg default) */
    double idle_w, max_w;          /* power at 0 and 100 % CPU (0, 0: unknown) */
    bool maintenance;              /* takes nothing; balancing evacuates it */
    uint32_t migrations;           /* migrations in flight, in or out (caller's count) */
    /* derived by planner_cluster_update() from the VMs: */
    double used[PLANNER_RES_COUNT]; /* sum of the VMs' use */
    double peak[PLANNER_RES_COUNT]; /* sum of the VMs' peak */
    uint32_t n_vms;
    uint32_t n_class[PLANNER_CLASS_COUNT]; /* VMs of each load class */
};

struct planner_vm {
    const char *name;               /* borrowed; NULL: "VM N" */
    int32_t host;                   /* index of its host, -1 when not placed */
    double use[PLANNER_RES_COUNT];  /* demand now, in the hosts' units */
    double peak[PLANNER_RES_COUNT]; /* predicted demand over the horizon (>= use) */
    double core_peak;               /* peak CPU of its busiest vCPU (checked against core_cap) */
    enum planner_class cls;
    double horizon_s;            /* expected remaining run time; 0 = cfg->default_horizon_s */
    bool never_move;             /* balancing and evacuation leave it where it is */
    int32_t pin;                 /* host it must run on, -1 = none */
    bool migrating;              /* a migration of it is in flight */
    int64_t last_move_ms;        /* when it last started moving, PLANNER_NEVER if never */
    int32_t left_host;           /* host it left then, -1 = none */
    struct migrate_vm_load load; /* for the migration cost */
};

enum planner_rule_kind {
    PLANNER_RULE_AFFINITY,      /* VMs a and b on the same host */
    PLANNER_RULE_ANTI_AFFINITY, /* VMs a and b on different hosts */
    PLANNER_RULE_HOST_AFFINITY, /* VM a on host b */
    PLANNER_RULE_HOST_ANTI,     /* VM a not on host b */
};
const char *planner_rule_kind_str(enum planner_rule_kind k);

struct planner_rule {
    enum planner_rule_kind kind;
    bool hard;     /* hard: never broken by a move; soft: costs weight when broken */
    uint32_t a, b; /* VM index; VM or host index by kind */
    double weight; /* soft rules: cost added while broken */
};

/* The cluster as the planner sees it. Arrays are borrowed; the planner changes
 * only vms[].host/last_move_ms/left_host and the hosts' derived fields when
 * it applies its own moves (planner_balance with apply). */
struct planner_cluster {
    struct planner_host *hosts;
    uint32_t n_hosts;
    struct planner_vm *vms;
    uint32_t n_vms;
    const struct planner_rule *rules;
    size_t n_rules;
    uint32_t migrations; /* migrations in flight in the cluster (caller's count) */
};

struct planner_config {
    double weight[PLANNER_RES_COUNT]; /* [1, 1, 0.5, 0.5] */
    /* interference[a][b]: cost of one co-located pair of classes a and b;
     * [light row/column 0, same class 0.02, different classes 0] */
    double interference[PLANNER_CLASS_COUNT][PLANNER_CLASS_COUNT];
    double trigger_util;           /* a host is overloaded above this peak utilisation [0.9] */
    double target_util;            /* relief stops at this [0.75] */
    double margin;                 /* destinations stay below trigger - margin [0.05] */
    double low_util;               /* consolidation empties hosts below this [0.3] */
    double cooldown_s;             /* a VM moves at most once per cooldown [3600] */
    double pingpong_s;             /* never back to the host it left within this [3600] */
    double min_gain;               /* least host-cost reduction a move must bring [0.005] */
    double benefit_ratio;          /* gain x horizon must exceed this x migration cost [2] */
    double default_horizon_s;      /* for VMs whose horizon is unknown [3600] */
    double max_horizon_s;          /* the benefit counts at most this far [86400] */
    double link_bytes_per_s;       /* for hosts without their own [125e6: 1 Gbit/s] */
    struct migrate_limits limits;  /* for the migration cost */
    bool consolidate;              /* energy-aware: pack onto few hosts, free the rest */
    uint32_t max_moves_per_cycle;  /* [64] */
    uint32_t max_migrations_host;  /* in flight per host, in + out [2] */
    uint32_t max_migrations_total; /* in flight in the cluster [16] */
};
void planner_config_default(struct planner_config *c);

/* The class of a VM from its mean use (normalised by ref_cap, a typical host):
 * the resource with the largest share if that share is at least light_frac,
 * else LIGHT. Disk and network both make IO. */
enum planner_class planner_classify(const double *mean_use, const double *ref_cap,
                                    double light_frac);

/* Recompute every host's used, peak and n_vms from the VMs. */
void planner_cluster_update(struct planner_cluster *cl);

/* Cost of host h's state (lower is better) if VM add (-1: none) joined it and
 * VM del (-1: none) left it. */
double planner_host_cost(const struct planner_cluster *cl, const struct planner_config *cfg,
                         uint32_t h, int32_t add, int32_t del);
/* Highest peak utilisation over the modelled resources of host h, with VM
 * add (-1: none) added and VM del (-1: none) removed; *res (may be NULL) gets
 * the resource. */
double planner_host_util(const struct planner_cluster *cl, uint32_t h, int32_t add, int32_t del,
                         enum planner_res *res);

/* Why a move may not happen. PLANNER_MOVE_OK when it may. */
enum planner_move_mode {
    PLANNER_MODE_RELIEVE,     /* balancing an overloaded source */
    PLANNER_MODE_CONSOLIDATE, /* emptying an underloaded source (energy) */
    PLANNER_MODE_EVACUATE,    /* maintenance: the source must empty */
};

struct planner_verdict {
    bool ok;
    double gain;                     /* host-cost reduction (src + dst) */
    double cost_s;                   /* migration cost (migrate_plan_cost_s), 0 if not computed */
    double benefit_s;                /* gain x horizon */
    char reason[PLANNER_REASON_MAX]; /* why not; "ok: ..." when ok */
};

/* Check moving VM vm to host dst at now_ms under mode: rules, limits,
 * ping-pong guards, projected utilisation, gain, cost against benefit (in
 * this order; the first failure is the reason). Returns v->ok. */
bool planner_move_check(const struct planner_cluster *cl, const struct planner_config *cfg,
                        uint32_t vm, uint32_t dst, int64_t now_ms, enum planner_move_mode mode,
                        struct planner_verdict *v);

/* Only the placement part of the check (rules, maintenance, capacity below
 * trigger - margin) for placing vm on host dst; reason on failure. */
bool planner_fits(const struct planner_cluster *cl, const struct planner_config *cfg, uint32_t vm,
                  uint32_t dst, char *reason, size_t len);

struct planner_move {
    uint32_t vm, src, dst;
    double gain, cost_s;
    int32_t prev_left_host; /* the VM's fields before the move, to undo it */
    int64_t prev_last_move_ms;
};

struct planner_reject {
    uint32_t vm;
    int32_t dst; /* -1: about the VM as a whole */
    char reason[PLANNER_REASON_MAX];
};

/* A planning result. Zero-initialise; planner_plan_reset() empties it for
 * reuse, planner_plan_free() releases it. Rejections are kept only when
 * keep_rejects is set (the simulator does not need them), at most
 * max_rejects of them (0: 4096); n_rejected counts them all. */
struct planner_plan {
    struct planner_move *moves;
    size_t n_moves, cap_moves;
    struct planner_reject *rejects;
    size_t n_rejects, cap_rejects;
    uint64_t n_rejected;
    bool keep_rejects;
    size_t max_rejects;
};
void planner_plan_reset(struct planner_plan *p);
void planner_plan_free(struct planner_plan *p);
/* The kept rejections about vm, most recent last, into out (up to n). */
size_t planner_plan_why_not(const struct planner_plan *p, uint32_t vm,
                            const struct planner_reject **out, size_t n);

/* Best host for VM vm (not placed, or being re-placed): the lowest
 * planner_host_cost increase among hosts that fit; with cfg->consolidate,
 * hosts already running VMs first and, among them, the least power increase
 * per unit of capacity (best fit). Returns the host, or -1 with the reasons in
 * plan (may be NULL). */
int32_t planner_place(const struct planner_cluster *cl, const struct planner_config *cfg,
                      uint32_t vm, struct planner_plan *plan);

/* One balancing cycle at now_ms: evacuate hosts in maintenance, relieve hosts
 * whose peak passes trigger_util down to target_util, and with
 * cfg->consolidate empty hosts below low_util whose VMs all fit elsewhere;
 * within max_moves_per_cycle and the migration limits. Moves are appended to
 * plan and applied to cl (VM hosts, last_move_ms, left_host, host sums and
 * migration counts), so the caller can compare before and after. Returns the
 * number of moves planned. */
size_t planner_balance(struct planner_cluster *cl, const struct planner_config *cfg, int64_t now_ms,
                       struct planner_plan *plan);

/* Move every movable VM off host h (maintenance enter), best destination
 * each, applied to cl as planner_balance does; VMs that cannot go get a
 * rejection. Returns the number of VMs left on h. */
size_t planner_evacuate(struct planner_cluster *cl, const struct planner_config *cfg, uint32_t h,
                        int64_t now_ms, struct planner_plan *plan);

#endif
