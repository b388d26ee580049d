/* test_script: the script notifier against real scripts in tests/data —
 * environment, JSON on stdin, exit status, output bound, timeout escalation
 * and clear errors for paths that cannot run. */
#include "notify/notify.h"
#include "util/error.h"
#include "test.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *data_path(const char *name)
{
    const char *src = getenv("ARAS_SOURCE_DIR");
    char *p = NULL;
    if (asprintf(&p, "%s/tests/data/%s", src ? src : ".", name) < 0)
        abort();
    return p;
}

static void sample_event(struct notify_event *ev, const char *kind)
{
    notify_event_init(ev);
    ev->id = 42;
    ev->t_ms = 1795333500123;
    snprintf(ev->kind, sizeof(ev->kind), "%s", kind);
    snprintf(ev->severity, sizeof(ev->severity), "warning");
    snprintf(ev->rule, sizeof(ev->rule), "cpu-hot");
    snprintf(ev->object, sizeof(ev->object), "web-1");
    snprintf(ev->object_kind, sizeof(ev->object_kind), "vm");
    snprintf(ev->metric, sizeof(ev->metric), "cpu");
    ev->value = 93.5;
    ev->threshold = 90;
    ev->episode = 7;
    snprintf(ev->message, sizeof(ev->message), "cpu-hot %s on vm web-1: it's \"hot\" $HOME", kind);
}

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += n)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

TEST(env_stdin_and_exit_status)
{
    char *path = data_path("notify_script_dump.sh");
    setenv("ARAS_TEST_PARENT_SECRET", "must-not-leak", 1);
    struct notify_script_conf c = {.path = path, .timeout_ms = 10000};
    struct notify_event ev;
    sample_event(&ev, "fired");
    struct notify_script_result r;
    CHECK(notify_script_run(&c, &ev, &r) == 0);
    CHECK(r.exited && !r.signaled && !r.timed_out);
    CHECK_INT_EQ(r.exit_status, 3);
    const char *want[] = {"ARAS_EVENT_ID=42",
                          "ARAS_EVENT_KIND=fired",
                          "ARAS_EVENT_TIME_MS=1795333500123",
                          "ARAS_EVENT_TIME=2026-11-22T07:45:00.123Z",
                          "ARAS_SEVERITY=warning",
                          "ARAS_RULE=cpu-hot",
                          "ARAS_OBJECT=web-1",
                          "ARAS_OBJECT_KIND=vm",
                          "ARAS_METRIC=cpu",
                          "ARAS_VALUE=93.5",
                          "ARAS_THRESHOLD=90",
                          "ARAS_EPISODE=7",
                          "ARAS_MESSAGE=cpu-hot fired on vm web-1: it's \"hot\" $HOME",
                          "PATH=/usr/local/bin:/usr/bin:/bin"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (!has_line(r.out, want[i]))
            fprintf(stderr, "missing line: %s\n", want[i]);
        CHECK(has_line(r.out, want[i]));
    }
    CHECK(strstr(r.out, "must-not-leak") == NULL);
    CHECK(strstr(r.out, "HOME=") == NULL);
    const char *json = strstr(r.out, "--- stdin ---\n");
    CHECK(json != NULL);
    if (json) {
        struct notify_event back;
        CHECK(notify_event_from_json(json + strlen("--- stdin ---\n"), &back) == 0);
        CHECK_INT_EQ(back.id, 42);
        CHECK_STR_EQ(back.object, "web-1");
        CHECK_STR_EQ(back.message, ev.message);
        CHECK_NEAR(back.value, 93.5, 0);
        CHECK_INT_EQ(back.episode, 7);
    }
    CHECK_STR_EQ(r.err, "to stderr\n");
    notify_script_result_free(&r);

    sample_event(&ev, "cleared");
    CHECK(notify_script_run(&c, &ev, &r) == 0);
    CHECK(r.exited);
    CHECK_INT_EQ(r.exit_status, 0);
    CHECK(has_line(r.out, "ARAS_EVENT_KIND=cleared"));
    notify_script_result_free(&r);
    free(path);
}

