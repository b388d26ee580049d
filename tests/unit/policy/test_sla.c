/* Unit tests for policy/sla: rules driven on virtual timestamps — sustain
 * windows, one event per episode, hysteresis, cooldown, gaps, vanished VMs,
 * clock jumps, and rule parsing errors. */
#include "policy/sla.h"
#include "test.h"
#include "util/util.h"

#include <math.h>

#define S 1000LL

static struct sla_rule cpu_rule(const char *extra_key, const char *extra_value)
{
    struct sla_rule r;
    sla_rule_init(&r, "cpu-hot");
    CHECK(sla_rule_set(&r, "scope", "vm:web-*") == 0);
    CHECK(sla_rule_set(&r, "metric", "cpu") == 0);
    CHECK(sla_rule_set(&r, "op", ">") == 0);
    CHECK(sla_rule_set(&r, "threshold", "90%") == 0);
    CHECK(sla_rule_set(&r, "clear", "70") == 0);
    CHECK(sla_rule_set(&r, "for", "2m") == 0);
    CHECK(sla_rule_set(&r, "actions", "email, allocate") == 0);
    if (extra_key)
        CHECK(sla_rule_set(&r, extra_key, extra_value) == 0);
    CHECK(sla_rule_validate(&r) == 0);
    return r;
}

static void feed(struct sla_engine *e, int64_t t_ms, const char *vm, double cpu,
                 struct sla_events *out)
{
    struct vm_rates r = {.t_ms = t_ms, .cpu_pct = cpu, .mem_used_pct = -1, .dirty_rate_mib_s = -1};
    sla_engine_observe_vm(e, t_ms, vm, NULL, &r, out);
}

static size_t count(const struct sla_events *ev, enum sla_event_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < ev->n; i++)
        n += ev->v[i].kind == k;
    return n;
}

TEST(fires_only_after_the_whole_window_then_once)
{
    struct sla_rule r = cpu_rule(NULL, NULL);
    struct sla_engine *e = sla_engine_new(&r, 1, 30 * S);
    struct sla_events ev = {0};
    /* 10 s ticks at 95 %: the condition starts at t=0 and must hold 120 s. */
    for (int64_t t = 0; t < 120 * S; t += 10 * S)
        feed(e, t, "web-1", 95, &ev);
    CHECK_INT_EQ(ev.n, 0);
    feed(e, 120 * S, "web-1", 95, &ev);
    CHECK_INT_EQ(count(&ev, SLA_EVENT_FIRED), 1);
    CHECK_INT_EQ(ev.v[0].held_ms, 120 * S);
    CHECK_STR_EQ(ev.v[0].object, "web-1");
    CHECK_STR_EQ(ev.v[0].rule->name, "cpu-hot");
    /* An hour more of overload: still one event (no alert storm). */
    for (int64_t t = 130 * S; t < 3600 * S; t += 10 * S)
        feed(e, t, "web-1", 99, &ev);
    CHECK_INT_EQ(ev.n, 1);
    CHECK_INT_EQ(sla_engine_active(e), 1);
    /* Out-of-scope VM never fires. */
    for (int64_t t = 0; t < 600 * S; t += 10 * S)
        feed(e, t, "db-1", 100, &ev);
    CHECK_INT_EQ(ev.n, 1);
    sla_events_free(&ev);
    sla_engine_free(e);
}

TEST(a_dip_restarts_the_window)
{
    struct sla_rule r = cpu_rule(NULL, NULL);
    struct sla_engine *e = sla_engine_new(&r, 1, 30 * S);
    struct sla_events ev = {0};
    for (int64_t t = 0; t <= 110 * S; t += 10 * S)
        feed(e, t, "web-1", 95, &ev);
    feed(e, 115 * S, "web-1", 50, &ev); /* one sample below: not held over the window */
    for (int64_t t = 120 * S; t < 240 * S; t += 10 * S)
        feed(e, t, "web-1", 95, &ev);
    CHECK_INT_EQ(ev.n, 0);
    feed(e, 240 * S, "web-1", 95, &ev);
    CHECK_INT_EQ(count(&ev, SLA_EVENT_FIRED), 1);
    sla_events_free(&ev);
    sla_engine_free(e);
}

