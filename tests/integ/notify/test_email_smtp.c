/* test_email_smtp: the e-mail notifier against a real SMTP server (aiosmtpd)
 * started here on a loopback ephemeral port: delivery and the message as
 * received, the spool while the server is down, the retry on schedule, the
 * spool surviving a restart, and AUTH. */
#include "notify/notify.h"
#include "util/error.h"
#include "util/log.h"
#include "test.h"

#include "receiver.h"

#define PY "/usr/bin/python3"

struct smtpd {
    pid_t pid;
    int port;
    char dir[128];
};

static char base_dir[] = "/tmp/aras-smtp-XXXXXX";

static char cert_path[160], key_path[160];

/* A self-signed certificate for 127.0.0.1, made with the openssl CLI. */
static bool make_cert(void)
{
    snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", base_dir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", base_dir);
    char log[160];
    snprintf(log, sizeof(log), "%s/openssl.log", base_dir);
    const char *argv[] = {"/usr/bin/openssl",
                          "req",
                          "-x509",
                          "-newkey",
                          "rsa:2048",
                          "-nodes",
                          "-keyout",
                          key_path,
                          "-out",
                          cert_path,
                          "-days",
                          "2",
                          "-subj",
                          "/CN=127.0.0.1",
                          "-addext",
                          "subjectAltName=IP:127.0.0.1",
                          NULL};
    int status = -1;
    pid_t pid = rx_spawn(argv, log);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Start the receiver storing into base_dir/<name>; port 0 = ephemeral;
 * auth "user:password" or NULL; tls_files: offer and require STARTTLS. */
static bool smtpd_start(struct smtpd *s, const char *name, int port, const char *auth,
                        bool tls_files)
{
    char script[512], port_file[160], port_arg[16], log[160];
    snprintf(script, sizeof(script), "%s/tests/integ/notify/smtp_receiver.py",
             getenv("ARAS_SOURCE_DIR") ? getenv("ARAS_SOURCE_DIR") : ".");
    snprintf(s->dir, sizeof(s->dir), "%s/%s", base_dir, name);
    mkdir(s->dir, 0700);
    snprintf(port_file, sizeof(port_file), "%s.port", s->dir);
    snprintf(log, sizeof(log), "%s.log", s->dir);
    unlink(port_file);
    snprintf(port_arg, sizeof(port_arg), "%d", port);
    const char *argv[16] = {PY,        script,   "--dir", s->dir, "--port-file",
                            port_file, "--port", port_arg};
    size_t n = 8;
    if (auth) {
        argv[n++] = "--auth";
        argv[n++] = auth;
    }
    if (tls_files) { /* "<dir>/cert.pem" and "<dir>/key.pem" */
        argv[n++] = "--tls";
        argv[n++] = cert_path;
        argv[n++] = key_path;
    }
    argv[n] = NULL;
    s->pid = rx_spawn(argv, log);
    if (!rx_wait_file(port_file, "\n", 15000)) {
        fprintf(stderr, "smtp receiver did not start; see %s\n", log);
        return false;
    }
    char *p = rx_read_file(port_file);
    s->port = atoi(p);
    free(p);
    return s->port > 0;
}

static void sample_event(struct notify_event *ev, uint64_t id, const char *object)
{
    notify_event_init(ev);
    ev->id = id;
    ev->t_ms = 1795333500123 + (int64_t)id;
    snprintf(ev->kind, sizeof(ev->kind), "fired");
    snprintf(ev->severity, sizeof(ev->severity), "warning");
    snprintf(ev->rule, sizeof(ev->rule), "cpu-hot");
    snprintf(ev->object, sizeof(ev->object), "%s", object);
    snprintf(ev->object_kind, sizeof(ev->object_kind), "vm");
    snprintf(ev->metric, sizeof(ev->metric), "cpu");
    ev->value = 93.5;
    ev->threshold = 90;
    ev->episode = id;
    snprintf(ev->message, sizeof(ev->message), "cpu-hot fired on vm %s: cpu 93.5 > 90", object);
}

static char *delivered(const struct smtpd *s, int n, const char *ext)
{
    char path[200];
    snprintf(path, sizeof(path), "%s/msg-%d.%s", s->dir, n, ext);
    return rx_read_file(path);
}

static struct notify_email_conf conf_for(int port, char *url, size_t cap)
{
    snprintf(url, cap, "smtp://127.0.0.1:%d", port);
    struct notify_email_conf c = {.url = url,
                                  .from = "arasd@example.org",
                                  .to = {"ops@example.org", "oncall@example.org"},
                                  .n_to = 2,
                                  .hostname = "node1.example.org",
                                  .timeout_ms = 5000};
    return c;
}

