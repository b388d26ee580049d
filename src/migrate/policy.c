/* policy: names and parsing of the pre-copy deferral policies. */
#include "migrate/migrate.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/parse.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[MIGRATE_POLICY_COUNT] = {
    [MIGRATE_POLICY_PLAIN] = "plain",   [MIGRATE_POLICY_XEN] = "xen",
    [MIGRATE_POLICY_MARKOV] = "markov", [MIGRATE_POLICY_GE] = "ge",
    [MIGRATE_POLICY_LASTK] = "lastk",   [MIGRATE_POLICY_ARAS] = "aras",
};

const char *migrate_policy_kind_str(enum migrate_policy_kind k)
{
    return (unsigned)k < MIGRATE_POLICY_COUNT ? kind_names[k] : "unknown";
}

static int parse_prob(const char *s, const char *what, const char *spec, double *out)
{
    if (parse_double(s, 0, 1, out) < 0)
        return err_set("policy '%s': %s '%s' is not a probability in [0, 1]", spec, what, s);
    return 0;
}

/* "ge:E1,E2,TH" or "ge:fit,TH". */
static int parse_ge(const char *args, const char *spec, struct migrate_policy_spec *out)
{
    AUTOFREE char *copy = xstrdup(args);
    char *parts[3];
    int n = 0;
    for (char *s = copy; n < 3; n++) {
        parts[n] = s;
        char *comma = strchr(s, ',');
        if (!comma) {
            n++;
            break;
        }
        *comma = '\0';
        s = comma + 1;
    }
    if (n == 2 && strcmp(parts[0], "fit") == 0) {
        out->ge_fit = true;
        out->eps1 = 0.1;
        out->eps2 = 0.9;
        return parse_prob(parts[1], "threshold", spec, &out->threshold);
    }
    if (n != 3 || strchr(parts[2], ','))
        return err_set("policy '%s': expected ge:EPS1,EPS2,THRESHOLD or ge:fit,THRESHOLD", spec);
    if (parse_prob(parts[0], "eps1", spec, &out->eps1) < 0 ||
        parse_prob(parts[1], "eps2", spec, &out->eps2) < 0 ||
        parse_prob(parts[2], "threshold", spec, &out->threshold) < 0)
        return -1;
    if (out->eps1 >= out->eps2)
        return err_set("policy '%s': eps1 must be below eps2", spec);
    return 0;
}

int migrate_policy_parse(const char *s, struct migrate_policy_spec *out)
{
    memset(out, 0, sizeof(*out));
    const char *colon = strchr(s, ':');
    size_t name_len = colon ? (size_t)(colon - s) : strlen(s);
    const char *args = colon ? colon + 1 : NULL;
    int kind = -1;
    for (int k = 0; k < MIGRATE_POLICY_COUNT; k++) {
        if (strlen(kind_names[k]) == name_len && strncmp(s, kind_names[k], name_len) == 0)
            kind = k;
    }
    if (kind < 0)
        return err_set("unknown policy '%s' (plain, xen, markov:TH, ge:E1,E2,TH, ge:fit,TH, "
                       "lastk:K, aras)",
                       s);
    out->kind = (enum migrate_policy_kind)kind;
    bool wants_args =
        kind == MIGRATE_POLICY_MARKOV || kind == MIGRATE_POLICY_GE || kind == MIGRATE_POLICY_LASTK;
    if (wants_args != (args != NULL))
        return err_set("policy '%s': %s", s,
                       wants_args ? "needs parameters after ':'" : "takes no parameters");
    int64_t k;
    switch (out->kind) {
    case MIGRATE_POLICY_MARKOV:
        return parse_prob(args, "threshold", s, &out->threshold);
    case MIGRATE_POLICY_GE:
        return parse_ge(args, s, out);
    case MIGRATE_POLICY_LASTK:
        if (parse_int64(args, 1, 64, &k) < 0)
            return err_set("policy '%s': k must be an integer in 1..64", s);
        out->k = (uint32_t)k;
        return 0;
    default:
        return 0;
    }
}

void migrate_policy_name(const struct migrate_policy_spec *spec, char *buf, size_t len)
{
    const char *n = migrate_policy_kind_str(spec->kind);
    switch (spec->kind) {
    case MIGRATE_POLICY_MARKOV:
        snprintf(buf, len, "%s:%g", n, spec->threshold);
        break;
    case MIGRATE_POLICY_GE:
        if (spec->ge_fit)
            snprintf(buf, len, "%s:fit,%g", n, spec->threshold);
        else
            snprintf(buf, len, "%s:%g,%g,%g", n, spec->eps1, spec->eps2, spec->threshold);
        break;
    case MIGRATE_POLICY_LASTK:
        snprintf(buf, len, "%s:%u", n, spec->k);
        break;
    default:
        snprintf(buf, len, "%s", n);
        break;
    }
}
