/* migrate: `arasctl migrate VM HOST [options]` — ask arasd for a live
 * migration with typed parameters and follow it to the end (progress on a
 * terminal); `arasctl migrate --abort ID` stops one. arasd runs it like the
 * allocator's own migrations and records every step in its history. */
#include "cli/api_args.h"
#include "cli/cli.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIGRATE_POLL_MS 500

static void usage(FILE *out, const char *cmd)
{
    (void)cmd;
    fputs("Usage: arasctl migrate VM HOST [--bandwidth RATE] [--max-downtime DURATION]\n"
          "                       [--auto-converge] [--postcopy] [--postcopy-after DURATION]\n"
          "                       [--postcopy-after-rounds N] [--compress] [--parallel N]\n"
          "                       [--copy-storage none|all|inc] [--timeout DURATION]\n"
          "                       [--migrate-uri URI] [--by NAME] [--no-wait] [--api URL]\n"
          "                       [--json]\n"
          "       arasctl migrate --abort ID [--by NAME] [--api URL] [--json]\n"
          "\n"
          "Ask arasd to live-migrate VM to HOST (peer to peer, libvirt's typed migration\n"
          "parameters) and wait until it ends: on a terminal a progress line shows the\n"
          "share of the data sent, the pre-copy pass and the time; then the outcome is\n"
          "printed — how long it took, the downtime, the data moved, and where the VM runs\n"
          "now (arasd checks that it runs exactly once, on one host, after every migration,\n"
          "whether it succeeded or failed). arasd runs it on its action worker, one\n"
          "migration at a time, after those queued before it, and records each step in its\n"
          "history ('arasctl migrations', 'arasctl events'). Interrupting arasctl does not\n"
          "stop the migration; 'arasctl migrate --abort ID' does. Sends POST\n"
          "/api/v1/migrations and follows GET /api/v1/migrations/ID.\n"
          "\n"
          "Options (unset ones keep libvirt's defaults):\n"
          "  --bandwidth RATE         cap the transfer, e.g. 100Mbit, 1Gbit, 50MB/s\n"
          "  --max-downtime DURATION  longest pause of the VM at the switch-over, e.g. 300ms\n"
          "  --auto-converge          let QEMU throttle the vCPUs while pre-copy lags\n"
          "  --postcopy               allow post-copy and switch to it after the first pre-copy\n"
          "                           pass (or as the next two options say); a post-copy\n"
          "                           migration cannot be aborted once it switched\n"
          "  --postcopy-after DURATION  switch after this long in pre-copy\n"
          "  --postcopy-after-rounds N  switch once N pre-copy passes are done\n"
          "  --compress               compress pages (xbzrle; with --parallel, multifd's)\n"
          "  --parallel N             N parallel connections (multifd), 2..255\n"
          "  --copy-storage MODE      none (shared storage, the default), all (copy every\n"
          "                           disk) or inc (copy only the top overlay of each disk)\n"
          "  --timeout DURATION       abort the migration if it has not ended by then\n"
          "  --migrate-uri URI        where the migration stream goes, e.g. tcp://10.0.0.2\n"
          "                           (another network than the libvirt connection's)\n"
          "  --by NAME                who asks, recorded in the history (default $USER)\n"
          "  --no-wait                print the migration's ID and return once arasd queued it\n"
          "  --abort ID               abort migration ID (queued or in pre-copy)\n"
          "  --api URL                arasd's API (default $ARAS_API, else " API_DEFAULT_URL ")\n"
          "  --json                   print the API's JSON (the final state of the migration)\n"
          "  -h, --help               show this help\n"
          "\n"
          "Exit status: 0 when the migration completed (with --no-wait: was queued; with\n"
          "--abort: the abort was accepted), 1 if it failed or was cancelled, arasd refused\n"
          "it (unknown VM or host: HTTP 404; VM not running, already there or being\n"
          "migrated: 409; host down: 503) or could not be reached, 2 on a usage error.\n",
          out);
}

/* Options as given (strings, checked in build_params). */
struct migrate_opts {
    const char *bandwidth, *downtime, *pc_after, *pc_rounds, *parallel, *storage, *timeout, *uri;
    const char *by, *abort;
    bool auto_converge, postcopy, compress, no_wait;
};

