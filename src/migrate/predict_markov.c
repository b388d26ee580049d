/* predict_markov: per-page two-state (clean/dirty) Markov chain over interval bits. */
#include "migrate/internal.h"
#include "util/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void predict_markov_init(struct predict_markov *m, uint32_t n_pages)
{
    memset(m, 0, sizeof(*m));
    size_t n = n_pages ? n_pages : 1;
    m->n_pages = n_pages;
    m->n_c = xcalloc(n, sizeof(uint16_t));
    m->n_cd = xcalloc(n, sizeof(uint16_t));
    m->n_d = xcalloc(n, sizeof(uint16_t));
    m->n_dd = xcalloc(n, sizeof(uint16_t));
    m->last = xcalloc(migrate_trace_row_bytes(n_pages) + 1, 1);
}

void predict_markov_free(struct predict_markov *m)
{
    free(m->n_c);
    free(m->n_cd);
    free(m->n_d);
    free(m->n_dd);
    free(m->last);
    memset(m, 0, sizeof(*m));
}

void predict_markov_observe(struct predict_markov *m, const uint8_t *row)
{
    if (m->have_last) {
        for (uint32_t p = 0; p < m->n_pages; p++) {
            bool was = migrate_bit(m->last, p), now = migrate_bit(row, p);
            uint16_t *from = was ? &m->n_d[p] : &m->n_c[p];
            uint16_t *to = was ? &m->n_dd[p] : &m->n_cd[p];
            if (*from == UINT16_MAX) { /* keep the ratio, forget the oldest half */
                *from /= 2;
                *to /= 2;
            }
            (*from)++;
            *to += now;
        }
    }
    memcpy(m->last, row, migrate_trace_row_bytes(m->n_pages));
    m->have_last = true;
}

uint32_t predict_markov_seen(const struct predict_markov *m, uint32_t p)
{
    return (uint32_t)m->n_c[p] + m->n_d[p];
}

double predict_markov_prob(const struct predict_markov *m, uint32_t p, uint32_t steps)
{
    if (steps == 0)
        return 0;
    /* Laplace-smoothed transition probabilities. */
    double p_cd = (m->n_cd[p] + 0.5) / (m->n_c[p] + 1.0);
    double p_dd = (m->n_dd[p] + 0.5) / (m->n_d[p] + 1.0);
    bool dirty = m->have_last && migrate_bit(m->last, p);
    double stay_clean = pow(1 - p_cd, (double)(steps - 1));
    double none = dirty ? (1 - p_dd) * stay_clean : (1 - p_cd) * stay_clean;
    return 1 - none;
}
