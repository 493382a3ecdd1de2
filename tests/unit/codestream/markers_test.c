/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for lib/codestream/markers.c: SIZ (limits on components, sizes, tiles, origins), COD
 * and COC with and without precincts, COC and POC with 1- and 2-byte component indices, the
 * precedence of tile COC > tile COD > main COC > main COD, POC lists, opaque QCD/QCC, SOT,
 * marker-only codes, and truncation of every segment (JPIP_EMALFORMED naming an offset).
 */
#include "codestream/cs.h"
#include "cs_builder.h"
#include "test.h"

static const struct csb_spco spco_default = {5, 6, 6, 0, 1, NULL};

/* SOC, SIZ (w x h, one tile of tw x th unless 0), COD, QCD. */
static void main_header(struct csb *b, uint32_t w, uint32_t h, uint16_t csiz)
{
    csb_u16(b, 0xFF4F);
    struct csb_siz s = {0, w, h, 0, 0, w, h, 0, 0, csiz, NULL, NULL, 8};
    csb_siz(b, &s);
    csb_cod(b, 0, 0, 3, 0, &spco_default);
    csb_qcd(b, 5);
}

static int parse(const struct csb *b, struct jpip__mainhdr *mh, struct jpip__err *err)
{
    jpip__err_clear(err);
    return jpip__mainhdr_parse(mh, b->d, b->n, 0, NULL, err);
}

/* Parse a header made of SOC + the given SIZ + COD + QCD; returns the status. */
static int parse_siz(const struct csb_siz *s, struct jpip__err *err)
{
    struct csb b = {0};
    csb_u16(&b, 0xFF4F);
    csb_siz(&b, s);
    csb_cod(&b, 0, 0, 1, 0, &spco_default);
    csb_qcd(&b, 5);
    struct jpip__mainhdr mh;
    int rc = parse(&b, &mh, err);
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&b);
    return rc;
}

TEST(siz_valid)
{
    struct csb b = {0};
    csb_u16(&b, 0xFF4F);
    const uint8_t dx[3] = {1, 2, 3}, dy[3] = {1, 2, 7};
    struct csb_siz s = {0, 1000, 700, 10, 20, 256, 128, 5, 15, 3, dx, dy, 12};
    csb_siz(&b, &s);
    csb_cod(&b, 6, 2, 4, 1, &spco_default);
    csb_qcd(&b, 5);
    struct jpip__mainhdr mh;
    struct jpip__err err;
    ASSERT_OK(parse(&b, &mh, &err));
    ASSERT_EQ_U64(mh.siz.xsiz, 1000);
    ASSERT_EQ_U64(mh.siz.yosiz, 20);
    ASSERT_EQ_U64(mh.siz.xtosiz, 5);
    ASSERT_EQ_U64(mh.siz.ntx, 4); /* ceil((1000 - 5) / 256) */
    ASSERT_EQ_U64(mh.siz.nty, 6); /* ceil((700 - 15) / 128) */
    ASSERT_EQ_U64(mh.siz.ntiles, 24);
    ASSERT_EQ_U64(mh.siz.csiz, 3);
    ASSERT_EQ_U64(mh.siz.comp[2].dx, 3);
    ASSERT_EQ_U64(mh.siz.comp[2].dy, 7);
    ASSERT_EQ_U64(mh.siz.comp[1].depth, 12);
    ASSERT_EQ_U64(mh.cod.scod, 6);
    ASSERT_EQ_U64(mh.cod.prog, 2);
    ASSERT_EQ_U64(mh.cod.layers, 4);
    ASSERT_EQ_U64(mh.cod.mct, 1);
    ASSERT_EQ_U64(mh.cod.tccp[2].nl, 5);
    ASSERT_EQ_U64(mh.cod.tccp[2].xcb, 6);
    ASSERT_EQ_U64(mh.cod.tccp[0].ppx[5], 15);
    ASSERT_EQ_U64(mh.cod.tccp[0].user_prec, 0);
    ASSERT_EQ_U64(mh.markers.n, 3);
    ASSERT_EQ_U64(mh.markers.v[0].code, JPIP_MK_SIZ);
    ASSERT_EQ_U64(mh.markers.v[0].off, 2);
    ASSERT_EQ_U64(mh.markers.v[0].len, 2 + 38 + 9); /* code + Lsiz */
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&b);
}

