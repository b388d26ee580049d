/* model: enum tables and inventory container (see model.h). */
#include "model/model.h"

#include "util/error.h"
#include "util/mem.h"

#include <string.h>

static const char *const vm_state_names[] = {
    [VM_STATE_UNKNOWN] = "unknown", [VM_STATE_RUNNING] = "running",
    [VM_STATE_PAUSED] = "paused",   [VM_STATE_SHUTOFF] = "shutoff",
    [VM_STATE_CRASHED] = "crashed", [VM_STATE_MIGRATING] = "migrating",
};

const char *vm_state_str(enum vm_state s)
{
    if ((unsigned)s >= ARRAY_LEN(vm_state_names))
        return "?";
    return vm_state_names[s];
}

static const char *const load_class_names[] = {
    [LOAD_CLASS_IDLE] = "idle",
    [LOAD_CLASS_CPU] = "cpu",
    [LOAD_CLASS_MEMORY] = "memory",
    [LOAD_CLASS_IO] = "io",
};

const char *load_class_str(enum load_class c)
{
    if ((unsigned)c >= ARRAY_LEN(load_class_names))
        return "?";
    return load_class_names[c];
}

int load_class_parse(const char *s, enum load_class *out)
{
    for (unsigned i = 0; i < ARRAY_LEN(load_class_names); i++) {
        if (strcmp(s, load_class_names[i]) == 0) {
            *out = (enum load_class)i;
            return 0;
        }
    }
    return err_set("unknown load class '%s' (idle, cpu, memory, io)", s);
}

void inventory_init(struct inventory *inv)
{
    memset(inv, 0, sizeof(*inv));
}

void inventory_clear(struct inventory *inv)
{
    inv->n_hosts = 0;
    inv->n_vms = 0;
}

void inventory_free(struct inventory *inv)
{
    free(inv->hosts);
    free(inv->vms);
    inventory_init(inv);
}

struct host *inventory_add_host(struct inventory *inv)
{
    xgrow((void **)&inv->hosts, &inv->cap_hosts, inv->n_hosts + 1, sizeof(*inv->hosts));
    struct host *h = &inv->hosts[inv->n_hosts++];
    memset(h, 0, sizeof(*h));
    return h;
}

struct vm *inventory_add_vm(struct inventory *inv)
{
    xgrow((void **)&inv->vms, &inv->cap_vms, inv->n_vms + 1, sizeof(*inv->vms));
    struct vm *v = &inv->vms[inv->n_vms++];
    memset(v, 0, sizeof(*v));
    v->counters.dirty_rate_mib_s = -1;
    return v;
}

struct host *inventory_find_host(const struct inventory *inv, const char *name)
{
    for (size_t i = 0; i < inv->n_hosts; i++) {
        if (strcmp(inv->hosts[i].name, name) == 0)
            return &inv->hosts[i];
    }
    return NULL;
}

struct vm *inventory_find_vm(const struct inventory *inv, const char *name)
{
    for (size_t i = 0; i < inv->n_vms; i++) {
        if (strcmp(inv->vms[i].name, name) == 0)
            return &inv->vms[i];
    }
    return NULL;
}

int model_name_set(char *dst, size_t dst_size, const char *src)
{
    size_t n = strlen(src);
    if (n >= dst_size)
        return err_set("name '%.40s...' is %zu bytes long; the limit is %zu", src, n, dst_size - 1);
    memcpy(dst, src, n + 1);
    return 0;
}
