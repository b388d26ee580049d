/* lv: private state of the libvirt backend, shared by its files (never
 * included outside src/backend/libvirt/; this is the only place that includes
 * libvirt headers).
 *
 * Threads: poll() and the growth calls run on the loop thread, migrate() and
 * friends on workers, libvirt's event callbacks on our event-loop thread. A
 * host's connection pointer is replaced only under its lock, and users take
 * their own reference (lv_host_conn) so a reconnect never frees a connection
 * another thread is using.
 */
#ifndef ARAS_BACKEND_LIBVIRT_LV_H
#define ARAS_BACKEND_LIBVIRT_LV_H

#include "backend/backend.h"
#include "util/strmap.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <stdatomic.h>

#define LV_EVENT_QUEUE_MAX  4096
#define LV_RECONNECT_MIN_MS 2000
#define LV_RECONNECT_MAX_MS 60000

struct lv;

struct lv_host {
    struct lv *lv;
    char uri[MODEL_URI_MAX];
    char name[MODEL_NAME_MAX]; /* fixed at open */
    pthread_mutex_t lock;      /* guards conn and the callback ids */
    virConnectPtr conn;        /* NULL while down */
    int cb_lifecycle, cb_migiter;
    atomic_bool dropped; /* set by the close callback or a failed poll */
    atomic_int drop_why; /* close callback's reason + 1, 0 = poll failure */
    int64_t retry_at_ms, retry_backoff_ms;
    /* Reconnects run on their own thread so a host that does not answer
     * (TCP connect timeout) never stalls a poll. Guarded by lock. */
    bool connecting, connect_done;
    pthread_t connect_thread;
    /* Memory hot-plug ceilings by domain UUID (lv_mem.c). */
    pthread_mutex_t memcaps_lock;
    struct strmap memcaps;
};

struct lv_job; /* a running migration (lv_migrate.c) */

struct lv {
    struct backend *b;
    pthread_mutex_t job_lock; /* guards jobs */
    struct lv_job *jobs;
    struct lv_host *hosts;
    size_t n_hosts;
    pthread_mutex_t ev_lock; /* guards the event ring */
    struct backend_event *ev;
    size_t ev_head, ev_n;
    uint64_t ev_dropped;
    uint64_t poll_gen; /* polls so far (loop thread) */
};

static inline struct lv *lv_of(struct backend *b)
{
    return b->priv;
}

/* lv_conn.c */
/* Route libvirt's last error on this thread into err_set() as
 * "<uri>: [VM '<vm>': ]<what>: <libvirt message>"; always returns -1. */
int lv_err(const struct lv_host *h, const char *vm, const char *what);
/* A new reference to h's connection (virConnectClose() it), or NULL with
 * err_set() when the host is down. */
virConnectPtr lv_host_conn(struct lv_host *h);
/* If h is down and its back-off has expired, start reconnecting it in the
 * background; returns true if it is up now. */
bool lv_host_ensure(struct lv_host *h, int64_t now_ms);
/* Whether h has a connection now (no I/O). */
bool lv_host_up(struct lv_host *h);
struct lv_host *lv_host_by_name(struct lv *lv, const char *name);
/* Find the host where vm is active (else defined); returns the domain (free
 * with virDomainFree) and the host, or NULL with err_set(). */
virDomainPtr lv_domain_find(struct lv *lv, const char *vm, struct lv_host **host_out);
int lv_open(struct backend *b, const char *const *uris, size_t n_uris);
void lv_close(struct backend *b);
/* The host part of a URI ("qemu+ssh://root@h1:22/system" -> "h1"), "" for
 * host-less URIs (qemu:///system, test:///default). -1 if it does not fit. */
int lv_uri_host(const char *uri, char *out, size_t out_size);

