/* simb: internal state of the sim:// driver, shared by its files. */
#ifndef ARAS_BACKEND_SIM_SIMB_H
#define ARAS_BACKEND_SIM_SIMB_H

#include "backend/backend.h"
#include "backend/sim/sim_backend.h"
#include "policy/policy.h"
#include "sim/sim.h"

#include <pthread.h>

#define SIM_BACKEND_MAX_VCPUS 8u

struct simb {
    pthread_mutex_t lock;
    struct sim_traceset ts;
    struct sim *sim;
    struct policy_consolidation pc;
    struct sim_policy none;
    const struct sim_policy *policy;
    double speed, start_s;
    int64_t t0_ms;
    double t_s;          /* simulated time counters were integrated to */
    uint64_t *vm_cpu_ns; /* per VM */
    double *vm_cpu_frac; /* per VM: sub-ns remainder */
    uint64_t *host_busy_ns, *host_total_ns;
};

/* Entry points implemented in sim_counters.c (see sim_backend.c for the contract). */
int simb_poll(struct backend *b, struct inventory *inv);
int simb_set_vcpus(struct backend *b, const char *vm, unsigned vcpus);
int simb_set_memory(struct backend *b, const char *vm, uint64_t mem_kib);
int simb_migrate(struct backend *b, const char *vm, const char *dst_host,
                 const struct migrate_params *p, struct migrate_progress *result);
int simb_migrate_progress(struct backend *b, const char *vm, struct migrate_progress *out);

#endif
