/* predict_ge: Gilbert-Elliott write model (hidden good/bad state) with EM fitting. */
#include "migrate/internal.h"
#include "util/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Pages sampled for fitting: enough for four pooled parameters. */
#define FIT_PAGES 4096
#define FIT_ITERS 8

struct em_acc {
    double gb, gg, bg, bb;     /* expected transitions */
    double g_w, g_n, b_w, b_n; /* expected writes / visits per state */
};

static double lik(const struct predict_ge *g, bool bad, bool w)
{
    double e = bad ? g->eps2 : g->eps1;
    return w ? e : 1 - e;
}

/* Forward-backward for one page's sequence x[0..n); accumulate expectations. */
static void em_page(const struct predict_ge *g, const uint8_t *x, uint32_t n, double *fw,
                    double *bw, struct em_acc *acc)
{
    double pb = g->p_gb / (g->p_gb + g->p_bg); /* stationary start */
    double a_g = (1 - pb) * lik(g, false, x[0]), a_b = pb * lik(g, true, x[0]);
    for (uint32_t t = 0;; t++) {
        double s = a_g + a_b;
        fw[2 * t] = a_g / s;
        fw[2 * t + 1] = a_b / s;
        if (t + 1 == n)
            break;
        double pg = fw[2 * t] * (1 - g->p_gb) + fw[2 * t + 1] * g->p_bg;
        a_g = pg * lik(g, false, x[t + 1]);
        a_b = (1 - pg) * lik(g, true, x[t + 1]);
    }
    bw[2 * (n - 1)] = bw[2 * (n - 1) + 1] = 1;
    for (uint32_t t = n - 1; t > 0; t--) {
        double lg = lik(g, false, x[t]) * bw[2 * t], lb = lik(g, true, x[t]) * bw[2 * t + 1];
        double b_g = (1 - g->p_gb) * lg + g->p_gb * lb, b_b = g->p_bg * lg + (1 - g->p_bg) * lb;
        double s = b_g + b_b;
        bw[2 * (t - 1)] = b_g / s;
        bw[2 * (t - 1) + 1] = b_b / s;
    }
    for (uint32_t t = 0; t < n; t++) {
        double gg = fw[2 * t] * bw[2 * t], bb = fw[2 * t + 1] * bw[2 * t + 1];
        double s = gg + bb;
        acc->g_n += gg / s;
        acc->b_n += bb / s;
        acc->g_w += x[t] * gg / s;
        acc->b_w += x[t] * bb / s;
        if (t + 1 == n)
            break;
        double lg = lik(g, false, x[t + 1]) * bw[2 * t + 2];
        double lb = lik(g, true, x[t + 1]) * bw[2 * t + 3];
        double e[4] = {fw[2 * t] * (1 - g->p_gb) * lg, fw[2 * t] * g->p_gb * lb,
                       fw[2 * t + 1] * g->p_bg * lg, fw[2 * t + 1] * (1 - g->p_bg) * lb};
        double es = e[0] + e[1] + e[2] + e[3];
        acc->gg += e[0] / es;
        acc->gb += e[1] / es;
        acc->bg += e[2] / es;
        acc->bb += e[3] / es;
    }
}

