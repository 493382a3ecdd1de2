/* SPDX-License-Identifier: BSD-2-Clause */
/* Packet header decoding (15444-1 B.10; 15444-15 for HT code-block segments). */
#include "codestream/packet_header.h"

#include <string.h>

#include "codestream/cs.h"

#define ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

size_t jpip__prec_state_size(unsigned nbands, const uint32_t *cw, const uint32_t *ch)
{
    uint64_t blocks = 0;
    for (unsigned i = 0; i < nbands; i++)
        blocks += (uint64_t)cw[i] * ch[i];
    if (blocks > JPIP_MAX_PRECINCT_CBLKS)
        return 0;
    size_t n = ALIGN8(sizeof(struct jpip__prec_state));
    for (unsigned i = 0; i < nbands; i++) {
        uint64_t nc = (uint64_t)cw[i] * ch[i];
        n += ALIGN8(nc * sizeof(struct jpip__cblk_state));
        n += 2 * (size_t)jpip__tgt_size(cw[i], ch[i]) * sizeof(struct jpip__tgt_node);
    }
    return n;
}

struct jpip__prec_state *jpip__prec_state_init(void *mem, unsigned nbands, const uint32_t *cw,
                                               const uint32_t *ch, uint8_t cblk_style)
{
    uint8_t *p = mem;
    struct jpip__prec_state *st = mem;
    memset(st, 0, sizeof *st);
    p += ALIGN8(sizeof *st);
    st->nbands = (uint8_t)nbands;
    st->cblk_style = cblk_style;
    uint32_t total = 0;
    for (unsigned i = 0; i < nbands; i++)
        total += cw[i] * ch[i];
    st->ncblk = total;
    st->cblk = (struct jpip__cblk_state *)p;
    memset(st->cblk, 0, (size_t)total * sizeof *st->cblk);
    p += ALIGN8((size_t)total * sizeof *st->cblk);
    uint32_t first = 0;
    for (unsigned i = 0; i < nbands; i++) {
        struct jpip__pband *b = &st->band[i];
        b->cw = cw[i];
        b->ch = ch[i];
        b->cblk0 = first;
        first += cw[i] * ch[i];
        uint32_t nn = jpip__tgt_size(cw[i], ch[i]);
        jpip__tgt_init(&b->incl, cw[i], ch[i], (struct jpip__tgt_node *)p);
        p += (size_t)nn * sizeof(struct jpip__tgt_node);
        jpip__tgt_init(&b->imsb, cw[i], ch[i], (struct jpip__tgt_node *)p);
        p += (size_t)nn * sizeof(struct jpip__tgt_node);
    }
    for (uint32_t k = 0; k < total; k++)
        st->cblk[k].lblock = 3;
    return st;
}

/* Number of coding passes (B.10.6, Table B.4). */
static unsigned read_npasses(struct jpip__bits *b)
{
    if (!jpip__bits_get(b))
        return 1;
    if (!jpip__bits_get(b))
        return 2;
    unsigned n = jpip__bits_read(b, 2);
    if (n != 3)
        return 3 + n;
    n = jpip__bits_read(b, 5);
    if (n != 31)
        return 6 + n;
    return 37 + jpip__bits_read(b, 7);
}

static unsigned floorlog2(unsigned v)
{
    unsigned l = 0;
    while (v >>= 1)
        l++;
    return l;
}

/* Capacity of a new codeword segment (B.10.7 and Annex D: one segment unless the arithmetic
 * coder is terminated; with bypass the first 10 passes, then alternately 2 raw and 1 MQ pass;
 * HT: a cleanup segment of 1 pass, then a refinement segment of up to 2). */
static uint8_t seg_capacity(uint8_t style, unsigned index, uint8_t prev_max)
{
    if (style & JPIP_CBLK_HT)
        return (index & 1) ? 2 : 1;
    if (style & JPIP_CBLK_TERMALL)
        return 1;
    if (style & JPIP_CBLK_BYPASS) {
        if (index == 0)
            return 10;
        return (prev_max == 1 || prev_max == 10) ? 2 : 1;
    }
    return 109;
}

