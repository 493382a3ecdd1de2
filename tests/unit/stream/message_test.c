/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for lib/stream/message.c: the worked encodings of the notes (§4.5), the choice of the
 * class/codestream indicator, Aux, limits, and decoder errors with their offsets. */
#include "stream/message.h"

#include "test.h"

static struct jpip__msg mk(uint8_t cls, uint64_t cs, uint64_t id, uint64_t off, uint64_t len,
                           int last)
{
    struct jpip__msg m;
    memset(&m, 0, sizeof m);
    m.cls = cls;
    m.cs = cs;
    m.id = id;
    m.off = off;
    m.len = len;
    m.last = last;
    m.has_aux = cls & 1;
    return m;
}

static int same_msg(const struct jpip__msg *a, const struct jpip__msg *b)
{
    return a->cls == b->cls && a->cs == b->cs && a->id == b->id && a->off == b->off &&
           a->len == b->len && a->has_aux == b->has_aux && (!a->has_aux || a->aux == b->aux) &&
           a->last == b->last;
}

/* Decodes buf as one header with st; checks that every strict prefix needs more input and
 * leaves st alone, and that the whole header is consumed. */
static int decode_all(struct jpip__msg_dec *st, const uint8_t *buf, size_t n, struct jpip__msg *m)
{
    size_t hl = 0;
    int eor = -1;
    uint8_t reason = 0;
    for (size_t k = 0; k < n; k++) {
        const struct jpip__msg_dec before = *st;
        if (jpip__msg_header_decode(st, buf, k, 0, m, &hl, &eor, &reason, NULL) != JPIP_AGAIN)
            return 0;
        if (before.have_prev != st->have_prev || before.prev_cls != st->prev_cls ||
            before.prev_cs != st->prev_cs)
            return 0;
    }
    if (jpip__msg_header_decode(st, buf, n, 0, m, &hl, &eor, &reason, NULL) != JPIP_OK)
        return 0;
    return hl == n && eor == 0;
}

TEST(worked_main_header)
{
    struct jpip__msg_enc e;
    jpip__msg_enc_reset(&e);
    const struct jpip__msg m = mk(JPIP__CLASS_MAIN_HEADER, 0, 0, 0, 300, 1);
    uint8_t buf[JPIP__MSG_HEADER_MAX];
    size_t n = 0;
    ASSERT_OK(jpip__msg_header_encode(&e, &m, buf, sizeof buf, &n));
    static const uint8_t want[] = {0x70, 0x06, 0x00, 0x00, 0x82, 0x2C};
    ASSERT_EQ_U64(n, sizeof want);
    ASSERT_MEM_EQ(buf, want, n);
    struct jpip__msg_dec d;
    jpip__msg_dec_reset(&d);
    struct jpip__msg got;
    ASSERT_TRUE(decode_all(&d, want, sizeof want, &got));
    ASSERT_TRUE(same_msg(&got, &m));
}

TEST(worked_precinct_b1)
{
    struct jpip__msg_enc e;
    jpip__msg_enc_reset(&e);
    uint8_t buf[JPIP__MSG_HEADER_MAX];
    size_t n = 0;
    const struct jpip__msg first = mk(JPIP__CLASS_PRECINCT, 0, 3, 0, 10, 0);
    ASSERT_OK(jpip__msg_header_encode(&e, &first, buf, sizeof buf, &n));
    const struct jpip__msg m = mk(JPIP__CLASS_PRECINCT, 0, 5, 120, 40, 0);
    ASSERT_OK(jpip__msg_header_encode(&e, &m, buf, sizeof buf, &n));
    static const uint8_t want[] = {0x25, 0x78, 0x28};
    ASSERT_EQ_U64(n, sizeof want);
    ASSERT_MEM_EQ(buf, want, n);
    struct jpip__msg_dec d = {1, JPIP__CLASS_PRECINCT, 0};
    struct jpip__msg got;
    ASSERT_TRUE(decode_all(&d, want, sizeof want, &got));
    ASSERT_TRUE(same_msg(&got, &m));
}

