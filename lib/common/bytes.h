/* SPDX-License-Identifier: BSD-2-Clause */
/* Big-endian loads and stores on byte arrays (callers check bounds first). */
#ifndef JPIP_COMMON_BYTES_H
#define JPIP_COMMON_BYTES_H

#include <stdint.h>

static inline uint16_t jpip__be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t jpip__be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t jpip__be64(const uint8_t *p)
{
    return ((uint64_t)jpip__be32(p) << 32) | jpip__be32(p + 4);
}
static inline void jpip__put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void jpip__put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
