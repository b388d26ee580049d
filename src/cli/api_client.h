/* api_client: how arasctl's daemon commands talk to arasd's REST API (libcurl). */
#ifndef ARAS_CLI_API_CLIENT_H
#define ARAS_CLI_API_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

#define API_DEFAULT_URL "http://127.0.0.1:8470"
#define API_BODY_MAX    (64 * 1024 * 1024) /* bytes of one response */
#define API_URL_MAX     1024

/* The API base URL: `opt` (--api) if given, else $ARAS_API, else the default. */
const char *api_base_url(const char *opt);

/* GET base+path and parse the JSON body. Returns a new reference, or NULL with
 * err_set(): "cannot reach arasd at URL: Connection refused — is arasd
 * running?", or the API's own error message with its HTTP status. If raw is
 * non-NULL, *raw gets the body as received (caller frees) for --json. */
json_t *api_get_json(const char *base, const char *path, char **raw);

/* POST body (NULL: empty body) as JSON to base+path; otherwise as api_get_json(). */
json_t *api_post_json(const char *base, const char *path, const json_t *body, char **raw);

/* URL-escape s for a query value (caller frees). */
char *api_escape(const char *s);

/* Small helpers for reading replies: a member as text, "-" when null/absent. */
const char *api_str(const json_t *obj, const char *key);
/* A number member formatted with `decimals`, "-" when null/absent; buf has size n. */
const char *api_num(const json_t *obj, const char *key, int decimals, double scale, char *buf,
                    size_t n);

/* Options every daemon command takes; fill from getopt in each command. */
struct api_opts {
    const char *api;
    bool json;
};

/* The tail of every listing command: GET path from the API named by o; with
 * --json print the reply as received, else hand it to print(reply, ctx).
 * Returns the command's exit status (1 with the error printed on failure). */
int api_show(const struct api_opts *o, const char *path,
             void (*print)(const json_t *reply, const void *ctx), const void *ctx);

#endif
