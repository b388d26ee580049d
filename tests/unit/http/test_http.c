/* test_http: the REST API end to end over loopback — a server on an ephemeral
 * port, a hand-built snapshot, every endpoint fetched with libcurl. */
#include "http/http.h"
#include "test.h"
#include "util/error.h"
#include "util/mem.h"

#include <curl/curl.h>
#include <dirent.h>
#include <jansson.h>
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

/* GET base+path; returns the status, *out the body (caller frees). */
static long get(const char *path, char **out, char *ctype, size_t ctype_size)
{
    struct body b = {xstrdup(""), 0};
    AUTOFREE char *url = xasprintf("%s%s", base, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    long status = -1;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    if (ctype)
        snprintf(ctype, ctype_size, "%s", ct ? ct : "");
    curl_easy_cleanup(c);
    *out = b.data;
    return status;
}

/* GET path expecting `status` and a JSON body; returns the parsed body. */
static json_t *get_json(const char *path, long status)
{
    char *body;
    char ct[64];
    long st = get(path, &body, ct, sizeof(ct));
    if (st != status)
        fprintf(stderr, "  GET %s: %ld, body %s\n", path, st, body);
    CHECK_INT_EQ(st, status);
    CHECK_STR_EQ(ct, "application/json");
    json_t *j = json_loads(body, 0, NULL);
    CHECK(j != NULL);
    free(body);
    return j;
}

static void publish_cluster(void)
{
    struct inventory inv;
    inventory_init(&inv);
    const char *hosts[] = {"node-b", "node-a"};
    for (int i = 0; i < 2; i++) {
        struct host *h = inventory_add_host(&inv);
        model_name_set(h->name, sizeof(h->name), hosts[i]);
        h->cpus = 8;
        h->mem_kib = 16 << 20;
        h->up = i == 0;
    }
    const char *vms[][2] = {{"web1", "node-a"}, {"db\"1", "node-b"}, {"web2", "node-a"}};
    for (int i = 0; i < 3; i++) {
        struct vm *v = inventory_add_vm(&inv);
        model_name_set(v->name, sizeof(v->name), vms[i][0]);
        model_name_set(v->host, sizeof(v->host), vms[i][1]);
        v->state = VM_STATE_RUNNING;
        v->vcpus = 2;
        v->mem_kib = 1 << 20;
    }
    struct host_rates hr = {.t_ms = 1, .cpu_pct = 42.5, .mem_used_pct = 10, .power_w = 150};
    const struct host_rates *hrs[] = {&hr, NULL};
    struct vm_rates vr = {.t_ms = 1, .cpu_pct = 77.25, .mem_used_pct = -1, .dirty_rate_mib_s = -1};
    const struct vm_rates *vrs[] = {&vr, NULL, &vr};
    const char *uris[] = {"sim://"};
    struct http_view v = {.t_ms = clock_now_ms(&clk),
                          .started_ms = clock_now_ms(&clk) - 5000,
                          .tick_ms = 10000,
                          .ticks = 3,
                          .backend = "sim",
                          .uris = uris,
                          .n_uris = 1,
                          .inv = &inv,
                          .host_rates = hrs,
                          .vm_rates = vrs,
                          .energy_kwh = 1.5};
    http_server_publish(srv, http_snapshot_build(&v));
    inventory_free(&inv); /* the snapshot keeps no pointers into it */
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

static int fds_at_start;

TEST(start)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    fds_at_start = count_fds();
    clock_init_real(&clk);
    hist = history_open(":memory:", 24 * 3600 * 1000, 3600 * 1000);
    CHECK(hist != NULL);
    srv = http_server_start("127.0.0.1", 0, hist, &clk);
    CHECK(srv != NULL);
    CHECK(http_server_port(srv) > 0);
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", (unsigned)http_server_port(srv));
}

TEST(before_first_tick)
{
    json_t *j = get_json("/api/v1/status", 200);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "ticks")), 0);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "hosts")), 0);
    json_decref(j);
    j = get_json("/api/v1/hosts", 200);
    CHECK_INT_EQ(json_array_size(json_object_get(j, "hosts")), 0);
    json_decref(j);
}