TEST(worked_precinct_200_b2)
{
    struct jpip__msg_enc e = {1, JPIP__CLASS_TILE_HEADER, 0};
    uint8_t buf[JPIP__MSG_HEADER_MAX];
    size_t n = 0;
    const struct jpip__msg m = mk(JPIP__CLASS_PRECINCT, 0, 200, 0, 10, 0);
    ASSERT_OK(jpip__msg_header_encode(&e, &m, buf, sizeof buf, &n));
    static const uint8_t want[] = {0xC1, 0x48, 0x00, 0x00, 0x0A};
    ASSERT_EQ_U64(n, sizeof want);
    ASSERT_MEM_EQ(buf, want, n);
    struct jpip__msg_dec d = {1, JPIP__CLASS_TILE_HEADER, 0};
    struct jpip__msg got;
    ASSERT_TRUE(decode_all(&d, want, sizeof want, &got));
    ASSERT_TRUE(same_msg(&got, &m));
}

TEST(worked_eor)
{
    uint8_t buf[3];
    size_t n = 0;
    ASSERT_OK(jpip__eor_encode(JPIP__EOR_WINDOW_DONE, buf, sizeof buf, &n));
    static const uint8_t want[] = {0x00, 0x02, 0x00};
    ASSERT_EQ_U64(n, 3);
    ASSERT_MEM_EQ(buf, want, 3);
    ASSERT_EQ_INT(jpip__eor_encode(JPIP__EOR_WINDOW_DONE, buf, 2, &n), JPIP_ELIMIT);

    struct jpip__msg_dec d = {1, 4, 7};
    struct jpip__msg m;
    size_t hl = 0;
    int eor = 0;
    uint8_t reason = 0;
    ASSERT_EQ_INT(jpip__msg_header_decode(&d, want, 1, 0, &m, &hl, &eor, &reason, NULL),
                  JPIP_AGAIN);
    ASSERT_EQ_INT(jpip__msg_header_decode(&d, want, 2, 0, &m, &hl, &eor, &reason, NULL),
                  JPIP_AGAIN);
    ASSERT_OK(jpip__msg_header_decode(&d, want, 3, 0, &m, &hl, &eor, &reason, NULL));
    ASSERT_EQ_INT(eor, 1);
    ASSERT_EQ_INT(reason, 2);
    ASSERT_EQ_U64(hl, 3);
    ASSERT_EQ_U64(m.len, 0);
    /* The EOR does not touch the previous class and codestream. */
    ASSERT_EQ_INT(d.have_prev, 1);
    ASSERT_EQ_INT(d.prev_cls, 4);
    ASSERT_EQ_U64(d.prev_cs, 7);

    /* An EOR with a body and the unspecified reason. */
    static const uint8_t body[] = {0x00, 0xFF, 0x03, 'a', 'b', 'c'};
    ASSERT_OK(jpip__msg_header_decode(&d, body, sizeof body, 0, &m, &hl, &eor, &reason, NULL));
    ASSERT_EQ_INT(eor, 1);
    ASSERT_EQ_INT(reason, 0xFF);
    ASSERT_EQ_U64(hl, 3);
    ASSERT_EQ_U64(m.len, 3);
}

/* The indicator b of the header the encoder writes for m. */
static unsigned enc_b(struct jpip__msg_enc *e, const struct jpip__msg *m)
{
    uint8_t buf[JPIP__MSG_HEADER_MAX];
    size_t n = 0;
    if (jpip__msg_header_encode(e, m, buf, sizeof buf, &n) != JPIP_OK)
        return 99;
    return (buf[0] >> 5) & 3u;
}

