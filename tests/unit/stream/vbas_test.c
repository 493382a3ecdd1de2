/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for lib/stream/vbas.c: minimal encodings, round trips, leading zero groups, limits. */
#include "stream/vbas.h"

#include "test.h"

static int round_trip(uint64_t v, const uint8_t *want, size_t want_len)
{
    uint8_t buf[16];
    size_t n = 0, m = 0;
    uint64_t back = 0;
    if (jpip__vbas_encode(buf, sizeof buf, v, &n) != JPIP_OK || n != jpip__vbas_len(v))
        return 0;
    if (want && (n != want_len || memcmp(buf, want, n) != 0))
        return 0;
    if (jpip__vbas_decode(buf, n, &back, &m) != JPIP_OK || back != v || m != n)
        return 0;
    /* Every strict prefix needs more input. */
    for (size_t k = 0; k < n; k++)
        if (jpip__vbas_decode(buf, k, &back, &m) != JPIP_AGAIN)
            return 0;
    return 1;
}

TEST(known_encodings)
{
    static const uint8_t e0[] = {0x00};
    static const uint8_t e127[] = {0x7F};
    static const uint8_t e128[] = {0x81, 0x00};
    static const uint8_t e300[] = {0x82, 0x2C};
    static const uint8_t e16383[] = {0xFF, 0x7F};
    static const uint8_t e16384[] = {0x81, 0x80, 0x00};
    static const uint8_t e2_63[] = {0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    static const uint8_t emax[] = {0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
    ASSERT_TRUE(round_trip(0, e0, sizeof e0));
    ASSERT_TRUE(round_trip(127, e127, sizeof e127));
    ASSERT_TRUE(round_trip(128, e128, sizeof e128));
    ASSERT_TRUE(round_trip(300, e300, sizeof e300));
    ASSERT_TRUE(round_trip(16383, e16383, sizeof e16383));
    ASSERT_TRUE(round_trip(16384, e16384, sizeof e16384));
    ASSERT_TRUE(round_trip((uint64_t)1 << 63, e2_63, sizeof e2_63));
    ASSERT_TRUE(round_trip(UINT64_MAX, emax, sizeof emax));
}

TEST(lengths)
{
    ASSERT_EQ_U64(jpip__vbas_len(0), 1);
    ASSERT_EQ_U64(jpip__vbas_len(127), 1);
    ASSERT_EQ_U64(jpip__vbas_len(128), 2);
    ASSERT_EQ_U64(jpip__vbas_len(((uint64_t)1 << 56) - 1), 8);
    ASSERT_EQ_U64(jpip__vbas_len((uint64_t)1 << 56), 9);
    ASSERT_EQ_U64(jpip__vbas_len(((uint64_t)1 << 63) - 1), 9);
    ASSERT_EQ_U64(jpip__vbas_len((uint64_t)1 << 63), 10);
    ASSERT_EQ_U64(jpip__vbas_len(UINT64_MAX), 10);
}

TEST(random_round_trips)
{
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const uint64_t v = x >> (i % 64); /* every magnitude */
        ASSERT_TRUE(round_trip(v, NULL, 0));
    }
    for (unsigned s = 0; s < 64; s++) {
        ASSERT_TRUE(round_trip((uint64_t)1 << s, NULL, 0));
        ASSERT_TRUE(round_trip(((uint64_t)1 << s) - 1, NULL, 0));
    }
}

TEST(encode_cap)
{
    uint8_t buf[10];
    memset(buf, 0xAA, sizeof buf);
    size_t n = 77;
    ASSERT_EQ_INT(jpip__vbas_encode(buf, 1, 128, &n), JPIP_ELIMIT);
    ASSERT_EQ_U64(n, 77);
    ASSERT_EQ_U64(buf[0], 0xAA);
    ASSERT_EQ_INT(jpip__vbas_encode(buf, 0, 0, &n), JPIP_ELIMIT);
    ASSERT_EQ_INT(jpip__vbas_encode(buf, 9, UINT64_MAX, &n), JPIP_ELIMIT);
    ASSERT_OK(jpip__vbas_encode(buf, 10, UINT64_MAX, &n));
    ASSERT_EQ_U64(n, 10);
}

TEST(leading_zero_groups)
{
    uint64_t v = 0;
    size_t n = 0;
    static const uint8_t a[] = {0x80, 0x05};
    ASSERT_OK(jpip__vbas_decode(a, sizeof a, &v, &n));
    ASSERT_EQ_U64(v, 5);
    ASSERT_EQ_U64(n, 2);
    static const uint8_t b[] = {0x80, 0x80, 0x81, 0x00, 0x42}; /* 0x42 is the next field */
    ASSERT_OK(jpip__vbas_decode(b, sizeof b, &v, &n));
    ASSERT_EQ_U64(v, 128);
    ASSERT_EQ_U64(n, 4);
    /* Ten bytes in all is the maximum, leading zeros included. */
    uint8_t c[12];
    memset(c, 0x80, sizeof c);
    c[9] = 0x05;
    ASSERT_OK(jpip__vbas_decode(c, sizeof c, &v, &n));
    ASSERT_EQ_U64(v, 5);
    ASSERT_EQ_U64(n, 10);
}

TEST(too_long_rejected)
{
    uint64_t v = 0;
    size_t n = 0;
    uint8_t c[12];
    memset(c, 0x80, sizeof c);
    c[10] = 0x05; /* eleven bytes */
    ASSERT_EQ_INT(jpip__vbas_decode(c, sizeof c, &v, &n), JPIP_EMALFORMED);
    /* Known as soon as the tenth byte still says "more". */
    ASSERT_EQ_INT(jpip__vbas_decode(c, 10, &v, &n), JPIP_EMALFORMED);
    ASSERT_EQ_INT(jpip__vbas_decode(c, 9, &v, &n), JPIP_AGAIN);
    /* A value of 2^64 in ten bytes overflows; detected once the ninth byte is in. */
    static const uint8_t o[] = {0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    ASSERT_EQ_INT(jpip__vbas_decode(o, sizeof o, &v, &n), JPIP_EMALFORMED);
    ASSERT_EQ_INT(jpip__vbas_decode(o, 9, &v, &n), JPIP_EMALFORMED);
    ASSERT_EQ_INT(jpip__vbas_decode(o, 8, &v, &n), JPIP_AGAIN);
    /* All ones, ten bytes: 70 bits. */
    static const uint8_t f[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
    ASSERT_EQ_INT(jpip__vbas_decode(f, sizeof f, &v, &n), JPIP_EMALFORMED);
}

TEST(incomplete)
{
    uint64_t v = 0;
    size_t n = 0;
    static const uint8_t a[] = {0x81, 0x80};
    ASSERT_EQ_INT(jpip__vbas_decode(a, 0, &v, &n), JPIP_AGAIN);
    ASSERT_EQ_INT(jpip__vbas_decode(a, 1, &v, &n), JPIP_AGAIN);
    ASSERT_EQ_INT(jpip__vbas_decode(a, 2, &v, &n), JPIP_AGAIN);
}

RUN_TESTS()
