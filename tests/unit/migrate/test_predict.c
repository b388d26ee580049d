/* test_predict: Markov and Gilbert-Elliott predictors on hand-checkable sequences. */
#include "migrate/internal.h"
#include "test.h"

TEST(markov_alternating)
{
    struct predict_markov m;
    predict_markov_init(&m, 2);
    /* page 0: 1,0,1,0,1,0,1,0,1; page 1 never written. */
    for (int i = 0; i < 9; i++) {
        uint8_t row = (uint8_t)(i % 2 == 0);
        predict_markov_observe(&m, &row);
    }
    CHECK_INT_EQ(predict_markov_seen(&m, 0), 8);
    /* n_d = 4, n_dd = 0: p_dd = 0.5 / 5; n_c = 4, n_cd = 4: p_cd = 4.5 / 5. */
    CHECK_NEAR(predict_markov_prob(&m, 0, 1), 0.1, 1e-12);
    CHECK_NEAR(predict_markov_prob(&m, 0, 2), 1 - 0.9 * 0.1, 1e-12);
    /* page 1: n_c = 8, n_cd = 0: p_cd = 0.5 / 9; three steps. */
    double q = 1 - 0.5 / 9;
    CHECK_NEAR(predict_markov_prob(&m, 1, 3), 1 - q * q * q, 1e-12);
    CHECK_NEAR(predict_markov_prob(&m, 1, 0), 0, 0);
    predict_markov_free(&m);
}

TEST(ge_filter_by_hand)
{
    struct predict_ge g;
    uint8_t row = 1;
    const uint8_t *rows[1] = {&row};
    /* One row: no fitting; defaults p_gb = 0.05, p_bg = 0.2; start P(bad) = 0.2. */
    predict_ge_init(&g, 1, 0.1, 0.9, false, rows, 1);
    /* prior 0.2*0.8 + 0.8*0.05 = 0.2; posterior 0.18 / (0.18 + 0.08). */
    double b = 0.18 / 0.26;
    CHECK_NEAR(g.belief[0], b, 1e-6);
    /* P(no write next | good) = 0.95*0.9 + 0.05*0.1; | bad) = 0.2*0.9 + 0.8*0.1. */
    CHECK_NEAR(predict_ge_prob(&g, 0, 1), 1 - ((1 - b) * 0.86 + b * 0.26), 1e-6);
    /* Two steps: (M^2) row sums, M = T * diag(0.9, 0.1). */
    double m00 = 0.95 * 0.9, m01 = 0.05 * 0.1, m10 = 0.2 * 0.9, m11 = 0.8 * 0.1;
    double g2 = m00 * (m00 + m01) + m01 * (m10 + m11);
    double b2 = m10 * (m00 + m01) + m11 * (m10 + m11);
    CHECK_NEAR(predict_ge_prob(&g, 0, 2), 1 - ((1 - b) * g2 + b * b2), 1e-6);
    uint8_t zero = 0;
    predict_ge_observe(&g, &zero);
    CHECK(g.belief[0] < b);
    predict_ge_free(&g);
}

TEST(ge_fit_finds_bursts)
{
    /* 8 pages with bursts: 6 intervals writing, 24 idle, repeated. */
    enum { N = 240 };
    static uint8_t rows_buf[N];
    const uint8_t *rows[N];
    for (int i = 0; i < N; i++) {
        rows_buf[i] = (i % 30) < 6 ? 0xff : 0x00;
        rows[i] = &rows_buf[i];
    }
    struct predict_ge g;
    predict_ge_init(&g, 8, 0.1, 0.9, true, rows, N);
    CHECK(g.eps2 > 0.8);
    CHECK(g.eps1 < 0.2);
    /* Ending idle for 24 intervals: a write in the next interval is unlikely. */
    CHECK(predict_ge_prob(&g, 0, 1) < 0.3);
    predict_ge_free(&g);
}

RUN_TESTS(markov_alternating, ge_filter_by_hand, ge_fit_finds_bursts)
