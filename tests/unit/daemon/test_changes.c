/* test_changes: inventory differences between ticks become the right events. */
#include "daemon/daemon.h"
#include "test.h"
#include "util/mem.h"

#include <string.h>

static struct host *add_host(struct inventory *inv, const char *name, bool up)
{
    struct host *h = inventory_add_host(inv);
    model_name_set(h->name, sizeof(h->name), name);
    h->up = up;
    return h;
}

static struct vm *add_vm(struct inventory *inv, const char *name, const char *host,
                         enum vm_state st)
{
    struct vm *v = inventory_add_vm(inv);
    model_name_set(v->name, sizeof(v->name), name);
    model_name_set(v->host, sizeof(v->host), host);
    v->state = st;
    return v;
}

/* The event of `kind` about `object`, or NULL. */
static const struct history_event *find(const struct evlist *l, const char *kind,
                                        const char *object)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->ev[i].kind, kind) == 0 && strcmp(l->ev[i].object, object) == 0)
            return &l->ev[i];
    }
    return NULL;
}

TEST(first_tick_is_one_summary)
{
    struct changes c;
    struct evlist l = {0};
    struct inventory inv;
    changes_init(&c);
    inventory_init(&inv);
    add_host(&inv, "h1", true);
    add_host(&inv, "h2", false);
    add_vm(&inv, "a", "h1", VM_STATE_RUNNING);
    changes_diff(&c, &inv, 1000, &l);
    CHECK_INT_EQ(l.n, 1);
    CHECK_STR_EQ(l.ev[0].kind, "inventory");
    CHECK_STR_EQ(l.ev[0].message, "monitoring 2 hosts (1 up) and 1 VMs");
    CHECK_INT_EQ(l.ev[0].t_ms, 1000);
    evlist_clear(&l);
    /* nothing changed: no events */
    changes_diff(&c, &inv, 2000, &l);
    CHECK_INT_EQ(l.n, 0);
    inventory_free(&inv);
    changes_free(&c);
    evlist_free(&l);
}

TEST(every_kind_of_change)
{
    struct changes c;
    struct evlist l = {0};
    struct inventory a, b;
    changes_init(&c);
    inventory_init(&a);
    inventory_init(&b);
    add_host(&a, "h1", true);
    add_host(&a, "h2", true);
    add_host(&a, "gone", true);
    add_vm(&a, "stay", "h1", VM_STATE_RUNNING);
    add_vm(&a, "mover", "h1", VM_STATE_RUNNING);
    add_vm(&a, "crasher", "h2", VM_STATE_RUNNING);
    add_vm(&a, "leaver", "h2", VM_STATE_RUNNING);
    changes_diff(&c, &a, 1000, &l);
    evlist_clear(&l);

    add_host(&b, "h1", true);
    add_host(&b, "h2", false);
    add_host(&b, "new", true);
    add_vm(&b, "stay", "h1", VM_STATE_RUNNING);
    add_vm(&b, "mover", "h2", VM_STATE_RUNNING);
    add_vm(&b, "crasher", "h2", VM_STATE_CRASHED);
    add_vm(&b, "fresh", "new", VM_STATE_PAUSED);
    changes_diff(&c, &b, 2000, &l);
    CHECK_INT_EQ(l.n, 7);
    const struct history_event *e = find(&l, "host_down", "host/h2");
    CHECK(e && e->severity == HISTORY_SEV_CRIT);
    CHECK(find(&l, "host_appeared", "host/new") != NULL);
    CHECK(find(&l, "host_gone", "host/gone") != NULL);
    e = find(&l, "vm_moved", "vm/mover");
    CHECK(e && strcmp(e->message, "VM mover moved from h1 to h2") == 0);
    e = find(&l, "vm_state", "vm/crasher");
    CHECK(e && e->severity == HISTORY_SEV_CRIT);
    CHECK(e && strcmp(e->message, "VM crasher: running -> crashed") == 0);
    CHECK(find(&l, "vm_appeared", "vm/fresh") != NULL);
    e = find(&l, "vm_gone", "vm/leaver");
    CHECK(e && strstr(e->message, "(was on h2)") != NULL);
    CHECK(find(&l, "vm_state", "vm/stay") == NULL);
    evlist_clear(&l);

    /* back up again */
    b.hosts[1].up = true;
    changes_diff(&c, &b, 3000, &l);
    CHECK_INT_EQ(l.n, 1);
    CHECK(find(&l, "host_up", "host/h2") != NULL);
    inventory_free(&a);
    inventory_free(&b);
    changes_free(&c);
    evlist_free(&l);
}

TEST(events_per_tick_are_capped)
{
    struct evlist l = {0};
    for (int i = 0; i < DAEMON_EVENTS_PER_TICK + 5; i++)
        evlist_add(&l, i, HISTORY_SEV_INFO, "x", xstrdup("o"), xstrdup("m"), NULL);
    CHECK_INT_EQ(l.n, DAEMON_EVENTS_PER_TICK);
    CHECK_INT_EQ(l.dropped, 5);
    evlist_free(&l);
}

RUN_TESTS(first_tick_is_one_summary, every_kind_of_change, events_per_tick_are_capped)
