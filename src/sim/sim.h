/* sim: a trace-driven, power-aware cluster simulator that reproduces CloudSim 3.0.3.
 *
 * The model follows CloudSim's PlanetLab set-up closely enough that the published
 * consolidation baselines (src/policy/policy.h) land on CloudSim's numbers:
 * hosts with PEs, a SPECpower model and a time-shared over-subscribing VM
 * scheduler; one single-PE VM per trace file whose CPU demand is the trace
 * interpolated at the current time; a scheduling step every 300 s; migrations
 * that take RAM / (bandwidth / 2) seconds, during which the VM gets 90 % of the
 * MIPS it asks for and the destination reserves 10 %; energy integrated between
 * updates with the linear-interpolation rule; SLATAH / PDM from per-host and
 * per-VM state histories. The CloudSim quirks that move the numbers are kept
 * and named where they are implemented (step.c, cluster.c).
 *
 * Layout: trace.c (loading), power.c (power models), cluster.c (hosts, VMs,
 * the per-host scheduler), step.c (the event loop), metrics.c (accumulators).
 * Memory is allocated when a simulation is built; a step allocates nothing.
 * Everything here is single-threaded and deterministic.
 */
#ifndef ARAS_SIM_SIM_H
#define ARAS_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_TRACE_SAMPLES  288   /* samples in a PlanetLab day file */
#define SIM_TRACE_STEP_S   300.0 /* seconds between samples */
#define SIM_HISTORY_LEN    30    /* CloudSim's PowerVm.HISTORY_LENGTH */
#define SIM_TRACE_NAME_MAX 256
#define SIM_VM_BW_KBPS     100000.0 /* CloudSim's VM_BW: 100 Mbit/s */
#define SIM_PINGPONG_S     3600.0   /* a return within this to a host left is a ping-pong */
#define SIM_LEFT_RING      8        /* hosts a VM left that the ping-pong count remembers */

/* ---- power models (power.c) ---- */

/* SPECpower-style model: watts at 0, 10, ..., 100 % CPU, linear in between. */
struct sim_power_model {
    const char *name;
    double watts[11];
};
extern const struct sim_power_model sim_power_hp_ml110_g4;     /* Xeon 3040 */
extern const struct sim_power_model sim_power_hp_ml110_g5;     /* Xeon 3075 */
extern const struct sim_power_model sim_power_synthetic_large; /* G5 x 8, scale runs */

/* Power at utilization util (0..1; values outside are clamped). */
double sim_power_w(const struct sim_power_model *m, double util);

/* ---- traces (trace.c) ---- */

struct sim_trace {
    char *name;     /* file name (may contain spaces); owned */
    uint8_t *pct;   /* n_samples + 1 values: the file, then a copy of the last */
    size_t n_lines; /* lines in the file */
};

/* One directory of trace files, sorted by name as bytes (strcmp). Owns everything. */
struct sim_traceset {
    char *dir;
    struct sim_trace *traces;
    size_t n;
    size_t n_samples; /* common length used for interpolation (the longest file) */
};

/* Load every regular file of dir (hidden files skipped) as one VM trace: one
 * integer 0..100 per line. A bad value is an error naming "file:line". Files
 * shorter than the longest are padded with their last value; an empty file or
 * an empty directory is an error. Returns 0, or -1 with err_set(). */
int sim_traceset_load(const char *dir, struct sim_traceset *ts);
void sim_traceset_free(struct sim_traceset *ts);
/* Where time t_s falls between samples; computed once for many traces. */
struct sim_trace_pos {
    double t_s;    /* the time, wrapped into the day */
    size_t k1, k2; /* samples before and after (equal at a sample time) */
    double span_s; /* (k2 - k1) * 300 */
    double off_s;  /* t_s - k1 * 300 */
};
void sim_trace_pos(const struct sim_traceset *ts, double t_s, struct sim_trace_pos *pos);
/* sim_trace_util() at a precomputed position (bit-identical). */
static inline double sim_trace_util_at(const struct sim_traceset *ts, size_t trace,
                                       const struct sim_trace_pos *pos)
{
    const uint8_t *d = ts->traces[trace].pct;
    if (pos->k1 == pos->k2)
        return d[pos->k1] / 100.0;
    double u1 = d[pos->k1] / 100.0, u2 = d[pos->k2] / 100.0;
    return u1 + (u2 - u1) / pos->span_s * pos->off_s;
}
/* CPU demand of trace t at time t_s (fraction 0..1), interpolated linearly
 * between samples as CloudSim's UtilizationModelPlanetLabInMemory does; times
 * past the end wrap around the day (used by the daemon's endless replay). */
