/* api_client: GET and POST requests to arasd with libcurl, with limits and clear errors. */
#include "cli/api_client.h"

#include "util/error.h"
#include "util/mem.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *api_base_url(const char *opt)
{
    if (opt && *opt)
        return opt;
    const char *env = getenv("ARAS_API");
    return env && *env ? env : API_DEFAULT_URL;
}

struct body {
    char *data;
    size_t len;
    bool too_big;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    struct body *b = ud;
    size_t n = size * nmemb;
    if (b->len + n > API_BODY_MAX) {
        b->too_big = true;
        return 0; /* makes curl fail the transfer */
    }
    b->data = xrealloc(b->data, b->len + n + 1);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* Why a transfer failed, in words a user can act on. */
static int transfer_error(CURL *c, CURLcode rc, const char *base, const struct body *b)
{
    if (b->too_big)
        return err_set("reply from arasd at %s is larger than %d bytes", base, API_BODY_MAX);
    long os_errno = 0;
    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
    const char *why = os_errno ? strerror((int)os_errno) : curl_easy_strerror(rc);
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
        rc == CURLE_COULDNT_RESOLVE_HOST)
        return err_set("cannot reach arasd at %s: %s — is arasd running? (set --api or "
                       "$ARAS_API if it listens elsewhere)",
                       base, why);
    return err_set("request to arasd at %s failed: %s", base, why);
}

/* A non-2xx reply: use the API's {"error":{"message":...}} when there is one. */
static int status_error(long status, const char *method, const char *path, json_t *j)
{
    const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    if (msg)
        return err_set("%s (HTTP %ld)", msg, status);
    return err_set("%s %s: HTTP %ld", method, path, status);
}

/* GET (post_body NULL) or POST a JSON body; see api_get_json(). */
static json_t *request(const char *base, const char *path, const char *post_body, char **raw)
{
    if (strlen(base) + strlen(path) >= API_URL_MAX)
        return err_set("API URL too long"), NULL;
    if (strncmp(base, "http://", 7) != 0)
        return err_set("API URL '%s' must start with http://", base), NULL;
    char url[API_URL_MAX];
    snprintf(url, sizeof(url), "%s%s", base, path);
    CURL *c = curl_easy_init();
    if (!c)
        return err_set("cannot initialise libcurl"), NULL;
    struct body b = {xstrdup(""), 0, false};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    struct curl_slist *headers = NULL;
    if (post_body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post_body);
    }
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    long status = 0;
    json_t *j = NULL;
    if (rc != CURLE_OK) {
        transfer_error(c, rc, base, &b);
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        json_error_t jerr;
        j = json_loadb(b.data, b.len, 0, &jerr);
        if (status < 200 || status > 299) {
            status_error(status, post_body ? "POST" : "GET", path, j);
            json_decref(j);
            j = NULL;
        } else if (!j) {
            err_set("arasd at %s sent a reply that is not JSON: %s", base, jerr.text);
        }
    }
    curl_easy_cleanup(c);
    if (j && raw)
        *raw = STEAL(b.data);
    free(b.data);
    return j;
}

json_t *api_get_json(const char *base, const char *path, char **raw)
{
    return request(base, path, NULL, raw);
}

json_t *api_post_json(const char *base, const char *path, const json_t *body, char **raw)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_t *j = request(base, path, text ? text : "", raw);
    free(text);
    return j;
}

char *api_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    if (!e)
        abort();
    char *out = xstrdup(e);
    curl_free(e);
    return out;
}

const char *api_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "-";
}

const char *api_num(const json_t *obj, const char *key, int decimals, double scale, char *buf,
                    size_t n)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v))
        return "-";
    snprintf(buf, n, "%.*f", decimals, json_number_value(v) * scale);
    return buf;
}

int api_show(const struct api_opts *o, const char *path,
             void (*print)(const json_t *reply, const void *ctx), const void *ctx)
{
    char *raw = NULL;
    json_t *j = api_get_json(api_base_url(o->api), path, &raw);
    if (!j) {
        fprintf(stderr, "arasctl: %s\n", err_msg());
        return 1;
    }
    if (o->json)
        printf("%s\n", raw);
    else
        print(j, ctx);
    free(raw);
    json_decref(j);
    return 0;
}
