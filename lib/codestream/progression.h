/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Progression orders (15444-1 B.12): the sequence in which a tile's packets appear, for the
 * five orders and for progression order changes (POC), where each packet is visited once, by
 * the first volume that contains it.
 */
#ifndef JPIP_CODESTREAM_PROGRESSION_H
#define JPIP_CODESTREAM_PROGRESSION_H

#include "codestream/codestream.h"

/* Called per packet in order: g = precinct index within the tile, l = layer. A negative
 * return stops the walk and is returned by it. */
typedef int (*jpip__packet_fn)(void *user, uint32_t g, uint16_t l);

/* Walk the packets of a tile (its layout must be built). prog < 0 follows the tile's own
 * order and POC list; 0..4 forces that order over every packet, with no POC. */
int jpip__progression_walk(const struct jpip__tile_index *ti, const struct jpip__siz *siz, int prog,
                           jpip__packet_fn fn, void *user, const struct jpip_allocator *a);

/* The same with prog >= 0, visiting only resolutions 0..max_r (with RPCL the rest would
 * come last). */
int jpip__progression_walk_upto(const struct jpip__tile_index *ti, const struct jpip__siz *siz,
                                int prog, unsigned max_r, jpip__packet_fn fn, void *user,
                                const struct jpip_allocator *a);

#endif
