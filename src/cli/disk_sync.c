/* disk_sync: `arasctl disk-sync` — send a disk image by block dedup (local or over ssh). */
#include "cli/cli.h"
#include "disksync/disksync.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out, "Usage: arasctl disk-sync [OPTIONS] SRC DEST\n"
                 "       arasctl disk-sync [OPTIONS] SRC HOST:PATH\n"
                 "       arasctl disk-sync --serve [--index DIR] [--tenant T] PATH\n"
                 "\n"
                 "Copy the guest-visible content of disk image SRC (raw or qcow2) to DEST as a\n"
                 "sparse raw image, sending only the 4 KiB blocks the destination lacks: the\n"
                 "source streams a manifest (zero runs and SHA-256s), the destination answers\n"
                 "with the blocks it cannot find in its index (arasctl disk-index) or elsewhere\n"
                 "in the image, and those are sent once through one zstd stream. Every block\n"
                 "and the whole image are verified; an interrupted transfer resumes from\n"
                 "DEST.dspart and DEST.dsjournal without resending what arrived.\n"
                 "\n"
                 "DEST is a local path (the destination runs in a child process over a socket\n"
                 "pair, the same protocol) or HOST:PATH, which runs\n"
                 "  ssh HOST arasctl disk-sync --serve [--index DIR] --tenant T PATH\n"
                 "and speaks the protocol over ssh's encrypted stdin/stdout. The receiver only\n"
                 "matches images of its own tenant and golden images; pin the tenant with a\n"
                 "forced command in the receiving account's authorized_keys.\n"
                 "\n"
                 "Options:\n"
                 "  -i, --index DIR      the destination's index directory (default: none)\n"
                 "  -t, --tenant T       tenant label (default \"default\")\n"
                 "  -j, --json           print one JSON object (wire_bytes, missing_blocks, ...)\n"
                 "  -z, --zstd-level N   zstd level 1..19 (default 3)\n"
                 "      --ssh CMD        ssh program (default \"ssh\")\n"
                 "      --serve          run the receiving side on stdin/stdout\n"
                 "      --max-size SIZE  receiving side: refuse larger images (e.g. 2T)\n"
                 "  -h, --help           show this help\n"
                 "\n"
                 "Progress (bytes, rate, ETA) is drawn on standard error when it is a terminal.\n"
                 "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

struct sync_opts {
    const char *index, *tenant, *ssh;
    bool json, serve;
    int zstd_level;
    uint64_t max_bytes;
};

static int parse_opts(int argc, char **argv, struct sync_opts *o)
{
    static const struct option longopts[] = {
        {"index", required_argument, NULL, 'i'},
        {"tenant", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"zstd-level", required_argument, NULL, 'z'},
        {"ssh", required_argument, NULL, 'S'},
        {"serve", no_argument, NULL, 'R'},
        {"max-size", required_argument, NULL, 'M'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    int64_t n;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:t:jz:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            o->index = optarg;
            break;
        case 't':
            o->tenant = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 'S':
            o->ssh = optarg;
            break;
        case 'R':
            o->serve = true;
            break;
        case 'M':
            if (parse_size_bytes(optarg, &o->max_bytes) < 0) {
                fprintf(stderr, "arasctl disk-sync: --max-size: %s\n", err_msg());
                return 2;
            }
            break;
        case 'z':
            if (parse_int64(optarg, 1, 19, &n) < 0) {
                fprintf(stderr, "arasctl disk-sync: --zstd-level: %s\n", err_msg());
                return 2;
            }
            o->zstd_level = (int)n;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (argc - optind != (o->serve ? 1 : 2)) {
        usage(stderr);
        return 2;
    }
    return -1;
}

struct progress {
    struct clock clk;
    int64_t t0_ms, last_ms;
    bool tty;
};

static void show_progress(const struct ds_sync_stats *st, void *arg)
{
    struct progress *p = arg;
    int64_t now = clock_mono_ms(&p->clk);
    if (!p->tty || now - p->last_ms < 200)
        return;
    p->last_ms = now;
    double secs = (double)(now - p->t0_ms) / 1000.0;
    double wire = (double)(st->wire_bytes_sent + st->wire_bytes_received);
    double rate = secs > 0 ? wire / secs : 0;
    double left = (double)(st->data_blocks_requested - st->data_blocks_sent);
    double per_block = st->data_blocks_sent ? wire / (double)st->data_blocks_sent : 4096.0;
    double eta = rate > 0 ? left * per_block / rate : 0;
    fprintf(stderr, "\r%8.1f MiB sent  %7.2f MiB/s  blocks %llu/%llu  ETA %5.0f s ",
            wire / 1048576.0, rate / 1048576.0, (unsigned long long)st->data_blocks_sent,
            (unsigned long long)st->data_blocks_requested, eta);
}

/* Single-quote `s` for the remote shell ssh runs the command with. */
static char *shell_quote(const char *s)
{
    size_t n = strlen(s), cap = n * 4 + 3, k = 0;
    char *q = xmalloc(cap);
    q[k++] = '\'';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'') {
            memcpy(q + k, "'\\''", 4);
            k += 4;
        } else {
            q[k++] = s[i];
        }
    }
    q[k++] = '\'';
    q[k] = '\0';
    return q;
}

