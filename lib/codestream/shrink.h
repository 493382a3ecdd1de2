/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Dropping the top d resolution levels from header segments, so that a rebuilt codestream
 * holds only the resolutions a reduced view needs and a decoder works at reduce 0 on an
 * image 2^d times smaller. SIZ gets the reference grid divided by 2^d (rounded up, which maps
 * every tile-component and resolution onto the same sample rectangles: ceil(ceil(a/m)/n) =
 * ceil(a/(mn))); COD and COC lose d levels and their last d precinct sizes; QCD and QCC lose
 * the 3d subbands of those levels (derived quantization keeps its single value: its exponent
 * rule depends only on the difference of levels). Precinct indices and sequence numbers of
 * the kept resolutions, and hence precinct data-bin ids and packets, stay as they are.
 *
 * JPIP_EUNSUPPORTED when the stream cannot be shrunk exactly: a component with fewer than d
 * levels, tiles whose size is not a multiple of 2^d (the tile grid would move), or a tile
 * or the image that would vanish. The caller then rebuilds at full size instead.
 */
#ifndef JPIP_CODESTREAM_SHRINK_H
#define JPIP_CODESTREAM_SHRINK_H

#include "codestream/cs.h"
#include "common/buf.h"

/* Append to out the segments of hdr (marker segments, no SOC) with SIZ, COD, COC, QCD and QCC
 * rewritten for d fewer levels; csiz is the component count (for Ccoc/Cqcc; taken from SIZ
 * when hdr holds one). */
int jpip__shrink_segments(struct jpip__buf *out, const uint8_t *hdr, size_t len, unsigned d,
                          uint16_t csiz, const struct jpip_allocator *a, struct jpip__err *err);

#endif
