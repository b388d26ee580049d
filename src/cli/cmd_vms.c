/* vms: `arasctl vms` — one line per VM with its host, state and load. */
#include "cli/api_args.h"
#include "cli/cli.h"
#include "cli/table.h"

#include "model/model.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out, const char *cmd)
{
    (void)cmd;
    fputs("Usage: arasctl vms [--host HOST] [--api URL] [--json]\n"
          "\n"
          "List the VMs arasd watches, sorted by name: the host each runs on, its state,\n"
          "vCPUs and memory, and its CPU and memory use at the last tick ('-' until known;\n"
          "memory use needs the guest's balloon driver). Reads GET /api/v1/vms.\n"
          "\n"
          "Options:\n"
          "  --host HOST  only the VMs on HOST\n"
          "  --api URL    arasd's API (default $ARAS_API, else " API_DEFAULT_URL ")\n"
          "  --json       print the API's JSON reply as is\n"
          "  -h, --help   show this help\n"
          "\n"
          "Exit status: 0 on success, 1 if arasd could not be reached, 2 on a usage error.\n",
          out);
}

static void print_vms(const json_t *vms)
{
    char spec[] = "Name|Host|State|>vCPUs|>Mem MiB|>CPU %|>Mem %";
    struct table t;
    table_init(&t, spec);
    size_t n = json_array_size(vms), running = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(vms, i);
        running += strcmp(api_str(v, "state"), "running") == 0;
        char vcpus[16], mem[32], cpu[32], memp[32];
        const char *row[] = {api_str(v, "name"),
                             api_str(v, "host"),
                             api_str(v, "state"),
                             api_num(v, "vcpus", 0, 1, vcpus, sizeof(vcpus)),
                             api_num(v, "mem_kib", 0, 1.0 / 1024, mem, sizeof(mem)),
                             api_num(v, "cpu_pct", 1, 1, cpu, sizeof(cpu)),
                             api_num(v, "mem_used_pct", 1, 1, memp, sizeof(memp))};
        table_add(&t, row);
    }
    table_print(&t, stdout);
    table_free(&t);
    printf("\n%zu VM%s, %zu running\n", n, n == 1 ? "" : "s", running);
}

static void show_vms(const json_t *reply, const void *ctx)
{
    (void)ctx;
    print_vms(json_object_get(reply, "vms"));
}

static int run(int argc, char **argv)
{
    const char *host = NULL;
    const struct api_flag flags[] = {{"host", true, &host, NULL}, {NULL, false, NULL, NULL}};
    const struct api_args spec = {"vms", usage, flags, 0, "no arguments"};
    struct api_opts o;
    int first, rc = api_args_parse(&spec, argc, argv, &o, &first);
    if (rc >= 0)
        return rc;
    if (host && (!*host || strlen(host) >= MODEL_NAME_MAX))
        return fprintf(stderr, "arasctl vms: --host: not a host name\n"), 2;
    AUTOFREE char *esc = host ? api_escape(host) : NULL;
    AUTOFREE char *path = host ? xasprintf("/api/v1/vms?host=%s", esc) : xstrdup("/api/v1/vms");
    return api_show(&o, path, show_vms, NULL);
}

const struct cli_command cli_cmd_vms = {"vms", "list VMs with their host, state and load", run};
