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
