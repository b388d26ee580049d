/* error: report an error once, where the context is; the boundary prints it.
 *
 * Functions that fail call err_set() with a positional, never-split message and
 * return -1 (or NULL). The caller at the boundary (CLI main, HTTP handler, loop
 * tick) reads err_msg() and decides what to do. The message is thread-local, so
 * worker threads do not clobber each other. A later err_set() replaces it.
 */
#ifndef ARAS_UTIL_ERROR_H
#define ARAS_UTIL_ERROR_H

#include <stdarg.h>

#define ERR_MSG_MAX 1024

/* Record an error message (printf-style). Always returns -1 so that callers can
 * write `return err_set("...")`. */
int err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int err_setv(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Like err_set() but appends ": strerror(errno)" for the errno at call time. */
int err_set_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prefix the current message with more context: "ctx: old message". */
int err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last message recorded on this thread, or "unknown error" if none. */
const char *err_msg(void);

void err_clear(void);

#endif
