/* SPDX-License-Identifier: BSD-2-Clause */
/* Bounded growable byte buffer. */
#include "common/buf.h"

#include <string.h>

#include "common/alloc.h"

void jpip__buf_init(struct jpip__buf *b, const struct jpip_allocator *a, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->alloc = a;
}

void jpip__buf_free(struct jpip__buf *b)
{
    jpip__free(b->alloc, b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void jpip__buf_reset(struct jpip__buf *b)
{
    b->len = 0;
}

int jpip__buf_reserve(struct jpip__buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return JPIP_ELIMIT;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return JPIP_OK;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > b->max)
        ncap = b->max;
    uint8_t *nd = jpip__realloc(b->alloc, b->data, b->len, ncap);
    if (!nd)
        return JPIP_ENOMEM;
    b->data = nd;
    b->cap = ncap;
    return JPIP_OK;
}

int jpip__buf_append(struct jpip__buf *b, const void *data, size_t len)
{
    if (len == 0)
        return JPIP_OK;
    int rc = jpip__buf_reserve(b, len);
    if (rc < 0)
        return rc;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return JPIP_OK;
}

int jpip__buf_append_byte(struct jpip__buf *b, uint8_t v)
{
    return jpip__buf_append(b, &v, 1);
}

int jpip__buf_append_u16be(struct jpip__buf *b, uint16_t v)
{
    const uint8_t t[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return jpip__buf_append(b, t, 2);
}

int jpip__buf_append_u32be(struct jpip__buf *b, uint32_t v)
{
    const uint8_t t[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return jpip__buf_append(b, t, 4);
}

uint8_t *jpip__buf_take(struct jpip__buf *b, size_t *len)
{
    uint8_t *d = b->data;
    *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}
