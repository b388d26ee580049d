/* Unit tests for the sim:// backend driver: URI options, inventory of the
 * bundled day, counters that advance with the clock, growth and migration. */
#include "backend/backend.h"
#include "test.h"
#include "util/util.h"

#include <stdlib.h>

static struct backend *open_sim(struct clock *c, const char *uri)
{
    const char *uris[] = {uri};
    return backend_open(uris, 1, c);
}

TEST(lists_bundled_day)
{
    struct clock c;
    clock_init_virtual(&c, 1000000);
    struct backend *b = open_sim(&c, "sim://");
    CHECK(b != NULL);
    if (!b)
        return;
    struct inventory inv;
    inventory_init(&inv);
    CHECK_INT_EQ(backend_poll(b, &inv), 0);
    CHECK_INT_EQ(inv.n_hosts, 800);
    CHECK_INT_EQ(inv.n_vms, 1052);
    CHECK_STR_EQ(inv.hosts[0].name, "host-000");
    CHECK_INT_EQ(inv.hosts[0].cpus, 2);
    CHECK_NEAR(inv.hosts[0].cpu_mips, 1860, 0);
    CHECK_NEAR(inv.hosts[1].cpu_mips, 2660, 0);
    CHECK_INT_EQ(inv.hosts[0].mem_kib, 4096 * 1024);
    CHECK_STR_EQ(inv.vms[0].name, "vm-0000");
    CHECK(inventory_find_host(&inv, inv.vms[0].host) != NULL);
    inventory_free(&inv);
    backend_close(b);
}

/* Sum of VM CPU time and of host power over the inventory. */
static void totals(const struct inventory *inv, uint64_t *cpu_ns, double *power_w)
{
    *cpu_ns = 0;
    *power_w = 0;
    for (size_t i = 0; i < inv->n_vms; i++)
        *cpu_ns += inv->vms[i].counters.cpu_time_ns;
    for (size_t i = 0; i < inv->n_hosts; i++)
        *power_w += inv->hosts[i].counters.power_w;
}

TEST(counters_advance_with_clock)
{
    struct clock c;
    clock_init_virtual(&c, 0);
    struct backend *b = open_sim(&c, "sim://?speed=60");
    CHECK(b != NULL);
    if (!b)
        return;
    struct inventory inv;
    inventory_init(&inv);
    CHECK_INT_EQ(backend_poll(b, &inv), 0);
    uint64_t cpu0, cpu1;
    double p0, p1;
    totals(&inv, &cpu0, &p0);
    CHECK(cpu0 == 0);
    CHECK(p0 > 0);
    clock_advance_ms(&c, 10000); /* 600 simulated seconds */
    CHECK_INT_EQ(backend_poll(b, &inv), 0);
    totals(&inv, &cpu1, &p1);
    /* 1052 VMs at ~12 % mean demand for 600 s: tens of thousands of CPU-seconds */
    CHECK(cpu1 > (uint64_t)10000 * 1000000000ull);
    CHECK(cpu1 < (uint64_t)1052 * 600 * 1000000000ull);
    const struct host *h = inventory_find_host(&inv, inv.vms[0].host);
    CHECK(h && h->counters.cpu_busy_ns > 0 && h->counters.cpu_busy_ns <= h->counters.cpu_total_ns);
    CHECK(h && h->counters.cpu_total_ns == 2ull * 600 * 1000000000ull);
    inventory_free(&inv);
    backend_close(b);
}

TEST(grow_and_migrate)
{
    struct clock c;
    clock_init_virtual(&c, 0);
    struct backend *b = open_sim(&c, "sim://?hosts=800&speed=10");
    CHECK(b != NULL);
    if (!b)
        return;
    CHECK_INT_EQ(backend_set_vcpus(b, "vm-0005", 2), 0);
    CHECK(backend_set_vcpus(b, "vm-0005", 99) < 0);
    CHECK(backend_set_vcpus(b, "vm-9999", 2) < 0);
    CHECK_ERR_HAS("vm-9999");
    CHECK_INT_EQ(backend_set_memory(b, "vm-0005", 1024 * 1024), 0);
    struct inventory inv;
    inventory_init(&inv);
    CHECK_INT_EQ(backend_poll(b, &inv), 0);
    struct vm *v = inventory_find_vm(&inv, "vm-0005");
    CHECK(v && v->vcpus == 2 && v->mem_kib == 1024 * 1024);
    /* move vm-0005 to an empty G5 host at the end of the list */
    struct migrate_params mp = {0};
    struct migrate_progress res;
    CHECK_INT_EQ(backend_migrate(b, "vm-0005", "host-799", &mp, &res), 0);
    CHECK_INT_EQ(res.state, MIGRATE_JOB_COMPLETED);
    CHECK(res.elapsed_ms > 0);
    CHECK_INT_EQ(backend_poll(b, &inv), 0);
    v = inventory_find_vm(&inv, "vm-0005");
    CHECK(v && v->state == VM_STATE_MIGRATING);
    clock_advance_ms(&c, 10000); /* 100 simulated s: well past RAM / 62.5 MB/s */
    CHECK_INT_EQ(backend_poll(b, &inv), 0);
    v = inventory_find_vm(&inv, "vm-0005");
    CHECK(v && v->state == VM_STATE_RUNNING);
    CHECK_STR_EQ(v ? v->host : NULL, "host-799");
    CHECK(backend_migrate(b, "vm-0005", "host-799", &mp, &res) < 0);
    CHECK(backend_migrate(b, "vm-0005", "host-nope", &mp, &res) < 0);
    inventory_free(&inv);
    backend_close(b);
}

TEST(bad_uris)
{
    struct clock c;
    clock_init_virtual(&c, 0);
    CHECK(open_sim(&c, "sim://?hosts=0") == NULL);
    CHECK_ERR_HAS("hosts");
    CHECK(open_sim(&c, "sim://?colour=blue") == NULL);
    CHECK_ERR_HAS("colour");
    CHECK(open_sim(&c, "sim:///nonexistent/dir") == NULL);
    CHECK_ERR_HAS("/nonexistent/dir");
    CHECK(open_sim(&c, "sim://?policy=bogus") == NULL);
    CHECK_ERR_HAS("bogus");
    CHECK(open_sim(&c, "sim://somehost/x") == NULL);
}

TEST(policy_inside)
{
    struct clock c;
    clock_init_virtual(&c, 0);
    struct backend *b = open_sim(&c, "sim://?policy=thr-mmt-0.8&speed=300&hosts=100&vms=150");
    CHECK(b != NULL);
    if (!b)
        return;
    struct inventory inv;
    inventory_init(&inv);
    clock_advance_ms(&c, 20000); /* 20 steps */
    CHECK_INT_EQ(backend_poll(b, &inv), 0);
    CHECK_INT_EQ(inv.n_hosts, 100);
    CHECK_INT_EQ(inv.n_vms, 150);
    inventory_free(&inv);
    backend_close(b);
}

RUN_TESTS(lists_bundled_day, counters_advance_with_clock, grow_and_migrate, bad_uris, policy_inside)
