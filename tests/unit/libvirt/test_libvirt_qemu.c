/* The libvirt backend against real QEMU: two private, unprivileged libvirtds
 * (lvd.h, qemu:///session, distinct host UUIDs) and one small TCG guest with
 * no OS (it idles in the firmware). Bulk stats from QEMU, dirty rate, live
 * migration with typed parameters both ways, progress, abort, the timeout
 * path, post-copy, growth (balloon, then a DIMM within <maxMemory>) and a
 * disk from a storage pool; after every
 * migration the VM runs exactly once. Skips (77) without libvirtd or QEMU. */
#include "backend/backend.h"
#include "lvd.h"
#include "test.h"
#include "util/util.h"

#include <pthread.h>

#define QEMU "/usr/bin/qemu-system-x86_64"

static struct clock clk;
static struct lvd hv[2];
static struct backend *b;
static char name[2][MODEL_NAME_MAX]; /* backend host names of hv[0], hv[1] */

/* 16 MiB of random bytes loaded into guest RAM (QEMU's loader device) so a
 * migration has real data to move: ~16 s at the 1 MiB/s minimum bandwidth. */
#define GUEST_XML_FMT                                                                              \
    "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"                 \
    "<name>g1</name>"                                                                              \
    "<maxMemory slots='2' unit='MiB'>512</maxMemory>"                                              \
    "<memory unit='MiB'>128</memory><currentMemory unit='MiB'>128</currentMemory>"                 \
    "<vcpu current='1'>2</vcpu>"                                                                   \
    "<os><type arch='x86_64' machine='pc'>hvm</type></os>"                                         \
    "<features><acpi/></features><cpu mode='custom'><model>qemu64</model>"                         \
    "<numa><cell id='0' cpus='0-1' memory='128' unit='MiB'/></numa></cpu>"                         \
    "<devices><emulator>" QEMU "</emulator>"                                                       \
    "<memballoon model='virtio'><stats period='1'/></memballoon></devices>"                        \
    "<qemu:commandline><qemu:arg value='-device'/>"                                                \
    "<qemu:arg value='loader,file=%s,addr=0x1000000,force-raw=on'/></qemu:commandline>"            \
    "</domain>"

static struct vm *poll_vm(struct inventory *inv, const char *host)
{
    CHECK(backend_poll(b, inv) == 0);
    for (size_t i = 0; i < inv->n_vms; i++) {
        if (strcmp(inv->vms[i].name, "g1") == 0 && strcmp(inv->vms[i].host, host) == 0)
            return &inv->vms[i];
    }
    return NULL;
}

/* Where g1 runs now (index into hv), checking it runs exactly once. */
static int where_g1(void)
{
    char where[MODEL_NAME_MAX];
    if (backend_vm_check_once(b, "g1", name[0], name[1], where, sizeof(where)) < 0) {
        fprintf(stderr, "%s\n", err_msg());
        CHECK(!"g1 does not run exactly once");
        return -1;
    }
    return strcmp(where, name[0]) == 0 ? 0 : 1;
}

/* Every event drained so far (drained events are gone from the backend). */
static struct backend_event evlog[1024];
static size_t n_evlog;

static bool saw_event(const char *host, enum backend_event_kind k, const char *detail)
{
    for (int tries = 0; tries < 200; tries++) {
        if (n_evlog < ARRAY_LEN(evlog)) {
            int n = backend_drain_events(b, evlog + n_evlog, ARRAY_LEN(evlog) - n_evlog);
            n_evlog += n > 0 ? (size_t)n : 0;
        }
        for (size_t i = 0; i < n_evlog; i++) {
            const struct backend_event *e = &evlog[i];
            if (e->kind == k && strcmp(e->host, host) == 0 && strcmp(e->vm, "g1") == 0 &&
                strcmp(e->detail, detail) == 0)
                return true;
        }
        usleep(10000);
    }
    return false;
}

