/* conf_keys: value setters for the [allocator], [email], [snmp] and [script]
 * keys (the rows themselves are in conf.c's key table). */
#include "conf/conf_int.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define SECRET_MAX 1024 /* bytes of a password or passphrase file */

int conf_set_mode(struct conf *c, const struct conf_key *k, const char *v)
{
    return rac_mode_parse(v, conf_field(c, k));
}

int conf_set_percent(struct conf *c, const struct conf_key *k, const char *v)
{
    return parse_percent(v, false, conf_field(c, k));
}

int conf_set_size(struct conf *c, const struct conf_key *k, const char *v)
{
    uint64_t bytes;
    if (parse_size_bytes(v, &bytes) < 0)
        return -1;
    if ((int64_t)bytes < k->min || (k->max && (int64_t)bytes > k->max))
        return err_set("%s is out of range [%lld, %lld] bytes", v, (long long)k->min,
                       (long long)k->max);
    *(uint64_t *)conf_field(c, k) = bytes;
    return 0;
}

int conf_set_count(struct conf *c, const struct conf_key *k, const char *v)
{
    return parse_int64(v, k->min, k->max, conf_field(c, k));
}

static void replace(char **dst, const char *s)
{
    free(*dst);
    *dst = xstrdup(s);
}

/* A password or passphrase, read from a file (first line, without its end),
 * so that the configuration itself can be world-readable. */
int conf_set_secret(struct conf *c, const struct conf_key *k, const char *v)
{
    FILE *f = fopen(v, "r");
    if (!f)
        return err_set_errno("cannot read %s", v);
    char buf[SECRET_MAX + 2];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    bool failed = ferror(f);
    fclose(f);
    if (failed)
        return err_set("cannot read %s", v);
    if (n > SECRET_MAX)
        return err_set("%s: longer than %d bytes", v, SECRET_MAX);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0])
        return err_set("%s: empty", v);
    replace(conf_field(c, k), buf);
    explicit_bzero(buf, sizeof(buf));
    return 0;
}

/* An e-mail address: something@something, nothing that could break a header. */
static int check_address(const char *v)
{
    const char *at = strchr(v, '@');
    if (!at || at == v || !at[1] || strpbrk(v, " \t<>,;\"\r\n"))
        return err_set("'%s' is not an e-mail address (user@example.org)", v);
    if (strlen(v) > 254)
        return err_set("address longer than 254 characters");
    return 0;
}

int conf_set_address(struct conf *c, const struct conf_key *k, const char *v)
{
    if (check_address(v) < 0)
        return -1;
    replace(conf_field(c, k), v);
    return 0;
}

int conf_set_email_to(struct conf *c, const struct conf_key *k, const char *v)
{
    (void)k;
    if (check_address(v) < 0)
        return -1;
    if (c->n_email_to >= CONF_EMAIL_TO_MAX)
        return err_set("more than %d recipients", CONF_EMAIL_TO_MAX);
    c->email_to[c->n_email_to++] = xstrdup(v);
    return 0;
}

int conf_set_tls(struct conf *c, const struct conf_key *k, const char *v)
{
    static const char *const ok[] = {"none", "try", "all", "starttls"};
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        if (strcmp(v, ok[i]) == 0) {
            replace(conf_field(c, k), v);
            return 0;
        }
    }
    return err_set("'%s' must be none, try or all", v);
}

int conf_set_snmp_version(struct conf *c, const struct conf_key *k, const char *v)
{
    bool *v3 = conf_field(c, k);
    if (strcmp(v, "2c") == 0 || strcmp(v, "v2c") == 0)
        *v3 = false;
    else if (strcmp(v, "3") == 0 || strcmp(v, "v3") == 0)
        *v3 = true;
    else
        return err_set("'%s' must be 2c or 3", v);
    return 0;
}

int conf_set_url(struct conf *c, const struct conf_key *k, const char *v)
{
    if (strncmp(v, "smtp://", 7) != 0 && strncmp(v, "smtps://", 8) != 0)
        return err_set("'%s' is not an smtp:// or smtps:// URL", v);
    if (strlen(v) >= 1024)
        return err_set("URL longer than 1023 characters");
    replace(conf_field(c, k), v);
    return 0;
}