TEST(deliver_queue_retry_restart)
{
    struct smtpd s;
    CHECK(smtpd_start(&s, "plain", 0, NULL, false));
    char url[64], spool[160];
    struct notify_email_conf c = conf_for(s.port, url, sizeof(url));
    snprintf(spool, sizeof(spool), "%s/spool", base_dir);
    struct notify_spool_conf sc = {.dir = spool, .retry_base_ms = 500, .retry_max_ms = 4000};
    struct notify_email *m = notify_email_new(&c, &sc, 0);
    CHECK(m != NULL);
    if (!m)
        return;

    /* 1. Delivered, and the message as received has every header and field. */
    struct notify_event ev;
    sample_event(&ev, 1, "web-1");
    CHECK(notify_email_enqueue(m, &ev, 0) == 0);
    CHECK_INT_EQ(notify_email_flush(m, 0), 1);
    CHECK_INT_EQ(rx_count_files(spool, ".eml"), 0);
    char *msg = delivered(&s, 1, "eml"), *env = delivered(&s, 1, "json");
    CHECK(msg && env);
    if (msg && env) {
        CHECK(strstr(msg, "Subject: [ARAS warning] cpu-hot fired on web-1\r\n") != NULL);
        CHECK(strstr(msg, "Date: Sun, 22 Nov 2026 07:45:00 +0000\r\n") != NULL);
        CHECK(strstr(msg, "From: arasd@example.org\r\n") != NULL);
        CHECK(strstr(msg, "To: ops@example.org, oncall@example.org\r\n") != NULL);
        CHECK(strstr(msg, "Message-ID: <aras.1.1795333500124.1@node1.example.org>\r\n") != NULL);
        CHECK(strstr(msg, "\r\n\r\ncpu-hot fired on vm web-1: cpu 93.5 > 90\r\n") != NULL);
        CHECK(strstr(msg, "Value:     93.5\r\n") != NULL);
        CHECK(strstr(msg, "Threshold: 90\r\n") != NULL);
        CHECK(strstr(env, "\"mail_from\": \"arasd@example.org\"") != NULL);
        CHECK(strstr(env, "\"rcpt_tos\": [\"ops@example.org\", \"oncall@example.org\"]") != NULL);
    }
    free(msg);
    free(env);

    /* 2. Server down: the event waits in the spool, retried on schedule. */
    int port = s.port;
    rx_stop(s.pid);
    sample_event(&ev, 2, "web-2");
    CHECK(notify_email_enqueue(m, &ev, 1000) == 0);
    CHECK_INT_EQ(notify_email_flush(m, 1000), 0);
    CHECK_INT_EQ(rx_count_files(spool, ".eml"), 1);
    CHECK_INT_EQ(notify_spool_next_due_ms(notify_email_spool(m)), 1500);
    CHECK(smtpd_start(&s, "plain", port, NULL, false)); /* back up on the same port */
    CHECK_INT_EQ(notify_email_flush(m, 1499), 0);       /* not due yet: not even tried */
    CHECK_INT_EQ(rx_count_files(s.dir, ".eml"), 1);
    CHECK_INT_EQ(notify_email_flush(m, 1500), 1);
    CHECK_INT_EQ(rx_count_files(s.dir, ".eml"), 2);
    CHECK_INT_EQ(rx_count_files(spool, ".eml"), 0);
    msg = delivered(&s, 2, "eml");
    CHECK(msg && strstr(msg, "Subject: [ARAS warning] cpu-hot fired on web-2\r\n"));
    free(msg);

    /* 3. Down again, and the daemon restarts before the server returns. */
    rx_stop(s.pid);
    sample_event(&ev, 3, "web-3");
    CHECK(notify_email_enqueue(m, &ev, 2000) == 0);
    CHECK_INT_EQ(notify_email_flush(m, 2000), 0);
    notify_email_free(m);
    CHECK_INT_EQ(rx_count_files(spool, ".eml"), 1);
    CHECK(smtpd_start(&s, "plain", port, NULL, false));
    m = notify_email_new(&c, &sc, 0);
    CHECK(m != NULL);
    if (m) {
        CHECK_INT_EQ(notify_spool_count(notify_email_spool(m)), 1);
        CHECK_INT_EQ(notify_email_flush(m, 0), 1);
        CHECK_INT_EQ(rx_count_files(spool, ".eml"), 0);
        msg = delivered(&s, 3, "eml");
        CHECK(msg && strstr(msg, "Subject: [ARAS warning] cpu-hot fired on web-3\r\n"));
        free(msg);
        notify_email_free(m);
    }
    rx_stop(s.pid);
}

