/* conf_table: the sections and keys of arasd's configuration (type, range,
 * default and field of every key), and the setters of the [daemon] and
 * [cluster] keys. */
#include "conf/conf_int.h"

#include "model/model.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define CONF_PATH_MAX   4096
#define DURATION_MAX_MS (INT64_C(3650) * 24 * 3600 * 1000)

const struct conf_section conf_sections[] = {
    {"daemon", false},  {"cluster", false}, {"allocator", false},
    {"migrate", false}, {"email", false},   {"snmp", false},
    {"script", false},  {"rule", true},     {"vm", true},
};

#define OFF(field) offsetof(struct conf, field)
#define S          (INT64_C(1000))
const struct conf_key conf_keys[] = {
    {"daemon", "tick", conf_set_duration, "10s", 100, 3600 * S, OFF(tick_ms), false},
    {"daemon", "api_listen", conf_set_listen, "127.0.0.1:8470", 0, 0, OFF(api_listen), false},
    {"daemon", "history", conf_set_string, "var/aras/history.db", 0, 0, OFF(history_path), false},
    {"daemon", "history_retention", conf_set_duration, "30d", 60 * S, DURATION_MAX_MS,
     OFF(history_retention_ms), false},
    {"daemon", "sample_retention", conf_set_duration, "1h", 60 * S, DURATION_MAX_MS,
     OFF(sample_retention_ms), false},
    {"daemon", "log_level", conf_set_log_level, "info", 0, 0, OFF(log_level), false},
    {"daemon", "pid_file", conf_set_string, NULL, 0, 0, OFF(pid_file), false},
    {"cluster", "uri", conf_set_uri, "sim://", 0, 0, OFF(uris), true},
    {"allocator", "mode", conf_set_mode, "manual", 0, 0, OFF(alloc_mode), false},
    {"allocator", "cpu_high", conf_set_percent, "80", 0, 0, OFF(marks.cpu_high_pct), false},
    {"allocator", "mem_free_medium", conf_set_percent, "25", 0, 0, OFF(marks.mem_free_medium_pct),
     false},
    {"allocator", "disk_low", conf_set_percent, "30", 0, 0, OFF(marks.disk_low_pct), false},
    {"allocator", "mem_step", conf_set_percent, "25", 0, 0, OFF(marks.mem_step_pct), false},
    {"allocator", "migrate_cpu_limit", conf_set_percent, "80", 0, 0,
     OFF(marks.migrate_cpu_limit_pct), false},
    {"allocator", "disk_size", conf_set_size, "10G", 1 << 20, INT64_C(1) << 50,
     OFF(marks.disk_size_bytes), false},
    {"allocator", "pool_dir", conf_set_string, "var/aras/disks", 0, 0, OFF(pool_dir), false},
    {"allocator", "approval_ttl", conf_set_duration, "15m", 1 * S, 30LL * 24 * 3600 * S,
     OFF(approval_ttl_ms), false},
    {"allocator", "max_actions_per_tick", conf_set_count, "4", 1, 1000, OFF(max_actions_per_tick),
     false},
    {"migrate", "dirty_rate_period", conf_set_duration, "10s", 0, 24 * 3600 * S,
     OFF(migrate.dirty_period_ms), false},
    {"migrate", "dirty_rate_calc", conf_set_duration, "1s", 1 * S, 60 * S,
     OFF(migrate.dirty_calc_ms), false},
    {"email", "url", conf_set_url, NULL, 0, 0, OFF(email_url), false},
    {"email", "from", conf_set_address, NULL, 0, 0, OFF(email_from), false},
    {"email", "to", conf_set_email_to, NULL, 0, 0, OFF(email_to), true},
    {"email", "user", conf_set_string, NULL, 0, 0, OFF(email_user), false},
    {"email", "password_file", conf_set_secret, NULL, 0, 0, OFF(email_password), false},
    {"email", "tls", conf_set_tls, "try", 0, 0, OFF(email_tls), false},
    {"email", "spool_dir", conf_set_string, "var/aras/mail-spool", 0, 0, OFF(email_spool_dir),
     false},
    {"email", "retry_base", conf_set_duration, "30s", 100, 24 * 3600 * S, OFF(email_retry_base_ms),
     false},
    {"email", "retry_max", conf_set_duration, "1h", 100, 7 * 24 * 3600 * S, OFF(email_retry_max_ms),
     false},
    {"snmp", "target", conf_set_string, NULL, 0, 0, OFF(snmp_target), false},
    {"snmp", "version", conf_set_snmp_version, "2c", 0, 0, OFF(snmp_v3), false},
    {"snmp", "community", conf_set_string, "public", 0, 0, OFF(snmp_community), false},
    {"snmp", "user", conf_set_string, NULL, 0, 0, OFF(snmp_user), false},
    {"snmp", "auth_pass_file", conf_set_secret, NULL, 0, 0, OFF(snmp_auth_pass), false},
    {"snmp", "priv_pass_file", conf_set_secret, NULL, 0, 0, OFF(snmp_priv_pass), false},
    {"snmp", "engine_id", conf_set_string, NULL, 0, 0, OFF(snmp_engine_id), false},
    {"script", "timeout", conf_set_duration, "10s", 100, 3600 * S, OFF(script_timeout_ms), false},
};
#undef S
#undef OFF

