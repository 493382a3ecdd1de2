/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Data-bins of a codestream (15444-9 A.3): identifiers and contents. Precinct data-bin I of
 * tile t, component c, precinct sequence number s is I = t + (c + s*C)*T; its contents are
 * the precinct's packets, layer 0 first, each whole (SOP, header, EPH, body — packed headers
 * re-joined). The main header bin is SOC and the main header's segments without TLM, PLM and
 * PPM; a tile header bin is the segments of the tile's tile-part headers without PLT and PPT.
 */
#ifndef JPIP_DATABIN_DATABIN_H
#define JPIP_DATABIN_DATABIN_H

#include "codestream/codestream.h"
#include "common/buf.h"

/* Wire class numbers (15444-9 Table A.2). */
enum {
    JPIP__CLS_PRECINCT = 0,
    JPIP__CLS_PRECINCT_EXT = 1,
    JPIP__CLS_TILE_HEADER = 2,
    JPIP__CLS_TILE = 4,
    JPIP__CLS_TILE_EXT = 5,
    JPIP__CLS_MAIN_HEADER = 6,
    JPIP__CLS_METADATA = 8
};

static inline uint64_t jpip__precinct_bin_id(uint32_t ntiles, uint16_t ncomp, uint32_t t,
                                             uint16_t c, uint64_t s)
{
    return t + (c + s * ncomp) * (uint64_t)ntiles;
}

static inline void jpip__precinct_bin_split(uint64_t id, uint32_t ntiles, uint16_t ncomp,
                                            uint32_t *t, uint16_t *c, uint64_t *s)
{
    *t = (uint32_t)(id % ntiles);
    uint64_t q = id / ntiles;
    *c = (uint16_t)(q % ncomp);
    *s = q / ncomp;
}

/* Main header data-bin contents, appended to out. */
int jpip__main_header_bin(const struct jpip__codestream *cs, struct jpip__buf *out);

/* Bytes of the first `layers` packets of precinct g's bin (all when layers >= the tile's
 * layer count); stops before the first layer the codestream does not hold. */
uint64_t jpip__precinct_bin_length(const struct jpip__tile_index *ti, uint32_t g, uint16_t layers);
/* Number of complete packets within the first bytes of precinct g's bin. */
uint16_t jpip__precinct_bin_packets(const struct jpip__tile_index *ti, uint32_t g, uint64_t bytes);
/* Copy bytes [off, off + len) of precinct g's bin. */
int jpip__precinct_bin_read(struct jpip__codestream *cs, const struct jpip__tile_index *ti,
                            uint32_t g, uint64_t off, uint8_t *dst, size_t len);

#endif