TEST(timeout_terminates_process_group)
{
    char *path = data_path("notify_script_sleep.sh");
    struct notify_script_conf c = {.path = path, .timeout_ms = 300, .kill_grace_ms = 5000};
    struct notify_event ev;
    sample_event(&ev, "fired");
    struct notify_script_result r;
    CHECK(notify_script_run(&c, &ev, &r) == 0);
    CHECK(r.timed_out);
    CHECK(r.signaled && !r.exited);
    CHECK_INT_EQ(r.term_signal, SIGTERM);
    CHECK_STR_EQ(r.out, "started\n");
    /* Well before the 60 s sleep and the 5 s grace: the sleep child got the
     * SIGTERM too and closed the pipe. */
    CHECK(r.duration_ms >= 300 && r.duration_ms < 3000);
    notify_script_result_free(&r);
    free(path);
}

TEST(sigterm_ignored_escalates_to_sigkill)
{
    char *path = data_path("notify_script_stubborn.sh");
    struct notify_script_conf c = {.path = path, .timeout_ms = 300, .kill_grace_ms = 400};
    struct notify_event ev;
    sample_event(&ev, "fired");
    struct notify_script_result r;
    CHECK(notify_script_run(&c, &ev, &r) == 0);
    CHECK(r.timed_out && r.signaled);
    CHECK_INT_EQ(r.term_signal, SIGKILL);
    CHECK(r.duration_ms >= 700 && r.duration_ms < 4000);
    notify_script_result_free(&r);
    free(path);
}

TEST(output_is_bounded)
{
    char *path = data_path("notify_script_noisy.sh");
    struct notify_script_conf c = {.path = path, .timeout_ms = 10000, .output_max = 1000};
    struct notify_event ev;
    sample_event(&ev, "fired");
    struct notify_script_result r;
    CHECK(notify_script_run(&c, &ev, &r) == 0);
    CHECK(r.exited && r.exit_status == 0 && !r.timed_out);
    CHECK_INT_EQ(r.out_len, 1000);
    CHECK(r.out_truncated);
    CHECK_INT_EQ(strlen(r.out), 1000);
    CHECK(r.out[0] == 'x' && r.out[999] == 'x');
    CHECK(!r.err_truncated);
    notify_script_result_free(&r);
    free(path);
}

TEST(paths_that_cannot_run)
{
    struct notify_event ev;
    sample_event(&ev, "fired");
    struct notify_script_result r;
    struct notify_script_conf c = {.path = "tests/data/notify_script_dump.sh"};
    CHECK(notify_script_run(&c, &ev, &r) < 0);
    CHECK_ERR_HAS("not an absolute path");
    c.path = "/nonexistent/aras-script";
    CHECK(notify_script_run(&c, &ev, &r) < 0);
    CHECK_ERR_HAS("/nonexistent/aras-script");
    CHECK_ERR_HAS("No such file");
    c.path = "/tmp";
    CHECK(notify_script_run(&c, &ev, &r) < 0);
    CHECK_ERR_HAS("not a regular file");

    char dir[] = "/tmp/aras-script-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char file[64];
    snprintf(file, sizeof(file), "%s/plain.sh", dir);
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "#!/bin/sh\nexit 0\n", 17) == 17);
    close(fd);
    c.path = file;
    CHECK(notify_script_run(&c, &ev, &r) < 0);
    CHECK_ERR_HAS("not executable");
    /* Executable but not a valid executable format: execve fails in the child
     * and the error comes back through the status pipe. */
    CHECK(chmod(file, 0755) == 0);
    fd = open(file, O_WRONLY | O_TRUNC);
    CHECK(write(fd, "\x01\x02garbage", 9) == 9);
    close(fd);
    CHECK(notify_script_run(&c, &ev, &r) < 0);
    CHECK_ERR_HAS("exec failed");
    unlink(file);
    rmdir(dir);
}

RUN_TESTS(env_stdin_and_exit_status, timeout_terminates_process_group,
          sigterm_ignored_escalates_to_sigkill, output_is_bounded, paths_that_cannot_run)
