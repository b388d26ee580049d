/* test_spool: the e-mail spool on a virtual clock with a fake server —
 * exact back-off schedule, removal only after acceptance, restart, bound. */
#include "notify/notify.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/log.h"
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* The fake SMTP server: accepts when up, records what it accepted. */
struct fake {
    bool up;
    int attempts;
    char got[8][64];
    int n_got;
};

static int fake_send(void *ctx, const char *msg, size_t len)
{
    struct fake *f = ctx;
    f->attempts++;
    if (!f->up)
        return err_set("fake server down");
    if (f->n_got < 8)
        snprintf(f->got[f->n_got++], sizeof(f->got[0]), "%.*s", (int)len, msg);
    return 0;
}

static char *make_dir(void)
{
    char tmpl[] = "/tmp/aras-spool-XXXXXX";
    char *d = mkdtemp(tmpl);
    CHECK(d != NULL);
    return strdup(d ? d : "/tmp");
}

/* Files in dir whose name does not start with '.'. */
static int count_files(const char *dir, bool with_hidden)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
            (with_hidden || de->d_name[0] != '.'))
            n++;
    if (d)
        closedir(d);
    return n;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            unlinkat(dirfd(d), de->d_name, 0);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

TEST(backoff_formula)
{
    CHECK_INT_EQ(notify_spool_backoff_ms(1000, 8000, 1), 1000);
    CHECK_INT_EQ(notify_spool_backoff_ms(1000, 8000, 2), 2000);
    CHECK_INT_EQ(notify_spool_backoff_ms(1000, 8000, 4), 8000);
    CHECK_INT_EQ(notify_spool_backoff_ms(1000, 8000, 5), 8000);
    CHECK_INT_EQ(notify_spool_backoff_ms(1000, 8000, 1000000), 8000);
}

TEST(retry_schedule_on_virtual_clock)
{
    char *dir = make_dir();
    struct clock clk;
    clock_init_virtual(&clk, 1000000);
    struct notify_spool_conf sc = {.dir = dir, .retry_base_ms = 1000, .retry_max_ms = 8000};
    struct notify_spool *s = notify_spool_open(&sc, clock_mono_ms(&clk));
    CHECK(s != NULL);
    struct fake f = {.up = false};
    CHECK(notify_spool_add(s, "hello", 5, 1795333500123, clock_mono_ms(&clk)) == 0);
    CHECK_INT_EQ(count_files(dir, true), 1);
    /* Failures at t, then t+1 s, +2 s, +4 s, +8 s, +8 s (capped). */
    int64_t expect[] = {1000, 2000, 4000, 8000, 8000};
    for (size_t i = 0; i < 5; i++) {
        int64_t now = clock_mono_ms(&clk);
        CHECK_INT_EQ(notify_spool_flush(s, fake_send, &f, now), 0);
        CHECK_INT_EQ(f.attempts, (long long)i + 1);
        CHECK_INT_EQ(notify_spool_next_due_ms(s), now + expect[i]);
        /* Just before the due time nothing is tried. */
        CHECK_INT_EQ(notify_spool_flush(s, fake_send, &f, now + expect[i] - 1), 0);
        CHECK_INT_EQ(f.attempts, (long long)i + 1);
        clock_advance_ms(&clk, expect[i]);
    }
    CHECK_INT_EQ(notify_spool_count(s), 1);
    CHECK_INT_EQ(count_files(dir, false), 1); /* not removed while undelivered */
    f.up = true;
    CHECK_INT_EQ(notify_spool_flush(s, fake_send, &f, clock_mono_ms(&clk)), 1);
    CHECK_STR_EQ(f.got[0], "hello");
    CHECK_INT_EQ(notify_spool_count(s), 0);
    CHECK_INT_EQ(count_files(dir, true), 0);
    CHECK(notify_spool_next_due_ms(s) == INT64_MAX);
    notify_spool_free(s);
    remove_dir(dir);
    free(dir);
}

