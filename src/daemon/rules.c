/* rules: arasd's SLA rules and event controller — each tick's rates go to the
 * rule engine (policy/sla.h); every event it returns is recorded in the
 * history and fanned out to the rule's actions: e-mail (spooled here, sent by
 * the notify worker with back-off), SNMP trap and script (run on the notify
 * worker), allocate (a request for the resource allocation controller). */
#include "daemon/daemon.h"

#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define SMTP_TIMEOUT_MS (30 * 1000)

static int64_t max_gap_ms(const struct conf *c)
{
    /* "Held" tolerates one missed tick, not two. */
    return c->tick_ms * 5 / 2;
}

static void email_flush(struct worker *w)
{
    struct daemon *d = w->d;
    if (d->email)
        notify_email_flush(d->email, clock_now_ms(&d->clock));
}

static int email_init(struct daemon *d)
{
    const struct conf *c = d->conf;
    if (!c->email_url)
        return 0;
    struct notify_email_conf ec = {.url = c->email_url,
                                   .user = c->email_user,
                                   .password = c->email_password,
                                   .from = c->email_from,
                                   .timeout_ms = SMTP_TIMEOUT_MS};
    if (notify_tls_parse(c->email_tls, &ec.tls) < 0)
        return -1;
    for (size_t i = 0; i < c->n_email_to && i < NOTIFY_EMAIL_TO_MAX; i++)
        ec.to[ec.n_to++] = c->email_to[i];
    struct notify_spool_conf sc = {.dir = c->email_spool_dir,
                                   .retry_base_ms = c->email_retry_base_ms,
                                   .retry_max_ms = c->email_retry_max_ms};
    d->email = notify_email_new(&ec, &sc, clock_now_ms(&d->clock));
    if (!d->email)
        return err_prefix("[email]");
    log_info("daemon", "e-mail notifications to %zu recipient(s) via %s, spool %s", ec.n_to, ec.url,
             sc.dir);
    return 0;
}

/* SNMP settings point into the boot configuration, which lives until exit:
 * [snmp] changes need a restart. For v3, snmpEngineBoots comes from a counter
 * in the history database that grows at every start, so receivers never see
 * engine time go backwards under the same boots value (RFC 3414 2.2.2). */
static int snmp_init(struct daemon *d)
{
    const struct conf *c = d->boot_conf;
    if (!c->snmp_target)
        return 0;
    int64_t boots = 1;
    if (c->snmp_v3 && history_counter_next(d->history, "snmp_engine_boots", &boots) < 0)
        return err_prefix("[snmp] cannot persist snmpEngineBoots");
    d->snmp = (struct notify_snmp_conf){.version = c->snmp_v3 ? NOTIFY_SNMP_V3 : NOTIFY_SNMP_V2C,
                                        .target = c->snmp_target,
                                        .community = c->snmp_community,
                                        .user = c->snmp_user,
                                        .auth_pass = c->snmp_auth_pass,
                                        .priv_pass = c->snmp_priv_pass,
                                        .engine_id = c->snmp_engine_id,
                                        .engine_boots = (unsigned)boots,
                                        .uptime_origin_ms = clock_mono_ms(&d->clock)};
    d->snmp_on = true;
    log_info("daemon", "SNMP traps (%s) to %s", c->snmp_v3 ? "v3" : "v2c", c->snmp_target);
    return 0;
}

int rules_init(struct daemon *d)
{
    d->sla = sla_engine_new(d->conf->rules, d->conf->n_rules, max_gap_ms(d->conf));
    if (email_init(d) < 0)
        return -1;
    if (snmp_init(d) < 0)
        return -1;
    if (worker_start(&d->notify_worker, "notify", d, email_flush) < 0)
        return -1;
    if (worker_start(&d->action_worker, "action", d, NULL) < 0)
        return -1;
    log_info("daemon", "%zu SLA rule(s), allocator mode %s", d->conf->n_rules,
             rac_mode_str(d->conf->alloc_mode));
    return 0;
}

void rules_reload(struct daemon *d, const struct conf *next)
{
    size_t open_episodes = sla_engine_active(d->sla);
    sla_engine_free(d->sla);
    d->sla = sla_engine_new(next->rules, next->n_rules, max_gap_ms(next));
    log_info("daemon",
             "SIGHUP: %zu SLA rule(s) loaded; rule state starts afresh (%zu open episode(s) "
             "restart: a condition that still holds fires again after its 'for' window)",
             next->n_rules, open_episodes);
}

void rules_free(struct daemon *d)
{
    worker_stop(&d->notify_worker);
    worker_stop(&d->action_worker);
    sla_engine_free(d->sla);
    sla_events_free(&d->sla_events);
    notify_email_free(d->email);
}

static enum history_severity severity_of(const struct sla_event *se)
{
    if (se->kind != SLA_EVENT_FIRED)
        return HISTORY_SEV_INFO;
    switch (se->rule->severity) {
    case SLA_SEVERITY_CRITICAL:
        return HISTORY_SEV_CRIT;
    case SLA_SEVERITY_WARNING:
        return HISTORY_SEV_WARN;
    default:
        return HISTORY_SEV_INFO;
    }
}

static void post_job(struct daemon *d, enum job_kind kind, const struct notify_event *ne,
                     const char *script)
{
    struct job *j = xcalloc(1, sizeof(*j));
    j->kind = kind;
    j->ev = *ne;
    if (script)
        snprintf(j->script, sizeof(j->script), "%s", script);
    j->script_timeout_ms = d->conf->script_timeout_ms;
    worker_post(&d->notify_worker, j);
}

/* Run the rule's actions for one event. Notifications go out for every kind
 * of event (fired, cleared, gone); "allocate" only when a VM rule fires. */