TEST(status_hosts_vms)
{
    publish_cluster();
    json_t *j = get_json("/api/v1/status", 200);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "ticks")), 3);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "hosts")), 2);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "hosts_up")), 1);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "vms")), 3);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "uptime_s")), 5);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "backend")), "sim");
    CHECK_NEAR(json_real_value(json_object_get(j, "mean_host_cpu_pct")), 42.5, 1e-9);
    CHECK_NEAR(json_real_value(json_object_get(j, "energy_kwh")), 1.5, 1e-9);
    json_decref(j);

    j = get_json("/api/v1/hosts", 200);
    json_t *hosts = json_object_get(j, "hosts");
    CHECK_INT_EQ(json_array_size(hosts), 2);
    /* sorted by name */
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(hosts, 0), "name")), "node-a");
    json_t *b = json_array_get(hosts, 1);
    CHECK_STR_EQ(json_string_value(json_object_get(b, "name")), "node-b");
    CHECK(json_is_true(json_object_get(b, "up")));
    CHECK_NEAR(json_real_value(json_object_get(b, "cpu_pct")), 42.5, 1e-9);
    CHECK_INT_EQ(json_integer_value(json_object_get(b, "vms")), 1);
    CHECK(json_is_null(json_object_get(json_array_get(hosts, 0), "cpu_pct")));
    json_decref(j);

    j = get_json("/api/v1/hosts/node-a", 200);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "name")), "node-a");
    CHECK(json_is_false(json_object_get(j, "up")));
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "vms")), 2);
    json_decref(j);

    j = get_json("/api/v1/vms", 200);
    CHECK_INT_EQ(json_array_size(json_object_get(j, "vms")), 3);
    json_decref(j);
    j = get_json("/api/v1/vms?host=node-a", 200);
    json_t *vms = json_object_get(j, "vms");
    CHECK_INT_EQ(json_array_size(vms), 2);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(vms, 0), "name")), "web1");
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(vms, 1), "name")), "web2");
    json_decref(j);
    j = get_json("/api/v1/vms/web1", 200);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "host")), "node-a");
    CHECK_STR_EQ(json_string_value(json_object_get(j, "state")), "running");
    CHECK_NEAR(json_real_value(json_object_get(j, "cpu_pct")), 77.25, 1e-9);
    CHECK(json_is_null(json_object_get(j, "mem_used_pct")));
    json_decref(j);
    j = get_json("/api/v1/vms/db%221", 200); /* URL-escaped name with a quote */
    CHECK_STR_EQ(json_string_value(json_object_get(j, "name")), "db\"1");
    json_decref(j);
}

TEST(events)
{
    int64_t now = clock_now_ms(&clk);
    struct history_event e = {.t_ms = now - 3600 * 1000,
                              .severity = HISTORY_SEV_INFO,
                              .object = "vm/web1",
                              .kind = "vm_appeared",
                              .message = "old",
                              .detail = "{\"host\":\"node-a\"}"};
    CHECK_INT_EQ(history_record_event(hist, &e, NULL), 0);
    e.t_ms = now - 1000;
    e.message = "new";
    e.severity = HISTORY_SEV_CRIT;
    CHECK_INT_EQ(history_record_event(hist, &e, NULL), 0);
    json_t *j = get_json("/api/v1/events", 200);
    json_t *evs = json_object_get(j, "events");
    CHECK_INT_EQ(json_array_size(evs), 2);
    json_t *e0 = json_array_get(evs, 0);
    CHECK_STR_EQ(json_string_value(json_object_get(e0, "message")), "old");
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(e0, "detail"), "host")),
                 "node-a");
    json_decref(j);
    j = get_json("/api/v1/events?since=10m", 200);
    evs = json_object_get(j, "events");
    CHECK_INT_EQ(json_array_size(evs), 1);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(evs, 0), "severity")), "crit");
    json_decref(j);
    j = get_json("/api/v1/events?limit=1", 200);
    evs = json_object_get(j, "events");
    CHECK_INT_EQ(json_array_size(evs), 1);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(evs, 0), "message")), "new");
    json_decref(j);
}

/* An error reply: status, JSON {"error":{"status":N,"message":...}} containing want. */
static void expect_error(const char *path, long status, const char *want)
{
    json_t *j = get_json(path, status);
    json_t *err = json_object_get(j, "error");
    CHECK_INT_EQ(json_integer_value(json_object_get(err, "status")), status);
    const char *msg = json_string_value(json_object_get(err, "message"));
    CHECK(msg && strstr(msg, want));
    if (!msg || !strstr(msg, want))
        fprintf(stderr, "  %s: want '%s' in '%s'\n", path, want, msg ? msg : "(null)");
    json_decref(j);
}