TEST(survives_restart_in_order)
{
    char *dir = make_dir();
    struct notify_spool_conf sc = {.dir = dir, .retry_base_ms = 1000};
    struct notify_spool *s = notify_spool_open(&sc, 0);
    CHECK(notify_spool_add(s, "second", 6, 2000, 0) == 0);
    CHECK(notify_spool_add(s, "first", 5, 1000, 0) == 0);
    CHECK(notify_spool_add(s, "third", 5, 2000, 0) == 0);
    notify_spool_free(s); /* "crash" with three undelivered messages */
    /* A write torn before its rename is not a message: it must go. */
    char *tmp = NULL;
    CHECK(asprintf(&tmp, "%s/.tmp-0000000000001-0000000009.eml", dir) > 0);
    int fd = open(tmp, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0);
    close(fd);
    free(tmp);
    s = notify_spool_open(&sc, 50000);
    CHECK(s != NULL);
    CHECK_INT_EQ(notify_spool_count(s), 3);
    CHECK_INT_EQ(count_files(dir, true), 3);
    CHECK_INT_EQ(notify_spool_next_due_ms(s), 50000);
    struct fake f = {.up = true};
    CHECK_INT_EQ(notify_spool_flush(s, fake_send, &f, 50000), 3);
    CHECK_STR_EQ(f.got[0], "first");
    CHECK_STR_EQ(f.got[1], "second");
    CHECK_STR_EQ(f.got[2], "third");
    /* New names continue after the highest sequence found on disk. */
    CHECK(notify_spool_add(s, "fourth", 6, 2000, 50000) == 0);
    CHECK_INT_EQ(notify_spool_flush(s, fake_send, &f, 50000), 1);
    CHECK_STR_EQ(f.got[3], "fourth");
    CHECK_INT_EQ(count_files(dir, true), 0);
    notify_spool_free(s);
    remove_dir(dir);
    free(dir);
}

TEST(bounded_drops_oldest)
{
    char *dir = make_dir();
    struct notify_spool_conf sc = {.dir = dir, .max_msgs = 2};
    struct notify_spool *s = notify_spool_open(&sc, 0);
    CHECK(notify_spool_add(s, "m1", 2, 1000, 0) == 0);
    CHECK(notify_spool_add(s, "m2", 2, 2000, 0) == 0);
    CHECK(notify_spool_add(s, "m3", 2, 3000, 0) == 0);
    CHECK_INT_EQ(notify_spool_count(s), 2);
    CHECK_INT_EQ(count_files(dir, true), 2);
    struct fake f = {.up = true};
    CHECK_INT_EQ(notify_spool_flush(s, fake_send, &f, 0), 2);
    CHECK_STR_EQ(f.got[0], "m2");
    CHECK_STR_EQ(f.got[1], "m3");
    notify_spool_free(s);
    remove_dir(dir);
    free(dir);
}

TEST(one_failure_per_flush)
{
    char *dir = make_dir();
    struct notify_spool_conf sc = {.dir = dir, .retry_base_ms = 1000};
    struct notify_spool *s = notify_spool_open(&sc, 0);
    for (int i = 0; i < 3; i++)
        CHECK(notify_spool_add(s, "m", 1, 1000 + i, 0) == 0);
    struct fake f = {.up = false};
    CHECK_INT_EQ(notify_spool_flush(s, fake_send, &f, 0), 0);
    CHECK_INT_EQ(f.attempts, 1); /* a down server costs one attempt per flush */
    /* The others wait for the same retry time, without a failure counted. */
    CHECK_INT_EQ(notify_spool_next_due_ms(s), 1000);
    CHECK_INT_EQ(notify_spool_flush(s, fake_send, &f, 999), 0);
    CHECK_INT_EQ(f.attempts, 1);
    f.up = true;
    CHECK_INT_EQ(notify_spool_flush(s, fake_send, &f, 1000), 3);
    CHECK_INT_EQ(f.attempts, 4);
    notify_spool_free(s);
    remove_dir(dir);
    free(dir);
}

TEST(spool_io_errors_are_reported)
{
    /* A path under a regular file cannot be a directory, even for root. */
    char *dir = make_dir();
    char file[128], below[160];
    snprintf(file, sizeof(file), "%s/file", dir);
    int fd = open(file, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0);
    close(fd);
    snprintf(below, sizeof(below), "%s/spool", file);
    struct notify_spool_conf sc = {.dir = below};
    CHECK(notify_spool_open(&sc, 0) == NULL);
    CHECK_ERR_HAS(below);
    unlink(file);
    /* The directory vanishes under an open spool: add fails and says where. */
    sc.dir = dir;
    struct notify_spool *s = notify_spool_open(&sc, 0);
    CHECK(s != NULL);
    rmdir(dir);
    CHECK(notify_spool_add(s, "m", 1, 1000, 0) < 0);
    CHECK_ERR_HAS(dir);
    CHECK_INT_EQ(notify_spool_count(s), 0);
    notify_spool_free(s);
    sc.dir = "";
    CHECK(notify_spool_open(&sc, 0) == NULL);
    CHECK_ERR_HAS("no directory");
    free(dir);
}

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR); /* the retries log warnings by design */
    void (*tests[])(void) = {backoff_formula,           retry_schedule_on_virtual_clock,
                             survives_restart_in_order, bounded_drops_oldest,
                             one_failure_per_flush,     spool_io_errors_are_reported};
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
        tests[i]();
    if (test_failures)
        fprintf(stderr, "%d check(s) failed\n", test_failures);
    return test_failures ? 1 : 0;
}
