/* snapshot: render a tick's hosts, VMs and status into JSON once, for every request. */
#include "http/snapshot.h"

#include "aras-config.h"
#include "util/mem.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* A number, or null when unknown (negative or not finite). */
static json_t *opt_real(double v)
{
    return isfinite(v) && v >= 0 ? json_real(v) : json_null();
}

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(j);
    if (!s)
        abort(); /* only on allocation failure, see mem.h */
    return s;
}

static char *host_json(const struct host *h, const struct host_rates *r, size_t n_vms)
{
    json_t *j =
        json_pack("{s:s, s:s, s:b, s:b, s:I, s:f, s:I, s:I}", "name", h->name, "uri", h->uri, "up",
                  h->up, "maintenance", h->maintenance, "cpus", (json_int_t)h->cpus, "cpu_mips",
                  h->cpu_mips, "mem_kib", (json_int_t)h->mem_kib, "vms", (json_int_t)n_vms);
    json_object_set_new(j, "cpu_pct", r ? opt_real(r->cpu_pct) : json_null());
    json_object_set_new(j, "mem_used_pct", r ? opt_real(r->mem_used_pct) : json_null());
    json_object_set_new(j, "mem_free_kib",
                        r ? json_integer((json_int_t)r->mem_free_kib) : json_null());
    json_object_set_new(j, "power_w", r && r->power_w > 0 ? json_real(r->power_w) : json_null());
    return dump(j);
}

static char *vm_json(const struct vm *v, const struct vm_rates *r)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "name", v->name, "uuid",
                          v->uuid, "host", v->host, "state", vm_state_str(v->state), "vcpus",
                          (json_int_t)v->vcpus, "max_vcpus", (json_int_t)v->max_vcpus, "mem_kib",
                          (json_int_t)v->mem_kib, "max_mem_kib", (json_int_t)v->max_mem_kib);
    json_object_set_new(j, "cpu_pct", r ? opt_real(r->cpu_pct) : json_null());
    json_object_set_new(j, "mem_used_pct", r ? opt_real(r->mem_used_pct) : json_null());
    json_object_set_new(j, "disk_rd_bytes_per_s",
                        r ? opt_real(r->disk_rd_bytes_per_s) : json_null());
    json_object_set_new(j, "disk_wr_bytes_per_s",
                        r ? opt_real(r->disk_wr_bytes_per_s) : json_null());
    json_object_set_new(j, "net_rx_bytes_per_s", r ? opt_real(r->net_rx_bytes_per_s) : json_null());
    json_object_set_new(j, "net_tx_bytes_per_s", r ? opt_real(r->net_tx_bytes_per_s) : json_null());
    json_object_set_new(j, "dirty_rate_mib_s", r ? opt_real(r->dirty_rate_mib_s) : json_null());
    return dump(j);
}

static int item_cmp(const void *a, const void *b)
{
    return strcmp(((const struct http_item *)a)->name, ((const struct http_item *)b)->name);
}

const struct http_item *http_items_find(const struct http_item *items, size_t n, const char *name)
{
    struct http_item key;
    if (strlen(name) >= sizeof(key.name))
        return NULL;
    snprintf(key.name, sizeof(key.name), "%s", name);
    return bsearch(&key, items, n, sizeof(*items), item_cmp);
}

char *http_items_join(const struct http_item *items, size_t n, int64_t t_ms, const char *key,
                      const char *host)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        abort();
    fprintf(f, "{\"t_ms\":%lld,\"%s\":[", (long long)t_ms, key);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (host && strcmp(items[i].host, host) != 0)
            continue;
        fprintf(f, "%s%s", first ? "" : ",", items[i].json);
        first = false;
    }
    fputs("]}", f);
    fclose(f);
    return buf;
}

/* VMs per host name, for the hosts' "vms" field. */
static size_t vms_on(const struct inventory *inv, const char *host)
{
    size_t n = 0;
    for (size_t i = 0; i < inv->n_vms; i++)
        n += strcmp(inv->vms[i].host, host) == 0;
    return n;
}

