/* conf_named: the repeatable named sections of arasd.conf.
 *
 *   [rule NAME]  one SLA rule; every key goes to sla_rule_set() (policy/sla.h),
 *                and the rule is validated when its section ends.
 *   [vm GLOB]    per-VM allocator settings for the VMs whose name matches
 *                GLOB (fnmatch); the first matching section wins.
 */
#include "conf/conf_int.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

static const char *const rule_keys[] = {"scope", "for",      "metric",   "op",      "threshold",
                                        "clear", "cooldown", "severity", "actions", NULL};
static const char *const vm_keys[] = {"priority", "max_vcpus",  "max_memory", "mode",
                                      "tags",     "never_move", NULL};

bool conf_named_type(const char *type)
{
    return strcmp(type, "rule") == 0 || strcmp(type, "vm") == 0;
}

static bool known(const char *const *keys, const char *key)
{
    for (size_t i = 0; keys[i]; i++) {
        if (strcmp(keys[i], key) == 0)
            return true;
    }
    return false;
}

static void join_keys(const char *const *keys, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; keys[i] && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "", keys[i]);
}

/* Rule names appear in logs, mail subjects and SNMP varbinds: keep them plain. */
static int check_rule_name(const char *name)
{
    if (strlen(name) >= SLA_NAME_MAX)
        return err_set("[rule %s]: name longer than %d characters", name, SLA_NAME_MAX - 1);
    if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
        strlen(name))
        return err_set("[rule %s]: a rule name may only hold letters, digits, '_', '.', '-'", name);
    return 0;
}

static int begin_rule(struct conf *c, const char *name, int line)
{
    if (check_rule_name(name) < 0)
        return -1;
    for (size_t i = 0; i < c->n_rules; i++) {
        if (strcmp(c->rules[i].name, name) == 0)
            return err_set("[rule %s]: defined twice (first on line %d)", name, c->rule_lines[i]);
    }
    if (c->n_rules >= CONF_RULES_MAX)
        return err_set("[rule %s]: more than %d rules", name, CONF_RULES_MAX);
    c->rules = xrealloc(c->rules, (c->n_rules + 1) * sizeof(*c->rules));
    c->rule_lines = xrealloc(c->rule_lines, (c->n_rules + 1) * sizeof(*c->rule_lines));
    sla_rule_init(&c->rules[c->n_rules], name);
    c->rule_lines[c->n_rules++] = line;
    return 0;
}

static int begin_vm(struct conf *c, const char *glob, int line)
{
    if (strlen(glob) >= MODEL_NAME_MAX)
        return err_set("[vm %s]: pattern longer than %d characters", glob, MODEL_NAME_MAX - 1);
    for (size_t i = 0; i < c->n_vms; i++) {
        if (strcmp(c->vms[i].glob, glob) == 0)
            return err_set("[vm %s]: defined twice (first on line %d)", glob, c->vms[i].line);
    }
    if (c->n_vms >= CONF_VMS_MAX)
        return err_set("[vm %s]: more than %d [vm] sections", glob, CONF_VMS_MAX);
    c->vms = xrealloc(c->vms, (c->n_vms + 1) * sizeof(*c->vms));
    struct conf_vm *v = &c->vms[c->n_vms++];
    memset(v, 0, sizeof(*v));
    memcpy(v->glob, glob, strlen(glob) + 1);
    v->line = line;
    return 0;
}

int conf_named_begin(struct conf *c, const char *type, const char *arg, int line)
{
    return strcmp(type, "rule") == 0 ? begin_rule(c, arg, line) : begin_vm(c, arg, line);
}

/* "web, prod" -> "web,prod"; tags are plain words. */
static int set_tags(struct conf_vm *v, const char *value)
{
    char out[CONF_TAGS_MAX];
    size_t n = 0;
    for (const char *p = value; *p;) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, " ,");
        if (!len)
            break;
        if (strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") < len)
            return err_set("tag '%.*s' may only hold letters, digits, '_', '.', '-'", (int)len, p);
        if (n + len + 2 > sizeof(out))
            return err_set("tag list longer than %d characters", CONF_TAGS_MAX - 1);
        if (n)
            out[n++] = ',';
        memcpy(out + n, p, len);
        n += len;
        p += len;
    }
    out[n] = '\0';
    memcpy(v->tags, out, n + 1);
    return 0;
}

