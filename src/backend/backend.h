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
    uint32_t postcopy_after_rounds; /* ... or once this many pre-copy rounds are done (0 = off) */
    bool compress;                  /* xbzrle / multifd compression */
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

/* Asynchronous things a backend saw happen (lifecycle, migration progress,
 * hosts dropping and coming back), queued until drained by the loop. */
enum backend_event_kind {
    BACKEND_EVENT_OTHER,
    BACKEND_EVENT_DEFINED,
    BACKEND_EVENT_UNDEFINED,
    BACKEND_EVENT_STARTED,
    BACKEND_EVENT_SUSPENDED,
    BACKEND_EVENT_RESUMED,
    BACKEND_EVENT_STOPPED,
    BACKEND_EVENT_SHUTDOWN,
    BACKEND_EVENT_PMSUSPENDED,
    BACKEND_EVENT_CRASHED,
    BACKEND_EVENT_MIGRATION_ITERATION,
    BACKEND_EVENT_HOST_DOWN,
    BACKEND_EVENT_HOST_UP,
};
const char *backend_event_kind_str(enum backend_event_kind k);

#define BACKEND_EVENT_DETAIL_MAX 128

struct backend_event {
    int64_t t_ms; /* clock_now_ms() when seen (virtual clocks: when drained) */
    char host[MODEL_NAME_MAX];
    char vm[MODEL_NAME_MAX]; /* "" for host events */
    enum backend_event_kind kind;
    char detail[BACKEND_EVENT_DETAIL_MAX]; /* e.g. "migrated", "iteration 3" */
};

/* Where a VM is after a migration: its state on the source and destination.
 * *_active means the domain exists there and is active (running, paused, ...). */
struct vm_placement {
    bool src_active, dst_active;
    enum vm_state src_state, dst_state; /* VM_STATE_UNKNOWN when absent */
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
    /* Move up to max queued events into out, oldest first; returns the count
     * (0 when none), or -1 with err_set(). NULL slot: the backend has none. */
    int (*drain_events)(struct backend *b, struct backend_event *out, size_t max);
    /* Fill *out with vm's state on src_host and dst_host. NULL slot: derived
     * from a poll. */
    int (*vm_placement)(struct backend *b, const char *vm, const char *src_host,
                        const char *dst_host, struct vm_placement *out);
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
/* Events queued since the last drain (see drain_events); 0 if the backend has none. */
int backend_drain_events(struct backend *b, struct backend_event *out, size_t max);
int backend_vm_placement(struct backend *b, const char *vm, const char *src_host,
                         const char *dst_host, struct vm_placement *out);
/* The "exactly once" check after every migration, succeeded or failed: 0 when
 * vm is active on exactly one of src_host/dst_host and running there (its host
 * name is copied to where[where_size]); otherwise -1 with err_set() naming the
 * state on both hosts. */
int backend_vm_check_once(struct backend *b, const char *vm, const char *src_host,
                          const char *dst_host, char *where, size_t where_size);

#endif
