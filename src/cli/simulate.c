/* simulate: `arasctl simulate` — replay a trace day through a consolidation policy. */
#include "aras-config.h"
#include "cli/cli.h"
#include "policy/policy.h"
#include "sim/sim.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <getopt.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: arasctl simulate [--trace DIR] [--policy NAME] [--json] [--log FILE]\n"
            "                        [--hosts N] [--vms N] [--host-type planetlab|large]\n"
            "\n"
            "Replay one day of PlanetLab CPU traces on a simulated data centre and print\n"
            "energy, migrations and SLA metrics, set up as CloudSim 3.0.3's PlanetLab\n"
            "experiments are (800 HP ML110 G4/G5 hosts, one VM per trace file, four VM\n"
            "types, 300 s steps), so the numbers compare with the published ones.\n"
            "\n"
            "Options:\n"
            "  -t, --trace DIR     directory of trace files, one VM per file, one integer\n"
            "                      CPU %% per line every 300 s (default: the bundled day,\n"
            "                      %s/data/planetlab/20110303)\n"
            "  -p, --policy NAME   npa, dvfs, thr-mmt-0.8, iqr-mmt-1.5, mad-mmt-2.5,\n"
            "                      lr-mmt-1.2 (default) or lr-mc-1.2; any parameter works,\n"
            "                      e.g. thr-mc-0.9 (DETECTOR thr|iqr|mad|lr, SELECTION mmt|mc);\n"
            "                      or aras, ARAS's planner in its energy-aware mode\n"
            "  -j, --json          print one JSON object instead of the table\n"
            "  -l, --log FILE      write one tab-separated line per 300 s step to FILE\n"
            "                      (\"-\" for standard output)\n"
            "      --hosts N       simulated hosts (default 800)\n"
            "      --vms N         VMs (default: one per trace file; more reuse the traces)\n"
            "      --host-type T   planetlab (default: HP ML110 G4/G5 alternating, 2 cores,\n"
            "                      4 GB) or large (16 x 2660 MIPS, 64 GB, 10 Gbit/s, power\n"
            "                      synthetic) for scale runs\n"
            "  -h, --help          show this help\n"
            "\n"
            "Metrics: energy in kWh (SPECpower, linear between 10 %% points); migrations;\n"
            "SLATAH, the share of active-host time at 100 %% CPU; PDM, the performance lost\n"
            "to migrations; SLAV = SLATAH x PDM; host shutdowns; ping-pongs, migrations of\n"
            "a VM back to a host it left less than an hour before. A progress bar is drawn on\n"
            "standard error when it is a terminal. --json keys: trace, policy, hosts, vms,\n"
            "energy_kwh, migrations, pingpongs, slatah_pct, pdm_pct, slav_pct, host_shutdowns,\n"
            "vms_dropped (VMs CloudSim drops when their demand is 0), steps, timings\n"
            "(wall_s, plan_ms_*, plan_cpu_ms_*, total_wall_s, cpu_s) and peak_rss_kib.\n"
            "\n"
            "Exit status: 0 success, 1 failure (bad trace, ...), 2 usage error.\n",
            ARAS_SOURCE_DIR);
}

struct sim_opts {
    const char *trace, *policy, *log;
    bool json, large;
    uint32_t hosts, vms;
};

/* A baseline or the planner's policy, by name. */
struct any_policy {
    bool aras;
    struct policy_consolidation pc;
    struct policy_aras pa;
    const struct sim_policy *ops;
};

static int any_policy_init(struct any_policy *ap, const char *name)
{
    memset(ap, 0, sizeof(*ap));
    ap->aras = strncasecmp(name, "aras", 4) == 0;
    if (ap->aras) {
        if (policy_aras_init(&ap->pa, name) < 0)
            return err_set("unknown policy '%s' (the planner's policy is 'aras')", name);
        ap->ops = &ap->pa.ops;
        return 0;
    }
    if (policy_consolidation_init(&ap->pc, name) < 0)
        return -1;
    ap->ops = &ap->pc.ops;
    return 0;
}

static void any_policy_fini(struct any_policy *ap)
{
    if (ap->aras)
        policy_aras_fini(&ap->pa);
    else
        policy_consolidation_fini(&ap->pc);
}

