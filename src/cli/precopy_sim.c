/* precopy_sim: `arasctl precopy-sim` — replay dirty-page traces through pre-copy policies. */
#include "cli/cli.h"
#include "migrate/migrate.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define MAX_OFFSETS 64

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: arasctl precopy-sim TRACE... [--bandwidth RATE] [--max-downtime DUR]\n"
            "                           [--policy NAME] [--offsets N] [--json]\n"
            "\n"
            "Simulate a pre-copy live migration of the traced memory (DIRTYTR1 files from\n"
            "aras-dirtytrace) page by page: round 1 sends every page, later rounds the\n"
            "pages written since they were last sent unless the policy defers them, pages\n"
            "written during a round are stale; stop when the rest fits the downtime budget\n"
            "(bandwidth x max downtime) or on the policy's stop rule, then stop-and-copy.\n"
            "Results are averaged over several start offsets in the trace.\n"
            "\n"
            "Options:\n"
            "  -b, --bandwidth RATE     link rate, e.g. 100Mbit, 1Gbit, 2.5Gbit (default 1Gbit)\n"
            "  -d, --max-downtime DUR   downtime budget, e.g. 300ms (default 300ms)\n"
            "  -p, --policy NAME        plain        QEMU-like, forced stop after --max-rounds\n"
            "                           xen          stop after 29 rounds or 3x memory sent\n"
            "                           markov:TH    per-page Markov chain, defer if\n"
            "                                        P(rewrite during the round) >= TH\n"
            "                           ge:E1,E2,TH  Gilbert-Elliott (write prob. E1 good,\n"
            "                                        E2 bad; e.g. ge:0.1,0.9,0.7)\n"
            "                           ge:fit,TH    Gilbert-Elliott with fitted E1, E2\n"
            "                           lastk:K      defer pages dirty in each of the last K\n"
            "                                        rounds\n"
            "                           aras         reliable deferral; on predicted\n"
            "                                        non-convergence, switch to post-copy\n"
            "                           (default plain)\n"
            "  -n, --offsets N          start offsets, spread over the trace (default 5)\n"
            "      --history DUR        trace time before a start the predictors learn from\n"
            "                           (default 3s)\n"
            "      --max-rounds N       pre-copy round limit (default 30)\n"
            "  -j, --json               one JSON object per trace (averages + per offset)\n"
            "  -h, --help               show this help\n"
            "\n"
            "Deferral precision: the share of deferred pages that were written again\n"
            "during the round they were held back in (sending them would have been waste).\n");
}

struct ps_opts {
    double bw, downtime_s, history_s;
    uint32_t offsets, max_rounds;
    struct migrate_policy_spec spec;
    bool json;
};