static void fit(struct predict_ge *g, bool fit_eps, const uint8_t *const *rows, uint32_t n_rows)
{
    if (n_rows < 2)
        return;
    /* Sample pages written at least once (never-written pages carry no signal). */
    uint32_t cand = 0;
    uint32_t *pages = xmalloc(sizeof(uint32_t) * FIT_PAGES);
    uint32_t stride = g->n_pages / FIT_PAGES + 1;
    for (uint32_t p = 0; p < g->n_pages && cand < FIT_PAGES; p += stride) {
        for (uint32_t t = 0; t < n_rows; t++) {
            if (migrate_bit(rows[t], p)) {
                pages[cand++] = p;
                break;
            }
        }
    }
    uint8_t *x = xmalloc(n_rows);
    double *fw = xmalloc(sizeof(double) * 2 * n_rows), *bw = xmalloc(sizeof(double) * 2 * n_rows);
    for (int it = 0; it < FIT_ITERS && cand; it++) {
        struct em_acc acc = {0};
        for (uint32_t i = 0; i < cand; i++) {
            for (uint32_t t = 0; t < n_rows; t++)
                x[t] = migrate_bit(rows[t], pages[i]);
            em_page(g, x, n_rows, fw, bw, &acc);
        }
        g->p_gb = fmin(fmax((acc.gb + 1e-3) / (acc.gb + acc.gg + 2e-3), 1e-4), 0.999);
        g->p_bg = fmin(fmax((acc.bg + 1e-3) / (acc.bg + acc.bb + 2e-3), 1e-4), 0.999);
        if (fit_eps) {
            g->eps1 = fmin(fmax(acc.g_w / (acc.g_n + 1e-9), 1e-4), 0.999);
            g->eps2 = fmin(fmax(acc.b_w / (acc.b_n + 1e-9), 1e-4), 0.999);
            if (g->eps1 > g->eps2) { /* keep "bad" the write-heavy state */
                double e = g->eps1;
                g->eps1 = g->eps2;
                g->eps2 = e;
                e = g->p_gb;
                g->p_gb = g->p_bg;
                g->p_bg = e;
            }
        }
    }
    free(x);
    free(fw);
    free(bw);
    free(pages);
}

void predict_ge_init(struct predict_ge *g, uint32_t n_pages, double eps1, double eps2, bool fit_eps,
                     const uint8_t *const *rows, uint32_t n_rows)
{
    memset(g, 0, sizeof(*g));
    g->n_pages = n_pages;
    g->eps1 = eps1;
    g->eps2 = eps2;
    g->p_gb = 0.05;
    g->p_bg = 0.2;
    g->belief = xcalloc(n_pages ? n_pages : 1, sizeof(float));
    fit(g, fit_eps, rows, n_rows);
    double pb = g->p_gb / (g->p_gb + g->p_bg);
    for (uint32_t p = 0; p < n_pages; p++)
        g->belief[p] = (float)pb;
    for (uint32_t t = 0; t < n_rows; t++)
        predict_ge_observe(g, rows[t]);
}

void predict_ge_free(struct predict_ge *g)
{
    free(g->belief);
    memset(g, 0, sizeof(*g));
}

void predict_ge_observe(struct predict_ge *g, const uint8_t *row)
{
    for (uint32_t p = 0; p < g->n_pages; p++) {
        double b = g->belief[p];
        double prior = b * (1 - g->p_bg) + (1 - b) * g->p_gb;
        bool w = migrate_bit(row, p);
        double lb = prior * lik(g, true, w), lg = (1 - prior) * lik(g, false, w);
        g->belief[p] = (float)(lb / (lb + lg));
    }
}

/* P(no write in `steps` intervals | state): rows of (T * diag(1 - eps))^steps. */
static void no_write(struct predict_ge *g, uint32_t steps)
{
    if (g->cache_steps == steps)
        return;
    double m[4] = {(1 - g->p_gb) * (1 - g->eps1), g->p_gb * (1 - g->eps2), g->p_bg * (1 - g->eps1),
                   (1 - g->p_bg) * (1 - g->eps2)};
    double r[4] = {1, 0, 0, 1};
    for (uint32_t e = steps; e; e >>= 1) {
        if (e & 1) {
            double t[4] = {r[0] * m[0] + r[1] * m[2], r[0] * m[1] + r[1] * m[3],
                           r[2] * m[0] + r[3] * m[2], r[2] * m[1] + r[3] * m[3]};
            memcpy(r, t, sizeof(r));
        }
        double t[4] = {m[0] * m[0] + m[1] * m[2], m[0] * m[1] + m[1] * m[3],
                       m[2] * m[0] + m[3] * m[2], m[2] * m[1] + m[3] * m[3]};
        memcpy(m, t, sizeof(m));
    }
    g->cache_steps = steps;
    g->cache_g = r[0] + r[1];
    g->cache_b = r[2] + r[3];
}

double predict_ge_prob(struct predict_ge *g, uint32_t p, uint32_t steps)
{
    if (steps == 0)
        return 0;
    no_write(g, steps);
    double b = g->belief[p];
    return 1 - ((1 - b) * g->cache_g + b * g->cache_b);
}
