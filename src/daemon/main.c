/* arasd: the ARAS daemon — options, start-up in dependency order, and
 * finalisation in reverse. The loop itself is in loop.c, one tick in tick.c. */
#include "aras-config.h"
#include "daemon/daemon.h"

#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fputs("Usage: arasd [--config FILE] [--foreground]\n"
          "       arasd --help | --version\n"
          "\n"
          "arasd, the ARAS daemon, watches every host and VM of a cluster of libvirt hosts\n"
          "(or of the embedded simulated cluster), keeps a history of what it saw in SQLite\n"
          "and serves it over a REST API on a loopback address, for arasctl, browsers and\n"
          "Prometheus.\n"
          "\n"
          "Options:\n"
          "  -c, --config FILE  read the configuration from FILE (INI; see etc/arasd.conf).\n"
          "                     Without it arasd runs on built-in defaults: the simulated\n"
          "                     cluster (uri = sim://), a tick of 10s, the API on\n"
          "                     127.0.0.1:8470 and the history in var/aras/history.db.\n"
          "  -f, --foreground   stay in the foreground and log to stderr (the default and\n"
          "                     only mode; use a service manager to run it in the background)\n"
          "  -h, --help         show this help\n"
          "  -V, --version      show the version\n"
          "\n"
          "Signals:\n"
          "  SIGTERM, SIGINT    finish the current tick (and a migration the worker runs),\n"
          "                     close everything, exit 0\n"
          "  SIGHUP             re-read FILE: tick, log_level, retention, [migrate], [rule]\n"
          "                     sections (a fresh rule engine: open episodes restart), [vm]\n"
          "                     sections and the [allocator] marks and mode apply at once; uri,\n"
          "                     api_listen, history, pid_file, [email], [snmp] and\n"
          "                     approval_ttl need a restart (logged).\n"
          "                     A file with errors is rejected with FILE:LINE messages and\n"
          "                     the running configuration is kept.\n"
          "\n"
          "SLA rules ([rule NAME]) fire when a metric held past its threshold for the\n"
          "whole window; their actions send e-mail, SNMP traps, run scripts, or ask the\n"
          "resource allocation controller to grow the VM in place or migrate it. By\n"
          "[allocator] mode (per VM in [vm GLOB]) a decision is only recommended (manual),\n"
          "waits for 'arasctl approve ID' (semi) or runs at once (auto).\n"
          "\n"
          "Live migrations — the allocator's and those an operator asks for with 'arasctl\n"
          "migrate' — run on a worker thread, one at a time; each is a row in the history\n"
          "from request to outcome, and after each arasd checks that the VM runs exactly\n"
          "once. Migrations that were running when arasd stopped are reconciled with what\n"
          "libvirt reports at the first tick after a restart.\n"
          "\n"
          "API (JSON): GET /api/v1/status, /api/v1/hosts[/NAME], /api/v1/vms[/NAME]\n"
          "[?host=H], /api/v1/events[?since=10m&limit=N], /api/v1/decisions[?since=&limit=],\n"
          "/api/v1/pending, /api/v1/migrations[/ID], /metrics (Prometheus); POST\n"
          "/api/v1/pending/ID/approve|reject, /api/v1/migrations, /api/v1/migrations/ID/abort.\n"
          "Query it with arasctl (status|hosts|vms|events|pending|approve|reject|migrate|\n"
          "migrations) or curl.\n"
          "\n"
          "Exit status: 0 after a clean shutdown, 1 if start-up failed, 2 on a usage error.\n",
          out);
}

/* Parse argv; returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, struct daemon *d)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"foreground", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "c:fhV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            d->conf_path = optarg;
            break;
        case 'f':
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("arasd %s\n", ARAS_VERSION);
            return 0;
        default:
            fprintf(stderr, "Try 'arasd --help'.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "arasd: unexpected argument '%s'\nTry 'arasd --help'.\n", argv[optind]);
        return 2;
    }
    return -1;
}

static int write_pid_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_set_errno("cannot write pid file %s", path);
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    bool ok = write(fd, buf, (size_t)n) == n;
    close(fd);
    return ok ? 0 : err_set("cannot write pid file %s", path);
}

static void record_daemon_event(struct daemon *d, const char *kind, const char *msg)
{
    struct history_event ev = {.t_ms = clock_now_ms(&d->clock),
                               .severity = HISTORY_SEV_INFO,
                               .object = "daemon",
                               .kind = kind,
                               .message = msg};
    if (history_record_event(d->history, &ev, NULL) < 0)
        log_warn("daemon", "%s", err_msg());
}

/* log -> conf -> clock -> backend -> monitor -> history -> http -> allocator ->
 * migrations (the open ones from the history) -> rules and workers. */
