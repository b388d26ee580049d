/* script: run an event script — fork + execve without a shell, the event in
 * the environment and as JSON on stdin, bounded output capture, and a timeout
 * that sends SIGTERM and then SIGKILL to the script's process group. */
#include "notify/notify.h"

#include "util/clock.h"
#include "util/error.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ENV_MAX        20
#define POLL_STEP_MS   20  /* how often we look for the child's exit */
#define DRAIN_AFTER_MS 500 /* after exit, wait this long for the pipes to close */

/* One captured stream: keeps the first `max` bytes, drains the rest. */
struct capture {
    int fd;
    char *buf;
    size_t len, max;
    bool truncated;
};

static void env_add(char **env, size_t *n, const char *name, const char *value)
{
    if (*n + 1 < ENV_MAX)
        env[(*n)++] = xasprintf("%s=%s", name, value);
}

static void env_build(const struct notify_event *ev, char **env)
{
    char num[64], when[40];
    size_t n = 0;
    snprintf(num, sizeof(num), "%" PRIu64, ev->id);
    env_add(env, &n, "ARAS_EVENT_ID", num);
    env_add(env, &n, "ARAS_EVENT_KIND", ev->kind);
    snprintf(num, sizeof(num), "%" PRId64, ev->t_ms);
    env_add(env, &n, "ARAS_EVENT_TIME_MS", num);
    notify_time_rfc3339(ev->t_ms, when, sizeof(when));
    env_add(env, &n, "ARAS_EVENT_TIME", when);
    env_add(env, &n, "ARAS_SEVERITY", ev->severity);
    env_add(env, &n, "ARAS_RULE", ev->rule);
    env_add(env, &n, "ARAS_OBJECT", ev->object);
    env_add(env, &n, "ARAS_OBJECT_KIND", ev->object_kind);
    env_add(env, &n, "ARAS_METRIC", ev->metric);
    notify_value_str(ev->value, num, sizeof(num));
    env_add(env, &n, "ARAS_VALUE", num);
    notify_value_str(ev->threshold, num, sizeof(num));
    env_add(env, &n, "ARAS_THRESHOLD", num);
    env_add(env, &n, "ARAS_MESSAGE", ev->message);
    snprintf(num, sizeof(num), "%" PRIu64, ev->episode);
    env_add(env, &n, "ARAS_EPISODE", num);
    env_add(env, &n, "PATH", "/usr/local/bin:/usr/bin:/bin");
    env_add(env, &n, "LANG", "C.UTF-8");
    env[n] = NULL;
}

static void env_free(char **env)
{
    for (size_t i = 0; env[i]; i++)
        free(env[i]);
}

static int check_path(const char *path)
{
    struct stat st;
    if (!path || path[0] != '/')
        return err_set("script '%s': not an absolute path", path ? path : "");
    if (stat(path, &st) < 0)
        return err_set_errno("script %s", path);
    if (!S_ISREG(st.st_mode))
        return err_set("script %s: not a regular file", path);
    if (access(path, X_OK) < 0)
        return err_set("script %s: not executable", path);
    return 0;
}

/* In the child, between fork and execve: only async-signal-safe calls. */
static void __attribute__((noreturn))
child_exec(const char *path, char **env, int in_fd, int out_fd, int err_fd, int status_fd)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &sa, NULL); /* ignored signals would survive execve */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0 || chdir("/") < 0)
        goto fail;
    /* Everything above 2 except the status pipe (close-on-exec) goes. */
    if (status_fd > 3)
        close_range(3, (unsigned)status_fd - 1, 0);
    close_range((unsigned)status_fd + 1, ~0U, 0);
    char *argv[] = {(char *)path, NULL};
    execve(path, argv, env);
fail:;
    int e = errno;
    ssize_t w = write(status_fd, &e, sizeof(e));
    (void)w;
    _exit(127);
}

static void capture_read(struct capture *c)
{
    char tmp[4096];
    for (;;) {
        ssize_t n = read(c->fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                close(c->fd);
                c->fd = -1;
            }
            return;
        }
        size_t keep = (size_t)n;
        if (c->len + keep > c->max) {
            keep = c->max - c->len;
            c->truncated = true;
        }
        memcpy(c->buf + c->len, tmp, keep);
        c->len += keep;
    }
}

/* Write what the socket takes of the JSON; close it when done or refused. */
static void stdin_write(int *fd, const char *json, size_t len, size_t *off)
{
    while (*off < len) {
        ssize_t n = send(*fd, json + *off, len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) /* EPIPE: the script does not read stdin; that is its right */
            break;
        *off += (size_t)n;
    }
    close(*fd);
    *fd = -1;
}

/* Supervisor state of one running script. */
struct run {
    pid_t pid;
    int in_fd;
    const char *json;
    size_t json_len, json_off;
    struct capture out, err;
    int64_t start_ms, deadline_ms, kill_at_ms, reaped_ms;
    bool reaped, killed;
    int status;
};

static void run_signals(struct run *r, int64_t now, int64_t grace_ms,
                        struct notify_script_result *res)
{
    if (r->reaped)
        return;
    if (!res->timed_out && now >= r->deadline_ms) {
        res->timed_out = true;
        r->kill_at_ms = now + grace_ms;
        kill(-r->pid, SIGTERM);
    } else if (res->timed_out && !r->killed && now >= r->kill_at_ms) {
        r->killed = true;
        kill(-r->pid, SIGKILL);
    }
}

/* Poll the pipes until the child is reaped and the pipes are closed (or the
 * drain period after its exit has passed). */
