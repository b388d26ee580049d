/* Unit tests for the libvirt backend against libvirt's in-process test driver
 * (test:///default and a test:///<file> node of our own; no daemon). */
#include "backend/backend.h"
#include "backend/libvirt/lv.h"
#include "test.h"
#include "util/util.h"

#include <dirent.h>
#include <libvirt/libvirt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static struct clock test_clock;

static struct backend *open1(const char *uri)
{
    const char *uris[] = {uri};
    return backend_open(uris, 1, &test_clock);
}

static struct vm *find_vm(struct inventory *inv, const char *name, const char *host)
{
    for (size_t i = 0; i < inv->n_vms; i++) {
        if (strcmp(inv->vms[i].name, name) == 0 && (!host || strcmp(inv->vms[i].host, host) == 0))
            return &inv->vms[i];
    }
    return NULL;
}

/* A private test:// node with one running domain "other", in a temp dir. */
static char node_dir[64], node_uri[128];

static void node_make(void)
{
    snprintf(node_dir, sizeof(node_dir), "/tmp/aras-lvtest-XXXXXX");
    CHECK(mkdtemp(node_dir) != NULL);
    char path[128];
    snprintf(path, sizeof(path), "%s/node.xml", node_dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("<node><domain type='test'><name>other</name><memory>524288</memory>"
          "<vcpu>1</vcpu><os><type>hvm</type></os></domain></node>\n",
          f);
    fclose(f);
    snprintf(node_uri, sizeof(node_uri), "test://%s", path);
}

static void node_remove(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/node.xml", node_dir);
    unlink(path);
    rmdir(node_dir);
}

TEST(uri_host_part)
{
    char h[MODEL_NAME_MAX];
    CHECK(lv_uri_host("qemu+tcp://h1/system", h, sizeof(h)) == 0);
    CHECK_STR_EQ(h, "h1");
    CHECK(lv_uri_host("qemu+ssh://root@h2.lab:2222/system?keyfile=/k", h, sizeof(h)) == 0);
    CHECK_STR_EQ(h, "h2.lab");
    CHECK(lv_uri_host("qemu+tcp://[fd00::3]:16509/system", h, sizeof(h)) == 0);
    CHECK_STR_EQ(h, "fd00::3");
    CHECK(lv_uri_host("qemu:///system", h, sizeof(h)) == 0);
    CHECK_STR_EQ(h, "");
    CHECK(lv_uri_host("test:///default", h, sizeof(h)) == 0);
    CHECK_STR_EQ(h, "");
}

TEST(inventory_matches_test_driver)
{
    struct backend *b = open1("test:///default");
    CHECK(b != NULL);
    if (!b)
        return;
    struct inventory inv;
    inventory_init(&inv);
    CHECK(backend_poll(b, &inv) == 0);
    CHECK_INT_EQ(inv.n_hosts, 1);
    struct host *h = &inv.hosts[0];
    CHECK(h->up);
    CHECK(h->name[0] != '\0'); /* the test driver's host name (gethostname) */
    CHECK_STR_EQ(h->uri, "test:///default");
    CHECK_INT_EQ(h->cpus, 16);         /* test driver's fixed node */
    CHECK_INT_EQ(h->mem_kib, 3145728); /* 3 GiB */
    CHECK(h->counters.cpu_total_ns > h->counters.cpu_busy_ns);
    CHECK(h->counters.cpu_busy_ns > 0);
    CHECK(h->counters.mem_free_kib > 0 && h->counters.mem_free_kib <= h->mem_kib);
    CHECK_INT_EQ(inv.n_vms, 1);
    struct vm *v = find_vm(&inv, "test", NULL);
    CHECK(v != NULL);
    if (v) {
        CHECK_STR_EQ(v->uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f");
        CHECK_STR_EQ(v->host, h->name);
        CHECK_INT_EQ(v->state, VM_STATE_RUNNING);
        CHECK_INT_EQ(v->vcpus, 2);
        CHECK_INT_EQ(v->max_vcpus, 2);
        CHECK_INT_EQ(v->mem_kib, 2097152);
        CHECK_INT_EQ(v->max_mem_kib, 8388608);
        CHECK_INT_EQ(v->disks, 1);
        /* counters: filled from bulk stats or, for this driver, per-domain calls */
        CHECK(v->counters.cpu_time_ns > 0);
        CHECK(v->counters.blk_rd_bytes > 0 && v->counters.blk_wr_reqs > 0);
        CHECK(v->counters.net_rx_bytes > 0 && v->counters.net_tx_bytes > 0);
        CHECK_INT_EQ(v->counters.mem_actual_kib, 2097152);
        CHECK_INT_EQ(v->counters.mem_available_kib, 2097152);
        CHECK_INT_EQ(v->counters.mem_unused_kib, 1048576);
        CHECK(v->counters.dirty_rate_mib_s < 0); /* never measured */
        CHECK_INT_EQ(v->counters.t_ms, clock_now_ms(&test_clock));
    }
    inventory_free(&inv);
    backend_close(b);
}

/* Wait (real time, up to 5 s) for an event of kind k about vm. */
static bool wait_event(struct backend *b, const char *vm, enum backend_event_kind k,
                       const char *detail)
{
    struct backend_event ev[16];
    for (int tries = 0; tries < 500; tries++) {
        int n = backend_drain_events(b, ev, ARRAY_LEN(ev));
        for (int i = 0; i < n; i++) {
            if (strcmp(ev[i].vm, vm) == 0 && ev[i].kind == k &&
                (!detail || strcmp(ev[i].detail, detail) == 0)) {
                CHECK(ev[i].host[0] != '\0');
                CHECK_INT_EQ(ev[i].t_ms, clock_now_ms(&test_clock));
                return true;
            }
        }
        usleep(10000);
    }
    return false;
}

TEST(new_domain_appears_with_events)
{
    struct backend *b = open1("test:///default");
    CHECK(b != NULL);
    if (!b)
        return;
    /* A connection of the test's own to the same in-process test:///default. */
    virConnectPtr c = virConnectOpen("test:///default");
    CHECK(c != NULL);
    virDomainPtr d = virDomainDefineXML(c, "<domain type='test'><name>second</name>"
                                           "<memory>262144</memory><vcpu>1</vcpu>"
                                           "<os><type>hvm</type></os></domain>");
    CHECK(d != NULL);
    CHECK(wait_event(b, "second", BACKEND_EVENT_DEFINED, "added"));
    CHECK(virDomainCreate(d) == 0);
    CHECK(wait_event(b, "second", BACKEND_EVENT_STARTED, "booted"));
    struct inventory inv;
    inventory_init(&inv);
    CHECK(backend_poll(b, &inv) == 0);
    CHECK_INT_EQ(inv.n_vms, 2);
    struct vm *v = find_vm(&inv, "second", NULL);
    CHECK(v && v->state == VM_STATE_RUNNING && v->mem_kib == 262144 && v->vcpus == 1);
    CHECK(virDomainDestroy(d) == 0);
    CHECK(wait_event(b, "second", BACKEND_EVENT_STOPPED, "destroyed"));
    CHECK(backend_poll(b, &inv) == 0);
    v = find_vm(&inv, "second", NULL);
    CHECK(v && v->state == VM_STATE_SHUTOFF && v->max_vcpus == 1 && v->mem_kib == 262144);
    CHECK(virDomainUndefine(d) == 0);
    CHECK(wait_event(b, "second", BACKEND_EVENT_UNDEFINED, "removed"));
    CHECK(backend_poll(b, &inv) == 0);
    CHECK(find_vm(&inv, "second", NULL) == NULL);
    virDomainFree(d);
    virConnectClose(c);
    inventory_free(&inv);
    backend_close(b);
}

TEST(grow_vcpus_and_memory)
{
    struct backend *b = open1("test:///default");
    CHECK(b != NULL);
    if (!b)
        return;
    struct inventory inv;
    inventory_init(&inv);
    CHECK(backend_set_vcpus(b, "test", 1) == 0);
    CHECK(backend_set_memory(b, "test", 1048576) == 0);
    CHECK(backend_poll(b, &inv) == 0);
    struct vm *v = find_vm(&inv, "test", NULL);
    CHECK(v && v->vcpus == 1 && v->mem_kib == 1048576);
    CHECK(backend_set_vcpus(b, "test", 2) == 0);
    CHECK(backend_poll(b, &inv) == 0);
    v = find_vm(&inv, "test", NULL);
    CHECK(v && v->vcpus == 2);
    /* Beyond the maximum: libvirt's reason, with the URI and VM named. */
    CHECK(backend_set_vcpus(b, "test", 64) == -1);
    CHECK_ERR_HAS("test:///default: VM 'test': setting vCPUs live: ");
    /* Above the balloon's maximum, without <maxMemory slots>: no DIMM either. */
    CHECK(backend_set_memory(b, "test", 64ULL << 20) == -1);
    CHECK_ERR_HAS("VM 'test': 65536 MiB is above its maximum of ");
    CHECK_ERR_HAS("the domain has no <maxMemory slots=...> for memory hot-plug");
    CHECK(backend_set_memory(b, "test", 0) == -1);
    CHECK_ERR_HAS("VM 'test': memory size 0 KiB is out of range");
    CHECK(backend_set_vcpus(b, "nosuchvm", 2) == -1);
    CHECK_ERR_HAS("VM 'nosuchvm' not found on any connected host");
    inventory_free(&inv);
    backend_close(b);
}

static size_t dir_entries(const char *path)
{
    DIR *d = opendir(path);
    size_t n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

TEST(attach_disk_and_dirty_rate_unsupported_are_clear)
{
    struct backend *b = open1("test:///default");
    CHECK(b != NULL);
    if (!b)
        return;
    char pool[] = "/tmp/aras-lvpool-XXXXXX";
    CHECK(mkdtemp(pool) != NULL);
    /* The test driver has no live attach: a clear error, and the image we
     * created for it is removed again. */
    CHECK(backend_attach_disk(b, "test", 1 << 20, pool) == -1);
    CHECK_ERR_HAS("VM 'test': attaching a disk live: ");
    CHECK_ERR_HAS("not supported");
    CHECK_INT_EQ(dir_entries(pool), 0);
    /* An existing image is never reused or overwritten. */
    char path[128];
    snprintf(path, sizeof(path), "%s/test-vdb.raw", pool);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fclose(f);
    CHECK(backend_attach_disk(b, "test", 1 << 20, pool) == -1);
    CHECK_ERR_HAS("cannot create disk image");
    CHECK_ERR_HAS("File exists");
    unlink(path);
    /* With a storage pool on the host for that directory, the image is a
     * volume of the pool (how remote hosts get it), removed again on failure. */
    virConnectPtr c = virConnectOpen("test:///default");
    AUTOFREE char *pxml = xasprintf("<pool type='dir'><name>aras-lvtest</name>"
                                    "<target><path>%s</path></target></pool>",
                                    pool);
    virStoragePoolPtr sp = c ? virStoragePoolCreateXML(c, pxml, 0) : NULL;
    CHECK(sp != NULL);
    CHECK(backend_attach_disk(b, "test", 1 << 20, pool) == -1);
    CHECK_ERR_HAS("VM 'test': attaching a disk live: ");
    if (sp) {
        CHECK_INT_EQ(virStoragePoolNumOfVolumes(sp), 0);
        /* A volume of that name already in the pool: never reused. */
        virStorageVolPtr vol = virStorageVolCreateXML(
            sp, "<volume><name>test-vdb.raw</name><capacity>1024</capacity></volume>", 0);
        CHECK(vol != NULL);
        CHECK(backend_attach_disk(b, "test", 1 << 20, pool) == -1);
        CHECK_ERR_HAS("VM 'test': creating a disk volume: ");
        CHECK_INT_EQ(virStoragePoolNumOfVolumes(sp), 1);
        if (vol) {
            virStorageVolDelete(vol, 0);
            virStorageVolFree(vol);
        }
        virStoragePoolDestroy(sp);
        virStoragePoolFree(sp);
    }
    if (c)
        virConnectClose(c);
    CHECK(backend_attach_disk(b, "../etc", 1 << 20, pool) == -1);
    CHECK_ERR_HAS("name not usable");
    rmdir(pool);
    CHECK(backend_dirty_rate_start(b, "test", 1) == -1);
    CHECK_ERR_HAS("starting a dirty-rate measurement");
    CHECK(backend_dirty_rate_start(b, "test", 0) == -1);
    CHECK_ERR_HAS("out of range");
    backend_close(b);
}

TEST(migrate_fails_cleanly_and_vm_runs_once)
{
    node_make();
    const char *uris[] = {"test:///default", node_uri};
    struct backend *b = backend_open(uris, 2, &test_clock);
    CHECK(b != NULL);
    if (!b) {
        node_remove();
        return;
    }
    struct inventory inv;
    inventory_init(&inv);
    CHECK(backend_poll(b, &inv) == 0);
    CHECK_INT_EQ(inv.n_hosts, 2);
    /* Both test nodes report the machine's host name: made unique. */
    char src[MODEL_NAME_MAX], dst[MODEL_NAME_MAX];
    snprintf(src, sizeof(src), "%s", inv.hosts[0].name);
    snprintf(dst, sizeof(dst), "%s", inv.hosts[1].name);
    CHECK(strcmp(src, dst) != 0);
    CHECK(find_vm(&inv, "other", dst) != NULL);
    CHECK(find_vm(&inv, "test", src) != NULL);
    struct migrate_params p = {.bandwidth_bytes_per_s = 100e6,
                               .max_downtime_ms = 300,
                               .auto_converge = true,
                               .parallel_connections = 2,
                               .timeout_ms = 5000};
    struct migrate_progress res;
    CHECK(backend_migrate(b, "test", dst, &p, &res) == -1);
    CHECK_ERR_HAS("test:///default: VM 'test': migrating: ");
    CHECK_ERR_HAS("still runs once, on '");
    CHECK_INT_EQ(res.state, MIGRATE_JOB_FAILED);
    char where[MODEL_NAME_MAX] = "";
    CHECK(backend_vm_check_once(b, "test", src, dst, where, sizeof(where)) == 0);
    CHECK_STR_EQ(where, src);
    /* The check itself sees "not exactly once". */
    CHECK(backend_vm_check_once(b, "nosuch", src, dst, where, sizeof(where)) == -1);
    CHECK_ERR_HAS("VM 'nosuch' does not run exactly once");
    CHECK(backend_migrate(b, "test", src, &p, &res) == -1);
    CHECK_ERR_HAS("already runs on");
    CHECK(backend_migrate(b, "test", "nohost", &p, &res) == -1);
    CHECK_ERR_HAS("no host named 'nohost'");
    CHECK(backend_migrate_progress(b, "test", &res) == -1);
    CHECK_ERR_HAS("no migration of VM 'test' is running");
    CHECK(backend_migrate_abort(b, "test") == -1);
    CHECK(backend_migrate_start_postcopy(b, "test") == -1);
    inventory_free(&inv);
    backend_close(b);
    node_remove();
}

TEST(bad_and_unreachable_uris)
{
    CHECK(open1("test:///nonexistent/aras-node.xml") == NULL);
    CHECK_ERR_HAS("test:///nonexistent/aras-node.xml: cannot connect");
    /* A port of ours with nobody listening: the host is down, not an error. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    CHECK(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(getsockname(s, (struct sockaddr *)&a, &alen) == 0);
    char uri[128];
    snprintf(uri, sizeof(uri), "qemu+tcp://127.0.0.1:%u/system", ntohs(a.sin_port));
    const char *uris[] = {"test:///default", uri};
    struct backend *b = backend_open(uris, 2, &test_clock);
    CHECK(b != NULL);
    if (b) {
        struct inventory inv;
        inventory_init(&inv);
        CHECK(backend_poll(b, &inv) == 0);
        CHECK_INT_EQ(inv.n_hosts, 2);
        CHECK(inv.hosts[0].up);
        CHECK(!inv.hosts[1].up);
        CHECK_STR_EQ(inv.hosts[1].name, "127.0.0.1");
        CHECK_INT_EQ(inv.n_vms, 1);
        /* Polling again (retry after back-off) still works. */
        clock_advance_ms(&test_clock, 5000);
        CHECK(backend_poll(b, &inv) == 0);
        CHECK(!inv.hosts[1].up);
        CHECK(backend_set_vcpus(b, "test", 2) == 0); /* found on the live host */
        struct migrate_progress res;
        struct migrate_params p = {0};
        CHECK(backend_migrate(b, "test", "127.0.0.1", &p, &res) == -1);
        CHECK_ERR_HAS("destination host '127.0.0.1' is not connected");
        CHECK_INT_EQ(res.state, MIGRATE_JOB_FAILED);
        inventory_free(&inv);
        backend_close(b);
    }
    close(s);
}

TEST(duplicate_host_names_made_unique)
{
    const char *uris[] = {"test:///default", "test:///default"};
    struct backend *b = backend_open(uris, 2, &test_clock);
    CHECK(b != NULL);
    if (!b)
        return;
    struct inventory inv;
    inventory_init(&inv);
    CHECK(backend_poll(b, &inv) == 0);
    CHECK_INT_EQ(inv.n_hosts, 2);
    char want[MODEL_NAME_MAX + 8];
    snprintf(want, sizeof(want), "%s-2", inv.hosts[0].name);
    CHECK_STR_EQ(inv.hosts[1].name, want);
    inventory_free(&inv);
    backend_close(b);
}

TEST(dropped_host_reconnects_in_the_background)
{
    struct backend *b = open1("test:///default");
    CHECK(b != NULL);
    if (!b)
        return;
    struct lv *lv = b->priv;
    struct inventory inv;
    inventory_init(&inv);
    /* As if the connection's close callback had fired. */
    atomic_store(&lv->hosts[0].dropped, true);
    CHECK(backend_poll(b, &inv) == 0);
    CHECK_INT_EQ(inv.n_hosts, 1);
    CHECK(!inv.hosts[0].up); /* reconnecting does not block the poll */
    CHECK_INT_EQ(inv.n_vms, 0);
    bool up = false;
    for (int i = 0; i < 500 && !up; i++) {
        usleep(10000);
        CHECK(backend_poll(b, &inv) == 0);
        up = inv.hosts[0].up;
    }
    CHECK(up);
    CHECK(find_vm(&inv, "test", NULL) != NULL);
    struct backend_event ev[16];
    int n = backend_drain_events(b, ev, ARRAY_LEN(ev));
    CHECK_INT_EQ(n, 2);
    if (n == 2) {
        CHECK_INT_EQ(ev[0].kind, BACKEND_EVENT_HOST_DOWN);
        CHECK_STR_EQ(ev[0].detail, "not answering");
        CHECK_INT_EQ(ev[1].kind, BACKEND_EVENT_HOST_UP);
        CHECK_STR_EQ(ev[1].host, inv.hosts[0].name);
        CHECK_STR_EQ(backend_event_kind_str(ev[1].kind), "host-up");
    }
    /* Domain events are registered again on the new connection. */
    virConnectPtr c = virConnectOpen("test:///default");
    virDomainPtr d = c ? virDomainDefineXML(c, "<domain type='test'><name>third</name>"
                                               "<memory>262144</memory><vcpu>1</vcpu>"
                                               "<os><type>hvm</type></os></domain>")
                       : NULL;
    CHECK(d != NULL);
    CHECK(wait_event(b, "third", BACKEND_EVENT_DEFINED, "added"));
    if (d) {
        virDomainUndefine(d);
        virDomainFree(d);
    }
    if (c)
        virConnectClose(c);
    inventory_free(&inv);
    backend_close(b);
}

TEST(event_queue_overflow_is_reported)
{
    struct backend *b = open1("test:///default");
    CHECK(b != NULL);
    if (!b)
        return;
    struct lv *lv = b->priv;
    for (int i = 0; i < LV_EVENT_QUEUE_MAX + 5; i++)
        lv_event_push(lv, "h", "vm", BACKEND_EVENT_STARTED,
                      i == LV_EVENT_QUEUE_MAX + 4 ? "last" : "");
    static struct backend_event ev[LV_EVENT_QUEUE_MAX + 8];
    int n = backend_drain_events(b, ev, ARRAY_LEN(ev));
    CHECK_INT_EQ(n, LV_EVENT_QUEUE_MAX + 1);
    CHECK_INT_EQ(ev[0].kind, BACKEND_EVENT_OTHER);
    CHECK_STR_EQ(ev[0].detail, "5 events dropped (queue full)");
    CHECK_STR_EQ(ev[n - 1].detail, "last");
    CHECK_INT_EQ(backend_drain_events(b, ev, ARRAY_LEN(ev)), 0);
    backend_close(b);
}

static void setup(void)
{
    clock_init_virtual(&test_clock, 1700000000000);
}

RUN_TESTS(setup, uri_host_part, inventory_matches_test_driver, new_domain_appears_with_events,
          grow_vcpus_and_memory, attach_disk_and_dirty_rate_unsupported_are_clear,
          migrate_fails_cleanly_and_vm_runs_once, bad_and_unreachable_uris,
          duplicate_host_names_made_unique, dropped_host_reconnects_in_the_background,
          event_queue_overflow_is_reported)
