/* linkemu: a userspace link emulator relaying Ethernet frames between two TAP devices,
 * with one-way delay, a link rate, a queue limit and per-flow fair queuing.
 *
 * This kernel has no sch_netem, so the testbed puts a linkemu between each host's WAN
 * interface and the WAN bridge. Each direction is a struct shaper (fq -> serialiser ->
 * delay line). Fair queuing keeps libvirt's keepalives alive beside a migration stream
 * that saturates the link (a shared FIFO starved them and the migration died).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flow.h"
#include "shaper.h"
#include "tap.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#define READ_BATCH 64

struct linkemu_opts {
    double delay_ms;
    double rate_bytes_per_s; /* 0: unlimited */
    uint64_t limit_bytes;
    uint64_t flows;
    uint64_t quantum_bytes;
    const char *ready_file;
    const char *side[2];
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t stats_requested;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        stats_requested = 1;
    else
        stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: linkemu [OPTIONS] A B\n"
            "Relay Ethernet frames between TAP devices A and B (created if absent; they\n"
            "vanish when linkemu exits). A and B are IFNAME or NSPATH:IFNAME to open the\n"
            "device in another network namespace (e.g. /proc/1234/ns/net:wan0).\n"
            "Each direction: per-flow fair queue (DRR over a 5-tuple hash) with a byte limit\n"
            "-> serialisation at the link rate -> fixed one-way delay.\n"
            "\n"
            "  --delay-ms MS      one-way delay per direction, decimal ms (default 0)\n"
            "  --rate RATE        link rate per direction, e.g. 100Mbit, 1Gbit, 12MB/s\n"
            "                     (default: unlimited)\n"
            "  --limit SIZE       queue limit per direction, e.g. 1M (default 1M); on overflow\n"
            "                     frames are dropped from the flow with the most queued bytes\n"
            "  --flows N          flow buckets (default 1024)\n"
            "  --quantum BYTES    DRR quantum (default 1514)\n"
            "  --ready-file PATH  create PATH once both devices are open\n"
            "  -h, --help         this text\n"
            "SIGUSR1 prints counters to stderr; SIGTERM/SIGINT stop (counters printed).\n");
}

