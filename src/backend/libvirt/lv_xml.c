/* lv_xml: the two things we read from domain XML (device target names) and
 * attribute escaping for the XML we write — no XML library needed. */
#include "backend/libvirt/lv.h"
#include "util/mem.h"

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