static int parse_opts(int argc, char **argv, struct ps_opts *o)
{
    static const struct option longopts[] = {
        {"bandwidth", required_argument, NULL, 'b'},
        {"max-downtime", required_argument, NULL, 'd'},
        {"policy", required_argument, NULL, 'p'},
        {"offsets", required_argument, NULL, 'n'},
        {"history", required_argument, NULL, 'H'},
        {"max-rounds", required_argument, NULL, 'R'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    int64_t v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:d:p:n:jh", longopts, NULL)) != -1) {
        const char *opt = NULL;
        switch (c) {
        case 'b':
            if (parse_rate_bytes_per_s(optarg, &o->bw) < 0 || !(o->bw > 0))
                opt = "bandwidth";
            break;
        case 'd':
        case 'H':
            if (parse_duration_ms(optarg, &v) < 0 || v < 0 || v > 86400000)
                opt = c == 'd' ? "max-downtime" : "history";
            else
                *(c == 'd' ? &o->downtime_s : &o->history_s) = (double)v / 1e3;
            break;
        case 'p':
            if (migrate_policy_parse(optarg, &o->spec) < 0)
                opt = "policy";
            break;
        case 'n':
        case 'R':
            if (parse_int64(optarg, 1, c == 'n' ? MAX_OFFSETS : 1000, &v) < 0)
                opt = c == 'n' ? "offsets" : "max-rounds";
            else
                *(c == 'n' ? &o->offsets : &o->max_rounds) = (uint32_t)v;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (opt) {
            fprintf(stderr, "arasctl precopy-sim: --%s: %s\n", opt, err_msg());
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "arasctl precopy-sim: no TRACE given (see --help)\n");
        return 2;
    }
    return -1;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void print_offset(const struct migrate_sim_result *r, bool last)
{
    printf("{\"start_s\": %.3f, \"bytes\": %.0f, \"total_s\": %.4f, \"downtime_ms\": %.3f, "
           "\"rounds\": %u, \"converged\": %s, \"postcopy\": %s, \"deferred\": %llu, "
           "\"deferred_hit\": %llu}%s",
           r->start_s, r->bytes, r->total_s, r->downtime_s * 1e3, r->rounds,
           r->converged ? "true" : "false", r->postcopy ? "true" : "false",
           (unsigned long long)r->deferred, (unsigned long long)r->deferred_hit, last ? "" : ", ");
}

static void print_result(const struct ps_opts *o, const char *path, const struct migrate_trace *t,
                         const struct migrate_sim_result *res, uint32_t n)
{
    struct migrate_sim_result avg = {0};
    double rounds = 0;
    uint32_t conv = 0, post = 0;
    for (uint32_t i = 0; i < n; i++) {
        avg.bytes += res[i].bytes / n;
        avg.total_s += res[i].total_s / n;
        avg.downtime_s += res[i].downtime_s / n;
        rounds += (double)res[i].rounds / n;
        conv += res[i].converged;
        post += res[i].postcopy;
        avg.deferred += res[i].deferred;
        avg.deferred_hit += res[i].deferred_hit;
        avg.populated_bytes += res[i].populated_bytes / n;
    }
    char name[64];
    migrate_policy_name(&o->spec, name, sizeof(name));
    double mem = (double)t->n_pages * t->page_size;
    if (!o->json) {
        printf("%s (%s, %.1f MiB, %u x %.0f ms)  policy %s\n", path, t->workload, mem / 1048576,
               t->n_intervals, t->interval_us / 1e3, name);
        printf("  bytes %.1f MiB (%.2fx memory)  total %.3f s  downtime %.1f ms  rounds %.1f  "
               "converged %u/%u  post-copy %u/%u",
               avg.bytes / 1048576, avg.bytes / mem, avg.total_s, avg.downtime_s * 1e3, rounds,
               conv, n, post, n);
        if (avg.deferred)
            printf("  deferral precision %.3f", (double)avg.deferred_hit / (double)avg.deferred);
        printf("\n");
        return;
    }
    printf("{\"trace\": ");
    json_str(stdout, path);
    printf(", \"workload\": ");
    json_str(stdout, t->workload);
    printf(", \"pages\": %u, \"memory_bytes\": %.0f, \"policy\": \"%s\", "
           "\"bandwidth_bytes_per_s\": %.0f, \"max_downtime_ms\": %.1f, \"populated_bytes\": %.0f, "
           "\"bytes\": %.0f, "
           "\"total_s\": %.4f, \"downtime_ms\": %.3f, \"rounds\": %.2f, \"converged\": %s, "
           "\"converged_frac\": %.3f, \"postcopy_frac\": %.3f, \"deferral_precision\": ",
           t->n_pages, mem, name, o->bw, o->downtime_s * 1e3, avg.populated_bytes, avg.bytes,
           avg.total_s, avg.downtime_s * 1e3, rounds, conv == n ? "true" : "false",
           (double)conv / n, (double)post / n);
    if (avg.deferred)
        printf("%.4f", (double)avg.deferred_hit / (double)avg.deferred);
    else
        printf("null");
    printf(", \"offsets\": [");
    for (uint32_t i = 0; i < n; i++)
        print_offset(&res[i], i + 1 == n);
    printf("]}\n");
}

static int run_trace(const struct ps_opts *o, const char *path)
{
    struct migrate_trace t;
    if (migrate_trace_read(path, &t) < 0)
        return -1;
    struct migrate_sim_config cfg = {.bandwidth_bytes_per_s = o->bw,
                                     .max_downtime_s = o->downtime_s,
                                     .max_rounds = o->max_rounds,
                                     .history_s = o->history_s,
                                     .postcopy_switch_s = 0.005};
    uint32_t starts[MAX_OFFSETS];
    uint32_t n = migrate_sim_offsets(&t, o->history_s, o->offsets, starts);
    struct migrate_sim_result res[MAX_OFFSETS];
    int rc = n ? 0 : err_set("%s: the trace has no intervals", path);
    for (uint32_t i = 0; rc == 0 && i < n; i++)
        rc = migrate_sim_run(&t, &cfg, &o->spec, starts[i], &res[i]);
    if (rc == 0)
        print_result(o, path, &t, res, n);
    else
        err_prefix("%s", path);
    migrate_trace_free(&t);
    return rc;
}

static int precopy_sim_main(int argc, char **argv)
{
    struct ps_opts o = {
        .bw = 125e6, .downtime_s = 0.3, .history_s = 3, .offsets = 5, .max_rounds = 30};
    o.spec.kind = MIGRATE_POLICY_PLAIN;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    for (int i = optind; i < argc; i++) {
        if (run_trace(&o, argv[i]) < 0)
            return cli_fail();
    }
    return 0;
}

const struct cli_command cli_cmd_precopy_sim = {
    .name = "precopy-sim",
    .summary = "simulate pre-copy migration policies over dirty-page traces",
    .run = precopy_sim_main,
};
