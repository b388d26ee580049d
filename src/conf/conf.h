/* conf: arasd's INI configuration, parsed and validated into an immutable struct conf.
 *
 * The file is read with libinih; every key's type, range and default lives in
 * one table (conf.c), so each value is checked the same way and every error
 * names where it is: "FILE:LINE: [section] key: message". Parsing collects
 * every error in the file, not just the first. Sections: [daemon], [cluster],
 * [allocator], [migrate], [email], [snmp], [script] (key tables in conf.c) and the named
 * sections [rule NAME] and [vm GLOB] (conf_named.c), which may repeat.
 */
#ifndef ARAS_CONF_CONF_H
#define ARAS_CONF_CONF_H

#include "model/model.h"
#include "policy/rac.h"
#include "policy/sla.h"
#include "util/log.h"

#include <stdbool.h>

#include <stddef.h>
#include <stdint.h>

#define CONF_URIS_MAX     4096 /* [cluster] uri lines */
#define CONF_ERRORS_MAX   8    /* errors listed in one message before "and N more" */
#define CONF_RULES_MAX    256  /* [rule NAME] sections */
#define CONF_VMS_MAX      256  /* [vm GLOB] sections */
#define CONF_EMAIL_TO_MAX 16   /* [email] to = lines */
#define CONF_TAGS_MAX     256  /* bytes of one [vm GLOB] tags = list */

/* One [vm GLOB] section: settings for the VMs whose name matches GLOB
 * (fnmatch). The first section that matches a VM wins. */
struct conf_vm {
    char glob[MODEL_NAME_MAX];
    struct rac_vm_limits limits; /* priority, max_vcpus, max_mem_kib, mode, never_move */
    char tags[CONF_TAGS_MAX];    /* "web,prod" (no blanks), "" = none */
    int line;                    /* of the section header */
};

/* [migrate]: dirty-rate sampling (the migration strategy's input). */
struct conf_migrate {
    int64_t dirty_period_ms; /* dirty_rate_period = 10s (0 = no sampling) */
    int64_t dirty_calc_ms;   /* dirty_rate_calc = 1s (whole seconds, 1..60) */
};

/* A loaded configuration. Immutable after conf_load(); free with conf_free(). */
struct conf {
    char *path; /* file it came from ("<string>" for conf_parse_string) */
    /* [daemon] */
    int64_t tick_ms;              /* tick = 10s */
    char *api_listen;             /* api_listen = 127.0.0.1:8470 (as written) */
    char api_host[64];            /* its address part, without brackets */
    uint16_t api_port;            /* its port; 0 = pick a free port */
    char *history_path;           /* history = var/aras/history.db, or ":memory:" */
    int64_t history_retention_ms; /* history_retention = 30d: events, decisions, ticks */
    int64_t sample_retention_ms;  /* sample_retention = 1h: per-host/VM samples */
    enum log_level log_level;     /* log_level = info */
    char *pid_file;               /* pid_file = (unset: NULL) */
    /* [cluster] */
    char **uris; /* uri = ..., one line per host; default one "sim://" */
    size_t n_uris;
    /* [rule NAME]: validated SLA rules, in file order */
    struct sla_rule *rules;
    int *rule_lines; /* line of each rule's section header */
    size_t n_rules;
    /* [vm GLOB], in file order (first match wins) */
    struct conf_vm *vms;
    size_t n_vms;
    /* [allocator] */
    enum rac_mode alloc_mode;     /* mode = manual */
    struct rac_marks marks;       /* cpu_high, mem_free_medium, disk_low, mem_step, disk_size */
    char *pool_dir;               /* pool_dir = var/aras/disks (attached disk images) */
    int64_t approval_ttl_ms;      /* approval_ttl = 15m */
    int64_t max_actions_per_tick; /* max_actions_per_tick = 4 */
    struct conf_migrate migrate;  /* [migrate] */
    /* [email]: enabled when url is set */
    char *email_url;
    char *email_from;
    char *email_to[CONF_EMAIL_TO_MAX];
    size_t n_email_to;
    char *email_user;
    char *email_password; /* read from password_file */
    char *email_tls;      /* none, try, all (notify_tls_parse) */
    char *email_spool_dir;
    int64_t email_retry_base_ms, email_retry_max_ms;
    /* [snmp]: enabled when target is set */
    char *snmp_target;
    bool snmp_v3; /* version = 2c (false) or 3 */
    char *snmp_community;
    char *snmp_user;
    char *snmp_auth_pass; /* read from auth_pass_file */
    char *snmp_priv_pass; /* read from priv_pass_file */
    char *snmp_engine_id;
    /* [script] */
    int64_t script_timeout_ms;
};

/* The first [vm GLOB] section matching vm, or NULL. */
const struct conf_vm *conf_vm_find(const struct conf *c, const char *vm);

/* Read and validate the file at path. Returns a new conf, or NULL with
 * err_set() holding every error found, one "path:line: ..." per line. */
struct conf *conf_load(const char *path);

/* Same for in-memory text; `name` stands for the file name in messages. */
struct conf *conf_parse_string(const char *text, const char *name);

/* The defaults alone (as if the file were empty). Never fails. */
struct conf *conf_defaults(void);

void conf_free(struct conf *c);

#endif
