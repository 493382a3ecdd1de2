/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for lib/codestream/geometry.c: tiles, tile-components, resolutions, subbands, precinct
 * counts and the code-blocks of each precinct, checked against hand-computed values and against
 * the formulas of 15444-1 B.3 to B.7 written out here with signed arithmetic (one-pixel tiles,
 * image and tile offsets, 33 components, subsampling 3x7, 0 decomposition levels, precincts of
 * one sample at resolution 0 and of two at higher ones, odd band coordinates).
 */
#include "codestream/geometry.h"
#include "cs_builder.h"
#include "test.h"

/* ---- reference formulas --------------------------------------------------------------------- */

static int64_t ref_ceil(int64_t a, int64_t b)
{
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}
static int64_t ref_floor(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}
static int64_t ref_max(int64_t a, int64_t b)
{
    return a > b ? a : b;
}
static int64_t ref_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* B-7 to B-10 */
static void ref_tile(const struct jpip__siz *s, uint32_t t, int64_t r[4])
{
    int64_t p = t % s->ntx, q = t / s->ntx;
    r[0] = ref_max((int64_t)s->xtosiz + p * s->xtsiz, s->xosiz);
    r[1] = ref_max((int64_t)s->ytosiz + q * s->ytsiz, s->yosiz);
    r[2] = ref_min((int64_t)s->xtosiz + (p + 1) * s->xtsiz, s->xsiz);
    r[3] = ref_min((int64_t)s->ytosiz + (q + 1) * s->ytsiz, s->ysiz);
}

/* B-15 for band b (0 LL, 1 HL, 2 LH, 3 HH) at level nb, from tile-component coordinates. */
static void ref_band(const int64_t tc[4], unsigned nb, unsigned band, int64_t r[4])
{
    int64_t xob = band & 1, yob = band >> 1, d = (int64_t)1 << nb;
    int64_t hx = nb ? ((int64_t)1 << (nb - 1)) * xob : 0,
            hy = nb ? ((int64_t)1 << (nb - 1)) * yob : 0;
    r[0] = ref_ceil(tc[0] - hx, d);
    r[1] = ref_ceil(tc[1] - hy, d);
    r[2] = ref_ceil(tc[2] - hx, d);
    r[3] = ref_ceil(tc[3] - hy, d);
}

static int rect_is(const struct jpip__rect *r, int64_t x0, int64_t y0, int64_t x1, int64_t y1)
{
    return r->x0 == x0 && r->y0 == y0 && r->x1 == x1 && r->y1 == y1;
}

static struct jpip__siz make_siz(uint32_t xsiz, uint32_t ysiz, uint32_t xo, uint32_t yo,
                                 uint32_t xt, uint32_t yt, uint32_t xto, uint32_t yto,
                                 struct jpip__comp_siz *comp, uint16_t csiz)
{
    struct jpip__siz s;
    memset(&s, 0, sizeof s);
    s.xsiz = xsiz;
    s.ysiz = ysiz;
    s.xosiz = xo;
    s.yosiz = yo;
    s.xtsiz = xt;
    s.ytsiz = yt;
    s.xtosiz = xto;
    s.ytosiz = yto;
    s.csiz = csiz;
    s.comp = comp;
    s.ntx = (uint32_t)ref_ceil((int64_t)xsiz - xto, xt);
    s.nty = (uint32_t)ref_ceil((int64_t)ysiz - yto, yt);
    s.ntiles = s.ntx * s.nty;
    return s;
}

/* ---- hand-computed cases --------------------------------------------------------------------- */

