/* Unit tests for policy/rac: grow in place when the host has room, migrate to
 * the best fit when not, priorities under contention, limits and modes. */
#include "policy/rac.h"
#include "test.h"
#include "util/util.h"

#define GIB_KIB (1024ULL * 1024)

struct fixture {
    struct inventory inv;
    struct vm_rates vr[8];
    struct host_rates hr[4];
};

static const struct vm_rates *vm_rates_of(const void *ctx, const char *vm)
{
    const struct fixture *f = ctx;
    for (size_t i = 0; i < f->inv.n_vms; i++)
        if (strcmp(f->inv.vms[i].name, vm) == 0)
            return &f->vr[i];
    return NULL;
}

static const struct host_rates *host_rates_of(const void *ctx, const char *host)
{
    const struct fixture *f = ctx;
    for (size_t i = 0; i < f->inv.n_hosts; i++)
        if (strcmp(f->inv.hosts[i].name, host) == 0)
            return &f->hr[i];
    return NULL;
}

static void add_host(struct fixture *f, const char *name, unsigned cpus, uint64_t mem_gib,
                     double cpu_pct, double free_gib, double disk_pct)
{
    size_t i = f->inv.n_hosts;
    struct host *h = inventory_add_host(&f->inv);
    snprintf(h->name, sizeof(h->name), "%s", name);
    h->cpus = cpus;
    h->mem_kib = mem_gib * GIB_KIB;
    h->up = true;
    f->hr[i] = (struct host_rates){.cpu_pct = cpu_pct,
                                   .mem_free_kib = (uint64_t)(free_gib * GIB_KIB),
                                   .disk_util_pct = disk_pct};
}

static void add_vm(struct fixture *f, const char *name, const char *host, unsigned vcpus,
                   unsigned max_vcpus, double mem_gib, double max_mem_gib, double cpu_pct)
{
    size_t i = f->inv.n_vms;
    struct vm *v = inventory_add_vm(&f->inv);
    snprintf(v->name, sizeof(v->name), "%s", name);
    snprintf(v->host, sizeof(v->host), "%s", host);
    v->vcpus = vcpus;
    v->max_vcpus = max_vcpus;
    v->mem_kib = (uint64_t)(mem_gib * GIB_KIB);
    v->max_mem_kib = (uint64_t)(max_mem_gib * GIB_KIB);
    v->state = VM_STATE_RUNNING;
    f->vr[i] = (struct vm_rates){.cpu_pct = cpu_pct, .mem_used_pct = 50, .dirty_rate_mib_s = -1};
}

static struct rac_request request(const char *vm, enum load_class load, int priority)
{
    struct rac_request q;
    memset(&q, 0, sizeof(q));
    snprintf(q.vm, sizeof(q.vm), "%s", vm);
    q.load = load;
    q.limits.priority = priority;
    return q;
}

static struct rac_rates_view view(const struct fixture *f)
{
    return (struct rac_rates_view){.vm = vm_rates_of, .host = host_rates_of, .ctx = f};
}

TEST(cpu_grows_in_place_when_host_below_high)
{
    struct fixture f = {0};
    add_host(&f, "h1", 4, 8, 40, 4, 10);
    add_vm(&f, "web", "h1", 1, 4, 1, 2, 98);
    struct rac_marks m;
    rac_marks_default(&m);
    struct rac_request q = request("web", LOAD_CLASS_CPU, 0);
    struct rac_rates_view rv = view(&f);
    struct rac_decision d;
    rac_decide(&q, 1, &f.inv, &rv, &m, RAC_MODE_AUTO, &d);
    CHECK_INT_EQ(d.action, RAC_ACTION_ADD_VCPU);
    CHECK_INT_EQ(d.new_vcpus, 2);
    CHECK_INT_EQ(d.mode, RAC_MODE_AUTO);
    CHECK(strstr(d.reason, "CPU 40% < High 80%") != NULL);
    inventory_free(&f.inv);
}

