/* sla_rule: SLA rule definitions — enum tables, key=value parsing, validation. */
#include "policy/sla.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <string.h>

enum rule_key_bit {
    KEY_SCOPE = 1u << 0,
    KEY_METRIC = 1u << 1,
    KEY_OP = 1u << 2,
    KEY_THRESHOLD = 1u << 3,
    KEY_CLEAR = 1u << 4,
};

enum metric_unit { UNIT_PERCENT, UNIT_NUMBER, UNIT_RATE_BYTES, UNIT_SIZE_KIB, UNIT_RATE_MIB };

static const struct {
    const char *name;
    bool host;
    enum metric_unit unit;
} metric_table[] = {
    [SLA_METRIC_VM_CPU_PCT] = {"cpu", false, UNIT_PERCENT},
    [SLA_METRIC_VM_MEM_PCT] = {"memory", false, UNIT_PERCENT},
    [SLA_METRIC_VM_DISK_IOPS] = {"disk_iops", false, UNIT_NUMBER},
    [SLA_METRIC_VM_DISK_BYTES_PER_S] = {"disk_bytes", false, UNIT_RATE_BYTES},
    [SLA_METRIC_VM_NET_BYTES_PER_S] = {"net_bytes", false, UNIT_RATE_BYTES},
    [SLA_METRIC_VM_DIRTY_RATE_MIB_S] = {"dirty_rate", false, UNIT_RATE_MIB},
    [SLA_METRIC_HOST_CPU_PCT] = {"cpu", true, UNIT_PERCENT},
    [SLA_METRIC_HOST_MEM_FREE_KIB] = {"mem_free", true, UNIT_SIZE_KIB},
    [SLA_METRIC_HOST_DISK_UTIL_PCT] = {"disk_util", true, UNIT_PERCENT},
};

const char *sla_metric_str(enum sla_metric m)
{
    if ((unsigned)m >= ARRAY_LEN(metric_table))
        return "?";
    return metric_table[m].name;
}

bool sla_metric_is_host(enum sla_metric m)
{
    return (unsigned)m < ARRAY_LEN(metric_table) && metric_table[m].host;
}

static const char *const op_names[] = {">", ">=", "<", "<="};

const char *sla_op_str(enum sla_op op)
{
    return (unsigned)op < ARRAY_LEN(op_names) ? op_names[op] : "?";
}

static const char *const severity_names[] = {"info", "warning", "critical"};

const char *sla_severity_str(enum sla_severity s)
{
    return (unsigned)s < ARRAY_LEN(severity_names) ? severity_names[s] : "?";
}

static const char *const event_kind_names[] = {"fired", "cleared", "gone"};

const char *sla_event_kind_str(enum sla_event_kind k)
{
    return (unsigned)k < ARRAY_LEN(event_kind_names) ? event_kind_names[k] : "?";
}

void sla_rule_init(struct sla_rule *r, const char *name)
{
    memset(r, 0, sizeof(*r));
    size_t n = strlen(name);
    if (n >= sizeof(r->name))
        n = sizeof(r->name) - 1;
    memcpy(r->name, name, n);
    r->severity = SLA_SEVERITY_WARNING;
}

static int set_scope(struct sla_rule *r, const char *value)
{
    static const struct {
        const char *prefix;
        enum sla_scope_kind kind;
    } kinds[] = {{"vm:", SLA_SCOPE_VM}, {"host:", SLA_SCOPE_HOST}, {"tag:", SLA_SCOPE_TAG}};
    for (size_t i = 0; i < ARRAY_LEN(kinds); i++) {
        size_t n = strlen(kinds[i].prefix);
        if (strncmp(value, kinds[i].prefix, n) != 0)
            continue;
        const char *pat = value + n;
        if (!*pat)
            return err_set("scope '%s' has an empty pattern", value);
        if (strlen(pat) >= sizeof(r->pattern))
            return err_set("scope pattern '%s' is too long", pat);
        r->scope = kinds[i].kind;
        memcpy(r->pattern, pat, strlen(pat) + 1);
        return 0;
    }
    return err_set("scope '%s' must be vm:GLOB, host:GLOB or tag:NAME", value);
}

/* The metric's name depends on the scope (a host "cpu" is not a VM "cpu"), so
 * resolve it against the scope given earlier, or VM by default. */
static int set_metric(struct sla_rule *r, const char *value)
{
    bool host = (r->set_mask & KEY_SCOPE) && r->scope == SLA_SCOPE_HOST;
    for (size_t i = 0; i < ARRAY_LEN(metric_table); i++) {
        if (metric_table[i].host == host && strcmp(metric_table[i].name, value) == 0) {
            r->metric = (enum sla_metric)i;
            return 0;
        }
    }
    return err_set("unknown %s metric '%s' (%s)", host ? "host" : "VM", value,
                   host ? "cpu, mem_free, disk_util"
                        : "cpu, memory, disk_iops, disk_bytes, net_bytes, dirty_rate");
}

