/* SPDX-License-Identifier: BSD-2-Clause */
/* A jpip_source over a borrowed memory buffer (tests, fuzzers, in-memory targets). */
#include <string.h>

#include "common/source.h"

/* Bounds are checked by jpip__src_read against src->size before read_at is called, so the
 * memory reader can copy directly. */
static int mem_read(void *user, uint64_t off, void *dst, size_t len)
{
    memcpy(dst, (const uint8_t *)user + off, len);
    return JPIP_OK;
}

void jpip_memory_source_init(struct jpip_source *src, const void *data, size_t len)
{
    src->read_at = mem_read;
    src->size = len;
    src->user = (void *)(uintptr_t)data;
}

int jpip__src_read(const struct jpip_source *src, uint64_t off, void *dst, size_t len,
                   struct jpip__err *err)
{
    if (off > src->size || len > src->size - off)
        return jpip__errf(err, JPIP_EMALFORMED,
                          "read of %zu bytes at offset %llu runs past the end of the data "
                          "(%llu bytes)",
                          len, (unsigned long long)off, (unsigned long long)src->size);
    if (len == 0)
        return JPIP_OK;
    int rc = src->read_at(src->user, off, dst, len);
    if (rc < 0)
        return jpip__errf(err, rc, "read of %zu bytes at offset %llu failed: %s", len,
                          (unsigned long long)off, jpip_strerror(rc));
    return JPIP_OK;
}
