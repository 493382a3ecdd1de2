/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Metadata-bins (15444-9 A.3.6, Annex I placeholder boxes): how a JP2-family file's box tree
 * is cut into metadata-bins. Bin 0 holds the top-level boxes in file order; every codestream
 * box (jp2c, or a fragment table ftbl) becomes a codestream placeholder naming its codestream
 * index; every box larger than a threshold becomes a placeholder whose contents go into a new
 * bin, numbered in breadth-first order; other boxes are carried verbatim. The scheme depends
 * only on the file, so it is stable for a target id. A raw codestream has one empty bin 0.
 */
#ifndef JPIP_DATABIN_METABINS_H
#define JPIP_DATABIN_METABINS_H

#include "codestream/box.h"

struct jpip__mb_piece {
    uint8_t literal; /* 1: bytes in lit[src..src+len); 0: file bytes [src, src+len) */
    uint64_t src;
    uint64_t len;
};

struct jpip__metabin {
    uint32_t first_piece, npieces;
    uint64_t len;
    int32_t box; /* the box whose contents this bin holds; -1 for bin 0 */
};

struct jpip__metabins {
    struct jpip__metabin *bin;
    uint32_t nbins;
    struct jpip__mb_piece *piece;
    uint32_t npieces, cap_pieces;
    uint8_t *lit;
    size_t lit_len, lit_cap;
    int32_t *box_bin;         /* per box: the bin that holds its header (or placeholder) */
    int32_t *box_content_bin; /* per box: the bin holding its contents when placeholdered */
    const struct jpip_allocator *alloc;
};

/* Build the scheme. loc/ncs are the file's codestreams (jpip__box_codestreams) so jp2c and
 * ftbl boxes can be mapped to codestream indices; threshold is the largest box carried
 * verbatim (0 = 4096). */
int jpip__metabins_build(struct jpip__metabins *mb, const struct jpip__box_tree *t,
                         const struct jpip__cs_location *loc, uint32_t ncs, uint64_t threshold,
                         const struct jpip_allocator *a, struct jpip__err *err);
void jpip__metabins_free(struct jpip__metabins *mb);
/* Copy bytes [off, off + len) of bin. */
int jpip__metabins_read(const struct jpip__metabins *mb, const struct jpip_source *src,
                        uint32_t bin, uint64_t off, uint8_t *dst, size_t len,
                        struct jpip__err *err);

#endif