TEST(one_pixel_tiles)
{
    /* 5x3 image of 1x1 tiles: 15 tiles; with 2 levels most tiles have empty low resolutions. */
    struct jpip__comp_siz c = {8, 0, 1, 1};
    struct jpip__siz s = make_siz(5, 3, 0, 0, 1, 1, 0, 0, &c, 1);
    ASSERT_EQ_U64(s.ntiles, 15);
    struct jpip__rect t, tc, rr;
    jpip__tile_rect(&s, 13, &t); /* p = 3, q = 2 */
    ASSERT_TRUE(rect_is(&t, 3, 2, 4, 3));
    jpip__tilecomp_rect(&s, &t, 0, &tc);
    ASSERT_TRUE(rect_is(&tc, 3, 2, 4, 3));
    jpip__res_rect(&tc, 2, 0, &rr); /* ceil(3/4) = 1 = ceil(4/4): empty */
    ASSERT_TRUE(rect_is(&rr, 1, 1, 1, 1));
    uint32_t npw, nph;
    jpip__prec_count(&rr, 15, 15, &npw, &nph);
    ASSERT_EQ_U64(npw, 0);
    ASSERT_EQ_U64(nph, 0);
    jpip__res_rect(&tc, 2, 2, &rr); /* full resolution: one sample */
    ASSERT_TRUE(rect_is(&rr, 3, 2, 4, 3));
    jpip__prec_count(&rr, 15, 15, &npw, &nph);
    ASSERT_EQ_U64(npw * nph, 1);
    /* Tile 0 (origin) keeps a sample at every resolution. */
    jpip__tile_rect(&s, 0, &t);
    jpip__res_rect(&t, 2, 0, &rr);
    ASSERT_TRUE(rect_is(&rr, 0, 0, 1, 1));
}

TEST(image_and_tile_offsets)
{
    /* Xsiz 50, Ysiz 40, XOsiz 7, YOsiz 3, tiles 10x6 at (5, 1): ntx = ceil(45/10) = 5, nty =
     * ceil(39/6) = 7. Tile 0 = [7,15) x [3,7); tile 4 = [45,50) x [3,7); tile 34 = [45,50) x
     * [37,40). */
    struct jpip__comp_siz c = {8, 0, 1, 1};
    struct jpip__siz s = make_siz(50, 40, 7, 3, 10, 6, 5, 1, &c, 1);
    ASSERT_EQ_U64(s.ntx, 5);
    ASSERT_EQ_U64(s.nty, 7);
    struct jpip__rect t;
    jpip__tile_rect(&s, 0, &t);
    ASSERT_TRUE(rect_is(&t, 7, 3, 15, 7));
    jpip__tile_rect(&s, 4, &t);
    ASSERT_TRUE(rect_is(&t, 45, 3, 50, 7));
    jpip__tile_rect(&s, 34, &t);
    ASSERT_TRUE(rect_is(&t, 45, 37, 50, 40));
    jpip__tile_rect(&s, 6, &t); /* p = 1, q = 1 */
    ASSERT_TRUE(rect_is(&t, 15, 7, 25, 13));
}

TEST(subsampling_3x7)
{
    /* Tile [10,100) x [5,50), XRsiz 3, YRsiz 7: tc = [ceil(10/3), ceil(100/3)) x [ceil(5/7),
     * ceil(50/7)) = [4, 34) x [1, 8). With 3 levels, r = 1: [ceil(4/4), ceil(34/4)) x
     * [ceil(1/4), ceil(8/4)) = [1, 9) x [1, 2). */
    struct jpip__comp_siz c[2] = {{8, 0, 1, 1}, {8, 0, 3, 7}};
    struct jpip__siz s = make_siz(100, 50, 10, 5, 100, 50, 0, 0, c, 2);
    struct jpip__rect t, tc, rr;
    jpip__tile_rect(&s, 0, &t);
    ASSERT_TRUE(rect_is(&t, 10, 5, 100, 50));
    jpip__tilecomp_rect(&s, &t, 1, &tc);
    ASSERT_TRUE(rect_is(&tc, 4, 1, 34, 8));
    jpip__res_rect(&tc, 3, 1, &rr);
    ASSERT_TRUE(rect_is(&rr, 1, 1, 9, 2));
    jpip__tilecomp_rect(&s, &t, 0, &tc);
    ASSERT_TRUE(rect_is(&tc, 10, 5, 100, 50));
}

