/* parse: strict value parsers (see parse.h). */
#include "util/parse.h"

#include "util/error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool blank(const char *s)
{
    return !s || !*s || isspace((unsigned char)*s);
}

int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (blank(s))
        return err_set("expected an integer, got '%s'", s ? s : "");
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return err_set("'%s' is not an integer", s);
    if (v < min || v > max)
        return err_set("%s is out of range [%lld, %lld]", s, (long long)min, (long long)max);
    *out = v;
    return 0;
}

int parse_uint64(const char *s, uint64_t max, uint64_t *out)
{
    if (blank(s) || *s == '-')
        return err_set("expected a non-negative integer, got '%s'", s ? s : "");
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return err_set("'%s' is not a non-negative integer", s);
    if (v > max)
        return err_set("%s is larger than %llu", s, (unsigned long long)max);
    *out = v;
    return 0;
}

int parse_double(const char *s, double min, double max, double *out)
{
    if (blank(s))
        return err_set("expected a number, got '%s'", s ? s : "");
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return err_set("'%s' is not a number", s);
    if (v < min || v > max)
        return err_set("%s is out of range [%g, %g]", s, min, max);
    *out = v;
    return 0;
}

int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (unsigned i = 0; s && i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return err_set("'%s' is not a boolean (yes/no, true/false, on/off, 1/0)", s ? s : "");
}

/* Split "12.5Mbit" into number and unit suffix. */
static int number_and_unit(const char *s, double *num, const char **unit)
{
    if (blank(s))
        return err_set("expected a value, got '%s'", s ? s : "");
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0)
        return err_set("'%s' does not start with a non-negative number", s);
    *num = v;
    *unit = end;
    return 0;
}

struct unit_factor {
    const char *name;
    double factor;
};

static int lookup_unit(const char *s, const char *unit, const struct unit_factor *table,
                       const char *what, double *factor)
{
    for (const struct unit_factor *u = table; u->name; u++) {
        if (strcasecmp(unit, u->name) == 0) {
            *factor = u->factor;
            return 0;
        }
    }
    return err_set("'%s': unknown %s unit '%s'", s, what, unit);
}

int parse_duration_ms(const char *s, int64_t *out_ms)
{
    static const struct unit_factor units[] = {
        {"", 1000},     {"ms", 1},      {"s", 1000},     {"m", 60000},
        {"min", 60000}, {"h", 3600000}, {"d", 86400000}, {NULL, 0},
    };
    double v, f = 0;
    const char *unit;
    if (number_and_unit(s, &v, &unit) < 0 || lookup_unit(s, unit, units, "duration", &f) < 0)
        return -1;
    double ms = v * f;
    if (ms > 1e15)
        return err_set("duration '%s' is too large", s);
    *out_ms = (int64_t)llround(ms);
    return 0;
}

int parse_size_bytes(const char *s, uint64_t *out)
{
    static const struct unit_factor units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1024.0},
        {"kib", 1024.0},
        {"kb", 1024.0},
        {"m", 1048576.0},
        {"mib", 1048576.0},
        {"mb", 1048576.0},
        {"g", 1073741824.0},
        {"gib", 1073741824.0},
        {"gb", 1073741824.0},
        {"t", 1099511627776.0},
        {"tib", 1099511627776.0},
        {"tb", 1099511627776.0},
        {NULL, 0},
    };
    double v, f = 0;
    const char *unit;
    if (number_and_unit(s, &v, &unit) < 0 || lookup_unit(s, unit, units, "size", &f) < 0)
        return -1;
    double bytes = v * f;
    if (bytes > 9.0e18)
        return err_set("size '%s' is too large", s);
    *out = (uint64_t)llround(bytes);
    return 0;
}

int parse_rate_bytes_per_s(const char *s, double *out)
{
    static const struct unit_factor units[] = {
        {"bit", 1 / 8.0},  {"kbit", 1e3 / 8},    {"mbit", 1e6 / 8},       {"gbit", 1e9 / 8},
        {"b/s", 1},        {"kb/s", 1e3},        {"mb/s", 1e6},           {"gb/s", 1e9},
        {"kib/s", 1024.0}, {"mib/s", 1048576.0}, {"gib/s", 1073741824.0}, {NULL, 0},
    };
    double v, f = 0;
    const char *unit;
    if (number_and_unit(s, &v, &unit) < 0)
        return -1;
    if (!*unit)
        return err_set("rate '%s' needs a unit (e.g. 100Mbit, 1Gbit, 50MB/s)", s);
    if (lookup_unit(s, unit, units, "rate", &f) < 0)
        return -1;
    if (v * f <= 0)
        return err_set("rate '%s' must be positive", s);
    *out = v * f;
    return 0;
}

int parse_percent(const char *s, bool allow_over, double *out)
{
    double v;
    const char *unit;
    if (number_and_unit(s, &v, &unit) < 0)
        return -1;
    if (*unit && strcmp(unit, "%") != 0)
        return err_set("'%s' is not a percentage", s);
    if (!allow_over && v > 100)
        return err_set("percentage '%s' is above 100", s);
    *out = v;
    return 0;
}
