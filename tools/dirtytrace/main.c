/* aras-dirtytrace: record which 4 KiB pages a process (tree) writes per interval (DIRTYTR1). */
#include "dirtytrace.h"
#include "migrate/migrate.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out, "Usage: aras-dirtytrace --pid PID [OPTIONS] --out FILE\n"
                 "       aras-dirtytrace [OPTIONS] --out FILE -- COMMAND [ARGS...]\n"
                 "\n"
                 "Record which 4 KiB pages of a running process (or of a command it starts)\n"
                 "are written in each interval and write a DIRTYTR1 trace (zstd payload).\n"
                 "Uses asynchronous userfaultfd write-protection (UFFD_FEATURE_WP_ASYNC and\n"
                 "WP_UNPOPULATED) with ioctl(PAGEMAP_SCAN, PM_SCAN_WP_MATCHING) as the\n"
                 "read-and-clear: Linux >= 6.7, run as root (ptrace + userfaultfd in the target).\n"
                 "\n"
                 "Options:\n"
                 "  -p, --pid PID        trace this running process\n"
                 "  -t, --tree           also trace its descendants (found at every scan)\n"
                 "  -i, --interval DUR   sampling interval T (default 100ms)\n"
                 "  -d, --duration DUR   how long to trace (default 10s; a started COMMAND\n"
                 "                       that exits earlier ends the trace)\n"
                 "  -o, --out FILE       the trace to write\n"
                 "  -w, --workload NAME  workload name stored in the trace (max 32 bytes)\n"
                 "      --index-out FILE write the pid and shared-object index tables as text\n"
                 "  -h, --help           show this help\n"
                 "\n"
                 "Keys: a private page is (pid_index << 36) | virtual page number; a page of a\n"
                 "MAP_SHARED mapping is (1 << 63) | (object_index << 36) | page offset in the\n"
                 "object (dev:inode), so a page shared by several traced processes is one page.\n"
                 "A started COMMAND is terminated (SIGTERM) when the duration ends.\n");
}

struct opts {
    pid_t pid;
    bool tree;
    int64_t interval_ms, duration_ms;
    const char *out, *workload, *index_out;
    char **cmd;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"pid", required_argument, NULL, 'p'},
        {"tree", no_argument, NULL, 't'},
        {"interval", required_argument, NULL, 'i'},
        {"duration", required_argument, NULL, 'd'},
        {"out", required_argument, NULL, 'o'},
        {"workload", required_argument, NULL, 'w'},
        {"index-out", required_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    int64_t v;
    o->interval_ms = 100;
    o->duration_ms = 10000;
    while ((c = getopt_long(argc, argv, "+p:ti:d:o:w:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (parse_int64(optarg, 1, 1 << 30, &v) < 0)
                return fprintf(stderr, "aras-dirtytrace: --pid: %s\n", err_msg()), 2;
            o->pid = (pid_t)v;
            break;
        case 't':
            o->tree = true;
            break;
        case 'i':
        case 'd':
            if (parse_duration_ms(optarg, &v) < 0 || v < 1 || v > 7 * 86400000LL)
                return fprintf(stderr, "aras-dirtytrace: --%s: bad duration '%s'\n",
                               c == 'i' ? "interval" : "duration", optarg),
                       2;
            *(c == 'i' ? &o->interval_ms : &o->duration_ms) = v;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'w':
            o->workload = optarg;
            break;
        case 'I':
            o->index_out = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc)
        o->cmd = argv + optind;
    if (!o->out || (!o->pid) == (!o->cmd)) {
        fprintf(stderr, "aras-dirtytrace: need --out and exactly one of --pid or -- COMMAND\n");
        return 2;
    }
    return -1;
}

struct capture {
    struct opts o;
    struct dt_proc *procs;
    size_t n_procs, cap_procs;
    struct dt_objects objs;
    struct dt_keyset universe, resident0;
    struct dt_keyset *written; /* per interval */
    double *t_end;
    uint32_t n_intervals;
    pid_t child; /* started command, or 0 */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Attach a process and do its baseline scan (writes before it are not counted). */
static int add_proc(struct capture *c, pid_t pid, bool traced, struct dt_keyset *resident)
{
    xgrow((void **)&c->procs, &c->cap_procs, c->n_procs + 1, sizeof(*c->procs));
    struct dt_proc *p = &c->procs[c->n_procs];
    if (dt_proc_attach(p, pid, (uint32_t)c->n_procs, traced) < 0)
        return -1;
    c->n_procs++;
    struct dt_keyset discard = {0};
    int rc = dt_proc_scan(p, &c->objs, &c->universe, &discard);
    if (rc == 0 && resident)
        rc = dt_proc_scan(p, &c->objs, resident, NULL);
    dt_keyset_free(&discard);
    return rc;
}

static bool traced_pid(const struct capture *c, pid_t pid)
{
    for (size_t i = 0; i < c->n_procs; i++) {
        if (c->procs[i].pid == pid)
            return true;
    }
    return false;
}

/* Attach descendants of traced processes that appeared since the last scan. */
static void discover_children(struct capture *c)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int64_t pid;
        if (parse_int64(e->d_name, 1, 1 << 30, &pid) < 0 || traced_pid(c, (pid_t)pid))
            continue;
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "re");
        size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        char *rp = strrchr(buf, ')');
        int ppid = 0;
        char state;
        if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2 || state == 'Z')
            continue;
        for (size_t i = 0; i < c->n_procs; i++) {
            if (c->procs[i].alive && c->procs[i].pid == ppid) {
                if (add_proc(c, (pid_t)pid, false, NULL) < 0)
                    fprintf(stderr, "aras-dirtytrace: child %d not traced: %s\n", (int)pid,
                            err_msg());
                break;
            }
        }
    }
    if (d)
        closedir(d);
}

