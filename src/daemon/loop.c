/* loop: arasd's main loop — a tick every `tick`, signals through a signalfd:
 * SIGTERM/SIGINT stop it cleanly, SIGHUP re-reads the configuration. */
#include "daemon/daemon.h"

#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

int daemon_signals_init(struct daemon *d)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* Blocked in this thread before any other starts, so every thread
     * inherits the mask and the signals queue on the signalfd. */
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return err_set("cannot block signals");
    d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (d->sig_fd < 0)
        return err_set_errno("signalfd");
    signal(SIGPIPE, SIG_IGN); /* a client that hangs up must not kill us */
    return 0;
}

/* Log every line of a multi-line message (conf errors come one per line). */
static void log_lines(enum log_level level, const char *head, const char *msg)
{
    log_msg(level, "daemon", "%s", head);
    for (const char *line = msg; *line;) {
        size_t n = strcspn(line, "\n");
        log_msg(level, "daemon", "  %.*s", (int)n, line);
        line += n + (line[n] == '\n');
    }
}

static bool str_differs(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* Say which settings of `next` only a restart applies (compared with the
 * configuration arasd started with). */
static void report_restart_only(const struct conf *boot, const struct conf *next)
{
    bool uris = boot->n_uris != next->n_uris;
    for (size_t i = 0; !uris && i < boot->n_uris; i++)
        uris = strcmp(boot->uris[i], next->uris[i]) != 0;
    const struct {
        bool changed;
        const char *what;
    } keys[] = {
        {uris, "[cluster] uri"},
        {str_differs(boot->api_listen, next->api_listen), "[daemon] api_listen"},
        {str_differs(boot->history_path, next->history_path), "[daemon] history"},
        {str_differs(boot->pid_file, next->pid_file), "[daemon] pid_file"},
        {str_differs(boot->email_url, next->email_url) ||
             str_differs(boot->email_from, next->email_from) ||
             str_differs(boot->email_spool_dir, next->email_spool_dir) ||
             boot->n_email_to != next->n_email_to,
         "[email]"},
        {str_differs(boot->snmp_target, next->snmp_target) || boot->snmp_v3 != next->snmp_v3 ||
             str_differs(boot->snmp_community, next->snmp_community) ||
             str_differs(boot->snmp_user, next->snmp_user),
         "[snmp]"},
        {boot->approval_ttl_ms != next->approval_ttl_ms, "[allocator] approval_ttl"},
    };
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        if (keys[i].changed)
            log_warn("daemon", "reload: %s changed; restart arasd to apply it", keys[i].what);
    }
}

static void reload(struct daemon *d)
{
    if (!d->conf_path) {
        log_info("daemon", "SIGHUP: no --config file, nothing to reload");
        return;
    }
    struct conf *next = conf_load(d->conf_path);
    if (!next) {
        log_lines(LOG_LEVEL_ERROR,
                  "SIGHUP: keeping the running configuration; the new one has "
                  "errors:",
                  err_msg());
        return;
    }
    report_restart_only(d->boot_conf, next);
    log_set_level(next->log_level);
    monitor_set_dirty_rate(d->monitor, next->migrate.dirty_period_ms,
                           (int)((next->migrate.dirty_calc_ms + 999) / 1000));
    rules_reload(d, next);
    history_set_retention(d->history, next->history_retention_ms, next->sample_retention_ms);
    log_info("daemon", "SIGHUP: reloaded %s (tick %lld ms, log_level %s)", d->conf_path,
             (long long)next->tick_ms, log_level_str(next->log_level));
    struct history_event ev = {.t_ms = clock_now_ms(&d->clock),
                               .severity = HISTORY_SEV_INFO,
                               .object = "daemon",
                               .kind = "reload",
                               .message = "configuration reloaded"};
    if (history_record_event(d->history, &ev, NULL) < 0)
        log_warn("daemon", "%s", err_msg());
    if (d->conf != d->boot_conf)
        conf_free(d->conf);
    d->conf = next;
}

/* Read pending signals; returns true when arasd should stop. */
static bool handle_signals(struct daemon *d)
{
    struct signalfd_siginfo si;
    bool stop = false;
    while (read(d->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            reload(d);
        } else {
            log_info("daemon", "%s received, shutting down", strsignal((int)si.ssi_signo));
            stop = true;
        }
    }
    return stop;
}

int daemon_loop(struct daemon *d)
{
    int64_t next = clock_mono_ms(&d->clock); /* first tick at once */
    for (;;) {
        int64_t now = clock_mono_ms(&d->clock);
        if (now >= next) {
            daemon_tick(d);
            next += d->conf->tick_ms;
            now = clock_mono_ms(&d->clock);
            if (next <= now) /* a tick overran: skip the missed ones */
                next = now + d->conf->tick_ms;
        }
        /* A reload may have shortened the tick: never wait longer than it. */
        if (next - now > d->conf->tick_ms)
            next = now + d->conf->tick_ms;
        /* Progress of running migrations between ticks. */
        int64_t wake = migrations_refresh(d);
        now = clock_mono_ms(&d->clock);
        if (wake > next)
            wake = next;
        /* Signals, and the API's commands (answered at once, not at the tick). */
        struct pollfd p[2] = {{.fd = d->sig_fd, .events = POLLIN},
                              {.fd = http_server_cmd_fd(d->http), .events = POLLIN}};
        int rc = poll(p, 2, wake > now ? (int)(wake - now) : 0);
        if (rc < 0 && errno != EINTR) {
            log_error("daemon", "poll: %s", strerror(errno));
            return 1;
        }
        if (rc > 0 && (p[1].revents & POLLIN))
            daemon_commands(d);
        if (rc > 0 && (p[0].revents & POLLIN) && handle_signals(d))
            return 0;
    }
}
