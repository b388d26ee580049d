/* history: SQLite storage of ticks, samples, events and decisions (see
 * history.h); the migrations table is in history_migr.c. */
#include "history/history.h"
#include "history/history_int.h"

#include "util/error.h"
#include "util/mem.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

/* migrations[i] takes the schema from version i to i + 1. Never edit a shipped
 * entry: append a new one and bump HISTORY_SCHEMA_VERSION. */
static const char *const migrations[] = {
    "CREATE TABLE ticks (t_ms INTEGER PRIMARY KEY, hosts INTEGER NOT NULL,"
    "  hosts_up INTEGER NOT NULL, vms INTEGER NOT NULL, mean_host_cpu_pct REAL NOT NULL,"
    "  power_w REAL, energy_kwh REAL);"
    "CREATE TABLE host_samples (t_ms INTEGER NOT NULL, host TEXT NOT NULL, up INTEGER NOT NULL,"
    "  cpu_pct REAL, mem_used_pct REAL, power_w REAL);"
    "CREATE INDEX host_samples_t ON host_samples (t_ms);"
    "CREATE INDEX host_samples_host ON host_samples (host, t_ms);"
    "CREATE TABLE vm_samples (t_ms INTEGER NOT NULL, vm TEXT NOT NULL, host TEXT NOT NULL,"
    "  cpu_pct REAL, mem_used_pct REAL, disk_bytes_per_s REAL, net_bytes_per_s REAL);"
    "CREATE INDEX vm_samples_t ON vm_samples (t_ms);"
    "CREATE INDEX vm_samples_vm ON vm_samples (vm, t_ms);"
    "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, t_ms INTEGER NOT NULL,"
    "  severity TEXT NOT NULL, object TEXT NOT NULL, kind TEXT NOT NULL,"
    "  message TEXT NOT NULL, detail TEXT);"
    "CREATE INDEX events_t ON events (t_ms);"
    "CREATE TABLE decisions (id INTEGER PRIMARY KEY AUTOINCREMENT, t_ms INTEGER NOT NULL,"
    "  vm TEXT NOT NULL, action TEXT NOT NULL, reason TEXT NOT NULL, state TEXT NOT NULL);"
    "CREATE INDEX decisions_t ON decisions (t_ms);",
    "CREATE TABLE counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
    "CREATE TABLE migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, vm TEXT NOT NULL,"
    "  src TEXT NOT NULL, dst TEXT NOT NULL, origin TEXT NOT NULL, decision_id INTEGER,"
    "  params TEXT, state TEXT NOT NULL, created_ms INTEGER NOT NULL, started_ms INTEGER,"
    "  finished_ms INTEGER, elapsed_ms INTEGER, downtime_ms INTEGER, bytes INTEGER,"
    "  result TEXT);"
    "CREATE INDEX migrations_open ON migrations (finished_ms);",
};
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == HISTORY_SCHEMA_VERSION,
               "one migration per schema version");

enum stmt_id {
    ST_TICK,
    ST_HOST,
    ST_VM,
    ST_EVENT,
    ST_DECISION,
    ST_PRUNE_TICKS,
    ST_PRUNE_HOSTS,
    ST_PRUNE_VMS,
    ST_PRUNE_EVENTS,
    ST_PRUNE_DECISIONS,
    ST_PRUNE_MIGRATIONS,
    ST_LIST_EVENTS,
    ST_LIST_DECISIONS,
    ST_COUNT_
};