static int bad(const char *opt, const char *why)
{
    fprintf(stderr, "arasctl migrate: %s: %s\n", opt, why);
    return 2;
}

/* The "params" object of the request; 2 on a bad value (printed), else 0. */
static int build_params(const struct migrate_opts *m, json_t *p)
{
    double rate;
    int64_t ms, n;
    if (m->bandwidth && parse_rate_bytes_per_s(m->bandwidth, &rate) < 0)
        return bad("--bandwidth", err_msg());
    if (m->bandwidth)
        json_object_set_new(p, "bandwidth_bytes_per_s", json_real(rate));
    const struct {
        const char *opt, *val, *key;
    } durations[] = {{"--max-downtime", m->downtime, "max_downtime_ms"},
                     {"--postcopy-after", m->pc_after, "postcopy_after_ms"},
                     {"--timeout", m->timeout, "timeout_ms"}};
    for (size_t i = 0; i < ARRAY_LEN(durations); i++) {
        if (!durations[i].val)
            continue;
        if (parse_duration_ms(durations[i].val, &ms) < 0)
            return bad(durations[i].opt, err_msg());
        json_object_set_new(p, durations[i].key, json_integer(ms));
    }
    if (m->pc_rounds && parse_int64(m->pc_rounds, 1, 1000, &n) < 0)
        return bad("--postcopy-after-rounds", err_msg());
    if ((m->pc_after || m->pc_rounds) && !m->postcopy)
        return bad("--postcopy-after", "needs --postcopy");
    if (m->pc_rounds || (m->postcopy && !m->pc_after))
        json_object_set_new(p, "postcopy_after_rounds", json_integer(m->pc_rounds ? n : 1));
    if (m->parallel && parse_int64(m->parallel, 2, 255, &n) < 0)
        return bad("--parallel", err_msg());
    if (m->parallel)
        json_object_set_new(p, "parallel_connections", json_integer(n));
    if (m->storage && strcmp(m->storage, "none") != 0 && strcmp(m->storage, "all") != 0 &&
        strcmp(m->storage, "inc") != 0)
        return bad("--copy-storage", "expected none, all or inc");
    if (m->storage)
        json_object_set_new(p, "storage", json_string(m->storage));
    if (m->uri)
        json_object_set_new(p, "migrate_uri", json_string(m->uri));
    if (m->auto_converge)
        json_object_set_new(p, "auto_converge", json_true());
    if (m->postcopy)
        json_object_set_new(p, "postcopy", json_true());
    if (m->compress)
        json_object_set_new(p, "compress", json_true());
    return 0;
}

static bool finished(const char *state)
{
    return strcmp(state, "queued") != 0 && strcmp(state, "running") != 0;
}

/* One progress line (no newline) for a terminal. */
static void progress_line(const json_t *m)
{
    const json_t *p = json_object_get(m, "progress");
    char what[160] = "";
    if (p) {
        double total = (double)json_integer_value(json_object_get(p, "data_total_bytes"));
        double sent = (double)json_integer_value(json_object_get(p, "data_processed_bytes"));
        snprintf(what, sizeof(what),
                 " %3.0f%%  %.1f MiB sent of %.1f MiB, pass %" PRId64 ", %.1f s%s",
                 json_real_value(json_object_get(p, "percent")), sent / (1 << 20),
                 total / (1 << 20), (int64_t)json_integer_value(json_object_get(p, "iterations")),
                 (double)json_integer_value(json_object_get(p, "elapsed_ms")) / 1000.0,
                 json_is_true(json_object_get(p, "postcopy")) ? ", post-copy" : "");
    }
    fprintf(stderr, "\r\033[K#%" PRId64 " %s %s -> %s: %s%s",
            (int64_t)json_integer_value(json_object_get(m, "id")), api_str(m, "vm"),
            api_str(m, "src"), api_str(m, "dst"), api_str(m, "state"), what);
    fflush(stderr);
}