static pid_t start_command(char **cmd)
{
    pid_t pid = fork();
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        execvp(cmd[0], cmd);
        fprintf(stderr, "aras-dirtytrace: %s: %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    if (pid < 0)
        return err_set_errno("fork"), -1;
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFSTOPPED(st))
        return err_set("%s: did not start (exit status 0x%x)", cmd[0], st), -1;
    return pid;
}

static bool any_alive(const struct capture *c)
{
    for (size_t i = 0; i < c->n_procs; i++) {
        if (c->procs[i].alive)
            return true;
    }
    return false;
}

static int capture_loop(struct capture *c)
{
    uint32_t max = (uint32_t)(c->o.duration_ms / c->o.interval_ms);
    c->written = xcalloc(max ? max : 1, sizeof(*c->written));
    c->t_end = xcalloc(max ? max : 1, sizeof(double));
    double t0 = now_s();
    for (uint32_t i = 0; i < max && !stop_requested; i++) {
        double due = t0 + (double)(i + 1) * (double)c->o.interval_ms / 1e3;
        double wait = due - now_s();
        if (wait > 0) {
            struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
            nanosleep(&ts, NULL);
        }
        if (c->o.tree)
            discover_children(c);
        for (size_t k = 0; k < c->n_procs; k++) {
            if (dt_proc_scan(&c->procs[k], &c->objs, &c->universe, &c->written[i]) < 0)
                return -1;
        }
        c->t_end[i] = now_s() - t0;
        c->n_intervals = i + 1;
        if (c->child && waitpid(c->child, NULL, WNOHANG) == c->child)
            c->child = 0;
        if (!any_alive(c))
            break;
    }
    return 0;
}

static const char *default_workload(const struct opts *o, char *buf, size_t len)
{
    if (o->workload)
        return o->workload;
    if (o->cmd) {
        const char *b = strrchr(o->cmd[0], '/');
        return b ? b + 1 : o->cmd[0];
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)o->pid);
    FILE *f = fopen(path, "re");
    buf[0] = '\0';
    if (f && fgets(buf, (int)len, f))
        buf[strcspn(buf, "\n")] = '\0';
    if (f)
        fclose(f);
    return buf;
}

