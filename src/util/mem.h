/* mem: allocation that never returns NULL, and cleanup-on-scope-exit macros.
 *
 * Like libvirt and GLib, an allocation failure aborts the process: a daemon that
 * cannot allocate a few bytes cannot report anything useful either. Sizes that
 * come from outside input must be bounded by the caller before allocating.
 */
#ifndef ARAS_UTIL_MEM_H
#define ARAS_UTIL_MEM_H

#include <stddef.h>
#include <stdlib.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grow *ptr to hold at least `need` elements of `elem` bytes; *cap is updated.
 * Amortised doubling. */
void xgrow(void **ptr, size_t *cap, size_t need, size_t elem);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a newly allocated string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Free *p at scope exit: `AUTOFREE char *s = xstrdup("x");`. */
static inline void autofree_cb(void *p)
{
    free(*(void **)p);
}
#define AUTOFREE __attribute__((cleanup(autofree_cb)))

/* Steal an AUTOFREE pointer so it is not freed at scope exit. */
#define STEAL(p)                                                                                   \
    ({                                                                                             \
        __typeof__(p) stolen_ = (p);                                                               \
        (p) = NULL;                                                                                \
        stolen_;                                                                                   \
    })

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
