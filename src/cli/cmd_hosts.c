/* hosts: `arasctl hosts` — one line per host with its load, like `virsh list`. */
#include "cli/api_args.h"
#include "cli/cli.h"
#include "cli/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out, const char *cmd)
{
    (void)cmd;
    fputs("Usage: arasctl hosts [--down] [--api URL] [--json]\n"
          "\n"
          "List the hosts arasd watches, sorted by name: whether each is up (or in\n"
          "maintenance), its CPUs and memory, its CPU and memory use at the last tick, the\n"
          "VMs on it and its power draw when the backend models power. '-' means not known\n"
          "yet (rates need two ticks). Reads GET /api/v1/hosts.\n"
          "\n"
          "Options:\n"
          "  --down      list only hosts that are down\n"
          "  --api URL   arasd's API (default $ARAS_API, else " API_DEFAULT_URL ")\n"
          "  --json      print the API's JSON reply as is\n"
          "  -h, --help  show this help\n"
          "\n"
          "Exit status: 0 on success, 1 if arasd could not be reached, 2 on a usage error.\n",
          out);
}

static const char *host_state(const json_t *h)
{
    if (json_is_true(json_object_get(h, "maintenance")))
        return "maint";
    return json_is_true(json_object_get(h, "up")) ? "up" : "down";
}

static void print_hosts(const json_t *hosts, bool down_only)
{
    char spec[] = "Name|State|>CPUs|>Mem GiB|>CPU %|>Mem %|>VMs|>Power W";
    struct table t;
    table_init(&t, spec);
    size_t n = json_array_size(hosts), up = 0, shown = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *h = json_array_get(hosts, i);
        bool is_up = json_is_true(json_object_get(h, "up"));
        up += is_up;
        if (down_only && is_up)
            continue;
        char cpus[16], mem[32], cpu[32], memp[32], vms[16], pw[32];
        const char *row[] = {api_str(h, "name"),
                             host_state(h),
                             api_num(h, "cpus", 0, 1, cpus, sizeof(cpus)),
                             api_num(h, "mem_kib", 1, 1.0 / (1024 * 1024), mem, sizeof(mem)),
                             api_num(h, "cpu_pct", 1, 1, cpu, sizeof(cpu)),
                             api_num(h, "mem_used_pct", 1, 1, memp, sizeof(memp)),
                             api_num(h, "vms", 0, 1, vms, sizeof(vms)),
                             api_num(h, "power_w", 0, 1, pw, sizeof(pw))};
        table_add(&t, row);
        shown++;
    }
    table_print(&t, stdout);
    table_free(&t);
    printf("\n%zu host%s shown; %zu of %zu up\n", shown, shown == 1 ? "" : "s", up, n);
}

static void show_hosts(const json_t *reply, const void *ctx)
{
    print_hosts(json_object_get(reply, "hosts"), *(const bool *)ctx);
}

static int run(int argc, char **argv)
{
    bool down = false;
    const struct api_flag flags[] = {{"down", false, NULL, &down}, {NULL, false, NULL, NULL}};
    const struct api_args spec = {"hosts", usage, flags, 0, "no arguments"};
    struct api_opts o;
    int first, rc = api_args_parse(&spec, argc, argv, &o, &first);
    if (rc >= 0)
        return rc;
    return api_show(&o, "/api/v1/hosts", show_hosts, &down);
}

const struct cli_command cli_cmd_hosts = {"hosts", "list hosts with their load", run};
