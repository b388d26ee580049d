/* consolidation: internal helpers shared by the baseline policy files. */
#ifndef ARAS_POLICY_CONSOLIDATION_H
#define ARAS_POLICY_CONSOLIDATION_H

#include "policy/policy.h"

/* Size the scratch arrays for s (no-op once they are big enough). */
void policy_scratch_ensure(struct policy_consolidation *pc, const struct sim *s);
/* Remember every host's VM list (VMs migrating in excepted) ... */
void policy_alloc_save(struct policy_consolidation *pc, const struct sim *s);
/* ... and put it back exactly, after a planning round changed it. */
void policy_alloc_restore(struct policy_consolidation *pc, struct sim *s);

#endif
