/* pkt: allocation of in-flight frames. */
#include "pkt.h"

#include <string.h>

#include "util/mem.h"

struct pkt *pkt_new(const void *data, size_t len)
{
    struct pkt *p = xmalloc(sizeof(*p) + len);

    p->next = NULL;
    p->due_ns = 0;
    p->flow = 0;
    p->len = len;
    memcpy(p->data, data, len);
    return p;
}
