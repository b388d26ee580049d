/* table: collect rows, then print them with every column as wide as its widest cell. */
#include "cli/table.h"

#include "util/mem.h"

#include <string.h>

void table_init(struct table *t, char *spec)
{
    memset(t, 0, sizeof(*t));
    for (char *s = spec; s && t->n_cols < TABLE_COLS_MAX;) {
        char *bar = strchr(s, '|');
        if (bar)
            *bar = '\0';
        t->right[t->n_cols] = *s == '>';
        t->head[t->n_cols++] = s + (*s == '>');
        s = bar ? bar + 1 : NULL;
    }
}

void table_add(struct table *t, const char *const *cells)
{
    xgrow((void **)&t->cells, &t->cap, (t->n_rows + 1) * t->n_cols, sizeof(*t->cells));
    for (size_t i = 0; i < t->n_cols; i++)
        t->cells[t->n_rows * t->n_cols + i] = xstrdup(cells[i] ? cells[i] : "-");
    t->n_rows++;
}

static void print_row(const struct table *t, const char *const *cells, const size_t *w, FILE *out)
{
    for (size_t i = 0; i < t->n_cols; i++) {
        bool last = i + 1 == t->n_cols;
        if (t->right[i])
            fprintf(out, " %*s", (int)w[i], cells[i]);
        else
            fprintf(out, " %-*s", last ? 0 : (int)w[i], cells[i]);
        fputs(last ? "\n" : " ", out);
    }
}

void table_print(const struct table *t, FILE *out)
{
    size_t w[TABLE_COLS_MAX] = {0}, total = 0;
    for (size_t i = 0; i < t->n_cols; i++) {
        w[i] = strlen(t->head[i]);
        for (size_t r = 0; r < t->n_rows; r++) {
            size_t n = strlen(t->cells[r * t->n_cols + i]);
            w[i] = n > w[i] ? n : w[i];
        }
        total += w[i] + 2;
    }
    print_row(t, t->head, w, out);
    for (size_t i = 0; i < total; i++)
        fputc('-', out);
    fputc('\n', out);
    for (size_t r = 0; r < t->n_rows; r++)
        print_row(t, (const char *const *)&t->cells[r * t->n_cols], w, out);
}

void table_free(struct table *t)
{
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
}
