/* email_notifier: the e-mail action — validated config, render, spool, and a
 * flush that delivers through libcurl. */
#include "notify/notify.h"

#include "util/error.h"
#include "util/mem.h"

#include <string.h>

struct notify_email {
    struct notify_email_conf conf; /* points into the copies below */
    char *url, *user, *password, *ca_file, *from, *hostname;
    char *to[NOTIFY_EMAIL_TO_MAX];
    struct notify_spool *spool;
};

/* A bare address: no spaces, angle brackets, quotes or control characters,
 * exactly one '@' with something on both sides. */
static int check_addr(const char *what, const char *a)
{
    if (!a || !a[0])
        return err_set("e-mail %s: empty address", what);
    const char *at = strchr(a, '@');
    if (!at || at == a || !at[1] || strchr(at + 1, '@') || strlen(a) > 254)
        return err_set("e-mail %s '%s': not an address like user@example.org", what, a);
    for (const char *p = a; *p; p++)
        if ((unsigned char)*p <= ' ' || strchr("<>\"(),;\\", *p) || *p == 0x7f)
            return err_set("e-mail %s '%s': bad character in the address", what, a);
    return 0;
}

static int check_conf(const struct notify_email_conf *c)
{
    if (!c->url || (strncmp(c->url, "smtp://", 7) != 0 && strncmp(c->url, "smtps://", 8) != 0))
        return err_set("e-mail url '%s': must start with smtp:// or smtps://",
                       c->url ? c->url : "");
    if (check_addr("from", c->from) < 0)
        return -1;
    if (c->n_to == 0 || c->n_to > NOTIFY_EMAIL_TO_MAX)
        return err_set("e-mail: %zu recipients (1 to %d allowed)", c->n_to, NOTIFY_EMAIL_TO_MAX);
    for (size_t i = 0; i < c->n_to; i++)
        if (check_addr("to", c->to[i]) < 0)
            return -1;
    if ((unsigned)c->tls > NOTIFY_TLS_ALL)
        return err_set("e-mail: bad tls mode %d", (int)c->tls);
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

struct notify_email *notify_email_new(const struct notify_email_conf *c,
                                      const struct notify_spool_conf *sc, int64_t now_ms)
{
    if (check_conf(c) < 0)
        return NULL;
    struct notify_email *m = xcalloc(1, sizeof(*m));
    m->conf = *c;
    m->conf.url = m->url = xstrdup(c->url);
    m->conf.user = m->user = dup_or_null(c->user);
    m->conf.password = m->password = dup_or_null(c->password);
    m->conf.ca_file = m->ca_file = dup_or_null(c->ca_file);
    m->conf.from = m->from = xstrdup(c->from);
    m->conf.hostname = m->hostname = dup_or_null(c->hostname);
    for (size_t i = 0; i < c->n_to; i++)
        m->conf.to[i] = m->to[i] = xstrdup(c->to[i]);
    m->spool = notify_spool_open(sc, now_ms);
    if (!m->spool) {
        notify_email_free(m);
        return NULL;
    }
    return m;
}

void notify_email_free(struct notify_email *m)
{
    if (!m)
        return;
    notify_spool_free(m->spool);
    free(m->url);
    free(m->user);
    if (m->password) /* do not leave the secret in freed heap */
        explicit_bzero(m->password, strlen(m->password));
    free(m->password);
    free(m->ca_file);
    free(m->from);
    free(m->hostname);
    for (size_t i = 0; i < NOTIFY_EMAIL_TO_MAX; i++)
        free(m->to[i]);
    free(m);
}

int notify_email_enqueue(struct notify_email *m, const struct notify_event *ev, int64_t now_ms)
{
    AUTOFREE char *msg = notify_email_render(&m->conf, ev);
    return notify_spool_add(m->spool, msg, strlen(msg), ev->t_ms, now_ms);
}

static int send_cb(void *ctx, const char *msg, size_t len)
{
    const struct notify_email *m = ctx;
    return notify_email_send(&m->conf, msg, len);
}

size_t notify_email_flush(struct notify_email *m, int64_t now_ms)
{
    return notify_spool_flush(m->spool, send_cb, m, now_ms);
}

struct notify_spool *notify_email_spool(struct notify_email *m)
{
    return m->spool;
}