TEST(stats_and_dirty_rate_from_qemu)
{
    struct inventory inv;
    inventory_init(&inv);
    struct vm *v = poll_vm(&inv, name[0]);
    CHECK(v != NULL);
    if (v) {
        CHECK_INT_EQ(v->state, VM_STATE_RUNNING);
        CHECK(v->uuid[0] != '\0');
        CHECK_INT_EQ(v->vcpus, 1);
        CHECK_INT_EQ(v->max_vcpus, 2);
        CHECK_INT_EQ(v->mem_kib, 131072);
        CHECK_INT_EQ(v->max_mem_kib, 524288); /* <maxMemory>: hot-pluggable up to there */
        CHECK_INT_EQ(v->disks, 0);
        CHECK(v->counters.cpu_time_ns > 0);
        CHECK(v->counters.dirty_rate_mib_s < 0);
    }
    CHECK(inv.hosts[0].up && inv.hosts[0].cpus > 0 && inv.hosts[0].counters.cpu_total_ns > 0);
    CHECK(inv.hosts[0].counters.mem_free_kib > 0);
    CHECK(backend_dirty_rate_start(b, "g1", 1) == 0);
    bool measured = false;
    for (int i = 0; i < 50 && !measured; i++) {
        usleep(100000);
        v = poll_vm(&inv, name[0]);
        measured = v && v->counters.dirty_rate_mib_s >= 0;
    }
    CHECK(measured);
    inventory_free(&inv);
}

TEST(migrate_there_with_typed_params)
{
    struct migrate_params p = {.bandwidth_bytes_per_s = 50e6,
                               .max_downtime_ms = 500,
                               .auto_converge = true,
                               .parallel_connections = 2,
                               .timeout_ms = 60000};
    snprintf(p.dest_uri, sizeof(p.dest_uri), "tcp://127.0.0.1");
    struct migrate_progress res;
    int rc = backend_migrate(b, "g1", name[1], &p, &res);
    if (rc < 0)
        fprintf(stderr, "migrate: %s\n", err_msg());
    CHECK(rc == 0);
    CHECK_INT_EQ(res.state, MIGRATE_JOB_COMPLETED);
    CHECK(res.elapsed_ms > 0 && res.downtime_ms >= 0 && res.data_total_bytes > 0);
    fprintf(stderr, "migration: %lld ms, downtime %lld ms, %llu of %llu bytes, %llu iterations\n",
            (long long)res.elapsed_ms, (long long)res.downtime_ms,
            (unsigned long long)res.data_processed_bytes, (unsigned long long)res.data_total_bytes,
            (unsigned long long)res.iterations);
    CHECK_INT_EQ(where_g1(), 1);
    CHECK(saw_event(name[0], BACKEND_EVENT_STOPPED, "migrated"));
    CHECK(saw_event(name[1], BACKEND_EVENT_STARTED, "migrated"));
    CHECK(saw_event(name[1], BACKEND_EVENT_RESUMED, "migrated"));
    CHECK(saw_event(name[0], BACKEND_EVENT_MIGRATION_ITERATION, "iteration 1"));
    struct inventory inv;
    inventory_init(&inv);
    CHECK(poll_vm(&inv, name[1]) != NULL);
    CHECK(poll_vm(&inv, name[0]) == NULL); /* PERSIST_DEST | UNDEFINE_SOURCE */
    inventory_free(&inv);
}

TEST(timeout_aborts_and_vm_stays)
{
    /* 1 MiB/s: the 16 MiB of this guest take ~16 s; the timeout is 0.3 s. */
    struct migrate_params p = {.bandwidth_bytes_per_s = 1 << 20, .timeout_ms = 300};
    snprintf(p.dest_uri, sizeof(p.dest_uri), "tcp://127.0.0.1");
    struct migrate_progress res;
    CHECK(backend_migrate(b, "g1", name[0], &p, &res) == -1);
    CHECK_ERR_HAS("(aborted at its timeout)");
    CHECK_ERR_HAS("still runs once, on '");
    CHECK_INT_EQ(res.state, MIGRATE_JOB_CANCELLED);
    CHECK_INT_EQ(where_g1(), 1);
}

