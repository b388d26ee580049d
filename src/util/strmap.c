/* strmap: string-keyed open-addressing hash map (see strmap.h). */
#include "util/strmap.h"

#include "util/mem.h"

#include <stdint.h>
#include <string.h>

static char tombstone_mark;
#define TOMBSTONE (&tombstone_mark)

/* FNV-1a: keys are names we chose or validated, and the table resizes, so a
 * simple fast hash is enough here (this is not used for content addressing). */
static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void strmap_init(struct strmap *m)
{
    memset(m, 0, sizeof(*m));
}

void strmap_free(struct strmap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key && m->slots[i].key != TOMBSTONE)
            free(m->slots[i].key);
    }
    free(m->slots);
    strmap_init(m);
}

/* Slot holding key, or the first free slot where it would go. */
static struct strmap_slot *find(const struct strmap *m, const char *key, bool for_insert)
{
    size_t mask = m->cap - 1;
    struct strmap_slot *first_dead = NULL;
    for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
        struct strmap_slot *s = &m->slots[i];
        if (!s->key)
            return (for_insert && first_dead) ? first_dead : s;
        if (s->key == TOMBSTONE) {
            if (!first_dead)
                first_dead = s;
        } else if (strcmp(s->key, key) == 0) {
            return s;
        }
    }
}

static void rehash(struct strmap *m, size_t ncap)
{
    struct strmap old = *m;
    m->slots = xcalloc(ncap, sizeof(*m->slots));
    m->cap = ncap;
    m->used = 0;
    m->dead = 0;
    for (size_t i = 0; i < old.cap; i++) {
        struct strmap_slot *s = &old.slots[i];
        if (s->key && s->key != TOMBSTONE) {
            *find(m, s->key, true) = *s;
            m->used++;
        }
    }
    free(old.slots);
}

void *strmap_put(struct strmap *m, const char *key, void *value)
{
    /* Keep the load (live + tombstones) under 3/4. */
    if ((m->used + m->dead + 1) * 4 >= m->cap * 3)
        rehash(m, m->cap ? (m->used * 2 >= m->cap / 2 ? m->cap * 2 : m->cap) : 16);
    struct strmap_slot *s = find(m, key, true);
    if (s->key && s->key != TOMBSTONE) {
        void *prev = s->value;
        s->value = value;
        return prev;
    }
    if (s->key == TOMBSTONE)
        m->dead--;
    s->key = xstrdup(key);
    s->value = value;
    m->used++;
    return NULL;
}

void *strmap_get(const struct strmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    struct strmap_slot *s = find(m, key, false);
    return s->key ? s->value : NULL;
}

void *strmap_del(struct strmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    struct strmap_slot *s = find(m, key, false);
    if (!s->key)
        return NULL;
    void *v = s->value;
    free(s->key);
    s->key = TOMBSTONE;
    s->value = NULL;
    m->used--;
    m->dead++;
    return v;
}

size_t strmap_len(const struct strmap *m)
{
    return m->used;
}

bool strmap_next(const struct strmap *m, size_t *pos, const char **key, void **value)
{
    for (; *pos < m->cap; (*pos)++) {
        struct strmap_slot *s = &m->slots[*pos];
        if (s->key && s->key != TOMBSTONE) {
            *key = s->key;
            *value = s->value;
            (*pos)++;
            return true;
        }
    }
    return false;
}
