/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rebuild primitive: a new single-tile-part-per-tile codestream written from the packet
 * index, in a chosen progression, with any packet replaced by an empty one. Header segments
 * that describe the original file's layout (TLM, PLM, PLT, PPM, PPT) are dropped; packed
 * headers are re-joined with their bodies.
 */
#ifndef JPIP_CODESTREAM_REBUILD_H
#define JPIP_CODESTREAM_REBUILD_H

#include <jpip/index.h>

#include "codestream/codestream.h"
#include "common/buf.h"

/* prog: 0..4 rewrites COD (main and tile) and drops POC; -1 keeps each tile's order and POC.
 * present may be NULL (all packets present). Output is appended to out. */
int jpip__rebuild(struct jpip__codestream *cs, int prog, jpip_packet_present_fn present, void *user,
                  struct jpip__buf *out);

/* Append header segments from hdr (a concatenation of marker segments), skipping TLM, PLM,
 * PLT, PPM, PPT, and POC when prog >= 0, and setting COD's progression byte to prog. */
int jpip__rebuild_header_segments(struct jpip__buf *out, const uint8_t *hdr, size_t len, int prog,
                                  const struct jpip_allocator *a, struct jpip__err *err);

/* Append an empty packet for a tile whose coding style is scod (SOP with sequence number
 * nsop when bit 1 is set, EPH when bit 2 is set). */
int jpip__rebuild_empty_packet(struct jpip__buf *out, uint8_t scod, uint16_t nsop);

#endif
