/* writer: known write patterns for the exact-capture test of aras-dirtytrace.
 *
 * Usage: writer INFO_FILE. Maps a private anonymous region A (32 pages) and a
 * MAP_SHARED memfd S (16 pages), waits until the tracer has registered them
 * ("uw" in /proc/self/smaps), then runs phases separated by idle gaps:
 *   1 first touch: A[0..7], S[0..3]
 *   2 read-only pass over all of A and S (no writes)
 *   3 rewrite + first touch after a read: A[0], A[2], A[4], A[20], S[1], S[10]
 *   4 a forked child (once traced itself) writes A[5], A[6] (its copy), S[2]
 *   5 A[31], S[15]
 * INFO_FILE gets "A <address hex>" and "S <memfd inode>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE   4096
#define GAP_MS 400

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* True when the mapping at addr carries VmFlags "uw" (uffd-wp registered). */
static int registered(const void *addr)
{
    FILE *f = fopen("/proc/self/smaps", "re");
    char line[512];
    int in = 0, found = 0;
    unsigned long want = (unsigned long)addr;
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            in = lo <= want && want < hi;
        else if (in && strncmp(line, "VmFlags:", 8) == 0 && strstr(line, " uw"))
            found = 1;
    }
    if (f)
        fclose(f);
    return found;
}

static void wait_registered(const void *a, const void *b)
{
    for (int i = 0; i < 1000 && !(registered(a) && (!b || registered(b))); i++)
        sleep_ms(10);
    sleep_ms(200); /* the tracer's baseline scan follows the registration */
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    volatile char *a =
        mmap(NULL, 32 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int fd = memfd_create("aras-test-shared", 0);
    if (a == MAP_FAILED || fd < 0 || ftruncate(fd, 16 * PAGE) < 0)
        return 1;
    volatile char *s = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    struct stat st;
    if (s == MAP_FAILED || fstat(fd, &st) < 0)
        return 1;
    FILE *info = fopen(argv[1], "w");
    if (!info)
        return 1;
    fprintf(info, "A %lx\nS %lu\n", (unsigned long)a, (unsigned long)st.st_ino);
    fclose(info);
    wait_registered((const void *)a, (const void *)s);

    for (int i = 0; i < 8; i++)
        a[i * PAGE] = 1;
    for (int i = 0; i < 4; i++)
        s[i * PAGE] = 1;
    sleep_ms(GAP_MS);

    unsigned sum = 0;
    for (int i = 0; i < 32; i++)
        sum += (unsigned char)a[i * PAGE + 7];
    for (int i = 0; i < 16; i++)
        sum += (unsigned char)s[i * PAGE + 7];
    sleep_ms(GAP_MS);

    a[0] = 2, a[2 * PAGE] = 2, a[4 * PAGE] = 2, a[20 * PAGE] = 2;
    s[1 * PAGE] = 2, s[10 * PAGE] = 2;
    sleep_ms(GAP_MS);

    pid_t child = fork();
    if (child == 0) {
        wait_registered((const void *)a, NULL);
        a[5 * PAGE] = 3, a[6 * PAGE] = 3;
        s[2 * PAGE] = 3;
        sleep_ms(GAP_MS); /* stay alive until the writes are scanned */
        _exit(0);
    }
    int status;
    if (child < 0 || waitpid(child, &status, 0) < 0 || status != 0)
        return 1;
    sleep_ms(GAP_MS);

    a[31 * PAGE] = 4;
    s[15 * PAGE] = 4;
    sleep_ms(GAP_MS);
    return sum == 12345678 ? 3 : 0; /* keep the reads */
}