static int start(struct daemon *d)
{
    d->boot_conf = d->conf_path ? conf_load(d->conf_path) : conf_defaults();
    if (!d->boot_conf)
        return -1;
    d->conf = d->boot_conf;
    log_set_level(d->conf->log_level);
    clock_init_real(&d->clock);
    d->started_ms = clock_now_ms(&d->clock);
    if (daemon_signals_init(d) < 0)
        return -1;
    d->backend = backend_open((const char *const *)d->conf->uris, d->conf->n_uris, &d->clock);
    if (!d->backend)
        return -1;
    d->monitor = monitor_new(d->backend, DAEMON_MONITOR_WINDOW_MS);
    if (!d->monitor)
        return -1;
    monitor_set_dirty_rate(d->monitor, d->conf->migrate.dirty_period_ms,
                           (int)((d->conf->migrate.dirty_calc_ms + 999) / 1000));
    d->history = history_open(d->conf->history_path, d->conf->history_retention_ms,
                              d->conf->sample_retention_ms);
    if (!d->history)
        return -1;
    d->http = http_server_start(d->conf->api_host, d->conf->api_port, d->history, &d->clock);
    if (!d->http)
        return -1;
    if (alloc_init(d) < 0 || migrations_init(d) < 0 || rules_init(d) < 0)
        return -1;
    if (d->conf->pid_file) {
        if (write_pid_file(d->conf->pid_file) < 0)
            return -1;
        d->pid_written = true;
    }
    return 0;
}

/* Finalise in reverse order; each step copes with a partial start. */
static void finish(struct daemon *d)
{
    if (d->pid_written)
        unlink(d->boot_conf->pid_file);
    rules_free(d); /* joins the workers first: they use the backend and the history */
    migrations_free(d);
    alloc_free(d);
    http_server_stop(d->http);
    history_close(d->history);
    monitor_free(d->monitor);
    backend_close(d->backend);
    changes_free(&d->changes);
    evlist_free(&d->events);
    if (d->sig_fd >= 0)
        close(d->sig_fd);
    if (d->conf != d->boot_conf)
        conf_free(d->conf);
    conf_free(d->boot_conf);
}

int main(int argc, char **argv)
{
    struct daemon d = {.sig_fd = -1, .energy_kwh = -1};
    changes_init(&d.changes);
    int rc = parse_args(argc, argv, &d);
    if (rc >= 0)
        return rc;
    if (start(&d) < 0) {
        /* Multi-line messages (config errors) get the prefix on each line. */
        for (const char *line = err_msg(); *line;) {
            size_t n = strcspn(line, "\n");
            fprintf(stderr, "arasd: %.*s\n", (int)n, line);
            line += n + (line[n] == '\n');
        }
        finish(&d);
        return 1;
    }
    char host[80];
    snprintf(host, sizeof(host), strchr(d.conf->api_host, ':') ? "[%s]" : "%s", d.conf->api_host);
    log_info("daemon", "arasd %s started: backend %s, %zu URI(s), tick %lld ms, history %s",
             ARAS_VERSION, d.backend->ops->name, d.conf->n_uris, (long long)d.conf->tick_ms,
             d.conf->history_path);
    log_info("daemon", "API listening on http://%s:%u", host, (unsigned)http_server_port(d.http));
    printf("arasd: API listening on http://%s:%u\n", host, (unsigned)http_server_port(d.http));
    fflush(stdout);
    record_daemon_event(&d, "start", "arasd started");
    rc = daemon_loop(&d);
    record_daemon_event(&d, "stop", "arasd stopped");
    finish(&d);
    log_info("daemon", "stopped");
    return rc;
}
