/* lv_poll: one poll of every host — node info, CPU and memory counters, and
 * one virConnectGetAllDomainStats call per host for every domain's counters.
 * Drivers whose bulk stats lack a group (the test driver reports only
 * "state") get the missing fields from per-domain calls instead. */
#include "backend/libvirt/lv.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

#define LV_DEV_MAX 64

enum vm_state lv_state_map(int state)
{
    switch (state) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED:
    case VIR_DOMAIN_SHUTDOWN: /* still running while it shuts down */
        return VM_STATE_RUNNING;
    case VIR_DOMAIN_PAUSED:
    case VIR_DOMAIN_PMSUSPENDED:
        return VM_STATE_PAUSED;
    case VIR_DOMAIN_SHUTOFF:
        return VM_STATE_SHUTOFF;
    case VIR_DOMAIN_CRASHED:
        return VM_STATE_CRASHED;
    default:
        return VM_STATE_UNKNOWN;
    }
}

static uint64_t lv_tp_u64(const virTypedParameter *p)
{
    switch (p->type) {
    case VIR_TYPED_PARAM_INT:
        return p->value.i < 0 ? 0 : (uint64_t)p->value.i;
    case VIR_TYPED_PARAM_UINT:
        return p->value.ui;
    case VIR_TYPED_PARAM_LLONG:
        return p->value.l < 0 ? 0 : (uint64_t)p->value.l;
    case VIR_TYPED_PARAM_ULLONG:
        return p->value.ul;
    case VIR_TYPED_PARAM_DOUBLE:
        return p->value.d < 0 ? 0 : (uint64_t)p->value.d;
    default:
        return 0;
    }
}

/* "block.3.rd.bytes" with prefix "block." -> "rd.bytes"; NULL if no index. */
static const char *lv_indexed_suffix(const char *field, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(field, prefix, n) != 0)
        return NULL;
    const char *p = field + n;
    size_t d = strspn(p, "0123456789");
    return d > 0 && p[d] == '.' ? p + d + 1 : NULL;
}

/* Which groups a bulk record carried. */
struct lv_have {
    bool state, cpu, balloon, vcpu, block, net;
    int reason;
};

static void lv_rec_field(const virTypedParameter *p, struct vm *v, struct lv_have *have,
                         int *dirty_status)
{
    const char *f = p->field, *s;
    uint64_t x = lv_tp_u64(p);
    struct vm_counters *c = &v->counters;
    if (strcmp(f, "state.state") == 0) {
        have->state = true;
        v->state = lv_state_map((int)x);
    } else if (strcmp(f, "state.reason") == 0) {
        have->reason = (int)x;
    } else if (strcmp(f, "cpu.time") == 0) {
        have->cpu = true;
        c->cpu_time_ns = x;
    } else if (strcmp(f, "balloon.current") == 0) {
        have->balloon = true;
        v->mem_kib = c->mem_actual_kib = x;
    } else if (strcmp(f, "balloon.maximum") == 0) {
        v->max_mem_kib = x;
    } else if (strcmp(f, "balloon.unused") == 0) {
        c->mem_unused_kib = x;
    } else if (strcmp(f, "balloon.available") == 0) {
        c->mem_available_kib = x;
    } else if (strcmp(f, "vcpu.current") == 0) {
        have->vcpu = true;
        v->vcpus = (unsigned)x;
    } else if (strcmp(f, "vcpu.maximum") == 0) {
        v->max_vcpus = (unsigned)x;
    } else if (strcmp(f, "block.count") == 0) {
        have->block = true;
        v->disks = (unsigned)x;
    } else if (strcmp(f, "net.count") == 0) {
        have->net = true;
    } else if ((s = lv_indexed_suffix(f, "block."))) {
        if (strcmp(s, "rd.bytes") == 0)
            c->blk_rd_bytes += x;
        else if (strcmp(s, "wr.bytes") == 0)
            c->blk_wr_bytes += x;
        else if (strcmp(s, "rd.reqs") == 0)
            c->blk_rd_reqs += x;
        else if (strcmp(s, "wr.reqs") == 0)
            c->blk_wr_reqs += x;
    } else if ((s = lv_indexed_suffix(f, "net."))) {
        if (strcmp(s, "rx.bytes") == 0)
            c->net_rx_bytes += x;
        else if (strcmp(s, "tx.bytes") == 0)
            c->net_tx_bytes += x;
    } else if (strcmp(f, "dirtyrate.calc_status") == 0) {
        *dirty_status = (int)x;
    } else if (strcmp(f, "dirtyrate.megabytes_per_second") == 0) {
        c->dirty_rate_mib_s = (double)x;
    }
}