double sim_trace_util(const struct sim_traceset *ts, size_t trace, double t_s);

/* ---- cluster model (cluster.c) ---- */

struct sim_host_type {
    const char *name;
    unsigned pes;
    double pe_mips;
    uint32_t ram_mb;
    double bw_kbps; /* CloudSim's HOST_BW unit: 1,000,000 = 1 Gbit/s */
    const struct sim_power_model *power;
};

struct sim_vm_type {
    const char *name;
    double mips; /* one PE */
    uint32_t ram_mb;
};

/* A VM's slot in a host's VM list, with what the host's scheduler gave it. */
struct sim_slot {
    uint32_t vm;
    double alloc_mips; /* total MIPS allocated on this host */
    uint32_t ram_mb;   /* RAM reserved when it was created here */
    double bw_kbps;    /* bandwidth reserved when it was created here */
    bool mig_in;       /* the VM is migrating in (CloudSim's vmsMigratingIn) */
};

/* One state-history accumulator (CloudSim's Host/VmStateHistoryEntry lists,
 * folded as they grow: an entry at the same time replaces the pending one). */
struct sim_state_acc {
    double t, alloc, req; /* pending entry; t < 0 when none */
    bool flag;            /* VM: in migration; host: active */
    bool has_prev;        /* host: a committed entry exists */
    bool prev_active;     /* host: last committed entry's active flag */
};

struct sim_vm {
    uint32_t id;
    uint32_t trace; /* index into the traceset */
    uint8_t type;
    double mips;
    uint32_t ram_mb;
    int32_t host;    /* host whose list holds it as a resident; -1 if none */
    int32_t mig_dst; /* last migration's destination while migrating, else -1 */
    bool in_migration;
    bool instantiating;           /* requests full MIPS/RAM (CloudSim's isBeingInstantiated) */
    bool removed;                 /* dropped by CloudSim's "completed VM" rule */
    double util;                  /* demand at sched_t_s (fraction of mips) */
    double sched_t_s;             /* CloudletScheduler previousTime */
    double hist_t_s;              /* PowerVm previousTime */
    double hist[SIM_HISTORY_LEN]; /* utilization history, newest first */
    uint8_t n_hist;
    uint32_t uid_hash;                        /* HashMap hash of CloudSim's uid, see cluster.c */
    uint32_t user_vcpus;                      /* sim:// driver: vCPUs as seen by the daemon */
    uint64_t user_mem_kib;                    /* sim:// driver: memory as seen by the daemon */
    struct sim_state_acc acc;                 /* for PDM */
    double total_alloc, total_req, under_mig; /* MIPS*s sums for PDM */
    int32_t left_host[SIM_LEFT_RING];         /* hosts it last left (a ring; -1 empty) */
    double left_s[SIM_LEFT_RING];             /* when it started leaving each */
    uint8_t left_head;                        /* next ring slot */
};

struct sim_host {
    uint32_t id;
    const struct sim_host_type *type;
    double total_mips;
    struct sim_slot *slots; /* VM list in CloudSim order (migrating-in VMs too) */
    uint32_t n_slots;
    size_t cap_slots;
    uint32_t n_mig_in;
    uint32_t max_slots; /* most VMs ever listed at once (CloudSim's map size) */
    double avail_mips;  /* scheduler's available MIPS */
    uint32_t ram_used_mb;
    double bw_used;
    double util_mips, prev_util_mips; /* as of the last update */
    struct sim_state_acc acc;         /* for SLATAH and shutdowns */
    /* the host's active intervals in time order, negated when in violation:
     * SLATAH sums them host after host as CloudSim's Helper does */
    double *active_iv;
    size_t n_active_iv, cap_active_iv;
    uint32_t shutdowns;
    double energy_j;
    double power_w;        /* at util_mips (sim_host_power_w) */
    double prev_power_w;   /* at prev_util_mips */
    bool dirty;            /* touched by a migration ending now */
    double alloc_sum_mips; /* allocated MIPS, a VM migrating in counted whole */
    /* cache of sim_host_history() sums (valid while hist_epoch == sim's) */
    double hist_cache[SIM_HISTORY_LEN];
    uint64_t hist_epoch;
};

