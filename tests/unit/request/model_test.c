/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for lib/request/model.c (model= / need= descriptors). */
#include "request/model.h"

#include "test.h"

static int parse(struct jpip__model *m, const char *s, enum jpip__model_field f,
                 struct jpip__err *err)
{
    jpip__err_clear(err);
    return jpip__model_parse(m, s, strlen(s), f, 1000, NULL, err);
}

/* Formats m and checks the text is want. */
static int formats_as(const struct jpip__model *m, const char *want)
{
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 1 << 16);
    int ok = jpip__model_format(m, &b) == JPIP_OK && jpip__buf_append_byte(&b, 0) == JPIP_OK &&
             strcmp((const char *)b.data, want) == 0;
    if (!ok)
        fprintf(stderr, "formatted \"%s\", want \"%s\"\n", b.data ? (char *)b.data : "", want);
    jpip__buf_free(&b);
    return ok;
}

TEST(explicit_descriptors)
{
    struct jpip__model m;
    struct jpip__err err;
    ASSERT_OK(parse(&m, "Hm,H0,H*,P3-9,P12:100,P13:L2,T4,M0:20,-P7,-P8:L1", JPIP__MODEL_FIELD_MODEL,
                    &err));
    ASSERT_EQ_INT(m.n, 10);
    const struct jpip__model_item *it = m.items;
    ASSERT_EQ_INT(it[0].cls, JPIP__MODEL_MAIN_HEADER);
    ASSERT_EQ_INT(it[0].amount_kind, JPIP__MODEL_ALL);
    ASSERT_EQ_INT(it[1].cls, JPIP__MODEL_TILE_HEADER);
    ASSERT_EQ_U64(it[1].id.from, 0);
    ASSERT_EQ_U64(it[1].id.to, 0);
    ASSERT_EQ_U64(it[2].id.to, UINT64_MAX);
    ASSERT_EQ_INT(it[3].cls, JPIP__MODEL_PRECINCT);
    ASSERT_EQ_U64(it[3].id.from, 3);
    ASSERT_EQ_U64(it[3].id.to, 9);
    ASSERT_EQ_INT(it[4].amount_kind, JPIP__MODEL_BYTES);
    ASSERT_EQ_U64(it[4].amount, 100);
    ASSERT_EQ_INT(it[5].amount_kind, JPIP__MODEL_LAYERS);
    ASSERT_EQ_U64(it[5].amount, 2);
    ASSERT_EQ_INT(it[6].cls, JPIP__MODEL_TILE);
    ASSERT_EQ_INT(it[7].cls, JPIP__MODEL_METADATA);
    ASSERT_TRUE(it[8].subtractive && it[9].subtractive && !it[7].subtractive);
    ASSERT_EQ_INT(it[0].qual_count, 0);
    ASSERT_TRUE(formats_as(&m, "Hm,H0,H*,P3-9,P12:100,P13:L2,T4,M0:20,-P7,-P8:L1"));
    jpip__model_free(&m);
    jpip__model_free(&m);
}

TEST(codestream_qualifiers)
{
    struct jpip__model m;
    struct jpip__err err;
    ASSERT_OK(parse(&m, "[0],Hm,H0,[1-3;5;*],P1,[2],[4],M0", JPIP__MODEL_FIELD_MODEL, &err));
    ASSERT_EQ_INT(m.n, 4);
    ASSERT_EQ_INT(m.items[0].qual_count, 1);
    ASSERT_EQ_INT(m.quals[m.items[0].qual_first].from, 0);
    ASSERT_EQ_INT(m.items[2].qual_count, 3);
    const struct jpip__range *q = &m.quals[m.items[2].qual_first];
    ASSERT_EQ_INT(q[0].from, 1);
    ASSERT_EQ_INT(q[0].to, 3);
    ASSERT_EQ_INT(q[1].from, 5);
    ASSERT_EQ_INT(q[2].from, 0);
    ASSERT_EQ_U64(q[2].to, JPIP__RANGE_OPEN);
    ASSERT_EQ_INT(m.quals[m.items[3].qual_first].from, 4); /* the last qualifier wins */
    ASSERT_TRUE(formats_as(&m, "[0],Hm,H0,[1-3;5;*],P1,[4],M0"));
    jpip__model_free(&m);
    /* Kakadu's per-codestream layout. */
    ASSERT_OK(parse(&m, "[0],Hm,H0,P0,P1:120,[1],Hm", JPIP__MODEL_FIELD_MODEL, &err));
    ASSERT_EQ_INT(m.n, 5);
    jpip__model_free(&m);
}