static void build_items(struct http_snapshot *s, const struct http_view *v)
{
    const struct inventory *inv = v->inv;
    s->n_hosts = inv ? inv->n_hosts : 0;
    s->n_vms = inv ? inv->n_vms : 0;
    s->hosts = xcalloc(s->n_hosts ? s->n_hosts : 1, sizeof(*s->hosts));
    s->vms = xcalloc(s->n_vms ? s->n_vms : 1, sizeof(*s->vms));
    for (size_t i = 0; i < s->n_hosts; i++) {
        const struct host *h = &inv->hosts[i];
        snprintf(s->hosts[i].name, sizeof(s->hosts[i].name), "%s", h->name);
        s->hosts[i].json =
            host_json(h, v->host_rates ? v->host_rates[i] : NULL, vms_on(inv, h->name));
    }
    for (size_t i = 0; i < s->n_vms; i++) {
        const struct vm *vm = &inv->vms[i];
        snprintf(s->vms[i].name, sizeof(s->vms[i].name), "%s", vm->name);
        snprintf(s->vms[i].host, sizeof(s->vms[i].host), "%s", vm->host);
        s->vms[i].json = vm_json(vm, v->vm_rates ? v->vm_rates[i] : NULL);
    }
    qsort(s->hosts, s->n_hosts, sizeof(*s->hosts), item_cmp);
    qsort(s->vms, s->n_vms, sizeof(*s->vms), item_cmp);
}

static char *status_json(const struct http_view *v)
{
    size_t up = 0, running = 0, with_cpu = 0;
    double cpu_sum = 0;
    const struct inventory *inv = v->inv;
    for (size_t i = 0; inv && i < inv->n_hosts; i++) {
        up += inv->hosts[i].up;
        const struct host_rates *r = v->host_rates ? v->host_rates[i] : NULL;
        if (r && inv->hosts[i].up && isfinite(r->cpu_pct) && r->cpu_pct >= 0) {
            cpu_sum += r->cpu_pct;
            with_cpu++;
        }
    }
    for (size_t i = 0; inv && i < inv->n_vms; i++)
        running += inv->vms[i].state == VM_STATE_RUNNING;
    json_t *uris = json_array();
    for (size_t i = 0; i < v->n_uris; i++)
        json_array_append_new(uris, json_string(v->uris[i]));
    json_t *j =
        json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:o, s:I, s:I, s:I, s:I}", "version",
                  ARAS_VERSION, "started_ms", (json_int_t)v->started_ms, "uptime_s",
                  (json_int_t)((v->t_ms - v->started_ms) / 1000), "t_ms", (json_int_t)v->t_ms,
                  "tick_ms", (json_int_t)v->tick_ms, "ticks", (json_int_t)v->ticks, "backend",
                  v->backend ? v->backend : "", "uris", uris, "hosts",
                  (json_int_t)(inv ? inv->n_hosts : 0), "hosts_up", (json_int_t)up, "vms",
                  (json_int_t)(inv ? inv->n_vms : 0), "vms_running", (json_int_t)running);
    json_object_set_new(j, "mean_host_cpu_pct",
                        with_cpu ? json_real(cpu_sum / (double)with_cpu) : json_null());
    json_object_set_new(j, "energy_kwh", opt_real(v->energy_kwh));
    return dump(j);
}

struct http_snapshot *http_snapshot_build(const struct http_view *v)
{
    struct http_snapshot *s = xcalloc(1, sizeof(*s));
    s->t_ms = v->t_ms;
    build_items(s, v);
    s->status_json = status_json(v);
    s->hosts_json = http_items_join(s->hosts, s->n_hosts, s->t_ms, "hosts", NULL);
    s->vms_json = http_items_join(s->vms, s->n_vms, s->t_ms, "vms", NULL);
    s->metrics = http_metrics_render(v);
    return s;
}

void http_snapshot_free(struct http_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_hosts; i++)
        free(s->hosts[i].json);
    for (size_t i = 0; i < s->n_vms; i++)
        free(s->vms[i].json);
    free(s->hosts);
    free(s->vms);
    free(s->status_json);
    free(s->hosts_json);
    free(s->vms_json);
    free(s->metrics);
    free(s);
}
