/* metrics: the Prometheus text exposition of a tick (served at /metrics). */
#include "http/snapshot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* A label value with \, " and newline escaped as the format requires. */
static void put_label(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fprintf(f, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void host_metrics(FILE *f, const struct http_view *v)
{
    const struct inventory *inv = v->inv;
    header(f, "aras_host_up", "gauge", "1 if the host is reachable (powered on in the simulator).");
    for (size_t i = 0; i < inv->n_hosts; i++) {
        fputs("aras_host_up{host=", f);
        put_label(f, inv->hosts[i].name);
        fprintf(f, "} %d\n", inv->hosts[i].up ? 1 : 0);
    }
    header(f, "aras_host_cpu_pct", "gauge", "Host CPU use, percent of all its CPUs.");
    for (size_t i = 0; i < inv->n_hosts; i++) {
        const struct host_rates *r = v->host_rates ? v->host_rates[i] : NULL;
        if (!r || !isfinite(r->cpu_pct))
            continue;
        fputs("aras_host_cpu_pct{host=", f);
        put_label(f, inv->hosts[i].name);
        fprintf(f, "} %.3f\n", r->cpu_pct);
    }
}

static void vm_metrics(FILE *f, const struct http_view *v)
{
    const struct inventory *inv = v->inv;
    header(f, "aras_vm_cpu_pct", "gauge", "VM CPU use, percent of all its vCPUs.");
    for (size_t i = 0; i < inv->n_vms; i++) {
        const struct vm_rates *r = v->vm_rates ? v->vm_rates[i] : NULL;
        if (!r || !isfinite(r->cpu_pct))
            continue;
        fputs("aras_vm_cpu_pct{vm=", f);
        put_label(f, inv->vms[i].name);
        fputs(",host=", f);
        put_label(f, inv->vms[i].host);
        fprintf(f, "} %.3f\n", r->cpu_pct);
    }
}

char *http_metrics_render(const struct http_view *v)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        abort();
    size_t up = 0;
    for (size_t i = 0; v->inv && i < v->inv->n_hosts; i++)
        up += v->inv->hosts[i].up;
    header(f, "aras_ticks_total", "counter", "Monitoring ticks done since arasd started.");
    fprintf(f, "aras_ticks_total %llu\n", (unsigned long long)v->ticks);
    header(f, "aras_hosts", "gauge", "Hosts known to arasd.");
    fprintf(f, "aras_hosts %zu\n", v->inv ? v->inv->n_hosts : 0);
    header(f, "aras_hosts_up", "gauge", "Hosts that are up.");
    fprintf(f, "aras_hosts_up %zu\n", up);
    header(f, "aras_vms", "gauge", "VMs known to arasd.");
    fprintf(f, "aras_vms %zu\n", v->inv ? v->inv->n_vms : 0);
    if (v->energy_kwh >= 0) {
        header(f, "aras_energy_kwh_total", "counter", "Cluster energy since arasd started.");
        fprintf(f, "aras_energy_kwh_total %.6f\n", v->energy_kwh);
    }
    if (v->inv) {
        host_metrics(f, v);
        vm_metrics(f, v);
    }
    fclose(f);
    return buf;
}
