/* drivers: the table of backend drivers by URI scheme. Add a driver here. */
#include "backend/drivers.h"
#include "backend/libvirt/libvirt_backend.h"
#include "backend/sim/sim_backend.h"

const struct backend_driver_entry backend_drivers[] = {
    {"qemu", &backend_libvirt_ops},
    {"xen", &backend_libvirt_ops},
    {"test", &backend_libvirt_ops},
    {"sim", &sim_backend_ops},
    {"", NULL}, /* sentinel so the array is never empty; never matches (length 0) */
};
const size_t backend_n_drivers = sizeof(backend_drivers) / sizeof(backend_drivers[0]);