TEST(siz_component_counts)
{
    struct jpip__err err;
    struct csb_siz s = {0, 64, 64, 0, 0, 64, 64, 0, 0, 33, NULL, NULL, 8};
    ASSERT_OK(parse_siz(&s, &err));
    s.csiz = 16384; /* Lsiz = 38 + 3 * 16384 = 49190 still fits */
    ASSERT_OK(parse_siz(&s, &err));
    s.csiz = 16385;
    ASSERT_EQ_INT(parse_siz(&s, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "offset 2");
    ASSERT_STR_CONTAINS(err.msg, "16385 components");
    s.csiz = 0;
    ASSERT_EQ_INT(parse_siz(&s, &err), JPIP_EMALFORMED);

    /* Csiz 16384 with the segment length of 3 components: the length must match. */
    struct csb b = {0};
    csb_u16(&b, 0xFF4F);
    struct csb_siz t = {0, 64, 64, 0, 0, 64, 64, 0, 0, 3, NULL, NULL, 8};
    csb_siz(&b, &t);
    csb_set_u16(&b, 2 + 2 + 36, 16384); /* Csiz field */
    csb_cod(&b, 0, 0, 1, 0, &spco_default);
    csb_qcd(&b, 5);
    struct jpip__mainhdr mh;
    ASSERT_EQ_INT(parse(&b, &mh, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "does not match");
    ASSERT_STR_CONTAINS(err.msg, "offset 2");
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&b);
}

TEST(siz_extreme_sizes)
{
    struct jpip__err err;
    /* 2^32 - 1 wide, one tile. */
    struct csb_siz s = {0, UINT32_MAX, 1, 0, 0, UINT32_MAX, 1, 0, 0, 1, NULL, NULL, 8};
    ASSERT_OK(parse_siz(&s, &err));
    /* ... with 1x1 tiles: 2^32 - 1 tiles, over the 65535 limit. */
    s.xtsiz = s.ytsiz = 1;
    ASSERT_EQ_INT(parse_siz(&s, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "tiles");
    ASSERT_STR_CONTAINS(err.msg, "offset");
    /* 65535 tiles exactly is fine. */
    struct csb_siz u = {0, 65535, 1, 0, 0, 1, 1, 0, 0, 1, NULL, NULL, 8};
    ASSERT_OK(parse_siz(&u, &err));
    u.xsiz = 65536;
    ASSERT_EQ_INT(parse_siz(&u, &err), JPIP_EMALFORMED);
    /* Origin at the far end: a 1x1 image at (2^32 - 2, 2^32 - 2). */
    struct csb_siz v = {0,
                        UINT32_MAX,
                        UINT32_MAX,
                        UINT32_MAX - 1,
                        UINT32_MAX - 1,
                        1,
                        1,
                        UINT32_MAX - 1,
                        UINT32_MAX - 1,
                        1,
                        NULL,
                        NULL,
                        8};
    ASSERT_OK(parse_siz(&v, &err));
}

TEST(siz_invalid_geometry)
{
    struct jpip__err err;
    struct csb_siz s = {0, 64, 64, 0, 0, 0, 64, 0, 0, 1, NULL, NULL, 8};
    ASSERT_EQ_INT(parse_siz(&s, &err), JPIP_EMALFORMED); /* zero tile width */
    ASSERT_STR_CONTAINS(err.msg, "zero tile size");
    s.xtsiz = 64;
    s.ytsiz = 0;
    ASSERT_EQ_INT(parse_siz(&s, &err), JPIP_EMALFORMED);
    /* Tile origin beyond the image origin. */
    struct csb_siz t = {0, 64, 64, 4, 4, 16, 16, 5, 0, 1, NULL, NULL, 8};
    ASSERT_EQ_INT(parse_siz(&t, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "origin");
    t.xtosiz = 0;
    t.ytosiz = 5;
    ASSERT_EQ_INT(parse_siz(&t, &err), JPIP_EMALFORMED);
    /* First tile ends before the image starts. */
    struct csb_siz u = {0, 64, 64, 20, 0, 16, 16, 0, 0, 1, NULL, NULL, 8};
    ASSERT_EQ_INT(parse_siz(&u, &err), JPIP_EMALFORMED);
    /* Empty image area. */
    struct csb_siz v = {0, 10, 64, 10, 0, 16, 16, 0, 0, 1, NULL, NULL, 8};
    ASSERT_EQ_INT(parse_siz(&v, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "empty");
    /* Subsampling 0 and depth 39. */
    const uint8_t zero[1] = {0};
    struct csb_siz w = {0, 64, 64, 0, 0, 64, 64, 0, 0, 1, zero, NULL, 8};
    ASSERT_EQ_INT(parse_siz(&w, &err), JPIP_EMALFORMED);
    struct csb_siz x = {0, 64, 64, 0, 0, 64, 64, 0, 0, 1, NULL, NULL, 39};
    ASSERT_EQ_INT(parse_siz(&x, &err), JPIP_EMALFORMED);
    struct csb_siz y = {0, 64, 64, 0, 0, 64, 64, 0, 0, 1, NULL, NULL, 38};
    ASSERT_OK(parse_siz(&y, &err));
}

TEST(cod_with_and_without_precincts)
{
    struct csb b = {0};
    csb_u16(&b, 0xFF4F);
    struct csb_siz s = {0, 64, 64, 0, 0, 64, 64, 0, 0, 1, NULL, NULL, 8};
    csb_siz(&b, &s);
    const uint8_t prec[4] = {0x00, 0x21, 0x43, 0xFF};
    const struct csb_spco sp = {3, 4, 5, JPIP_CBLK_BYPASS, 0, prec};
    csb_cod(&b, 0, 4, 1, 0, &sp);
    csb_qcd(&b, 3);
    struct jpip__mainhdr mh;
    struct jpip__err err;
    ASSERT_OK(parse(&b, &mh, &err));
    const struct jpip__tccp *t = &mh.cod.tccp[0];
    ASSERT_EQ_U64(mh.cod.scod & 1, 1);
    ASSERT_EQ_U64(t->user_prec, 1);
    ASSERT_EQ_U64(t->nl, 3);
    ASSERT_EQ_U64(t->xcb, 4);
    ASSERT_EQ_U64(t->ycb, 5);
    ASSERT_EQ_U64(t->cblk_style, JPIP_CBLK_BYPASS);
    ASSERT_EQ_U64(t->wavelet, 0);
    ASSERT_EQ_U64(t->ppx[0], 0); /* PPx = 0 is allowed at resolution 0 */
    ASSERT_EQ_U64(t->ppy[0], 0);
    ASSERT_EQ_U64(t->ppx[1], 1);
    ASSERT_EQ_U64(t->ppy[1], 2);
    ASSERT_EQ_U64(t->ppx[2], 3);
    ASSERT_EQ_U64(t->ppy[2], 4);
    ASSERT_EQ_U64(t->ppx[3], 15);
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&b);

    /* PPx = 0 above resolution 0 is invalid. */
    const uint8_t bad[2] = {0x11, 0x10};
    const struct csb_spco sp2 = {1, 6, 6, 0, 1, bad};
    struct csb c = {0};
    csb_u16(&c, 0xFF4F);
    csb_siz(&c, &s);
    csb_cod(&c, 0, 0, 1, 0, &sp2);
    csb_qcd(&c, 1);
    ASSERT_EQ_INT(parse(&c, &mh, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "precinct exponent 0");
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&c);
}

TEST(cod_invalid_fields)
{
    struct csb_siz s = {0, 64, 64, 0, 0, 64, 64, 0, 0, 1, NULL, NULL, 8};
    struct {
        uint8_t scod, prog;
        uint16_t layers;
        struct csb_spco sp;
        int rc;
    } cases[] = {
        {0, 5, 1, {5, 6, 6, 0, 1, NULL}, JPIP_EMALFORMED},   /* progression 5 */
        {0, 0, 0, {5, 6, 6, 0, 1, NULL}, JPIP_EMALFORMED},   /* zero layers */
        {8, 0, 1, {5, 6, 6, 0, 1, NULL}, JPIP_EUNSUPPORTED}, /* Part 2 Scod bit */
        {0, 0, 1, {33, 6, 6, 0, 1, NULL}, JPIP_EMALFORMED},  /* 33 levels */
        {0, 0, 1, {5, 11, 2, 0, 1, NULL}, JPIP_EMALFORMED},  /* xcb 11 */
        {0, 0, 1, {5, 6, 7, 0, 1, NULL}, JPIP_EMALFORMED},   /* xcb + ycb > 12 */
        {0, 0, 1, {5, 6, 6, 0, 2, NULL}, JPIP_EUNSUPPORTED}, /* Part 2 kernel */
        {0, 0, 1, {32, 2, 2, 0, 1, NULL}, JPIP_OK},          /* 32 levels */
        {0, 0, 65535, {0, 10, 2, 0xFF, 0, NULL}, JPIP_OK},   /* 0 levels, all styles */
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct csb b = {0};
        csb_u16(&b, 0xFF4F);
        csb_siz(&b, &s);
        csb_cod(&b, cases[i].scod, cases[i].prog, cases[i].layers, 0, &cases[i].sp);
        csb_qcd(&b, 1);
        struct jpip__mainhdr mh;
        struct jpip__err err;
        int rc = parse(&b, &mh, &err);
        jpip__mainhdr_free(&mh, NULL);
        csb_free(&b);
        if (rc != cases[i].rc)
            TEST_FAIL_AT("case %u: %d, expected %d (%s)", i, rc, cases[i].rc, err.msg);
        if (rc != JPIP_OK)
            ASSERT_STR_CONTAINS(err.msg, "offset 45"); /* SOC 2 + SIZ 2 + 41 */
    }
}

TEST(coc_one_and_two_byte_index)
{
    const struct csb_spco sp = {2, 4, 4, JPIP_CBLK_TERMALL, 0, NULL};
    for (int wide = 0; wide < 2; wide++) {
        const uint16_t csiz = wide ? 300 : 3;
        const uint16_t comp = wide ? 299 : 2;
        struct csb b = {0};
        main_header(&b, 64, 64, csiz);
        csb_coc(&b, csiz, comp, &sp);
        struct jpip__mainhdr mh;
        struct jpip__err err;
        ASSERT_OK(parse(&b, &mh, &err));
        ASSERT_EQ_U64(mh.cod.tccp[comp].nl, 2);
        ASSERT_EQ_U64(mh.cod.tccp[comp].xcb, 4);
        ASSERT_EQ_U64(mh.cod.tccp[comp].cblk_style, JPIP_CBLK_TERMALL);
        ASSERT_EQ_U64(mh.cod.coc_set[comp], 1);
        ASSERT_EQ_U64(mh.cod.tccp[0].nl, 5);
        ASSERT_EQ_U64(mh.cod.coc_set[0], 0);
        jpip__mainhdr_free(&mh, NULL);
        csb_free(&b);

        /* Component index out of range. */
        struct csb c = {0};
        main_header(&c, 64, 64, csiz);
        csb_coc(&c, csiz, csiz, &sp);
        ASSERT_EQ_INT(parse(&c, &mh, &err), JPIP_EMALFORMED);
        ASSERT_STR_CONTAINS(err.msg, "names component");
        jpip__mainhdr_free(&mh, NULL);
        csb_free(&c);
    }
    /* Csiz 256 still uses one byte; 257 uses two. */
    for (uint16_t csiz = 256; csiz <= 257; csiz++) {
        struct csb b = {0};
        main_header(&b, 16, 16, csiz);
        csb_coc(&b, csiz, 255, &sp);
        struct jpip__mainhdr mh;
        struct jpip__err err;
        ASSERT_OK(parse(&b, &mh, &err));
        ASSERT_EQ_U64(mh.cod.tccp[255].nl, 2);
        jpip__mainhdr_free(&mh, NULL);
        csb_free(&b);
    }
}

TEST(main_coc_before_cod_survives)
{
    /* A main COC placed before the COD is not overridden by it. */
    struct csb b = {0};
    csb_u16(&b, 0xFF4F);
    struct csb_siz s = {0, 64, 64, 0, 0, 64, 64, 0, 0, 2, NULL, NULL, 8};
    csb_siz(&b, &s);
    const struct csb_spco sp = {1, 4, 4, 0, 1, NULL};
    csb_coc(&b, 2, 1, &sp);
    csb_cod(&b, 0, 0, 1, 0, &spco_default);
    csb_qcd(&b, 5);
    struct jpip__mainhdr mh;
    struct jpip__err err;
    ASSERT_OK(parse(&b, &mh, &err));
    ASSERT_EQ_U64(mh.cod.tccp[0].nl, 5);
    ASSERT_EQ_U64(mh.cod.tccp[1].nl, 1);
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&b);
}

/* Apply a tile-part header to a copy of the main coding parameters. */
static int apply(const struct jpip__mainhdr *mh, const struct csb *tile, int first_tp,
                 struct jpip__coding *out, int *has_poc, struct jpip__err *err)
{
    if (jpip__coding_copy(out, &mh->cod, mh->siz.csiz, NULL) != JPIP_OK)
        abort();
    jpip__err_clear(err);
    return jpip__tilehdr_apply(out, has_poc, &mh->siz, tile->d, tile->n, 1000, first_tp, NULL, err);
}

TEST(precedence_tile_coc_cod_main_coc_cod)
{
    /* 4 components. Main: COD nl 5, COC(1) nl 3, COC(3) nl 1. Tile: COC(2) nl 2 before its
     * COD nl 4, COC(3) nl 0 after it. Result: 0 -> 4 (tile COD), 1 -> 4 (tile COD beats main
     * COC), 2 -> 2 (tile COC beats tile COD whatever the order), 3 -> 0 (tile COC). */
    struct csb b = {0};
    main_header(&b, 64, 64, 4);
    struct csb_spco sp = {3, 4, 4, 0, 1, NULL};
    csb_coc(&b, 4, 1, &sp);
    sp.nl = 1;
    csb_coc(&b, 4, 3, &sp);
    struct jpip__mainhdr mh;
    struct jpip__err err;
    ASSERT_OK(parse(&b, &mh, &err));
    ASSERT_EQ_U64(mh.cod.tccp[0].nl, 5);
    ASSERT_EQ_U64(mh.cod.tccp[1].nl, 3);
    ASSERT_EQ_U64(mh.cod.tccp[3].nl, 1);

    struct csb t = {0};
    sp.nl = 2;
    csb_coc(&t, 4, 2, &sp);
    const struct csb_spco tcod = {4, 5, 5, 0, 0, NULL};
    csb_cod(&t, 2, 3, 7, 1, &tcod);
    sp.nl = 0;
    csb_coc(&t, 4, 3, &sp);
    csb_u16(&t, 0xFF5D); /* QCC: opaque */
    csb_u16(&t, 5);
    csb_u8(&t, 0);
    csb_u16(&t, 0x4242);
    struct jpip__coding tc;
    int has_poc = 0;
    ASSERT_OK(apply(&mh, &t, 1, &tc, &has_poc, &err));
    ASSERT_EQ_U64(tc.tccp[0].nl, 4);
    ASSERT_EQ_U64(tc.tccp[0].xcb, 5);
    ASSERT_EQ_U64(tc.tccp[1].nl, 4);
    ASSERT_EQ_U64(tc.tccp[2].nl, 2);
    ASSERT_EQ_U64(tc.tccp[3].nl, 0);
    ASSERT_EQ_U64(tc.prog, 3);
    ASSERT_EQ_U64(tc.layers, 7);
    ASSERT_EQ_U64(tc.scod, 2);
    ASSERT_EQ_U64(has_poc, 0);
    jpip__coding_free(&tc, NULL);

    /* A tile COD alone keeps nothing of the main COCs. */
    struct csb t2 = {0};
    csb_cod(&t2, 0, 0, 1, 0, &tcod);
    ASSERT_OK(apply(&mh, &t2, 1, &tc, &has_poc, &err));
    for (unsigned c = 0; c < 4; c++)
        ASSERT_EQ_U64(tc.tccp[c].nl, 4);
    jpip__coding_free(&tc, NULL);
    /* ... and is refused in a later tile-part, as is COC. */
    ASSERT_EQ_INT(apply(&mh, &t2, 0, &tc, &has_poc, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "offset 1000");
    jpip__coding_free(&tc, NULL);
    struct csb t3 = {0};
    csb_coc(&t3, 4, 0, &sp);
    ASSERT_EQ_INT(apply(&mh, &t3, 0, &tc, &has_poc, &err), JPIP_EMALFORMED);
    jpip__coding_free(&tc, NULL);
    /* No tile header: the main parameters per component. */
    struct csb none = {0};
    ASSERT_OK(apply(&mh, &none, 1, &tc, &has_poc, &err));
    ASSERT_EQ_U64(tc.tccp[0].nl, 5);
    ASSERT_EQ_U64(tc.tccp[1].nl, 3);
    jpip__coding_free(&tc, NULL);

    jpip__mainhdr_free(&mh, NULL);
    csb_free(&b);
    csb_free(&t);
    csb_free(&t2);
    csb_free(&t3);
}

TEST(tile_header_forbidden_markers)
{
    struct csb b = {0};
    main_header(&b, 64, 64, 1);
    struct jpip__mainhdr mh;
    struct jpip__err err;
    ASSERT_OK(parse(&b, &mh, &err));
    const uint16_t codes[] = {0xFF51, 0xFF55, 0xFF57, 0xFF60, 0xFF90};
    for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        struct csb t = {0};
        csb_u16(&t, 0xFF64); /* COM first */
        csb_u16(&t, 4);
        csb_u16(&t, 1);
        size_t at = csb_begin(&t, codes[i]);
        for (int k = 0; k < 10; k++)
            csb_u8(&t, 0);
        csb_end(&t, at);
        struct jpip__coding tc;
        int has_poc = 0;
        ASSERT_EQ_INT(apply(&mh, &t, 1, &tc, &has_poc, &err), JPIP_EMALFORMED);
        ASSERT_STR_CONTAINS(err.msg, "offset 1006");
        jpip__coding_free(&tc, NULL);
        csb_free(&t);
    }
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&b);
}

TEST(poc_one_and_two_byte)
{
    for (int wide = 0; wide < 2; wide++) {
        const uint16_t csiz = wide ? 400 : 3;
        struct csb b = {0};
        main_header(&b, 64, 64, csiz);
        const struct csb_poc_entry e[2] = {{0, 2, JPIP_RPCL, 0, 2, 3},
                                           {1, 6, JPIP_CPRL, 1, wide ? 400 : 0, 65535}};
        csb_poc(&b, csiz, e, 2);
        struct jpip__mainhdr mh;
        struct jpip__err err;
        ASSERT_OK(parse(&b, &mh, &err));
        ASSERT_EQ_U64(mh.cod.npoc, 2);
        ASSERT_EQ_U64(mh.cod.poc[0].rs, 0);
        ASSERT_EQ_U64(mh.cod.poc[0].re, 2);
        ASSERT_EQ_U64(mh.cod.poc[0].cs, 0);
        ASSERT_EQ_U64(mh.cod.poc[0].ce, 2);
        ASSERT_EQ_U64(mh.cod.poc[0].lye, 3);
        ASSERT_EQ_U64(mh.cod.poc[0].prog, JPIP_RPCL);
        ASSERT_EQ_U64(mh.cod.poc[1].rs, 1);
        ASSERT_EQ_U64(mh.cod.poc[1].re, 6);
        ASSERT_EQ_U64(mh.cod.poc[1].cs, 1);
        ASSERT_EQ_U64(mh.cod.poc[1].ce, wide ? 400 : 256); /* CEpoc 0 means 256 */
        ASSERT_EQ_U64(mh.cod.poc[1].lye, 65535);
        ASSERT_EQ_U64(mh.cod.poc[1].prog, JPIP_CPRL);

        /* Tile POCs: the first replaces the main list, the next ones append. */
        struct csb t = {0};
        csb_poc(&t, csiz, e, 1);
        csb_poc(&t, csiz, e + 1, 1);
        struct jpip__coding tc;
        int has_poc = 0;
        ASSERT_OK(apply(&mh, &t, 1, &tc, &has_poc, &err));
        ASSERT_EQ_U64(has_poc, 1);
        ASSERT_EQ_U64(tc.npoc, 2);
        struct csb t2 = {0};
        csb_poc(&t2, csiz, e, 1);
        ASSERT_OK(jpip__tilehdr_apply(&tc, &has_poc, &mh.siz, t2.d, t2.n, 0, 0, NULL, &err));
        ASSERT_EQ_U64(tc.npoc, 3);
        ASSERT_EQ_U64(tc.poc[2].prog, JPIP_RPCL);
        jpip__coding_free(&tc, NULL);

        jpip__mainhdr_free(&mh, NULL);
        csb_free(&b);
        csb_free(&t);
        csb_free(&t2);
    }
}

TEST(poc_bad_lengths)
{
    struct csb b = {0};
    main_header(&b, 64, 64, 3);
    size_t at = csb_begin(&b, 0xFF5F);
    for (int i = 0; i < 8; i++) /* 8 bytes: not a multiple of 7 */
        csb_u8(&b, 0);
    csb_end(&b, at);
    struct jpip__mainhdr mh;
    struct jpip__err err;
    ASSERT_EQ_INT(parse(&b, &mh, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "POC at offset");
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&b);
    /* Empty POC; and an order of 5. */
    struct csb c = {0};
    main_header(&c, 64, 64, 3);
    csb_u16(&c, 0xFF5F);
    csb_u16(&c, 2);
    ASSERT_EQ_INT(parse(&c, &mh, &err), JPIP_EMALFORMED);
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&c);
    struct csb d = {0};
    main_header(&d, 64, 64, 3);
    const struct csb_poc_entry e = {0, 1, 5, 0, 1, 1};
    csb_poc(&d, 3, &e, 1);
    ASSERT_EQ_INT(parse(&d, &mh, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "progression order 5");
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&d);
}