/* Devices' block and interface counters from per-device calls. */
static void lv_fallback_devices(virDomainPtr d, struct vm *v, const struct lv_have *have,
                                bool active)
{
    char *xml = virDomainGetXMLDesc(d, 0);
    if (!xml) {
        virResetLastError();
        return;
    }
    char names[LV_DEV_MAX][32];
    size_t n = lv_xml_targets(xml, "disk", names, LV_DEV_MAX);
    if (!have->block) {
        v->disks = (unsigned)n;
        for (size_t i = 0; active && i < n; i++) {
            virDomainBlockStatsStruct st;
            if (virDomainBlockStats(d, names[i], &st, sizeof(st)) < 0) {
                virResetLastError();
                continue;
            }
            v->counters.blk_rd_bytes += st.rd_bytes > 0 ? (uint64_t)st.rd_bytes : 0;
            v->counters.blk_wr_bytes += st.wr_bytes > 0 ? (uint64_t)st.wr_bytes : 0;
            v->counters.blk_rd_reqs += st.rd_req > 0 ? (uint64_t)st.rd_req : 0;
            v->counters.blk_wr_reqs += st.wr_req > 0 ? (uint64_t)st.wr_req : 0;
        }
    }
    n = lv_xml_targets(xml, "interface", names, LV_DEV_MAX);
    for (size_t i = 0; !have->net && active && i < n; i++) {
        virDomainInterfaceStatsStruct st;
        if (virDomainInterfaceStats(d, names[i], &st, sizeof(st)) < 0) {
            virResetLastError();
            continue;
        }
        v->counters.net_rx_bytes += st.rx_bytes > 0 ? (uint64_t)st.rx_bytes : 0;
        v->counters.net_tx_bytes += st.tx_bytes > 0 ? (uint64_t)st.tx_bytes : 0;
    }
    free(xml);
}

/* Fill what the bulk record lacked with per-domain calls. */
static void lv_fallback(virDomainPtr d, struct vm *v, const struct lv_have *have)
{
    virDomainInfo info;
    bool active = virDomainIsActive(d) == 1;
    if ((!have->cpu || !have->vcpu || !have->balloon || !have->state || !v->max_mem_kib) &&
        virDomainGetInfo(d, &info) == 0) {
        if (!have->state)
            v->state = lv_state_map(info.state);
        if (!have->cpu)
            v->counters.cpu_time_ns = info.cpuTime;
        if (!have->vcpu)
            v->vcpus = info.nrVirtCpu;
        if (!have->balloon)
            v->mem_kib = v->counters.mem_actual_kib = info.memory;
        if (!v->max_mem_kib)
            v->max_mem_kib = info.maxMem;
    }
    if (!have->vcpu) {
        int max =
            active ? virDomainGetMaxVcpus(d)
                   : virDomainGetVcpusFlags(d, VIR_DOMAIN_AFFECT_CONFIG | VIR_DOMAIN_VCPU_MAXIMUM);
        v->max_vcpus = max > 0 ? (unsigned)max : v->vcpus;
    }
    if (active && !have->balloon) {
        virDomainMemoryStatStruct ms[VIR_DOMAIN_MEMORY_STAT_NR];
        int n = virDomainMemoryStats(d, ms, VIR_DOMAIN_MEMORY_STAT_NR, 0);
        for (int i = 0; i < n; i++) {
            if (ms[i].tag == VIR_DOMAIN_MEMORY_STAT_UNUSED)
                v->counters.mem_unused_kib = ms[i].val;
            else if (ms[i].tag == VIR_DOMAIN_MEMORY_STAT_AVAILABLE)
                v->counters.mem_available_kib = ms[i].val;
        }
    }
    if (!have->block || (!have->net && active))
        lv_fallback_devices(d, v, have, active);
    virResetLastError(); /* whatever failed above is only missing detail */
}