TEST(cpu_migrates_to_best_fit_when_host_is_hot)
{
    struct fixture f = {0};
    add_host(&f, "h1", 2, 4, 95, 1, 10);
    add_host(&f, "h2", 4, 8, 10, 6, 10); /* fits: 10 + 100*1/4 = 35 % */
    add_host(&f, "h3", 4, 8, 40, 6, 10); /* fits tighter: 65 % -> best fit */
    add_host(&f, "h4", 4, 8, 70, 6, 10); /* 95 % after: infeasible */
    add_vm(&f, "web", "h1", 1, 1, 1, 1, 100);
    struct rac_marks m;
    rac_marks_default(&m);
    struct rac_request q = request("web", LOAD_CLASS_CPU, 0);
    struct rac_rates_view rv = view(&f);
    struct rac_decision d;
    rac_decide(&q, 1, &f.inv, &rv, &m, RAC_MODE_SEMI, &d);
    CHECK_INT_EQ(d.action, RAC_ACTION_MIGRATE);
    CHECK_STR_EQ(d.dst_host, "h3");
    CHECK(strstr(d.reason, "host h1 CPU 95% >= 80%") != NULL);
    CHECK(strstr(d.reason, "best fit of 2 feasible hosts") != NULL);
    /* Maintenance and down hosts are never targets. */
    f.inv.hosts[2].maintenance = true;
    rac_decide(&q, 1, &f.inv, &rv, &m, RAC_MODE_SEMI, &d);
    CHECK_STR_EQ(d.dst_host, "h2");
    f.inv.hosts[1].up = false;
    rac_decide(&q, 1, &f.inv, &rv, &m, RAC_MODE_SEMI, &d);
    CHECK_INT_EQ(d.action, RAC_ACTION_NONE);
    CHECK(strstr(d.reason, "no host can take it") != NULL);
    inventory_free(&f.inv);
}

TEST(priority_wins_contended_headroom)
{
    struct fixture f = {0};
    /* 2-CPU host at 60 %: one extra vCPU (+50 %) fits under High, a second does not. */
    add_host(&f, "h1", 2, 8, 30, 4, 10);
    add_host(&f, "h2", 8, 16, 0, 12, 10);
    add_vm(&f, "batch", "h1", 1, 4, 1, 1, 99);
    add_vm(&f, "shop", "h1", 1, 4, 1, 1, 99);
    struct rac_marks m;
    rac_marks_default(&m);
    struct rac_request q[2] = {request("batch", LOAD_CLASS_CPU, 1),
                               request("shop", LOAD_CLASS_CPU, 10)};
    struct rac_rates_view rv = view(&f);
    struct rac_decision d[2];
    rac_decide(q, 2, &f.inv, &rv, &m, RAC_MODE_AUTO, d);
    CHECK_STR_EQ(d[1].vm, "shop");
    CHECK_INT_EQ(d[1].action, RAC_ACTION_ADD_VCPU);
    CHECK_INT_EQ(d[0].action, RAC_ACTION_MIGRATE);
    CHECK_STR_EQ(d[0].dst_host, "h2");
    CHECK(strstr(d[0].reason, "went to higher-priority VM shop (priority 10)") != NULL);
    inventory_free(&f.inv);
}

TEST(memory_grows_by_step_and_respects_limits)
{
    struct fixture f = {0};
    add_host(&f, "h1", 4, 16, 20, 8, 10);
    add_vm(&f, "db", "h1", 2, 2, 4, 8, 20);
    struct rac_marks m;
    rac_marks_default(&m);
    struct rac_request q = request("db", LOAD_CLASS_MEMORY, 0);
    struct rac_rates_view rv = view(&f);
    struct rac_decision d;
    rac_decide(&q, 1, &f.inv, &rv, &m, RAC_MODE_AUTO, &d);
    CHECK_INT_EQ(d.action, RAC_ACTION_GROW_MEMORY);
    CHECK_INT_EQ(d.new_mem_kib, 5 * GIB_KIB);
    /* A per-VM limit below the domain maximum caps growth. */
    q.limits.max_mem_kib = 4 * GIB_KIB;
    rac_decide(&q, 1, &f.inv, &rv, &m, RAC_MODE_AUTO, &d);
    CHECK_INT_EQ(d.action, RAC_ACTION_NONE);
    CHECK(strstr(d.reason, "limit of 4096 MiB") != NULL);
    /* Host low on free memory: migrate instead. */
    q.limits.max_mem_kib = 0;
    f.hr[0].mem_free_kib = 2 * GIB_KIB; /* 12.5 % free */
    add_host(&f, "h2", 4, 16, 20, 12, 10);
    rac_decide(&q, 1, &f.inv, &rv, &m, RAC_MODE_AUTO, &d);
    CHECK_INT_EQ(d.action, RAC_ACTION_MIGRATE);
    CHECK_STR_EQ(d.dst_host, "h2");
    inventory_free(&f.inv);
}