static int set_vm_key(struct conf_vm *v, const char *key, const char *value)
{
    int64_t i;
    uint64_t bytes;
    if (strcmp(key, "priority") == 0) {
        if (parse_int64(value, -1000, 1000, &i) < 0)
            return -1;
        v->limits.priority = (int)i;
    } else if (strcmp(key, "max_vcpus") == 0) {
        if (parse_int64(value, 1, 4096, &i) < 0)
            return -1;
        v->limits.max_vcpus = (unsigned)i;
    } else if (strcmp(key, "max_memory") == 0) {
        if (parse_size_bytes(value, &bytes) < 0)
            return -1;
        if (bytes < (1u << 20))
            return err_set("%s is less than 1 MiB", value);
        v->limits.max_mem_kib = bytes / 1024;
    } else if (strcmp(key, "mode") == 0) {
        if (rac_mode_parse(value, &v->limits.mode) < 0)
            return -1;
        v->limits.has_mode = true;
    } else if (strcmp(key, "never_move") == 0) {
        return parse_bool(value, &v->limits.never_move);
    } else {
        return set_tags(v, value);
    }
    return 0;
}

int conf_named_set(struct conf *c, const char *type, const char *key, const char *value)
{
    bool rule = strcmp(type, "rule") == 0;
    const char *name = rule ? c->rules[c->n_rules - 1].name : c->vms[c->n_vms - 1].glob;
    char list[160];
    if (!known(rule ? rule_keys : vm_keys, key)) {
        join_keys(rule ? rule_keys : vm_keys, list, sizeof(list));
        return err_set("[%s %s] %s: unknown key (known: %s)", type, name, key, list);
    }
    if (rule) {
        /* sla_rule_set's messages start with the key already. */
        if (sla_rule_set(&c->rules[c->n_rules - 1], key, value) < 0) {
            char msg[ERR_MSG_MAX];
            snprintf(msg, sizeof(msg), "%s", err_msg());
            return err_set("[rule %s] %s", name, msg);
        }
        return 0;
    }
    if (set_vm_key(&c->vms[c->n_vms - 1], key, value) < 0)
        return err_prefix("[vm %s] %s", name, key);
    return 0;
}

int conf_named_end(struct conf *c, const char *type)
{
    if (strcmp(type, "rule") != 0 || c->n_rules == 0)
        return 0;
    struct sla_rule *r = &c->rules[c->n_rules - 1];
    if (sla_rule_validate(r) < 0) {
        err_prefix("[rule %s]", r->name);
        c->n_rules--;
        return -1;
    }
    return 0;
}

void conf_named_check(const struct conf *c, void (*report)(void *ctx, int line, const char *msg),
                      void *ctx)
{
    for (size_t i = 0; i < c->n_rules; i++) {
        const struct sla_rule *r = &c->rules[i];
        for (size_t a = 0; a < r->n_actions; a++) {
            char msg[256];
            if (strcmp(r->actions[a], "email") == 0 && !c->email_url)
                snprintf(msg, sizeof(msg),
                         "[rule %s] actions: 'email' needs an [email] section with url, from "
                         "and to",
                         r->name);
            else if (strcmp(r->actions[a], "snmp") == 0 && !c->snmp_target)
                snprintf(msg, sizeof(msg),
                         "[rule %s] actions: 'snmp' needs an [snmp] section with target", r->name);
            else if (strcmp(r->actions[a], "allocate") == 0 && r->scope == SLA_SCOPE_HOST)
                snprintf(msg, sizeof(msg),
                         "[rule %s] actions: 'allocate' needs a VM rule (scope vm:GLOB or "
                         "tag:NAME), not a host rule",
                         r->name);
            else
                continue;
            report(ctx, c->rule_lines[i], msg);
        }
    }
}

const struct conf_vm *conf_vm_find(const struct conf *c, const char *vm)
{
    for (size_t i = 0; i < c->n_vms; i++) {
        if (fnmatch(c->vms[i].glob, vm, 0) == 0)
            return &c->vms[i];
    }
    return NULL;
}

void conf_named_free(struct conf *c)
{
    free(c->rules);
    free(c->rule_lines);
    free(c->vms);
}