struct mig_thread {
    struct migrate_params p;
    struct migrate_progress res;
    int rc;
    char err[ERR_MSG_MAX];
};

static void *mig_main(void *arg)
{
    struct mig_thread *t = arg;
    t->rc = backend_migrate(b, "g1", name[0], &t->p, &t->res);
    snprintf(t->err, sizeof(t->err), "%s", err_msg());
    return NULL;
}

TEST(progress_and_abort_from_another_thread)
{
    struct mig_thread t = {.p = {.bandwidth_bytes_per_s = 1 << 20}};
    snprintf(t.p.dest_uri, sizeof(t.p.dest_uri), "tcp://127.0.0.1");
    pthread_t th;
    CHECK(pthread_create(&th, NULL, mig_main, &t) == 0);
    bool running = false;
    struct migrate_progress pr;
    for (int i = 0; i < 1000 && !running; i++) { /* setup (destination QEMU) takes seconds */
        usleep(20000);
        running = backend_migrate_progress(b, "g1", &pr) == 0 && pr.state == MIGRATE_JOB_RUNNING &&
                  pr.data_total_bytes > 0;
    }
    CHECK(running);
    CHECK(backend_migrate_abort(b, "g1") == 0);
    pthread_join(th, NULL);
    CHECK_INT_EQ(t.rc, -1);
    CHECK(strstr(t.err, "(aborted on request)") != NULL);
    CHECK_INT_EQ(t.res.state, MIGRATE_JOB_CANCELLED);
    CHECK_INT_EQ(where_g1(), 1);
}

TEST(postcopy_switch_keeps_vm_once)
{
    /* Post-copy needs userfaultfd in the destination QEMU, which an
     * unprivileged QEMU may not get: either way g1 must run exactly once. */
    struct migrate_params p = {
        .bandwidth_bytes_per_s = 1 << 20, .postcopy = true, .postcopy_after_ms = 300};
    snprintf(p.dest_uri, sizeof(p.dest_uri), "tcp://127.0.0.1");
    struct migrate_progress res;
    int rc = backend_migrate(b, "g1", name[0], &p, &res);
    fprintf(stderr, "post-copy migration: %s (%s)\n", rc == 0 ? "completed" : "failed",
            rc == 0 ? "" : err_msg());
    int at = where_g1();
    CHECK(rc == 0 ? at == 0 : at == 1);
    CHECK(rc == 0 ? res.state == MIGRATE_JOB_COMPLETED : res.state != MIGRATE_JOB_COMPLETED);
}

TEST(migrate_back_with_xbzrle)
{
    struct migrate_params p = {.compress = true, .max_downtime_ms = 300};
    snprintf(p.dest_uri, sizeof(p.dest_uri), "tcp://127.0.0.1");
    struct migrate_progress res;
    int from = where_g1();
    int rc = backend_migrate(b, "g1", name[1 - from], &p, &res);
    if (rc < 0)
        fprintf(stderr, "migrate: %s\n", err_msg());
    CHECK(rc == 0);
    CHECK_INT_EQ(res.state, MIGRATE_JOB_COMPLETED);
    CHECK_INT_EQ(where_g1(), 1 - from);
}