/* One planned migration. */
struct sim_move {
    uint32_t vm;
    uint32_t dst;
};

struct sim_moves {
    struct sim_move *v;
    size_t n, cap;
};

struct sim;

/* A consolidation policy as the simulator calls it (see policy/policy.h). */
struct sim_policy {
    const char *name;
    bool migrations; /* false: never call optimize (NPA, DVFS) */
    bool max_power;  /* NPA: every host draws its maximum power all the time */
    /* Host for a VM being created, or -1 if none fits. */
    int32_t (*place)(void *ctx, struct sim *s, uint32_t vm);
    /* Append the migrations to start now to out (cleared by the caller). The
     * policy may create/destroy VMs on hosts while planning (sim_host_vm_add /
     * sim_host_vm_remove) but must leave the allocation as it found it. */
    int (*optimize)(void *ctx, struct sim *s, struct sim_moves *out);
    void *ctx;
};

struct sim_config {
    uint32_t n_hosts;                       /* default 800 */
    uint32_t n_vms;                         /* 0 = one per trace; more reuse traces round-robin */
    const struct sim_host_type *host_types; /* alternate in order; NULL = ML110 G4/G5 */
    size_t n_host_types;
    double interval_s;  /* default 300 */
    double limit_s;     /* default 86400 */
    double start_s;     /* first cloudlet time, default 0.1 (CloudSim) */
    bool keep_idle_vms; /* false = CloudSim: drop a VM when its demand hits 0 */
};

/* Aggregate results, CloudSim's Helper.printResults quantities. */
struct sim_result {
    uint32_t hosts, vms;
    double sim_time_s;
    double energy_kwh;
    uint64_t migrations;
    uint64_t pingpongs; /* migrations to a host the VM left within SIM_PINGPONG_S */
    double slatah_pct, pdm_pct, slav_pct;
    uint32_t host_shutdowns;
    uint32_t vms_removed;
    uint32_t steps;
};

/* Per-step observation hook for logs and progress bars. */
struct sim_step_info {
    uint32_t step;
    double t_s;
    uint32_t active_hosts;
    uint32_t migrations_started;
    double energy_kwh;
    double power_w;
};

struct sim {
    const struct sim_traceset *ts; /* borrowed */
    struct sim_config cfg;
    struct sim_host *hosts;
    uint32_t n_hosts;
    struct sim_vm *vms;
    uint32_t n_vms;
    struct sim_vm_type vm_types[4];
    double now_s;
    double last_process_s;
    double next_step_s;
    double energy_j;
    uint64_t migrations;
    uint64_t pingpongs;
    uint32_t steps;
    uint32_t removed;
    bool placed;
    /* migrations in flight, in start order (a FIFO by end time per batch) */
    struct sim_inflight {
        uint32_t vm, dst;
        double end_s;
    } * inflight;
    size_t n_inflight, cap_inflight;
    struct sim_moves moves;   /* scratch for optimize() */
    uint64_t hist_epoch;      /* bumped whenever a VM's history changes */
    int32_t probe_host;       /* host with a probe VM appended, or -1 */
    struct sim_trace_pos pos; /* trace position of pos_t_s */
    double pos_t_s;
};

/* The VM's requested MIPS now (full MIPS while being instantiated). */
static inline double sim_vm_requested_mips(const struct sim *s, uint32_t vm)
{
    const struct sim_vm *v = &s->vms[vm];
    return v->instantiating ? v->mips : v->util * v->mips;
}

/* CloudSim's Host.isSuitableForVm: PE capacity, available MIPS, RAM, BW
 * (a VM asks for RAM and BW only while being instantiated). */
static inline bool sim_host_suitable(const struct sim *s, uint32_t host, uint32_t vm)
{
    const struct sim_host *h = &s->hosts[host];
    const struct sim_vm *v = &s->vms[vm];
    double req = sim_vm_requested_mips(s, vm);
    if (h->type->pe_mips < req || h->avail_mips < req)
        return false;
    uint32_t ram = v->instantiating ? v->ram_mb : 0;
    double bw = v->instantiating ? SIM_VM_BW_KBPS : 0;
    return h->type->ram_mb - h->ram_used_mb >= ram && h->type->bw_kbps - h->bw_used >= bw;
}

/* Current power draw of a host (W) at its last-update utilization. */
static inline double sim_host_power_w(const struct sim *s, uint32_t host)
{
    return s->hosts[host].power_w;
}

