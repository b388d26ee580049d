/* sim_backend: the sim:// backend driver (a simulated cluster inside the daemon).
 * See sim_backend.c for the URI and the model. */
#ifndef ARAS_BACKEND_SIM_SIM_BACKEND_H
#define ARAS_BACKEND_SIM_SIM_BACKEND_H

#include "backend/backend.h"

extern const struct backend_ops sim_backend_ops;

#endif
