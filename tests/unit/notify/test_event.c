/* test_event: notify_event from SLA events, field sanitising, JSON round trip. */
#include "notify/notify.h"
#include "policy/sla.h"
#include "util/error.h"
#include "test.h"

#include <stdlib.h>

static void cpu_rule(struct sla_rule *r)
{
    sla_rule_init(r, "cpu-hot");
    CHECK(sla_rule_set(r, "scope", "vm:web-*") == 0);
    CHECK(sla_rule_set(r, "metric", "cpu") == 0);
    CHECK(sla_rule_set(r, "op", ">") == 0);
    CHECK(sla_rule_set(r, "threshold", "90") == 0);
    CHECK(sla_rule_set(r, "clear", "80") == 0);
    CHECK(sla_rule_set(r, "severity", "critical") == 0);
    CHECK(sla_rule_validate(r) == 0);
}

TEST(from_sla_fired)
{
    struct sla_rule r;
    cpu_rule(&r);
    struct sla_event se = {.t_ms = 1795333500123,
                           .kind = SLA_EVENT_FIRED,
                           .rule = &r,
                           .value = 93.5,
                           .held_ms = 60000,
                           .episode = 7};
    snprintf(se.object, sizeof(se.object), "web-1");
    struct notify_event ev;
    notify_event_from_sla(&ev, &se, 42);
    CHECK_INT_EQ(ev.id, 42);
    CHECK_INT_EQ(ev.t_ms, 1795333500123);
    CHECK_STR_EQ(ev.kind, "fired");
    CHECK_STR_EQ(ev.severity, "critical");
    CHECK_STR_EQ(ev.rule, "cpu-hot");
    CHECK_STR_EQ(ev.object, "web-1");
    CHECK_STR_EQ(ev.object_kind, "vm");
    CHECK_STR_EQ(ev.metric, "cpu");
    CHECK_NEAR(ev.value, 93.5, 0);
    CHECK_NEAR(ev.threshold, 90, 0);
    CHECK_INT_EQ(ev.episode, 7);
    CHECK_STR_EQ(ev.message, "cpu-hot fired on vm web-1: cpu 93.5 > 90 (held 60 s)");
}

TEST(from_sla_cleared_and_gone)
{
    struct sla_rule r;
    cpu_rule(&r);
    struct sla_event se = {.t_ms = 1000,
                           .kind = SLA_EVENT_CLEARED,
                           .rule = &r,
                           .value = 75,
                           .object_is_host = true,
                           .episode = 3};
    snprintf(se.object, sizeof(se.object), "node-a");
    struct notify_event ev;
    notify_event_from_sla(&ev, &se, 1);
    CHECK_STR_EQ(ev.kind, "cleared");
    CHECK_STR_EQ(ev.object_kind, "host");
    CHECK_STR_EQ(ev.message, "cpu-hot cleared on host node-a: cpu 75 (clear threshold 80)");
    se.kind = SLA_EVENT_GONE;
    se.value = NAN;
    notify_event_from_sla(&ev, &se, 2);
    CHECK_STR_EQ(ev.kind, "gone");
    CHECK(isnan(ev.value));
    CHECK(strstr(ev.message, "no longer observed") != NULL);
}

TEST(field_set_sanitises_and_cuts)
{
    char buf[8];
    notify_field_set(buf, sizeof(buf), "a\r\nb\tc");
    CHECK_STR_EQ(buf, "a??b?c");
    notify_field_set(buf, sizeof(buf), "abcdefghij");
    CHECK_STR_EQ(buf, "abcdefg");
    /* "abcde" + "é" (2 bytes) + "x": the cut must not split the "é". */
    notify_field_set(buf, 7, "abcde\xc3\xa9x");
    CHECK_STR_EQ(buf, "abcde");
    notify_field_set(buf, sizeof(buf), NULL);
    CHECK_STR_EQ(buf, "");
}

TEST(time_and_value_text)
{
    char buf[40];
    notify_time_rfc3339(1795333500123, buf, sizeof(buf));
    CHECK_STR_EQ(buf, "2026-11-22T07:45:00.123Z");
    notify_time_rfc3339(0, buf, sizeof(buf));
    CHECK_STR_EQ(buf, "1970-01-01T00:00:00.000Z");
    notify_value_str(93.5, buf, sizeof(buf));
    CHECK_STR_EQ(buf, "93.5");
    notify_value_str(1e9, buf, sizeof(buf));
    CHECK_STR_EQ(buf, "1000000000");
    notify_value_str(NAN, buf, sizeof(buf));
    CHECK_STR_EQ(buf, "");
}

TEST(json_round_trip)
{
    struct notify_event ev, back;
    notify_event_init(&ev);
    ev.id = 9007199254740993ull; /* above 2^53: must stay an integer */
    ev.t_ms = 1795333500123;
    snprintf(ev.kind, sizeof(ev.kind), "fired");
    snprintf(ev.severity, sizeof(ev.severity), "warning");
    snprintf(ev.rule, sizeof(ev.rule), "mem \"quoted\"");
    snprintf(ev.object, sizeof(ev.object), "db-\xc3\xa9");
    snprintf(ev.object_kind, sizeof(ev.object_kind), "vm");
    snprintf(ev.metric, sizeof(ev.metric), "memory");
    ev.value = 0.1;
    ev.episode = 12;
    snprintf(ev.message, sizeof(ev.message), "line");
    char *json = notify_event_to_json(&ev);
    CHECK(strstr(json, "\"threshold\":null") != NULL);
    CHECK(strstr(json, "\"time\":\"2026-11-22T07:45:00.123Z\"") != NULL);
    CHECK(strstr(json, "\"id\":9007199254740993") != NULL);
    CHECK(notify_event_from_json(json, &back) == 0);
    CHECK_INT_EQ(back.id, ev.id);
    CHECK_INT_EQ(back.t_ms, ev.t_ms);
    CHECK_STR_EQ(back.rule, ev.rule);
    CHECK_STR_EQ(back.object, ev.object);
    CHECK_NEAR(back.value, 0.1, 0);
    CHECK(isnan(back.threshold));
    CHECK_INT_EQ(back.episode, 12);
    free(json);
}

TEST(json_rejects_bad_input)
{
    struct notify_event ev;
    CHECK(notify_event_from_json("{", &ev) < 0);
    CHECK(notify_event_from_json("[1]", &ev) < 0);
    CHECK_ERR_HAS("not an object");
    CHECK(notify_event_from_json("{\"rule\": 5}", &ev) < 0);
    CHECK_ERR_HAS("\"rule\"");
    CHECK(notify_event_from_json("{\"id\": -1}", &ev) < 0);
    CHECK(notify_event_from_json("{\"value\": \"x\"}", &ev) < 0);
}

RUN_TESTS(from_sla_fired, from_sla_cleared_and_gone, field_set_sanitises_and_cuts,
          time_and_value_text, json_round_trip, json_rejects_bad_input)
