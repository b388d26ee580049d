/* email: an event as an RFC 5322 plain-text message, delivered through
 * libcurl's SMTP (optional STARTTLS and AUTH), behind the persistent spool. */
#include "notify/notify.h"

#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MSG_MAX (1024 * 1024)

static const char *const tls_names[] = {"none", "try", "all"};

const char *notify_tls_str(enum notify_tls t)
{
    return (unsigned)t < ARRAY_LEN(tls_names) ? tls_names[t] : "?";
}

int notify_tls_parse(const char *s, enum notify_tls *out)
{
    for (size_t i = 0; i < ARRAY_LEN(tls_names); i++) {
        if (strcmp(s, tls_names[i]) == 0) {
            *out = (enum notify_tls)i;
            return 0;
        }
    }
    if (strcmp(s, "starttls") == 0) {
        *out = NOTIFY_TLS_ALL;
        return 0;
    }
    return err_set("tls '%s': expected none, try, all or starttls", s);
}

/* RFC 5322 date in English regardless of the locale. */
static void rfc5322_date(int64_t t_ms, char *buf, size_t cap)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t secs = (time_t)(t_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = 70;
        tm.tm_mday = 1;
    }
    snprintf(buf, cap, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* RFC 2047 "=?UTF-8?B?...?=" for a subject that is not plain ASCII. */
static char *encode_word(const char *s)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s), o = 0;
    char *out = xmalloc(12 + (n + 2) / 3 * 4 + 3);
    o += (size_t)snprintf(out, 13, "=?UTF-8?B?");
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)s[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)s[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    memcpy(out + o, "?=", 3);
    return out;
}

static char *render_body(const struct notify_event *ev)
{
    char when[40], val[32], thr[32];
    notify_time_rfc3339(ev->t_ms, when, sizeof(when));
    notify_value_str(ev->value, val, sizeof(val));
    notify_value_str(ev->threshold, thr, sizeof(thr));
    return xasprintf("%s\r\n\r\n"
                     "Kind:      %s\r\nSeverity:  %s\r\nRule:      %s\r\nObject:    %s (%s)\r\n"
                     "Metric:    %s\r\nValue:     %s\r\nThreshold: %s\r\nEpisode:   %" PRIu64
                     "\r\nTime:      %s\r\nEvent ID:  %" PRIu64 "\r\n\r\n-- \r\narasd\r\n",
                     ev->message, ev->kind, ev->severity, ev->rule, ev->object, ev->object_kind,
                     ev->metric, val, thr, ev->episode, when, ev->id);
}

char *notify_email_render(const struct notify_email_conf *c, const struct notify_event *ev)
{
    char date[64], host[256] = "localhost";
    rfc5322_date(ev->t_ms, date, sizeof(date));
    if (c->hostname)
        notify_field_set(host, sizeof(host), c->hostname);
    else if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
        snprintf(host, sizeof(host), "localhost");
    AUTOFREE char *subject =
        xasprintf("[ARAS %s] %s %s on %s", ev->severity[0] ? ev->severity : "event", ev->rule,
                  ev->kind, ev->object);
    if (!is_ascii(subject)) {
        char *enc = encode_word(subject);
        free(subject);
        subject = enc;
    }
    /* To: every recipient, comma-separated (addresses were checked at new). */
    size_t to_len = 1, o = 0;
    for (size_t i = 0; i < c->n_to; i++)
        to_len += strlen(c->to[i]) + 2;
    AUTOFREE char *to = xcalloc(1, to_len);
    for (size_t i = 0; i < c->n_to; i++) {
        size_t n = strlen(c->to[i]);
        if (i) {
            memcpy(to + o, ", ", 2);
            o += 2;
        }
        memcpy(to + o, c->to[i], n);
        o += n;
    }
    AUTOFREE char *body = render_body(ev);
    return xasprintf("Date: %s\r\nFrom: %s\r\nTo: %s\r\n"
                     "Message-ID: <aras.%" PRIu64 ".%" PRId64 ".%" PRIu64 "@%s>\r\n"
                     "Subject: %s\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: 8bit\r\n"
                     "X-ARAS-Event-Kind: %s\r\nX-ARAS-Object: %s\r\n\r\n%s",
                     date, c->from, to, ev->id, ev->t_ms, ev->episode, host, subject, ev->kind,
                     ev->object, body);
}

/* ---- libcurl -------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct upload {
    const char *p;
    size_t left;
};

static size_t upload_read(char *buf, size_t size, size_t nmemb, void *ud)
{
    struct upload *u = ud;
    size_t n = size * nmemb;
    if (n > u->left)
        n = u->left;
    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

static void set_tls(CURL *h, const struct notify_email_conf *c)
{
    static const long use_ssl[] = {CURLUSESSL_NONE, CURLUSESSL_TRY, CURLUSESSL_ALL};
    curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl[c->tls % 3]);
    if (c->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    if (c->tls_no_verify) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

int notify_email_send(const struct notify_email_conf *c, const char *msg, size_t len)
{
    pthread_once(&curl_once, curl_init_once);
    CURL *h = curl_easy_init();
    if (!h)
        return err_set("smtp %s: curl_easy_init failed", c->url);
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *rcpt = NULL;
    for (size_t i = 0; i < c->n_to; i++) {
        char addr[512];
        snprintf(addr, sizeof(addr), "<%s>", c->to[i]);
        rcpt = curl_slist_append(rcpt, addr);
    }
    char from[512];
    snprintf(from, sizeof(from), "<%s>", c->from);
    struct upload u = {msg, len};
    int64_t timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 30000;
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, upload_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &u);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 10000 ? timeout_ms : 10000));
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (c->user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
    }
    set_tls(h, c);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK)
        return err_set("smtp %s: %s", c->url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    return 0;
}