/* lv_events.c */
int lv_events_start(void);
void lv_events_stop(void);
void lv_events_register(struct lv_host *h, virConnectPtr conn);
void lv_events_deregister(struct lv_host *h, virConnectPtr conn);
void lv_event_push(struct lv *lv, const char *host, const char *vm, enum backend_event_kind kind,
                   const char *detail);
int lv_drain_events(struct backend *b, struct backend_event *out, size_t max);

/* lv_poll.c */
int lv_poll(struct backend *b, struct inventory *inv);
enum vm_state lv_state_map(int state);

/* lv_xml.c: the <target dev=...> names of <disk> or <interface> elements. */
size_t lv_xml_targets(const char *xml, const char *elem, char (*names)[32], size_t max);
/* A domain's memory hot-plug room: <maxMemory slots='N'> (max_kib 0 and
 * slots 0 when absent), how many <memory model=...> devices it has, and
 * whether it has guest NUMA cells (a DIMM then needs a target node). */
struct lv_memcaps {
    uint64_t max_kib;
    unsigned slots, dimms;
    bool numa;
};
/* Parse it from domain XML; -1 (no err_set) when <maxMemory> is malformed. */
int lv_xml_memory_caps(const char *xml, struct lv_memcaps *out);
/* Escape &<>'" for an XML attribute; returns a new string. */
char *lv_xml_escape(const char *s);

/* lv_grow.c */
int lv_set_vcpus(struct backend *b, const char *vm, unsigned vcpus);
int lv_attach_disk(struct backend *b, const char *vm, uint64_t size_bytes, const char *pool_dir);
int lv_dirty_rate_start(struct backend *b, const char *vm, int calc_s);

/* lv_mem.c */
/* Balloon up to the domain's maximum; beyond it, hot-plug a DIMM (whole
 * 128 MiB blocks, within <maxMemory>) and balloon to exactly mem_kib. */
int lv_set_memory(struct backend *b, const char *vm, uint64_t mem_kib);
/* The most memory d can be given live: its <maxMemory> while a memory slot
 * is free, else max_kib (its current maximum, from the bulk stats). Cached
 * by uuid until max_kib changes; gen marks the entry seen in this poll. */
uint64_t lv_mem_ceiling(struct lv_host *h, virDomainPtr d, const char *uuid, uint64_t max_kib,
                        uint64_t gen);
/* Forget the cached domains a poll of generation gen did not see. */
void lv_mem_cache_sweep(struct lv_host *h, uint64_t gen);
void lv_mem_cache_free(struct lv_host *h);

/* lv_migrate.c */
/* Job stats of d (current, or the completed job's with
 * VIR_DOMAIN_JOB_STATS_COMPLETED); -1 with libvirt's error left set. */
int lv_job_stats(virDomainPtr d, unsigned flags, struct migrate_progress *out);
int lv_migrate(struct backend *b, const char *vm, const char *dst_host,
               const struct migrate_params *p, struct migrate_progress *result);
int lv_migrate_progress(struct backend *b, const char *vm, struct migrate_progress *out);
/* Requests the abort; the watcher issues it as soon as QEMU is transferring
 * (libvirt 9.0 was seen to hang on aborts in the setup phase). */
int lv_migrate_abort(struct backend *b, const char *vm);
int lv_migrate_start_postcopy(struct backend *b, const char *vm);

/* lv_place.c */
int lv_vm_placement(struct backend *b, const char *vm, const char *src_host, const char *dst_host,
                    struct vm_placement *out);
/* The migration libvirt runs for vm on any connected host, whoever started
 * it (e.g. an arasd that was killed meanwhile): its progress, state RUNNING.
 * -1 with err_set() when no host runs a migration job for vm. */
int lv_vm_job(struct lv *lv, const char *vm, struct migrate_progress *out);
/* After a failed pre-copy migration: resume vm on src if it was left paused
 * there for the migration and is not active on dst. Best effort (logged). */
void lv_resume_after_failure(struct lv_host *src, struct lv_host *dst, const char *vm);

#endif