TEST(indicator_sequence)
{
    struct jpip__msg_enc e;
    jpip__msg_enc_reset(&e);
    struct jpip__msg m = mk(JPIP__CLASS_METADATA, 0, 0, 0, 20, 1);
    ASSERT_EQ_INT(enc_b(&e, &m), 3); /* first of the response */
    m = mk(JPIP__CLASS_MAIN_HEADER, 0, 0, 0, 100, 1);
    ASSERT_EQ_INT(enc_b(&e, &m), 2); /* new class, same codestream */
    m = mk(JPIP__CLASS_TILE_HEADER, 0, 0, 0, 0, 1);
    ASSERT_EQ_INT(enc_b(&e, &m), 2);
    m = mk(JPIP__CLASS_TILE_HEADER, 0, 1, 0, 0, 1);
    ASSERT_EQ_INT(enc_b(&e, &m), 1); /* same class and codestream */
    m = mk(JPIP__CLASS_PRECINCT, 0, 0, 0, 50, 0);
    ASSERT_EQ_INT(enc_b(&e, &m), 2);
    m = mk(JPIP__CLASS_PRECINCT, 0, 9, 0, 50, 0);
    ASSERT_EQ_INT(enc_b(&e, &m), 1);
    m = mk(JPIP__CLASS_PRECINCT, 1, 9, 0, 50, 0);
    ASSERT_EQ_INT(enc_b(&e, &m), 3); /* new codestream */
    m = mk(JPIP__CLASS_PRECINCT, 0, 9, 0, 50, 0);
    ASSERT_EQ_INT(enc_b(&e, &m), 3); /* back to codestream 0 */
    jpip__msg_enc_reset(&e);
    ASSERT_EQ_INT(enc_b(&e, &m), 3); /* the next response starts self-contained */
    ASSERT_EQ_INT(enc_b(&e, &m), 1);
}

TEST(aux_for_odd_classes)
{
    struct jpip__msg_enc e;
    jpip__msg_enc_reset(&e);
    uint8_t buf[2 * JPIP__MSG_HEADER_MAX];
    size_t n1 = 0, n2 = 0;
    struct jpip__msg a = mk(JPIP__CLASS_PRECINCT_EXT, 2, 7, 0, 5, 0);
    a.aux = 3;
    ASSERT_OK(jpip__msg_header_encode(&e, &a, buf, sizeof buf, &n1));
    static const uint8_t want_a[] = {0x67, 0x01, 0x02, 0x00, 0x05, 0x03};
    ASSERT_EQ_U64(n1, sizeof want_a);
    ASSERT_MEM_EQ(buf, want_a, n1);
    struct jpip__msg b = mk(JPIP__CLASS_PRECINCT_EXT, 2, 8, 5, 6, 1);
    b.aux = 200;
    ASSERT_OK(jpip__msg_header_encode(&e, &b, buf + n1, sizeof buf - n1, &n2));
    static const uint8_t want_b[] = {0x38, 0x05, 0x06, 0x81, 0x48}; /* b=1 still has Aux */
    ASSERT_EQ_U64(n2, sizeof want_b);
    ASSERT_MEM_EQ(buf + n1, want_b, n2);

    struct jpip__msg_dec d;
    jpip__msg_dec_reset(&d);
    struct jpip__msg got;
    ASSERT_TRUE(decode_all(&d, buf, n1, &got));
    ASSERT_TRUE(same_msg(&got, &a));
    ASSERT_TRUE(decode_all(&d, buf + n1, n2, &got));
    ASSERT_TRUE(same_msg(&got, &b));
    ASSERT_EQ_INT(got.has_aux, 1);

    /* Even classes ignore m->aux; unknown odd class 3 still gets Aux. */
    struct jpip__msg c = mk(3, 0, 1, 0, 0, 1);
    c.aux = 9;
    jpip__msg_enc_reset(&e);
    ASSERT_OK(jpip__msg_header_encode(&e, &c, buf, sizeof buf, &n1));
    jpip__msg_dec_reset(&d);
    ASSERT_TRUE(decode_all(&d, buf, n1, &got));
    ASSERT_TRUE(same_msg(&got, &c));
    ASSERT_EQ_U64(got.aux, 9);
}

