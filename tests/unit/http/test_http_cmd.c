/* test_http_cmd: the allocator's endpoints — GET /api/v1/decisions from the
 * history, GET /api/v1/pending as published, and POST approve/reject handed
 * to a loop thread through the command queue (answered, refused, and not
 * taken in time). */
#include "http/http.h"
#include "test.h"
#include "util/error.h"
#include "util/mem.h"

#include <curl/curl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

static struct http_server *srv;
static struct history *hist;
static struct clock clk;
static char base[64];

struct body {
    char *data;
    size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct body *b = ud;
    b->data = xrealloc(b->data, b->len + size * n + 1);
    memcpy(b->data + b->len, p, size * n);
    b->len += size * n;
    b->data[b->len] = '\0';
    return size * n;
}

/* GET (post NULL) or POST path; returns the status and the parsed body. */
static long call(const char *path, const char *post, json_t **out)
{
    struct body b = {xstrdup(""), 0};
    AUTOFREE char *url = xasprintf("%s%s", base, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (post)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
    long status = -1;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    *out = json_loads(b.data, 0, NULL);
    CHECK(*out != NULL);
    free(b.data);
    return status;
}

static const char *error_message(const json_t *j)
{
    const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    return m ? m : "";
}

/* The fake loop: answers commands like the daemon's allocator would. */
static atomic_bool loop_stop, loop_paused;
static atomic_int loop_taken;

static void *loop_main(void *arg)
{
    (void)arg;
    while (!loop_stop) {
        struct pollfd p = {.fd = http_server_cmd_fd(srv), .events = POLLIN};
        if (poll(&p, 1, 20) <= 0 || loop_paused)
            continue;
        struct http_cmd *c;
        while ((c = http_server_cmd_take(srv)) != NULL) {
            loop_taken++;
            if (c->id == 1) {
                c->status = 200;
                snprintf(c->message, sizeof(c->message), "#1 %s by %s",
                         c->kind == HTTP_CMD_APPROVE ? "approved" : "rejected", c->by);
            } else {
                c->status = c->id == 2 ? 409 : 404;
                snprintf(c->message, sizeof(c->message), "no recommendation with id %llu",
                         (unsigned long long)c->id);
            }
            http_server_cmd_answer(srv, c);
        }
    }
    return NULL;
}

static pthread_t loop_thread;

TEST(start)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    clock_init_real(&clk);
    hist = history_open(":memory:", 24 * 3600 * 1000, 3600 * 1000);
    CHECK(hist != NULL);
    srv = http_server_start("127.0.0.1", 0, hist, &clk);
    CHECK(srv != NULL);
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", (unsigned)http_server_port(srv));
    CHECK_INT_EQ(pthread_create(&loop_thread, NULL, loop_main, NULL), 0);
}

TEST(decisions_from_history)
{
    int64_t now = clock_now_ms(&clk);
    struct history_decision d = {.t_ms = now,
                                 .vm = "web-1",
                                 .action = "add-vcpu",
                                 .reason = "[#1, semi] host h1 CPU 20% < High 80%",
                                 .state = "waiting"};
    CHECK_INT_EQ(history_record_decision(hist, &d, NULL), 0);
    d.state = "done";
    CHECK_INT_EQ(history_record_decision(hist, &d, NULL), 0);
    json_t *j;
    CHECK_INT_EQ(call("/api/v1/decisions?since=1h&limit=10", NULL, &j), 200);
    json_t *arr = json_object_get(j, "decisions");
    CHECK_INT_EQ(json_array_size(arr), 2);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(arr, 0), "state")), "waiting");
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(arr, 1), "vm")), "web-1");
    json_decref(j);
    CHECK_INT_EQ(call("/api/v1/decisions?limit=0", NULL, &j), 400);
    json_decref(j);
}

TEST(pending_as_published)
{
    json_t *j;
    CHECK_INT_EQ(call("/api/v1/pending", NULL, &j), 200);
    CHECK_INT_EQ(json_array_size(json_object_get(j, "pending")), 0);
    json_decref(j);
    http_server_publish_pending(srv, xstrdup("{\"t_ms\":1,\"pending\":[{\"id\":7}]}"));
    CHECK_INT_EQ(call("/api/v1/pending", NULL, &j), 200);
    CHECK_INT_EQ(
        json_integer_value(json_object_get(json_array_get(json_object_get(j, "pending"), 0), "id")),
        7);
    json_decref(j);
}

TEST(approve_and_reject)
{
    json_t *j;
    CHECK_INT_EQ(call("/api/v1/pending/1/approve", "{\"by\":\"alice\"}", &j), 200);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "message")), "#1 approved by alice");
    CHECK_STR_EQ(json_string_value(json_object_get(j, "by")), "alice");
    json_decref(j);
    /* no body: "api" */
    CHECK_INT_EQ(call("/api/v1/pending/1/reject", "", &j), 200);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "message")), "#1 rejected by api");
    json_decref(j);
    CHECK_INT_EQ(call("/api/v1/pending/2/approve", "", &j), 409);
    CHECK(strstr(error_message(j), "no recommendation with id 2") != NULL);
    json_decref(j);
    CHECK_INT_EQ(call("/api/v1/pending/3/approve", "", &j), 404);
    json_decref(j);
}

TEST(bad_requests_never_reach_the_loop)
{
    int before = loop_taken;
    json_t *j;
    CHECK_INT_EQ(call("/api/v1/pending/1/approve", "{\"by\":", &j), 400);
    CHECK(strstr(error_message(j), "not a JSON object") != NULL);
    json_decref(j);
    CHECK_INT_EQ(call("/api/v1/pending/1/approve", "{\"who\":\"x\"}", &j), 400);
    CHECK(strstr(error_message(j), "unknown member 'who'") != NULL);
    json_decref(j);
    CHECK_INT_EQ(call("/api/v1/pending/1/approve", "{\"by\":\"a\\nb\"}", &j), 400);
    json_decref(j);
    char big[HTTP_BODY_MAX + 100];
    memset(big, ' ', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_INT_EQ(call("/api/v1/pending/1/approve", big, &j), 400);
    CHECK(strstr(error_message(j), "longer than") != NULL);
    json_decref(j);
    CHECK_INT_EQ(call("/api/v1/pending/0/approve", "", &j), 405);
    json_decref(j);
    CHECK_INT_EQ(call("/api/v1/pending/1/explode", "", &j), 405);
    json_decref(j);
    CHECK_INT_EQ(call("/api/v1/hosts", "x=1", &j), 405);
    CHECK(strstr(error_message(j), "read-only") != NULL);
    json_decref(j);
    CHECK_INT_EQ(loop_taken, before);
}

TEST(loop_that_does_not_answer)
{
    loop_paused = true;
    json_t *j;
    CHECK_INT_EQ(call("/api/v1/pending/1/approve", "", &j), 503);
    CHECK(strstr(error_message(j), "did not take the request") != NULL);
    json_decref(j);
    loop_paused = false;
    /* The withdrawn command is gone: the next one is answered normally. */
    int before = loop_taken;
    CHECK_INT_EQ(call("/api/v1/pending/1/approve", "", &j), 200);
    json_decref(j);
    CHECK_INT_EQ(loop_taken, before + 1);
}

TEST(stop)
{
    loop_stop = true;
    pthread_join(loop_thread, NULL);
    http_server_stop(srv);
    history_close(hist);
    curl_global_cleanup();
}

RUN_TESTS(start, decisions_from_history, pending_as_published, approve_and_reject,
          bad_requests_never_reach_the_loop, loop_that_does_not_answer, stop)