static void run_supervise(struct run *r, const struct notify_script_conf *c,
                          struct notify_script_result *res, const struct clock *clk)
{
    int64_t grace_ms = c->kill_grace_ms > 0 ? c->kill_grace_ms : 2000;
    for (;;) {
        int64_t now = clock_mono_ms(clk);
        run_signals(r, now, grace_ms, res);
        if (!r->reaped && waitpid(r->pid, &r->status, WNOHANG) == r->pid) {
            r->reaped = true;
            r->reaped_ms = now;
        }
        bool open = r->out.fd >= 0 || r->err.fd >= 0;
        if (r->reaped && (!open || now - r->reaped_ms >= DRAIN_AFTER_MS))
            return;
        struct pollfd p[3];
        nfds_t n = 0;
        if (r->in_fd >= 0)
            p[n++] = (struct pollfd){.fd = r->in_fd, .events = POLLOUT};
        if (r->out.fd >= 0)
            p[n++] = (struct pollfd){.fd = r->out.fd, .events = POLLIN};
        if (r->err.fd >= 0)
            p[n++] = (struct pollfd){.fd = r->err.fd, .events = POLLIN};
        if (poll(p, n, POLL_STEP_MS) < 0 && errno != EINTR)
            return; /* cannot happen with valid fds; never spin */
        for (nfds_t i = 0; i < n; i++) {
            if (!p[i].revents)
                continue;
            if (p[i].fd == r->in_fd)
                stdin_write(&r->in_fd, r->json, r->json_len, &r->json_off);
            else if (p[i].fd == r->out.fd)
                capture_read(&r->out);
            else if (p[i].fd == r->err.fd)
                capture_read(&r->err);
        }
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Start the child; fills r->pid and the parent's ends. -1 with err_set(). */
static int run_start(struct run *r, const char *path, char **env)
{
    int sv[2] = {-1, -1}, po[2] = {-1, -1}, pe[2] = {-1, -1}, ps[2] = {-1, -1};
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(po, O_CLOEXEC) < 0 ||
        pipe2(pe, O_CLOEXEC) < 0 || pipe2(ps, O_CLOEXEC) < 0) {
        err_set_errno("script %s: pipes", path);
        goto fail;
    }
    r->pid = fork();
    if (r->pid < 0) {
        err_set_errno("script %s: fork", path);
        goto fail;
    }
    if (r->pid == 0)
        child_exec(path, env, sv[1], po[1], pe[1], ps[1]);
    close_fd(&sv[1]);
    close_fd(&po[1]);
    close_fd(&pe[1]);
    close_fd(&ps[1]);
    /* The status pipe closes on a successful execve, or carries its errno. */
    int e = 0;
    ssize_t n;
    do {
        n = read(ps[0], &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
    close_fd(&ps[0]);
    if (n == (ssize_t)sizeof(e)) {
        waitpid(r->pid, NULL, 0);
        err_set("script %s: exec failed: %s", path, strerror(e));
        goto fail;
    }
    r->in_fd = sv[0];
    r->out.fd = po[0];
    r->err.fd = pe[0];
    fcntl(r->in_fd, F_SETFL, O_NONBLOCK);
    fcntl(r->out.fd, F_SETFL, O_NONBLOCK);
    fcntl(r->err.fd, F_SETFL, O_NONBLOCK);
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        close_fd(&sv[i]);
        close_fd(&po[i]);
        close_fd(&pe[i]);
        close_fd(&ps[i]);
    }
    return -1;
}

int notify_script_run(const struct notify_script_conf *c, const struct notify_event *ev,
                      struct notify_script_result *res)
{
    memset(res, 0, sizeof(*res));
    if (check_path(c->path) < 0)
        return -1;
    struct clock clk;
    clock_init_real(&clk);
    size_t max = c->output_max ? c->output_max : 64 * 1024;
    AUTOFREE char *json = notify_event_to_json(ev);
    char *env[ENV_MAX];
    env_build(ev, env);
    struct run r = {.in_fd = -1, .json = json, .json_len = strlen(json)};
    r.out = (struct capture){.fd = -1, .buf = xmalloc(max + 1), .max = max};
    r.err = (struct capture){.fd = -1, .buf = xmalloc(max + 1), .max = max};
    r.start_ms = clock_mono_ms(&clk);
    r.deadline_ms = r.start_ms + (c->timeout_ms > 0 ? c->timeout_ms : 10000);
    int rc = run_start(&r, c->path, env);
    env_free(env);
    if (rc == 0) {
        run_supervise(&r, c, res, &clk);
        if (!r.reaped) { /* only if poll() itself failed: never leave a zombie */
            kill(-r.pid, SIGKILL);
            waitpid(r.pid, &r.status, 0);
        }
        close_fd(&r.in_fd);
        close_fd(&r.out.fd);
        close_fd(&r.err.fd);
        res->duration_ms = clock_mono_ms(&clk) - r.start_ms;
        res->exited = WIFEXITED(r.status);
        res->exit_status = res->exited ? WEXITSTATUS(r.status) : 0;
        res->signaled = WIFSIGNALED(r.status);
        res->term_signal = res->signaled ? WTERMSIG(r.status) : 0;
    }
    r.out.buf[r.out.len] = '\0';
    r.err.buf[r.err.len] = '\0';
    res->out = r.out.buf;
    res->out_len = r.out.len;
    res->out_truncated = r.out.truncated;
    res->err = r.err.buf;
    res->err_len = r.err.len;
    res->err_truncated = r.err.truncated;
    if (rc < 0)
        notify_script_result_free(res);
    return rc;
}

void notify_script_result_free(struct notify_script_result *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
    res->out_len = res->err_len = 0;
}