static void lv_poll_domain(struct lv_host *h, virDomainStatsRecordPtr rec, struct inventory *inv,
                           int64_t now, uint64_t gen)
{
    const char *name = virDomainGetName(rec->dom);
    if (!name)
        return;
    struct vm *v = inventory_add_vm(inv);
    if (model_name_set(v->name, sizeof(v->name), name) < 0) {
        log_warn("libvirt", "%s: skipping VM: %s", h->uri, err_msg());
        inv->n_vms--;
        return;
    }
    snprintf(v->host, sizeof(v->host), "%s", h->name);
    if (virDomainGetUUIDString(rec->dom, v->uuid) < 0)
        virResetLastError();
    v->counters.t_ms = now;
    struct lv_have have = {0};
    int dirty_status = -1;
    for (int i = 0; i < rec->nparams; i++)
        lv_rec_field(&rec->params[i], v, &have, &dirty_status);
    if (dirty_status != VIR_DOMAIN_DIRTYRATE_MEASURED)
        v->counters.dirty_rate_mib_s = -1;
    if (!have.cpu || !have.vcpu || !have.balloon || !have.block || !have.net || !have.state ||
        !v->max_mem_kib)
        lv_fallback(rec->dom, v, &have);
    if (v->state == VM_STATE_PAUSED &&
        (have.reason == VIR_DOMAIN_PAUSED_MIGRATION || have.reason == VIR_DOMAIN_PAUSED_POSTCOPY))
        v->state = VM_STATE_MIGRATING;
    /* The balloon's maximum is not the limit where memory can be hot-plugged. */
    if (v->state == VM_STATE_RUNNING && v->max_mem_kib)
        v->max_mem_kib = lv_mem_ceiling(h, rec->dom, v->uuid, v->max_mem_kib, gen);
}

/* Disk use of the host: space allocated in its active storage pools (libvirt
 * reports no disk busy time for a host). Left unknown (0) without pools. */
static void lv_poll_pools(virConnectPtr c, struct host *out)
{
    virStoragePoolPtr *pools = NULL;
    int n = virConnectListAllStoragePools(c, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);
    for (int i = 0; i < n; i++) {
        virStoragePoolInfo info;
        if (virStoragePoolGetInfo(pools[i], &info) == 0 && info.capacity > 0) {
            out->counters.disk_capacity_bytes += info.capacity;
            out->counters.disk_allocation_bytes += info.allocation;
        }
        virStoragePoolFree(pools[i]);
    }
    free(pools);
    virResetLastError(); /* no storage driver, or a pool that went away: unknown */
}

