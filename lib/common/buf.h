/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A growable byte buffer with a hard cap fixed at init (curl's dynbuf idea): appends past the
 * cap fail with JPIP_ELIMIT instead of growing without bound.
 */
#ifndef JPIP_COMMON_BUF_H
#define JPIP_COMMON_BUF_H

#include <jpip/jpip.h>

struct jpip__buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max; /* hard limit on len */
    const struct jpip_allocator *alloc;
};

void jpip__buf_init(struct jpip__buf *b, const struct jpip_allocator *a, size_t max);
void jpip__buf_free(struct jpip__buf *b);
void jpip__buf_reset(struct jpip__buf *b);
/* Make room for at least extra more bytes. */
int jpip__buf_reserve(struct jpip__buf *b, size_t extra);
int jpip__buf_append(struct jpip__buf *b, const void *data, size_t len);
int jpip__buf_append_byte(struct jpip__buf *b, uint8_t v);
int jpip__buf_append_u16be(struct jpip__buf *b, uint16_t v);
int jpip__buf_append_u32be(struct jpip__buf *b, uint32_t v);
/* Take the buffer's memory (caller frees with the same allocator); the buffer is emptied. */
uint8_t *jpip__buf_take(struct jpip__buf *b, size_t *len);

#endif
