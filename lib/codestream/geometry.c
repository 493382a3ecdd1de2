/* SPDX-License-Identifier: BSD-2-Clause */
/* Canvas geometry (15444-1 Annex B). All intermediate products are 64-bit. */
#include "codestream/geometry.h"

static uint32_t min_u32(uint64_t a, uint64_t b)
{
    return (uint32_t)(a < b ? a : b);
}
static uint32_t max_u32(uint64_t a, uint64_t b)
{
    return (uint32_t)(a > b ? a : b);
}

void jpip__tile_rect(const struct jpip__siz *s, uint32_t t, struct jpip__rect *out)
{
    uint32_t p = t % s->ntx, q = t / s->ntx;
    out->x0 = max_u32((uint64_t)s->xtosiz + (uint64_t)p * s->xtsiz, s->xosiz);
    out->y0 = max_u32((uint64_t)s->ytosiz + (uint64_t)q * s->ytsiz, s->yosiz);
    out->x1 = min_u32((uint64_t)s->xtosiz + (uint64_t)(p + 1) * s->xtsiz, s->xsiz);
    out->y1 = min_u32((uint64_t)s->ytosiz + (uint64_t)(q + 1) * s->ytsiz, s->ysiz);
}

void jpip__tilecomp_rect(const struct jpip__siz *s, const struct jpip__rect *tile, uint16_t c,
                         struct jpip__rect *out)
{
    uint32_t dx = s->comp[c].dx, dy = s->comp[c].dy;
    out->x0 = jpip__ceildiv(tile->x0, dx);
    out->y0 = jpip__ceildiv(tile->y0, dy);
    out->x1 = jpip__ceildiv(tile->x1, dx);
    out->y1 = jpip__ceildiv(tile->y1, dy);
}

void jpip__res_rect(const struct jpip__rect *tc, unsigned nl, unsigned r, struct jpip__rect *out)
{
    unsigned e = nl - r;
    out->x0 = jpip__ceildiv_pow2(tc->x0, e);
    out->y0 = jpip__ceildiv_pow2(tc->y0, e);
    out->x1 = jpip__ceildiv_pow2(tc->x1, e);
    out->y1 = jpip__ceildiv_pow2(tc->y1, e);
}

static uint32_t band_coord(uint32_t v, unsigned nb, unsigned ob)
{
    /* ceil((v - 2^(nb-1) * ob) / 2^nb), clamped at 0 for the first sample */
    uint64_t off = ob ? (uint64_t)1 << (nb - 1) : 0;
    if (v <= off)
        return 0;
    return (uint32_t)((v - off + (((uint64_t)1 << nb) - 1)) >> nb);
}

void jpip__band_rect(const struct jpip__rect *tc, unsigned nl, unsigned r, unsigned band,
                     struct jpip__rect *out)
{
    if (r == 0) {
        jpip__res_rect(tc, nl, 0, out);
        return;
    }
    unsigned nb = nl - r + 1;
    unsigned xob = band & 1, yob = band >> 1;
    out->x0 = band_coord(tc->x0, nb, xob);
    out->y0 = band_coord(tc->y0, nb, yob);
    out->x1 = band_coord(tc->x1, nb, xob);
    out->y1 = band_coord(tc->y1, nb, yob);
}

void jpip__prec_count(const struct jpip__rect *rr, unsigned ppx, unsigned ppy, uint32_t *npw,
                      uint32_t *nph)
{
    *npw = rr->x1 > rr->x0 ? jpip__ceildiv_pow2(rr->x1, ppx) - jpip__floordiv_pow2(rr->x0, ppx) : 0;
    *nph = rr->y1 > rr->y0 ? jpip__ceildiv_pow2(rr->y1, ppy) - jpip__floordiv_pow2(rr->y0, ppy) : 0;
}

void jpip__prec_cblks(const struct jpip__rect *rr, const struct jpip__rect *band, unsigned r,
                      unsigned ppx, unsigned ppy, unsigned xcb, unsigned ycb, uint32_t px,
                      uint32_t py, struct jpip__cblk_span *out)
{
    /* Precinct cell in resolution coordinates, then halved into band coordinates for r > 0
     * (B.6): the cell of a band precinct is 2^(PP-1) wide, starting at half the resolution
     * cell's origin. */
    uint64_t gx0 = (uint64_t)jpip__floordiv_pow2(rr->x0, ppx) << ppx;
    uint64_t gy0 = (uint64_t)jpip__floordiv_pow2(rr->y0, ppy) << ppy;
    unsigned ex = ppx, ey = ppy;
    if (r > 0) {
        gx0 = (gx0 + 1) >> 1;
        gy0 = (gy0 + 1) >> 1;
        ex = ppx ? ppx - 1 : 0;
        ey = ppy ? ppy - 1 : 0;
    }
    unsigned cbx = xcb < ex ? xcb : ex;
    unsigned cby = ycb < ey ? ycb : ey;
    uint64_t cx0 = gx0 + ((uint64_t)px << ex), cy0 = gy0 + ((uint64_t)py << ey);
    uint64_t cx1 = cx0 + ((uint64_t)1 << ex), cy1 = cy0 + ((uint64_t)1 << ey);
    uint64_t ax0 = cx0 > band->x0 ? cx0 : band->x0;
    uint64_t ay0 = cy0 > band->y0 ? cy0 : band->y0;
    uint64_t ax1 = cx1 < band->x1 ? cx1 : band->x1;
    uint64_t ay1 = cy1 < band->y1 ? cy1 : band->y1;
    out->cw = out->ch = 0;
    out->cx0 = out->cy0 = 0;
    out->area.x0 = out->area.y0 = out->area.x1 = out->area.y1 = 0;
    if (ax1 <= ax0 || ay1 <= ay0)
        return;
    out->area.x0 = (uint32_t)ax0;
    out->area.y0 = (uint32_t)ay0;
    out->area.x1 = (uint32_t)ax1;
    out->area.y1 = (uint32_t)ay1;
    out->cx0 = (uint32_t)(ax0 >> cbx);
    out->cy0 = (uint32_t)(ay0 >> cby);
    out->cw = (uint32_t)(((ax1 + ((uint64_t)1 << cbx) - 1) >> cbx) - (ax0 >> cbx));
    out->ch = (uint32_t)(((ay1 + ((uint64_t)1 << cby) - 1) >> cby) - (ay0 >> cby));
}