/* Follow migration id until it ends; returns the exit status. */
static int follow(const char *base, int64_t id, bool json)
{
    AUTOFREE char *path = xasprintf("/api/v1/migrations/%" PRId64, id);
    bool tty = isatty(STDERR_FILENO);
    for (;;) {
        char *raw = NULL;
        json_t *m = api_get_json(base, path, &raw);
        if (!m) {
            if (tty)
                fputc('\n', stderr);
            return cli_fail();
        }
        const char *state = api_str(m, "state");
        if (finished(state)) {
            if (tty)
                fputs("\r\033[K", stderr);
            if (json)
                printf("%s\n", raw);
            else
                printf("migration #%" PRId64 " of %s %s -> %s %s: %s\n", id, api_str(m, "vm"),
                       api_str(m, "src"), api_str(m, "dst"), state, api_str(m, "result"));
            int rc = strcmp(state, "completed") == 0 ? 0 : 1;
            json_decref(m);
            free(raw);
            return rc;
        }
        if (tty)
            progress_line(m);
        json_decref(m);
        free(raw);
        struct timespec ts = {0, MIGRATE_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static int abort_one(const struct api_opts *o, const char *by, const char *id_s)
{
    uint64_t id;
    if (parse_uint64(id_s, INT64_MAX, &id) < 0 || id == 0)
        return bad("--abort", "ID is not a positive number");
    AUTOFREE char *path = xasprintf("/api/v1/migrations/%" PRIu64 "/abort", id);
    json_t *body = json_pack("{s:s}", "by", by);
    char *raw = NULL;
    json_t *j = api_post_json(api_base_url(o->api), path, body, &raw);
    json_decref(body);
    if (!j)
        return cli_fail();
    printf("%s\n", o->json ? raw : api_str(j, "message"));
    free(raw);
    json_decref(j);
    return 0;
}

static int run(int argc, char **argv)
{
    struct migrate_opts m = {.by = getenv("USER")};
    const struct api_flag flags[] = {
        {"bandwidth", true, &m.bandwidth, NULL},
        {"max-downtime", true, &m.downtime, NULL},
        {"auto-converge", false, NULL, &m.auto_converge},
        {"postcopy", false, NULL, &m.postcopy},
        {"postcopy-after", true, &m.pc_after, NULL},
        {"postcopy-after-rounds", true, &m.pc_rounds, NULL},
        {"compress", false, NULL, &m.compress},
        {"parallel", true, &m.parallel, NULL},
        {"copy-storage", true, &m.storage, NULL},
        {"timeout", true, &m.timeout, NULL},
        {"migrate-uri", true, &m.uri, NULL},
        {"by", true, &m.by, NULL},
        {"no-wait", false, NULL, &m.no_wait},
        {"abort", true, &m.abort, NULL},
        {NULL, false, NULL, NULL},
    };
    bool aborting = false;
    for (int i = 1; i < argc; i++)
        aborting = aborting || strncmp(argv[i], "--abort", 7) == 0;
    const struct api_args spec = {"migrate", usage, flags, aborting ? 0 : 2,
                                  aborting ? "no arguments with --abort ID" : "VM HOST"};
    struct api_opts o;
    int first, rc = api_args_parse(&spec, argc, argv, &o, &first);
    if (rc >= 0)
        return rc;
    if (!m.by || !*m.by)
        m.by = "arasctl";
    if (strlen(m.by) > 63)
        return bad("--by", "longer than 63 characters");
    if (aborting)
        return abort_one(&o, m.by, m.abort);
    json_t *params = json_object();
    if ((rc = build_params(&m, params)) != 0) {
        json_decref(params);
        return rc;
    }
    json_t *body = json_pack("{s:s, s:s, s:s, s:o}", "vm", argv[first], "host", argv[first + 1],
                             "by", m.by, "params", params);
    char *raw = NULL;
    json_t *j = api_post_json(api_base_url(o.api), "/api/v1/migrations", body, &raw);
    json_decref(body);
    if (!j)
        return cli_fail();
    int64_t id = (int64_t)json_integer_value(json_object_get(j, "id"));
    if (m.no_wait)
        printf("%s\n", o.json ? raw : api_str(j, "message"));
    else if (!o.json && isatty(STDERR_FILENO))
        fprintf(stderr, "%s\n", api_str(j, "message"));
    free(raw);
    json_decref(j);
    return m.no_wait ? 0 : follow(api_base_url(o.api), id, o.json);
}

const struct cli_command cli_cmd_migrate = {
    "migrate", "live-migrate a VM to another host (typed parameters, progress)", run};
