/* test: a minimal unit-test harness. Each test file is one executable with
 * TEST(name) functions listed in a RUN_TESTS(...) main; a failed CHECK prints
 * file:line and the expression, and the process exits non-zero. */
#ifndef ARAS_TEST_H
#define ARAS_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int test_failures;
static const char *test_current;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: CHECK failed: %s\n", __FILE__, __LINE__, test_current,     \
                    #cond);                                                                        \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            fprintf(stderr, "%s:%d: %s: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__,      \
                    test_current, #a, #b, a_, b_);                                                 \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (tol))) {                                                           \
            fprintf(stderr, "%s:%d: %s: %s ~= %s failed: %.9g vs %.9g (tol %g)\n", __FILE__,       \
                    __LINE__, test_current, #a, #b, a_, b_, (double)(tol));                        \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            fprintf(stderr, "%s:%d: %s: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__,  \
                    test_current, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                 \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

/* The message recorded by err_set() contains `needle`. */
#define CHECK_ERR_HAS(needle) CHECK(strstr(err_msg(), (needle)) != NULL)

#define TEST(name)                                                                                 \
    static void name##_body(void);                                                                 \
    static void name(void)                                                                         \
    {                                                                                              \
        test_current = #name;                                                                      \
        name##_body();                                                                             \
    }                                                                                              \
    static void name##_body(void)

#define RUN_TESTS(...)                                                                             \
    int main(void)                                                                                 \
    {                                                                                              \
        void (*tests_[])(void) = {__VA_ARGS__};                                                    \
        for (size_t i_ = 0; i_ < sizeof(tests_) / sizeof(tests_[0]); i_++) {                       \
            tests_[i_]();                                                                          \
        }                                                                                          \
        if (test_failures)                                                                         \
            fprintf(stderr, "%d check(s) failed\n", test_failures);                                \
        return test_failures ? 1 : 0;                                                              \
    }

#endif
