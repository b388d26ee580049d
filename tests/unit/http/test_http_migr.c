/* test_http_migr: the body of POST /api/v1/migrations — typed parameters
 * parsed and checked member by member (every refusal names the member), the
 * parameters' JSON shape read back, and a migration's API shape from a
 * history row. */
#include "http/http.h"
#include "test.h"
#include "util/error.h"
#include "util/mem.h"

#include <jansson.h>
#include <stdlib.h>

static int parse(const char *body, struct http_migrate_req *r, char *by)
{
    return http_migrate_req_parse(body, strlen(body), r, by);
}

TEST(full_request)
{
    struct http_migrate_req r;
    char by[HTTP_BY_MAX];
    CHECK_INT_EQ(parse("{\"vm\":\"web-1\",\"host\":\"h2\",\"by\":\"alice\",\"params\":{"
                       "\"bandwidth_bytes_per_s\":12500000,\"max_downtime_ms\":300,"
                       "\"auto_converge\":true,\"postcopy\":true,\"postcopy_after_rounds\":2,"
                       "\"compress\":true,\"parallel_connections\":4,\"storage\":\"all\","
                       "\"timeout_ms\":60000,\"migrate_uri\":\"tcp://198.19.0.2\"}}",
                       &r, by),
                 0);
    CHECK_STR_EQ(r.vm, "web-1");
    CHECK_STR_EQ(r.host, "h2");
    CHECK_STR_EQ(by, "alice");
    CHECK_NEAR(r.params.bandwidth_bytes_per_s, 12500000, 0);
    CHECK_INT_EQ(r.params.max_downtime_ms, 300);
    CHECK(r.params.auto_converge && r.params.postcopy && r.params.compress);
    CHECK_INT_EQ(r.params.postcopy_after_rounds, 2);
    CHECK_INT_EQ(r.params.parallel_connections, 4);
    CHECK_INT_EQ(r.params.storage, STORAGE_COPY_ALL);
    CHECK_INT_EQ(r.params.timeout_ms, 60000);
    CHECK_STR_EQ(r.params.dest_uri, "tcp://198.19.0.2");
    /* The JSON shape of the parameters parses back to the same request. */
    json_t *pj = http_migrate_params_json(&r.params);
    json_t *body = json_pack("{s:s, s:s, s:O}", "vm", "web-1", "host", "h2", "params", pj);
    AUTOFREE char *text = json_dumps(body, JSON_COMPACT);
    struct http_migrate_req r2;
    CHECK_INT_EQ(parse(text, &r2, by), 0);
    CHECK(memcmp(&r.params, &r2.params, sizeof(r.params)) == 0);
    CHECK_STR_EQ(by, "api");
    json_decref(body);
    json_decref(pj);
}

TEST(defaults)
{
    struct http_migrate_req r;
    char by[HTTP_BY_MAX];
    CHECK_INT_EQ(parse("{\"vm\":\"a\",\"host\":\"b\"}", &r, by), 0);
    CHECK_STR_EQ(by, "api");
    struct migrate_params zero = {0};
    CHECK(memcmp(&r.params, &zero, sizeof(zero)) == 0);
    json_t *pj = http_migrate_params_json(&r.params);
    CHECK_INT_EQ(json_object_size(pj), 0); /* libvirt's defaults are left out */
    json_decref(pj);
}

