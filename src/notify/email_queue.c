/* email_queue: the persistent e-mail spool — one file per message written
 * atomically, exponential back-off on failure, removal only after the server
 * accepted the message, bounded by dropping the oldest (see notify.h). */
#include "notify/notify.h"

#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPOOL_NAME_MAX 48
#define SPOOL_MSG_MAX  (1024 * 1024) /* larger files in the spool are not ours */
#define TMP_PREFIX     ".tmp-"

struct spool_msg {
    char name[SPOOL_NAME_MAX]; /* "<t_ms>-<seq>.eml", zero-padded: name order = age order */
    unsigned failures;
    int64_t due_ms;
    bool sending;
};

struct notify_spool {
    char *dir;
    size_t max_msgs;
    int64_t base_ms, max_ms;
    pthread_mutex_t mu;
    struct spool_msg *v; /* sorted by name */
    size_t n, cap;
    uint64_t next_seq;
};

int64_t notify_spool_backoff_ms(int64_t base_ms, int64_t max_ms, unsigned n)
{
    int64_t d = base_ms;
    for (unsigned i = 1; i < n && d < max_ms; i++)
        d *= 2;
    return d < max_ms ? d : max_ms;
}

static int cmp_msg(const void *a, const void *b)
{
    return strcmp(((const struct spool_msg *)a)->name, ((const struct spool_msg *)b)->name);
}

static char *spool_path(const struct notify_spool *s, const char *name)
{
    return xasprintf("%s/%s", s->dir, name);
}

/* "<13 digits>-<digits>.eml": returns the sequence number, or -1 if not ours. */
static int64_t parse_name(const char *name)
{
    size_t i = 0;
    int64_t seq = 0;
    while (i < 13 && name[i] >= '0' && name[i] <= '9')
        i++;
    if (i != 13 || name[i++] != '-')
        return -1;
    size_t start = i;
    while (name[i] >= '0' && name[i] <= '9' && i - start < 12)
        seq = seq * 10 + (name[i++] - '0');
    if (i == start || strcmp(name + i, ".eml") != 0)
        return -1;
    return seq;
}

/* Remove entry i (mutex held). */
static void msg_remove_at(struct notify_spool *s, size_t i)
{
    memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(s->v[0]));
    s->n--;
}

/* Drop the oldest messages until there is room for `extra` more (mutex held). */
static void spool_trim(struct notify_spool *s, size_t extra)
{
    while (s->n > 0 && s->n + extra > s->max_msgs) {
        AUTOFREE char *path = spool_path(s, s->v[0].name);
        log_warn("notify", "e-mail spool %s full (%zu messages): dropping the oldest, %s", s->dir,
                 s->max_msgs, s->v[0].name);
        if (unlink(path) < 0 && errno != ENOENT)
            log_warn("notify", "e-mail spool: cannot remove %s: %s", path, strerror(errno));
        msg_remove_at(s, 0);
    }
}

static int spool_load(struct notify_spool *s, int64_t now_ms)
{
    DIR *d = opendir(s->dir);
    if (!d)
        return err_set_errno("e-mail spool %s", s->dir);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
            /* A write interrupted before its rename: the message was never
             * accepted by notify_spool_add, so it is not lost by removing it. */
            unlinkat(dirfd(d), de->d_name, 0);
            continue;
        }
        int64_t seq = parse_name(de->d_name);
        if (seq < 0)
            continue;
        xgrow((void **)&s->v, &s->cap, s->n + 1, sizeof(s->v[0]));
        struct spool_msg *m = &s->v[s->n++];
        memset(m, 0, sizeof(*m));
        notify_field_set(m->name, sizeof(m->name), de->d_name);
        m->due_ms = now_ms;
        if ((uint64_t)seq >= s->next_seq)
            s->next_seq = (uint64_t)seq + 1;
    }
    closedir(d);
    /* An empty spool has no array at all; qsort must not be given NULL. */
    if (s->n > 1)
        qsort(s->v, s->n, sizeof(s->v[0]), cmp_msg);
    return 0;
}

struct notify_spool *notify_spool_open(const struct notify_spool_conf *c, int64_t now_ms)
{
    if (!c->dir || !c->dir[0]) {
        err_set("e-mail spool: no directory configured");
        return NULL;
    }
    if (mkdir(c->dir, 0700) < 0 && errno != EEXIST) {
        err_set_errno("e-mail spool %s: mkdir", c->dir);
        return NULL;
    }
    struct notify_spool *s = xcalloc(1, sizeof(*s));
    s->dir = xstrdup(c->dir);
    s->max_msgs = c->max_msgs ? c->max_msgs : 1000;
    s->base_ms = c->retry_base_ms > 0 ? c->retry_base_ms : 30000;
    s->max_ms = c->retry_max_ms > 0 ? c->retry_max_ms : 3600000;
    if (s->max_ms < s->base_ms)
        s->max_ms = s->base_ms;
    pthread_mutex_init(&s->mu, NULL);
    if (spool_load(s, now_ms) < 0) {
        notify_spool_free(s);
        return NULL;
    }
    spool_trim(s, 0);
    if (s->n)
        log_info("notify", "e-mail spool %s: %zu message(s) waiting from before", s->dir, s->n);
    return s;
}

void notify_spool_free(struct notify_spool *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s->v);
    free(s->dir);
    free(s);
}

