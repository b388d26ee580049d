/* drivers: the driver tables the dispatcher knows (internal to backend/). */
#ifndef ARAS_BACKEND_DRIVERS_H
#define ARAS_BACKEND_DRIVERS_H

#include "backend/backend.h"

/* URI scheme prefix -> driver. A scheme matches "<prefix>:" or "<prefix>+...:". */
struct backend_driver_entry {
    const char *scheme;
    const struct backend_ops *ops;
};

extern const struct backend_driver_entry backend_drivers[];
extern const size_t backend_n_drivers;

#endif
