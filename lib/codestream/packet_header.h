/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packet headers (15444-1 B.10): the per-precinct state that persists across layers
 * (inclusion and zero-bit-plane tag trees, Lblock, coding-pass segments of each code-block)
 * and the decoder of one packet header, which yields the header length and the body length.
 * Bodies are never looked at. SOP and EPH framing are the caller's business.
 */
#ifndef JPIP_CODESTREAM_PACKET_HEADER_H
#define JPIP_CODESTREAM_PACKET_HEADER_H

#include "codestream/tagtree.h"
#include "common/status.h"

struct jpip__cblk_state {
    uint8_t included;   /* has contributed to an earlier packet */
    uint8_t lblock;     /* current Lblock */
    uint8_t seg_max;    /* capacity (passes) of the current codeword segment */
    uint8_t seg_passes; /* passes already in the current segment */
    uint16_t seg_index; /* index of the current segment */
};

struct jpip__pband {
    uint32_t cw, ch; /* code-blocks of the precinct in this band */
    uint32_t cblk0;  /* index of its first code-block in the precinct's array */
    struct jpip__tgt incl, imsb;
};

struct jpip__prec_state {
    uint8_t nbands;
    uint8_t cblk_style;
    struct jpip__pband band[3];
    uint32_t ncblk;
    struct jpip__cblk_state *cblk;
};

/* At most this many code-blocks in one precinct (2^20: a 65536 x 65536 sample precinct of 64x64
 * blocks, far beyond real files); larger ones are refused before any allocation, whatever
 * SIZ/COD claim. */
#define JPIP_MAX_PRECINCT_CBLKS (1u << 20)

/* Bytes of storage a precinct state needs for bands of cw[i] x ch[i] code-blocks; 0 when the
 * precinct has more than JPIP_MAX_PRECINCT_CBLKS code-blocks. */
size_t jpip__prec_state_size(unsigned nbands, const uint32_t *cw, const uint32_t *ch);
/* Lay out a precinct state in mem (jpip__prec_state_size bytes, suitably aligned). */
struct jpip__prec_state *jpip__prec_state_init(void *mem, unsigned nbands, const uint32_t *cw,
                                               const uint32_t *ch, uint8_t cblk_style);

/* Decode the header of the packet for layer of this precinct from buf[0..len) (bit-stuffed
 * header only, no SOP/EPH). On success *hdr_len is the bytes the header used and *body_len the
 * sum of its codeword segment lengths. Returns JPIP_AGAIN when len is too short to hold the
 * header (the state is then unchanged: call again with more bytes). off names the position
 * in error messages. */
int jpip__packet_header_decode(struct jpip__prec_state *st, unsigned layer, const uint8_t *buf,
                               size_t len, size_t *hdr_len, uint64_t *body_len, uint64_t off,
                               struct jpip__err *err);

#endif