TEST(hysteresis_clears_below_clear_threshold_only)
{
    struct sla_rule r = cpu_rule(NULL, NULL);
    struct sla_engine *e = sla_engine_new(&r, 1, 30 * S);
    struct sla_events ev = {0};
    for (int64_t t = 0; t <= 120 * S; t += 10 * S)
        feed(e, t, "web-1", 95, &ev);
    CHECK_INT_EQ(ev.n, 1);
    /* Oscillating between 75 and 95 stays inside the band: no clear, no re-fire. */
    for (int64_t t = 130 * S; t < 600 * S; t += 10 * S)
        feed(e, t, "web-1", (t / (10 * S)) % 2 ? 75 : 95, &ev);
    CHECK_INT_EQ(ev.n, 1);
    feed(e, 600 * S, "web-1", 70, &ev);
    CHECK_INT_EQ(count(&ev, SLA_EVENT_CLEARED), 1);
    CHECK_NEAR(ev.v[1].value, 70, 1e-9);
    CHECK_INT_EQ(ev.v[1].episode, ev.v[0].episode);
    CHECK_INT_EQ(sla_engine_active(e), 0);
    sla_events_free(&ev);
    sla_engine_free(e);
}

TEST(cooldown_blocks_a_new_episode)
{
    struct sla_rule r = cpu_rule("cooldown", "10m");
    struct sla_engine *e = sla_engine_new(&r, 1, 30 * S);
    struct sla_events ev = {0};
    for (int64_t t = 0; t <= 120 * S; t += 10 * S)
        feed(e, t, "web-1", 95, &ev);
    feed(e, 130 * S, "web-1", 10, &ev); /* cleared */
    /* Overloaded again from 140 s: held for 2 min at 260 s, but the cooldown
     * (10 min from the fire at 120 s) only ends at 720 s. */
    for (int64_t t = 140 * S; t < 720 * S; t += 10 * S)
        feed(e, t, "web-1", 95, &ev);
    CHECK_INT_EQ(count(&ev, SLA_EVENT_FIRED), 1);
    feed(e, 720 * S, "web-1", 95, &ev);
    CHECK_INT_EQ(count(&ev, SLA_EVENT_FIRED), 2);
    CHECK(ev.v[2].episode != ev.v[0].episode);
    sla_events_free(&ev);
    sla_engine_free(e);
}

TEST(gaps_and_unknown_values_restart_the_window)
{
    struct sla_rule r;
    sla_rule_init(&r, "mem-full");
    CHECK(sla_rule_set(&r, "scope", "tag:gold") == 0);
    CHECK(sla_rule_set(&r, "metric", "memory") == 0);
    CHECK(sla_rule_set(&r, "op", ">=") == 0);
    CHECK(sla_rule_set(&r, "threshold", "90") == 0);
    CHECK(sla_rule_set(&r, "for", "60s") == 0);
    CHECK(sla_rule_validate(&r) == 0);
    struct sla_engine *e = sla_engine_new(&r, 1, 25 * S);
    struct sla_events ev = {0};
    struct vm_rates v = {.mem_used_pct = 95, .dirty_rate_mib_s = -1};
    sla_engine_observe_vm(e, 0, "vm-a", "silver, gold", &v, &ev);
    sla_engine_observe_vm(e, 10 * S, "vm-a", "silver, gold", &v, &ev);
    /* 50 s without a sample (agent down): longer than max_gap, window restarts. */
    sla_engine_observe_vm(e, 60 * S, "vm-a", "silver, gold", &v, &ev);
    CHECK_INT_EQ(ev.n, 0);
    /* Guest stops reporting memory (-1): unknown values are skipped... */
    struct vm_rates unknown = v;
    unknown.mem_used_pct = -1;
    for (int64_t t = 70 * S; t < 130 * S; t += 10 * S)
        sla_engine_observe_vm(e, t, "vm-a", "silver, gold", &unknown, &ev);
    /* ...so the next known value comes after a gap: no fire at 130 s. */
    sla_engine_observe_vm(e, 130 * S, "vm-a", "silver, gold", &v, &ev);
    CHECK_INT_EQ(ev.n, 0);
    for (int64_t t = 140 * S; t <= 190 * S; t += 10 * S)
        sla_engine_observe_vm(e, t, "vm-a", "silver, gold", &v, &ev);
    CHECK_INT_EQ(ev.n, 1);
    CHECK_INT_EQ(ev.v[0].t_ms, 190 * S);
    /* A VM without the tag is out of scope. */
    sla_engine_observe_vm(e, 200 * S, "vm-b", "silver, golden", &v, &ev);
    CHECK_INT_EQ(ev.n, 1);
    sla_events_free(&ev);
    sla_engine_free(e);
}

