/* test_dirty_model: the calm/busy dirty-rate model — classification, the Markov and
 * Gilbert-Elliott predictors, the forecast's closed forms, the hot-set estimate. */
#include "migrate/migrate.h"
#include "test.h"
#include "util/error.h"

#include <math.h>
#include <stdint.h>

/* Deterministic uniform [0, 1) (splitmix64). */
static double uni(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

/* Samples every 10 s of 1 s measurements. */
static void feed(struct migrate_dirty_model *m, int64_t *t_ms, double rate)
{
    *t_ms += 10000;
    CHECK_INT_EQ(migrate_dirty_model_observe(m, *t_ms, 1, rate), 0);
}

TEST(observe_rejects_bad_samples)
{
    struct migrate_dirty_model m;
    migrate_dirty_model_init(&m);
    CHECK_INT_EQ(migrate_dirty_model_observe(&m, 1000, 1, -1), -1);
    CHECK_ERR_HAS("not a rate");
    CHECK_INT_EQ(migrate_dirty_model_observe(&m, 1000, 1, NAN), -1);
    CHECK_INT_EQ(migrate_dirty_model_observe(&m, 1000, 0, 5), -1);
    CHECK_ERR_HAS("out of range (1..60)");
    CHECK_INT_EQ(migrate_dirty_model_observe(&m, 1000, 61, 5), -1);
    CHECK_INT_EQ(m.n, 0);
    CHECK_INT_EQ(migrate_dirty_model_observe(&m, 1000, 1, 5), 0);
    CHECK_INT_EQ(migrate_dirty_model_observe(&m, 1000, 1, 6), -1);
    CHECK_ERR_HAS("not after the previous one");
    CHECK_INT_EQ(m.n, 1);
}

TEST(empty_and_const_forecasts)
{
    struct migrate_dirty_model m;
    migrate_dirty_model_init(&m);
    struct migrate_dirty_forecast f;
    migrate_dirty_model_forecast(&m, 5000, MIGRATE_DIRTY_GE, &f);
    CHECK_INT_EQ(f.n_samples, 0);
    CHECK(!f.two_state);
    CHECK_NEAR(migrate_dirty_forecast_mean(&f, 0, 100), 0, 0);
    migrate_dirty_forecast_const(-1, &f); /* unknown */
    CHECK_NEAR(f.mean_mib_s, 0, 0);
    migrate_dirty_forecast_const(12.5, &f);
    CHECK_NEAR(migrate_dirty_forecast_mean(&f, 3, 9), 12.5, 0);
    CHECK_NEAR(migrate_dirty_forecast_calm_in_s(&f), 0, 0);
    CHECK(isinf(migrate_dirty_forecast_calm_len_s(&f)));
}

/* QEMU's page sampling gave 13..32 MiB/s for a guest writing a steady 20: that
 * is one state, not calm and busy. */
TEST(steady_noisy_rate_is_one_state)
{
    struct migrate_dirty_model m;
    migrate_dirty_model_init(&m);
    uint64_t seed = 7;
    int64_t t = 0;
    double sum = 0;
    for (int i = 0; i < 40; i++) {
        double r = 20 * (0.65 + 0.7 * uni(&seed));
        sum += r;
        feed(&m, &t, r);
    }
    struct migrate_dirty_forecast f;
    migrate_dirty_model_forecast(&m, t, MIGRATE_DIRTY_GE, &f);
    CHECK(!f.two_state);
    CHECK_NEAR(f.mean_mib_s, sum / 40, 1e-9);
    CHECK_NEAR(f.step_s, 10, 1e-9);
    CHECK_NEAR(migrate_dirty_forecast_mean(&f, 0, 60), sum / 40, 1e-9);
    CHECK_NEAR(migrate_dirty_forecast_p_busy(&f, 30), 0, 0);
}

/* Calm runs of 20 samples at ~2 MiB/s, busy runs of 10 at ~40. */
static void bursty(struct migrate_dirty_model *m, int64_t *t, int n, int end_busy_run)
{
    uint64_t seed = 11;
    for (int i = 0; i < n; i++) {
        bool busy = (i % 30) >= 20;
        feed(m, t, (busy ? 40 : 2) * (0.8 + 0.4 * uni(&seed)));
    }
    for (int i = 0; i < end_busy_run; i++)
        feed(m, t, 40);
}

TEST(bursty_rate_is_two_state)
{
    struct migrate_dirty_model m;
    migrate_dirty_model_init(&m);
    int64_t t = 0;
    bursty(&m, &t, 60, 0); /* ends after a busy run: 20 calm, 10 busy, 20 calm, 10 busy */
    CHECK_INT_EQ(m.n, 60);
    struct migrate_dirty_forecast f;
    migrate_dirty_model_forecast(&m, t, MIGRATE_DIRTY_MARKOV, &f);
    CHECK(f.two_state);
    CHECK(f.calm_mib_s > 1.6 && f.calm_mib_s < 2.4);
    CHECK(f.busy_mib_s > 32 && f.busy_mib_s < 48);
    CHECK(f.split_mib_s > 2.4 && f.split_mib_s < 32);
    /* Markov counts: 2 calm->busy of 40 calm steps, 1 busy->calm of 19 busy
     * steps (the last busy run is still on), with the Beta(1, 4) prior. */
    CHECK_NEAR(f.markov_p_cb, (2 + 1.0) / (40 + 5.0), 1e-12);
    CHECK_NEAR(f.markov_p_bc, (1 + 1.0) / (19 + 5.0), 1e-12);
    CHECK(f.markov_busy_last);
    CHECK_NEAR(f.p_busy_now, 1, 1e-12);
    /* The chain mixes toward its stationary share of busy time. */
    double pi = f.p_calm_busy / (f.p_calm_busy + f.p_busy_calm);
    CHECK(migrate_dirty_forecast_p_busy(&f, 10) < 1);
    CHECK_NEAR(migrate_dirty_forecast_p_busy(&f, 1e6), pi, 1e-9);
    /* Busy now: a calm period is expected after ~step / p_bc. */
    CHECK_NEAR(migrate_dirty_forecast_calm_in_s(&f), 10 / f.p_busy_calm, 1e-9);
    CHECK_NEAR(migrate_dirty_forecast_calm_len_s(&f), 10 / f.p_calm_busy, 1e-9);
    /* Gilbert-Elliott agrees on a clean series. */
    migrate_dirty_model_forecast(&m, t, MIGRATE_DIRTY_GE, &f);
    CHECK(f.ge_p_busy_last > 0.9);
    CHECK(f.ge_p_cb > 0.02 && f.ge_p_cb < 0.2);
    CHECK(f.ge_p_bc > 0.02 && f.ge_p_bc < 0.3);
}

/* The mean rate over a window is the integral of P(busy): compare the closed
 * form with a Riemann sum. */
TEST(forecast_mean_matches_integral)
{
    struct migrate_dirty_model m;
    migrate_dirty_model_init(&m);
    int64_t t = 0;
    bursty(&m, &t, 60, 0);
    struct migrate_dirty_forecast f;
    migrate_dirty_model_forecast(&m, t + 4000, MIGRATE_DIRTY_GE, &f);
    CHECK_NEAR(f.age_s, 4, 1e-12);
    const double a = 5, b = 95;
    const int steps = 200000;
    double sum = 0;
    for (int i = 0; i < steps; i++) {
        double x = a + (b - a) * (i + 0.5) / steps;
        sum += f.calm_mib_s + (f.busy_mib_s - f.calm_mib_s) * migrate_dirty_forecast_p_busy(&f, x);
    }
    CHECK_NEAR(migrate_dirty_forecast_mean(&f, a, b), sum / steps, 1e-6);
    /* A zero-length window is the rate at that instant. */
    CHECK_NEAR(migrate_dirty_forecast_mean(&f, 7, 7),
               f.calm_mib_s + (f.busy_mib_s - f.calm_mib_s) * migrate_dirty_forecast_p_busy(&f, 7),
               1e-12);
}

/* One busy-looking sample at the end of a calm run: the Markov chain takes
 * its class at face value, Gilbert-Elliott's hidden state stays mostly calm. */
TEST(ge_discounts_a_single_outlier)
{
    struct migrate_dirty_model m;
    migrate_dirty_model_init(&m);
    int64_t t = 0;
    bursty(&m, &t, 50, 0); /* ends with a calm run of 20 */
    feed(&m, &t, 40);
    struct migrate_dirty_forecast mk, ge;
    migrate_dirty_model_forecast(&m, t, MIGRATE_DIRTY_MARKOV, &mk);
    migrate_dirty_model_forecast(&m, t, MIGRATE_DIRTY_GE, &ge);
    CHECK(mk.two_state && ge.two_state);
    CHECK(mk.markov_busy_last);
    CHECK_NEAR(mk.p_busy_now, 1, 1e-12);
    CHECK(ge.p_busy_now < 0.5);
    CHECK(ge.p_busy_now > 0.05);
    /* After a second busy sample GE believes it. */
    feed(&m, &t, 41);
    feed(&m, &t, 39);
    migrate_dirty_model_forecast(&m, t, MIGRATE_DIRTY_GE, &ge);
    CHECK(ge.p_busy_now > 0.5);
}

/* Over a long series of a hidden two-state process (runs of ~50 calm and ~25
 * busy steps) whose samples are misclassified 10 % of the time, GE's state
 * estimate beats the Markov chain's (which is wrong at every odd sample). */
TEST(ge_tracks_hidden_state_better)
{
    uint64_t seed = 3;
    int wrong_mk = 0, wrong_ge = 0, n = 0;
    bool busy = false;
    struct migrate_dirty_model m;
    migrate_dirty_model_init(&m);
    int64_t t = 0;
    for (int i = 0; i < 2000; i++) {
        if (uni(&seed) < (busy ? 0.04 : 0.02))
            busy = !busy;
        bool looks_busy = uni(&seed) < (busy ? 0.9 : 0.1);
        feed(&m, &t, (looks_busy ? 40 : 2) * (0.9 + 0.2 * uni(&seed)));
        if (i < 64)
            continue;
        struct migrate_dirty_forecast mk, ge;
        migrate_dirty_model_forecast(&m, t, MIGRATE_DIRTY_MARKOV, &mk);
        migrate_dirty_model_forecast(&m, t, MIGRATE_DIRTY_GE, &ge);
        wrong_mk += (mk.p_busy_now >= 0.5) != busy;
        wrong_ge += (ge.p_busy_now >= 0.5) != busy;
        n++;
    }
    fprintf(stderr, "state errors over %d samples: markov %d, ge %d\n", n, wrong_mk, wrong_ge);
    CHECK(wrong_mk > n / 20);
    CHECK(wrong_ge < wrong_mk * 0.8);
}

TEST(ring_keeps_the_newest)
{
    struct migrate_dirty_model m;
    migrate_dirty_model_init(&m);
    int64_t t = 0;
    for (int i = 0; i < MIGRATE_DIRTY_RING + 36; i++)
        feed(&m, &t, i < 36 ? 1000 : 5);
    CHECK_INT_EQ(m.n, MIGRATE_DIRTY_RING);
    struct migrate_dirty_forecast f;
    migrate_dirty_model_forecast(&m, t, MIGRATE_DIRTY_GE, &f);
    CHECK_NEAR(f.mean_mib_s, 5, 1e-12); /* the early 1000s are gone */
}

/* A guest writing 20 MiB/s over a 64 MiB buffer: 1 s samples show 20, an 8 s
 * sample shows 64/8 = 8 MiB/s; W(c) = H (1 - exp(-r c / H)) gives H back. */
TEST(hot_set_from_a_long_sample)
{
    struct migrate_dirty_model m;
    migrate_dirty_model_init(&m);
    int64_t t = 0;
    for (int i = 0; i < 6; i++)
        feed(&m, &t, 20);
    double h = 64, w = h * (1 - exp(-20.0 * 8 / h));
    CHECK_INT_EQ(migrate_dirty_model_observe(&m, t + 9000, 8, w / 8), 0);
    struct migrate_dirty_forecast f;
    migrate_dirty_model_forecast(&m, t + 9000, MIGRATE_DIRTY_GE, &f);
    CHECK_NEAR(f.hot_mib, 64, 0.01);
    CHECK_INT_EQ(m.n, 6); /* long samples stay out of the rate series */
    /* Not saturated (the set grows linearly): no estimate. */
    CHECK_INT_EQ(migrate_dirty_model_observe(&m, t + 20000, 8, 19.5), 0);
    migrate_dirty_model_forecast(&m, t + 20000, MIGRATE_DIRTY_GE, &f);
    CHECK_NEAR(f.hot_mib, 0, 0);
    CHECK_INT_EQ(migrate_dirty_model_observe(&m, t + 20000, 8, 3), -1);
}

RUN_TESTS(observe_rejects_bad_samples, empty_and_const_forecasts, steady_noisy_rate_is_one_state,
          bursty_rate_is_two_state, forecast_mean_matches_integral, ge_discounts_a_single_outlier,
          ge_tracks_hidden_state_better, ring_keeps_the_newest, hot_set_from_a_long_sample)
