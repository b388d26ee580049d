/* arasload: the testbed guest's workload generator (CPU burner, memory dirtier,
 * disk writer, network sender), a static binary inside the busybox initramfs.
 *
 * Usage (from the guest's /init, chosen by aras.workload= on the kernel command line):
 *   arasload idle
 *   arasload cpu[:PROCS]          PROCS busy loops (default 1)
 *   arasload mem:MBPS[:SIZE_MIB]  dirty MBPS MiB/s of distinct pages in a SIZE_MIB buffer (64)
 *   arasload disk[:MBPS]          write /dev/vda sequentially at MBPS MiB/s (default 2), wrapping
 *   arasload net[:MBPS]           send UDP to the gateway (aras.gw, port 9) at MBPS MiB/s (1)
 * Rates are paced in 10 ms slices; the program never exits on its own.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLICE_NS   10000000LL
#define PAGE_BYTES 4096

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Sleep until the start of the next 10 ms slice after *next_ns. */
static void pace(int64_t *next_ns)
{
    struct timespec ts;

    *next_ns += SLICE_NS;
    ts.tv_sec = *next_ns / 1000000000LL;
    ts.tv_nsec = *next_ns % 1000000000LL;
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    if (mono_ns() - *next_ns > 100 * SLICE_NS)
        *next_ns = mono_ns(); /* after a long stall (migration), do not burst */
}

/* A bounded unsigned argument: "" gives def. */
static long arg_num(const char *s, long def, long max)
{
    char *end;
    long v;

    if (!s || !*s)
        return def;
    v = strtol(s, &end, 10);
    if (*end != '\0' && *end != ':')
        return def;
    if (v < 0)
        return def;
    return v > max ? max : v;
}

static void run_cpu(long procs)
{
    volatile uint64_t x = 0;

    for (long i = 1; i < procs; i++)
        if (fork() == 0)
            break;
    for (;;)
        x++;
}

static void run_mem(long mbps, long size_mib)
{
    size_t pages = (size_t)size_mib * (1024 * 1024 / PAGE_BYTES);
    double per_slice = (double)mbps * (1024.0 * 1024.0 / PAGE_BYTES) * SLICE_NS / 1e9;
    double credit = 0;
    size_t at = 0;
    uint64_t gen = 0;
    unsigned char *buf;
    int64_t next = mono_ns();

    buf =
        mmap(NULL, pages * PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        perror("arasload: mmap");
        exit(1);
    }
    memset(buf, 1, pages * PAGE_BYTES);
    for (;;) {
        credit += per_slice;
        while (credit >= 1.0) {
            buf[at * PAGE_BYTES + (gen % PAGE_BYTES)] = (unsigned char)gen;
            credit -= 1.0;
            if (++at == pages) {
                at = 0;
                gen++;
            }
        }
        pace(&next);
    }
}

static void run_disk(long mbps)
{
    static char block[64 * 1024];
    double per_slice = (double)mbps * 1024 * 1024 * SLICE_NS / 1e9;
    double credit = 0;
    off_t size, at = 0;
    int64_t next = mono_ns();
    int fd = open("/dev/vda", O_WRONLY);

    if (fd < 0) {
        perror("arasload: /dev/vda");
        exit(1);
    }
    size = lseek(fd, 0, SEEK_END);
    memset(block, 0xa5, sizeof(block));
    for (;;) {
        credit += per_slice;
        while (credit >= (double)sizeof(block)) {
            if (at + (off_t)sizeof(block) > size)
                at = 0;
            if (pwrite(fd, block, sizeof(block), at) < 0)
                perror("arasload: write /dev/vda");
            at += (off_t)sizeof(block);
            credit -= (double)sizeof(block);
        }
        fdatasync(fd);
        pace(&next);
    }
}

static void run_net(long mbps, const char *gw)
{
    static char dgram[1400];
    double per_slice = (double)mbps * 1024 * 1024 * SLICE_NS / 1e9;
    double credit = 0;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
    int64_t next = mono_ns();
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (fd < 0 || inet_pton(AF_INET, gw, &to.sin_addr) != 1) {
        fprintf(stderr, "arasload: cannot send to '%s'\n", gw);
        exit(1);
    }
    for (;;) {
        credit += per_slice;
        while (credit >= (double)sizeof(dgram)) {
            sendto(fd, dgram, sizeof(dgram), 0, (struct sockaddr *)&to, sizeof(to));
            credit -= (double)sizeof(dgram);
        }
        pace(&next);
    }
}

int main(int argc, char **argv)
{
    const char *w = argc > 1 ? argv[1] : "idle";
    const char *gw = argc > 2 ? argv[2] : "198.18.128.1";
    const char *a1 = strchr(w, ':');
    const char *a2 = a1 ? strchr(a1 + 1, ':') : NULL;

    a1 = a1 ? a1 + 1 : NULL;
    a2 = a2 ? a2 + 1 : NULL;
    if (strncmp(w, "cpu", 3) == 0)
        run_cpu(arg_num(a1, 1, 64));
    else if (strncmp(w, "mem", 3) == 0)
        run_mem(arg_num(a1, 10, 4096), arg_num(a2, 64, 65536));
    else if (strncmp(w, "disk", 4) == 0)
        run_disk(arg_num(a1, 2, 1024));
    else if (strncmp(w, "net", 3) == 0)
        run_net(arg_num(a1, 1, 1024), gw);
    else if (strcmp(w, "idle") != 0)
        fprintf(stderr, "arasload: unknown workload '%s', idling\n", w);
    for (;;)
        pause();
}
