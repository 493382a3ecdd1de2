/* SPDX-License-Identifier: BSD-2-Clause */
/* VBAS encoding and decoding (15444-9 Annex A). */
#include "stream/vbas.h"

size_t jpip__vbas_len(uint64_t v)
{
    size_t n = 1;
    while (v >> 7) {
        v >>= 7;
        n++;
    }
    return n;
}

int jpip__vbas_encode(uint8_t *dst, size_t cap, uint64_t v, size_t *n)
{
    const size_t len = jpip__vbas_len(v);
    if (len > cap)
        return JPIP_ELIMIT;
    for (size_t i = len; i-- > 0;) {
        const uint8_t more = i + 1 < len ? 0x80 : 0x00;
        dst[i] = (uint8_t)(more | (v & 0x7F));
        v >>= 7;
    }
    *n = len;
    return JPIP_OK;
}

int jpip__vbas_decode(const uint8_t *p, size_t len, uint64_t *v, size_t *n)
{
    uint64_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 7) | (p[i] & 0x7Fu);
        if (!(p[i] & 0x80)) {
            *v = acc;
            *n = i + 1;
            return JPIP_OK;
        }
        /* Another group follows: fail as soon as it cannot fit, so a prefix never says AGAIN
         * when the segment is already known to be malformed. */
        if ((acc >> 57) != 0 || i + 1 == JPIP__VBAS_MAX_LEN)
            return JPIP_EMALFORMED;
    }
    return JPIP_AGAIN;
}
