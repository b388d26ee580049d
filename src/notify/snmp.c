/* snmp: an event as an SNMPv2c or SNMPv3 (USM authPriv, SHA-1 + AES-128)
 * trap through net-snmp, with the varbinds of mibs/ARAS-MIB.txt. The only
 * file that includes net-snmp headers. */
#include "notify/notify.h"

#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#define ENGINE_ID_MAX 32

static pthread_once_t snmp_once = PTHREAD_ONCE_INIT;
/* net-snmp keeps USM users and engine times in process-wide lists: one send
 * at a time. */
static pthread_mutex_t snmp_mu = PTHREAD_MUTEX_INITIALIZER;

/* net-snmp's log lines go to our log instead of stderr; the ones printed
 * while it initialises (the stock MIB list it cannot find, by design: we use
 * numeric OIDs and load no MIBs) are dropped. */
static int log_cb(int major, int minor, void *server_arg, void *client_arg)
{
    (void)major;
    (void)minor;
    (void)client_arg;
    const struct snmp_log_message *m = server_arg;
    if (!m || !m->msg || m->priority > LOG_WARNING)
        return 0;
    int n = (int)strlen(m->msg);
    while (n > 0 && (m->msg[n - 1] == '\n' || m->msg[n - 1] == '\r'))
        n--;
    log_warn("notify", "net-snmp: %.*s", n, m->msg);
    return 0;
}

static void snmp_init_once(void)
{
    /* A library inside a daemon: read no snmp.conf, load and save no
     * persistent state under /var/lib/snmp, look for no MIBs. */
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_CONFIG_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIBDIRS, "/nonexistent");
    snmp_enable_calllog(); /* a log handler with no callback yet: init noise is dropped */
    init_snmp("arasd");
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, log_cb, NULL);
}

/* net-snmp caches a USM user (and its keys) per engine ID and name the first
 * time a session uses it, and then ignores the keys of later sessions: drop
 * it before each send so changed passphrases take effect, and after it so
 * keys do not linger (mutex held). */
static void usm_forget(const u_char *engine, size_t engine_len, const char *user)
{
    struct usmUser *u = usm_get_user(engine, engine_len, user);
    if (u) {
        usm_remove_user(u);
        usm_free_user(u);
    }
}

/* "0x80001f8880..." or "80001f88..." -> bytes. -1 with err_set(). */
static int parse_engine_id(const char *s, u_char *out, size_t *len)
{
    if (!s)
        return err_set("snmp v3: engine_id is required (hex, 5 to 32 bytes)");
    const char *p = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? s + 2 : s;
    size_t n = strlen(p);
    if (n % 2 || n / 2 < 5 || n / 2 > ENGINE_ID_MAX)
        return err_set("snmp v3: engine_id '%s' must be 5 to 32 bytes of hex", s);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = p[2 * i + (size_t)k];
            unsigned d = (ch >= '0' && ch <= '9')   ? (unsigned)(ch - '0')
                         : (ch >= 'a' && ch <= 'f') ? (unsigned)(ch - 'a' + 10)
                         : (ch >= 'A' && ch <= 'F') ? (unsigned)(ch - 'A' + 10)
                                                    : 16u;
            if (d > 15)
                return err_set("snmp v3: engine_id '%s' is not hex", s);
            v = v * 16 + d;
        }
        out[i] = (u_char)v;
    }
    *len = n / 2;
    return 0;
}