TEST(id_boundaries)
{
    static const uint64_t ids[] = {
        0, 15, 16, 2047, 2048, 262143, 262144, (uint64_t)1 << 32, JPIP__MSG_VALUE_LIMIT - 1};
    static const size_t id_bytes[] = {1, 1, 2, 2, 3, 3, 4, 6, 8};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        struct jpip__msg_enc e = {1, 0, 0};
        const struct jpip__msg m = mk(0, 0, ids[i], 0, 0, 0);
        uint8_t buf[JPIP__MSG_HEADER_MAX];
        size_t n = 0;
        ASSERT_OK(jpip__msg_header_encode(&e, &m, buf, sizeof buf, &n));
        ASSERT_EQ_U64(n, id_bytes[i] + 2); /* b = 1: Bin-ID, Offset, Length */
        struct jpip__msg_dec d = {1, 0, 0};
        struct jpip__msg got;
        ASSERT_TRUE(decode_all(&d, buf, n, &got));
        ASSERT_EQ_U64(got.id, ids[i]);
    }
}

TEST(largest_header)
{
    struct jpip__msg_enc e;
    jpip__msg_enc_reset(&e);
    const uint64_t big = JPIP__MSG_VALUE_LIMIT - 1;
    struct jpip__msg m = mk(255, big, big, big, big, 1);
    m.aux = big;
    uint8_t buf[JPIP__MSG_HEADER_MAX];
    size_t n = 0;
    ASSERT_OK(jpip__msg_header_encode(&e, &m, buf, sizeof buf, &n));
    ASSERT_EQ_U64(n, JPIP__MSG_HEADER_MAX);
    struct jpip__msg_dec d;
    jpip__msg_dec_reset(&d);
    struct jpip__msg got;
    ASSERT_TRUE(decode_all(&d, buf, n, &got));
    ASSERT_TRUE(same_msg(&got, &m));
}

TEST(encode_limits)
{
    struct jpip__msg_enc e;
    jpip__msg_enc_reset(&e);
    uint8_t buf[JPIP__MSG_HEADER_MAX];
    size_t n = 0;
    struct jpip__msg m = mk(0, 0, JPIP__MSG_VALUE_LIMIT, 0, 0, 0);
    ASSERT_EQ_INT(jpip__msg_header_encode(&e, &m, buf, sizeof buf, &n), JPIP_EINVAL);
    m = mk(0, 0, 0, 0, JPIP__MSG_VALUE_LIMIT, 0);
    ASSERT_EQ_INT(jpip__msg_header_encode(&e, &m, buf, sizeof buf, &n), JPIP_EINVAL);
    m = mk(1, 0, 0, 0, 0, 0);
    m.aux = UINT64_MAX;
    ASSERT_EQ_INT(jpip__msg_header_encode(&e, &m, buf, sizeof buf, &n), JPIP_EINVAL);
    m = mk(0, 0, 0, 0, 0, 0);
    m.aux = UINT64_MAX; /* ignored: class 0 has no Aux */
    ASSERT_EQ_INT(jpip__msg_header_encode(&e, &m, buf, 4, &n), JPIP_ELIMIT);
    ASSERT_EQ_INT(e.have_prev, 0); /* a failed encode leaves the memory alone */
    ASSERT_OK(jpip__msg_header_encode(&e, &m, buf, 5, &n));
    ASSERT_EQ_U64(n, 5);
}

static int decode_err(struct jpip__msg_dec *d, const uint8_t *p, size_t len, uint64_t base,
                      struct jpip__err *err)
{
    struct jpip__msg m;
    size_t hl = 0;
    int eor = 0;
    uint8_t reason = 0;
    jpip__err_clear(err);
    return jpip__msg_header_decode(d, p, len, base, &m, &hl, &eor, &reason, err);
}

