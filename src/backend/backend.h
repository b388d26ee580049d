/* backend: the contract between ARAS and a hypervisor cluster, chosen by URI scheme.
 *
 * One `struct backend_ops` of function pointers per driver, as in libvirt:
 * qemu://, qemu+ssh://, qemu+tcp://, xen://, test:// go to the libvirt driver;
 * sim:// to the trace-driven simulator. A NULL slot means "unsupported" and the
 * backend_*() wrappers report it as an error, never a crash.
 *
 * A backend instance covers a whole cluster: for libvirt, one connection per
 * host URI given to backend_open(); for the simulator, one URI naming the
 * simulated cluster. Calls are made from the daemon's loop thread; migrate()
 * blocks and is run on a worker thread by the caller (see migrate/).
 */
#ifndef ARAS_BACKEND_BACKEND_H
#define ARAS_BACKEND_BACKEND_H

#include "model/model.h"
#include "util/clock.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum storage_copy {
    STORAGE_COPY_NONE, /* shared storage */
    STORAGE_COPY_ALL,  /* copy every disk block (--copy-storage-all) */
    STORAGE_COPY_INC,  /* copy only the top overlay (--copy-storage-inc) */
};

/* Typed migration parameters; zero values mean "backend default". */
struct migrate_params {
    double bandwidth_bytes_per_s; /* 0 = unlimited */
    int64_t max_downtime_ms;
    bool auto_converge;
    bool postcopy;             /* allow post-copy ... */
    int64_t postcopy_after_ms; /* ... and switch after this long in pre-copy (0 = never auto) */
    bool compress;             /* xbzrle / multifd compression */
    unsigned parallel_connections;
    enum storage_copy storage;
    int64_t timeout_ms;           /* abort (or force) after this long; 0 = none */
    char dest_uri[MODEL_URI_MAX]; /* explicit migration URI, "" = derive from host */
};

enum migrate_job_state {
    MIGRATE_JOB_NONE,
    MIGRATE_JOB_RUNNING,
    MIGRATE_JOB_COMPLETED,
    MIGRATE_JOB_FAILED,
    MIGRATE_JOB_CANCELLED,
};
const char *migrate_job_state_str(enum migrate_job_state s);

/* Progress or final result of a migration job. */
struct migrate_progress {
    enum migrate_job_state state;
    int64_t elapsed_ms;
    int64_t downtime_ms; /* final, or -1 while running */
    uint64_t data_total_bytes, data_processed_bytes, data_remaining_bytes;
    uint64_t mem_dirty_rate_pages_s;
    uint64_t iterations;
    bool postcopy_active;
};

struct backend;

struct backend_ops {
    const char *name; /* "libvirt", "sim" */
    /* Connect to every URI in uris[0..n-1]. Return 0, or -1 with err_set(). */
    int (*open)(struct backend *b, const char *const *uris, size_t n_uris);
    void (*close)(struct backend *b);
    /* Fill inv (already cleared) with every host and VM and their cumulative
     * counters read now. Required. A host that cannot be reached is listed
     * with up = false rather than failing the whole poll. */
    int (*poll)(struct backend *b, struct inventory *inv);
    /* Growth in place (live). */
    int (*set_vcpus)(struct backend *b, const char *vm, unsigned vcpus);
    int (*set_memory)(struct backend *b, const char *vm, uint64_t mem_kib);
    int (*attach_disk)(struct backend *b, const char *vm, uint64_t size_bytes,
                       const char *pool_dir);
    /* Live-migrate vm to dst_host; blocks until the job ends and fills result. */
    int (*migrate)(struct backend *b, const char *vm, const char *dst_host,
                   const struct migrate_params *p, struct migrate_progress *result);
    /* Progress of a running migration of vm (from another thread). */
    int (*migrate_progress)(struct backend *b, const char *vm, struct migrate_progress *out);
    int (*migrate_abort)(struct backend *b, const char *vm);
    int (*migrate_start_postcopy)(struct backend *b, const char *vm);
    /* Start a dirty-rate measurement over calc_s seconds; the result shows up
     * in vm_counters.dirty_rate_mib_s of a later poll. */
    int (*dirty_rate_start)(struct backend *b, const char *vm, int calc_s);
};

struct backend {
    const struct backend_ops *ops;
    struct clock *clock; /* borrowed; outlives the backend */
    void *priv;          /* driver state */
};

/* Pick the driver from the URI scheme of uris[0] (all must share one driver)
 * and open it. Returns NULL with err_set() on failure. */
struct backend *backend_open(const char *const *uris, size_t n_uris, struct clock *clock);
void backend_close(struct backend *b);

/* The driver that handles uri's scheme, or NULL (err_set) if none does. */
const struct backend_ops *backend_lookup(const char *uri);

/* Wrappers that report a NULL slot as "unsupported". */
int backend_poll(struct backend *b, struct inventory *inv);
int backend_set_vcpus(struct backend *b, const char *vm, unsigned vcpus);
int backend_set_memory(struct backend *b, const char *vm, uint64_t mem_kib);
int backend_attach_disk(struct backend *b, const char *vm, uint64_t size_bytes,
                        const char *pool_dir);
int backend_migrate(struct backend *b, const char *vm, const char *dst_host,
                    const struct migrate_params *p, struct migrate_progress *result);
int backend_migrate_progress(struct backend *b, const char *vm, struct migrate_progress *out);
int backend_migrate_abort(struct backend *b, const char *vm);
int backend_migrate_start_postcopy(struct backend *b, const char *vm);
int backend_dirty_rate_start(struct backend *b, const char *vm, int calc_s);

#endif