static int v3_keys(netsnmp_session *ss, const struct notify_snmp_conf *c)
{
    if (!c->user || !c->user[0])
        return err_set("snmp v3: user is required");
    if (!c->auth_pass || strlen(c->auth_pass) < 8 || !c->priv_pass || strlen(c->priv_pass) < 8)
        return err_set("snmp v3 user %s: auth and priv passphrases need 8 characters or more",
                       c->user);
    ss->securityName = (char *)c->user;
    ss->securityNameLen = strlen(c->user);
    ss->securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
    ss->securityAuthProto = usmHMACSHA1AuthProtocol;
    ss->securityAuthProtoLen = USM_AUTH_PROTO_SHA_LEN;
    ss->securityAuthKeyLen = USM_AUTH_KU_LEN;
    ss->securityPrivProto = usmAESPrivProtocol;
    ss->securityPrivProtoLen = USM_PRIV_PROTO_AES_LEN;
    ss->securityPrivKeyLen = USM_PRIV_KU_LEN;
    if (generate_Ku(ss->securityAuthProto, (u_int)ss->securityAuthProtoLen,
                    (const u_char *)c->auth_pass, strlen(c->auth_pass), ss->securityAuthKey,
                    &ss->securityAuthKeyLen) != SNMPERR_SUCCESS ||
        generate_Ku(ss->securityAuthProto, (u_int)ss->securityAuthProtoLen,
                    (const u_char *)c->priv_pass, strlen(c->priv_pass), ss->securityPrivKey,
                    &ss->securityPrivKeyLen) != SNMPERR_SUCCESS)
        return err_set("snmp v3 user %s: cannot derive keys from the passphrases", c->user);
    return 0;
}

static void add_oid_str(netsnmp_pdu *pdu, const char *num_oid, u_char type, const void *val,
                        size_t len)
{
    oid name[MAX_OID_LEN];
    size_t name_len = MAX_OID_LEN;
    /* Our own numeric constants: parsing cannot fail. */
    read_objid(num_oid, name, &name_len);
    snmp_pdu_add_variable(pdu, name, name_len, type, val, len);
}

static void add_string(netsnmp_pdu *pdu, int sub, const char *s)
{
    char o[64];
    snprintf(o, sizeof(o), "." NOTIFY_OID_EVENT_OBJECTS ".%d.0", sub);
    add_oid_str(pdu, o, ASN_OCTET_STR, s, strlen(s));
}

static void add_counter64(netsnmp_pdu *pdu, int sub, uint64_t v)
{
    char o[64];
    struct counter64 c64 = {.high = (u_long)(v >> 32), .low = (u_long)(v & 0xffffffffu)};
    snprintf(o, sizeof(o), "." NOTIFY_OID_EVENT_OBJECTS ".%d.0", sub);
    add_oid_str(pdu, o, ASN_COUNTER64, &c64, sizeof(c64));
}

static const char *trap_oid(const struct notify_event *ev)
{
    if (strcmp(ev->kind, "fired") == 0)
        return NOTIFY_OID_SLA_FIRED;
    if (strcmp(ev->kind, "cleared") == 0)
        return NOTIFY_OID_SLA_CLEARED;
    if (strcmp(ev->kind, "gone") == 0)
        return NOTIFY_OID_SLA_GONE;
    return NOTIFY_OID_EVENT;
}

static netsnmp_pdu *build_pdu(const struct notify_event *ev, int64_t uptime_ms)
{
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_TRAP2);
    u_long ticks = (u_long)(uptime_ms > 0 ? uptime_ms / 10 : 0);
    add_oid_str(pdu, ".1.3.6.1.2.1.1.3.0", ASN_TIMETICKS, &ticks, sizeof(ticks));
    oid trap[MAX_OID_LEN];
    size_t trap_len = MAX_OID_LEN;
    char num[48];
    snprintf(num, sizeof(num), ".%s", trap_oid(ev));
    read_objid(num, trap, &trap_len);
    add_oid_str(pdu, ".1.3.6.1.6.3.1.1.4.1.0", ASN_OBJECT_ID, trap, trap_len * sizeof(oid));
    char when[40], val[32], thr[32];
    notify_time_rfc3339(ev->t_ms, when, sizeof(when));
    notify_value_str(ev->value, val, sizeof(val));
    notify_value_str(ev->threshold, thr, sizeof(thr));
    add_counter64(pdu, 1, ev->id);
    add_string(pdu, 2, when);
    add_string(pdu, 3, ev->kind);
    add_string(pdu, 4, ev->severity);
    add_string(pdu, 5, ev->rule);
    add_string(pdu, 6, ev->object);
    add_string(pdu, 7, ev->object_kind);
    add_string(pdu, 8, ev->metric);
    add_string(pdu, 9, val);
    add_string(pdu, 10, thr);
    add_counter64(pdu, 11, ev->episode);
    char msg[256]; /* the MIB's DisplayString limit */
    notify_field_set(msg, sizeof(msg), ev->message);
    add_string(pdu, 12, msg);
    return pdu;
}

