/* events: `arasctl events` — what arasd recorded: hosts and VMs coming, going,
 * changing state, SLA rules firing and clearing, the allocator's decisions and
 * their results, and the daemon's own start, reload and stop. With
 * --decisions, the allocator's decision history instead. */
#include "cli/api_args.h"
#include "cli/cli.h"
#include "cli/table.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define EVENTS_LIMIT_MAX 10000

static void usage(FILE *out, const char *cmd)
{
    (void)cmd;
    fputs("Usage: arasctl events [--decisions] [--since DURATION] [--limit N] [--api URL]\n"
          "                      [--json]\n"
          "\n"
          "Show the newest events from arasd's history, oldest first: time (UTC), severity\n"
          "(info, warn, crit), the object (host/NAME, vm/NAME, daemon), the kind and what\n"
          "happened. Kinds include:\n"
          "  sla_fired, sla_cleared, sla_gone   an SLA rule's episode opened, closed (back\n"
          "                     past the clear threshold), or its object disappeared\n"
          "  decision           a step of an allocator decision: none, recommended\n"
          "                     (manual), waiting (semi; approve with 'arasctl approve ID'),\n"
          "                     approved, rejected, expired, running, done, failed\n"
          "  script_result, snmp_result, email_failed   what a rule's actions did\n"
          "  vm_appeared, vm_gone, vm_moved, vm_state, host_up, host_down, start, stop,\n"
          "  reload, ...         inventory changes and the daemon's own life\n"
          "Reads GET /api/v1/events (or /api/v1/decisions with --decisions).\n"
          "\n"
          "Options:\n"
          "  --decisions       list the allocator's decisions instead: time, VM, action,\n"
          "                    state and reason ([#ID, mode] then why)\n"
          "  --since DURATION  only events of the last DURATION, e.g. 30s, 10m, 2h, 1d\n"
          "  --limit N         at most N events, the newest (1-10000, default 100)\n"
          "  --api URL         arasd's API (default $ARAS_API, else " API_DEFAULT_URL ")\n"
          "  --json            print the API's JSON reply as is\n"
          "  -h, --help        show this help\n"
          "\n"
          "Exit status: 0 on success, 1 if arasd could not be reached, 2 on a usage error.\n",
          out);
}

static void when_str(const json_t *e, char *when, size_t n)
{
    time_t s = (time_t)(json_integer_value(json_object_get(e, "t_ms")) / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(when, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static void print_events(const json_t *evs)
{
    char spec[] = "Time (UTC)|Severity|Object|Kind|Message";
    struct table t;
    table_init(&t, spec);
    size_t n = json_array_size(evs);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(evs, i);
        char when[32];
        when_str(e, when, sizeof(when));
        const char *row[] = {when, api_str(e, "severity"), api_str(e, "object"), api_str(e, "kind"),
                             api_str(e, "message")};
        table_add(&t, row);
    }
    table_print(&t, stdout);
    table_free(&t);
    printf("\n%zu event%s\n", n, n == 1 ? "" : "s");
}

static void print_decisions(const json_t *ds)
{
    char spec[] = "Time (UTC)|VM|Action|State|Reason";
    struct table t;
    table_init(&t, spec);
    size_t n = json_array_size(ds);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(ds, i);
        char when[32];
        when_str(e, when, sizeof(when));
        const char *row[] = {when, api_str(e, "vm"), api_str(e, "action"), api_str(e, "state"),
                             api_str(e, "reason")};
        table_add(&t, row);
    }
    table_print(&t, stdout);
    table_free(&t);
    printf("\n%zu decision record%s\n", n, n == 1 ? "" : "s");
}

static void show_events(const json_t *reply, const void *ctx)
{
    if (*(const bool *)ctx)
        print_decisions(json_object_get(reply, "decisions"));
    else
        print_events(json_object_get(reply, "events"));
}

static int run(int argc, char **argv)
{
    const char *since = NULL, *limit_s = NULL;
    bool decisions = false;
    const struct api_flag flags[] = {{"since", true, &since, NULL},
                                     {"limit", true, &limit_s, NULL},
                                     {"decisions", false, NULL, &decisions},
                                     {NULL, false, NULL, NULL}};
    const struct api_args spec = {"events", usage, flags, 0, "no arguments"};
    struct api_opts o;
    int first, rc = api_args_parse(&spec, argc, argv, &o, &first);
    if (rc >= 0)
        return rc;
    int64_t limit = 100, ms;
    if (since && (parse_duration_ms(since, &ms) < 0 || ms < 0))
        return fprintf(stderr, "arasctl events: --since: %s\n", err_msg()), 2;
    if (limit_s && parse_int64(limit_s, 1, EVENTS_LIMIT_MAX, &limit) < 0)
        return fprintf(stderr, "arasctl events: --limit: %s\n", err_msg()), 2;
    AUTOFREE char *esc = since ? api_escape(since) : NULL;
    const char *what = decisions ? "decisions" : "events";
    AUTOFREE char *path =
        since ? xasprintf("/api/v1/%s?limit=%lld&since=%s", what, (long long)limit, esc)
              : xasprintf("/api/v1/%s?limit=%lld", what, (long long)limit);
    return api_show(&o, path, show_events, &decisions);
}

const struct cli_command cli_cmd_events = {"events", "show recent events from arasd's history",
                                           run};