static int parse_opts(int argc, char **argv, struct sim_opts *o)
{
    static const struct option longopts[] = {
        {"trace", required_argument, NULL, 't'},
        {"policy", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {"log", required_argument, NULL, 'l'},
        {"hosts", required_argument, NULL, 'H'},
        {"vms", required_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {"host-type", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    int c;
    int64_t n;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:p:jl:h", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            o->trace = optarg;
            break;
        case 'p':
            o->policy = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 'l':
            o->log = optarg;
            break;
        case 'H':
        case 'V':
            if (parse_int64(optarg, c == 'H' ? 1 : 0, 10000000, &n) < 0) {
                fprintf(stderr, "arasctl simulate: --%s: %s\n", c == 'H' ? "hosts" : "vms",
                        err_msg());
                return 2;
            }
            *(c == 'H' ? &o->hosts : &o->vms) = (uint32_t)n;
            break;
        case 'T':
            if (strcmp(optarg, "planetlab") != 0 && strcmp(optarg, "large") != 0) {
                fprintf(stderr, "arasctl simulate: --host-type: '%s' is not planetlab or large\n",
                        optarg);
                return 2;
            }
            o->large = strcmp(optarg, "large") == 0;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "see 'arasctl simulate --help'\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "arasctl simulate: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    struct any_policy ap;
    if (any_policy_init(&ap, o->policy) < 0) {
        fprintf(stderr, "arasctl simulate: --policy: %s\n", err_msg());
        return 2;
    }
    any_policy_fini(&ap);
    return -1;
}

/* Wraps the policy's optimize() to time each planning round. */
struct timed {
    struct sim_policy inner;
    double total_ms, max_ms;         /* wall */
    double cpu_total_ms, cpu_max_ms; /* this thread's CPU time: robust on a busy machine */
};

static double now_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int timed_optimize(void *ctx, struct sim *s, struct sim_moves *out)
{
    struct timed *t = ctx;
    double t0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_THREAD_CPUTIME_ID);
    int rc = t->inner.optimize(t->inner.ctx, s, out);
    double dt = now_ms(CLOCK_MONOTONIC) - t0, dc = now_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
    t->total_ms += dt;
    t->cpu_total_ms += dc;
    if (dt > t->max_ms)
        t->max_ms = dt;
    if (dc > t->cpu_max_ms)
        t->cpu_max_ms = dc;
    return rc;
}

/* Peak resident set of this process so far, in KiB. */
static long peak_rss_kib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* User + system CPU seconds of this process so far. */
static double cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double start_ms; /* when the command started (trace loading included) */

struct progress {
    FILE *log;
    bool bar;
    double limit_s;
    int last_pct;
};

static void on_step(void *arg, const struct sim_step_info *in)
{
    struct progress *p = arg;
    if (p->log)
        fprintf(p->log, "%u\t%.1f\t%u\t%u\t%.4f\t%.1f\n", in->step, in->t_s, in->active_hosts,
                in->migrations_started, in->energy_kwh, in->power_w);
    int pct = (int)(in->t_s * 100 / p->limit_s);
    if (p->bar && pct != p->last_pct) {
        char bar[41];
        int fill = pct * 40 / 100;
        for (int i = 0; i < 40; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[40] = '\0';
        fprintf(stderr, "\r[%s] %3d%%  t=%.0f s  %u hosts on", bar, pct, in->t_s, in->active_hosts);
        p->last_pct = pct;
    }
}

/* JSON string literal for s (paths may hold quotes or control characters). */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void print_result(const struct sim_opts *o, const char *dir, const struct sim_result *r,
                         const struct timed *t, double wall_s)
{
    double plan_mean = r->steps ? t->total_ms / r->steps : 0;
    double cpu_mean = r->steps ? t->cpu_total_ms / r->steps : 0;
    if (o->json) {
        printf("{\"trace\": ");
        json_str(stdout, dir);
        printf(", \"policy\": ");
        json_str(stdout, t->inner.name);
        printf(
            ", \"hosts\": %u, \"vms\": %u, \"energy_kwh\": %.17g, \"migrations\": %llu, "
            "\"pingpongs\": %llu, \"slatah_pct\": %.17g, \"pdm_pct\": %.17g, \"slav_pct\": %.17g, "
            "\"host_shutdowns\": %u, \"vms_dropped\": %u, \"sim_time_s\": %.1f, "
            "\"steps\": %u, \"wall_s\": %.4f, \"plan_ms_mean\": %.4f, \"plan_ms_max\": %.4f, "
            "\"plan_cpu_ms_mean\": %.4f, \"plan_cpu_ms_max\": %.4f, \"peak_rss_kib\": %ld, "
            "\"total_wall_s\": %.4f, \"cpu_s\": %.4f}\n",
            r->hosts, r->vms, r->energy_kwh, (unsigned long long)r->migrations,
            (unsigned long long)r->pingpongs, r->slatah_pct, r->pdm_pct, r->slav_pct,
            r->host_shutdowns, r->vms_removed, r->sim_time_s, r->steps, wall_s, plan_mean,
            t->max_ms, cpu_mean, t->cpu_max_ms, peak_rss_kib(),
            (now_ms(CLOCK_MONOTONIC) - start_ms) / 1e3, cpu_s());
        return;
    }
    printf("Trace            %s\n", dir);
    printf("Policy           %s\n", t->inner.name);
    printf("Hosts / VMs      %u / %u\n", r->hosts, r->vms);
    printf("Simulated        %u steps of 300 s, last event at %.1f s (%.3f s wall)\n", r->steps,
           r->sim_time_s, wall_s);
    printf("Energy           %.2f kWh\n", r->energy_kwh);
    printf("Migrations       %llu\n", (unsigned long long)r->migrations);
    printf("Ping-pongs       %llu\n", (unsigned long long)r->pingpongs);
    printf("SLATAH           %.2f %%\n", r->slatah_pct);
    printf("PDM              %.3f %%\n", r->pdm_pct);
    printf("SLAV             %.5f %%\n", r->slav_pct);
    printf("Host shutdowns   %u\n", r->host_shutdowns);
    printf("Planning         %.3f ms/step mean, %.3f ms max (CPU %.3f / %.3f)\n", plan_mean,
           t->max_ms, cpu_mean, t->cpu_max_ms);
    printf("Process          %.3f s wall, %.3f s CPU, peak RSS %ld KiB\n",
           (now_ms(CLOCK_MONOTONIC) - start_ms) / 1e3, cpu_s(), peak_rss_kib());
}

static int run(const struct sim_opts *o, const char *dir)
{
    struct any_policy ap;
    if (any_policy_init(&ap, o->policy) < 0)
        return -1;
    struct sim_traceset ts;
    if (sim_traceset_load(dir, &ts) < 0)
        return any_policy_fini(&ap), -1;
    struct sim_config cfg;
    sim_config_default(&cfg);
    if (o->hosts)
        cfg.n_hosts = o->hosts;
    cfg.n_vms = o->vms;
    if (o->large) {
        cfg.host_types = sim_host_types_large;
        cfg.n_host_types = 1;
    }
    struct timed t = {.inner = *ap.ops};
    struct sim_policy ops = *ap.ops;
    if (ops.optimize) {
        ops.optimize = timed_optimize;
        ops.ctx = &t;
    }
    struct progress pg = {.bar = isatty(STDERR_FILENO), .limit_s = cfg.limit_s, .last_pct = -1};
    int rc = -1;
    struct sim *s = sim_new(&ts, &cfg);
    if (o->log) {
        pg.log = strcmp(o->log, "-") == 0 ? stdout : fopen(o->log, "w");
        if (!pg.log)
            err_set_errno("cannot write log '%s'", o->log);
        else
            fprintf(pg.log, "step\tt_s\tactive_hosts\tmigrations\tenergy_kwh\tpower_w\n");
    }
    double t0 = now_ms(CLOCK_MONOTONIC);
    if (s && (!o->log || pg.log) && sim_place_all(s, ap.ops) == 0 &&
        sim_run(s, &ops, on_step, &pg) == 0) {
        struct sim_result r;
        sim_result_get(s, &r);
        if (pg.bar)
            fprintf(stderr, "\r%*s\r", 70, "");
        print_result(o, dir, &r, &t, (now_ms(CLOCK_MONOTONIC) - t0) / 1e3);
        rc = 0;
    }
    if (pg.log && pg.log != stdout && fclose(pg.log) != 0 && rc == 0)
        rc = err_set_errno("cannot write log '%s'", o->log);
    sim_free(s);
    sim_traceset_free(&ts);
    any_policy_fini(&ap);
    return rc;
}

static int cmd_simulate(int argc, char **argv)
{
    start_ms = now_ms(CLOCK_MONOTONIC);
    struct sim_opts o = {.policy = "lr-mmt-1.2"};
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    AUTOFREE char *def = xasprintf("%s/data/planetlab/20110303", ARAS_SOURCE_DIR);
    return run(&o, o.trace ? o.trace : def) < 0 ? cli_fail() : 0;
}

const struct cli_command cli_cmd_simulate = {
    "simulate",
    "replay a trace day through a consolidation policy (energy, SLA)",
    cmd_simulate,
};