/* Node counters; -1 (err_set) when the host does not answer at all. */
static int lv_poll_node(struct lv_host *h, virConnectPtr c, struct host *out)
{
    virNodeInfo ni;
    if (virNodeGetInfo(c, &ni) < 0)
        return lv_err(h, NULL, "reading node info");
    out->cpus = ni.cpus;
    out->mem_kib = ni.memory;
    out->counters.mem_total_kib = ni.memory;
    int n = 0;
    if (virNodeGetCPUStats(c, VIR_NODE_CPU_STATS_ALL_CPUS, NULL, &n, 0) == 0 && n > 0) {
        virNodeCPUStatsPtr st = xcalloc((size_t)n, sizeof(*st));
        if (virNodeGetCPUStats(c, VIR_NODE_CPU_STATS_ALL_CPUS, st, &n, 0) == 0) {
            uint64_t busy = 0, idle = 0;
            for (int i = 0; i < n; i++) {
                if (strcmp(st[i].field, VIR_NODE_CPU_STATS_IDLE) == 0 ||
                    strcmp(st[i].field, VIR_NODE_CPU_STATS_IOWAIT) == 0)
                    idle += st[i].value;
                else if (strcmp(st[i].field, VIR_NODE_CPU_STATS_UTILIZATION) != 0)
                    busy += st[i].value;
            }
            out->counters.cpu_busy_ns = busy;
            out->counters.cpu_total_ns = busy + idle;
        }
        free(st);
    }
    n = 0;
    if (virNodeGetMemoryStats(c, VIR_NODE_MEMORY_STATS_ALL_CELLS, NULL, &n, 0) == 0 && n > 0) {
        virNodeMemoryStatsPtr st = xcalloc((size_t)n, sizeof(*st));
        if (virNodeGetMemoryStats(c, VIR_NODE_MEMORY_STATS_ALL_CELLS, st, &n, 0) == 0) {
            for (int i = 0; i < n; i++) {
                if (strcmp(st[i].field, VIR_NODE_MEMORY_STATS_TOTAL) == 0)
                    out->counters.mem_total_kib = st[i].value;
                else if (strcmp(st[i].field, VIR_NODE_MEMORY_STATS_FREE) == 0 ||
                         strcmp(st[i].field, VIR_NODE_MEMORY_STATS_BUFFERS) == 0 ||
                         strcmp(st[i].field, VIR_NODE_MEMORY_STATS_CACHED) == 0)
                    out->counters.mem_free_kib += st[i].value;
            }
        }
        free(st);
    } else { /* e.g. the test driver: free memory only */
        unsigned long long free_b = virNodeGetFreeMemory(c);
        out->counters.mem_free_kib = free_b / 1024;
    }
    virResetLastError();
    lv_poll_pools(c, out);
    return 0;
}

static int lv_poll_host(struct backend *b, struct lv_host *h, struct inventory *inv)
{
    virConnectPtr c = lv_host_conn(h);
    if (!c)
        return -1;
    struct host *ho = &inv->hosts[inv->n_hosts - 1];
    int64_t now = clock_now_ms(b->clock);
    ho->counters.t_ms = now;
    if (lv_poll_node(h, c, ho) < 0) {
        virConnectClose(c);
        return -1;
    }
    unsigned groups = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL |
                      VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU |
                      VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK |
                      VIR_DOMAIN_STATS_DIRTYRATE;
    virDomainStatsRecordPtr *recs = NULL;
    /* NOWAIT: a domain busy in a job (migrating) reports what it can now
     * instead of stalling the whole poll. */
    int n = virConnectGetAllDomainStats(c, groups, &recs, VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
    if (n < 0) {
        lv_err(h, NULL, "reading domain stats");
        virConnectClose(c);
        return -1;
    }
    uint64_t gen = lv_of(b)->poll_gen;
    for (int i = 0; i < n; i++)
        lv_poll_domain(h, recs[i], inv, now, gen);
    virDomainStatsRecordListFree(recs);
    lv_mem_cache_sweep(h, gen);
    virConnectClose(c);
    return 0;
}

int lv_poll(struct backend *b, struct inventory *inv)
{
    struct lv *lv = lv_of(b);
    int64_t mono = clock_mono_ms(b->clock);
    lv->poll_gen++;
    for (size_t i = 0; i < lv->n_hosts; i++) {
        struct lv_host *h = &lv->hosts[i];
        struct host *ho = inventory_add_host(inv);
        snprintf(ho->name, sizeof(ho->name), "%s", h->name);
        snprintf(ho->uri, sizeof(ho->uri), "%s", h->uri);
        if (!lv_host_ensure(h, mono))
            continue; /* down: listed with up = false */
        size_t n_vms = inv->n_vms;
        if (lv_poll_host(b, h, inv) < 0) {
            /* It answered at connect but not now: drop what we got from it,
             * list it down and reconnect on a later poll. */
            log_warn("libvirt", "%s", err_msg());
            inv->n_vms = n_vms;
            atomic_store(&h->dropped, true);
            ho = &inv->hosts[inv->n_hosts - 1];
            memset(&ho->counters, 0, sizeof(ho->counters));
            continue;
        }
        inv->hosts[inv->n_hosts - 1].up = true;
    }
    return 0;
}