TEST(vanished_vm_closes_its_episode_once)
{
    struct sla_rule r = cpu_rule(NULL, NULL);
    struct sla_engine *e = sla_engine_new(&r, 1, 30 * S);
    struct sla_events ev = {0};
    for (int64_t t = 0; t <= 120 * S; t += 10 * S)
        feed(e, t, "web-1", 95, &ev);
    sla_engine_sweep(e, 150 * S, 60 * S, &ev); /* seen 30 s ago: kept */
    CHECK_INT_EQ(ev.n, 1);
    sla_engine_sweep(e, 300 * S, 60 * S, &ev);
    CHECK_INT_EQ(count(&ev, SLA_EVENT_GONE), 1);
    CHECK(isnan(ev.v[1].value));
    sla_engine_sweep(e, 400 * S, 60 * S, &ev);
    CHECK_INT_EQ(ev.n, 2);
    CHECK_INT_EQ(sla_engine_active(e), 0);
    /* It comes back: a fresh state, a fresh window. */
    feed(e, 500 * S, "web-1", 95, &ev);
    CHECK_INT_EQ(ev.n, 2);
    sla_events_free(&ev);
    sla_engine_free(e);
}

TEST(clock_jumps_do_not_fire_or_stick)
{
    struct sla_rule r = cpu_rule("cooldown", "10m");
    struct sla_engine *e = sla_engine_new(&r, 1, 30 * S);
    struct sla_events ev = {0};
    for (int64_t t = 1000 * S; t < 1100 * S; t += 10 * S)
        feed(e, t, "web-1", 95, &ev);
    /* Jump forward 1 h: the window did not hold over the hole. */
    feed(e, 4700 * S, "web-1", 95, &ev);
    CHECK_INT_EQ(ev.n, 0);
    /* Jump backwards: restart, then fire after a full window from there. */
    for (int64_t t = 500 * S; t < 620 * S; t += 10 * S)
        feed(e, t, "web-1", 95, &ev);
    CHECK_INT_EQ(ev.n, 0);
    feed(e, 620 * S, "web-1", 95, &ev);
    CHECK_INT_EQ(ev.n, 1);
    feed(e, 630 * S, "web-1", 10, &ev);
    CHECK_INT_EQ(ev.n, 2);
    /* Backwards again past the fire time: the cooldown restarts from the new
     * "now" (t = 0) rather than blocking for an hour or being skipped. */
    for (int64_t t = 0; t < 600 * S; t += 10 * S)
        feed(e, t, "web-1", 95, &ev);
    CHECK_INT_EQ(ev.n, 2);
    feed(e, 600 * S, "web-1", 95, &ev);
    CHECK_INT_EQ(count(&ev, SLA_EVENT_FIRED), 2);
    sla_events_free(&ev);
    sla_engine_free(e);
}