TEST(bands_odd_coordinates)
{
    /* tc = [3, 14) x [5, 6), 2 levels. r = 0 (LL, nb = 2): [1, 4) x [2, 2).
     * r = 1 (nb = 2): HL x = [ceil(1/4), ceil(12/4)) = [1, 3); LH x = [1, 4);
     *                 HL y = [ceil(5/4), ceil(6/4)) = [2, 2); LH y = [ceil(3/4), ceil(4/4)) = [1,
     * 1). r = 2 (nb = 1): HL x = [ceil(2/2), ceil(13/2)) = [1, 7); LH x = [2, 7); LH y =
     * [ceil(4/2), ceil(5/2)) = [2, 3); HL y = [3, 3). */
    const struct jpip__rect tc = {3, 5, 14, 6};
    struct jpip__rect b;
    jpip__band_rect(&tc, 2, 0, 0, &b);
    ASSERT_TRUE(rect_is(&b, 1, 2, 4, 2));
    jpip__band_rect(&tc, 2, 1, 1, &b);
    ASSERT_TRUE(rect_is(&b, 1, 2, 3, 2));
    jpip__band_rect(&tc, 2, 1, 2, &b);
    ASSERT_TRUE(rect_is(&b, 1, 1, 4, 1));
    jpip__band_rect(&tc, 2, 2, 1, &b);
    ASSERT_TRUE(rect_is(&b, 1, 3, 7, 3));
    jpip__band_rect(&tc, 2, 2, 2, &b);
    ASSERT_TRUE(rect_is(&b, 2, 2, 7, 3));
    jpip__band_rect(&tc, 2, 2, 3, &b);
    ASSERT_TRUE(rect_is(&b, 1, 2, 7, 3));
    /* Widths add up at each level: low 5 + high 6 = 11 samples at level 1. */
    struct jpip__rect lo, hi;
    jpip__res_rect(&tc, 2, 1, &lo);
    jpip__band_rect(&tc, 2, 2, 1, &hi);
    ASSERT_EQ_U64((lo.x1 - lo.x0) + (hi.x1 - hi.x0), 14 - 3);
}

TEST(zero_levels)
{
    /* No decomposition: one resolution equal to the tile-component, band LL. */
    const struct jpip__rect tc = {3, 5, 14, 9};
    struct jpip__rect rr, b;
    jpip__res_rect(&tc, 0, 0, &rr);
    ASSERT_TRUE(rect_is(&rr, 3, 5, 14, 9));
    jpip__band_rect(&tc, 0, 0, 0, &b);
    ASSERT_TRUE(rect_is(&b, 3, 5, 14, 9));
    uint32_t npw, nph;
    jpip__prec_count(&rr, 2, 1, &npw, &nph); /* ceil(14/4) - floor(3/4) = 4; ceil(9/2) - 2 = 3 */
    ASSERT_EQ_U64(npw, 4);
    ASSERT_EQ_U64(nph, 3);
    /* Precincts of one sample (PPx = PPy = 0, allowed at resolution 0): one per sample. */
    jpip__prec_count(&rr, 0, 0, &npw, &nph);
    ASSERT_EQ_U64(npw, 11);
    ASSERT_EQ_U64(nph, 4);
    /* Its code-blocks are one sample each: precinct (4, 2) is sample (7, 7). */
    struct jpip__cblk_span sp;
    jpip__prec_cblks(&rr, &b, 0, 0, 0, 6, 6, 4, 2, &sp);
    ASSERT_EQ_U64(sp.cw, 1);
    ASSERT_EQ_U64(sp.ch, 1);
    ASSERT_EQ_U64(sp.cx0, 7);
    ASSERT_EQ_U64(sp.cy0, 7);
    ASSERT_TRUE(rect_is(&sp.area, 7, 7, 8, 8));
}

