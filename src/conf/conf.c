/* conf: table-driven INI parser for arasd (see conf.h).
 *
 * libinih splits lines into section/key/value; everything else is ours. A
 * reader callback hands inih one line at a time, so we always know the line
 * number (inih's handler does not get one), and it checks what inih would
 * silently accept or mangle: over-long lines, lines without '=', section
 * headers we do not know. The handler looks the key up in `conf_keys[]` and calls
 * the key's setter, which parses the value with util/parse.h.
 *
 * To add a section: add it to `conf_sections[]`; to add a key: one row in
 * `conf_keys[]` (both in conf_table.c) and a field in struct conf. The sections that take a name,
 * [rule NAME] and [vm GLOB], set `takes_name` and are parsed by conf_named.c: begun at their
 * header, fed key by key, validated when the next section starts or the file ends (errors then name
 * the header's line).
 */
#include "conf/conf_int.h"

#include "model/model.h"
#include "util/error.h"
#include "util/mem.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define CONF_FILE_MAX (1024 * 1024) /* bytes; a config is a few hundred */
#define CONF_NAME_MAX 64            /* section and key names */

struct parser;

/* State of one parse. */
struct parser {
    struct conf *c;
    const char *name;            /* file name for messages */
    const char *text, *end;      /* remaining input */
    int line;                    /* number of the line last handed to inih */
    int key_line[CONF_KEYS_MAX]; /* where each key was set, 0 = not yet */
    bool bad_section;            /* current section is unknown (already reported) */
    char named[CONF_NAME_MAX];   /* type of the open named section ("rule"), "" if none */
    int named_line;              /* its header's line */
    char *errors;                /* "\n"-joined messages */
    size_t n_errors, n_shown;
};

