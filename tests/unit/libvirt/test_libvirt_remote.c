/* The libvirt backend over a real RPC connection: a private, unprivileged
 * libvirtd (lvd.h) serving the test driver. Events over RPC, a daemon that
 * dies (close callback, host listed down) and comes back (background
 * reconnect). Skips (77) when libvirtd is not installed. */
#include "backend/backend.h"
#include "lvd.h"
#include "test.h"
#include "util/util.h"

static struct clock clk;
static struct lvd lvd;

/* Poll (advancing the virtual clock past reconnect back-off) until the host's
 * up flag is `want`; real time up to 15 s. */
static bool poll_until_up(struct backend *b, struct inventory *inv, bool want)
{
    for (int i = 0; i < 300; i++) {
        CHECK(backend_poll(b, inv) == 0);
        if (inv->n_hosts == 1 && inv->hosts[0].up == want)
            return true;
        clock_advance_ms(&clk, 1000);
        usleep(50000);
    }
    return false;
}

static bool drained_has(struct backend *b, enum backend_event_kind k, const char *vm)
{
    struct backend_event ev[32];
    for (int tries = 0; tries < 300; tries++) {
        int n = backend_drain_events(b, ev, ARRAY_LEN(ev));
        for (int i = 0; i < n; i++) {
            if (ev[i].kind == k && strcmp(ev[i].vm, vm) == 0)
                return true;
        }
        usleep(10000);
    }
    return false;
}

static void define_domain(const char *name)
{
    char xml[256];
    snprintf(xml, sizeof(xml),
             "<domain type='test'><name>%s</name><memory>262144</memory><vcpu>1</vcpu>"
             "<os><type>hvm</type></os></domain>",
             name);
    virConnectPtr c = virConnectOpen(lvd.uri);
    virDomainPtr d = c ? virDomainDefineXML(c, xml) : NULL;
    CHECK(d != NULL);
    if (d)
        virDomainFree(d);
    if (c)
        virConnectClose(c);
}

TEST(remote_events_drop_and_reconnect)
{
    const char *uris[] = {lvd.uri};
    struct backend *b = backend_open(uris, 1, &clk);
    CHECK(b != NULL);
    if (!b)
        return;
    struct inventory inv;
    inventory_init(&inv);
    CHECK(poll_until_up(b, &inv, true));
    CHECK(inv.n_vms == 1 && strcmp(inv.vms[0].name, "test") == 0);
    CHECK(inv.n_vms == 1 && inv.vms[0].counters.cpu_time_ns > 0 && inv.vms[0].vcpus == 2);
    /* Lifecycle events travel over RPC to our event-loop thread. */
    define_domain("remote1");
    CHECK(drained_has(b, BACKEND_EVENT_DEFINED, "remote1"));
    /* The daemon dies: the host is listed down, the poll does not fail. */
    lvd_stop(&lvd);
    CHECK(poll_until_up(b, &inv, false));
    CHECK_INT_EQ(inv.n_vms, 0);
    CHECK(drained_has(b, BACKEND_EVENT_HOST_DOWN, ""));
    /* It comes back: reconnected in the background, events registered again. */
    CHECK(lvd_start(&lvd) == 0);
    CHECK(poll_until_up(b, &inv, true));
    CHECK(drained_has(b, BACKEND_EVENT_HOST_UP, ""));
    CHECK(inv.n_vms == 1);
    define_domain("remote2");
    CHECK(drained_has(b, BACKEND_EVENT_DEFINED, "remote2"));
    inventory_free(&inv);
    backend_close(b);
}

int main(void)
{
    if (access(LVD_LIBVIRTD, X_OK) != 0) {
        fprintf(stderr, "SKIP: %s not installed\n", LVD_LIBVIRTD);
        return 77;
    }
    clock_init_virtual(&clk, 1700000000000);
    if (lvd_init(&lvd, "test", "/default") < 0 || lvd_start(&lvd) < 0) {
        fprintf(stderr, "cannot start a private libvirtd in %s\n", lvd.dir);
        lvd_destroy(&lvd);
        return 1;
    }
    remote_events_drop_and_reconnect();
    lvd_destroy(&lvd);
    if (test_failures)
        fprintf(stderr, "%d check(s) failed\n", test_failures);
    return test_failures ? 1 : 0;
}
