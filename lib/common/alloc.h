/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The one allocation seam of the library. Every heap allocation in lib/ goes through these,
 * with the allocator given at object creation (NULL = malloc/free). Sizes are checked for
 * multiplication overflow here so callers need not.
 */
#ifndef JPIP_COMMON_ALLOC_H
#define JPIP_COMMON_ALLOC_H

#include <jpip/jpip.h>

void *jpip__alloc(const struct jpip_allocator *a, size_t size);
/* Zeroed array of n elements of size bytes; NULL on overflow or failure. */
void *jpip__calloc(const struct jpip_allocator *a, size_t n, size_t size);
/* Grow or shrink: the old block (old_size bytes) is copied; NULL on failure (old kept). */
void *jpip__realloc(const struct jpip_allocator *a, void *p, size_t old_size, size_t new_size);
void jpip__free(const struct jpip_allocator *a, void *p);

#endif