TEST(io_attaches_a_disk_once_per_host_and_modes_apply)
{
    struct fixture f = {0};
    add_host(&f, "h1", 4, 16, 20, 8, 5);
    add_host(&f, "h2", 4, 16, 20, 8, 5);
    add_vm(&f, "a", "h1", 1, 1, 1, 1, 10);
    add_vm(&f, "b", "h1", 1, 1, 1, 1, 10);
    struct rac_marks m;
    rac_marks_default(&m);
    struct rac_request q[2] = {request("a", LOAD_CLASS_IO, 5), request("b", LOAD_CLASS_IO, 0)};
    q[1].limits.has_mode = true;
    q[1].limits.mode = RAC_MODE_MANUAL;
    struct rac_rates_view rv = view(&f);
    struct rac_decision d[2];
    rac_decide(q, 2, &f.inv, &rv, &m, RAC_MODE_SEMI, d);
    CHECK_INT_EQ(d[0].action, RAC_ACTION_ATTACH_DISK);
    CHECK_INT_EQ(d[0].disk_bytes, 10ULL << 30);
    CHECK_INT_EQ(d[0].mode, RAC_MODE_SEMI);
    CHECK_INT_EQ(d[1].action, RAC_ACTION_MIGRATE);
    CHECK_INT_EQ(d[1].mode, RAC_MODE_MANUAL);
    /* never-move: recommend nothing rather than moving it. */
    q[1].limits.never_move = true;
    rac_decide(q, 2, &f.inv, &rv, &m, RAC_MODE_SEMI, d);
    CHECK_INT_EQ(d[1].action, RAC_ACTION_NONE);
    CHECK(strstr(d[1].reason, "never-move") != NULL);
    inventory_free(&f.inv);
}

TEST(classification_and_unknowns)
{
    struct fixture f = {0};
    add_host(&f, "h1", 4, 16, 20, 8, 5);
    add_vm(&f, "cpu", "h1", 1, 2, 1, 1, 90);
    add_vm(&f, "idle", "h1", 1, 2, 1, 1, 3);
    struct vm_rates io = {.cpu_pct = 10, .mem_used_pct = 40, .disk_iops = 900};
    CHECK_INT_EQ(rac_classify(&f.inv.vms[0], &f.vr[0]), LOAD_CLASS_CPU);
    CHECK_INT_EQ(rac_classify(&f.inv.vms[1], &f.vr[1]), LOAD_CLASS_IDLE);
    CHECK_INT_EQ(rac_classify(&f.inv.vms[1], &io), LOAD_CLASS_IO);
    struct rac_marks m;
    rac_marks_default(&m);
    struct rac_request q[3] = {request("cpu", LOAD_CLASS_IDLE, 0),
                               request("idle", LOAD_CLASS_IDLE, 0),
                               request("ghost", LOAD_CLASS_CPU, 0)};
    struct rac_rates_view rv = view(&f);
    struct rac_decision d[3];
    rac_decide(q, 3, &f.inv, &rv, &m, RAC_MODE_AUTO, d);
    CHECK_INT_EQ(d[0].load, LOAD_CLASS_CPU);
    CHECK_INT_EQ(d[0].action, RAC_ACTION_ADD_VCPU);
    CHECK_INT_EQ(d[1].action, RAC_ACTION_NONE);
    CHECK(strstr(d[2].reason, "not in the inventory") != NULL);
    enum rac_mode mode;
    CHECK(rac_mode_parse("semi-automatic", &mode) == 0 && mode == RAC_MODE_SEMI);
    CHECK(rac_mode_parse("yolo", &mode) < 0);
    inventory_free(&f.inv);
}

RUN_TESTS(cpu_grows_in_place_when_host_below_high, cpu_migrates_to_best_fit_when_host_is_hot,
          priority_wins_contended_headroom, memory_grows_by_step_and_respects_limits,
          io_attaches_a_disk_once_per_host_and_modes_apply, classification_and_unknowns)