/* The CloudSim PlanetLab host types and VM types. */
extern const struct sim_host_type sim_host_types_planetlab[2];
/* One big host type for scale runs: 16 PEs x 2660 MIPS, 64 GiB, 10 Gbit/s. */
extern const struct sim_host_type sim_host_types_large[1];
extern const struct sim_vm_type sim_vm_types_planetlab[4];

void sim_config_default(struct sim_config *cfg);

/* Build hosts and VMs over ts (borrowed; must outlive the sim). VM i follows
 * trace i % ts->n; its type is i / ceil(n/4) as in CloudSim's Helper. Returns
 * NULL with err_set() on a bad config. */
struct sim *sim_new(const struct sim_traceset *ts, const struct sim_config *cfg);
void sim_free(struct sim *s);

/* Create every VM at time 0 with policy->place (full requested MIPS and RAM).
 * Returns -1 (err_set) if a VM fits nowhere. */
int sim_place_all(struct sim *s, const struct sim_policy *p);

/* Run one event: the next migration completion or scheduling step, whichever
 * comes first, as long as it is before the limit. Returns 1 if an event ran,
 * 0 at the end, -1 on error. info (may be NULL) is filled after a step. */
int sim_advance(struct sim *s, const struct sim_policy *p, struct sim_step_info *info,
                bool *was_step);
/* Run every event at or before t_s (and before the limit). Returns the number
 * of events run, or -1. step_cb (may be NULL) sees every scheduling step. */
int sim_advance_until(struct sim *s, const struct sim_policy *p, double t_s,
                      void (*step_cb)(void *arg, const struct sim_step_info *info), void *arg);
/* Time of the next event (step or migration end), ignoring the limit. */
double sim_next_event_s(const struct sim *s);
/* Start migrating vm to dst now (as a policy's move would). Returns the
 * modelled duration in seconds, or -1 with err_set() if the VM is removed or
 * already migrating, dst is its host, or dst cannot take it. */
double sim_migration_start(struct sim *s, uint32_t vm, uint32_t dst);
/* Run to the end. step_cb (may be NULL) sees every scheduling step. */
int sim_run(struct sim *s, const struct sim_policy *p,
            void (*step_cb)(void *arg, const struct sim_step_info *info), void *arg);
/* Fill r from the accumulators (the pending history entries close the run). */
void sim_result_get(const struct sim *s, struct sim_result *r);

/* ---- host operations used by policies (cluster.c) ---- */

/* Host.vmCreate: append vm to the host's list and allocate it; vm->host = host. */
void sim_host_vm_add(struct sim *s, uint32_t host, uint32_t vm);
/* sim_host_vm_add() for each of vms[0..n-1] in order (one scheduler run). */
void sim_host_vm_add_many(struct sim *s, uint32_t host, const uint32_t *vms, size_t n);
/* Host.vmDestroy: remove vm from the host's list; vm->host = -1. */
void sim_host_vm_remove(struct sim *s, uint32_t host, uint32_t vm);
/* Re-run the host's scheduler over its list (after the list was rebuilt). */
void sim_host_realloc(struct sim *s, uint32_t host);
/* CloudSim's vmDestroyAll + reallocateMigratingInVms: keep only the VMs
 * migrating in (their order kept), release RAM/BW, re-run the scheduler. */
void sim_host_reset(struct sim *s, uint32_t host);
/* Tentatively append vm to the host's list for a what-if check (overload
 * after allocation) without re-running the scheduler; sim_host_probe_end()
 * must follow before anything else changes the host. As CloudSim's
 * vmCreate/vmDestroy pair, this leaves vm->host at -1. */
void sim_host_probe_begin(struct sim *s, uint32_t host, uint32_t vm);
void sim_host_probe_end(struct sim *s, uint32_t host, uint32_t vm);
/* Host utilization (0..1) as of the last update (CloudSim's getUtilizationOfCpu). */
double sim_host_util(const struct sim *s, uint32_t host);
/* Sum of requested MIPS of the VMs in the host's list now. */
double sim_host_requested_mips(const struct sim *s, uint32_t host);
/* The host's utilization history (PowerHostUtilizationHistory): out[i] is the
 * sum of its VMs' i-th newest history values weighted by MIPS share; returns
 * the length with the zero tail trimmed. out has SIM_HISTORY_LEN slots. */
size_t sim_host_history(const struct sim *s, uint32_t host, double *out);

#endif
