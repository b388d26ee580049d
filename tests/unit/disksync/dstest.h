/* dstest: helpers for the disksync tests — deterministic synthetic images, a
 * temp directory, and a local transfer through a forked receiver. */
#ifndef ARAS_TEST_DSTEST_H
#define ARAS_TEST_DSTEST_H

#include "disksync/disksync.h"
#include "util/error.h"
#include "util/mem.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A block whose bytes are a pure function of `content` (0 = all zeros). */
static inline void dst_fill_block(uint8_t *b, uint64_t content)
{
    uint64_t x = content * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < DS_BLOCK_BYTES; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(b + i, &x, 8);
    }
    if (content == 0)
        memset(b, 0, DS_BLOCK_BYTES);
}

/* Write an image of n blocks; content_of(i) gives block i's content id (0:
 * left as a hole). */
static inline int dst_make_image(const char *path, uint64_t n,
                                 uint64_t (*content_of)(uint64_t, void *), void *arg)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    uint8_t b[DS_BLOCK_BYTES];
    int rc = ftruncate(fd, (off_t)(n * DS_BLOCK_BYTES));
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        uint64_t c = content_of(i, arg);
        if (c == 0)
            continue;
        dst_fill_block(b, c);
        if (pwrite(fd, b, DS_BLOCK_BYTES, (off_t)(i * DS_BLOCK_BYTES)) != DS_BLOCK_BYTES)
            rc = -1;
    }
    close(fd);
    return rc;
}

/* A fresh temp directory; removed with dst_rmdir(). */
static inline char *dst_tmpdir(void)
{
    char *d = xstrdup("/tmp/aras-ds-test-XXXXXX");
    if (!mkdtemp(d))
        abort();
    return d;
}

static inline void dst_rmdir(const char *d)
{
    AUTOFREE char *cmd = xasprintf("rm -rf '%s'", d);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", d);
}

/* 1 if the two files have identical bytes. */
static inline int dst_same_file(const char *a, const char *b)
{
    AUTOFREE char *cmd = xasprintf("cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

/* The receiver's image size limit in dst_transfer() (0: none). */
static uint64_t dst_recv_max_bytes;

/* Run SRC -> DEST over a socket pair with the receiver in a child process.
 * `progress` (may be NULL) runs in the sender; *child_pid is set for it. */
static inline int dst_transfer(const char *src, const char *dest, const char *index_dir,
                               const char *tenant, struct ds_sync_stats *st,
                               ds_progress_fn progress, pid_t *child_pid)
{
    int sv[2];
    signal(SIGPIPE, SIG_IGN); /* a killed receiver must be an error, not a signal */
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        struct ds_recv_opts ro = {.dest = dest,
                                  .index_dir = index_dir,
                                  .tenant = tenant,
                                  .sample_shift = 3,
                                  .max_image_bytes = dst_recv_max_bytes};
        struct ds_sync_stats rst;
        int rc = ds_receive(&ro, sv[1], sv[1], &rst);
        if (rc < 0)
            fprintf(stderr, "receiver: %s\n", err_msg());
        _exit(rc < 0 ? 1 : 0);
    }
    close(sv[1]);
    if (child_pid)
        *child_pid = pid;
    struct ds_send_opts so = {
        .image = src, .tenant = tenant, .progress = progress, .progress_arg = child_pid};
    int rc = ds_send(&so, sv[0], sv[0], st);
    close(sv[0]);
    int status;
    waitpid(pid, &status, 0);
    if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        rc = err_set("receiver exited with status %d", status);
    return rc;
}

#endif