static const char *const stmt_sql[ST_COUNT_] = {
    [ST_TICK] = "INSERT OR REPLACE INTO ticks VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_HOST] = "INSERT INTO host_samples VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_VM] = "INSERT INTO vm_samples VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_EVENT] = "INSERT INTO events (t_ms, severity, object, kind, message, detail)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_DECISION] = "INSERT INTO decisions (t_ms, vm, action, reason, state)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_PRUNE_TICKS] = "DELETE FROM ticks WHERE t_ms < ?1",
    [ST_PRUNE_HOSTS] = "DELETE FROM host_samples WHERE t_ms < ?1",
    [ST_PRUNE_VMS] = "DELETE FROM vm_samples WHERE t_ms < ?1",
    [ST_PRUNE_EVENTS] = "DELETE FROM events WHERE t_ms < ?1",
    [ST_PRUNE_DECISIONS] = "DELETE FROM decisions WHERE t_ms < ?1",
    [ST_PRUNE_MIGRATIONS] = "DELETE FROM migrations WHERE finished_ms < ?1",
    [ST_LIST_EVENTS] = "SELECT * FROM (SELECT id, t_ms, severity, object, kind, message, detail"
                       " FROM events WHERE t_ms >= ?1 ORDER BY id DESC LIMIT ?2) ORDER BY id",
    [ST_LIST_DECISIONS] = "SELECT * FROM (SELECT id, t_ms, vm, action, reason, state"
                          " FROM decisions WHERE t_ms >= ?1 ORDER BY id DESC LIMIT ?2)"
                          " ORDER BY id",
};

struct history {
    struct history_db base; /* first: history_migr.c sees only this */
    sqlite3_stmt *st[ST_COUNT_];
    int64_t retention_ms, sample_retention_ms;
};

static const char *const severity_names[] = {"info", "warn", "crit"};

const char *history_severity_str(enum history_severity s)
{
    if ((unsigned)s >= ARRAY_LEN(severity_names))
        return "?";
    return severity_names[s];
}

int history_severity_parse(const char *s, enum history_severity *out)
{
    for (size_t i = 0; i < ARRAY_LEN(severity_names); i++) {
        if (strcmp(s, severity_names[i]) == 0) {
            *out = (enum history_severity)i;
            return 0;
        }
    }
    return err_set("'%s' is not a severity (info, warn, crit)", s);
}

int history_db_fail(struct history_db *db, const char *what)
{
    return err_set("history %s: %s: %s", db->path, what, sqlite3_errmsg(db->db));
}

struct history_db *history_db_of(struct history *h)
{
    return &h->base;
}

static int db_fail(struct history *h, const char *what)
{
    return history_db_fail(&h->base, what);
}

/* mkdir -p of the directory part of path (nothing for a bare file name). */
static int make_parent_dirs(const char *path)
{
    AUTOFREE char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0750) < 0 && errno != EEXIST)
            return err_set_errno("history: cannot create directory %s", dir);
        *p = '/';
    }
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return err_set_errno("history: cannot create directory %s", dir);
    return 0;
}

