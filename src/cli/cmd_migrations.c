/* migrations: `arasctl migrations` — arasd's live migrations: queued and
 * running ones with their progress, and those that ended in the last hour,
 * whoever asked for them (the allocator or an operator). */
#include "cli/api_args.h"
#include "cli/cli.h"
#include "cli/table.h"

#include "util/mem.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void usage(FILE *out, const char *cmd)
{
    (void)cmd;
    fputs("Usage: arasctl migrations [--api URL] [--json]\n"
          "\n"
          "List arasd's live migrations, oldest first: ID, state (queued, running,\n"
          "completed, failed, cancelled), the VM, source and destination host, progress\n"
          "(share of the data sent while running), how long it took, who asked for it\n"
          "(\"allocator #ID (mode)\" or \"operator NAME\"), and the outcome with where the VM\n"
          "runs now. Migrations that ended more than an hour ago are in the history:\n"
          "GET /api/v1/migrations/ID, 'arasctl events'. A migration arasd was running when\n"
          "it stopped is reconciled at its next start (followed if libvirt still runs\n"
          "it). Start one with 'arasctl migrate VM HOST'. Reads GET /api/v1/migrations.\n"
          "\n"
          "Options:\n"
          "  --api URL   arasd's API (default $ARAS_API, else " API_DEFAULT_URL ")\n"
          "  --json      print the API's JSON reply as is\n"
          "  -h, --help  show this help\n"
          "\n"
          "Exit status: 0 on success, 1 if arasd could not be reached, 2 on a usage error.\n",
          out);
}

static int64_t num(const json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

static void print_migrations(const json_t *reply, const void *ctx)
{
    (void)ctx;
    const json_t *items = json_object_get(reply, "migrations");
    struct table t;
    char spec[] = "ID|State|VM|From|To|Progress|Time|Origin|Result";
    table_init(&t, spec);
    for (size_t i = 0; i < json_array_size(items); i++) {
        const json_t *m = json_array_get(items, i);
        const json_t *p = json_object_get(m, "progress");
        char id[24], prog[32] = "-", took[32] = "-";
        snprintf(id, sizeof(id), "%" PRId64, num(m, "id"));
        if (p)
            snprintf(prog, sizeof(prog), "%.0f%%", json_real_value(json_object_get(p, "percent")));
        int64_t el = p ? num(p, "elapsed_ms") : num(m, "elapsed_ms");
        if (json_is_integer(json_object_get(m, "elapsed_ms")) || p)
            snprintf(took, sizeof(took), "%.1fs", (double)el / 1000.0);
        const char *row[] = {id,
                             api_str(m, "state"),
                             api_str(m, "vm"),
                             api_str(m, "src"),
                             api_str(m, "dst"),
                             prog,
                             took,
                             api_str(m, "origin"),
                             api_str(m, "result")};
        table_add(&t, row);
    }
    table_print(&t, stdout);
    table_free(&t);
    size_t n = json_array_size(items);
    printf("\n%zu migration%s\n", n, n == 1 ? "" : "s");
}

static int run(int argc, char **argv)
{
    const struct api_args spec = {"migrations", usage, NULL, 0, "no arguments"};
    struct api_opts o;
    int first, rc = api_args_parse(&spec, argc, argv, &o, &first);
    if (rc >= 0)
        return rc;
    return api_show(&o, "/api/v1/migrations", print_migrations, NULL);
}

const struct cli_command cli_cmd_migrations = {
    "migrations", "list live migrations: running, queued and lately finished", run};