TEST(implicit_descriptors)
{
    struct jpip__model m;
    struct jpip__err err;
    ASSERT_OK(parse(&m, "t3c0r2p5,t0-4,c*r1:L3,p2-7", JPIP__MODEL_FIELD_MODEL, &err));
    ASSERT_EQ_INT(m.n, 4);
    const struct jpip__model_item *it = m.items;
    ASSERT_EQ_INT(it[0].cls, JPIP__MODEL_IMPLICIT);
    ASSERT_EQ_U64(it[0].t.from, 3);
    ASSERT_EQ_U64(it[0].c.from, 0);
    ASSERT_EQ_U64(it[0].r.from, 2);
    ASSERT_EQ_U64(it[0].p.from, 5);
    ASSERT_EQ_U64(it[1].t.to, 4);
    ASSERT_EQ_U64(it[1].c.to, UINT64_MAX); /* absent: every component */
    ASSERT_EQ_INT(it[2].amount_kind, JPIP__MODEL_LAYERS);
    ASSERT_EQ_U64(it[2].amount, 3);
    ASSERT_TRUE(formats_as(&m, "t3c0r2p5,t0-4,r1:L3,p2-7"));
    jpip__model_free(&m);
    ASSERT_OK(parse(&m, "c*", JPIP__MODEL_FIELD_MODEL, &err));
    ASSERT_TRUE(formats_as(&m, "t*"));
    jpip__model_free(&m);
}

TEST(need_field)
{
    struct jpip__model m;
    struct jpip__err err;
    ASSERT_OK(parse(&m, "[0],P3:40,H*", JPIP__MODEL_FIELD_NEED, &err));
    ASSERT_EQ_INT(m.n, 2);
    jpip__model_free(&m);
    ASSERT_EQ_INT(parse(&m, "Hm,-P3", JPIP__MODEL_FIELD_NEED, &err), JPIP_EMALFORMED);
    ASSERT_STR_EQ(err.msg, "need: '-' is not allowed in need= at offset 3");
    ASSERT_EQ_INT(m.n, 0);
}

TEST(malformed)
{
    static const struct {
        const char *in;
        const char *msg;
    } cases[] = {
        {"", "model: expected a bin descriptor at offset 0"},
        {"Hm,", "model: expected a bin descriptor at offset 3"},
        {"[0]", "model: no bin descriptor at offset 3"},
        {"X1", "model: expected a bin descriptor at offset 0"},
        {"P", "model: expected a number, found the end at offset 1"},
        {"P9-3", "model: range end before its start at offset 3"},
        {"H0:L2", "model: layer counts apply to precincts only at offset 4"},
        {"t1:20", "model: implicit descriptors take ':L<layers>' only at offset 3"},
        {"c1t1", "model: unexpected 't' at offset 2"},
        {"[0,1],Hm", "model: expected ']', found ',' at offset 2"},
        {"[],Hm", "model: expected a number, found ']' at offset 1"},
        {"[2-1],Hm", "model: range end before its start at offset 3"},
        {"[4294967296],Hm", "model: number larger than 4294967295 at offset 1"},
        {"P18446744073709551616", "model: number larger than"},
        {"Hm5", "model: unexpected '5' at offset 2"},
        {"--P1", "model: expected a bin descriptor at offset 1"},
        {"P1:", "model: expected a number, found the end at offset 3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct jpip__model m;
        struct jpip__err err;
        ASSERT_EQ_INT(parse(&m, cases[i].in, JPIP__MODEL_FIELD_MODEL, &err), JPIP_EMALFORMED);
        ASSERT_STR_CONTAINS(err.msg, cases[i].msg);
        ASSERT_EQ_INT(m.n, 0);
        ASSERT_TRUE(m.items == NULL && m.quals == NULL);
    }
}

TEST(limits_and_equality)
{
    struct jpip__model a, b;
    struct jpip__err err;
    ASSERT_EQ_INT(jpip__model_parse(&a, "P1,P2,P3", 8, JPIP__MODEL_FIELD_MODEL, 2, NULL, &err),
                  JPIP_ELIMIT);
    ASSERT_STR_CONTAINS(err.msg, "more than 2 descriptors");
    ASSERT_OK(parse(&a, "[0],P1,[0],P2", JPIP__MODEL_FIELD_MODEL, &err));
    ASSERT_OK(parse(&b, "[0],P1,P2", JPIP__MODEL_FIELD_MODEL, &err));
    ASSERT_TRUE(jpip__model_equal(&a, &b));
    jpip__model_free(&b);
    ASSERT_OK(parse(&b, "[1],P1,P2", JPIP__MODEL_FIELD_MODEL, &err));
    ASSERT_TRUE(!jpip__model_equal(&a, &b));
    jpip__model_free(&b);
    ASSERT_OK(parse(&b, "[0],P1,P2:0", JPIP__MODEL_FIELD_MODEL, &err));
    ASSERT_TRUE(!jpip__model_equal(&a, &b));
    jpip__model_free(&b);
    jpip__model_free(&a);
}

RUN_TESTS()
