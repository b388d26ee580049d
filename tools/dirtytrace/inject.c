/* inject: create a userfaultfd inside a traced process (ptrace syscall injection).
 *
 * A userfaultfd is bound to the address space of the process that creates it,
 * so the tool makes the target call userfaultfd(2) itself: stop it, point its
 * instruction pointer at a `syscall` instruction of its [vdso], single-step,
 * copy the new descriptor out with pidfd_getfd(2), make it close its copy, and
 * restore its registers. Registration and PAGEMAP_SCAN then work from outside.
 */
#include "dirtytrace.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

/* Address of a `syscall` (0f 05) instruction in the target's [vdso]. */
static int find_syscall_insn(pid_t pid, uint64_t *addr)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return err_set_errno("%s", path);
    char line[512];
    uint64_t lo = 0, hi = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strstr(line, "[vdso]") && sscanf(line, "%" SCNx64 "-%" SCNx64, &lo, &hi) == 2)
            break;
        lo = hi = 0;
    }
    fclose(f);
    if (hi <= lo || hi - lo > (1 << 20))
        return err_set("pid %d: no [vdso] mapping to borrow a syscall instruction from", (int)pid);
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set_errno("%s", path);
    static unsigned char buf[1 << 20];
    ssize_t n = pread(fd, buf, hi - lo, (off_t)lo);
    close(fd);
    for (ssize_t i = 0; i + 1 < n; i++) {
        if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
            *addr = lo + (uint64_t)i;
            return 0;
        }
    }
    return err_set("pid %d: no syscall instruction in [vdso]", (int)pid);
}

/* Run one system call in the stopped tracee; returns its raw result in *ret. */
static int remote_syscall(pid_t pid, const struct user_regs_struct *saved, uint64_t insn, long nr,
                          uint64_t a0, long *ret)
{
    struct user_regs_struct r = *saved;
    r.rax = (uint64_t)nr;
    r.orig_rax = (uint64_t)-1; /* no syscall-restart processing on resume */
    r.rdi = a0;
    r.rip = insn;
    if (ptrace(PTRACE_SETREGS, pid, NULL, &r) < 0)
        return err_set_errno("pid %d: PTRACE_SETREGS", (int)pid);
    if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) < 0)
        return err_set_errno("pid %d: PTRACE_SINGLESTEP", (int)pid);
    int st;
    if (waitpid(pid, &st, __WALL) < 0)
        return err_set_errno("pid %d: waitpid", (int)pid);
    if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP)
        return err_set("pid %d: unexpected stop 0x%x while injecting a syscall", (int)pid, st);
    if (ptrace(PTRACE_GETREGS, pid, NULL, &r) < 0)
        return err_set_errno("pid %d: PTRACE_GETREGS", (int)pid);
    *ret = (long)r.rax;
    return 0;
}

/* Stop a running process we do not trace yet; *pending gets a signal to re-deliver. */
static int seize_and_stop(pid_t pid, int *pending)
{
    *pending = 0;
    if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0)
        return err_set_errno("pid %d: PTRACE_SEIZE (ptrace attach)", (int)pid);
    if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0)
        return err_set_errno("pid %d: PTRACE_INTERRUPT", (int)pid);
    int st;
    if (waitpid(pid, &st, __WALL) < 0)
        return err_set_errno("pid %d: waitpid", (int)pid);
    if (!WIFSTOPPED(st))
        return err_set("pid %d: exited while being attached", (int)pid);
    if ((st >> 16) != PTRACE_EVENT_STOP)
        *pending = WSTOPSIG(st); /* a signal-delivery stop came first */
    return 0;
}

static int pidfd_dup(pid_t pid, int remote_fd, int *out)
{
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd < 0)
        return err_set_errno("pid %d: pidfd_open", (int)pid);
    int fd = (int)syscall(SYS_pidfd_getfd, pfd, remote_fd, 0);
    close(pfd);
    if (fd < 0)
        return err_set_errno("pid %d: pidfd_getfd", (int)pid);
    *out = fd;
    return 0;
}

static int inject_stopped(pid_t pid, int *out_fd)
{
    struct user_regs_struct saved;
    uint64_t insn = 0;
    if (ptrace(PTRACE_GETREGS, pid, NULL, &saved) < 0)
        return err_set_errno("pid %d: PTRACE_GETREGS", (int)pid);
    if (find_syscall_insn(pid, &insn) < 0)
        return -1;
    long fd = -1;
    int rc = remote_syscall(pid, &saved, insn, SYS_userfaultfd,
                            O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY, &fd);
    if (rc == 0 && fd == -EINVAL) /* kernels without UFFD_USER_MODE_ONLY */
        rc = remote_syscall(pid, &saved, insn, SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK, &fd);
    if (rc == 0 && fd < 0)
        rc = err_set("pid %d: userfaultfd(2) in the target failed: %s (needs "
                     "CONFIG_USERFAULTFD and the privilege to use it)",
                     (int)pid, strerror((int)-fd));
    if (rc == 0) {
        rc = pidfd_dup(pid, (int)fd, out_fd);
        long ignored;
        if (remote_syscall(pid, &saved, insn, SYS_close, (uint64_t)fd, &ignored) < 0)
            rc = -1;
    }
    if (ptrace(PTRACE_SETREGS, pid, NULL, &saved) < 0 && rc == 0)
        rc = err_set_errno("pid %d: restoring registers", (int)pid);
    return rc;
}

int dt_inject_uffd(pid_t pid, bool traced, int *out_fd)
{
    int pending = 0;
    *out_fd = -1;
    if (!traced && seize_and_stop(pid, &pending) < 0) {
        ptrace(PTRACE_DETACH, pid, NULL, NULL);
        return -1;
    }
    int rc = inject_stopped(pid, out_fd);
    ptrace(PTRACE_DETACH, pid, NULL, (void *)(intptr_t)pending);
    if (rc < 0 && *out_fd >= 0) {
        close(*out_fd);
        *out_fd = -1;
    }
    return rc;
}

int dt_uffd_api(int uffd)
{
    struct uffdio_api api = {.api = UFFD_API,
                             .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED};
    if (ioctl(uffd, UFFDIO_API, &api) == 0)
        return 0;
    int e = errno;
    /* Ask the kernel what it has, to name the missing feature. */
    struct uffdio_api probe = {.api = UFFD_API, .features = 0};
    if (ioctl(uffd, UFFDIO_API, &probe) == 0) {
        if (!(probe.features & UFFD_FEATURE_WP_ASYNC))
            return err_set("kernel lacks UFFD_FEATURE_WP_ASYNC (userfaultfd asynchronous "
                           "write-protect, Linux >= 6.7)");
        if (!(probe.features & UFFD_FEATURE_WP_UNPOPULATED))
            return err_set("kernel lacks UFFD_FEATURE_WP_UNPOPULATED (Linux >= 6.4)");
    }
    return err_set("UFFDIO_API with WP_ASYNC|WP_UNPOPULATED: %s", strerror(e));
}