TEST(precinct_of_two_at_higher_resolution)
{
    /* PPx = PPy = 1 at r = 1 of 1 level: band precinct cells are 1 sample; code-blocks are
     * capped at 2^(PPx - 1) = 1. Resolution 1 of tc [0, 9) x [0, 4) is the tile-component; HL
     * is [ceil(-1/2), ceil(8/2)) = [0, 4) x [0, 2). Precinct (px 2, py 1) covers resolution
     * [4, 6) x [2, 4), HL sample [2, 3) x [1, 2). */
    const struct jpip__rect tc = {0, 0, 9, 4};
    struct jpip__rect rr, b;
    jpip__res_rect(&tc, 1, 1, &rr);
    ASSERT_TRUE(rect_is(&rr, 0, 0, 9, 4));
    uint32_t npw, nph;
    jpip__prec_count(&rr, 1, 1, &npw, &nph);
    ASSERT_EQ_U64(npw, 5);
    ASSERT_EQ_U64(nph, 2);
    jpip__band_rect(&tc, 1, 1, 1, &b);
    ASSERT_TRUE(rect_is(&b, 0, 0, 4, 2));
    struct jpip__cblk_span sp;
    jpip__prec_cblks(&rr, &b, 1, 1, 1, 6, 6, 2, 1, &sp);
    ASSERT_EQ_U64(sp.cw, 1);
    ASSERT_EQ_U64(sp.ch, 1);
    ASSERT_EQ_U64(sp.cx0, 2);
    ASSERT_EQ_U64(sp.cy0, 1);
    /* The last column's precinct (px 4: resolution [8, 10)) meets HL at x [4, 5): nothing. */
    jpip__prec_cblks(&rr, &b, 1, 1, 1, 6, 6, 4, 0, &sp);
    ASSERT_EQ_U64(sp.cw * sp.ch, 0);
}

TEST(code_blocks_of_a_precinct_hand)
{
    /* Resolution [5, 70) x [3, 40), r = 2, PPx = PPy = 5 (32): precincts from x = 0: ceil(70/32)
     * - 0 = 3 across, ceil(40/32) = 2 down. A band of r = 2 at half size: [2, 35) x [1, 20),
     * precinct cells of 16 from 0; xcb = 3 (8 < 16). Precinct (1, 1): band area [16, 32) x
     * [16, 20): code-blocks x 16/8 = 2 .. 32/8 = 4 -> 2 across; y floor(16/8) = 2 ..
     * ceil(20/8) = 3 -> 1 down. */
    const struct jpip__rect rr = {5, 3, 70, 40};
    const struct jpip__rect band = {2, 1, 35, 20};
    uint32_t npw, nph;
    jpip__prec_count(&rr, 5, 5, &npw, &nph);
    ASSERT_EQ_U64(npw, 3);
    ASSERT_EQ_U64(nph, 2);
    struct jpip__cblk_span sp;
    jpip__prec_cblks(&rr, &band, 2, 5, 5, 3, 3, 1, 1, &sp);
    ASSERT_TRUE(rect_is(&sp.area, 16, 16, 32, 20));
    ASSERT_EQ_U64(sp.cx0, 2);
    ASSERT_EQ_U64(sp.cy0, 2);
    ASSERT_EQ_U64(sp.cw, 2);
    ASSERT_EQ_U64(sp.ch, 1);
    /* Precinct (0, 0): [2, 16) x [1, 16): code-blocks 0..2 across (floor 2/8 = 0, ceil 16/8). */
    jpip__prec_cblks(&rr, &band, 2, 5, 5, 3, 3, 0, 0, &sp);
    ASSERT_EQ_U64(sp.cw, 2);
    ASSERT_EQ_U64(sp.ch, 2);
    /* Code-blocks larger than the precinct are capped by it: xcb 6 -> 4 (16). */
    jpip__prec_cblks(&rr, &band, 2, 5, 5, 6, 6, 2, 0, &sp);
    ASSERT_TRUE(rect_is(&sp.area, 32, 1, 35, 16));
    ASSERT_EQ_U64(sp.cx0, 2);
    ASSERT_EQ_U64(sp.cw, 1);
    ASSERT_EQ_U64(sp.ch, 1);
}