TEST(grow_in_place)
{
    int at = where_g1();
    if (at < 0)
        return;
    CHECK(backend_set_vcpus(b, "g1", 2) == 0);
    CHECK(backend_set_memory(b, "g1", 98304) == 0); /* balloon, below the maximum */
    struct inventory inv;
    inventory_init(&inv);
    struct vm *v = poll_vm(&inv, name[at]);
    /* It may grow up to <maxMemory> while a memory slot is free. */
    CHECK(v && v->max_mem_kib == 524288);
    /* 200 MiB is above its 128 MiB: one 128 MiB DIMM (whole memory blocks),
     * then the balloon gives exactly 200 MiB of the 256. */
    int rc = backend_set_memory(b, "g1", 204800);
    if (rc < 0)
        fprintf(stderr, "set_memory: %s\n", err_msg());
    CHECK(rc == 0);
    virConnectPtr c = virConnectOpen(hv[at].uri);
    virDomainPtr d = c ? virDomainLookupByName(c, "g1") : NULL;
    CHECK(d && virDomainGetMaxMemory(d) == 262144);
    char *xml = d ? virDomainGetXMLDesc(d, 0) : NULL;
    CHECK(xml && strstr(xml, "<memory model='dimm'>") && strstr(xml, "<size unit='KiB'>131072<"));
    free(xml);
    v = poll_vm(&inv, name[at]);
    CHECK(v && v->max_mem_kib == 524288);
    /* 600 MiB: past <maxMemory>, refused with the reason. */
    CHECK(backend_set_memory(b, "g1", 614400) == -1);
    CHECK_ERR_HAS("VM 'g1': 600 MiB does not fit under its <maxMemory> of 512 MiB");
    /* A dir pool on that host for its pool directory: the image is a volume. */
    char pool_dir[128];
    snprintf(pool_dir, sizeof(pool_dir), "%s/pool", hv[at].dir);
    char pxml[256];
    snprintf(pxml, sizeof(pxml),
             "<pool type='dir'><name>p</name><target><path>%s</path></target></pool>", pool_dir);
    virStoragePoolPtr sp = c ? virStoragePoolCreateXML(c, pxml, 0) : NULL;
    CHECK(sp != NULL);
    rc = backend_attach_disk(b, "g1", 1 << 20, pool_dir);
    if (rc < 0)
        fprintf(stderr, "attach: %s\n", err_msg());
    CHECK(rc == 0);
    char path[192];
    snprintf(path, sizeof(path), "%s/g1-vda.raw", pool_dir);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == 1 << 20);
    v = poll_vm(&inv, name[at]);
    CHECK(v && v->vcpus == 2 && v->disks == 1);
    xml = d ? virDomainGetXMLDesc(d, 0) : NULL;
    CHECK(xml && strstr(xml, "<target dev='vda' bus='virtio'/>") && strstr(xml, path));
    free(xml);
    /* A second one gets the next target. */
    CHECK(backend_attach_disk(b, "g1", 1 << 20, pool_dir) == 0);
    v = poll_vm(&inv, name[at]);
    CHECK(v && v->disks == 2);
    if (d)
        virDomainFree(d);
    if (sp)
        virStoragePoolFree(sp);
    if (c)
        virConnectClose(c);
    inventory_free(&inv);
}

/* Destroy every domain on both daemons (session libvirtd leaves QEMU running). */
static void destroy_all(void)
{
    for (int i = 0; i < 2; i++) {
        virConnectPtr c = virConnectOpen(hv[i].uri);
        virDomainPtr *doms = NULL;
        int n = c ? virConnectListAllDomains(c, &doms, 0) : 0;
        for (int k = 0; k < n; k++) {
            virDomainDestroy(doms[k]);
            virDomainUndefine(doms[k]);
            virDomainFree(doms[k]);
        }
        free(doms);
        if (c)
            virConnectClose(c);
    }
}

/* Say which step runs, so a hang or failure in the log is easy to place. */
static void step(const char *what)
{
    fprintf(stderr, "-- %s\n", what);
}