/* Write a file atomically: tmp + fsync + rename + fsync of the directory. */
static int write_atomic(const char *dir, const char *name, const char *data, size_t len)
{
    AUTOFREE char *tmp = xasprintf("%s/" TMP_PREFIX "%s", dir, name);
    AUTOFREE char *path = xasprintf("%s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set_errno("e-mail spool: create %s", tmp);
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_set_errno("e-mail spool: write %s", tmp);
            goto fail;
        }
        off += (size_t)n;
    }
    if (fsync(fd) < 0) {
        err_set_errno("e-mail spool: fsync %s", tmp);
        goto fail;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) < 0) {
        err_set_errno("e-mail spool: rename %s", tmp);
        goto fail;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* the rename itself must survive a crash too */
        fsync(dfd);
        close(dfd);
    }
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return -1;
}

int notify_spool_add(struct notify_spool *s, const char *msg, size_t len, int64_t t_ms,
                     int64_t now_ms)
{
    if (len > SPOOL_MSG_MAX)
        return err_set("e-mail spool: message of %zu bytes is over the %d byte limit", len,
                       SPOOL_MSG_MAX);
    if (t_ms < 0)
        t_ms = 0;
    if (t_ms > 9999999999999)
        t_ms = 9999999999999;
    pthread_mutex_lock(&s->mu);
    struct spool_msg m = {.due_ms = now_ms};
    snprintf(m.name, sizeof(m.name), "%013" PRId64 "-%010" PRIu64 ".eml", t_ms, s->next_seq++);
    pthread_mutex_unlock(&s->mu);
    /* The write (with its fsyncs) runs unlocked: flush may be mid-send. */
    if (write_atomic(s->dir, m.name, msg, len) < 0)
        return -1;
    pthread_mutex_lock(&s->mu);
    spool_trim(s, 1);
    xgrow((void **)&s->v, &s->cap, s->n + 1, sizeof(s->v[0]));
    size_t i = s->n;
    while (i > 0 && strcmp(s->v[i - 1].name, m.name) > 0)
        i--;
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(s->v[0]));
    s->v[i] = m;
    s->n++;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static ssize_t find_locked(struct notify_spool *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return (ssize_t)i;
    return -1;
}

/* Read a spool file whole (bounded). NULL with err_set(). */
static char *read_msg(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_set_errno("e-mail spool: open %s", path);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size > SPOOL_MSG_MAX) {
        close(fd);
        err_set("e-mail spool: %s is unreadable or over %d bytes", path, SPOOL_MSG_MAX);
        return NULL;
    }
    char *buf = xmalloc((size_t)st.st_size + 1);
    size_t off = 0;
    while (off < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    close(fd);
    buf[off] = '\0';
    *len = off;
    return buf;
}

/* Pick the oldest due message that is not being sent; marks it (mutex held). */
static bool pick_due(struct notify_spool *s, int64_t now_ms, char *name, size_t cap)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!s->v[i].sending && s->v[i].due_ms <= now_ms) {
            s->v[i].sending = true;
            notify_field_set(name, cap, s->v[i].name);
            return true;
        }
    }
    return false;
}

/* After a send attempt: remove on success, reschedule on failure. */
static void settle(struct notify_spool *s, const char *name, int ok, int64_t now_ms)
{
    AUTOFREE char *path = spool_path(s, name);
    pthread_mutex_lock(&s->mu);
    ssize_t i = find_locked(s, name);
    if (ok) {
        if (unlink(path) < 0 && errno != ENOENT)
            log_warn("notify", "e-mail spool: sent but cannot remove %s: %s", path,
                     strerror(errno));
        if (i >= 0)
            msg_remove_at(s, (size_t)i);
    } else if (i >= 0) {
        struct spool_msg *m = &s->v[i];
        m->sending = false;
        m->failures++;
        m->due_ms = now_ms + notify_spool_backoff_ms(s->base_ms, s->max_ms, m->failures);
        log_warn("notify", "e-mail %s not delivered (attempt %u): %s; next try in %" PRId64 " ms",
                 name, m->failures, err_msg(), m->due_ms - now_ms);
        /* The others that are due now share the server's fate: they wait as
         * long (without counting a failure of their own) instead of each
         * costing a connection attempt right away. */
        for (size_t k = 0; k < s->n; k++)
            if (!s->v[k].sending && s->v[k].due_ms <= now_ms)
                s->v[k].due_ms = m->due_ms;
    }
    pthread_mutex_unlock(&s->mu);
}

size_t notify_spool_flush(struct notify_spool *s, notify_send_fn send, void *ctx, int64_t now_ms)
{
    size_t sent = 0;
    for (;;) {
        char name[SPOOL_NAME_MAX];
        pthread_mutex_lock(&s->mu);
        bool found = pick_due(s, now_ms, name, sizeof(name));
        pthread_mutex_unlock(&s->mu);
        if (!found)
            break;
        AUTOFREE char *path = spool_path(s, name);
        size_t len = 0;
        AUTOFREE char *msg = read_msg(path, &len);
        if (!msg) { /* dropped meanwhile, or damaged: nothing to retry */
            log_warn("notify", "%s", err_msg());
            settle(s, name, 1, now_ms);
            continue;
        }
        if (send(ctx, msg, len) == 0) {
            settle(s, name, 1, now_ms);
            sent++;
            continue;
        }
        settle(s, name, 0, now_ms);
        /* The server is likely down: one failed connection per flush is enough;
         * settle() moved the other due messages to the same retry time. */
        break;
    }
    return sent;
}

size_t notify_spool_count(struct notify_spool *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int64_t notify_spool_next_due_ms(struct notify_spool *s)
{
    int64_t due = INT64_MAX;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].due_ms < due)
            due = s->v[i].due_ms;
    pthread_mutex_unlock(&s->mu);
    return due;
}