TEST(opaque_segments_and_marker_only_codes)
{
    struct csb b = {0};
    main_header(&b, 64, 64, 2);
    csb_u16(&b, 0xFF30); /* marker-only codes: no length */
    csb_u16(&b, 0xFF3F);
    csb_u16(&b, 0xFF5D); /* QCC */
    csb_u16(&b, 5);
    csb_u8(&b, 1);
    csb_u16(&b, 0x4848);
    csb_u16(&b, 0xFF5E); /* RGN */
    csb_u16(&b, 5);
    csb_u8(&b, 0);
    csb_u8(&b, 0);
    csb_u8(&b, 3);
    csb_u16(&b, 0xFF64); /* COM */
    csb_u16(&b, 6);
    csb_u16(&b, 1);
    csb_u16(&b, 0x4142);
    csb_u16(&b, 0xFF74); /* a Part 2 segment (MCT): kept opaque */
    csb_u16(&b, 3);
    csb_u8(&b, 9);
    struct jpip__mainhdr mh;
    struct jpip__err err;
    ASSERT_OK(parse(&b, &mh, &err));
    ASSERT_EQ_U64(mh.markers.n, 3 + 2 + 4);
    ASSERT_EQ_U64(mh.markers.v[3].code, 0xFF30);
    ASSERT_EQ_U64(mh.markers.v[3].len, 2);
    ASSERT_EQ_U64(mh.markers.v[4].code, 0xFF3F);
    ASSERT_EQ_U64(mh.markers.v[5].code, JPIP_MK_QCC);
    ASSERT_EQ_U64(mh.markers.v[5].len, 7);
    ASSERT_EQ_U64(mh.markers.v[8].code, 0xFF74);
    ASSERT_EQ_U64(mh.markers.v[8].off + mh.markers.v[8].len, b.n);
    ASSERT_EQ_U64(mh.qcd_style, 0);
    ASSERT_EQ_U64(mh.qcd_guard_bits, 2);
    ASSERT_EQ_U64(mh.has_qcd, 1);
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&b);
}