static int exec(struct history *h, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(h->base.db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set("history %s: %s", h->base.path, msg ? msg : sqlite3_errmsg(h->base.db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Bring the schema from PRAGMA user_version up to HISTORY_SCHEMA_VERSION. */
static int migrate(struct history *h)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h->base.db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return db_fail(h, "reading the schema version");
    int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (version < 0)
        return db_fail(h, "reading the schema version");
    if (version > HISTORY_SCHEMA_VERSION)
        return err_set("history %s: schema version %d is newer than this arasd knows (%d); "
                       "run a newer arasd or move the file away",
                       h->base.path, version, HISTORY_SCHEMA_VERSION);
    for (int v = version; v < HISTORY_SCHEMA_VERSION; v++) {
        AUTOFREE char *sql =
            xasprintf("BEGIN; %s PRAGMA user_version = %d; COMMIT;", migrations[v], v + 1);
        if (exec(h, sql) < 0) {
            sqlite3_exec(h->base.db, "ROLLBACK", NULL, NULL, NULL);
            return err_prefix("migrating schema %d -> %d", v, v + 1);
        }
    }
    return 0;
}

static int prepare_all(struct history *h)
{
    for (int i = 0; i < ST_COUNT_; i++) {
        if (sqlite3_prepare_v3(h->base.db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &h->st[i],
                               NULL) != SQLITE_OK)
            return db_fail(h, "preparing statements");
    }
    return 0;
}

struct history *history_open(const char *path, int64_t retention_ms, int64_t sample_retention_ms)
{
    bool memory = strcmp(path, ":memory:") == 0;
    if (!memory && make_parent_dirs(path) < 0)
        return NULL;
    struct history *h = xcalloc(1, sizeof(*h));
    pthread_mutex_init(&h->base.lock, NULL);
    h->base.path = xstrdup(path);
    h->retention_ms = retention_ms;
    h->sample_retention_ms = sample_retention_ms;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, &h->base.db, flags, NULL) != SQLITE_OK) {
        db_fail(h, "cannot open");
        history_close(h);
        return NULL;
    }
    sqlite3_busy_timeout(h->base.db, 5000);
    /* WAL: the writer does not block readers; NORMAL sync is safe with WAL
     * (a crash may lose the last tick, never corrupt the file). */
    if (exec(h, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                "PRAGMA cache_size = -65536;") < 0 ||
        migrate(h) < 0 || prepare_all(h) < 0) {
        history_close(h);
        return NULL;
    }
    return h;
}

void history_close(struct history *h)
{
    if (!h)
        return;
    for (int i = 0; i < ST_COUNT_; i++)
        sqlite3_finalize(h->st[i]);
    sqlite3_close(h->base.db);
    pthread_mutex_destroy(&h->base.lock);
    free(h->base.path);
    free(h);
}

void history_set_retention(struct history *h, int64_t retention_ms, int64_t sample_retention_ms)
{
    pthread_mutex_lock(&h->base.lock);
    h->retention_ms = retention_ms;
    h->sample_retention_ms = sample_retention_ms;
    pthread_mutex_unlock(&h->base.lock);
}

/* Bind a double, or NULL when it is negative ("unknown"). */
static void bind_opt(sqlite3_stmt *st, int i, double v)
{
    if (v < 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Step a fully bound write statement and reset it. */
static int step_done(struct history *h, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : db_fail(h, what);
}

static int insert_event(struct history *h, const struct history_event *ev, int64_t *id_out)
{
    sqlite3_stmt *st = h->st[ST_EVENT];
    sqlite3_bind_int64(st, 1, ev->t_ms);
    bind_text(st, 2, history_severity_str(ev->severity));
    bind_text(st, 3, ev->object ? ev->object : "");
    bind_text(st, 4, ev->kind ? ev->kind : "");
    bind_text(st, 5, ev->message ? ev->message : "");
    bind_text(st, 6, ev->detail);
    if (step_done(h, st, "recording an event") < 0)
        return -1;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(h->base.db);
    return 0;
}

static int insert_samples(struct history *h, const struct history_tick *t)
{
    sqlite3_stmt *st = h->st[ST_HOST];
    for (size_t i = 0; i < t->n_host_samples; i++) {
        const struct history_host_sample *s = &t->hosts[i];
        sqlite3_bind_int64(st, 1, t->t_ms);
        bind_text(st, 2, s->host);
        sqlite3_bind_int(st, 3, s->up);
        bind_opt(st, 4, s->cpu_pct);
        bind_opt(st, 5, s->mem_used_pct);
        bind_opt(st, 6, s->power_w);
        if (step_done(h, st, "recording a host sample") < 0)
            return -1;
    }
    st = h->st[ST_VM];
    for (size_t i = 0; i < t->n_vm_samples; i++) {
        const struct history_vm_sample *s = &t->vms[i];
        sqlite3_bind_int64(st, 1, t->t_ms);
        bind_text(st, 2, s->vm);
        bind_text(st, 3, s->host ? s->host : "");
        bind_opt(st, 4, s->cpu_pct);
        bind_opt(st, 5, s->mem_used_pct);
        bind_opt(st, 6, s->disk_bytes_per_s);
        bind_opt(st, 7, s->net_bytes_per_s);
        if (step_done(h, st, "recording a VM sample") < 0)
            return -1;
    }
    return 0;
}

static int prune(struct history *h, int64_t now_ms)
{
    static const struct {
        enum stmt_id st;
        bool samples;
    } what[] = {
        {ST_PRUNE_TICKS, false},      {ST_PRUNE_EVENTS, false}, {ST_PRUNE_DECISIONS, false},
        {ST_PRUNE_MIGRATIONS, false}, {ST_PRUNE_HOSTS, true},   {ST_PRUNE_VMS, true},
    };
    for (size_t i = 0; i < ARRAY_LEN(what); i++) {
        int64_t keep = what[i].samples ? h->sample_retention_ms : h->retention_ms;
        sqlite3_bind_int64(h->st[what[i].st], 1, now_ms - keep);
        if (step_done(h, h->st[what[i].st], "pruning old rows") < 0)
            return -1;
    }
    return 0;
}

static int write_tick(struct history *h, const struct history_tick *t)
{
    sqlite3_stmt *st = h->st[ST_TICK];
    sqlite3_bind_int64(st, 1, t->t_ms);
    sqlite3_bind_int64(st, 2, (int64_t)t->n_hosts);
    sqlite3_bind_int64(st, 3, (int64_t)t->n_hosts_up);
    sqlite3_bind_int64(st, 4, (int64_t)t->n_vms);
    sqlite3_bind_double(st, 5, t->mean_host_cpu_pct);
    bind_opt(st, 6, t->power_w);
    bind_opt(st, 7, t->energy_kwh);
    if (step_done(h, st, "recording a tick") < 0 || insert_samples(h, t) < 0)
        return -1;
    for (size_t i = 0; i < t->n_events; i++) {
        if (insert_event(h, &t->events[i], NULL) < 0)
            return -1;
    }
    return prune(h, t->t_ms);
}

int history_record_tick(struct history *h, const struct history_tick *t)
{
    pthread_mutex_lock(&h->base.lock);
    int rc = exec(h, "BEGIN");
    if (rc == 0) {
        rc = write_tick(h, t);
        if (rc == 0)
            rc = exec(h, "COMMIT");
        if (rc < 0)
            sqlite3_exec(h->base.db, "ROLLBACK", NULL, NULL, NULL);
    }
    pthread_mutex_unlock(&h->base.lock);
    return rc;
}

int history_record_event(struct history *h, const struct history_event *ev, int64_t *id_out)
{
    pthread_mutex_lock(&h->base.lock);
    int rc = insert_event(h, ev, id_out);
    pthread_mutex_unlock(&h->base.lock);
    return rc;
}

int history_record_decision(struct history *h, const struct history_decision *d, int64_t *id_out)
{
    pthread_mutex_lock(&h->base.lock);
    sqlite3_stmt *st = h->st[ST_DECISION];
    sqlite3_bind_int64(st, 1, d->t_ms);
    bind_text(st, 2, d->vm ? d->vm : "");
    bind_text(st, 3, d->action ? d->action : "");
    bind_text(st, 4, d->reason ? d->reason : "");
    bind_text(st, 5, d->state ? d->state : "");
    int rc = step_done(h, st, "recording a decision");
    if (rc == 0 && id_out)
        *id_out = sqlite3_last_insert_rowid(h->base.db);
    pthread_mutex_unlock(&h->base.lock);
    return rc;
}

static char *column_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? xstrdup((const char *)s) : NULL;
}

/* Run a bound list statement; `row` copies one row into element i of *arr. */
static int list_rows(struct history *h, enum stmt_id id, int64_t since_ms, size_t limit,
                     size_t elem, void **arr, size_t *n_out,
                     void (*row)(sqlite3_stmt *st, void *dst))
{
    *arr = NULL;
    *n_out = 0;
    if (limit == 0 || limit > HISTORY_LIST_MAX)
        return err_set("limit %zu is out of range [1, %d]", limit, HISTORY_LIST_MAX);
    pthread_mutex_lock(&h->base.lock);
    sqlite3_stmt *st = h->st[id];
    sqlite3_bind_int64(st, 1, since_ms);
    sqlite3_bind_int64(st, 2, (int64_t)limit);
    size_t n = 0, cap = 0;
    void *out = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        xgrow(&out, &cap, n + 1, elem);
        row(st, (char *)out + n * elem);
        n++;
    }
    int result = rc == SQLITE_DONE ? 0 : db_fail(h, "listing rows");
    sqlite3_reset(st);
    pthread_mutex_unlock(&h->base.lock);
    *arr = out;
    *n_out = n;
    return result;
}

static void event_row(sqlite3_stmt *st, void *dst)
{
    struct history_event *e = dst;
    e->id = sqlite3_column_int64(st, 0);
    e->t_ms = sqlite3_column_int64(st, 1);
    const char *sev = (const char *)sqlite3_column_text(st, 2);
    if (!sev || history_severity_parse(sev, &e->severity) < 0)
        e->severity = HISTORY_SEV_INFO;
    e->object = column_dup(st, 3);
    e->kind = column_dup(st, 4);
    e->message = column_dup(st, 5);
    e->detail = column_dup(st, 6);
}

static void decision_row(sqlite3_stmt *st, void *dst)
{
    struct history_decision *d = dst;
    d->id = sqlite3_column_int64(st, 0);
    d->t_ms = sqlite3_column_int64(st, 1);
    d->vm = column_dup(st, 2);
    d->action = column_dup(st, 3);
    d->reason = column_dup(st, 4);
    d->state = column_dup(st, 5);
}

int history_list_events(struct history *h, int64_t since_ms, size_t limit,
                        struct history_event **out, size_t *n_out)
{
    void *arr = NULL;
    int rc = list_rows(h, ST_LIST_EVENTS, since_ms, limit, sizeof(**out), &arr, n_out, event_row);
    *out = arr;
    if (rc < 0) {
        history_events_free(*out, *n_out);
        *out = NULL;
        *n_out = 0;
    }
    return rc;
}

void history_events_free(struct history_event *evs, size_t n)
{
    for (size_t i = 0; evs && i < n; i++) {
        free((char *)evs[i].object);
        free((char *)evs[i].kind);
        free((char *)evs[i].message);
        free((char *)evs[i].detail);
    }
    free(evs);
}

int history_list_decisions(struct history *h, int64_t since_ms, size_t limit,
                           struct history_decision **out, size_t *n_out)
{
    void *arr = NULL;
    int rc =
        list_rows(h, ST_LIST_DECISIONS, since_ms, limit, sizeof(**out), &arr, n_out, decision_row);
    *out = arr;
    if (rc < 0) {
        history_decisions_free(*out, *n_out);
        *out = NULL;
        *n_out = 0;
    }
    return rc;
}

void history_decisions_free(struct history_decision *ds, size_t n)
{
    for (size_t i = 0; ds && i < n; i++) {
        free((char *)ds[i].vm);
        free((char *)ds[i].action);
        free((char *)ds[i].reason);
        free((char *)ds[i].state);
    }
    free(ds);
}

int64_t history_count(struct history *h, const char *table)
{
    static const char *const tables[] = {"ticks",  "host_samples", "vm_samples",
                                         "events", "decisions",    "migrations"};
    bool known = false;
    for (size_t i = 0; i < ARRAY_LEN(tables); i++)
        known = known || strcmp(table, tables[i]) == 0;
    if (!known)
        return err_set("history: no table '%s'", table);
    AUTOFREE char *sql = xasprintf("SELECT count(*) FROM %s", table);
    pthread_mutex_lock(&h->base.lock);
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(h->base.db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (n < 0)
        db_fail(h, "counting rows");
    pthread_mutex_unlock(&h->base.lock);
    return n;
}

int history_counter_next(struct history *h, const char *key, int64_t *out)
{
    static const char sql[] = "INSERT INTO counters VALUES (?1, 1)"
                              " ON CONFLICT (key) DO UPDATE SET value = value + 1"
                              " RETURNING value";
    pthread_mutex_lock(&h->base.lock);
    sqlite3_stmt *st;
    int rc = -1;
    if (sqlite3_prepare_v2(h->base.db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        }
        sqlite3_finalize(st);
    }
    if (rc < 0)
        db_fail(h, "updating a counter");
    pthread_mutex_unlock(&h->base.lock);
    return rc;
}
