/* SPDX-License-Identifier: BSD-2-Clause */
/* Block cache over a jpip_source (see cached_source.h). */
#include "common/cached_source.h"

#include <string.h>

#include "common/alloc.h"

static struct jpip__cache_block *block(struct jpip__cached_source *c, uint64_t index, int *rc)
{
    struct jpip__cache_block *last = &c->blocks[c->last];
    if (last->valid && last->index == index) { /* runs of small reads hit one block */
        c->hits++;
        return last;
    }
    struct jpip__cache_block *victim = &c->blocks[0];
    for (uint32_t i = 0; i < c->nblocks; i++) {
        struct jpip__cache_block *b = &c->blocks[i];
        if (b->valid && b->index == index) {
            b->stamp = ++c->clock;
            c->hits++;
            c->last = i;
            return b;
        }
        if (!b->valid || b->stamp < victim->stamp)
            victim = b;
    }
    c->misses++;
    uint64_t off = index * c->block_bytes;
    uint64_t n = c->inner->size - off;
    if (n > c->block_bytes)
        n = c->block_bytes;
    uint8_t *mem = c->mem + (size_t)(victim - c->blocks) * c->block_bytes;
    victim->valid = 0;
    *rc = c->inner->read_at(c->inner->user, off, mem, (size_t)n);
    if (*rc < 0)
        return NULL;
    victim->valid = 1;
    victim->index = index;
    victim->len = (uint32_t)n;
    victim->stamp = ++c->clock;
    c->last = (uint32_t)(victim - c->blocks);
    return victim;
}

static int cached_read(void *user, uint64_t off, void *dst, size_t len)
{
    struct jpip__cached_source *c = user;
    if (len >= c->block_bytes)
        return c->inner->read_at(c->inner->user, off, dst, len);
    uint8_t *d = dst;
    while (len > 0) {
        uint64_t index = off / c->block_bytes;
        uint32_t in = (uint32_t)(off % c->block_bytes);
        int rc = JPIP_OK;
        struct jpip__cache_block *b = block(c, index, &rc);
        if (!b)
            return rc;
        if (in >= b->len)
            return JPIP_EIO;
        size_t take = b->len - in;
        if (take > len)
            take = len;
        memcpy(d, c->mem + (size_t)(b - c->blocks) * c->block_bytes + in, take);
        d += take;
        off += take;
        len -= take;
    }
    return JPIP_OK;
}

int jpip__cached_source_init(struct jpip__cached_source *c, const struct jpip_source *inner,
                             uint32_t block_bytes, uint32_t nblocks, const struct jpip_allocator *a)
{
    memset(c, 0, sizeof *c);
    c->inner = inner;
    c->alloc = a;
    c->block_bytes = block_bytes ? block_bytes : 64u << 10;
    c->nblocks = nblocks ? nblocks : 32;
    c->mem = jpip__alloc(a, (size_t)c->block_bytes * c->nblocks);
    c->blocks = jpip__calloc(a, c->nblocks, sizeof *c->blocks);
    if (!c->mem || !c->blocks) {
        jpip__cached_source_free(c);
        return JPIP_ENOMEM;
    }
    c->src.read_at = cached_read;
    c->src.size = inner->size;
    c->src.user = c;
    return JPIP_OK;
}

void jpip__cached_source_free(struct jpip__cached_source *c)
{
    jpip__free(c->alloc, c->mem);
    jpip__free(c->alloc, c->blocks);
    c->mem = NULL;
    c->blocks = NULL;
}
