/* drivers: the table of backend drivers by URI scheme. Add a driver here. */
#include "backend/drivers.h"

const struct backend_driver_entry backend_drivers[] = {
    {"", NULL}, /* sentinel so the array is never empty; never matches (length 0) */
};
const size_t backend_n_drivers = sizeof(backend_drivers) / sizeof(backend_drivers[0]);
