/* test_conf: the config parser — defaults, every key, and that every kind of
 * error names file:line, section and key. */
#include "conf/conf.h"
#include "test.h"
#include "util/error.h"

#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>

/* Parse text as "t.conf"; expect failure and that err_msg() contains want. */
static void expect_error(const char *text, const char *want)
{
    struct conf *c = conf_parse_string(text, "t.conf");
    CHECK(c == NULL);
    conf_free(c);
    if (!strstr(err_msg(), want))
        fprintf(stderr, "  want '%s' in: %s\n", want, err_msg());
    CHECK_ERR_HAS(want);
}

TEST(defaults)
{
    struct conf *c = conf_defaults();
    CHECK(c != NULL);
    CHECK_INT_EQ(c->tick_ms, 10000);
    CHECK_STR_EQ(c->api_listen, "127.0.0.1:8470");
    CHECK_STR_EQ(c->api_host, "127.0.0.1");
    CHECK_INT_EQ(c->api_port, 8470);
    CHECK_STR_EQ(c->history_path, "var/aras/history.db");
    CHECK_INT_EQ(c->history_retention_ms, 30LL * 24 * 3600 * 1000);
    CHECK_INT_EQ(c->sample_retention_ms, 3600 * 1000);
    CHECK_INT_EQ(c->log_level, LOG_LEVEL_INFO);
    CHECK(c->pid_file == NULL);
    CHECK_INT_EQ(c->n_uris, 1);
    CHECK_STR_EQ(c->uris[0], "sim://");
    conf_free(c);
}

TEST(every_key)
{
    const char *text = "# comment\n"
                       "[daemon]\n"
                       "tick = 2s ; inline comment\n"
                       "  api_listen = [::1]:0\n"
                       "history = :memory:\n"
                       "history_retention = 2d\n"
                       "sample_retention = 10m\n"
                       "log_level = debug\n"
                       "pid_file = /run/arasd.pid\r\n"
                       "\n"
                       "[cluster]\n"
                       "uri = qemu+ssh://h1/system\n"
                       "uri = qemu+tcp://h2/system\n";
    struct conf *c = conf_parse_string(text, "t.conf");
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_INT_EQ(c->tick_ms, 2000);
    CHECK_STR_EQ(c->api_host, "::1");
    CHECK_INT_EQ(c->api_port, 0);
    CHECK_STR_EQ(c->api_listen, "[::1]:0");
    CHECK_STR_EQ(c->history_path, ":memory:");
    CHECK_INT_EQ(c->history_retention_ms, 2LL * 24 * 3600 * 1000);
    CHECK_INT_EQ(c->sample_retention_ms, 600 * 1000);
    CHECK_INT_EQ(c->log_level, LOG_LEVEL_DEBUG);
    CHECK_STR_EQ(c->pid_file, "/run/arasd.pid");
    CHECK_INT_EQ(c->n_uris, 2); /* the default sim:// is replaced, not added to */
    CHECK_STR_EQ(c->uris[0], "qemu+ssh://h1/system");
    CHECK_STR_EQ(c->uris[1], "qemu+tcp://h2/system");
    CHECK_STR_EQ(c->path, "t.conf");
    conf_free(c);
}

TEST(localhost_listen)
{
    struct conf *c = conf_parse_string("[daemon]\napi_listen = localhost:9000\n", "t.conf");
    CHECK(c != NULL);
    if (c) {
        CHECK_STR_EQ(c->api_host, "127.0.0.1");
        CHECK_INT_EQ(c->api_port, 9000);
    }
    conf_free(c);
}

TEST(errors_name_file_line_section_key)
{
    expect_error("[daemon]\ntick = 10 parsecs\n", "t.conf:2: [daemon] tick: ");
    expect_error("[daemon]\n\ntick = 10ms\n", "t.conf:3: [daemon] tick: 10ms is out of range");
    expect_error("[daemon]\ntick = 2d\n", "t.conf:2: [daemon] tick: 2d is out of range");
    expect_error("[daemon]\nlog_level = loud\n", "t.conf:2: [daemon] log_level: 'loud' is not");
    expect_error("[daemon]\napi_listen = 0.0.0.0:8470\n",
                 "t.conf:2: [daemon] api_listen: 0.0.0.0 is not a loopback address");
    expect_error("[daemon]\napi_listen = 10.1.2.3:1\n", "is not a loopback address");
    expect_error("[daemon]\napi_listen = 127.0.0.1:70000\n", "t.conf:2: [daemon] api_listen: port");
    expect_error("[daemon]\napi_listen = 8470\n", "t.conf:2: [daemon] api_listen: '8470' is not");
    expect_error("[daemon]\napi_listen = example.org:80\n", "is not an IP address");
    expect_error("[daemon]\nhistory =\n", "t.conf:2: [daemon] history: empty value");
    expect_error("[daemon]\ntick = 5s\ntick = 6s\n",
                 "t.conf:3: [daemon] tick: set twice (first on line 2)");
    expect_error("[daemon]\ncolour = blue\n",
                 "t.conf:2: [daemon] colour: unknown key (known: tick");
    expect_error("[cluster]\nuri = not a uri\n",
                 "t.conf:2: [cluster] uri: 'not a uri' is not a URI");
    expect_error("[cluster]\nuri = sim://\nuri = sim://\n",
                 "t.conf:3: [cluster] uri: 'sim://' is listed twice");
    expect_error("[cluster]\nuri = 9p://x\n", "is not a URI");
}

