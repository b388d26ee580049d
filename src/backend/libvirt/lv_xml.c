/* lv_xml: what we read from domain XML (device target names, the memory
 * hot-plug ceiling) and attribute escaping for the XML we write — no XML
 * library needed: libvirt writes its XML in one canonical form. */
#include "backend/libvirt/lv.h"
#include "util/mem.h"
#include "util/parse.h"

#include <stdio.h>
#include <string.h>

/* The value of attribute `attr` inside the tag starting at p (up to '>'),
 * copied to out; false if absent or too long. */
static bool lv_xml_attr(const char *p, const char *attr, char *out, size_t out_size)
{
    const char *end = strchr(p, '>');
    size_t alen = strlen(attr);
    for (const char *q = p + 1; end && q < end; q++) {
        if (strncmp(q, attr, alen) != 0 || q[alen] != '=' || !strchr(" \t\n", q[-1]))
            continue;
        char quote = q[alen + 1];
        if (quote != '\'' && quote != '"')
            return false;
        const char *v = q + alen + 2;
        const char *ve = strchr(v, quote);
        if (!ve || ve > end || (size_t)(ve - v) >= out_size)
            return false;
        memcpy(out, v, (size_t)(ve - v));
        out[ve - v] = '\0';
        return true;
    }
    return false;
}

size_t lv_xml_targets(const char *xml, const char *elem, char (*names)[32], size_t max)
{
    char open[32], close[32];
    size_t n = 0;
    snprintf(open, sizeof(open), "<%s ", elem);
    snprintf(close, sizeof(close), "</%s>", elem);
    const char *p = xml;
    while (n < max && (p = strstr(p, open)) != NULL) {
        const char *e = strstr(p, close);
        const char *t = strstr(p, "<target ");
        if (!e)
            break;
        if (t && t < e && lv_xml_attr(t, "dev", names[n], sizeof(names[n])))
            n++;
        p = e;
    }
    return n;
}

/* "KiB" -> 1, "MiB" -> 1024, ...; 0 for a unit we do not take. */
static uint64_t lv_xml_unit_kib(const char *unit)
{
    static const struct {
        const char *name;
        uint64_t kib;
    } units[] = {{"KiB", 1},  {"k", 1},         {"K", 1},      {"MiB", 1024},
                 {"M", 1024}, {"GiB", 1 << 20}, {"G", 1 << 20}};
    for (size_t i = 0; i < ARRAY_LEN(units); i++) {
        if (strcmp(unit, units[i].name) == 0)
            return units[i].kib;
    }
    return 0;
}

int lv_xml_memory_caps(const char *xml, struct lv_memcaps *out)
{
    memset(out, 0, sizeof(*out));
    const char *p = strstr(xml, "<maxMemory ");
    if (p) {
        char slots[16], unit[16] = "KiB", num[24];
        const char *v = strchr(p, '>');
        const char *e = v ? strstr(v, "</maxMemory>") : NULL;
        uint64_t n, sl, kib;
        if (!e || (size_t)(e - v - 1) >= sizeof(num) ||
            !lv_xml_attr(p, "slots", slots, sizeof(slots)))
            return -1;
        memcpy(num, v + 1, (size_t)(e - v - 1));
        num[e - v - 1] = '\0';
        lv_xml_attr(p, "unit", unit, sizeof(unit));
        kib = lv_xml_unit_kib(unit);
        if (kib == 0 || parse_uint64(num, UINT64_MAX / kib, &n) < 0 ||
            parse_uint64(slots, 256, &sl) < 0)
            return -1;
        out->max_kib = n * kib;
        out->slots = (unsigned)sl;
    }
    for (const char *q = xml; (q = strstr(q, "<memory model=")) != NULL; q++)
        out->dimms++;
    out->numa = strstr(xml, "<numa>") != NULL;
    return 0;
}

char *lv_xml_escape(const char *s)
{
    size_t n = 1;
    for (const char *p = s; *p; p++)
        n += strchr("&<>'\"", *p) ? 6 : 1;
    char *out = xmalloc(n), *o = out;
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '"':
            rep = "&quot;";
            break;
        default:
            *o++ = *p;
            continue;
        }
        size_t rl = strlen(rep);
        memcpy(o, rep, rl);
        o += rl;
    }
    *o = '\0';
    return out;
}
