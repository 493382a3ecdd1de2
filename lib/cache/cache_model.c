/* SPDX-License-Identifier: BSD-2-Clause */
/* Server-side cache model: bin -> bytes held, open addressing with linear probing. */
#include "cache/cache_model.h"

#include <string.h>

#include "common/alloc.h"
#include "common/status.h"

/* key = 1 + (class << 60 | codestream << 44 | id): never 0, so 0 marks an empty slot. */
static int make_key(unsigned cls, uint64_t cs, uint64_t id, uint64_t *key)
{
    cls &= ~1u; /* extended precinct/tile bins are the same bins */
    if (cls > 15 || cs >= (1u << 16) || id >= ((uint64_t)1 << 44))
        return JPIP_ELIMIT;
    *key = 1 + (((uint64_t)cls << 60) | (cs << 44) | id);
    return JPIP_OK;
}

static uint32_t hash(uint64_t k)
{
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    return (uint32_t)k;
}

void jpip__cm_init(struct jpip__cache_model *m, const struct jpip_allocator *a,
                   uint32_t max_entries)
{
    memset(m, 0, sizeof *m);
    m->alloc = a;
    m->max_entries = max_entries ? max_entries : (1u << 24);
}

void jpip__cm_free(struct jpip__cache_model *m)
{
    jpip__free(m->alloc, m->v);
    m->v = NULL;
    m->cap = m->n = 0;
}

void jpip__cm_clear(struct jpip__cache_model *m)
{
    if (m->v)
        memset(m->v, 0, (size_t)m->cap * sizeof *m->v);
    m->n = 0;
}

static struct jpip__cm_slot *find(const struct jpip__cache_model *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    uint32_t mask = m->cap - 1;
    for (uint32_t i = hash(key) & mask;; i = (i + 1) & mask) {
        if (m->v[i].key == key)
            return &m->v[i];
        if (m->v[i].key == 0)
            return NULL;
    }
}

static int grow(struct jpip__cache_model *m)
{
    uint32_t ncap = m->cap ? m->cap * 2 : 64;
    struct jpip__cm_slot *nv = jpip__calloc(m->alloc, ncap, sizeof *nv);
    if (!nv)
        return JPIP_ENOMEM;
    for (uint32_t i = 0; i < m->cap; i++) {
        if (!m->v[i].key)
            continue;
        uint32_t j = hash(m->v[i].key) & (ncap - 1);
        while (nv[j].key)
            j = (j + 1) & (ncap - 1);
        nv[j] = m->v[i];
    }
    jpip__free(m->alloc, m->v);
    m->v = nv;
    m->cap = ncap;
    return JPIP_OK;
}

static int slot_for(struct jpip__cache_model *m, uint64_t key, struct jpip__cm_slot **out)
{
    struct jpip__cm_slot *s = find(m, key);
    if (s) {
        *out = s;
        return JPIP_OK;
    }
    if (m->n >= m->max_entries)
        return JPIP_ELIMIT;
    if ((uint64_t)(m->n + 1) * 4 > (uint64_t)m->cap * 3) {
        int rc = grow(m);
        if (rc < 0)
            return rc;
    }
    uint32_t mask = m->cap - 1;
    uint32_t i = hash(key) & mask;
    while (m->v[i].key)
        i = (i + 1) & mask;
    m->v[i].key = key;
    m->v[i].bytes = 0;
    m->n++;
    *out = &m->v[i];
    return JPIP_OK;
}

uint64_t jpip__cm_get(const struct jpip__cache_model *m, unsigned cls, uint64_t cs, uint64_t id)
{
    uint64_t key;
    if (make_key(cls, cs, id, &key) < 0)
        return 0;
    const struct jpip__cm_slot *s = find(m, key);
    return s ? s->bytes : 0;
}

int jpip__cm_add(struct jpip__cache_model *m, unsigned cls, uint64_t cs, uint64_t id,
                 uint64_t bytes)
{
    uint64_t key;
    JPIP_TRY(make_key(cls, cs, id, &key));
    if (bytes == 0)
        return JPIP_OK;
    struct jpip__cm_slot *s;
    JPIP_TRY(slot_for(m, key, &s));
    if (bytes > s->bytes)
        s->bytes = bytes;
    return JPIP_OK;
}

int jpip__cm_limit(struct jpip__cache_model *m, unsigned cls, uint64_t cs, uint64_t id,
                   uint64_t bytes)
{
    uint64_t key;
    JPIP_TRY(make_key(cls, cs, id, &key));
    struct jpip__cm_slot *s = find(m, key);
    if (s && s->bytes > bytes)
        s->bytes = bytes; /* a zero entry stays as a tombstone-free record of "none" */
    return JPIP_OK;
}

size_t jpip__cm_memory(const struct jpip__cache_model *m)
{
    return (size_t)m->cap * sizeof *m->v;
}