static int setup(void)
{
    /* Migration ports per process, so two runs at once do not meet. */
    int port = 50000 + (int)(getpid() % 700) * 20;
    for (int i = 0; i < 2; i++) {
        char uuid[96], ports[96];
        snprintf(uuid, sizeof(uuid), "host_uuid = \"a7a50000-0000-4000-8000-00000000000%d\"\n",
                 i + 1);
        snprintf(ports, sizeof(ports), "migration_port_min = %d\nmigration_port_max = %d\n",
                 port + 10 * i, port + 10 * i + 9);
        if (lvd_init(&hv[i], "qemu", "/session") < 0 ||
            lvd_conf(&hv[i], "libvirtd.conf", uuid) < 0 ||
            lvd_conf(&hv[i], "qemu.conf", ports) < 0 || lvd_start(&hv[i]) < 0)
            return -1;
    }
    virConnectPtr c = virConnectOpen(hv[0].uri);
    /* The loader's image, readable by the daemons' QEMU. */
    char blob[128], buf[65536];
    snprintf(blob, sizeof(blob), "%s/pool/ram.bin", hv[0].dir);
    FILE *rnd = fopen("/dev/urandom", "r"), *out = fopen(blob, "w");
    for (int i = 0; rnd && out && i < 256; i++) {
        if (fread(buf, 1, sizeof(buf), rnd) != sizeof(buf) ||
            fwrite(buf, 1, sizeof(buf), out) != sizeof(buf))
            break;
    }
    if (rnd)
        fclose(rnd);
    if (out)
        fclose(out);
    chmod(blob, 0644);
    char xml[2048];
    snprintf(xml, sizeof(xml), GUEST_XML_FMT, blob);
    virDomainPtr d = c ? virDomainDefineXML(c, xml) : NULL;
    int rc = d && virDomainCreate(d) == 0 ? 0 : -1;
    if (rc < 0)
        fprintf(stderr, "cannot start a QEMU guest: %s\n", virGetLastErrorMessage());
    if (d)
        virDomainFree(d);
    if (c)
        virConnectClose(c);
    if (rc < 0)
        return -2;
    const char *uris[] = {hv[0].uri, hv[1].uri};
    b = backend_open(uris, 2, &clk);
    if (!b)
        return -1;
    struct inventory inv;
    inventory_init(&inv);
    CHECK(backend_poll(b, &inv) == 0 && inv.n_hosts == 2);
    for (int i = 0; i < 2 && i < (int)inv.n_hosts; i++)
        snprintf(name[i], sizeof(name[i]), "%s", inv.hosts[i].name);
    inventory_free(&inv);
    return 0;
}

/* Killed (meson's timeout) or our own watchdog: leave no QEMU behind. */
static void on_fatal_signal(int sig)
{
    (void)sig;
    static const char msg[] = "test_libvirt_qemu: stopped by a signal; killing its daemons\n";
    if (write(2, msg, sizeof(msg) - 1) < 0)
        _exit(2);
    lvd_emergency_kill(&hv[0]);
    lvd_emergency_kill(&hv[1]);
    lvd_emergency_rm(&hv[0]);
    lvd_emergency_rm(&hv[1]);
    _exit(1);
}

int main(void)
{
    signal(SIGTERM, on_fatal_signal);
    signal(SIGINT, on_fatal_signal);
    signal(SIGALRM, on_fatal_signal);
    alarm(240); /* before meson's 300 s timeout */
    if (access(LVD_LIBVIRTD, X_OK) != 0 || access(QEMU, X_OK) != 0) {
        fprintf(stderr, "SKIP: needs %s and %s\n", LVD_LIBVIRTD, QEMU);
        return 77;
    }
    clock_init_real(&clk);
    int rc = setup();
    if (rc == 0) {
        step("stats_and_dirty_rate_from_qemu");
        stats_and_dirty_rate_from_qemu();
        step("migrate_there_with_typed_params");
        migrate_there_with_typed_params();
        step("timeout_aborts_and_vm_stays");
        timeout_aborts_and_vm_stays();
        step("progress_and_abort_from_another_thread");
        progress_and_abort_from_another_thread();
        step("postcopy_switch_keeps_vm_once");
        postcopy_switch_keeps_vm_once();
        step("migrate_back_with_xbzrle");
        migrate_back_with_xbzrle();
        step("grow_in_place");
        grow_in_place();
    }
    backend_close(b);
    destroy_all();
    lvd_destroy(&hv[0]);
    lvd_destroy(&hv[1]);
    if (rc == -2) {
        fprintf(stderr, "SKIP: this machine cannot run a QEMU guest under libvirt\n");
        return 77;
    }
    if (rc < 0)
        fprintf(stderr, "setup failed: %s\n", err_msg());
    if (test_failures)
        fprintf(stderr, "%d check(s) failed\n", test_failures);
    return rc < 0 || test_failures ? 1 : 0;
}
