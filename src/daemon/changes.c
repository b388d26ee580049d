/* changes: turn differences between two ticks' inventories into events. */
#include "daemon/daemon.h"

#include "util/mem.h"
#include "util/strmap.h"

#include <string.h>

void evlist_add(struct evlist *l, int64_t t_ms, enum history_severity sev, const char *kind,
                char *object, char *message, char *detail)
{
    if (l->n >= DAEMON_EVENTS_PER_TICK) {
        l->dropped++;
        free(object);
        free(message);
        free(detail);
        return;
    }
    xgrow((void **)&l->ev, &l->cap, l->n + 1, sizeof(*l->ev));
    l->ev[l->n++] = (struct history_event){.t_ms = t_ms,
                                           .severity = sev,
                                           .kind = kind,
                                           .object = object,
                                           .message = message,
                                           .detail = detail};
}

void evlist_clear(struct evlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free((char *)l->ev[i].object);
        free((char *)l->ev[i].message);
        free((char *)l->ev[i].detail);
    }
    l->n = 0;
    l->dropped = 0;
}

void evlist_free(struct evlist *l)
{
    evlist_clear(l);
    free(l->ev);
    l->ev = NULL;
    l->cap = 0;
}

void changes_init(struct changes *c)
{
    inventory_init(&c->prev);
    c->primed = false;
}

void changes_free(struct changes *c)
{
    inventory_free(&c->prev);
}

static void host_changes(const struct inventory *prev, const struct inventory *inv, int64_t t,
                         struct evlist *out)
{
    struct strmap old;
    strmap_init(&old);
    for (size_t i = 0; i < prev->n_hosts; i++)
        strmap_put(&old, prev->hosts[i].name, &prev->hosts[i]);
    for (size_t i = 0; i < inv->n_hosts; i++) {
        const struct host *h = &inv->hosts[i];
        const struct host *p = strmap_del(&old, h->name);
        char *obj = xasprintf("host/%s", h->name);
        if (!p)
            evlist_add(out, t, HISTORY_SEV_INFO, "host_appeared", obj,
                       xasprintf("host %s appeared (%s)", h->name, h->up ? "up" : "down"), NULL);
        else if (p->up != h->up)
            evlist_add(out, t, h->up ? HISTORY_SEV_INFO : HISTORY_SEV_CRIT,
                       h->up ? "host_up" : "host_down", obj,
                       xasprintf("host %s is %s", h->name, h->up ? "up again" : "down"), NULL);
        else
            free(obj);
    }
    const char *name;
    void *val;
    for (size_t pos = 0; strmap_next(&old, &pos, &name, &val);)
        evlist_add(out, t, HISTORY_SEV_WARN, "host_gone", xasprintf("host/%s", name),
                   xasprintf("host %s is no longer listed", name), NULL);
    strmap_free(&old);
}

static void vm_changed(const struct vm *p, const struct vm *v, int64_t t, struct evlist *out)
{
    if (strcmp(p->host, v->host) != 0)
        evlist_add(out, t, HISTORY_SEV_INFO, "vm_moved", xasprintf("vm/%s", v->name),
                   xasprintf("VM %s moved from %s to %s", v->name, p->host, v->host), NULL);
    if (p->state != v->state) {
        enum history_severity sev =
            v->state == VM_STATE_CRASHED ? HISTORY_SEV_CRIT : HISTORY_SEV_INFO;
        evlist_add(
            out, t, sev, "vm_state", xasprintf("vm/%s", v->name),
            xasprintf("VM %s: %s -> %s", v->name, vm_state_str(p->state), vm_state_str(v->state)),
            NULL);
    }
}

static void vm_changes(const struct inventory *prev, const struct inventory *inv, int64_t t,
                       struct evlist *out)
{
    struct strmap old;
    strmap_init(&old);
    for (size_t i = 0; i < prev->n_vms; i++)
        strmap_put(&old, prev->vms[i].name, &prev->vms[i]);
    for (size_t i = 0; i < inv->n_vms; i++) {
        const struct vm *v = &inv->vms[i];
        const struct vm *p = strmap_del(&old, v->name);
        if (p)
            vm_changed(p, v, t, out);
        else
            evlist_add(
                out, t, HISTORY_SEV_INFO, "vm_appeared", xasprintf("vm/%s", v->name),
                xasprintf("VM %s appeared on %s (%s)", v->name, v->host, vm_state_str(v->state)),
                NULL);
    }
    const char *name;
    void *val;
    for (size_t pos = 0; strmap_next(&old, &pos, &name, &val);) {
        const struct vm *p = val;
        evlist_add(out, t, HISTORY_SEV_INFO, "vm_gone", xasprintf("vm/%s", name),
                   xasprintf("VM %s is no longer listed (was on %s)", name, p->host), NULL);
    }
    strmap_free(&old);
}

static void remember(struct inventory *prev, const struct inventory *inv)
{
    inventory_clear(prev);
    for (size_t i = 0; i < inv->n_hosts; i++)
        *inventory_add_host(prev) = inv->hosts[i];
    for (size_t i = 0; i < inv->n_vms; i++)
        *inventory_add_vm(prev) = inv->vms[i];
}

void changes_diff(struct changes *c, const struct inventory *inv, int64_t t_ms, struct evlist *out)
{
    if (!c->primed) {
        size_t up = 0;
        for (size_t i = 0; i < inv->n_hosts; i++)
            up += inv->hosts[i].up;
        evlist_add(
            out, t_ms, HISTORY_SEV_INFO, "inventory", xstrdup("daemon"),
            xasprintf("monitoring %zu hosts (%zu up) and %zu VMs", inv->n_hosts, up, inv->n_vms),
            NULL);
        c->primed = true;
    } else {
        host_changes(&c->prev, inv, t_ms, out);
        vm_changes(&c->prev, inv, t_ms, out);
    }
    remember(&c->prev, inv);
}
