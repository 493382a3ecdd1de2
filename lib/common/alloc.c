/* SPDX-License-Identifier: BSD-2-Clause */
/* The allocator seam: default malloc/free, overflow-checked arrays. */
#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>

void *jpip__alloc(const struct jpip_allocator *a, size_t size)
{
    if (size == 0)
        size = 1;
    if (a && a->alloc)
        return a->alloc(a->opaque, size);
    return malloc(size);
}

void *jpip__calloc(const struct jpip_allocator *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = jpip__alloc(a, n * size);
    if (p)
        memset(p, 0, n * size > 0 ? n * size : 1);
    return p;
}

void *jpip__realloc(const struct jpip_allocator *a, void *p, size_t old_size, size_t new_size)
{
    if (!a || !a->alloc)
        return realloc(p, new_size ? new_size : 1);
    void *q = jpip__alloc(a, new_size);
    if (!q)
        return NULL;
    if (p) {
        memcpy(q, p, old_size < new_size ? old_size : new_size);
        jpip__free(a, p);
    }
    return q;
}

void jpip__free(const struct jpip_allocator *a, void *p)
{
    if (!p)
        return;
    if (a && a->alloc) {
        if (a->free)
            a->free(a->opaque, p);
        return;
    }
    free(p);
}