TEST(main_header_structure_errors)
{
    struct jpip__mainhdr mh;
    struct jpip__err err;
    /* Missing COD, missing QCD, second SIZ, second COD, SOT/PLT in the main header, no SOC. */
    struct csb b = {0};
    csb_u16(&b, 0xFF4F);
    struct csb_siz s = {0, 64, 64, 0, 0, 64, 64, 0, 0, 1, NULL, NULL, 8};
    csb_siz(&b, &s);
    csb_qcd(&b, 5);
    ASSERT_EQ_INT(parse(&b, &mh, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "no COD");
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&b);

    struct csb c = {0};
    csb_u16(&c, 0xFF4F);
    csb_siz(&c, &s);
    csb_cod(&c, 0, 0, 1, 0, &spco_default);
    ASSERT_EQ_INT(parse(&c, &mh, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "no QCD");
    jpip__mainhdr_free(&mh, NULL);
    csb_siz(&c, &s);
    ASSERT_EQ_INT(parse(&c, &mh, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "second SIZ");
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&c);

    struct csb d = {0};
    main_header(&d, 64, 64, 1);
    csb_cod(&d, 0, 0, 1, 0, &spco_default);
    ASSERT_EQ_INT(parse(&d, &mh, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "second COD");
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&d);

    const uint16_t forbidden[] = {0xFF58, 0xFF61, 0xFF90, 0xFF93, 0xFFD9};
    for (unsigned i = 0; i < 5; i++) {
        struct csb e = {0};
        main_header(&e, 64, 64, 1);
        size_t at = csb_begin(&e, forbidden[i]);
        csb_u16(&e, 0);
        csb_end(&e, at);
        ASSERT_EQ_INT(parse(&e, &mh, &err), JPIP_EMALFORMED);
        ASSERT_STR_CONTAINS(err.msg, "not allowed");
        jpip__mainhdr_free(&mh, NULL);
        csb_free(&e);
    }

    struct csb f = {0};
    csb_u16(&f, 0xFF4E);
    ASSERT_EQ_INT(parse(&f, &mh, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "SOC");
    jpip__mainhdr_free(&mh, NULL);
    /* COD first: SIZ must follow SOC. */
    csb_free(&f);
    csb_u16(&f, 0xFF4F);
    csb_cod(&f, 0, 0, 1, 0, &spco_default);
    csb_siz(&f, &s);
    csb_qcd(&f, 5);
    ASSERT_EQ_INT(parse(&f, &mh, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "SIZ must follow SOC");
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&f);
    /* Not a marker where one is expected; a length below 2. */
    struct csb g = {0};
    main_header(&g, 64, 64, 1);
    csb_u16(&g, 0x1234);
    csb_u16(&g, 4);
    ASSERT_EQ_INT(parse(&g, &mh, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "expected a marker");
    jpip__mainhdr_free(&mh, NULL);
    g.n -= 4;
    csb_u16(&g, 0xFF64);
    csb_u16(&g, 1);
    ASSERT_EQ_INT(parse(&g, &mh, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "length 1");
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&g);
}

TEST(truncated_main_header_everywhere)
{
    /* Every cut of a header rich in segment kinds fails with an offset in the message. */
    struct csb b = {0};
    csb_u16(&b, 0xFF4F);
    struct csb_siz s = {0, 640, 480, 3, 4, 128, 128, 0, 0, 300, NULL, NULL, 8};
    csb_siz(&b, &s);
    const uint8_t prec[4] = {0x44, 0x55, 0x66, 0x77};
    const struct csb_spco sp = {3, 5, 5, 0, 1, prec};
    csb_coc(&b, 300, 299, &sp);
    const struct csb_poc_entry e = {0, 4, 1, 0, 300, 2};
    csb_poc(&b, 300, &e, 1);
    csb_u16(&b, 0xFF30);
    csb_u16(&b, 0xFF64);
    csb_u16(&b, 5);
    csb_u16(&b, 1);
    csb_u8(&b, 'x');
    csb_cod(&b, 6, 2, 3, 1, &sp);
    csb_qcd(&b, 3);
    struct jpip__mainhdr mh;
    struct jpip__err err;
    ASSERT_OK(parse(&b, &mh, &err));
    jpip__mainhdr_free(&mh, NULL);
    for (size_t cut = 0; cut < b.n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        if (!copy)
            abort();
        memcpy(copy, b.d, cut);
        jpip__err_clear(&err);
        int rc = jpip__mainhdr_parse(&mh, copy, cut, 100, NULL, &err);
        jpip__mainhdr_free(&mh, NULL);
        free(copy);
        if (rc != JPIP_EMALFORMED || !strstr(err.msg, "offset"))
            TEST_FAIL_AT("cut at %zu: %d \"%s\"", cut, rc, err.msg);
    }
    csb_free(&b);
}

TEST(truncated_segments_in_tile_header)
{
    struct csb b = {0};
    main_header(&b, 64, 64, 3);
    struct jpip__mainhdr mh;
    struct jpip__err err;
    ASSERT_OK(parse(&b, &mh, &err));
    /* A tile header: COD with precincts, COC, POC, QCC, PLT, COM. Cut inside each segment. */
    struct csb t = {0};
    const uint8_t prec[3] = {0x44, 0x55, 0x66};
    const struct csb_spco sp = {2, 5, 5, 0, 1, prec};
    csb_cod(&t, 0, 1, 2, 0, &sp);
    csb_coc(&t, 3, 1, &sp);
    const struct csb_poc_entry e = {0, 3, 1, 0, 3, 2};
    csb_poc(&t, 3, &e, 1);
    csb_u16(&t, 0xFF58);
    csb_u16(&t, 5);
    csb_u8(&t, 0);
    csb_u16(&t, 0x8101);
    struct jpip__coding tc;
    int has_poc = 0;
    ASSERT_OK(apply(&mh, &t, 1, &tc, &has_poc, &err));
    jpip__coding_free(&tc, NULL);
    for (size_t cut = 1; cut < t.n; cut++) {
        struct csb c = {0};
        csb_put(&c, t.d, cut);
        has_poc = 0;
        int rc = apply(&mh, &c, 1, &tc, &has_poc, &err);
        jpip__coding_free(&tc, NULL);
        csb_free(&c);
        /* Cuts at segment boundaries are whole (shorter) headers. */
        if (rc == JPIP_OK)
            continue;
        if (rc != JPIP_EMALFORMED || !strstr(err.msg, "offset"))
            TEST_FAIL_AT("cut at %zu: %d \"%s\"", cut, rc, err.msg);
    }
    /* Segment bodies too short for their kind, with a consistent length field. */
    const uint16_t codes[] = {0xFF52, 0xFF53, 0xFF5F};
    for (unsigned i = 0; i < 3; i++)
        for (uint16_t body = 0; body < 6; body++) {
            struct csb c = {0};
            size_t at = csb_begin(&c, codes[i]);
            for (uint16_t k = 0; k < body; k++)
                csb_u8(&c, 0);
            csb_end(&c, at);
            has_poc = 0;
            int rc = apply(&mh, &c, 1, &tc, &has_poc, &err);
            jpip__coding_free(&tc, NULL);
            csb_free(&c);
            if (rc != JPIP_EMALFORMED || !strstr(err.msg, "offset 1000"))
                TEST_FAIL_AT("marker %04X body %u: %d \"%s\"", codes[i], body, rc, err.msg);
        }
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&b);
    csb_free(&t);
}

TEST(sot_parse)
{
    const uint8_t p[10] = {0x00, 0x0A, 0x01, 0x02, 0x00, 0x00, 0x12, 0x34, 3, 7};
    struct jpip__sot sot;
    struct jpip__err err;
    jpip__err_clear(&err);
    ASSERT_OK(jpip__sot_parse(&sot, p, 10, 50, &err));
    ASSERT_EQ_U64(sot.isot, 0x0102);
    ASSERT_EQ_U64(sot.psot, 0x1234);
    ASSERT_EQ_U64(sot.tpsot, 3);
    ASSERT_EQ_U64(sot.tnsot, 7);
    for (size_t n = 0; n < 10; n++) {
        ASSERT_EQ_INT(jpip__sot_parse(&sot, p, n, 50, &err), JPIP_EMALFORMED);
        ASSERT_STR_CONTAINS(err.msg, "offset 50");
    }
    const uint8_t q[10] = {0x00, 0x0B, 0, 0, 0, 0, 0, 0, 0, 0};
    ASSERT_EQ_INT(jpip__sot_parse(&sot, q, 10, 60, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "offset 60");
}

TEST(markers_split_lists_segments)
{
    struct csb t = {0};
    csb_u16(&t, 0xFF64);
    csb_u16(&t, 4);
    csb_u16(&t, 0);
    csb_u16(&t, 0xFF31);
    csb_u16(&t, 0xFF58);
    csb_u16(&t, 3);
    csb_u8(&t, 0);
    struct jpip__marker_list l = {0};
    struct jpip__err err;
    ASSERT_OK(jpip__markers_split(&l, t.d, t.n, 0, NULL, &err));
    ASSERT_EQ_U64(l.n, 3);
    ASSERT_EQ_U64(l.v[1].code, 0xFF31);
    ASSERT_EQ_U64(l.v[1].off, 6);
    ASSERT_EQ_U64(l.v[2].off, 8);
    ASSERT_EQ_U64(l.v[2].len, 5);
    jpip__markers_free(&l, NULL);
    /* One byte short, and a segment running past the end. */
    ASSERT_EQ_INT(jpip__markers_split(&l, t.d, t.n - 1, 40, NULL, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "offset 48");
    jpip__markers_free(&l, NULL);
    ASSERT_EQ_INT(jpip__markers_split(&l, t.d, 1, 40, NULL, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "offset 40");
    jpip__markers_free(&l, NULL);
    csb_free(&t);
}

RUN_TESTS()