static int parse_threshold(const struct sla_rule *r, const char *value, double *out)
{
    switch (metric_table[r->metric].unit) {
    case UNIT_PERCENT:
        return parse_percent(value, false, out);
    case UNIT_NUMBER:
        return parse_double(value, 0, 1e15, out);
    case UNIT_RATE_BYTES: {
        /* "50MB" means 50 MB per second; a bare number is bytes per second. */
        uint64_t bytes;
        if (parse_size_bytes(value, &bytes) == 0) {
            *out = (double)bytes;
            return 0;
        }
        return parse_rate_bytes_per_s(value, out);
    }
    case UNIT_SIZE_KIB: {
        uint64_t bytes;
        if (parse_size_bytes(value, &bytes) < 0)
            return -1;
        *out = (double)bytes / 1024.0;
        return 0;
    }
    case UNIT_RATE_MIB:
        return parse_double(value, 0, 1e9, out);
    }
    return err_set("internal: metric without a unit");
}

static int set_actions(struct sla_rule *r, const char *value)
{
    r->n_actions = 0;
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, ",");
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (r->n_actions == SLA_ACTIONS_MAX)
            return err_set("more than %d actions", SLA_ACTIONS_MAX);
        if (n >= SLA_ACTION_MAX)
            return err_set("action '%.40s...' is too long", p);
        char *a = r->actions[r->n_actions++];
        memcpy(a, p, n);
        a[n] = '\0';
        bool known = strcmp(a, "email") == 0 || strcmp(a, "snmp") == 0 ||
                     strcmp(a, "allocate") == 0 || strcmp(a, "log") == 0 ||
                     (strncmp(a, "script:", 7) == 0 && a[7] == '/');
        if (!known)
            return err_set("unknown action '%s' (email, snmp, allocate, log, script:/abs/path)", a);
        p += strcspn(p, ",");
    }
    return 0;
}

int sla_rule_set(struct sla_rule *r, const char *key, const char *value)
{
    int rc = 0;
    if (strcmp(key, "scope") == 0) {
        rc = set_scope(r, value);
        if (rc == 0)
            r->set_mask |= KEY_SCOPE;
    } else if (strcmp(key, "metric") == 0) {
        rc = set_metric(r, value);
        if (rc == 0)
            r->set_mask |= KEY_METRIC;
    } else if (strcmp(key, "op") == 0) {
        rc = -1;
        for (size_t i = 0; i < ARRAY_LEN(op_names); i++) {
            if (strcmp(value, op_names[i]) == 0) {
                r->op = (enum sla_op)i;
                r->set_mask |= KEY_OP;
                rc = 0;
            }
        }
        if (rc < 0)
            err_set("op '%s' must be one of >, >=, <, <=", value);
    } else if (strcmp(key, "threshold") == 0 || strcmp(key, "clear") == 0) {
        bool is_clear = key[0] == 'c';
        if (!(r->set_mask & KEY_METRIC))
            return err_set("%s: set 'metric' before '%s'", key, key);
        rc = parse_threshold(r, value, is_clear ? &r->clear : &r->threshold);
        if (rc == 0)
            r->set_mask |= is_clear ? KEY_CLEAR : KEY_THRESHOLD;
    } else if (strcmp(key, "for") == 0) {
        rc = parse_duration_ms(value, &r->for_ms);
    } else if (strcmp(key, "cooldown") == 0) {
        rc = parse_duration_ms(value, &r->cooldown_ms);
    } else if (strcmp(key, "severity") == 0) {
        rc = -1;
        for (size_t i = 0; i < ARRAY_LEN(severity_names); i++) {
            if (strcmp(value, severity_names[i]) == 0) {
                r->severity = (enum sla_severity)i;
                rc = 0;
            }
        }
        if (rc < 0)
            err_set("severity '%s' must be info, warning or critical", value);
    } else if (strcmp(key, "actions") == 0) {
        rc = set_actions(r, value);
    } else {
        return err_set("unknown key '%s' in rule '%s'", key, r->name);
    }
    if (rc < 0)
        return err_prefix("%s", key);
    return 0;
}

int sla_rule_validate(struct sla_rule *r)
{
    static const struct {
        unsigned bit;
        const char *key;
    } required[] = {
        {KEY_SCOPE, "scope"}, {KEY_METRIC, "metric"}, {KEY_OP, "op"}, {KEY_THRESHOLD, "threshold"}};
    for (size_t i = 0; i < ARRAY_LEN(required); i++) {
        if (!(r->set_mask & required[i].bit))
            return err_set("rule '%s' has no '%s'", r->name, required[i].key);
    }
    bool host_scope = r->scope == SLA_SCOPE_HOST;
    if (host_scope != sla_metric_is_host(r->metric))
        return err_set("rule '%s': metric '%s' does not apply to a %s scope", r->name,
                       sla_metric_str(r->metric), host_scope ? "host" : "VM");
    if (!(r->set_mask & KEY_CLEAR)) {
        r->clear = r->threshold;
        return 0;
    }
    bool upward = r->op == SLA_OP_GT || r->op == SLA_OP_GE;
    if (upward ? r->clear > r->threshold : r->clear < r->threshold)
        return err_set("rule '%s': clear %g must be on the other side of threshold %g (op %s)",
                       r->name, r->clear, r->threshold, sla_op_str(r->op));
    return 0;
}
