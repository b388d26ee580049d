/* backend: driver dispatch by URI scheme and "unsupported" wrappers (see backend.h). */
#include "backend/backend.h"

#include "backend/drivers.h"
#include "util/error.h"
#include "util/mem.h"

#include <string.h>

static const char *const job_state_names[] = {
    [MIGRATE_JOB_NONE] = "none",           [MIGRATE_JOB_RUNNING] = "running",
    [MIGRATE_JOB_COMPLETED] = "completed", [MIGRATE_JOB_FAILED] = "failed",
    [MIGRATE_JOB_CANCELLED] = "cancelled",
};

const char *migrate_job_state_str(enum migrate_job_state s)
{
    if ((unsigned)s >= ARRAY_LEN(job_state_names))
        return "?";
    return job_state_names[s];
}

/* Length of the scheme's driver part: "qemu+ssh://x" -> 4 ("qemu"). */
static size_t scheme_base_len(const char *uri)
{
    size_t n = strcspn(uri, "+:");
    return uri[n] ? n : 0;
}

const struct backend_ops *backend_lookup(const char *uri)
{
    size_t n = scheme_base_len(uri);
    if (n == 0 || !strstr(uri, ":"))
        return err_set("'%s' is not a URI (expected e.g. qemu:///system or sim://)", uri), NULL;
    for (size_t i = 0; i < backend_n_drivers; i++) {
        const char *s = backend_drivers[i].scheme;
        if (strlen(s) == n && strncmp(uri, s, n) == 0)
            return backend_drivers[i].ops;
    }
    return err_set("no backend handles URI '%s' (known schemes: qemu, xen, test, sim)", uri), NULL;
}

struct backend *backend_open(const char *const *uris, size_t n_uris, struct clock *clock)
{
    if (n_uris == 0)
        return err_set("no backend URI given"), NULL;
    const struct backend_ops *ops = backend_lookup(uris[0]);
    if (!ops)
        return NULL;
    for (size_t i = 1; i < n_uris; i++) {
        const struct backend_ops *other = backend_lookup(uris[i]);
        if (!other)
            return NULL;
        if (other != ops)
            return err_set("URIs '%s' and '%s' need different backends; one cluster, one backend",
                           uris[0], uris[i]),
                   NULL;
    }
    struct backend *b = xcalloc(1, sizeof(*b));
    b->ops = ops;
    b->clock = clock;
    if (ops->open(b, uris, n_uris) < 0) {
        free(b);
        return NULL;
    }
    return b;
}

void backend_close(struct backend *b)
{
    if (!b)
        return;
    if (b->ops->close)
        b->ops->close(b);
    free(b);
}

#define UNSUPPORTED(b, what) err_set("backend '%s' does not support %s", (b)->ops->name, what)

int backend_poll(struct backend *b, struct inventory *inv)
{
    inventory_clear(inv);
    return b->ops->poll(b, inv);
}

int backend_set_vcpus(struct backend *b, const char *vm, unsigned vcpus)
{
    if (!b->ops->set_vcpus)
        return UNSUPPORTED(b, "changing vCPUs");
    return b->ops->set_vcpus(b, vm, vcpus);
}

int backend_set_memory(struct backend *b, const char *vm, uint64_t mem_kib)
{
    if (!b->ops->set_memory)
        return UNSUPPORTED(b, "changing memory");
    return b->ops->set_memory(b, vm, mem_kib);
}

int backend_attach_disk(struct backend *b, const char *vm, uint64_t size_bytes,
                        const char *pool_dir)
{
    if (!b->ops->attach_disk)
        return UNSUPPORTED(b, "attaching disks");
    return b->ops->attach_disk(b, vm, size_bytes, pool_dir);
}

int backend_migrate(struct backend *b, const char *vm, const char *dst_host,
                    const struct migrate_params *p, struct migrate_progress *result)
{
    if (!b->ops->migrate)
        return UNSUPPORTED(b, "migration");
    return b->ops->migrate(b, vm, dst_host, p, result);
}

int backend_migrate_progress(struct backend *b, const char *vm, struct migrate_progress *out)
{
    if (!b->ops->migrate_progress)
        return UNSUPPORTED(b, "migration progress");
    return b->ops->migrate_progress(b, vm, out);
}

int backend_migrate_abort(struct backend *b, const char *vm)
{
    if (!b->ops->migrate_abort)
        return UNSUPPORTED(b, "aborting migrations");
    return b->ops->migrate_abort(b, vm);
}

