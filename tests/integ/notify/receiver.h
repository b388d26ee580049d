/* receiver: start and stop the real receivers (aiosmtpd, snmptrapd) that the
 * notifier integration tests talk to, and small file helpers. Header-only,
 * test code. */
#ifndef ARAS_TEST_NOTIFY_RECEIVER_H
#define ARAS_TEST_NOTIFY_RECEIVER_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline void rx_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Start argv[0] (absolute) with stdout/stderr to log_path; returns the pid. */
static inline pid_t rx_spawn(const char *const argv[], const char *log_path)
{
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(log_path, "a", stdout);
        if (f)
            dup2(fileno(f), 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static inline void rx_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        rx_sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Whole file as a string (NULL if missing). */
static inline char *rx_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        fwrite(tmp, 1, n, m);
    fclose(f);
    fclose(m);
    return buf;
}

/* Wait up to timeout_ms for a file to exist and contain `needle` (NULL: any). */
static inline bool rx_wait_file(const char *path, const char *needle, long timeout_ms)
{
    for (long t = 0; t < timeout_ms; t += 50) {
        char *s = rx_read_file(path);
        bool ok = s && (!needle || strstr(s, needle));
        free(s);
        if (ok)
            return true;
        rx_sleep_ms(50);
    }
    return false;
}

static inline int rx_count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    size_t sl = strlen(suffix);
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] != '.' && l >= sl && strcmp(de->d_name + l - sl, suffix) == 0)
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

static inline void rx_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
            continue;
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rx_remove_tree(p);
        else
            unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

#endif
