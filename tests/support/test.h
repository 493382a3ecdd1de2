/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A tiny test framework: TEST(name) defines a test, RUN_TESTS() in main runs them all, and the
 * typed ASSERT_* macros print both sides on failure (libuv's task.h idea). Each test file is
 * its own executable so ctest isolates crashes and applies timeouts.
 */
#ifndef JPIP_TEST_H
#define JPIP_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jpip_test_case {
    const char *name;
    void (*fn)(void);
};

#define JPIP_TEST_MAX 512
extern struct jpip_test_case jpip_test_cases[JPIP_TEST_MAX];
extern int jpip_test_count;
extern int jpip_test_failed;

#define TEST(tname)                                                                                \
    static void test_##tname(void);                                                                \
    __attribute__((constructor)) static void register_##tname(void)                                \
    {                                                                                              \
        if (jpip_test_count < JPIP_TEST_MAX) {                                                     \
            jpip_test_cases[jpip_test_count].name = #tname;                                        \
            jpip_test_cases[jpip_test_count].fn = test_##tname;                                    \
            jpip_test_count++;                                                                     \
        }                                                                                          \
    }                                                                                              \
    static void test_##tname(void)

#define TEST_FAIL_AT(...)                                                                          \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                            \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        jpip_test_failed = 1;                                                                      \
        return;                                                                                    \
    } while (0)

#define ASSERT_TRUE(c)                                                                             \
    do {                                                                                           \
        if (!(c))                                                                                  \
            TEST_FAIL_AT("assertion failed: %s", #c);                                              \
    } while (0)

#define ASSERT_EQ_U64(a, b)                                                                        \
    do {                                                                                           \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                           \
        if (a_ != b_)                                                                              \
            TEST_FAIL_AT("%s == %s failed: %" PRIu64 " != %" PRIu64, #a, #b, a_, b_);              \
    } while (0)

#define ASSERT_EQ_INT(a, b)                                                                        \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_)                                                                              \
            TEST_FAIL_AT("%s == %s failed: %lld != %lld", #a, #b, a_, b_);                         \
    } while (0)

#define ASSERT_OK(expr)                                                                            \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != 0)                                                                              \
            TEST_FAIL_AT("%s returned %d", #expr, rc_);                                            \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                                        \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (strcmp(a_, b_) != 0)                                                                   \
            TEST_FAIL_AT("%s == %s failed: \"%s\" != \"%s\"", #a, #b, a_, b_);                     \
    } while (0)

#define ASSERT_STR_CONTAINS(hay, needle)                                                           \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!strstr(h_, n_))                                                                       \
            TEST_FAIL_AT("\"%s\" does not contain \"%s\"", h_, n_);                                \
    } while (0)

#define ASSERT_MEM_EQ(a, b, n)                                                                     \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0)                                                            \
            TEST_FAIL_AT("memory %s and %s differ over %zu bytes", #a, #b, (size_t)(n));           \
    } while (0)

/* Define once per test executable (the file that has main). */
#define RUN_TESTS()                                                                                \
    struct jpip_test_case jpip_test_cases[JPIP_TEST_MAX];                                          \
    int jpip_test_count;                                                                           \
    int jpip_test_failed;                                                                          \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        int failures = 0;                                                                          \
        for (int i = 0; i < jpip_test_count; i++) {                                                \
            if (argc > 1 && strcmp(argv[1], jpip_test_cases[i].name) != 0)                         \
                continue;                                                                          \
            jpip_test_failed = 0;                                                                  \
            jpip_test_cases[i].fn();                                                               \
            printf("%s %s\n", jpip_test_failed ? "FAIL" : "ok  ", jpip_test_cases[i].name);        \
            failures += jpip_test_failed;                                                          \
        }                                                                                          \
        printf("%d tests, %d failed\n", jpip_test_count, failures);                                \
        return failures ? 1 : 0;                                                                   \
    }

#endif