static int opts_parse(int argc, char **argv, struct linkemu_opts *o)
{
    static const struct option longopts[] = {
        {"delay-ms", required_argument, NULL, 'd'}, {"rate", required_argument, NULL, 'r'},
        {"limit", required_argument, NULL, 'l'},    {"flows", required_argument, NULL, 'f'},
        {"quantum", required_argument, NULL, 'q'},  {"ready-file", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    int c;

    *o = (struct linkemu_opts){.limit_bytes = 1 << 20, .flows = 1024, .quantum_bytes = 1514};
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        const char *name = "option";
        int rc = 0;
        for (size_t i = 0; longopts[i].name; i++)
            if (longopts[i].val == c)
                name = longopts[i].name;
        switch (c) {
        case 'd':
            rc = parse_double(optarg, 0, 3600e3, &o->delay_ms);
            break;
        case 'r':
            rc = parse_rate_bytes_per_s(optarg, &o->rate_bytes_per_s);
            break;
        case 'l':
            rc = parse_size_bytes(optarg, &o->limit_bytes);
            break;
        case 'f':
            rc = parse_uint64(optarg, 1 << 20, &o->flows);
            break;
        case 'q':
            rc = parse_uint64(optarg, 1 << 20, &o->quantum_bytes);
            break;
        case 'R':
            o->ready_file = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return err_set("bad option");
        }
        if (rc < 0)
            return err_prefix("--%s", name);
    }
    if (argc - optind != 2) {
        usage(stderr);
        return err_set("expected two devices A and B, got %d arguments", argc - optind);
    }
    if (o->flows == 0 || o->quantum_bytes == 0)
        return err_set("--flows and --quantum must be positive");
    o->side[0] = argv[optind];
    o->side[1] = argv[optind + 1];
    return 0;
}

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void stats_print(const struct linkemu_opts *o, const struct shaper dir[2],
                        const uint64_t write_drops[2])
{
    for (int d = 0; d < 2; d++)
        fprintf(stderr,
                "linkemu: %s -> %s: %llu frames %llu bytes sent, %llu dropped (queue), %llu "
                "dropped (write), %zu queued\n",
                o->side[d], o->side[1 - d], (unsigned long long)dir[d].sent_frames,
                (unsigned long long)dir[d].sent_bytes, (unsigned long long)dir[d].queue.dropped,
                (unsigned long long)write_drops[d], dir[d].queue.frames);
}

/* Read up to READ_BATCH frames from fd into shaper s. */
static void relay_in(int fd, struct shaper *s, unsigned char *buf)
{
    for (int n = 0; n < READ_BATCH; n++) {
        ssize_t len = read(fd, buf, PKT_MAX_BYTES);
        if (len <= 0)
            return;
        struct pkt *p = pkt_new(buf, (size_t)len);
        p->flow = flow_hash(p->data, p->len);
        shaper_push(s, p, mono_ns());
    }
}

/* Write every frame of s that is due to fd. */
static void relay_out(int fd, struct shaper *s, uint64_t *write_drops)
{
    struct pkt *p;
    int64_t now = mono_ns();

    shaper_run(s, now);
    while ((p = shaper_pop_due(s, now))) {
        if (write(fd, p->data, p->len) < 0)
            (*write_drops)++;
        free(p);
        shaper_run(s, now);
    }
}

static void relay_loop(const struct linkemu_opts *o, const int fd[2], struct shaper dir[2])
{
    static unsigned char buf[PKT_MAX_BYTES];
    uint64_t write_drops[2] = {0, 0};
    sigset_t waitmask;

    sigemptyset(&waitmask);
    while (!stop_requested) {
        struct pollfd pfd[2] = {{.fd = fd[0], .events = POLLIN}, {.fd = fd[1], .events = POLLIN}};
        int64_t next = INT64_MAX, now;
        struct timespec ts, *tsp = NULL;

        /* dir[0] carries A -> B (written to fd[1]), dir[1] carries B -> A. */
        relay_out(fd[1], &dir[0], &write_drops[0]);
        relay_out(fd[0], &dir[1], &write_drops[1]);
        for (int d = 0; d < 2; d++) {
            int64_t t = shaper_next_ns(&dir[d]);
            next = t < next ? t : next;
        }
        now = mono_ns();
        if (next != INT64_MAX) {
            int64_t wait = next > now ? next - now : 0;
            ts.tv_sec = wait / 1000000000;
            ts.tv_nsec = wait % 1000000000;
            tsp = &ts;
        }
        if (ppoll(pfd, 2, tsp, &waitmask) < 0 && errno != EINTR) {
            perror("linkemu: ppoll");
            break;
        }
        if (stats_requested) {
            stats_requested = 0;
            stats_print(o, dir, write_drops);
        }
        for (int d = 0; d < 2; d++)
            if (pfd[d].revents & POLLIN)
                relay_in(fd[d], &dir[d], buf);
    }
    stats_print(o, dir, write_drops);
}

static int signals_setup(void)
{
    struct sigaction sa;
    sigset_t block;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&block);
    for (int s = 0; s < 4; s++) {
        static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
        if (sigaction(sigs[s], &sa, NULL) < 0)
            return err_set_errno("sigaction");
        sigaddset(&block, sigs[s]);
    }
    /* Signals only interrupt ppoll (which unblocks them), so none is lost between checks. */
    if (sigprocmask(SIG_BLOCK, &block, NULL) < 0)
        return err_set_errno("sigprocmask");
    return 0;
}

int main(int argc, char **argv)
{
    struct linkemu_opts o;
    struct shaper dir[2];
    int fd[2];

    if (opts_parse(argc, argv, &o) < 0 || signals_setup() < 0) {
        fprintf(stderr, "linkemu: %s\n", err_msg());
        return 2;
    }
    for (int s = 0; s < 2; s++) {
        fd[s] = tap_open(o.side[s]);
        if (fd[s] < 0) {
            fprintf(stderr, "linkemu: %s\n", err_msg());
            return 1;
        }
    }
    for (int d = 0; d < 2; d++)
        shaper_init(&dir[d], o.rate_bytes_per_s, (int64_t)(o.delay_ms * 1e6), o.limit_bytes,
                    (uint32_t)o.flows, o.quantum_bytes);
    if (o.ready_file) {
        int rfd = open(o.ready_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (rfd < 0) {
            fprintf(stderr, "linkemu: ready file %s: %s\n", o.ready_file, strerror(errno));
            return 1;
        }
        close(rfd);
    }
    relay_loop(&o, fd, dir);
    for (int d = 0; d < 2; d++)
        shaper_fini(&dir[d]);
    close(fd[0]);
    close(fd[1]);
    return 0;
}
