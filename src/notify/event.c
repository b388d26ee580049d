/* event: the backend-neutral notify_event — field copying, text helpers, and
 * the conversion from an SLA event. */
#include "notify/notify.h"

#include "policy/sla.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void notify_event_init(struct notify_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->value = NAN;
    ev->threshold = NAN;
}

void notify_field_set(char *dst, size_t cap, const char *s)
{
    if (cap == 0)
        return;
    size_t n = s ? strlen(s) : 0;
    if (n >= cap) {
        n = cap - 1;
        /* Do not leave half a UTF-8 sequence: back up over continuation bytes
         * and the lead byte they belong to. */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        dst[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    dst[n] = '\0';
}

void notify_time_rfc3339(int64_t t_ms, char *buf, size_t cap)
{
    time_t secs = (time_t)(t_ms / 1000);
    int ms = (int)(t_ms % 1000);
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(buf, cap, "?");
        return;
    }
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

void notify_value_str(double v, char *buf, size_t cap)
{
    if (isnan(v))
        snprintf(buf, cap, "%s", "");
    else
        snprintf(buf, cap, "%.10g", v);
}

void notify_event_from_sla(struct notify_event *ev, const struct sla_event *se, uint64_t id)
{
    const struct sla_rule *r = se->rule;
    notify_event_init(ev);
    ev->id = id;
    ev->t_ms = se->t_ms;
    ev->episode = se->episode;
    ev->value = se->value;
    notify_field_set(ev->kind, sizeof(ev->kind), sla_event_kind_str(se->kind));
    notify_field_set(ev->object, sizeof(ev->object), se->object);
    notify_field_set(ev->object_kind, sizeof(ev->object_kind), se->object_is_host ? "host" : "vm");
    if (!r)
        return;
    ev->threshold = r->threshold;
    notify_field_set(ev->severity, sizeof(ev->severity), sla_severity_str(r->severity));
    notify_field_set(ev->rule, sizeof(ev->rule), r->name);
    notify_field_set(ev->metric, sizeof(ev->metric), sla_metric_str(r->metric));

    char val[32], thr[32], clr[32], msg[NOTIFY_MESSAGE_MAX];
    notify_value_str(se->value, val, sizeof(val));
    notify_value_str(r->threshold, thr, sizeof(thr));
    notify_value_str(r->clear, clr, sizeof(clr));
    switch (se->kind) {
    case SLA_EVENT_FIRED:
        snprintf(msg, sizeof(msg), "%s fired on %s %s: %s %s %s %s (held %" PRId64 " s)", r->name,
                 ev->object_kind, se->object, ev->metric, val, sla_op_str(r->op), thr,
                 se->held_ms / 1000);
        break;
    case SLA_EVENT_CLEARED:
        snprintf(msg, sizeof(msg), "%s cleared on %s %s: %s %s (clear threshold %s)", r->name,
                 ev->object_kind, se->object, ev->metric, val, clr);
        break;
    default:
        snprintf(msg, sizeof(msg), "%s gone on %s %s: no longer observed, episode closed", r->name,
                 ev->object_kind, se->object);
        break;
    }
    notify_field_set(ev->message, sizeof(ev->message), msg);
}