static size_t find_key(const uint64_t *keys, size_t n, uint64_t k)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (keys[mid] < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int write_trace(struct capture *c)
{
    for (uint32_t i = 0; i < c->n_intervals; i++) {
        for (size_t s = 0; s < c->written[i].cap; s++) {
            if (c->written[i].slots[s])
                dt_keyset_add(&c->universe, c->written[i].slots[s] - 1);
        }
    }
    if (c->universe.len > (1u << 28))
        return err_set("%zu pages: too many for one trace", c->universe.len);
    AUTOFREE uint64_t *keys = dt_keyset_sorted(&c->universe);
    struct migrate_trace t;
    migrate_trace_alloc(&t, (uint32_t)c->universe.len, c->n_intervals);
    memcpy(t.keys, keys, c->universe.len * sizeof(uint64_t));
    memcpy(t.t_end, c->t_end, c->n_intervals * sizeof(double));
    t.interval_us = (uint32_t)(c->o.interval_ms * 1000);
    for (size_t p = 0; p < c->universe.len; p++) {
        if (dt_keyset_has(&c->resident0, keys[p])) {
            migrate_bit_set(t.resident0, (uint32_t)p);
            t.rss_start_pages++;
        }
    }
    size_t row = migrate_trace_row_bytes(t.n_pages);
    for (uint32_t i = 0; i < c->n_intervals; i++) {
        for (size_t s = 0; s < c->written[i].cap; s++) {
            if (c->written[i].slots[s]) {
                size_t p = find_key(keys, c->universe.len, c->written[i].slots[s] - 1);
                migrate_bit_set(t.bitmaps + row * i, (uint32_t)p);
            }
        }
    }
    char comm[64];
    snprintf(t.workload, sizeof(t.workload), "%s", default_workload(&c->o, comm, sizeof(comm)));
    snprintf(t.method, sizeof(t.method), "uffd-wp-async+pagemap_scan");
    int rc = migrate_trace_write(c->o.out, &t);
    migrate_trace_free(&t);
    return rc;
}

static int write_index(const struct capture *c)
{
    FILE *f = fopen(c->o.index_out, "we");
    if (!f)
        return err_set_errno("%s", c->o.index_out);
    for (size_t i = 0; i < c->n_procs; i++)
        fprintf(f, "pid %zu %d\n", i, (int)c->procs[i].pid);
    for (size_t i = 0; i < c->objs.len; i++)
        fprintf(f, "object %zu %llu:%llu %llu %s\n", i,
                (unsigned long long)(c->objs.v[i].dev >> 32),
                (unsigned long long)(c->objs.v[i].dev & 0xffffffffu),
                (unsigned long long)c->objs.v[i].inode, c->objs.v[i].path);
    return fclose(f) == 0 ? 0 : err_set_errno("%s", c->o.index_out);
}

static void capture_free(struct capture *c)
{
    for (size_t i = 0; i < c->n_procs; i++) {
        dt_proc_close(&c->procs[i]);
        free(c->procs[i].vmas);
        free(c->procs[i].seen_ranges);
    }
    free(c->procs);
    for (uint32_t i = 0; c->written && i < (uint32_t)(c->o.duration_ms / c->o.interval_ms); i++)
        dt_keyset_free(&c->written[i]);
    free(c->written);
    free(c->t_end);
    free(c->objs.v);
    dt_keyset_free(&c->universe);
    dt_keyset_free(&c->resident0);
}

static int run(struct capture *c)
{
    pid_t root = c->o.pid;
    if (c->o.cmd) {
        root = start_command(c->o.cmd);
        if (root < 0)
            return -1;
        c->child = root;
    }
    if (add_proc(c, root, c->o.cmd != NULL, &c->resident0) < 0)
        return -1;
    if (c->o.tree)
        discover_children(c);
    if (capture_loop(c) < 0)
        return -1;
    if (c->o.index_out && write_index(c) < 0)
        return -1;
    return write_trace(c);
}

int main(int argc, char **argv)
{
    struct capture c;
    memset(&c, 0, sizeof(c));
    int rc = parse_opts(argc, argv, &c.o);
    if (rc >= 0)
        return rc;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    rc = run(&c) < 0 ? 1 : 0;
    if (rc)
        fprintf(stderr, "aras-dirtytrace: %s\n", err_msg());
    if (c.child > 0) {
        kill(c.child, SIGTERM);
        waitpid(c.child, NULL, 0);
    }
    capture_free(&c);
    return rc;
}
