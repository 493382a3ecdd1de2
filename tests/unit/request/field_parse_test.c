/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for lib/request/field_parse.c (numbers, pairs, ranges and their formatting). */
#include "request/field_parse.h"

#include "common/alloc.h"
#include "test.h"

static char text[256];

static const char *fmt(const struct jpip__range *v, uint32_t n)
{
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, sizeof text - 1);
    text[0] = '\0';
    if (jpip__fmt_ranges(&b, v, n) == JPIP_OK) {
        memcpy(text, b.data, b.len);
        text[b.len] = '\0';
    }
    jpip__buf_free(&b);
    return text;
}

TEST(numbers)
{
    struct jpip__fcur c;
    struct jpip__err err;
    uint64_t v = 0;
    jpip__fcur_init(&c, "18446744073709551615", 20, "x", &err);
    ASSERT_OK(jpip__fcur_u64(&c, UINT64_MAX, &v));
    ASSERT_EQ_U64(v, UINT64_MAX);
    jpip__fcur_init(&c, "18446744073709551616", 20, "x", &err);
    ASSERT_EQ_INT(jpip__fcur_u64(&c, UINT64_MAX, &v), JPIP_EMALFORMED);
    ASSERT_STR_EQ(err.msg, "x: number larger than 18446744073709551615 at offset 0");
    uint32_t u = 0;
    jpip__fcur_init(&c, "4294967295", 10, "x", &err);
    ASSERT_OK(jpip__fcur_u32(&c, &u));
    ASSERT_EQ_U64(u, UINT32_MAX);
    jpip__fcur_init(&c, "0007", 4, "x", &err);
    ASSERT_OK(jpip__fcur_u32(&c, &u));
    ASSERT_EQ_INT(u, 7);
    jpip__fcur_init(&c, "9", 1, "x", &err);
    ASSERT_EQ_INT(jpip__fcur_u64(&c, 5, &v), JPIP_EMALFORMED);
    /* Lenient whitespace (response headers) only when asked. */
    uint32_t pair[2];
    jpip__fcur_init(&c, " 3 ,\t4 ", 7, "x", &err);
    ASSERT_EQ_INT(jpip__fcur_pair(&c, pair, 0), JPIP_EMALFORMED);
    jpip__fcur_init(&c, " 3 ,\t4 ", 7, "x", &err);
    c.lenient_ws = 1;
    ASSERT_OK(jpip__fcur_pair(&c, pair, 0));
    ASSERT_OK(jpip__fcur_expect_end(&c));
    ASSERT_EQ_INT(pair[1], 4);
}

TEST(ranges_round_trip)
{
    static const char *const ok[] = {"0",          "1-5",          "7-",      "0-10:3",
                                     "4294967295", "3-3:2",        "1,2,3-",  "5-4294967295:2",
                                     "0-0",        "2-4294967294", "9-9:1,0-"};
    static const char *const canon[] = {"0",          "1-5",          "7-",     "0-10:3",
                                        "4294967295", "3-3:2",        "1,2,3-", "5-4294967295:2",
                                        "0",          "2-4294967294", "9,0-"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct jpip__fcur c;
        struct jpip__err err;
        struct jpip__range *v = NULL;
        uint32_t n = 0;
        jpip__fcur_init(&c, ok[i], strlen(ok[i]), "stream", &err);
        ASSERT_OK(jpip__fcur_ranges(&c, 0, 1, 16, NULL, &v, &n));
        ASSERT_OK(jpip__fcur_expect_end(&c));
        ASSERT_STR_EQ(fmt(v, n), canon[i]);
        jpip__free(NULL, v);
    }
    /* "a-" is open and equal to an explicit 4294967295 end. */
    const struct jpip__range open = {7, JPIP__RANGE_OPEN, 1};
    ASSERT_STR_EQ(fmt(&open, 1), "7-");
}

TEST(ranges_errors)
{
    static const struct {
        const char *in;
        int code;
        const char *msg;
    } cases[] = {
        {"", JPIP_EMALFORMED, "c: expected a number, found the end at offset 0"},
        {"1,", JPIP_EMALFORMED, "c: expected a number, found the end at offset 2"},
        {"5-2", JPIP_EMALFORMED, "c: range end 2 before its start 5 at offset 2"},
        {"1-3:0", JPIP_EMALFORMED, "c: range step must be at least 1 at offset 4"},
        {"1,2,3,4,5", JPIP_ELIMIT, "c: more than 4 ranges at offset 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct jpip__fcur c;
        struct jpip__err err;
        struct jpip__range *v = NULL;
        uint32_t n = 0;
        jpip__fcur_init(&c, cases[i].in, strlen(cases[i].in), "c", &err);
        ASSERT_EQ_INT(jpip__fcur_ranges(&c, 0, 1, 4, NULL, &v, &n), cases[i].code);
        ASSERT_STR_EQ(err.msg, cases[i].msg);
        ASSERT_TRUE(v == NULL && n == 0);
    }
}

RUN_TESTS()
