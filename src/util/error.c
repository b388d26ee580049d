/* error: thread-local last-error message (see error.h). */
#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_msg[ERR_MSG_MAX];

/* last_msg = "head: tail", cut at ERR_MSG_MAX (a long message is still useful). */
static void compose(const char *head, const char *tail)
{
    int n = snprintf(last_msg, sizeof(last_msg), "%s: %s", head, tail);
    if (n >= (int)sizeof(last_msg))
        last_msg[sizeof(last_msg) - 1] = '\0';
}

int err_setv(const char *fmt, va_list ap)
{
    vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
    return -1;
}

int err_set(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_setv(fmt, ap);
    va_end(ap);
    return -1;
}

int err_set_errno(const char *fmt, ...)
{
    int saved = errno;
    char head[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof(head), fmt, ap);
    va_end(ap);
    compose(head, strerror(saved));
    errno = saved;
    return -1;
}

int err_prefix(const char *fmt, ...)
{
    char head[ERR_MSG_MAX];
    char old[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof(head), fmt, ap);
    va_end(ap);
    memcpy(old, last_msg, sizeof(old));
    compose(head, old[0] ? old : "unknown error");
    return -1;
}

const char *err_msg(void)
{
    return last_msg[0] ? last_msg : "unknown error";
}

void err_clear(void)
{
    last_msg[0] = '\0';
}
