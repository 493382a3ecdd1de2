/* SPDX-License-Identifier: BSD-2-Clause */
/* Tag tree decoding (15444-1 B.10.2). */
#include "codestream/tagtree.h"

uint32_t jpip__tgt_size(uint32_t w, uint32_t h)
{
    if (w == 0 || h == 0)
        return 0;
    uint64_t n = 0;
    for (;;) {
        n += (uint64_t)w * h;
        if (w == 1 && h == 1)
            break;
        w = (w + 1) / 2;
        h = (h + 1) / 2;
    }
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

void jpip__tgt_init(struct jpip__tgt *t, uint32_t w, uint32_t h, struct jpip__tgt_node *nodes)
{
    t->w = w;
    t->h = h;
    t->nodes = nodes;
    t->nnodes = jpip__tgt_size(w, h);
    if (t->nnodes == 0)
        return;
    uint32_t base = 0, lw = w, lh = h;
    for (;;) {
        uint32_t nw = (lw + 1) / 2, nh = (lh + 1) / 2;
        int top = lw == 1 && lh == 1;
        uint32_t next = base + lw * lh;
        for (uint32_t y = 0; y < lh; y++)
            for (uint32_t x = 0; x < lw; x++) {
                struct jpip__tgt_node *n = &nodes[base + y * lw + x];
                n->value = JPIP_TGT_UNKNOWN;
                n->low = 0;
                n->parent = top ? UINT32_MAX : next + (y / 2) * nw + x / 2;
            }
        if (top)
            break;
        base = next;
        lw = nw;
        lh = nh;
    }
}

int jpip__tgt_decode(struct jpip__tgt *t, struct jpip__bits *b, uint32_t leaf, uint32_t threshold)
{
    /* Walk root to leaf; each node's lower bound starts at its parent's. A 1 bit means the
     * node's value equals the current bound; a 0 bit raises the bound. Depth <= 33 levels. */
    uint32_t path[40];
    unsigned depth = 0;
    uint32_t n = leaf;
    while (n != UINT32_MAX && depth < 40) {
        path[depth++] = n;
        n = t->nodes[n].parent;
    }
    uint32_t low = 0;
    while (depth) {
        struct jpip__tgt_node *node = &t->nodes[path[--depth]];
        if (low > node->low)
            node->low = low;
        else
            low = node->low;
        while (low < threshold && low < node->value) {
            if (jpip__bits_get(b))
                node->value = low;
            else
                low++;
            if (b->overrun)
                break;
        }
        node->low = low;
    }
    return t->nodes[leaf].value < threshold;
}

uint32_t jpip__tgt_decode_value(struct jpip__tgt *t, struct jpip__bits *b, uint32_t leaf,
                                uint32_t limit)
{
    uint32_t thr = 1;
    while (!jpip__tgt_decode(t, b, leaf, thr)) {
        if (b->overrun || thr > limit)
            return JPIP_TGT_UNKNOWN;
        thr++;
    }
    return t->nodes[leaf].value;
}