/* Open a session to the target (mutex held); engine is the parsed v3
 * engine ID (unused for v2c). NULL with err_set(). */
static void *open_session(const struct notify_snmp_conf *c, u_char *engine, size_t engine_len,
                          int64_t uptime_ms)
{
    netsnmp_session ss;
    snmp_sess_init(&ss);
    ss.peername = (char *)c->target;
    if (c->version == NOTIFY_SNMP_V2C) {
        ss.version = SNMP_VERSION_2c;
        ss.community = (u_char *)c->community;
        ss.community_len = strlen(c->community);
    } else {
        if (v3_keys(&ss, c) < 0)
            return NULL;
        /* For traps we are the authoritative engine: our engine ID, boots
         * and time, so no discovery exchange is needed (as snmptrap does). */
        ss.version = SNMP_VERSION_3;
        ss.securityEngineID = engine;
        ss.securityEngineIDLen = engine_len;
        ss.contextEngineID = engine;
        ss.contextEngineIDLen = engine_len;
        ss.engineBoots = c->engine_boots ? c->engine_boots : 1;
        ss.engineTime = (u_int)(uptime_ms / 1000);
        set_enginetime(engine, (u_int)engine_len, ss.engineBoots, ss.engineTime, TRUE);
        usm_forget(engine, engine_len, c->user);
    }
    netsnmp_transport *t = netsnmp_transport_open_client("snmptrap", c->target);
    if (!t) {
        err_set("snmp %s: cannot open a transport to the target", c->target);
        return NULL;
    }
    void *h = snmp_sess_add(&ss, t, NULL, NULL);
    if (!h) {
        int liberr = 0, syserr = 0;
        char *msg = NULL;
        snmp_error(&ss, &liberr, &syserr, &msg);
        err_set("snmp %s: session: %s", c->target, msg ? msg : "unknown error");
        free(msg);
    }
    return h;
}

static int check_conf(const struct notify_snmp_conf *c, u_char *engine, size_t *engine_len)
{
    if (!c->target || !c->target[0])
        return err_set("snmp: no target configured");
    if (c->version == NOTIFY_SNMP_V2C) {
        if (!c->community || !c->community[0])
            return err_set("snmp %s: v2c needs a community", c->target);
        return 0;
    }
    if (!c->user || !c->user[0])
        return err_set("snmp %s: v3 needs a user", c->target);
    return parse_engine_id(c->engine_id, engine, engine_len);
}

int notify_snmp_send(const struct notify_snmp_conf *c, const struct notify_event *ev,
                     int64_t now_ms)
{
    u_char engine[ENGINE_ID_MAX];
    size_t engine_len = 0;
    if (check_conf(c, engine, &engine_len) < 0)
        return -1;
    pthread_once(&snmp_once, snmp_init_once);
    int64_t uptime_ms = now_ms - c->uptime_origin_ms;
    pthread_mutex_lock(&snmp_mu);
    int rc = -1;
    void *h = open_session(c, engine, engine_len, uptime_ms);
    if (h) {
        netsnmp_pdu *pdu = build_pdu(ev, uptime_ms);
        if (snmp_sess_send(h, pdu) == 0) {
            int liberr = 0, syserr = 0;
            char *msg = NULL;
            snmp_sess_error(h, &liberr, &syserr, &msg);
            err_set("snmp %s: send: %s", c->target, msg ? msg : "unknown error");
            free(msg);
            snmp_free_pdu(pdu);
        } else {
            rc = 0;
        }
        snmp_sess_close(h);
    }
    if (c->version == NOTIFY_SNMP_V3)
        usm_forget(engine, engine_len, c->user);
    pthread_mutex_unlock(&snmp_mu);
    return rc;
}