TEST(thirty_three_components)
{
    /* Csiz 33 with subsampling 1..11 across and 1..3 down: each tile-component follows its own
     * factors. */
    struct jpip__comp_siz c[33];
    for (int i = 0; i < 33; i++) {
        c[i].depth = 8;
        c[i].sgnd = 0;
        c[i].dx = (uint8_t)(1 + i % 11);
        c[i].dy = (uint8_t)(1 + i % 3);
    }
    struct jpip__siz s = make_siz(97, 61, 3, 2, 40, 30, 0, 0, c, 33);
    for (uint32_t t = 0; t < s.ntiles; t++) {
        struct jpip__rect tr;
        jpip__tile_rect(&s, t, &tr);
        for (uint16_t k = 0; k < 33; k++) {
            struct jpip__rect tc;
            jpip__tilecomp_rect(&s, &tr, k, &tc);
            ASSERT_TRUE(rect_is(&tc, ref_ceil(tr.x0, c[k].dx), ref_ceil(tr.y0, c[k].dy),
                                ref_ceil(tr.x1, c[k].dx), ref_ceil(tr.y1, c[k].dy)));
        }
    }
}

/* ---- everything against the reference formulas ------------------------------------------------
 */

TEST(random_layouts_against_formulas)
{
    uint32_t rng = 2024;
    for (int round = 0; round < 400; round++) {
        uint32_t xo = csb_rand(&rng) % 50, yo = csb_rand(&rng) % 50;
        uint32_t xto = xo ? csb_rand(&rng) % (xo + 1) : 0, yto = yo ? csb_rand(&rng) % (yo + 1) : 0;
        uint32_t xt = 1 + csb_rand(&rng) % 70, yt = 1 + csb_rand(&rng) % 70;
        if (xto + xt <= xo)
            xt = xo - xto + 1 + csb_rand(&rng) % 20;
        if (yto + yt <= yo)
            yt = yo - yto + 1 + csb_rand(&rng) % 20;
        uint32_t xsiz = xo + 1 + csb_rand(&rng) % 150, ysiz = yo + 1 + csb_rand(&rng) % 150;
        struct jpip__comp_siz comp = {8, 0, (uint8_t)(1 + csb_rand(&rng) % 4),
                                      (uint8_t)(1 + csb_rand(&rng) % 7)};
        struct jpip__siz s = make_siz(xsiz, ysiz, xo, yo, xt, yt, xto, yto, &comp, 1);
        if (s.ntiles > 400)
            continue;
        unsigned nl = csb_rand(&rng) % 6;
        unsigned xcb = 2 + csb_rand(&rng) % 5, ycb = 2 + csb_rand(&rng) % 5;
        uint8_t ppx[7], ppy[7];
        for (unsigned r = 0; r <= nl; r++) {
            ppx[r] = (uint8_t)((r ? 1 : 0) + csb_rand(&rng) % 5);
            ppy[r] = (uint8_t)((r ? 1 : 0) + csb_rand(&rng) % 5);
            if (csb_rand(&rng) % 4 == 0)
                ppx[r] = ppy[r] = 15;
        }
        for (uint32_t t = 0; t < s.ntiles; t++) {
            int64_t tr[4];
            ref_tile(&s, t, tr);
            struct jpip__rect trect, tc;
            jpip__tile_rect(&s, t, &trect);
            ASSERT_TRUE(rect_is(&trect, tr[0], tr[1], tr[2], tr[3]));
            jpip__tilecomp_rect(&s, &trect, 0, &tc);
            int64_t tcr[4] = {ref_ceil(tr[0], comp.dx), ref_ceil(tr[1], comp.dy),
                              ref_ceil(tr[2], comp.dx), ref_ceil(tr[3], comp.dy)};
            ASSERT_TRUE(rect_is(&tc, tcr[0], tcr[1], tcr[2], tcr[3]));
            for (unsigned r = 0; r <= nl; r++) {
                int64_t d = (int64_t)1 << (nl - r);
                int64_t rr4[4] = {ref_ceil(tcr[0], d), ref_ceil(tcr[1], d), ref_ceil(tcr[2], d),
                                  ref_ceil(tcr[3], d)};
                struct jpip__rect rr;
                jpip__res_rect(&tc, nl, r, &rr);
                ASSERT_TRUE(rect_is(&rr, rr4[0], rr4[1], rr4[2], rr4[3]));
                /* B-16 */
                int64_t P = (int64_t)1 << ppx[r], Q = (int64_t)1 << ppy[r];
                int64_t npw = rr4[2] > rr4[0] ? ref_ceil(rr4[2], P) - ref_floor(rr4[0], P) : 0;
                int64_t nph = rr4[3] > rr4[1] ? ref_ceil(rr4[3], Q) - ref_floor(rr4[1], Q) : 0;
                uint32_t gw, gh;
                jpip__prec_count(&rr, ppx[r], ppy[r], &gw, &gh);
                ASSERT_EQ_U64(gw, npw);
                ASSERT_EQ_U64(gh, nph);
                for (unsigned band = r ? 1 : 0; band <= (r ? 3u : 0u); band++) {
                    int64_t br[4];
                    ref_band(tcr, r ? nl - r + 1 : nl, band, br);
                    struct jpip__rect b;
                    jpip__band_rect(&tc, nl, r, band, &b);
                    ASSERT_TRUE(rect_is(&b, br[0], br[1], br[2], br[3]));
                    if (br[2] <= br[0] || br[3] <= br[1] || npw * nph > 64)
                        continue;
                    /* Every precinct: its cell in band coordinates (halved above r = 0),
                     * intersected with the band, split by code-blocks capped by the cell. */
                    int64_t cwx = r ? P / 2 : P, cwy = r ? Q / 2 : Q;
                    int64_t cbw = ref_min((int64_t)1 << xcb, cwx),
                            cbh = ref_min((int64_t)1 << ycb, cwy);
                    for (int64_t py = 0; py < nph; py++)
                        for (int64_t px = 0; px < npw; px++) {
                            int64_t kx = ref_floor(rr4[0], P) + px, ky = ref_floor(rr4[1], Q) + py;
                            int64_t ax0 = ref_max(kx * cwx, br[0]),
                                    ax1 = ref_min((kx + 1) * cwx, br[2]);
                            int64_t ay0 = ref_max(ky * cwy, br[1]),
                                    ay1 = ref_min((ky + 1) * cwy, br[3]);
                            int64_t ncw = 0, nch = 0;
                            if (ax1 > ax0 && ay1 > ay0) {
                                ncw = ref_ceil(ax1, cbw) - ref_floor(ax0, cbw);
                                nch = ref_ceil(ay1, cbh) - ref_floor(ay0, cbh);
                            }
                            struct jpip__cblk_span sp;
                            jpip__prec_cblks(&rr, &b, r, ppx[r], ppy[r], xcb, ycb, (uint32_t)px,
                                             (uint32_t)py, &sp);
                            if (sp.cw != ncw || sp.ch != nch ||
                                (ncw &&
                                 (sp.cx0 != ref_floor(ax0, cbw) || sp.cy0 != ref_floor(ay0, cbh))))
                                TEST_FAIL_AT("round %d tile %u r %u band %u precinct (%lld, %lld): "
                                             "%ux%u at (%u, %u), expected %lldx%lld",
                                             round, t, r, band, (long long)px, (long long)py, sp.cw,
                                             sp.ch, sp.cx0, sp.cy0, (long long)ncw, (long long)nch);
                        }
                }
            }
        }
    }
}

TEST(large_coordinates_do_not_wrap)
{
    /* A tile ending at 2^32 - 1 with 32 levels: every division rounds up without wrapping. */
    const struct jpip__rect tc = {UINT32_MAX - 5, UINT32_MAX - 3, UINT32_MAX, UINT32_MAX};
    struct jpip__rect rr, b;
    jpip__res_rect(&tc, 32, 0, &rr);
    ASSERT_TRUE(rect_is(&rr, 1, 1, 1, 1));
    jpip__res_rect(&tc, 32, 32, &rr);
    ASSERT_TRUE(rect_is(&rr, UINT32_MAX - 5, UINT32_MAX - 3, UINT32_MAX, UINT32_MAX));
    jpip__band_rect(&tc, 32, 1, 3, &b); /* nb = 32: ceil((v - 2^31) / 2^32) = 1 */
    ASSERT_TRUE(rect_is(&b, 1, 1, 1, 1));
    uint32_t npw, nph;
    jpip__prec_count(&rr, 15, 15, &npw, &nph);
    ASSERT_EQ_U64(npw, 1);
    ASSERT_EQ_U64(nph, 1);
}

RUN_TESTS()
