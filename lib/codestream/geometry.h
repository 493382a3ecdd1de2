/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Canvas geometry of 15444-1 Annex B: tiles, tile-components, resolutions, subbands,
 * precinct partitions (anchored at each resolution's origin) and code-block partitions.
 * Pure arithmetic on the parsed SIZ and coding parameters.
 */
#ifndef JPIP_CODESTREAM_GEOMETRY_H
#define JPIP_CODESTREAM_GEOMETRY_H

#include "codestream/cs.h"

/* Half-open rectangle [x0,x1) x [y0,y1). */
struct jpip__rect {
    uint32_t x0, y0, x1, y1;
};

static inline uint32_t jpip__ceildiv(uint32_t a, uint32_t b)
{
    return (uint32_t)(((uint64_t)a + b - 1) / b);
}
static inline uint32_t jpip__ceildiv_pow2(uint32_t a, unsigned e)
{
    return (uint32_t)(((uint64_t)a + (((uint64_t)1 << e) - 1)) >> e);
}
static inline uint32_t jpip__floordiv_pow2(uint32_t a, unsigned e)
{
    return e >= 32 ? 0 : a >> e;
}

/* Tile t on the reference grid (B.3). */
void jpip__tile_rect(const struct jpip__siz *s, uint32_t t, struct jpip__rect *out);
/* Tile-component c of a tile rectangle (B-12). */
void jpip__tilecomp_rect(const struct jpip__siz *s, const struct jpip__rect *tile, uint16_t c,
                         struct jpip__rect *out);
/* Resolution r (0 = lowest) of a tile-component with nl levels (B-14). */
void jpip__res_rect(const struct jpip__rect *tc, unsigned nl, unsigned r, struct jpip__rect *out);
/* Subband of resolution r: band 0 = LL (r = 0 only), 1 = HL, 2 = LH, 3 = HH (B-15). */
void jpip__band_rect(const struct jpip__rect *tc, unsigned nl, unsigned r, unsigned band,
                     struct jpip__rect *out);
/* Number of precincts across and down resolution rr with exponents ppx, ppy (B-16). */
void jpip__prec_count(const struct jpip__rect *rr, unsigned ppx, unsigned ppy, uint32_t *npw,
                      uint32_t *nph);

/* The code-blocks of precinct (px, py) of resolution r within one band: their grid position
 * (first code-block column/row in the band's code-block grid) and count. Zero counts when the
 * precinct does not meet the band. */
struct jpip__cblk_span {
    uint32_t cx0, cy0;      /* index of the first code-block in the band's grid */
    uint32_t cw, ch;        /* code-blocks across and down */
    struct jpip__rect area; /* precinct's part of the band */
};
void jpip__prec_cblks(const struct jpip__rect *rr, const struct jpip__rect *band, unsigned r,
                      unsigned ppx, unsigned ppy, unsigned xcb, unsigned ycb, uint32_t px,
                      uint32_t py, struct jpip__cblk_span *out);

#endif
