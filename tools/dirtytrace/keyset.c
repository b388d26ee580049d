/* keyset: an open-addressing hash set of u64 page keys. */
#include "dirtytrace.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(uint64_t k, size_t cap)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

static void insert(uint64_t *slots, size_t cap, uint64_t stored)
{
    size_t i = slot_of(stored, cap);
    while (slots[i] && slots[i] != stored)
        i = (i + 1) & (cap - 1);
    slots[i] = stored;
}

void dt_keyset_add(struct dt_keyset *s, uint64_t key)
{
    if ((s->len + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        uint64_t *n = xcalloc(ncap, sizeof(uint64_t));
        for (size_t i = 0; i < s->cap; i++) {
            if (s->slots[i])
                insert(n, ncap, s->slots[i]);
        }
        free(s->slots);
        s->slots = n;
        s->cap = ncap;
    }
    uint64_t stored = key + 1;
    size_t i = slot_of(stored, s->cap);
    while (s->slots[i] && s->slots[i] != stored)
        i = (i + 1) & (s->cap - 1);
    if (!s->slots[i]) {
        s->slots[i] = stored;
        s->len++;
    }
}

bool dt_keyset_has(const struct dt_keyset *s, uint64_t key)
{
    if (!s->cap)
        return false;
    uint64_t stored = key + 1;
    size_t i = slot_of(stored, s->cap);
    while (s->slots[i]) {
        if (s->slots[i] == stored)
            return true;
        i = (i + 1) & (s->cap - 1);
    }
    return false;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

uint64_t *dt_keyset_sorted(const struct dt_keyset *s)
{
    uint64_t *out = xmalloc((s->len ? s->len : 1) * sizeof(uint64_t));
    size_t n = 0;
    for (size_t i = 0; i < s->cap; i++) {
        if (s->slots[i])
            out[n++] = s->slots[i] - 1;
    }
    qsort(out, n, sizeof(uint64_t), cmp_u64);
    return out;
}

void dt_keyset_free(struct dt_keyset *s)
{
    free(s->slots);
    memset(s, 0, sizeof(*s));
}
