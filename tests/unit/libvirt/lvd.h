/* lvd: start a private, unprivileged libvirtd for a test — session mode, every
 * path under a temp dir, a UNIX socket only (no network listener), run as
 * nobody when the test runs as root — and remove it all afterwards. */
#ifndef ARAS_TEST_LVD_H
#define ARAS_TEST_LVD_H

#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LVD_LIBVIRTD "/usr/sbin/libvirtd"
#define LVD_NOBODY   65534

struct lvd {
    char dir[64];
    char uri[256]; /* <driver>+unix:///<path>?socket=... */
    pid_t pid;
    char qemu_pidfile[192]; /* where a session QEMU guest "g1" leaves its pid */
};

/* Async-signal-safe last resort (for a test killed at its timeout): SIGKILL
 * the daemon and the guest whose pid it wrote (a session libvirtd leaves
 * its QEMU guests running when it exits). The directory stays behind. */
static inline void lvd_emergency_kill(const struct lvd *d)
{
    int fd = open(d->qemu_pidfile, O_RDONLY);
    if (fd >= 0) {
        char buf[16];
        ssize_t n = read(fd, buf, sizeof(buf));
        close(fd);
        pid_t pid = 0;
        for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
            pid = pid * 10 + (buf[i] - '0');
        if (pid > 1)
            kill(pid, SIGKILL);
    }
    if (d->pid > 0)
        kill(-d->pid, SIGKILL); /* the daemon and e.g. its capability-probe QEMUs */
}

static inline void lvd_quiet(void *opaque, virErrorPtr e)
{
    (void)opaque;
    (void)e;
}

static inline int lvd_mkdir(const char *dir, const char *sub)
{
    char p[160];
    snprintf(p, sizeof(p), "%s/%s", dir, sub);
    if (mkdir(p, 0700) < 0)
        return -1;
    return geteuid() == 0 ? chown(p, LVD_NOBODY, LVD_NOBODY) : 0;
}

/* Write dir/cfg/libvirt/<name> with text. */
static inline int lvd_conf(const struct lvd *d, const char *name, const char *text)
{
    char p[192];
    snprintf(p, sizeof(p), "%s/cfg/libvirt/%s", d->dir, name);
    FILE *f = fopen(p, "w");
    if (!f)
        return -1;
    fputs(text, f);
    fclose(f);
    return geteuid() == 0 ? chown(p, LVD_NOBODY, LVD_NOBODY) : 0;
}

/* Async-signal-safe removal of a killed daemon's directory (_Fork + exec rm;
 * plain fork() runs atfork handlers and is not safe in a signal handler). */
static inline void lvd_emergency_rm(struct lvd *d)
{
    if (!d->dir[0])
        return;
    pid_t pid = _Fork();
    if (pid == 0) {
        char a0[] = "rm", a1[] = "-rf";
        char *argv[] = {a0, a1, d->dir, NULL};
        char *envp[] = {NULL};
        execve("/bin/rm", argv, envp);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

/* Make the directories; driver_path is e.g. "test:///default" -> uri
 * "test+unix:///default?socket=...". 0 or -1. */
static inline int lvd_init(struct lvd *d, const char *driver, const char *path)
{
    virSetErrorFunc(NULL, lvd_quiet); /* probing connects fail until it is up */
    d->pid = -1;
    snprintf(d->dir, sizeof(d->dir), "/tmp/aras-lvd-XXXXXX");
    if (!mkdtemp(d->dir))
        return -1;
    if (geteuid() == 0 && chown(d->dir, LVD_NOBODY, LVD_NOBODY) < 0)
        return -1;
    if (lvd_mkdir(d->dir, "home") < 0 || lvd_mkdir(d->dir, "run") < 0 ||
        lvd_mkdir(d->dir, "cfg") < 0 || lvd_mkdir(d->dir, "cfg/libvirt") < 0 ||
        lvd_mkdir(d->dir, "cache") < 0 || lvd_mkdir(d->dir, "pool") < 0)
        return -1;
    snprintf(d->uri, sizeof(d->uri), "%s+unix://%s?socket=%s/run/libvirt/libvirt-sock", driver,
             path, d->dir);
    snprintf(d->qemu_pidfile, sizeof(d->qemu_pidfile), "%s/run/libvirt/qemu/run/g1.pid", d->dir);
    return 0;
}

/* Start the daemon and wait (up to 20 s) until it answers. 0 or -1. */
static inline int lvd_start(struct lvd *d)
{
    char env[4][96], log[128];
    snprintf(env[0], sizeof(env[0]), "HOME=%s/home", d->dir);
    snprintf(env[1], sizeof(env[1]), "XDG_RUNTIME_DIR=%s/run", d->dir);
    snprintf(env[2], sizeof(env[2]), "XDG_CONFIG_HOME=%s/cfg", d->dir);
    snprintf(env[3], sizeof(env[3]), "XDG_CACHE_HOME=%s/cache", d->dir);
    snprintf(log, sizeof(log), "%s/libvirtd.log", d->dir);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0); /* its own group, so helpers it spawns can be killed with it */
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (geteuid() == 0 &&
            (setgroups(0, NULL) < 0 || setgid(LVD_NOBODY) < 0 || setuid(LVD_NOBODY) < 0))
            _exit(126);
        /* --timeout: it exits by itself should the test die without stopping it. */
        char a0[] = "libvirtd", a1[] = "--timeout", a2[] = "300";
        char path[] = "PATH=/usr/sbin:/usr/bin";
        char *argv[] = {a0, a1, a2, NULL};
        char *envp[] = {env[0], env[1], env[2], env[3], path, NULL};
        execve(LVD_LIBVIRTD, argv, envp);
        _exit(127);
    }
    if (pid < 0)
        return -1;
    d->pid = pid;
    for (int i = 0; i < 400; i++) {
        virConnectPtr c = virConnectOpen(d->uri);
        if (c) {
            virConnectClose(c);
            return 0;
        }
        virResetLastError();
        usleep(50000);
    }
    return -1;
}

static inline void lvd_stop(struct lvd *d)
{
    if (d->pid <= 0)
        return;
    kill(d->pid, SIGTERM);
    int st;
    for (int i = 0; i < 100 && waitpid(d->pid, &st, WNOHANG) == 0; i++)
        usleep(50000);
    if (waitpid(d->pid, &st, WNOHANG) == 0) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, &st, 0);
    }
    d->pid = -1;
}

static inline int lvd_rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

/* Stop the daemon and remove its directory. */
static inline void lvd_destroy(struct lvd *d)
{
    lvd_stop(d);
    if (d->dir[0])
        nftw(d->dir, lvd_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    d->dir[0] = '\0';
}

#endif