/* Start the receiver: a forked child over a socket pair, or ssh. */
static pid_t start_receiver(const struct sync_opts *o, const char *dest, int *fd_in, int *fd_out)
{
    const char *colon = strchr(dest, ':');
    const char *slash = strchr(dest, '/');
    bool remote = colon && (!slash || colon < slash);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        err_set_errno("socketpair");
        return -1;
    }
    AUTOFREE char *host = remote ? xstrndup(dest, (size_t)(colon - dest)) : NULL;
    AUTOFREE char *cmd = NULL;
    if (remote) {
        AUTOFREE char *qpath = shell_quote(colon + 1);
        AUTOFREE char *qtenant = shell_quote(o->tenant);
        AUTOFREE char *qindex = o->index ? shell_quote(o->index) : NULL;
        cmd = xasprintf("arasctl disk-sync --serve --tenant %s%s%s -- %s", qtenant,
                        qindex ? " --index " : "", qindex ? qindex : "", qpath);
    }
    pid_t pid = fork();
    if (pid < 0) {
        err_set_errno("fork");
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        if (remote) {
            dup2(sv[1], 0);
            dup2(sv[1], 1);
            execlp(o->ssh, o->ssh, "-e", "none", "--", host, cmd, (char *)NULL);
            fprintf(stderr, "arasctl disk-sync: cannot run %s\n", o->ssh);
            _exit(127);
        }
        struct ds_recv_opts ro = {.dest = dest,
                                  .index_dir = o->index,
                                  .tenant = o->tenant,
                                  .sample_shift = 3,
                                  .max_image_bytes = o->max_bytes};
        struct ds_sync_stats st;
        int rc = ds_receive(&ro, sv[1], sv[1], &st);
        if (rc < 0)
            fprintf(stderr, "arasctl disk-sync: destination: %s\n", err_msg());
        _exit(rc < 0 ? 1 : 0);
    }
    close(sv[1]);
    *fd_in = *fd_out = sv[0];
    return pid;
}

static void print_json(const struct ds_sync_stats *st, double secs)
{
    printf("{\"image_bytes\":%llu,\"blocks\":%llu,\"wire_bytes\":%llu,\"wire_bytes_sent\":%llu,"
           "\"wire_bytes_received\":%llu,\"missing_blocks\":%llu,\"matched_blocks\":%llu,"
           "\"zero_blocks\":%llu,\"duplicate_blocks\":%llu,\"resumed_blocks\":%llu,"
           "\"basis_bad_blocks\":%llu,\"seconds\":%.3f}\n",
           (unsigned long long)st->image_bytes, (unsigned long long)st->n_blocks,
           (unsigned long long)(st->wire_bytes_sent + st->wire_bytes_received),
           (unsigned long long)st->wire_bytes_sent, (unsigned long long)st->wire_bytes_received,
           (unsigned long long)st->missing_blocks, (unsigned long long)st->matched_blocks,
           (unsigned long long)st->zero_blocks, (unsigned long long)st->duplicate_blocks,
           (unsigned long long)st->resumed_blocks, (unsigned long long)st->basis_bad_blocks, secs);
}

static int run_send(const struct sync_opts *o, const char *src, const char *dest)
{
    struct progress pg = {.tty = isatty(STDERR_FILENO)};
    clock_init_real(&pg.clk);
    pg.t0_ms = clock_mono_ms(&pg.clk);
    int fd_in, fd_out;
    pid_t pid = start_receiver(o, dest, &fd_in, &fd_out);
    if (pid < 0)
        return cli_fail();
    struct ds_send_opts so = {.image = src,
                              .tenant = o->tenant,
                              .zstd_level = o->zstd_level,
                              .progress = show_progress,
                              .progress_arg = &pg};
    struct ds_sync_stats st;
    int rc = ds_send(&so, fd_in, fd_out, &st);
    AUTOFREE char *msg = rc < 0 ? xstrdup(err_msg()) : NULL;
    close(fd_in);
    int status = 0;
    waitpid(pid, &status, 0);
    if (pg.tty)
        fprintf(stderr, "\n");
    if (rc < 0) {
        err_set("%s", msg);
        return cli_fail();
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        err_set("the destination process failed (status %d)", status);
        return cli_fail();
    }
    double secs = (double)(clock_mono_ms(&pg.clk) - pg.t0_ms) / 1000.0;
    if (o->json) {
        print_json(&st, secs);
        return 0;
    }
    uint64_t wire = st.wire_bytes_sent + st.wire_bytes_received;
    printf("%s -> %s: %.1f MiB image, %.2f MiB on the wire (%.2f%%), %llu blocks sent, "
           "%llu matched locally, %llu duplicates, %llu zero, %llu resumed, %.2f s\n",
           src, dest, st.image_bytes / 1048576.0, wire / 1048576.0,
           st.image_bytes ? 100.0 * (double)wire / (double)st.image_bytes : 0.0,
           (unsigned long long)st.missing_blocks, (unsigned long long)st.matched_blocks,
           (unsigned long long)st.duplicate_blocks, (unsigned long long)st.zero_blocks,
           (unsigned long long)st.resumed_blocks, secs);
    return 0;
}

static int run(int argc, char **argv)
{
    struct sync_opts o = {.tenant = "default", .ssh = "ssh"};
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (ds_tenant_check(o.tenant) < 0)
        return cli_fail();
    /* A receiver that went away must be an error message, not a silent SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    if (o.serve) {
        struct ds_recv_opts ro = {.dest = argv[optind],
                                  .index_dir = o.index,
                                  .tenant = o.tenant,
                                  .sample_shift = 3,
                                  .max_image_bytes = o.max_bytes};
        struct ds_sync_stats st;
        return ds_receive(&ro, STDIN_FILENO, STDOUT_FILENO, &st) < 0 ? cli_fail() : 0;
    }
    return run_send(&o, argv[optind], argv[optind + 1]);
}

const struct cli_command cli_cmd_disk_sync = {
    .name = "disk-sync",
    .summary = "send a disk image by 4 KiB block dedup (local path or HOST:PATH over ssh)",
    .run = run,
};