TEST(inherit_without_previous)
{
    struct jpip__msg_dec d;
    jpip__msg_dec_reset(&d);
    struct jpip__err err;
    static const uint8_t b1[] = {0x25, 0x78, 0x28};
    ASSERT_EQ_INT(decode_err(&d, b1, sizeof b1, 0, &err), JPIP_EPROTOCOL);
    ASSERT_STR_CONTAINS(err.msg, "offset 0 inherits its class and codestream but is the first");
    ASSERT_EQ_INT(decode_err(&d, b1, 1, 1234, &err), JPIP_EPROTOCOL); /* known from byte 1 */
    ASSERT_STR_CONTAINS(err.msg, "offset 1234");
    static const uint8_t b2[] = {0x40, 0x00, 0x00, 0x00};
    ASSERT_EQ_INT(decode_err(&d, b2, sizeof b2, 7, &err), JPIP_EPROTOCOL);
    ASSERT_STR_CONTAINS(err.msg, "offset 7 inherits its codestream");
    ASSERT_EQ_INT(d.have_prev, 0);
}

TEST(decode_errors)
{
    struct jpip__msg_dec d = {1, 0, 0};
    struct jpip__err err;
    static const uint8_t b0[] = {0x05, 0x00, 0x00};
    ASSERT_EQ_INT(decode_err(&d, b0, sizeof b0, 99, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "offset 99 starts with 0x05");
    static const uint8_t b0c[] = {0x80, 0x00};
    ASSERT_EQ_INT(decode_err(&d, b0c, sizeof b0c, 0, &err), JPIP_EMALFORMED);

    /* Msg-Offset of eleven bytes (b = 1 header: Bin-ID at 100, offset field at 101). */
    uint8_t lo[14];
    memset(lo, 0x80, sizeof lo);
    lo[0] = 0x20;
    lo[11] = 0x00;
    lo[12] = 0x00;
    ASSERT_EQ_INT(decode_err(&d, lo, sizeof lo, 100, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "Msg-Offset VBAS at offset 101");

    /* Msg-Length of 2^53 (minimal: 0x90, six 0x80, 0x00) and of 2^53 - 1. */
    static const uint8_t big[] = {0x20, 0x00, 0x90, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    ASSERT_EQ_INT(decode_err(&d, big, sizeof big, 0, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "Msg-Length at offset 2 is 9007199254740992");
    static const uint8_t ok53[] = {0x20, 0x00, 0x8F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
    ASSERT_EQ_INT(decode_err(&d, ok53, sizeof ok53, 0, &err), JPIP_OK);

    /* Class above 255. */
    static const uint8_t cls[] = {0x40, 0x82, 0x2C, 0x00, 0x00};
    ASSERT_EQ_INT(decode_err(&d, cls, sizeof cls, 0, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "Class at offset 1 is 300");

    /* In-class id of 2^53 and an over-long Bin-ID. */
    static const uint8_t id[] = {0xA1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00};
    ASSERT_EQ_INT(decode_err(&d, id, sizeof id, 0, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "in-class id");
    uint8_t lid[12];
    memset(lid, 0x80, sizeof lid);
    lid[0] = 0xA0;
    ASSERT_EQ_INT(decode_err(&d, lid, 10, 0, &err), JPIP_EMALFORMED);
    ASSERT_EQ_INT(decode_err(&d, lid, 9, 0, &err), JPIP_AGAIN);

    /* EOR body length of 2^53. */
    static const uint8_t eor[] = {0x00, 0x02, 0x90, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    ASSERT_EQ_INT(decode_err(&d, eor, sizeof eor, 0, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "EOR body length at offset 2");
}

TEST(non_minimal_accepted)
{
    /* esajpip style: id 5 in a continuation byte after a zero nibble; class with a zero
     * group; offset with two zero groups. */
    static const uint8_t h[] = {0xF0, 0x05, 0x80, 0x06, 0x00, 0x80, 0x80, 0x01, 0x02};
    struct jpip__msg_dec d;
    jpip__msg_dec_reset(&d);
    struct jpip__msg got;
    ASSERT_TRUE(decode_all(&d, h, sizeof h, &got));
    const struct jpip__msg want = mk(6, 0, 5, 1, 2, 1);
    ASSERT_TRUE(same_msg(&got, &want));
}

RUN_TESTS()
