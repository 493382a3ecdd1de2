/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The packet-header bit reader (15444-1 B.10.1): bits MSB first; after a 0xFF byte the next
 * byte contributes only its 7 low bits (bit stuffing). Reading past the end sets overrun and
 * yields zero bits, so callers test overrun once after a header instead of after every bit.
 */
#ifndef JPIP_CODESTREAM_BITREADER_H
#define JPIP_CODESTREAM_BITREADER_H

#include <stddef.h>
#include <stdint.h>

struct jpip__bits {
    const uint8_t *p, *end, *start;
    uint32_t buf;
    unsigned ct;
    int overrun;
    int marker; /* a byte with its MSB set followed 0xFF: a marker, not header data */
};

static inline void jpip__bits_init(struct jpip__bits *b, const uint8_t *p, size_t len)
{
    b->p = b->start = p;
    b->end = p + len;
    b->buf = 0;
    b->ct = 0;
    b->overrun = 0;
    b->marker = 0;
}

static inline void jpip__bits_bytein(struct jpip__bits *b)
{
    b->buf = (b->buf << 8) & 0xFFFF;
    b->ct = b->buf == 0xFF00 ? 7 : 8;
    if (b->p < b->end) {
        if (b->ct == 7 && (*b->p & 0x80))
            b->marker = 1; /* bit stuffing keeps this bit 0 inside a packet header */
        b->buf |= *b->p++;
    } else {
        b->overrun = 1;
    }
}

static inline unsigned jpip__bits_get(struct jpip__bits *b)
{
    if (b->ct == 0)
        jpip__bits_bytein(b);
    b->ct--;
    return (b->buf >> b->ct) & 1u;
}

/* n <= 32 bits, MSB first. */
static inline uint32_t jpip__bits_read(struct jpip__bits *b, unsigned n)
{
    uint32_t v = 0;
    while (n--)
        v = (v << 1) | jpip__bits_get(b);
    return v;
}

/* End of a header: skip to the byte boundary; a final 0xFF is followed by a stuffed byte. */
static inline void jpip__bits_align(struct jpip__bits *b)
{
    if ((b->buf & 0xFF) == 0xFF)
        jpip__bits_bytein(b);
    b->ct = 0;
}

static inline size_t jpip__bits_consumed(const struct jpip__bits *b)
{
    return (size_t)(b->p - b->start);
}

#endif
