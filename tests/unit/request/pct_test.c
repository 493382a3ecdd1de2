/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for lib/request/pct.c (percent-decoding and -encoding of request values). */
#include "request/pct.h"

#include "test.h"

TEST(decode)
{
    char out[64];
    size_t n = 0, bad = 0;
    const char in[] = "a%20b+c%5B%5d%2b";
    ASSERT_OK(jpip__pct_decode(in, sizeof in - 1, out, &n, &bad));
    ASSERT_EQ_INT(n, 8);
    ASSERT_MEM_EQ(out, "a b+c[]+", 8); /* '+' is not a space */
    static const struct {
        const char *in;
        size_t bad;
    } errs[] = {{"%", 0}, {"ab%2", 2}, {"%g0", 0}, {"x%0g", 1}, {"%00", 0}, {"ok%2C%00", 5}};
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        ASSERT_EQ_INT(jpip__pct_decode(errs[i].in, strlen(errs[i].in), out, &n, &bad),
                      JPIP_EMALFORMED);
        ASSERT_EQ_INT(bad, errs[i].bad);
    }
    /* In place. */
    char buf[] = "%41%42c";
    ASSERT_OK(jpip__pct_decode(buf, 7, buf, &n, &bad));
    ASSERT_EQ_INT(n, 3);
    ASSERT_MEM_EQ(buf, "ABc", 3);
    ASSERT_TRUE(jpip__pct_has_escape("a%", 2));
    ASSERT_TRUE(!jpip__pct_has_escape("a+", 2));
    ASSERT_TRUE(!jpip__pct_has_escape(NULL, 0));
}

TEST(raw_offset)
{
    const char enc[] = "%5B0%5D%2CPx";
    /* Decoded "[0],Px": position 5 ('x') is at offset 11 of the encoded text. */
    ASSERT_EQ_INT(jpip__pct_raw_offset(enc, sizeof enc - 1, 0), 0);
    ASSERT_EQ_INT(jpip__pct_raw_offset(enc, sizeof enc - 1, 1), 3);
    ASSERT_EQ_INT(jpip__pct_raw_offset(enc, sizeof enc - 1, 5), 11);
    ASSERT_EQ_INT(jpip__pct_raw_offset(enc, sizeof enc - 1, 6), 12);
    ASSERT_EQ_INT(jpip__pct_raw_offset(enc, sizeof enc - 1, 99), 12);
}

TEST(encode)
{
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 256);
    const char in[] = "a b+c/[0];x=1&y,z:*!~\x01\xff";
    ASSERT_OK(jpip__pct_encode_append(&b, in, sizeof in - 1));
    ASSERT_OK(jpip__buf_append_byte(&b, 0));
    ASSERT_STR_EQ((const char *)b.data, "a%20b%2Bc/%5B0%5D%3Bx%3D1%26y,z:*!~%01%FF");
    /* Decoding the encoding gives the input back. */
    char out[64];
    size_t n = 0, bad = 0;
    ASSERT_OK(jpip__pct_decode((const char *)b.data, b.len - 1, out, &n, &bad));
    ASSERT_EQ_INT(n, sizeof in - 1);
    ASSERT_MEM_EQ(out, in, n);
    jpip__buf_free(&b);
    struct jpip__buf small;
    jpip__buf_init(&small, NULL, 2);
    ASSERT_EQ_INT(jpip__pct_encode_append(&small, "[", 1), JPIP_ELIMIT);
    jpip__buf_free(&small);
}

RUN_TESTS()
