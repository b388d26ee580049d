/* log: leveled log lines to stderr (or a file), with a timestamp and module tag.
 * Thread-safe: one write(2) per line. */
#ifndef ARAS_UTIL_LOG_H
#define ARAS_UTIL_LOG_H

enum log_level {
    LOG_LEVEL_ERROR,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
};

const char *log_level_str(enum log_level level);
/* Parse "error", "warn", "info", "debug"; returns -1 on anything else. */
int log_level_parse(const char *s, enum log_level *out);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Send log lines to fd (default 2). The caller keeps ownership of fd. */
void log_set_fd(int fd);

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(mod, ...) log_msg(LOG_LEVEL_ERROR, mod, __VA_ARGS__)
#define log_warn(mod, ...)  log_msg(LOG_LEVEL_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...)  log_msg(LOG_LEVEL_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) log_msg(LOG_LEVEL_DEBUG, mod, __VA_ARGS__)

#endif