int jpip__packet_header_decode(struct jpip__prec_state *st, unsigned layer, const uint8_t *buf,
                               size_t len, size_t *hdr_len, uint64_t *body_len, uint64_t off,
                               struct jpip__err *err)
{
    /* The state of every touched code-block is saved so a short buffer can be retried. We
     * decode into the live state and, on JPIP_AGAIN, the caller re-runs with a fresh copy:
     * to keep this simple, the decode first runs on a dry pass? No: the caller guarantees
     * retries by snapshotting (see index.c); here we just report. */
    struct jpip__bits b;
    jpip__bits_init(&b, buf, len);
    uint64_t body = 0;
    if (!jpip__bits_get(&b)) {
        jpip__bits_align(&b);
        if (b.marker)
            return jpip__errf(err, JPIP_EMALFORMED,
                              "packet header at offset %llu runs into a marker",
                              (unsigned long long)off);
        if (b.overrun)
            return JPIP_AGAIN;
        *hdr_len = jpip__bits_consumed(&b);
        *body_len = 0;
        return JPIP_OK;
    }
    const uint8_t style = st->cblk_style;
    for (unsigned bi = 0; bi < st->nbands; bi++) {
        struct jpip__pband *band = &st->band[bi];
        uint32_t n = band->cw * band->ch;
        for (uint32_t k = 0; k < n; k++) {
            struct jpip__cblk_state *cb = &st->cblk[band->cblk0 + k];
            int first = !cb->included;
            unsigned inc;
            if (first)
                inc = (unsigned)jpip__tgt_decode(&band->incl, &b, k, layer + 1);
            else
                inc = jpip__bits_get(&b);
            if (b.overrun)
                return JPIP_AGAIN;
            if (!inc)
                continue;
            if (first) {
                uint32_t zbp = jpip__tgt_decode_value(&band->imsb, &b, k, 255);
                if (b.overrun)
                    return JPIP_AGAIN;
                if (zbp == JPIP_TGT_UNKNOWN)
                    return jpip__errf(err, JPIP_EMALFORMED,
                                      "packet header at offset %llu: zero bit-plane count out "
                                      "of range",
                                      (unsigned long long)off);
            }
            unsigned np = read_npasses(&b);
            unsigned incr = 0;
            while (jpip__bits_get(&b)) {
                if (++incr > 64 || b.overrun)
                    break;
            }
            if (b.overrun)
                return JPIP_AGAIN;
            if (incr > 32 || cb->lblock + incr > 64)
                return jpip__errf(err, JPIP_EMALFORMED,
                                  "packet header at offset %llu: Lblock out of range",
                                  (unsigned long long)off);
            cb->lblock = (uint8_t)(cb->lblock + incr);
            /* Place the new passes into codeword segments. */
            if (first) {
                cb->seg_index = 0;
                cb->seg_passes = 0;
                cb->seg_max = seg_capacity(style, 0, 0);
                cb->included = 1;
            } else if (cb->seg_passes == cb->seg_max) {
                uint8_t prev = cb->seg_max;
                cb->seg_index++;
                cb->seg_passes = 0;
                cb->seg_max = seg_capacity(style, cb->seg_index, prev);
            }
            while (np > 0) {
                unsigned take = cb->seg_max - cb->seg_passes;
                if (take > np)
                    take = np;
                unsigned nbits = cb->lblock + floorlog2(take);
                if (nbits > 32)
                    return jpip__errf(err, JPIP_EMALFORMED,
                                      "packet header at offset %llu: codeword length of %u bits",
                                      (unsigned long long)off, nbits);
                body += jpip__bits_read(&b, nbits);
                cb->seg_passes = (uint8_t)(cb->seg_passes + take);
                np -= take;
                if (np > 0) {
                    uint8_t prev = cb->seg_max;
                    cb->seg_index++;
                    cb->seg_passes = 0;
                    cb->seg_max = seg_capacity(style, cb->seg_index, prev);
                }
            }
            if (b.overrun)
                return JPIP_AGAIN;
        }
    }
    jpip__bits_align(&b);
    if (b.marker)
        return jpip__errf(err, JPIP_EMALFORMED,
                          "packet header at offset %llu runs into a marker (0xFF then a byte "
                          "with its top bit set)",
                          (unsigned long long)off);
    if (b.overrun)
        return JPIP_AGAIN;
    *hdr_len = jpip__bits_consumed(&b);
    *body_len = body;
    return JPIP_OK;
}
