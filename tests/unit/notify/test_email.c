/* test_email: the rendered RFC 5322 message and the e-mail config checks. */
#include "notify/notify.h"
#include "util/error.h"
#include "test.h"

#include <stdlib.h>

static void sample_event(struct notify_event *ev)
{
    notify_event_init(ev);
    ev->id = 42;
    ev->t_ms = 1795333500123; /* Sun, 22 Nov 2026 07:45:00 UTC */
    snprintf(ev->kind, sizeof(ev->kind), "fired");
    snprintf(ev->severity, sizeof(ev->severity), "warning");
    snprintf(ev->rule, sizeof(ev->rule), "cpu-hot");
    snprintf(ev->object, sizeof(ev->object), "web-1");
    snprintf(ev->object_kind, sizeof(ev->object_kind), "vm");
    snprintf(ev->metric, sizeof(ev->metric), "cpu");
    ev->value = 93.5;
    ev->threshold = 90;
    ev->episode = 7;
    snprintf(ev->message, sizeof(ev->message), "cpu-hot fired on vm web-1: cpu 93.5 > 90");
}

static struct notify_email_conf sample_conf(void)
{
    struct notify_email_conf c = {.url = "smtp://127.0.0.1:2525",
                                  .from = "arasd@example.org",
                                  .to = {"ops@example.org", "oncall@example.org"},
                                  .n_to = 2,
                                  .hostname = "node1.example.org"};
    return c;
}

TEST(render_headers_and_body)
{
    struct notify_event ev;
    sample_event(&ev);
    struct notify_email_conf c = sample_conf();
    char *m = notify_email_render(&c, &ev);
    CHECK(strncmp(m, "Date: Sun, 22 Nov 2026 07:45:00 +0000\r\n", 39) == 0);
    CHECK(strstr(m, "\r\nFrom: arasd@example.org\r\n") != NULL);
    CHECK(strstr(m, "\r\nTo: ops@example.org, oncall@example.org\r\n") != NULL);
    CHECK(strstr(m, "\r\nMessage-ID: <aras.42.1795333500123.7@node1.example.org>\r\n") != NULL);
    CHECK(strstr(m, "\r\nSubject: [ARAS warning] cpu-hot fired on web-1\r\n") != NULL);
    CHECK(strstr(m, "\r\nContent-Type: text/plain; charset=utf-8\r\n") != NULL);
    const char *body = strstr(m, "\r\n\r\n");
    CHECK(body != NULL);
    if (body) {
        CHECK(strstr(body, "cpu-hot fired on vm web-1: cpu 93.5 > 90\r\n") != NULL);
        CHECK(strstr(body, "Value:     93.5\r\n") != NULL);
        CHECK(strstr(body, "Threshold: 90\r\n") != NULL);
        CHECK(strstr(body, "Object:    web-1 (vm)\r\n") != NULL);
        CHECK(strstr(body, "Episode:   7\r\n") != NULL);
        CHECK(strstr(body, "Time:      2026-11-22T07:45:00.123Z\r\n") != NULL);
    }
    /* Every line ends in CRLF and none is longer than RFC 5322's 998. */
    size_t line = 0;
    for (const char *p = m; *p; p++) {
        if (*p == '\n') {
            CHECK(p > m && p[-1] == '\r');
            line = 0;
        } else {
            CHECK(++line <= 998);
        }
    }
    free(m);
}

TEST(render_non_ascii_subject_is_encoded)
{
    struct notify_event ev;
    sample_event(&ev);
    notify_field_set(ev.object, sizeof(ev.object), "caf\xc3\xa9");
    struct notify_email_conf c = sample_conf();
    char *m = notify_email_render(&c, &ev);
    /* base64("[ARAS warning] cpu-hot fired on café") */
    CHECK(strstr(m, "\r\nSubject: =?UTF-8?B?W0FSQVMgd2FybmluZ10gY3B1LWhvdCBmaXJlZCBvbiBjYWbDqQ==?="
                    "\r\n") != NULL);
    free(m);
}

TEST(header_injection_is_impossible)
{
    struct notify_event ev;
    sample_event(&ev);
    notify_field_set(ev.object, sizeof(ev.object), "x\r\nBcc: victim@example.org");
    struct notify_email_conf c = sample_conf();
    char *m = notify_email_render(&c, &ev);
    CHECK(strstr(m, "\r\nBcc:") == NULL);
    CHECK(strstr(m, "on x??Bcc: victim@example.org\r\n") != NULL);
    free(m);
}

TEST(config_is_checked)
{
    struct notify_email_conf c = sample_conf();
    struct notify_spool_conf sc = {.dir = "/nonexistent/never/created"};
    c.url = "http://example.org";
    CHECK(notify_email_new(&c, &sc, 0) == NULL);
    CHECK_ERR_HAS("smtp://");
    c = sample_conf();
    c.from = "a@b\r\nX: y";
    CHECK(notify_email_new(&c, &sc, 0) == NULL);
    CHECK_ERR_HAS("bad character");
    c = sample_conf();
    c.to[1] = "no-at-sign";
    CHECK(notify_email_new(&c, &sc, 0) == NULL);
    CHECK_ERR_HAS("no-at-sign");
    c = sample_conf();
    c.n_to = 0;
    CHECK(notify_email_new(&c, &sc, 0) == NULL);
    c = sample_conf();
    CHECK(notify_email_new(&c, &sc, 0) == NULL); /* the spool directory cannot be made */
    CHECK_ERR_HAS("/nonexistent/never/created");
}

TEST(tls_modes)
{
    enum notify_tls t;
    CHECK(notify_tls_parse("none", &t) == 0 && t == NOTIFY_TLS_NONE);
    CHECK(notify_tls_parse("try", &t) == 0 && t == NOTIFY_TLS_TRY);
    CHECK(notify_tls_parse("starttls", &t) == 0 && t == NOTIFY_TLS_ALL);
    CHECK(notify_tls_parse("yes", &t) < 0);
    CHECK_STR_EQ(notify_tls_str(NOTIFY_TLS_ALL), "all");
}

TEST(send_to_closed_port_fails_with_url)
{
    /* Port 1 on loopback: nothing listens there in a test environment. */
    struct notify_email_conf c = sample_conf();
    c.url = "smtp://127.0.0.1:1";
    c.timeout_ms = 2000;
    CHECK(notify_email_send(&c, "x\r\n", 3) < 0);
    CHECK_ERR_HAS("smtp://127.0.0.1:1");
}

RUN_TESTS(render_headers_and_body, render_non_ascii_subject_is_encoded,
          header_injection_is_impossible, config_is_checked, tls_modes,
          send_to_closed_port_fails_with_url)
