/* table: aligned text tables for arasctl, in the style of `virsh list`. */
#ifndef ARAS_CLI_TABLE_H
#define ARAS_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TABLE_COLS_MAX 12

struct table {
    size_t n_cols;
    const char *head[TABLE_COLS_MAX];
    bool right[TABLE_COLS_MAX]; /* right-align (numbers) */
    char **cells;               /* row-major, n_rows * n_cols, owned */
    size_t n_rows, cap;
};

/* Columns from a spec like "Name|>CPU %|Host": '|' separates, a leading '>'
 * right-aligns. The spec string must outlive the table. */
void table_init(struct table *t, char *spec);
/* Add a row of n_cols cells (copied). */
void table_add(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

#endif