const size_t conf_n_sections = ARRAY_LEN(conf_sections);
const size_t conf_n_keys = ARRAY_LEN(conf_keys);
_Static_assert(ARRAY_LEN(conf_keys) <= CONF_KEYS_MAX, "raise CONF_KEYS_MAX");

int conf_set_duration(struct conf *c, const struct conf_key *k, const char *v)
{
    int64_t ms;
    if (parse_duration_ms(v, &ms) < 0)
        return -1;
    if (ms < k->min || ms > k->max)
        return err_set("%s is out of range [%lldms, %lldms]", v, (long long)k->min,
                       (long long)k->max);
    *(int64_t *)conf_field(c, k) = ms;
    return 0;
}

int conf_set_string(struct conf *c, const struct conf_key *k, const char *v)
{
    if (!*v)
        return err_set("empty value");
    if (strlen(v) >= CONF_PATH_MAX)
        return err_set("longer than %d characters", CONF_PATH_MAX - 1);
    char **dst = conf_field(c, k);
    free(*dst);
    *dst = xstrdup(v);
    return 0;
}

int conf_set_log_level(struct conf *c, const struct conf_key *k, const char *v)
{
    if (log_level_parse(v, conf_field(c, k)) < 0)
        return err_set("'%s' is not a log level (error, warn, info, debug)", v);
    return 0;
}

/* "127.0.0.1:8470", "[::1]:8470" or "localhost:8470"; loopback only, because
 * the API has no authentication. */
int conf_set_listen(struct conf *c, const struct conf_key *k, const char *v)
{
    const char *orig = v;
    char host[64];
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v)
        return err_set("'%s' is not ADDRESS:PORT (e.g. 127.0.0.1:8470)", v);
    size_t n = (size_t)(colon - v);
    if (v[0] == '[' && n >= 2 && v[n - 1] == ']') {
        v++;
        n -= 2;
    }
    if (n >= sizeof(host))
        return err_set("address too long");
    memcpy(host, v, n);
    host[n] = '\0';
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1) {
        if ((ntohl(a4.s_addr) >> 24) != 127)
            return err_set("%s is not a loopback address (127.0.0.0/8 or [::1]); the API has "
                           "no authentication",
                           host);
    } else if (inet_pton(AF_INET6, host, &a6) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&a6))
            return err_set("%s is not a loopback address (127.0.0.0/8 or [::1]); the API has "
                           "no authentication",
                           host);
    } else {
        return err_set("'%s' is not an IP address (e.g. 127.0.0.1:8470)", host);
    }
    int64_t port;
    if (parse_int64(colon + 1, 0, 65535, &port) < 0)
        return err_prefix("port");
    memcpy(c->api_host, host, sizeof(host));
    c->api_port = (uint16_t)port;
    return conf_set_string(c, k, orig);
}

/* A backend URI: "scheme:..." with a plausible scheme; which backend handles
 * it is the daemon's business (backend_lookup), not the parser's. */
int conf_set_uri(struct conf *c, const struct conf_key *k, const char *v)
{
    (void)k;
    size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789+.-");
    if (n == 0 || v[n] != ':' || !isalpha((unsigned char)v[0]))
        return err_set("'%s' is not a URI (e.g. qemu+ssh://host/system or sim://)", v);
    if (strlen(v) >= MODEL_URI_MAX)
        return err_set("URI longer than %d characters", MODEL_URI_MAX - 1);
    for (size_t i = 0; i < c->n_uris; i++) {
        if (strcmp(c->uris[i], v) == 0)
            return err_set("'%s' is listed twice", v);
    }
    if (c->n_uris >= CONF_URIS_MAX)
        return err_set("more than %d uri lines", CONF_URIS_MAX);
    c->uris = xrealloc(c->uris, (c->n_uris + 1) * sizeof(*c->uris));
    c->uris[c->n_uris++] = xstrdup(v);
    return 0;
}
