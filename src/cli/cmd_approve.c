/* approve: `arasctl approve ID` and `arasctl reject ID` — decide on an entry
 * of the allocator's approval queue (see `arasctl pending`). */
#include "cli/api_args.h"
#include "cli/cli.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out, const char *verb)
{
    bool approve = strcmp(verb, "approve") == 0;
    fprintf(out,
            "Usage: arasctl %s ID [--by NAME] [--api URL] [--json]\n"
            "\n",
            verb);
    if (approve)
        fputs("Approve the allocator's recommendation ID (from 'arasctl pending'): arasd\n"
              "runs it at its next tick — growth in place at once, a migration on its worker\n"
              "thread — and records the approval and the result in its history ('arasctl\n"
              "events', 'arasctl pending --all'). Only a waiting entry can be approved; one\n"
              "that expired, or was approved or rejected already, is refused.\n",
              out);
    else
        fputs("Reject the allocator's recommendation ID (from 'arasctl pending'): it is not\n"
              "run, and the rejection is recorded in arasd's history. The same\n"
              "recommendation may come back when its rule fires again.\n",
              out);
    fputs("Sends POST /api/v1/pending/ID/approve (or /reject) with {\"by\": NAME}.\n"
          "\n"
          "Options:\n"
          "  --by NAME   who decides, recorded in the history (default $USER, else \"arasctl\")\n"
          "  --api URL   arasd's API (default $ARAS_API, else " API_DEFAULT_URL ")\n"
          "  --json      print the API's JSON reply as is\n"
          "  -h, --help  show this help\n"
          "\n"
          "Exit status: 0 when arasd accepted it, 1 if it refused (unknown ID: HTTP 404;\n"
          "already decided or expired: HTTP 409) or could not be reached, 2 on a usage\n"
          "error.\n",
          out);
}

static int decide(int argc, char **argv, const char *verb)
{
    const char *by = getenv("USER");
    const struct api_flag flags[] = {{"by", true, &by, NULL}, {NULL, false, NULL, NULL}};
    const struct api_args spec = {verb, usage, flags, 1, "one ID (see 'arasctl pending')"};
    struct api_opts o;
    int first, rc = api_args_parse(&spec, argc, argv, &o, &first);
    if (rc >= 0)
        return rc;
    uint64_t id;
    if (parse_uint64(argv[first], UINT64_MAX, &id) < 0 || id == 0) {
        fprintf(stderr, "arasctl %s: ID '%s' is not a positive number\n", verb, argv[first]);
        return 2;
    }
    if (!by || !*by)
        by = "arasctl";
    if (strlen(by) > 63) {
        fprintf(stderr, "arasctl %s: --by is longer than 63 characters\n", verb);
        return 2;
    }
    AUTOFREE char *path = xasprintf("/api/v1/pending/%" PRIu64 "/%s", id, verb);
    json_t *body = json_pack("{s:s}", "by", by);
    char *raw = NULL;
    json_t *j = api_post_json(api_base_url(o.api), path, body, &raw);
    json_decref(body);
    if (!j)
        return cli_fail();
    if (o.json)
        printf("%s\n", raw);
    else
        printf("%s\n", api_str(j, "message"));
    free(raw);
    json_decref(j);
    return 0;
}

static int run_approve(int argc, char **argv)
{
    return decide(argc, argv, "approve");
}

static int run_reject(int argc, char **argv)
{
    return decide(argc, argv, "reject");
}

const struct cli_command cli_cmd_approve = {
    "approve", "approve a pending allocator recommendation (runs it)", run_approve};
const struct cli_command cli_cmd_reject = {"reject", "reject a pending allocator recommendation",
                                           run_reject};
