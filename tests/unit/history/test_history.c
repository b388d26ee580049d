/* test_history: schema creation, inserts and lists, retention, reopening an
 * existing database, and refusing one with a newer schema. */
#include "history/history.h"
#include "test.h"
#include "util/error.h"
#include "util/mem.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#define HOUR_MS (3600 * INT64_C(1000))
#define DAY_MS  (24 * HOUR_MS)

static char tmpdir[64];

static char *db_path(void)
{
    return xasprintf("%s/sub/dir/history.db", tmpdir);
}

static struct history_event ev(int64_t t_ms, const char *kind)
{
    return (struct history_event){.t_ms = t_ms,
                                  .severity = HISTORY_SEV_WARN,
                                  .object = "vm/web1",
                                  .kind = kind,
                                  .message = "web1 appeared on host1",
                                  .detail = "{\"host\":\"host1\"}"};
}

TEST(memory_db_events_and_list)
{
    struct history *h = history_open(":memory:", DAY_MS, HOUR_MS);
    CHECK(h != NULL);
    if (!h)
        return;
    int64_t id1 = 0, id2 = 0;
    struct history_event e = ev(1000, "vm_appeared");
    CHECK_INT_EQ(history_record_event(h, &e, &id1), 0);
    e = ev(2000, "vm_state");
    e.detail = NULL;
    CHECK_INT_EQ(history_record_event(h, &e, &id2), 0);
    CHECK(id2 > id1);
    struct history_event *list;
    size_t n;
    CHECK_INT_EQ(history_list_events(h, 0, 10, &list, &n), 0);
    CHECK_INT_EQ(n, 2);
    CHECK_INT_EQ(list[0].id, id1);
    CHECK_INT_EQ(list[0].t_ms, 1000);
    CHECK_INT_EQ(list[0].severity, HISTORY_SEV_WARN);
    CHECK_STR_EQ(list[0].object, "vm/web1");
    CHECK_STR_EQ(list[0].kind, "vm_appeared");
    CHECK_STR_EQ(list[0].message, "web1 appeared on host1");
    CHECK_STR_EQ(list[0].detail, "{\"host\":\"host1\"}");
    CHECK(list[1].detail == NULL);
    history_events_free(list, n);
    /* since filters by time; limit keeps the newest, returned oldest first */
    CHECK_INT_EQ(history_list_events(h, 1500, 10, &list, &n), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(list[0].id, id2);
    history_events_free(list, n);
    for (int i = 0; i < 5; i++) {
        e = ev(3000 + i, "x");
        CHECK_INT_EQ(history_record_event(h, &e, NULL), 0);
    }
    CHECK_INT_EQ(history_list_events(h, 0, 3, &list, &n), 0);
    CHECK_INT_EQ(n, 3);
    CHECK_INT_EQ(list[0].t_ms, 3002);
    CHECK_INT_EQ(list[2].t_ms, 3004);
    history_events_free(list, n);
    CHECK_INT_EQ(history_list_events(h, 0, 0, &list, &n), -1);
    CHECK_ERR_HAS("limit 0 is out of range");
    CHECK_INT_EQ(history_list_events(h, 0, HISTORY_LIST_MAX + 1, &list, &n), -1);
    history_close(h);
}

TEST(decisions)
{
    struct history *h = history_open(":memory:", DAY_MS, HOUR_MS);
    struct history_decision d = {
        .t_ms = 5, .vm = "db1", .action = "migrate", .reason = "cpu 95% for 5m", .state = "done"};
    int64_t id;
    CHECK_INT_EQ(history_record_decision(h, &d, &id), 0);
    CHECK(id > 0);
    struct history_decision *list;
    size_t n;
    CHECK_INT_EQ(history_list_decisions(h, 0, 100, &list, &n), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_STR_EQ(list[0].vm, "db1");
    CHECK_STR_EQ(list[0].action, "migrate");
    CHECK_STR_EQ(list[0].reason, "cpu 95% for 5m");
    CHECK_STR_EQ(list[0].state, "done");
    history_decisions_free(list, n);
    history_close(h);
}

/* A tick with 2 hosts, 3 VMs and 1 event at t_ms. */
static int record(struct history *h, int64_t t_ms)
{
    struct history_host_sample hosts[] = {{"h1", true, 50, 40, 120}, {"h2", false, -1, -1, -1}};
    struct history_vm_sample vms[] = {
        {"a", "h1", 10, 20, 0, 0}, {"b", "h1", 90, -1, 5, 6}, {"c", "h1", 0, 0, 0, 0}};
    struct history_event e = ev(t_ms, "tick");
    struct history_tick t = {.t_ms = t_ms,
                             .n_hosts = 2,
                             .n_hosts_up = 1,
                             .n_vms = 3,
                             .mean_host_cpu_pct = 50,
                             .power_w = 120,
                             .energy_kwh = -1,
                             .hosts = hosts,
                             .n_host_samples = 2,
                             .vms = vms,
                             .n_vm_samples = 3,
                             .events = &e,
                             .n_events = 1};
    return history_record_tick(h, &t);
}

TEST(ticks_and_retention)
{
    struct history *h = history_open(":memory:", DAY_MS, HOUR_MS);
    for (int i = 0; i < 10; i++)
        CHECK_INT_EQ(record(h, (int64_t)i * 10 * 60 * 1000), 0); /* every 10 min */
    /* samples kept for 1 h: t >= 90 - 60 min = 30 min: ticks 3..9 = 7 ticks */
    CHECK_INT_EQ(history_count(h, "ticks"), 10);
    CHECK_INT_EQ(history_count(h, "host_samples"), 7 * 2);
    CHECK_INT_EQ(history_count(h, "vm_samples"), 7 * 3);
    CHECK_INT_EQ(history_count(h, "events"), 10);
    /* a tick two days later prunes everything older than one day */
    CHECK_INT_EQ(record(h, 2 * DAY_MS), 0);
    CHECK_INT_EQ(history_count(h, "ticks"), 1);
    CHECK_INT_EQ(history_count(h, "events"), 1);
    CHECK_INT_EQ(history_count(h, "host_samples"), 2);
    history_set_retention(h, 7 * DAY_MS, 7 * DAY_MS);
    CHECK_INT_EQ(record(h, 3 * DAY_MS), 0);
    CHECK_INT_EQ(history_count(h, "ticks"), 2);
    CHECK_INT_EQ(history_count(h, "nope"), -1);
    CHECK_ERR_HAS("no table 'nope'");
    history_close(h);
}

TEST(file_reopen_and_wal)
{
    AUTOFREE char *path = db_path();
    struct history *h = history_open(path, DAY_MS, HOUR_MS); /* creates sub/dir */
    CHECK(h != NULL);
    if (!h)
        return;
    CHECK_INT_EQ(record(h, 1000), 0);
    history_close(h);
    h = history_open(path, DAY_MS, HOUR_MS);
    CHECK(h != NULL);
    if (!h)
        return;
    CHECK_INT_EQ(history_count(h, "ticks"), 1);
    CHECK_INT_EQ(history_count(h, "events"), 1);
    history_close(h);
    sqlite3 *db;
    CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
    CHECK_INT_EQ(sqlite3_step(st), SQLITE_ROW);
    CHECK_STR_EQ((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    CHECK_INT_EQ(sqlite3_step(st), SQLITE_ROW);
    CHECK_INT_EQ(sqlite3_column_int(st, 0), HISTORY_SCHEMA_VERSION);
    sqlite3_finalize(st);
    /* pretend a newer ARAS wrote it */
    CHECK_INT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    CHECK(history_open(path, DAY_MS, HOUR_MS) == NULL);
    CHECK_ERR_HAS("schema version 99 is newer than this arasd knows (3)");
    CHECK_ERR_HAS(path);
}

TEST(unopenable)
{
    CHECK(history_open("/proc/aras-no/such.db", DAY_MS, HOUR_MS) == NULL);
    CHECK_ERR_HAS("/proc/aras-no");
    AUTOFREE char *junk = xasprintf("%s/junk.db", tmpdir);
    FILE *f = fopen(junk, "w");
    fputs("this is not an SQLite database, not even close; padding padding padding", f);
    fclose(f);
    CHECK(history_open(junk, DAY_MS, HOUR_MS) == NULL);
    CHECK_ERR_HAS("junk.db");
}

static void cleanup(void)
{
    AUTOFREE char *cmd = xasprintf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", tmpdir);
}

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/aras-test-history-XXXXXX");
    if (!mkdtemp(tmpdir))
        abort();
    atexit(cleanup);
}

TEST(start)
{
    setup();
}

/* Counters grow across reopen (SNMPv3 snmpEngineBoots), and a schema-1 file
 * (no counters table) is migrated without losing its rows. */
TEST(counters_persist_and_schema_1_upgrade)
{
    AUTOFREE char *path = xasprintf("%s/counters.db", tmpdir);
    struct history *h = history_open(path, DAY_MS, HOUR_MS);
    CHECK(h != NULL);
    if (!h)
        return;
    int64_t v = 0;
    CHECK_INT_EQ(record(h, 1000), 0);
    CHECK_INT_EQ(history_counter_next(h, "boots", &v), 0);
    CHECK_INT_EQ(v, 1);
    CHECK_INT_EQ(history_counter_next(h, "other", &v), 0);
    CHECK_INT_EQ(v, 1);
    history_close(h);
    h = history_open(path, DAY_MS, HOUR_MS);
    CHECK_INT_EQ(history_counter_next(h, "boots", &v), 0);
    CHECK_INT_EQ(v, 2);
    history_close(h);
    /* turn it back into a schema-1 file */
    sqlite3 *db;
    CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT_EQ(sqlite3_exec(db,
                              "DROP TABLE counters; DROP TABLE migrations; PRAGMA user_version = 1",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    h = history_open(path, DAY_MS, HOUR_MS);
    CHECK(h != NULL);
    if (!h)
        return;
    CHECK_INT_EQ(history_count(h, "events"), 1);
    CHECK_INT_EQ(history_counter_next(h, "boots", &v), 0);
    CHECK_INT_EQ(v, 1);
    history_close(h);
}

/* Migration rows: open until finished, found again after a reopen (what
 * arasd reconciles at start), updated in place, pruned once finished; and a
 * schema-2 file gains the table without losing its rows. */
TEST(migrations_open_update_reopen)
{
    AUTOFREE char *path = xasprintf("%s/migr.db", tmpdir);
    struct history *h = history_open(path, DAY_MS, HOUR_MS);
    CHECK(h != NULL);
    if (!h)
        return;
    struct history_migration m = {.vm = "web",
                                  .src = "h1",
                                  .dst = "h2",
                                  .origin = "operator alice",
                                  .params = "{\"max_downtime_ms\":300}",
                                  .state = "queued",
                                  .created_ms = 5000,
                                  .elapsed_ms = -1,
                                  .downtime_ms = -1,
                                  .bytes = -1};
    int64_t id1 = 0, id2 = 0;
    CHECK_INT_EQ(history_migration_add(h, &m, &id1), 0);
    m.vm = "db";
    m.decision_id = 12;
    m.origin = "allocator #12 (auto)";
    CHECK_INT_EQ(history_migration_add(h, &m, &id2), 0);
    CHECK(id1 > 0 && id2 == id1 + 1);
    /* web completes; db stays open (arasd "killed" here) */
    m.id = id1;
    m.vm = "web";
    m.state = "completed";
    m.started_ms = 5100;
    m.finished_ms = 6500;
    m.elapsed_ms = 1400;
    m.downtime_ms = 42;
    m.bytes = 1 << 20;
    m.result = "migrated web from h1 to h2";
    CHECK_INT_EQ(history_migration_update(h, &m), 0);
    m.id = 999;
    CHECK_INT_EQ(history_migration_update(h, &m), -1);
    CHECK_ERR_HAS("no migration #999 to update");
    history_close(h);
    h = history_open(path, DAY_MS, HOUR_MS);
    CHECK(h != NULL);
    if (!h)
        return;
    struct history_migration *ms = NULL;
    size_t n = 0;
    CHECK_INT_EQ(history_list_migrations(h, 0, 10, true, &ms, &n), 0);
    CHECK_INT_EQ(n, 1);
    if (n == 1) {
        CHECK_INT_EQ(ms[0].id, id2);
        CHECK_STR_EQ(ms[0].vm, "db");
        CHECK_STR_EQ(ms[0].state, "queued");
        CHECK_INT_EQ(ms[0].decision_id, 12);
        CHECK_INT_EQ(ms[0].finished_ms, 0);
        CHECK_INT_EQ(ms[0].downtime_ms, -1);
    }
    history_migrations_free(ms, n);
    CHECK_INT_EQ(history_list_migrations(h, 5000, 10, false, &ms, &n), 0);
    CHECK_INT_EQ(n, 2);
    history_migrations_free(ms, n);
    struct history_migration g;
    CHECK_INT_EQ(history_get_migration(h, id1, &g), 1);
    CHECK_STR_EQ(g.state, "completed");
    CHECK_STR_EQ(g.params, "{\"max_downtime_ms\":300}");
    CHECK_INT_EQ(g.downtime_ms, 42);
    CHECK_INT_EQ(g.bytes, 1 << 20);
    CHECK_INT_EQ(g.decision_id, 0);
    history_migration_clear(&g);
    CHECK_INT_EQ(history_get_migration(h, 999, &g), 0);
    /* Retention prunes the finished row only (ticks prune by their time). */
    struct history_tick t = {.t_ms = 6500 + DAY_MS + 1};
    CHECK_INT_EQ(history_record_tick(h, &t), 0);
    CHECK_INT_EQ(history_count(h, "migrations"), 1);
    history_close(h);
    /* back to schema 2: the table goes, the file upgrades again */
    sqlite3 *db;
    CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT_EQ(
        sqlite3_exec(db, "DROP TABLE migrations; PRAGMA user_version = 2", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    h = history_open(path, DAY_MS, HOUR_MS);
    CHECK(h != NULL);
    if (h)
        CHECK_INT_EQ(history_count(h, "migrations"), 0);
    history_close(h);
}

RUN_TESTS(start, memory_db_events_and_list, decisions, ticks_and_retention, file_reopen_and_wal,
          unopenable, counters_persist_and_schema_1_upgrade, migrations_open_update_reopen)
