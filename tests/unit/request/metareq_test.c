/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for lib/request/metareq.c. */
#include "request/metareq.h"

#include "test.h"

static int parse(struct jpip__metareq *q, const char *s, struct jpip__err *err)
{
    jpip__err_clear(err);
    return jpip__metareq_parse(q, s, strlen(s), 100, NULL, err);
}

static int formats_as(const struct jpip__metareq *q, const char *want)
{
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 4096);
    const int ok = jpip__metareq_format(q, &b) == JPIP_OK &&
                   jpip__buf_append_byte(&b, 0) == JPIP_OK &&
                   strcmp((const char *)b.data, want) == 0;
    if (!ok)
        fprintf(stderr, "formatted \"%s\", want \"%s\"\n", b.data ? (char *)b.data : "", want);
    jpip__buf_free(&b);
    return ok;
}

TEST(jhelioviewer_metadata_only)
{
    struct jpip__metareq q;
    struct jpip__err err;
    ASSERT_OK(parse(&q, "[*]!!", &err));
    ASSERT_EQ_INT(q.n, 1);
    ASSERT_EQ_INT(q.nprops, 1);
    ASSERT_TRUE(q.props[0].wildcard);
    ASSERT_EQ_INT(q.props[0].limit_kind, JPIP__METAREQ_WHOLE);
    ASSERT_EQ_INT(q.props[0].ctx_flags, 0);
    ASSERT_TRUE(!q.props[0].priority);
    ASSERT_TRUE(!q.items[0].has_root && !q.items[0].has_depth);
    ASSERT_EQ_INT(q.items[0].max_depth, UINT32_MAX);
    ASSERT_TRUE(q.metadata_only);
    ASSERT_TRUE(formats_as(&q, "[*]!!"));
    jpip__metareq_free(&q);
}

TEST(full_grammar)
{
    struct jpip__metareq q;
    struct jpip__err err;
    ASSERT_OK(parse(&q, "[xml_:1024/wg!;jp2h:r;\\000\\001ab/a]R5D2,[*/s!]D0,[uuid]R12", &err));
    ASSERT_EQ_INT(q.n, 3);
    ASSERT_EQ_INT(q.nprops, 5);
    const struct jpip__metareq_prop *p = q.props;
    ASSERT_EQ_U64(p[0].box_type, 0x786d6c20);
    ASSERT_EQ_INT(p[0].limit_kind, JPIP__METAREQ_BYTES);
    ASSERT_EQ_U64(p[0].limit_bytes, 1024);
    ASSERT_EQ_INT(p[0].ctx_flags, JPIP__METAREQ_CTX_W | JPIP__METAREQ_CTX_G);
    ASSERT_TRUE(p[0].priority);
    ASSERT_EQ_U64(p[1].box_type, 0x6a703268);
    ASSERT_EQ_INT(p[1].limit_kind, JPIP__METAREQ_RECURSE);
    ASSERT_EQ_U64(p[2].box_type, 0x00016162);
    ASSERT_EQ_INT(p[2].ctx_flags, JPIP__METAREQ_CTX_A);
    ASSERT_TRUE(p[3].wildcard && p[3].priority);
    ASSERT_EQ_INT(p[3].ctx_flags, JPIP__METAREQ_CTX_S);
    ASSERT_EQ_INT(q.items[0].prop_count, 3);
    ASSERT_TRUE(q.items[0].has_root && q.items[0].has_depth);
    ASSERT_EQ_U64(q.items[0].root_bin, 5);
    ASSERT_EQ_INT(q.items[0].max_depth, 2);
    ASSERT_EQ_INT(q.items[1].max_depth, 0);
    ASSERT_EQ_U64(q.items[2].root_bin, 12);
    ASSERT_TRUE(!q.metadata_only);
    ASSERT_TRUE(formats_as(&q, "[xml_:1024/wg!;jp2h:r;\\000\\001ab/a]R5D2,[*/s!]D0,[uuid]R12"));
    jpip__metareq_free(&q);

    /* A box type starting with '*' is not the wildcard; it formats escaped. */
    ASSERT_OK(parse(&q, "[*abc;a:b_]", &err));
    ASSERT_TRUE(!q.props[0].wildcard);
    ASSERT_EQ_U64(q.props[0].box_type, 0x2a616263);
    ASSERT_EQ_U64(q.props[1].box_type, 0x613a6220);
    ASSERT_TRUE(formats_as(&q, "[\\052abc;a\\072b_]"));
    jpip__metareq_free(&q);
}

TEST(malformed)
{
    static const struct {
        const char *in;
        const char *msg;
    } cases[] = {
        {"", "metareq: expected '[', found the end at offset 0"},
        {"*", "metareq: expected '[', found '*' at offset 0"},
        {"[]", "metareq: byte 0x5D not allowed in a box type at offset 1"},
        {"[xml]", "metareq: byte 0x5D not allowed in a box type at offset 4"},
        {"[xm", "box type shorter than four characters at offset 3"},
        {"[\\08a]", "'\\' must be followed by three octal digits at offset 1"},
        {"[\\400abc]", "octal escape above \\377 at offset 1"},
        {"[*:x]", "metareq: expected a number, found 'x' at offset 3"},
        {"[*/]", "expected context flags w, s, g or a at offset 3"},
        {"[*/x]", "expected context flags w, s, g or a at offset 3"},
        {"[*]!", "metareq: unexpected '!' at offset 3"},
        {"[*]!!,[*]", "metareq: unexpected ',' at offset 5"},
        {"[*],", "metareq: expected '[', found the end at offset 4"},
        {"[*]R", "metareq: expected a number, found the end at offset 4"},
        {"[*]D4294967296", "metareq: number larger than 4294967295 at offset 4"},
        {"[*]D1R1", "metareq: unexpected 'R' at offset 5"},
        {"[*;]", "metareq: byte 0x5D not allowed in a box type at offset 3"},
        {"[a\tbc]", "byte 0x09 not allowed in a box type at offset 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct jpip__metareq q;
        struct jpip__err err;
        ASSERT_EQ_INT(parse(&q, cases[i].in, &err), JPIP_EMALFORMED);
        ASSERT_STR_CONTAINS(err.msg, cases[i].msg);
        ASSERT_TRUE(q.n == 0 && q.items == NULL && q.props == NULL);
    }
    struct jpip__metareq q;
    struct jpip__err err;
    ASSERT_EQ_INT(jpip__metareq_parse(&q, "[*;*;*]", 7, 2, NULL, &err), JPIP_ELIMIT);
}

RUN_TESTS()