int backend_migrate_start_postcopy(struct backend *b, const char *vm)
{
    if (!b->ops->migrate_start_postcopy)
        return UNSUPPORTED(b, "post-copy");
    return b->ops->migrate_start_postcopy(b, vm);
}

int backend_dirty_rate_start(struct backend *b, const char *vm, int calc_s)
{
    if (!b->ops->dirty_rate_start)
        return UNSUPPORTED(b, "dirty-rate measurement");
    return b->ops->dirty_rate_start(b, vm, calc_s);
}

/* ---- Events and the "exactly once" check (added with the libvirt driver). ---- */

static const char *const event_kind_names[] = {
    [BACKEND_EVENT_OTHER] = "other",
    [BACKEND_EVENT_DEFINED] = "defined",
    [BACKEND_EVENT_UNDEFINED] = "undefined",
    [BACKEND_EVENT_STARTED] = "started",
    [BACKEND_EVENT_SUSPENDED] = "suspended",
    [BACKEND_EVENT_RESUMED] = "resumed",
    [BACKEND_EVENT_STOPPED] = "stopped",
    [BACKEND_EVENT_SHUTDOWN] = "shutdown",
    [BACKEND_EVENT_PMSUSPENDED] = "pmsuspended",
    [BACKEND_EVENT_CRASHED] = "crashed",
    [BACKEND_EVENT_MIGRATION_ITERATION] = "migration-iteration",
    [BACKEND_EVENT_HOST_DOWN] = "host-down",
    [BACKEND_EVENT_HOST_UP] = "host-up",
};

const char *backend_event_kind_str(enum backend_event_kind k)
{
    if ((unsigned)k >= ARRAY_LEN(event_kind_names))
        return "?";
    return event_kind_names[k];
}

int backend_drain_events(struct backend *b, struct backend_event *out, size_t max)
{
    if (!b->ops->drain_events || max == 0)
        return 0;
    return b->ops->drain_events(b, out, max);
}

/* Placement from a full poll, for backends without a cheaper way. */
static int placement_from_poll(struct backend *b, const char *vm, const char *src_host,
                               const char *dst_host, struct vm_placement *out)
{
    struct inventory inv;
    inventory_init(&inv);
    if (backend_poll(b, &inv) < 0) {
        inventory_free(&inv);
        return -1;
    }
    for (size_t i = 0; i < inv.n_vms; i++) {
        const struct vm *v = &inv.vms[i];
        if (strcmp(v->name, vm) != 0)
            continue;
        bool active = v->state != VM_STATE_SHUTOFF && v->state != VM_STATE_UNKNOWN;
        if (strcmp(v->host, src_host) == 0) {
            out->src_state = v->state;
            out->src_active = active;
        } else if (strcmp(v->host, dst_host) == 0) {
            out->dst_state = v->state;
            out->dst_active = active;
        }
    }
    inventory_free(&inv);
    return 0;
}

int backend_vm_placement(struct backend *b, const char *vm, const char *src_host,
                         const char *dst_host, struct vm_placement *out)
{
    memset(out, 0, sizeof(*out));
    if (!b->ops->vm_placement)
        return placement_from_poll(b, vm, src_host, dst_host, out);
    return b->ops->vm_placement(b, vm, src_host, dst_host, out);
}

static const char *placement_str(bool active, enum vm_state st)
{
    if (!active && st == VM_STATE_UNKNOWN)
        return "absent";
    return active ? vm_state_str(st) : "inactive";
}

int backend_vm_check_once(struct backend *b, const char *vm, const char *src_host,
                          const char *dst_host, char *where, size_t where_size)
{
    struct vm_placement p;
    if (backend_vm_placement(b, vm, src_host, dst_host, &p) < 0)
        return err_prefix("checking where VM '%s' runs", vm);
    const char *host = NULL;
    enum vm_state st = VM_STATE_UNKNOWN;
    if (p.src_active && !p.dst_active) {
        host = src_host;
        st = p.src_state;
    } else if (p.dst_active && !p.src_active) {
        host = dst_host;
        st = p.dst_state;
    }
    if (!host || st != VM_STATE_RUNNING)
        return err_set("VM '%s' does not run exactly once: on '%s' %s, on '%s' %s", vm, src_host,
                       placement_str(p.src_active, p.src_state), dst_host,
                       placement_str(p.dst_active, p.dst_state));
    if (where && model_name_set(where, where_size, host) < 0)
        return -1;
    return 0;
}
