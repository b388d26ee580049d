/* event_json: a notify_event as one JSON object (script stdin, mail body) and back. */
#include "notify/notify.h"

#include "util/error.h"
#include "util/mem.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static json_t *num_or_null(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

char *notify_event_to_json(const struct notify_event *ev)
{
    char when[40];
    notify_time_rfc3339(ev->t_ms, when, sizeof(when));
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer((json_int_t)ev->id));
    json_object_set_new(o, "time_ms", json_integer(ev->t_ms));
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "kind", json_string(ev->kind));
    json_object_set_new(o, "severity", json_string(ev->severity));
    json_object_set_new(o, "rule", json_string(ev->rule));
    json_object_set_new(o, "object", json_string(ev->object));
    json_object_set_new(o, "object_kind", json_string(ev->object_kind));
    json_object_set_new(o, "metric", json_string(ev->metric));
    json_object_set_new(o, "value", num_or_null(ev->value));
    json_object_set_new(o, "threshold", num_or_null(ev->threshold));
    json_object_set_new(o, "message", json_string(ev->message));
    json_object_set_new(o, "episode", json_integer((json_int_t)ev->episode));
    /* json_string() returns NULL for invalid UTF-8: the object then lacks the
     * key, which the dump below simply omits. Fields are cut on UTF-8
     * boundaries by notify_field_set(), so this is only for foreign input. */
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(o);
    char *out = xstrdup(s ? s : "{}");
    free(s);
    return out;
}

static int get_str(json_t *o, const char *key, char *dst, size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        dst[0] = '\0';
        return 0;
    }
    if (!json_is_string(v))
        return err_set("event JSON: \"%s\" is not a string", key);
    notify_field_set(dst, cap, json_string_value(v));
    return 0;
}

static int get_num(json_t *o, const char *key, double *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        *out = NAN;
        return 0;
    }
    if (!json_is_number(v))
        return err_set("event JSON: \"%s\" is not a number", key);
    *out = json_number_value(v);
    return 0;
}

static int get_int(json_t *o, const char *key, int64_t min, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        *out = 0;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min)
        return err_set("event JSON: \"%s\" is not an integer >= %lld", key, (long long)min);
    *out = json_integer_value(v);
    return 0;
}

int notify_event_from_json(const char *text, struct notify_event *ev)
{
    json_error_t jerr;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!o)
        return err_set("event JSON: line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    notify_event_init(ev);
    int64_t id = 0, episode = 0;
    int rc = -1;
    if (!json_is_object(o)) {
        err_set("event JSON: not an object");
        goto out;
    }
    if (get_int(o, "id", 0, &id) < 0 || get_int(o, "time_ms", INT64_MIN, &ev->t_ms) < 0 ||
        get_int(o, "episode", 0, &episode) < 0 ||
        get_str(o, "kind", ev->kind, sizeof(ev->kind)) < 0 ||
        get_str(o, "severity", ev->severity, sizeof(ev->severity)) < 0 ||
        get_str(o, "rule", ev->rule, sizeof(ev->rule)) < 0 ||
        get_str(o, "object", ev->object, sizeof(ev->object)) < 0 ||
        get_str(o, "object_kind", ev->object_kind, sizeof(ev->object_kind)) < 0 ||
        get_str(o, "metric", ev->metric, sizeof(ev->metric)) < 0 ||
        get_str(o, "message", ev->message, sizeof(ev->message)) < 0 ||
        get_num(o, "value", &ev->value) < 0 || get_num(o, "threshold", &ev->threshold) < 0)
        goto out;
    ev->id = (uint64_t)id;
    ev->episode = (uint64_t)episode;
    rc = 0;
out:
    json_decref(o);
    return rc;
}
