/* trace: load a directory of PlanetLab-format CPU traces and interpolate them. */
#include "sim/sim.h"

#include "util/error.h"
#include "util/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRACE_FILE_MAX_BYTES (16u << 20) /* far above a day of 5-minute samples */
#define TRACE_DIR_MAX_FILES  1000000u

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read dir/name (opened relative to dfd) into *buf (grown, reused between
 * files), NUL-terminated; *len is the byte count. */
static int read_at(int dfd, const char *dir, const char *name, char **buf, size_t *cap, size_t *len)
{
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set_errno("cannot open trace '%s/%s'", dir, name);
    size_t n = 0;
    for (;;) {
        xgrow((void **)buf, cap, n + 4097, 1);
        ssize_t got = read(fd, *buf + n, *cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            close(fd);
            return err_set_errno("cannot read trace '%s/%s'", dir, name);
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n > TRACE_FILE_MAX_BYTES) {
            close(fd);
            return err_set("trace '%s/%s' is larger than %u bytes", dir, name,
                           TRACE_FILE_MAX_BYTES);
        }
    }
    close(fd);
    (*buf)[n] = '\0';
    *len = n;
    return 0;
}

/* Parse one line "0".."100" (ASCII digits only). */
static int parse_pct(const char *s, size_t n, uint8_t *out)
{
    if (n == 0 || n > 3)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 100)
        return -1;
    *out = (uint8_t)v;
    return 0;
}

/* Parse a file's text into t->pct (n_lines values, room for padding later). */
static int parse_trace(const char *dir, const char *name, const char *text, size_t len,
                       struct sim_trace *t)
{
    size_t cap = 0, n = 0, line = 1;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        uint8_t v;
        if (parse_pct(p, l, &v) < 0) {
            free(t->pct);
            t->pct = NULL;
            return err_set("%s/%s:%zu: expected an integer 0..100 (CPU %%), got '%.*s'", dir, name,
                           line, (int)(l > 40 ? 40 : l), p);
        }
        xgrow((void **)&t->pct, &cap, n + 1, 1);
        t->pct[n++] = v;
        line++;
        p = nl ? nl + 1 : end;
    }
    if (n == 0)
        return err_set("%s/%s: empty trace (expected one integer per line)", dir, name);
    t->n_lines = n;
    return 0;
}

/* Names of the regular, non-hidden files of dir, sorted with strcmp. */
static char **list_files(const char *dir, size_t *n_out)
{
    DIR *d = opendir(dir);
    if (!d)
        return err_set_errno("cannot open trace directory '%s'", dir), NULL;
    char **names = NULL;
    size_t cap = 0, n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        /* d_type saves a stat per file; symlinks and unknown types are stat'ed */
        struct stat st;
        if (e->d_type != DT_REG &&
            (fstatat(dirfd(d), e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode)))
            continue;
        if (n >= TRACE_DIR_MAX_FILES || strlen(e->d_name) >= SIM_TRACE_NAME_MAX) {
            closedir(d);
            for (size_t i = 0; i < n; i++)
                free(names[i]);
            free(names);
            return err_set("trace directory '%s': too many files or a name too long", dir), NULL;
        }
        xgrow((void **)&names, &cap, n + 1, sizeof(*names));
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n == 0) {
        free(names);
        return err_set("trace directory '%s' has no trace files", dir), NULL;
    }
    qsort(names, n, sizeof(*names), cmp_name);
    *n_out = n;
    return names;
}

/* Pad every trace to n_samples values plus CloudSim's copy of the last one. */
static void pad_traces(struct sim_traceset *ts)
{
    for (size_t i = 0; i < ts->n; i++) {
        struct sim_trace *t = &ts->traces[i];
        t->pct = xrealloc(t->pct, ts->n_samples + 1);
        for (size_t k = t->n_lines; k <= ts->n_samples; k++)
            t->pct[k] = t->pct[t->n_lines - 1];
    }
}

int sim_traceset_load(const char *dir, struct sim_traceset *ts)
{
    memset(ts, 0, sizeof(*ts));
    size_t n;
    char **names = list_files(dir, &n);
    if (!names)
        return -1;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return err_set_errno("cannot open trace directory '%s'", dir);
    }
    ts->dir = xstrdup(dir);
    ts->traces = xcalloc(n, sizeof(*ts->traces));
    AUTOFREE char *text = NULL;
    size_t text_cap = 0;
    for (size_t i = 0; i < n; i++) {
        ts->traces[i].name = names[i];
        ts->n = i + 1;
        size_t len = 0;
        if (read_at(dfd, dir, names[i], &text, &text_cap, &len) < 0 ||
            parse_trace(dir, names[i], text, len, &ts->traces[i]) < 0) {
            for (size_t k = i + 1; k < n; k++)
                free(names[k]);
            free(names);
            close(dfd);
            sim_traceset_free(ts);
            return -1;
        }
        if (ts->traces[i].n_lines > ts->n_samples)
            ts->n_samples = ts->traces[i].n_lines;
    }
    free(names);
    close(dfd);
    pad_traces(ts);
    return 0;
}

void sim_traceset_free(struct sim_traceset *ts)
{
    if (!ts)
        return;
    for (size_t i = 0; i < ts->n; i++) {
        free(ts->traces[i].name);
        free(ts->traces[i].pct);
    }
    free(ts->traces);
    free(ts->dir);
    memset(ts, 0, sizeof(*ts));
}

void sim_trace_pos(const struct sim_traceset *ts, double t_s, struct sim_trace_pos *pos)
{
    double period = (double)ts->n_samples * SIM_TRACE_STEP_S;
    if (t_s >= period || t_s < 0)
        t_s = fmod(t_s, period) + (t_s < 0 ? period : 0);
    pos->t_s = t_s;
    /* CloudSim: an exact sample time reads the sample; otherwise interpolate
     * between floor and ceil, with data[n] = data[n-1]. fmod is exact, so a
     * cheap pre-test rules the slow call out almost always. */
    double q = t_s / SIM_TRACE_STEP_S;
    if (fabs(q - nearbyint(q)) < 1e-9 && fmod(t_s, SIM_TRACE_STEP_S) == 0) {
        pos->k1 = pos->k2 = (size_t)(t_s / SIM_TRACE_STEP_S);
        pos->span_s = pos->off_s = 0;
        return;
    }
    pos->k1 = (size_t)floor(t_s / SIM_TRACE_STEP_S);
    pos->k2 = (size_t)ceil(t_s / SIM_TRACE_STEP_S);
    pos->span_s = (double)(pos->k2 - pos->k1) * SIM_TRACE_STEP_S;
    pos->off_s = t_s - (double)pos->k1 * SIM_TRACE_STEP_S;
}

double sim_trace_util(const struct sim_traceset *ts, size_t trace, double t_s)
{
    struct sim_trace_pos pos;
    sim_trace_pos(ts, t_s, &pos);
    return sim_trace_util_at(ts, trace, &pos);
}
