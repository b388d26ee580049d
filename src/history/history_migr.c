/* history_migr: the migrations table (schema 3) — one row per live migration
 * arasd ran or adopted, open until its outcome is known (see history.h). */
#include "history/history_int.h"

#include "util/error.h"
#include "util/mem.h"

#include <string.h>

#define MIGR_COLS                                                                                  \
    "id, vm, src, dst, origin, decision_id, params, state, created_ms, started_ms,"                \
    " finished_ms, elapsed_ms, downtime_ms, bytes, result"

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* 0 and -1 ("not yet", "unknown") are stored as NULL. */
static void bind_opt(sqlite3_stmt *st, int i, int64_t v, int64_t none)
{
    if (v == none)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

static int64_t column_opt(sqlite3_stmt *st, int i, int64_t none)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? none : sqlite3_column_int64(st, i);
}

static char *column_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? xstrdup((const char *)s) : NULL;
}

/* Bind the fields an update may change, from parameter `first` on. */
static void bind_mutable(sqlite3_stmt *st, int first, const struct history_migration *m)
{
    bind_text(st, first, m->origin ? m->origin : "");
    bind_text(st, first + 1, m->state ? m->state : "");
    bind_opt(st, first + 2, m->started_ms, 0);
    bind_opt(st, first + 3, m->finished_ms, 0);
    bind_opt(st, first + 4, m->elapsed_ms, -1);
    bind_opt(st, first + 5, m->downtime_ms, -1);
    bind_opt(st, first + 6, m->bytes, -1);
    bind_text(st, first + 7, m->result);
}

/* Prepare sql, let bind() fill it, step it to the end. */
static int run(struct history_db *db, const char *sql, const struct history_migration *m,
               int (*bind)(sqlite3_stmt *st, const struct history_migration *m), const char *what)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
        return history_db_fail(db, what);
    int rc = bind(st, m);
    if (rc == 0 && sqlite3_step(st) != SQLITE_DONE)
        rc = history_db_fail(db, what);
    sqlite3_finalize(st);
    return rc;
}

static int bind_add(sqlite3_stmt *st, const struct history_migration *m)
{
    bind_text(st, 1, m->vm ? m->vm : "");
    bind_text(st, 2, m->src ? m->src : "");
    bind_text(st, 3, m->dst ? m->dst : "");
    bind_opt(st, 4, m->decision_id, 0);
    bind_text(st, 5, m->params);
    sqlite3_bind_int64(st, 6, m->created_ms);
    bind_mutable(st, 7, m);
    return 0;
}

int history_migration_add(struct history *h, const struct history_migration *m, int64_t *id_out)
{
    static const char sql[] =
        "INSERT INTO migrations (vm, src, dst, decision_id, params,"
        " created_ms, origin, state, started_ms, finished_ms, elapsed_ms,"
        " downtime_ms, bytes, result)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
    struct history_db *db = history_db_of(h);
    pthread_mutex_lock(&db->lock);
    int rc = run(db, sql, m, bind_add, "recording a migration");
    if (rc == 0 && id_out)
        *id_out = sqlite3_last_insert_rowid(db->db);
    pthread_mutex_unlock(&db->lock);
    return rc;
}

static int bind_update(sqlite3_stmt *st, const struct history_migration *m)
{
    sqlite3_bind_int64(st, 1, m->id);
    bind_mutable(st, 2, m);
    return 0;
}

int history_migration_update(struct history *h, const struct history_migration *m)
{
    static const char sql[] = "UPDATE migrations SET origin = ?2, state = ?3, started_ms = ?4,"
                              " finished_ms = ?5, elapsed_ms = ?6, downtime_ms = ?7, bytes = ?8,"
                              " result = ?9 WHERE id = ?1";
    struct history_db *db = history_db_of(h);
    pthread_mutex_lock(&db->lock);
    int rc = run(db, sql, m, bind_update, "updating a migration");
    if (rc == 0 && sqlite3_changes(db->db) != 1)
        rc = err_set("history %s: no migration #%lld to update", db->path, (long long)m->id);
    pthread_mutex_unlock(&db->lock);
    return rc;
}

