/* conf_int: what conf.c shares with the files that parse its other sections
 * (conf_table.c: the key table; conf_keys.c: setters of the [allocator]/[email]/[snmp]/[script]
 * keys; conf_named.c: the repeatable named sections [rule NAME] and [vm GLOB]). */
#ifndef ARAS_CONF_CONF_INT_H
#define ARAS_CONF_CONF_INT_H

#include "conf/conf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf_key {
    const char *section;
    const char *name;
    /* Parse `value` into c; return -1 with err_set() (message only, no position). */
    int (*set)(struct conf *c, const struct conf_key *k, const char *value);
    const char *def;  /* default, parsed by `set` like a file value; NULL = none */
    int64_t min, max; /* durations and counts: allowed range (ms for durations) */
    size_t offset;    /* field in struct conf */
    bool repeatable;
};

struct conf_section {
    const char *name;
    bool takes_name; /* "[name ARG]": [rule NAME], [vm GLOB] */
};

#define CONF_KEYS_MAX 128 /* rows of conf_keys[] */

/* The tables (conf_table.c). */
extern const struct conf_section conf_sections[];
extern const size_t conf_n_sections;
extern const struct conf_key conf_keys[];
extern const size_t conf_n_keys;

/* The field a key row describes. */
static inline void *conf_field(struct conf *c, const struct conf_key *k)
{
    return (char *)c + k->offset;
}

/* Setters of conf_table.c: duration in [min, max] ms (int64_t), non-empty
 * string (char *), log level, loopback ADDRESS:PORT (char * + api_host/port),
 * repeatable backend URI (uris). */
int conf_set_duration(struct conf *c, const struct conf_key *k, const char *v);
int conf_set_string(struct conf *c, const struct conf_key *k, const char *v);
int conf_set_log_level(struct conf *c, const struct conf_key *k, const char *v);
int conf_set_listen(struct conf *c, const struct conf_key *k, const char *v);
int conf_set_uri(struct conf *c, const struct conf_key *k, const char *v);

/* Setters of conf_keys.c (same contract). */
int conf_set_mode(struct conf *c, const struct conf_key *k, const char *v);    /* enum rac_mode */
int conf_set_percent(struct conf *c, const struct conf_key *k, const char *v); /* double, 0..100 */
int conf_set_size(struct conf *c, const struct conf_key *k, const char *v);    /* uint64_t bytes */
int conf_set_count(struct conf *c, const struct conf_key *k, const char *v);  /* int64_t min..max */
int conf_set_secret(struct conf *c, const struct conf_key *k, const char *v); /* file -> char * */
int conf_set_email_to(struct conf *c, const struct conf_key *k, const char *v);     /* repeatable */
int conf_set_address(struct conf *c, const struct conf_key *k, const char *v);      /* char * */
int conf_set_tls(struct conf *c, const struct conf_key *k, const char *v);          /* char * */
int conf_set_snmp_version(struct conf *c, const struct conf_key *k, const char *v); /* bool v3 */
int conf_set_url(struct conf *c, const struct conf_key *k, const char *v);          /* smtp[s]:// */

/* Named sections. `type` is "rule" or "vm". conf_named_begin() starts one at a
 * section header (-1 with err_set(): bad or duplicate name, too many);
 * conf_named_set() files one key of the current one (-1 with err_set() giving
 * "[type NAME] key: message"); conf_named_end() validates it when the next
 * section starts or the file ends (-1 with err_set() giving "[type NAME]: ..."),
 * and drops it when invalid. */
bool conf_named_type(const char *type);
int conf_named_begin(struct conf *c, const char *type, const char *arg, int line);
int conf_named_set(struct conf *c, const char *type, const char *key, const char *value);
int conf_named_end(struct conf *c, const char *type);
/* Checks across sections once the whole file is read: a rule whose actions
 * need [email] or [snmp] that is not configured. Calls report(ctx, line, msg)
 * for each problem (line of the rule's header). */
void conf_named_check(const struct conf *c, void (*report)(void *ctx, int line, const char *msg),
                      void *ctx);
void conf_named_free(struct conf *c);

#endif
