/* status: `arasctl status` — is arasd running, on what, and how is the cluster. */
#include "cli/api_args.h"
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void usage(FILE *out, const char *cmd)
{
    (void)cmd;
    fputs("Usage: arasctl status [--api URL] [--json]\n"
          "\n"
          "Show arasd's state: version and uptime, the backend and its URIs, the tick, and a\n"
          "summary of the cluster (hosts up, VMs running, mean host CPU, energy when the\n"
          "backend models power). Reads GET /api/v1/status.\n"
          "\n"
          "Options:\n"
          "  --api URL   arasd's API (default $ARAS_API, else " API_DEFAULT_URL ")\n"
          "  --json      print the API's JSON reply as is\n"
          "  -h, --help  show this help\n"
          "\n"
          "Exit status: 0 if arasd answered, 1 if it could not be reached or failed.\n",
          out);
}

/* "2h 03m 10s" */
static void fmt_duration(long long s, char *buf, size_t n)
{
    if (s >= 86400)
        snprintf(buf, n, "%lldd %02lldh %02lldm", s / 86400, s % 86400 / 3600, s % 3600 / 60);
    else if (s >= 3600)
        snprintf(buf, n, "%lldh %02lldm %02llds", s / 3600, s % 3600 / 60, s % 60);
    else
        snprintf(buf, n, "%lldm %02llds", s / 60, s % 60);
}

static void fmt_utc(long long ms, char *buf, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static long long num(const json_t *j, const char *key)
{
    return (long long)json_integer_value(json_object_get(j, key));
}

static void print_status(const json_t *j, const char *base)
{
    char up[64], since[64], last[64], buf[64];
    fmt_duration(num(j, "uptime_s"), up, sizeof(up));
    fmt_utc(num(j, "started_ms"), since, sizeof(since));
    printf("arasd:      %s, up %s (since %s)\n", api_str(j, "version"), up, since);
    printf("API:        %s\n", base);
    printf("backend:    %s:", api_str(j, "backend"));
    json_t *uris = json_object_get(j, "uris");
    size_t n_uris = json_array_size(uris);
    for (size_t i = 0; i < n_uris && i < 4; i++)
        printf(" %s", json_string_value(json_array_get(uris, i)));
    if (n_uris > 4)
        printf(" (and %zu more)", n_uris - 4);
    fmt_utc(num(j, "t_ms"), last, sizeof(last));
    printf("\ntick:       every %.1f s; %lld done, last at %s\n", (double)num(j, "tick_ms") / 1000,
           num(j, "ticks"), last);
    printf("hosts:      %lld (%lld up)\n", num(j, "hosts"), num(j, "hosts_up"));
    printf("VMs:        %lld (%lld running)\n", num(j, "vms"), num(j, "vms_running"));
    printf("host CPU:   %s %% mean over hosts up\n",
           api_num(j, "mean_host_cpu_pct", 1, 1, buf, sizeof(buf)));
    if (json_is_number(json_object_get(j, "energy_kwh")))
        printf("energy:     %s kWh since start\n",
               api_num(j, "energy_kwh", 3, 1, buf, sizeof(buf)));
}

static int run(int argc, char **argv)
{
    const struct api_args spec = {"status", usage, NULL, 0, "no arguments"};
    struct api_opts o;
    int first, rc = api_args_parse(&spec, argc, argv, &o, &first);
    if (rc >= 0)
        return rc;
    const char *base = api_base_url(o.api);
    char *raw = NULL;
    json_t *j = api_get_json(base, "/api/v1/status", &raw);
    if (!j)
        return cli_fail();
    if (o.json)
        printf("%s\n", raw);
    else
        print_status(j, base);
    free(raw);
    json_decref(j);
    return 0;
}

const struct cli_command cli_cmd_status = {"status", "show arasd's state and a cluster summary",
                                           run};