TEST(refusals_name_the_member)
{
    static const struct {
        const char *body, *needle;
    } bad[] = {
        {"", "not a JSON object"},
        {"[1]", "not a JSON object"},
        {"{\"vm\":\"a\"}", "\"vm\" and \"host\" are required"},
        {"{\"vm\":\"a\",\"host\":\"b\",\"colour\":1}", "unknown member \"colour\""},
        {"{\"vm\":\"a/b\",\"host\":\"b\"}", "\"vm\" holds a control character or '/'"},
        {"{\"vm\":\"\",\"host\":\"b\"}", "\"vm\" must be a string"},
        {"{\"vm\":1,\"host\":\"b\"}", "\"vm\" must be a string"},
        {"{\"vm\":\"a\",\"vm\":\"c\",\"host\":\"b\"}", "not a JSON object"},
        {"{\"vm\":\"a\",\"host\":\"b\",\"params\":[]}", "\"params\" must be an object"},
        {"{\"vm\":\"a\",\"host\":\"b\",\"params\":{\"max_downtime_ms\":-1}}",
         "\"params\".\"max_downtime_ms\" must be an integer from 0"},
        {"{\"vm\":\"a\",\"host\":\"b\",\"params\":{\"max_downtime_ms\":1.5}}",
         "\"params\".\"max_downtime_ms\""},
        {"{\"vm\":\"a\",\"host\":\"b\",\"params\":{\"parallel_connections\":256}}",
         "\"params\".\"parallel_connections\""},
        {"{\"vm\":\"a\",\"host\":\"b\",\"params\":{\"bandwidth_bytes_per_s\":-5}}",
         "\"params\".\"bandwidth_bytes_per_s\""},
        {"{\"vm\":\"a\",\"host\":\"b\",\"params\":{\"auto_converge\":1}}",
         "\"params\".\"auto_converge\" must be true or false"},
        {"{\"vm\":\"a\",\"host\":\"b\",\"params\":{\"storage\":\"some\"}}",
         "\"params\".\"storage\" must be"},
        {"{\"vm\":\"a\",\"host\":\"b\",\"params\":{\"migrate_uri\":\"198.19.0.2\"}}",
         "\"params\".\"migrate_uri\" must be a URI"},
        {"{\"vm\":\"a\",\"host\":\"b\",\"params\":{\"migrate_uri\":\"tcp://a b\"}}",
         "blank or control character"},
        {"{\"vm\":\"a\",\"host\":\"b\",\"params\":{\"postcopy_after_rounds\":1}}",
         "need \"postcopy\": true"},
        {"{\"vm\":\"a\",\"host\":\"b\",\"params\":{\"speed\":1}}",
         "unknown member \"params\".\"speed\""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http_migrate_req r;
        char by[HTTP_BY_MAX];
        CHECK_INT_EQ(parse(bad[i].body, &r, by), -1);
        if (!strstr(err_msg(), bad[i].needle))
            fprintf(stderr, "body %s: error '%s' lacks '%s'\n", bad[i].body, err_msg(),
                    bad[i].needle);
        CHECK_ERR_HAS(bad[i].needle);
    }
}

TEST(migration_shape)
{
    struct history_migration m = {.id = 7,
                                  .vm = "web",
                                  .src = "h1",
                                  .dst = "h2",
                                  .origin = "operator alice",
                                  .params = "{\"max_downtime_ms\":300}",
                                  .state = "running",
                                  .created_ms = 1000,
                                  .started_ms = 1100,
                                  .elapsed_ms = -1,
                                  .downtime_ms = -1,
                                  .bytes = -1};
    struct migrate_progress p = {.state = MIGRATE_JOB_RUNNING,
                                 .elapsed_ms = 900,
                                 .data_total_bytes = 400,
                                 .data_processed_bytes = 300,
                                 .data_remaining_bytes = 100,
                                 .iterations = 2};
    json_t *j = http_migration_json(&m, &p);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "id")), 7);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "state")), "running");
    CHECK(json_is_null(json_object_get(j, "decision_id")));
    CHECK(json_is_null(json_object_get(j, "finished_ms")));
    CHECK(json_is_null(json_object_get(j, "downtime_ms")));
    CHECK_INT_EQ(
        json_integer_value(json_object_get(json_object_get(j, "params"), "max_downtime_ms")), 300);
    const json_t *pr = json_object_get(j, "progress");
    CHECK_NEAR(json_real_value(json_object_get(pr, "percent")), 75.0, 1e-9);
    CHECK_INT_EQ(json_integer_value(json_object_get(pr, "iterations")), 2);
    json_decref(j);
    /* Finished: no progress object, the figures instead. */
    m.state = "completed";
    m.finished_ms = 2000;
    m.elapsed_ms = 900;
    m.downtime_ms = 12;
    m.bytes = 300;
    m.params = NULL;
    j = http_migration_json(&m, NULL);
    CHECK(json_object_get(j, "progress") == NULL);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "downtime_ms")), 12);
    CHECK_INT_EQ(json_object_size(json_object_get(j, "params")), 0);
    json_decref(j);
}

RUN_TESTS(full_request, defaults, refusals_name_the_member, migration_shape)