static void migr_row(sqlite3_stmt *st, struct history_migration *m)
{
    m->id = sqlite3_column_int64(st, 0);
    m->vm = column_dup(st, 1);
    m->src = column_dup(st, 2);
    m->dst = column_dup(st, 3);
    m->origin = column_dup(st, 4);
    m->decision_id = column_opt(st, 5, 0);
    m->params = column_dup(st, 6);
    m->state = column_dup(st, 7);
    m->created_ms = sqlite3_column_int64(st, 8);
    m->started_ms = column_opt(st, 9, 0);
    m->finished_ms = column_opt(st, 10, 0);
    m->elapsed_ms = column_opt(st, 11, -1);
    m->downtime_ms = column_opt(st, 12, -1);
    m->bytes = column_opt(st, 13, -1);
    m->result = column_dup(st, 14);
}

/* Run a prepared SELECT of MIGR_COLS into a new array. */
static int collect(struct history_db *db, sqlite3_stmt *st, struct history_migration **out,
                   size_t *n_out)
{
    size_t n = 0, cap = 0;
    struct history_migration *arr = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        xgrow((void **)&arr, &cap, n + 1, sizeof(*arr));
        migr_row(st, &arr[n++]);
    }
    *out = arr;
    *n_out = n;
    if (rc == SQLITE_DONE)
        return 0;
    history_db_fail(db, "listing migrations");
    history_migrations_free(arr, n);
    *out = NULL;
    *n_out = 0;
    return -1;
}

int history_list_migrations(struct history *h, int64_t since_ms, size_t limit, bool open_only,
                            struct history_migration **out, size_t *n_out)
{
    static const char all[] = "SELECT * FROM (SELECT " MIGR_COLS " FROM migrations"
                              " WHERE created_ms >= ?1 ORDER BY id DESC LIMIT ?2) ORDER BY id";
    static const char open[] = "SELECT * FROM (SELECT " MIGR_COLS " FROM migrations"
                               " WHERE finished_ms IS NULL ORDER BY id DESC LIMIT ?2) ORDER BY id";
    *out = NULL;
    *n_out = 0;
    if (limit == 0 || limit > HISTORY_LIST_MAX)
        return err_set("limit %zu is out of range [1, %d]", limit, HISTORY_LIST_MAX);
    struct history_db *db = history_db_of(h);
    pthread_mutex_lock(&db->lock);
    sqlite3_stmt *st;
    int rc = -1;
    if (sqlite3_prepare_v2(db->db, open_only ? open : all, -1, &st, NULL) != SQLITE_OK) {
        history_db_fail(db, "listing migrations");
    } else {
        if (!open_only)
            sqlite3_bind_int64(st, 1, since_ms);
        sqlite3_bind_int64(st, 2, (int64_t)limit);
        rc = collect(db, st, out, n_out);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&db->lock);
    return rc;
}

int history_get_migration(struct history *h, int64_t id, struct history_migration *out)
{
    static const char sql[] = "SELECT " MIGR_COLS " FROM migrations WHERE id = ?1";
    memset(out, 0, sizeof(*out));
    struct history_db *db = history_db_of(h);
    pthread_mutex_lock(&db->lock);
    sqlite3_stmt *st;
    int rc = -1;
    if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK) {
        history_db_fail(db, "reading a migration");
    } else {
        sqlite3_bind_int64(st, 1, id);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW) {
            migr_row(st, out);
            rc = 1;
        } else if (s == SQLITE_DONE) {
            rc = 0;
        } else {
            history_db_fail(db, "reading a migration");
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&db->lock);
    return rc;
}

void history_migration_clear(struct history_migration *m)
{
    free((char *)m->vm);
    free((char *)m->src);
    free((char *)m->dst);
    free((char *)m->origin);
    free((char *)m->params);
    free((char *)m->state);
    free((char *)m->result);
    memset(m, 0, sizeof(*m));
}

void history_migrations_free(struct history_migration *ms, size_t n)
{
    for (size_t i = 0; ms && i < n; i++)
        history_migration_clear(&ms[i]);
    free(ms);
}
