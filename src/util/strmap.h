/* strmap: a string-keyed hash map (open addressing, linear probing) to void *.
 *
 * Keys are copied; values are borrowed pointers the caller owns. Lookups are
 * O(1) on average, so per-VM state at 20,000 VMs costs no scans. Not
 * thread-safe.
 */
#ifndef ARAS_UTIL_STRMAP_H
#define ARAS_UTIL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap_slot {
    char *key; /* NULL = empty; STRMAP_TOMBSTONE = deleted */
    void *value;
};

struct strmap {
    struct strmap_slot *slots;
    size_t cap;  /* power of two, or 0 */
    size_t used; /* live keys */
    size_t dead; /* tombstones */
};

void strmap_init(struct strmap *m);
/* Free the keys and the table; values are not touched (free them first with
 * strmap_each if the map owns them by convention). */
void strmap_free(struct strmap *m);
/* Insert or replace; returns the previous value (or NULL). */
void *strmap_put(struct strmap *m, const char *key, void *value);
void *strmap_get(const struct strmap *m, const char *key);
/* Remove and return the value (NULL if absent). */
void *strmap_del(struct strmap *m, const char *key);
size_t strmap_len(const struct strmap *m);

/* Iterate: `for (size_t i = 0; strmap_next(m, &i, &k, &v);)`. Deleting the
 * current key during iteration is allowed; inserting is not. */
bool strmap_next(const struct strmap *m, size_t *pos, const char **key, void **value);

#endif