static void add_error_at(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_error(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_error_va(struct parser *p, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void add_error_va(struct parser *p, int line, const char *fmt, va_list ap)
{
    p->n_errors++;
    /* Keep room in the ERR_MSG_MAX message for the "(and N more errors)" tail. */
    if (p->n_shown >= CONF_ERRORS_MAX || (p->errors && strlen(p->errors) > ERR_MSG_MAX - 300))
        return;
    p->n_shown++;
    char msg[ERR_MSG_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    char *joined = p->errors ? xasprintf("%s\n%s:%d: %s", p->errors, p->name, line, msg)
                             : xasprintf("%s:%d: %s", p->name, line, msg);
    free(p->errors);
    p->errors = joined;
}

static void add_error(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_error_va(p, p->line, fmt, ap);
    va_end(ap);
}

static void add_error_at(struct parser *p, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_error_va(p, line, fmt, ap);
    va_end(ap);
}

/* Validate the named section that is open, if any (at the next header or EOF). */
static void end_named(struct parser *p)
{
    if (p->named[0] && conf_named_end(p->c, p->named) < 0)
        add_error_at(p, p->named_line, "%s", err_msg());
    p->named[0] = '\0';
}

static const struct conf_section *section_find(const char *name)
{
    for (size_t i = 0; i < conf_n_sections; i++) {
        if (strcmp(conf_sections[i].name, name) == 0)
            return &conf_sections[i];
    }
    return NULL;
}

/* Copy s without surrounding blanks into out (size CONF_NAME_MAX); false if too long. */
static bool trim_copy(const char *s, size_t n, char *out)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= CONF_NAME_MAX)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* A "[...]" line: remember whether we know the section (report it once here). */
static void check_section_line(struct parser *p, const char *s, size_t n)
{
    const char *close = memchr(s, ']', n);
    char name[CONF_NAME_MAX];
    end_named(p);
    p->bad_section = true;
    if (!close) {
        add_error(p, "section header without ']'");
        return;
    }
    if (!trim_copy(s + 1, (size_t)(close - s - 1), name)) {
        add_error(p, "section name too long");
        return;
    }
    size_t type_len = strcspn(name, " \t");
    const char *arg = name + type_len + strspn(name + type_len, " \t");
    name[type_len] = '\0';
    const struct conf_section *sec = section_find(name);
    if (!sec) {
        add_error(p,
                  "[%s]: unknown section (known: daemon, cluster, allocator, email, snmp, "
                  "script, rule NAME, vm GLOB)",
                  name);
        return;
    }
    if (sec->takes_name != (*arg != '\0')) {
        add_error(p, "[%s]: %s", name, sec->takes_name ? "needs a name" : "takes no name");
        return;
    }
    if (sec->takes_name) {
        if (conf_named_begin(p->c, name, arg, p->line) < 0) {
            add_error(p, "%s", err_msg());
            return;
        }
        snprintf(p->named, sizeof(p->named), "%s", name);
        p->named_line = p->line;
    }
    p->bad_section = false;
}

/* inih's fgets-style reader: one line per call, so p->line is the line inih is
 * parsing when it calls the handler. Lines we reject are passed on blank, so
 * that parsing goes on and every error in the file is reported. */
static char *reader(char *buf, int num, void *stream)
{
    struct parser *p = stream;
    if (p->text >= p->end)
        return NULL;
    const char *s = p->text;
    const char *nl = memchr(s, '\n', (size_t)(p->end - s));
    size_t len = nl ? (size_t)(nl - s) : (size_t)(p->end - s);
    p->text = s + len + (nl ? 1 : 0);
    p->line++;
    if (len && s[len - 1] == '\r')
        len--;
    if (p->line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3; /* UTF-8 byte order mark */
        len -= 3;
    }
    size_t lead = 0;
    while (lead < len && isspace((unsigned char)s[lead]))
        lead++;
    const char *t = s + lead;
    size_t tn = len - lead;
    bool ok = true;
    if (num < 3 || len > (size_t)num - 3) {
        add_error(p, "line longer than %d characters", num - 3);
        ok = false;
    } else if (tn == 0 || *t == ';' || *t == '#') {
        /* blank or comment */
    } else if (*t == '[') {
        check_section_line(p, t, tn);
    } else if (!memchr(t, '=', tn) && !memchr(t, ':', tn)) {
        add_error(p, "expected 'key = value' or '[section]'");
        ok = false;
    }
    if (!ok)
        len = 0;
    memcpy(buf, s, len);
    buf[len] = '\n';
    buf[len + 1] = '\0';
    return buf;
}

static const struct conf_key *key_find(const char *section, const char *name)
{
    for (size_t i = 0; i < conf_n_keys; i++) {
        if (strcmp(conf_keys[i].section, section) == 0 && strcmp(conf_keys[i].name, name) == 0)
            return &conf_keys[i];
    }
    return NULL;
}

/* "tick, api_listen, ..." for an "unknown key" message. */
static void known_keys(const char *section, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < conf_n_keys && used < size; i++) {
        if (strcmp(conf_keys[i].section, section) == 0)
            used += (size_t)snprintf(out + used, size - used, "%s%s", used ? ", " : "",
                                     conf_keys[i].name);
    }
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct parser *p = user;
    char sec[CONF_NAME_MAX];
    if (p->bad_section)
        return 1; /* reported once at its header */
    if (!trim_copy(section, strlen(section), sec) || !*sec) {
        add_error(p, "%s: key outside any section (put it under [daemon] or [cluster])", name);
        return 1;
    }
    sec[strcspn(sec, " \t")] = '\0'; /* "[rule NAME]" -> "rule" */
    if (conf_named_type(sec)) {
        if (conf_named_set(p->c, sec, name, value) < 0)
            add_error(p, "%s", err_msg());
        return 1;
    }
    const struct conf_key *k = key_find(sec, name);
    if (!k) {
        char known[256];
        known_keys(sec, known, sizeof(known));
        add_error(p, "[%s] %s: unknown key (known: %s)", sec, name, known);
        return 1;
    }
    size_t i = (size_t)(k - conf_keys);
    if (p->key_line[i] && !k->repeatable) {
        add_error(p, "[%s] %s: set twice (first on line %d)", sec, name, p->key_line[i]);
        return 1;
    }
    p->key_line[i] = p->line;
    if (k->set(p->c, k, value) < 0)
        add_error(p, "[%s] %s: %s", sec, name, err_msg());
    return 1;
}

/* Fill every key the file did not set from its default. */
static void apply_defaults(struct parser *p)
{
    for (size_t i = 0; i < conf_n_keys; i++) {
        if (p->key_line[i] || !conf_keys[i].def)
            continue;
        int rc = conf_keys[i].set(p->c, &conf_keys[i], conf_keys[i].def);
        (void)rc;
        /* A default that does not parse is our bug, not the user's. */
        if (rc < 0) {
            fprintf(stderr, "conf: bad built-in default for %s: %s\n", conf_keys[i].name,
                    err_msg());
            abort();
        }
    }
}

static void report_at(void *ctx, int line, const char *msg)
{
    add_error_at(ctx, line, "%s", msg);
}

/* Keys that only make sense together, checked once the whole file is read;
 * errors name the line of the key that is there. */
static void check_sections(struct parser *p)
{
    const struct conf *c = p->c;
    const struct conf_key *url = key_find("email", "url"), *tgt = key_find("snmp", "target");
    int url_line = p->key_line[url - conf_keys], tgt_line = p->key_line[tgt - conf_keys];
    if (c->email_url && (!c->email_from || c->n_email_to == 0))
        add_error_at(p, url_line, "[email] url: needs 'from' and at least one 'to'");
    if (c->email_url && c->email_user && !c->email_password)
        add_error_at(p, url_line, "[email] user: needs 'password_file'");
    if (c->snmp_target && c->snmp_v3 &&
        (!c->snmp_user || !c->snmp_auth_pass || !c->snmp_priv_pass || !c->snmp_engine_id))
        add_error_at(p, tgt_line,
                     "[snmp] version 3 needs user, auth_pass_file, priv_pass_file and "
                     "engine_id");
    conf_named_check(c, report_at, p);
}

static struct conf *parse(const char *text, size_t len, const char *name)
{
    struct parser p = {.name = name, .text = text, .end = text + len};
    p.c = xcalloc(1, sizeof(*p.c));
    p.c->path = xstrdup(name);
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        p.line = 1;
        for (const char *s = text; s < nul; s++)
            p.line += *s == '\n';
        add_error(&p, "NUL byte in the file");
    } else {
        /* An indented line is a key of its own, not a continuation of the one
         * above (inih's default would silently glue it on). */
        ini_allow_multiline = false;
        int rc = ini_parse_stream(reader, &p, handler, &p);
        if (rc != 0 && p.n_errors == 0) {
            p.line = rc;
            add_error(&p, "syntax error");
        }
        end_named(&p);
        check_sections(&p);
    }
    if (p.n_errors) {
        if (p.n_errors > p.n_shown)
            err_set("%s\n(and %zu more errors)", p.errors, p.n_errors - p.n_shown);
        else
            err_set("%s", p.errors);
        free(p.errors);
        conf_free(p.c);
        return NULL;
    }
    apply_defaults(&p);
    return p.c;
}

struct conf *conf_parse_string(const char *text, const char *name)
{
    return parse(text, strlen(text), name);
}

struct conf *conf_defaults(void)
{
    return parse("", 0, "<defaults>");
}

struct conf *conf_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set_errno("cannot open config %s", path), NULL;
    char *buf = xmalloc(CONF_FILE_MAX + 1);
    size_t n = fread(buf, 1, CONF_FILE_MAX + 1, f);
    bool failed = ferror(f);
    fclose(f);
    struct conf *c = NULL;
    if (failed)
        err_set("cannot read config %s", path);
    else if (n > CONF_FILE_MAX)
        err_set("%s: larger than %d bytes; is this a config file?", path, CONF_FILE_MAX);
    else
        c = parse(buf, n, path);
    free(buf);
    return c;
}

void conf_free(struct conf *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_uris; i++)
        free(c->uris[i]);
    free(c->uris);
    free(c->path);
    free(c->api_listen);
    free(c->history_path);
    free(c->pid_file);
    conf_named_free(c);
    free(c->pool_dir);
    free(c->email_url);
    free(c->email_from);
    for (size_t i = 0; i < c->n_email_to; i++)
        free(c->email_to[i]);
    free(c->email_user);
    if (c->email_password)
        explicit_bzero(c->email_password, strlen(c->email_password));
    free(c->email_password);
    free(c->email_tls);
    free(c->email_spool_dir);
    free(c->snmp_target);
    free(c->snmp_community);
    free(c->snmp_user);
    if (c->snmp_auth_pass)
        explicit_bzero(c->snmp_auth_pass, strlen(c->snmp_auth_pass));
    free(c->snmp_auth_pass);
    if (c->snmp_priv_pass)
        explicit_bzero(c->snmp_priv_pass, strlen(c->snmp_priv_pass));
    free(c->snmp_priv_pass);
    free(c->snmp_engine_id);
    free(c);
}
