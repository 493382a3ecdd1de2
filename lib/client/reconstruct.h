/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rebuilding a decodable codestream from data-bins (jpip-notes 9.1): the main header bin
 * (TLM, PLM, PPM and POC dropped, COD rewritten to RPCL), then one tile-part per tile with its
 * tile header bin's segments, and each precinct's packets in RPCL order: the whole packets
 * found at the start of its bin (headers parsed to find where each ends), then empty packets
 * for the layers not held. Resolutions above the ones kept get empty packets, and tiles
 * outside the decode region are reduced to SOT and SOD. Works from any server's bins,
 * including partial ones. From tile data-bins (JPT-stream), each tile's complete tile-parts are
 * copied as they are (TNsot set to their count) and the main header keeps its progression.
 */
#ifndef JPIP_CLIENT_RECONSTRUCT_H
#define JPIP_CLIENT_RECONSTRUCT_H

#include "codestream/codestream.h"
#include "common/buf.h"

/* Read access to held bins: the contiguous prefix from byte 0 and whether it is complete. */
struct jpip__bin_source {
    int (*get)(void *user, unsigned cls, uint64_t cs, uint64_t id, const uint8_t **data,
               uint64_t *len, int *complete);
    void *user;
};

struct jpip__reconstruct_opts {
    unsigned discard;         /* resolution levels the decoder will drop */
    uint16_t layers;          /* packets of later layers are written empty; 0 = all */
    int has_region;           /* tiles outside region become SOT+SOD only */
    struct jpip__rect region; /* on the reference grid */
    int jpt;                  /* rebuild from tile data-bins (JPT-stream) */
    /* Trim the codestream to the view when that can be done exactly: leave the discarded
     * levels out (codestream/shrink.h; the decoder then works at reduce 0 on the region
     * divided by 2^discard, rounded up: see jpip__reconstruct_stats.shrunk), and crop a
     * single-tile image to the region (coordinates unchanged). */
    int shrink;
};

struct jpip__reconstruct_stats {
    uint64_t packets_copied, packets_empty;
    uint64_t bytes_copied;
    uint32_t tiles_with_header, tiles_without_header;
    unsigned shrunk; /* levels left out (0: the codestream has every level) */
    int cropped;     /* a single-tile image cut down to the region (same coordinates) */
};

/* Needs the main header bin complete (JPIP_AGAIN otherwise). Output is appended to out. */
int jpip__reconstruct(const struct jpip__bin_source *src, uint64_t cs,
                      const struct jpip__reconstruct_opts *o, const struct jpip_allocator *a,
                      struct jpip__buf *out, struct jpip__reconstruct_stats *st,
                      struct jpip__err *err);

#endif