static void run_actions(struct daemon *d, const struct sla_event *se, const struct notify_event *ne,
                        int64_t t_ms)
{
    const struct sla_rule *r = se->rule;
    for (size_t i = 0; i < r->n_actions; i++) {
        const char *a = r->actions[i];
        if (strcmp(a, "email") == 0) {
            if (!d->email)
                log_warn("daemon", "rule %s: action email, but [email] is not set up", r->name);
            else if (notify_email_enqueue(d->email, ne, t_ms) < 0)
                evlist_add(&d->events, t_ms, HISTORY_SEV_WARN, "email_failed",
                           xasprintf("rule/%s", r->name),
                           xasprintf("e-mail for '%s' not spooled: %s", ne->message, err_msg()),
                           NULL);
        } else if (strcmp(a, "snmp") == 0) {
            if (d->snmp_on)
                post_job(d, JOB_SNMP, ne, NULL);
            else
                log_warn("daemon", "rule %s: action snmp, but [snmp] is not set up", r->name);
        } else if (strncmp(a, "script:", 7) == 0) {
            post_job(d, JOB_SCRIPT, ne, a + 7);
        } else if (strcmp(a, "allocate") == 0) {
            if (se->kind == SLA_EVENT_FIRED && !se->object_is_host)
                alloc_request(d, se);
        } else if (strcmp(a, "log") == 0) {
            log_info("sla", "%s", ne->message);
        }
    }
}

static void handle_event(struct daemon *d, const struct sla_event *se, int64_t t_ms)
{
    struct notify_event ne;
    notify_event_from_sla(&ne, se, ++d->next_notify_id);
    ne.t_ms = t_ms;
    /* The kind string must outlive the evlist entry: static names. */
    static const char *const kinds[] = {"sla_fired", "sla_cleared", "sla_gone"};
    const char *k = (unsigned)se->kind < ARRAY_LEN(kinds) ? kinds[se->kind] : "sla";
    evlist_add(&d->events, t_ms, severity_of(se), k,
               xasprintf("%s/%s", se->object_is_host ? "host" : "vm", se->object),
               xasprintf("%s (episode %" PRIu64 ")", ne.message, se->episode),
               notify_event_to_json(&ne));
    run_actions(d, se, &ne, t_ms);
}

void rules_tick(struct daemon *d, const struct inventory *inv, int64_t t_ms)
{
    struct sla_events *out = &d->sla_events;
    for (size_t i = 0; i < inv->n_vms; i++) {
        const struct vm *v = &inv->vms[i];
        const struct vm_rates *r = monitor_vm_latest(d->monitor, v->name);
        if (!r)
            continue;
        const struct conf_vm *cv = conf_vm_find(d->conf, v->name);
        sla_engine_observe_vm(d->sla, t_ms, v->name, cv && cv->tags[0] ? cv->tags : NULL, r, out);
    }
    for (size_t i = 0; i < inv->n_hosts; i++) {
        const struct host_rates *r = monitor_host_latest(d->monitor, inv->hosts[i].name);
        if (r)
            sla_engine_observe_host(d->sla, t_ms, inv->hosts[i].name, r, out);
    }
    sla_engine_sweep(d->sla, t_ms, 3 * d->conf->tick_ms, out);
    for (size_t i = 0; i < out->n; i++)
        handle_event(d, &out->v[i], t_ms);
    sla_events_clear(out);
}

static void script_result(struct job *j, const struct notify_script_result *res)
{
    char how[96];
    if (res->timed_out)
        snprintf(how, sizeof(how), "timed out and was killed");
    else if (res->signaled)
        snprintf(how, sizeof(how), "was killed by signal %d", res->term_signal);
    else
        snprintf(how, sizeof(how), "exited %d", res->exit_status);
    j->ok = res->exited && res->exit_status == 0 && !res->timed_out;
    /* The first line of stderr says why, for a failing script. */
    const char *err = res->err ? res->err : "";
    int n = (int)strcspn(err, "\n");
    snprintf(j->result, sizeof(j->result),
             "script %s for %s %s on %s %s after %" PRId64 " ms%s%.*s", j->script, j->ev.rule,
             j->ev.kind, j->ev.object, how, res->duration_ms, !j->ok && n ? ": " : "",
             !j->ok ? n : 0, err);
}

void rules_job_run(struct daemon *d, struct job *j)
{
    if (j->kind == JOB_SNMP) {
        int rc = notify_snmp_send(&d->snmp, &j->ev, clock_mono_ms(&d->clock));
        j->ok = rc == 0;
        snprintf(j->result, sizeof(j->result), "SNMP trap for %s %s on %s to %s: %s", j->ev.rule,
                 j->ev.kind, j->ev.object, d->snmp.target, rc == 0 ? "sent" : err_msg());
        return;
    }
    struct notify_script_conf sc = {.path = j->script, .timeout_ms = j->script_timeout_ms};
    struct notify_script_result res;
    if (notify_script_run(&sc, &j->ev, &res) < 0) {
        j->ok = false;
        snprintf(j->result, sizeof(j->result), "script %s for %s on %s could not start: %s",
                 j->script, j->ev.rule, j->ev.object, err_msg());
        return;
    }
    script_result(j, &res);
    notify_script_result_free(&res);
}

void rules_job_done(struct daemon *d, const struct job *j, int64_t t_ms)
{
    const char *kind = j->kind == JOB_SNMP ? "snmp_result" : "script_result";
    evlist_add(&d->events, t_ms, j->ok ? HISTORY_SEV_INFO : HISTORY_SEV_WARN, kind,
               xasprintf("%s/%s", j->ev.object_kind, j->ev.object), xstrdup(j->result), NULL);
}