TEST(auth_plain_over_loopback)
{
    struct smtpd s;
    CHECK(smtpd_start(&s, "auth", 0, "aras:s3cret", false));
    char url[64], spool[160];
    struct notify_email_conf c = conf_for(s.port, url, sizeof(url));
    c.user = "aras";
    c.password = "wrong";
    snprintf(spool, sizeof(spool), "%s/spool-auth", base_dir);
    struct notify_spool_conf sc = {.dir = spool, .retry_base_ms = 1000};
    struct notify_email *m = notify_email_new(&c, &sc, 0);
    struct notify_event ev;
    sample_event(&ev, 7, "db-1");
    CHECK(m && notify_email_enqueue(m, &ev, 0) == 0);
    CHECK_INT_EQ(notify_email_flush(m, 0), 0); /* refused: stays spooled */
    CHECK_INT_EQ(rx_count_files(spool, ".eml"), 1);
    CHECK_INT_EQ(rx_count_files(s.dir, ".eml"), 0);
    notify_email_free(m);
    c.password = "s3cret";
    m = notify_email_new(&c, &sc, 0);
    CHECK(m != NULL);
    CHECK_INT_EQ(notify_email_flush(m, 0), 1);
    CHECK_INT_EQ(rx_count_files(spool, ".eml"), 0);
    char *env = delivered(&s, 1, "json");
    CHECK(env && strstr(env, "\"login\": \"aras\""));
    free(env);
    notify_email_free(m);
    rx_stop(s.pid);
}

TEST(starttls_required_but_not_offered_fails)
{
    struct smtpd s;
    CHECK(smtpd_start(&s, "notls", 0, NULL, false));
    char url[64];
    struct notify_email_conf c = conf_for(s.port, url, sizeof(url));
    c.tls = NOTIFY_TLS_ALL;
    CHECK(notify_email_send(&c, "Subject: x\r\n\r\nx\r\n", 17) < 0);
    CHECK_ERR_HAS(url);
    c.tls = NOTIFY_TLS_TRY; /* "try" falls back to plain when not offered */
    CHECK(notify_email_send(&c, "Subject: x\r\n\r\nx\r\n", 17) == 0);
    CHECK_INT_EQ(rx_count_files(s.dir, ".eml"), 1);
    rx_stop(s.pid);
}

TEST(starttls_with_auth)
{
    if (access("/usr/bin/openssl", X_OK) != 0 || !make_cert()) {
        fprintf(stderr, "SKIP part: no openssl to make a test certificate\n");
        return;
    }
    struct smtpd s;
    CHECK(smtpd_start(&s, "tls", 0, "aras:s3cret", true));
    char url[64];
    struct notify_email_conf c = conf_for(s.port, url, sizeof(url));
    c.user = "aras";
    c.password = "s3cret";
    struct notify_event ev;
    sample_event(&ev, 9, "tls-1");
    char *msg = notify_email_render(&c, &ev);
    /* Not trusted (system CAs only): the TLS handshake must fail. */
    c.tls = NOTIFY_TLS_ALL;
    CHECK(notify_email_send(&c, msg, strlen(msg)) < 0);
    /* Plain SMTP to a server that requires STARTTLS: refused. */
    c.tls = NOTIFY_TLS_NONE;
    CHECK(notify_email_send(&c, msg, strlen(msg)) < 0);
    CHECK_INT_EQ(rx_count_files(s.dir, ".eml"), 0);
    /* STARTTLS with our CA, then AUTH inside TLS: delivered. */
    c.tls = NOTIFY_TLS_ALL;
    c.ca_file = cert_path;
    CHECK(notify_email_send(&c, msg, strlen(msg)) == 0);
    CHECK_INT_EQ(rx_count_files(s.dir, ".eml"), 1);
    char *env = delivered(&s, 1, "json");
    CHECK(env && strstr(env, "\"login\": \"aras\""));
    char *got = delivered(&s, 1, "eml");
    CHECK(got && strstr(got, "Subject: [ARAS warning] cpu-hot fired on tls-1\r\n"));
    free(got);
    free(env);
    free(msg);
    rx_stop(s.pid);
}

int main(void)
{
    if (access(PY, X_OK) != 0) {
        fprintf(stderr, "SKIP: %s missing (scripts/install-deps.sh)\n", PY);
        return 77;
    }
    if (!mkdtemp(base_dir))
        return 1;
    log_set_level(LOG_LEVEL_ERROR);
    deliver_queue_retry_restart();
    auth_plain_over_loopback();
    starttls_required_but_not_offered_fails();
    starttls_with_auth();
    rx_remove_tree(base_dir);
    if (test_failures)
        fprintf(stderr, "%d check(s) failed\n", test_failures);
    return test_failures ? 1 : 0;
}