TEST(structure_errors)
{
    expect_error("tick = 5s\n", "t.conf:1: tick: key outside any section");
    expect_error("[daemon]\n[rules]\nx = 1\n", "t.conf:2: [rules]: unknown section");
    expect_error("[daemon extra]\n", "t.conf:1: [daemon]: takes no name");
    expect_error("[daemon\ntick = 1s\n", "t.conf:1: section header without ']'");
    expect_error("[daemon]\njust words\n", "t.conf:2: expected 'key = value' or '[section]'");
    char big[400];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char text[512];
    snprintf(text, sizeof(text), "[cluster]\nuri = sim://%s\n", big);
    expect_error(text, "t.conf:2: line longer than");
}

TEST(all_errors_reported)
{
    struct conf *c = conf_parse_string("[daemon]\ntick = x\nlog_level = y\n[nope]\n", "t.conf");
    CHECK(c == NULL);
    CHECK_ERR_HAS("t.conf:2: [daemon] tick:");
    CHECK_ERR_HAS("\nt.conf:3: [daemon] log_level:");
    CHECK_ERR_HAS("\nt.conf:4: [nope]: unknown section");
    /* Many errors: the first CONF_ERRORS_MAX are listed, then a count. */
    char text[4096] = "[daemon]\n";
    for (int i = 0; i < 20; i++)
        strcat(text, "bogus = 1\n");
    CHECK(conf_parse_string(text, "t.conf") == NULL);
    CHECK_ERR_HAS("t.conf:2: [daemon] bogus");
    CHECK(strstr(err_msg(), "t.conf:21:") == NULL);
    CHECK_ERR_HAS(" more errors)");
}

TEST(nul_byte_and_bom)
{
    struct conf *c = conf_parse_string("\xEF\xBB\xBF[daemon]\ntick = 3s\n", "t.conf");
    CHECK(c != NULL);
    if (c)
        CHECK_INT_EQ(c->tick_ms, 3000);
    conf_free(c);
}

TEST(load_file)
{
    char path[] = "/tmp/aras-test-conf-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char text[] = "[daemon]\ntick = 1m\n[cluster]\nuri = test:///default\n\0junk";
    CHECK(write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1);
    close(fd);
    struct conf *c = conf_load(path);
    CHECK(c == NULL); /* the NUL byte on line 5 */
    CHECK(strstr(err_msg(), ":5: NUL byte") != NULL);
    CHECK(strstr(err_msg(), path) != NULL);
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(write(fd, text, 51) == 51);
    close(fd);
    c = conf_load(path);
    CHECK(c != NULL);
    if (c) {
        CHECK_INT_EQ(c->tick_ms, 60000);
        CHECK_STR_EQ(c->uris[0], "test:///default");
        CHECK_STR_EQ(c->path, path);
    }
    conf_free(c);
    unlink(path);
    CHECK(conf_load(path) == NULL);
    CHECK_ERR_HAS("cannot open config /tmp/aras-test-conf-");
    CHECK_ERR_HAS("No such file");
}

/* The shipped example documents every key commented out: it must load and
 * give exactly the defaults. */
TEST(shipped_example)
{
    const char *src = getenv("ARAS_SOURCE_DIR");
    CHECK(src != NULL);
    if (!src)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/etc/arasd.conf", src);
    struct conf *c = conf_load(path);
    if (!c)
        fprintf(stderr, "  %s\n", err_msg());
    CHECK(c != NULL);
    struct conf *d = conf_defaults();
    if (c) {
        CHECK_INT_EQ(c->tick_ms, d->tick_ms);
        CHECK_STR_EQ(c->api_listen, d->api_listen);
        CHECK_STR_EQ(c->uris[0], "sim://");
    }
    conf_free(c);
    conf_free(d);
}

RUN_TESTS(shipped_example, defaults, every_key, localhost_listen, errors_name_file_line_section_key,
          structure_errors, all_errors_reported, nul_byte_and_bom, load_file)
