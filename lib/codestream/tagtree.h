/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tag trees (15444-1 B.10.2): a quad-tree over a w x h grid of leaves whose nodes hold the
 * minimum of their children, decoded incrementally against rising thresholds. Node storage is
 * supplied by the caller so a precinct's trees live in one allocation.
 */
#ifndef JPIP_CODESTREAM_TAGTREE_H
#define JPIP_CODESTREAM_TAGTREE_H

#include "codestream/bitreader.h"

#define JPIP_TGT_UNKNOWN UINT32_MAX

struct jpip__tgt_node {
    uint32_t value;  /* JPIP_TGT_UNKNOWN until decoded */
    uint32_t low;    /* lower bound learned so far */
    uint32_t parent; /* index of the parent node, UINT32_MAX at the root */
};

struct jpip__tgt {
    uint32_t w, h;
    uint32_t nnodes;
    struct jpip__tgt_node *nodes; /* leaves first, row-major, then each coarser level */
};

/* Number of nodes a tree of w x h leaves needs (0 when w or h is 0). */
uint32_t jpip__tgt_size(uint32_t w, uint32_t h);
/* Initialise a tree over caller storage of jpip__tgt_size(w, h) nodes. */
void jpip__tgt_init(struct jpip__tgt *t, uint32_t w, uint32_t h, struct jpip__tgt_node *nodes);
/* Decode leaf against threshold: returns 1 when the leaf's value is < threshold. */
int jpip__tgt_decode(struct jpip__tgt *t, struct jpip__bits *b, uint32_t leaf, uint32_t threshold);
/* Decode the leaf's value completely (raising the threshold until known). Values above limit
 * stop the search (malformed data) and return JPIP_TGT_UNKNOWN. */
uint32_t jpip__tgt_decode_value(struct jpip__tgt *t, struct jpip__bits *b, uint32_t leaf,
                                uint32_t limit);

#endif