TEST(errors)
{
    expect_error("/", 404, "no endpoint '/'");
    expect_error("/api/v2/hosts", 404, "no endpoint");
    expect_error("/api/v1/hosts/", 404, "no host named ''");
    expect_error("/api/v1/hosts/nope", 404, "no host named 'nope'");
    expect_error("/api/v1/vms/nope", 404, "no VM named 'nope'");
    expect_error("/api/v1/events?since=yesterday", 400, "since:");
    expect_error("/api/v1/events?since=-5m", 400, "since:");
    expect_error("/api/v1/events?limit=0", 400, "limit:");
    expect_error("/api/v1/events?limit=99999999", 400, "limit:");
    expect_error("/api/v1/events?limit=12abc", 400, "limit:");
    expect_error("/api/v1/events?colour=red", 400, "unknown query argument 'colour'");
    expect_error("/api/v1/hosts?host=x", 400, "unknown query argument 'host'");
    expect_error("/api/v1/events?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9", 400, "query argument");
    char path[1024] = "/api/v1/events?since=";
    memset(path + strlen(path), '9', 300);
    expect_error(path, 400, "query value too long");
    char longpath[2048] = "/api/v1/hosts/";
    memset(longpath + strlen(longpath), 'x', 1000);
    expect_error(longpath, 414, "longer than");
    /* POST is refused */
    CURL *c = curl_easy_init();
    AUTOFREE char *url = xasprintf("%s/api/v1/hosts", base);
    struct body b = {xstrdup(""), 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CHECK_INT_EQ(curl_easy_perform(c), CURLE_OK);
    long st = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    CHECK_INT_EQ(st, 405);
    CHECK(strstr(b.data, "read-only") != NULL);
    free(b.data);
    curl_easy_cleanup(c);
}

TEST(metrics)
{
    char *body;
    char ct[64];
    CHECK_INT_EQ(get("/metrics", &body, ct, sizeof(ct)), 200);
    CHECK(strncmp(ct, "text/plain", 10) == 0);
    CHECK(strstr(body, "\naras_hosts 2\n") != NULL);
    CHECK(strstr(body, "\naras_hosts_up 1\n") != NULL);
    CHECK(strstr(body, "\naras_vms 3\n") != NULL);
    CHECK(strstr(body, "aras_host_cpu_pct{host=\"node-b\"} 42.500\n") != NULL);
    CHECK(strstr(body, "aras_host_up{host=\"node-a\"} 0\n") != NULL);
    CHECK(strstr(body, "aras_vm_cpu_pct{vm=\"web1\",host=\"node-a\"} 77.250\n") != NULL);
    CHECK(strstr(body, "# TYPE aras_vms gauge\n") != NULL);
    CHECK(strstr(body, "db\\\"1") == NULL); /* no rate for db"1, so no line */
    free(body);
}

/* Readers on another thread while the loop publishes: each reply is a whole
 * snapshot (run under ASan/UBSan to catch use-after-free of an old one). */
static atomic_int reader_done;
static int reader_bad;

static void *reader(void *arg)
{
    (void)arg;
    for (int i = 0; i < 150; i++) {
        char *body;
        long st = get(i % 2 ? "/api/v1/vms" : "/api/v1/hosts/node-b", &body, NULL, 0);
        json_t *j = json_loads(body, 0, NULL);
        if (st != 200 || !j)
            reader_bad++;
        json_decref(j);
        free(body);
    }
    reader_done = 1;
    return NULL;
}

TEST(publish_while_reading)
{
    pthread_t th;
    CHECK_INT_EQ(pthread_create(&th, NULL, reader, NULL), 0);
    int published = 0;
    while (!reader_done) {
        publish_cluster();
        published++;
    }
    pthread_join(th, NULL);
    CHECK_INT_EQ(reader_bad, 0);
    CHECK(published > 1);
}

TEST(address_in_use)
{
    CHECK(http_server_start("127.0.0.1", http_server_port(srv), hist, &clk) == NULL);
    CHECK_ERR_HAS("cannot listen on 127.0.0.1:");
    CHECK_ERR_HAS("Address already in use");
    CHECK(http_server_start("example.org", 0, hist, &clk) == NULL);
    CHECK_ERR_HAS("not an IP address");
}

TEST(stop)
{
    http_server_stop(srv);
    history_close(hist);
    curl_global_cleanup();
    CHECK_INT_EQ(count_fds(), fds_at_start); /* the listening socket is closed too */
}

RUN_TESTS(start, before_first_tick, status_hosts_vms, events, errors, metrics,
          publish_while_reading, address_in_use, stop)