TEST(host_rules_and_units)
{
    struct sla_rule r;
    sla_rule_init(&r, "low-mem");
    CHECK(sla_rule_set(&r, "scope", "host:h*") == 0);
    CHECK(sla_rule_set(&r, "metric", "mem_free") == 0);
    CHECK(sla_rule_set(&r, "op", "<") == 0);
    CHECK(sla_rule_set(&r, "threshold", "1G") == 0);
    CHECK(sla_rule_set(&r, "clear", "2G") == 0);
    CHECK_NEAR(r.threshold, 1048576.0, 1e-9);
    CHECK(sla_rule_validate(&r) == 0);
    struct sla_engine *e = sla_engine_new(&r, 1, 30 * S);
    struct sla_events ev = {0};
    struct host_rates h = {.mem_free_kib = 512 * 1024, .disk_util_pct = -1};
    sla_engine_observe_host(e, 0, "h1", &h, &ev);
    CHECK_INT_EQ(ev.n, 1); /* for = 0: fires on the first sample */
    CHECK(ev.v[0].object_is_host);
    h.mem_free_kib = 1536 * 1024; /* above threshold, below clear: still firing */
    sla_engine_observe_host(e, 10 * S, "h1", &h, &ev);
    CHECK_INT_EQ(ev.n, 1);
    h.mem_free_kib = 3 * 1024 * 1024;
    sla_engine_observe_host(e, 20 * S, "h1", &h, &ev);
    CHECK_INT_EQ(count(&ev, SLA_EVENT_CLEARED), 1);
    sla_events_free(&ev);
    sla_engine_free(e);
}

TEST(bad_rules_are_named)
{
    struct sla_rule r;
    sla_rule_init(&r, "bad");
    CHECK(sla_rule_set(&r, "scope", "cluster:x") < 0);
    CHECK_ERR_HAS("scope: scope 'cluster:x' must be vm:GLOB");
    CHECK(sla_rule_set(&r, "threshold", "90") < 0);
    CHECK_ERR_HAS("set 'metric' before");
    CHECK(sla_rule_set(&r, "metric", "gpu") < 0);
    CHECK_ERR_HAS("unknown VM metric 'gpu'");
    CHECK(sla_rule_set(&r, "metric", "cpu") == 0);
    CHECK(sla_rule_set(&r, "threshold", "120%") < 0);
    CHECK_ERR_HAS("above 100");
    CHECK(sla_rule_set(&r, "for", "2 minutes") < 0);
    CHECK_ERR_HAS("for:");
    CHECK(sla_rule_set(&r, "actions", "email, page-the-ceo") < 0);
    CHECK_ERR_HAS("unknown action 'page-the-ceo'");
    CHECK(sla_rule_set(&r, "actions", "script:relative.sh") < 0);
    CHECK(sla_rule_set(&r, "colour", "red") < 0);
    CHECK_ERR_HAS("unknown key 'colour' in rule 'bad'");
    CHECK(sla_rule_validate(&r) < 0);
    CHECK_ERR_HAS("has no 'scope'");
    CHECK(sla_rule_set(&r, "scope", "vm:*") == 0);
    CHECK(sla_rule_set(&r, "op", ">") == 0);
    CHECK(sla_rule_set(&r, "threshold", "90") == 0);
    CHECK(sla_rule_set(&r, "clear", "95") == 0);
    CHECK(sla_rule_validate(&r) < 0);
    CHECK_ERR_HAS("clear 95 must be on the other side of threshold 90");
    struct sla_rule h;
    sla_rule_init(&h, "mixed");
    CHECK(sla_rule_set(&h, "metric", "cpu") == 0); /* VM cpu (no scope yet) */
    CHECK(sla_rule_set(&h, "scope", "host:*") == 0);
    CHECK(sla_rule_set(&h, "op", ">") == 0);
    CHECK(sla_rule_set(&h, "threshold", "90") == 0);
    CHECK(sla_rule_validate(&h) < 0);
    CHECK_ERR_HAS("does not apply to a host scope");
}

RUN_TESTS(fires_only_after_the_whole_window_then_once, a_dip_restarts_the_window,
          hysteresis_clears_below_clear_threshold_only, cooldown_blocks_a_new_episode,
          gaps_and_unknown_values_restart_the_window, vanished_vm_closes_its_episode_once,
          clock_jumps_do_not_fire_or_stick, host_rules_and_units, bad_rules_are_named)
