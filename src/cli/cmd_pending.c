/* pending: `arasctl pending` — the allocator's approval queue: what waits for
 * `arasctl approve ID`, and what was decided lately. */
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
    fputs("Usage: arasctl pending [--all] [--api URL] [--json]\n"
          "\n"
          "Show the resource allocation controller's recommendations that wait for an\n"
          "operator (semi-automatic mode), oldest first: ID, age, time left before the\n"
          "entry expires, the VM, the action (add-vcpu, grow-memory, attach-disk,\n"
          "migrate), what exactly it would change, and why. Approve one with\n"
          "'arasctl approve ID', reject it with 'arasctl reject ID'; an approved entry runs\n"
          "at arasd's next tick. Entries that nobody approves within [allocator]\n"
          "approval_ttl expire. Reads GET /api/v1/pending.\n"
          "\n"
          "Options:\n"
          "  --all       also list entries decided in the last hour (approved, rejected,\n"
          "              expired, running, done, failed) with their state and result\n"
          "  --api URL   arasd's API (default $ARAS_API, else " API_DEFAULT_URL ")\n"
          "  --json      print the API's JSON reply as is\n"
          "  -h, --help  show this help\n"
          "\n"
          "Exit status: 0 on success, 1 if arasd could not be reached, 2 on a usage error.\n",
          out);
}

/* "42s", "3m04s", "2h05m"; "-" for a negative span. */
static void span(int64_t ms, char *buf, size_t n)
{
    if (ms < 0) {
        snprintf(buf, n, "-");
        return;
    }
    int64_t s = ms / 1000;
    if (s < 60)
        snprintf(buf, n, "%" PRId64 "s", s);
    else if (s < 3600)
        snprintf(buf, n, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else
        snprintf(buf, n, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
}

static int64_t num(const json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

/* What the action would change, in a few words. */
static void detail(const json_t *e, char *buf, size_t n)
{
    const char *a = api_str(e, "action");
    if (strcmp(a, "add-vcpu") == 0)
        snprintf(buf, n, "vCPUs -> %" PRId64, num(e, "new_vcpus"));
    else if (strcmp(a, "grow-memory") == 0)
        snprintf(buf, n, "memory -> %" PRId64 " MiB", num(e, "new_mem_kib") / 1024);
    else if (strcmp(a, "attach-disk") == 0)
        snprintf(buf, n, "+%" PRId64 " GiB disk", num(e, "disk_bytes") >> 30);
    else if (strcmp(a, "migrate") == 0)
        snprintf(buf, n, "%s -> %s", api_str(e, "host"), api_str(e, "dst_host"));
    else
        snprintf(buf, n, "-");
}

static bool active(const char *state)
{
    return strcmp(state, "waiting") == 0 || strcmp(state, "approved") == 0 ||
           strcmp(state, "running") == 0;
}

static void print_pending(const json_t *items, bool all)
{
    char spec[] = "ID|Age|Expires in|State|VM|Action|Detail|Reason";
    struct table t;
    table_init(&t, spec);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    size_t shown = 0;
    for (size_t i = 0; i < json_array_size(items); i++) {
        const json_t *e = json_array_get(items, i);
        const char *state = api_str(e, "state");
        if (!all && !active(state))
            continue;
        char id[24], age[24], left[24], what[96];
        snprintf(id, sizeof(id), "%" PRId64, num(e, "id"));
        span(now - num(e, "created_ms"), age, sizeof(age));
        if (strcmp(state, "waiting") == 0)
            span(num(e, "expires_ms") - now, left, sizeof(left));
        else
            snprintf(left, sizeof(left), "-");
        detail(e, what, sizeof(what));
        const char *note = api_str(e, "note");
        AUTOFREE char *reason = all && strcmp(note, "-") != 0 && *note
                                    ? xasprintf("%s [%s]", api_str(e, "reason"), note)
                                    : xstrdup(api_str(e, "reason"));
        const char *row[] = {id,   age,   left, state, api_str(e, "vm"), api_str(e, "action"),
                             what, reason};
        table_add(&t, row);
        shown++;
    }
    table_print(&t, stdout);
    table_free(&t);
    printf("\n%zu %s%s\n", shown, all ? "entr" : "pending entr", shown == 1 ? "y" : "ies");
}

static void show_pending(const json_t *reply, const void *ctx)
{
    print_pending(json_object_get(reply, "pending"), *(const bool *)ctx);
}

static int run(int argc, char **argv)
{
    bool all = false;
    const struct api_flag flags[] = {{"all", false, NULL, &all}, {NULL, false, NULL, NULL}};
    const struct api_args spec = {"pending", usage, flags, 0, "no arguments"};
    struct api_opts o;
    int first, rc = api_args_parse(&spec, argc, argv, &o, &first);
    if (rc >= 0)
        return rc;
    return api_show(&o, "/api/v1/pending", show_pending, &all);
}

const struct cli_command cli_cmd_pending = {
    "pending", "show allocator recommendations waiting for approval", run};
