/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The server's model of a client cache (15444-9 C.9): for each data-bin the client holds, how
 * many leading bytes it holds (JPIP__CM_ALL = the whole bin). An open-addressing hash table
 * with a hard cap on entries fixed at init, so a session's model cannot grow without bound.
 */
#ifndef JPIP_CACHE_CACHE_MODEL_H
#define JPIP_CACHE_CACHE_MODEL_H

#include <jpip/jpip.h>

#define JPIP__CM_ALL UINT64_MAX

struct jpip__cm_slot {
    uint64_t key; /* 0 = empty; see cache_model.c for the packing */
    uint64_t bytes;
};

struct jpip__cache_model {
    const struct jpip_allocator *alloc;
    struct jpip__cm_slot *v;
    uint32_t cap, n;
    uint32_t max_entries;
};

/* max_entries: at most this many bins are tracked (JPIP_ELIMIT beyond). */
void jpip__cm_init(struct jpip__cache_model *m, const struct jpip_allocator *a,
                   uint32_t max_entries);
void jpip__cm_free(struct jpip__cache_model *m);
void jpip__cm_clear(struct jpip__cache_model *m);

/* Class numbers are the wire values (0 precinct ... 8 metadata); extended classes (odd) are
 * folded onto their base class, since they name the same data-bins. Codestream < 2^16,
 * id < 2^44 (JPIP_ELIMIT otherwise). */
uint64_t jpip__cm_get(const struct jpip__cache_model *m, unsigned cls, uint64_t cs, uint64_t id);
/* The client holds at least the first bytes of the bin (raises, never lowers). */
int jpip__cm_add(struct jpip__cache_model *m, unsigned cls, uint64_t cs, uint64_t id,
                 uint64_t bytes);
/* The client holds at most the first bytes of the bin (lowers, never raises). */
int jpip__cm_limit(struct jpip__cache_model *m, unsigned cls, uint64_t cs, uint64_t id,
                   uint64_t bytes);
/* Bytes of memory the table uses. */
size_t jpip__cm_memory(const struct jpip__cache_model *m);

#endif
