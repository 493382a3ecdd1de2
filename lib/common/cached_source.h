/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A block cache in front of a jpip_source: small reads (packet headers, short packets, data-bin
 * pieces) are served from recently read blocks instead of each costing a read on the inner
 * source; large reads go straight through. No I/O of its own; not thread-safe.
 */
#ifndef JPIP_COMMON_CACHED_SOURCE_H
#define JPIP_COMMON_CACHED_SOURCE_H

#include <jpip/jpip.h>

struct jpip__cache_block {
    uint64_t index; /* block number */
    uint64_t stamp; /* last use */
    uint32_t len;   /* valid bytes (the last block of the source may be short) */
    int valid;
};

struct jpip__cached_source {
    struct jpip_source src; /* the source to read through (src.user points here) */
    const struct jpip_source *inner;
    const struct jpip_allocator *alloc;
    uint32_t block_bytes;
    uint32_t nblocks;
    uint8_t *mem;
    struct jpip__cache_block *blocks;
    uint64_t clock;
    uint32_t last; /* the block used last */
    uint64_t hits, misses;
};

/* block_bytes 0 = 64 KiB, nblocks 0 = 32. The struct must stay at a fixed address. */
int jpip__cached_source_init(struct jpip__cached_source *c, const struct jpip_source *inner,
                             uint32_t block_bytes, uint32_t nblocks,
                             const struct jpip_allocator *a);
void jpip__cached_source_free(struct jpip__cached_source *c);

#endif
