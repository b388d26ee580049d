/* history_int: what history.c shares with history_migr.c (internal to history/). */
#ifndef ARAS_HISTORY_HISTORY_INT_H
#define ARAS_HISTORY_HISTORY_INT_H

#include "history/history.h"

#include <pthread.h>
#include <sqlite3.h>

/* The connection every table's code uses; take lock around each use. */
struct history_db {
    pthread_mutex_t lock;
    sqlite3 *db;
    char *path;
};

struct history_db *history_db_of(struct history *h);
/* err_set("history PATH: WHAT: <sqlite message>"); returns -1. */
int history_db_fail(struct history_db *db, const char *what);

#endif
