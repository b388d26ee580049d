/* internal: functions shared by the files of src/sim, not part of its API. */
#ifndef ARAS_SIM_INTERNAL_H
#define ARAS_SIM_INTERNAL_H

#include "sim/sim.h"

/* Append vm to host's list (RAM/BW reserved only while instantiating; mig_in:
 * as a VM migrating in) and re-run the host's scheduler. Does not change vm->host. */
void sim_host_slot_append(struct sim *s, uint32_t host, uint32_t vm, bool mig_in);
/* Remove vm's slot (the migrating-in one if mig_in) from host's list (order of the others kept) and
 * re-run the scheduler. */
void sim_host_slot_remove(struct sim *s, uint32_t host, uint32_t vm, bool mig_in);

/* Metrics (metrics.c): fold a VM/host state-history entry into its accumulator. */
void sim_vm_state_add(struct sim_vm *v, double t, double alloc, double req, bool migrating);
void sim_host_state_add(struct sim_host *h, double t, double alloc, double req, bool active);

#endif
