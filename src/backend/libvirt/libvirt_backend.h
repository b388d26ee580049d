/* libvirt_backend: the libvirt driver's entry for the driver table (no libvirt
 * types here, so drivers.c and tests need no libvirt headers). */
#ifndef ARAS_BACKEND_LIBVIRT_LIBVIRT_BACKEND_H
#define ARAS_BACKEND_LIBVIRT_LIBVIRT_BACKEND_H

#include "backend/backend.h"

/* Handles qemu://, qemu+ssh://, qemu+tcp://, xen://, test:// URIs: one
 * libvirt connection per URI, i.e. per host. */
extern const struct backend_ops backend_libvirt_ops;

#endif
