/* SPDX-License-Identifier: BSD-2-Clause */
/* Header segments for a codestream with fewer resolution levels (see shrink.h). */
#include "codestream/shrink.h"

#include <string.h>

#include "common/bytes.h"

static uint32_t ceil_shift(uint32_t v, unsigned d)
{
    return (uint32_t)(((uint64_t)v + ((uint64_t)1 << d) - 1) >> d);
}

static uint32_t tiles_across(uint32_t size, uint32_t toff, uint32_t tsize)
{
    return (uint32_t)(((uint64_t)size - toff + tsize - 1) / tsize);
}

/* SIZ: FF51 Lsiz Rsiz Xsiz Ysiz XOsiz YOsiz XTsiz YTsiz XTOsiz YTOsiz Csiz ... */
static int shrink_siz(uint8_t *s, size_t len, unsigned d, struct jpip__err *err)
{
    if (len < 40)
        return jpip__errf(err, JPIP_EMALFORMED, "SIZ segment of %zu bytes", len);
    uint32_t v[8], n[8];
    for (int i = 0; i < 8; i++)
        v[i] = jpip__be32(s + 6 + 4 * i);
    /* 0 Xsiz, 1 Ysiz, 2 XOsiz, 3 YOsiz, 4 XTsiz, 5 YTsiz, 6 XTOsiz, 7 YTOsiz */
    for (int k = 0; k < 2; k++) {
        uint32_t size = v[k], off = v[2 + k], tsize = v[4 + k], toff = v[6 + k];
        if (tsize == 0 || toff > off || size <= off)
            return jpip__errf(err, JPIP_EMALFORMED, "bad SIZ geometry");
        uint32_t ns = ceil_shift(size, d), no = ceil_shift(off, d), nto = ceil_shift(toff, d);
        uint32_t nts;
        if (tiles_across(size, toff, tsize) == 1) {
            nts = ns - nto; /* one tile across: it covers the whole shrunk width */
        } else {
            if (tsize & (((uint32_t)1 << d) - 1))
                return jpip__errf(err, JPIP_EUNSUPPORTED, "tile size %u is not a multiple of 2^%u",
                                  tsize, d);
            nts = tsize >> d;
        }
        if (ns <= no || nts == 0 || nto + nts <= no ||
            tiles_across(ns, nto, nts) != tiles_across(size, toff, tsize))
            return jpip__errf(err, JPIP_EUNSUPPORTED, "the tile grid does not shrink by 2^%u", d);
        n[k] = ns, n[2 + k] = no, n[4 + k] = nts, n[6 + k] = nto;
    }
    for (int i = 0; i < 8; i++)
        jpip__put_be32(s + 6 + 4 * i, n[i]);
    return JPIP_OK;
}

/* Coding style parameters at p (NL, xcb, ycb, style, transform, [precincts]) inside the
 * segment seg of length len: drops d levels. Writes the shrunk segment to out. */
static int shrink_spcod(struct jpip__buf *out, const uint8_t *seg, size_t len, size_t p,
                        int has_prec, unsigned d, struct jpip__err *err)
{
    if (len < p + 5)
        return jpip__errf(err, JPIP_EMALFORMED, "coding style segment of %zu bytes", len);
    unsigned nl = seg[p];
    if (nl < d)
        return jpip__errf(err, JPIP_EUNSUPPORTED, "%u levels, fewer than the %u to drop", nl, d);
    size_t keep = has_prec ? p + 5 + (nl - d) + 1 : p + 5;
    if (has_prec && len < p + 5 + nl + 1)
        return jpip__errf(err, JPIP_EMALFORMED, "precinct sizes missing");
    size_t at = out->len;
    JPIP_TRY(jpip__buf_append(out, seg, keep));
    out->data[at + p] = (uint8_t)(nl - d);
    jpip__put_be16(out->data + at + 2, (uint16_t)(keep - 2));
    return JPIP_OK;
}

/* Quantization parameters at p (Sq, then per-subband values): drops the 3d last subbands. */
static int shrink_spqcd(struct jpip__buf *out, const uint8_t *seg, size_t len, size_t p, unsigned d,
                        struct jpip__err *err)
{
    if (len < p + 1)
        return jpip__errf(err, JPIP_EMALFORMED, "quantization segment of %zu bytes", len);
    unsigned style = seg[p] & 0x1F;
    size_t each = style == 0 ? 1 : 2, keep = len;
    if (style != 1) { /* no quantization or expounded: one value per subband */
        size_t bands = (len - p - 1) / each;
        if (bands < 3u * d + 1)
            return jpip__errf(err, JPIP_EUNSUPPORTED, "%zu subbands, too few to drop %u levels",
                              bands, d);
        keep = p + 1 + (bands - 3u * d) * each;
    }
    size_t at = out->len;
    JPIP_TRY(jpip__buf_append(out, seg, keep));
    jpip__put_be16(out->data + at + 2, (uint16_t)(keep - 2));
    return JPIP_OK;
}

int jpip__shrink_segments(struct jpip__buf *out, const uint8_t *hdr, size_t len, unsigned d,
                          uint16_t csiz, const struct jpip_allocator *a, struct jpip__err *err)
{
    struct jpip__marker_list ml = {0};
    int rc = jpip__markers_split(&ml, hdr, len, 0, a, err);
    for (uint32_t i = 0; rc >= 0 && i < ml.n; i++) {
        const struct jpip__marker *m = &ml.v[i];
        const uint8_t *seg = hdr + m->off;
        size_t cidx = csiz > 256 ? 2 : 1; /* bytes of Ccoc / Cqcc */
        switch (m->code) {
        case JPIP_MK_SIZ: {
            size_t at = out->len;
            rc = jpip__buf_append(out, seg, m->len);
            if (rc >= 0)
                rc = shrink_siz(out->data + at, m->len, d, err);
            if (rc >= 0 && m->len >= 40)
                csiz = jpip__be16(seg + 38);
            break;
        }
        case JPIP_MK_COD:
            rc = m->len < 5 ? jpip__errf(err, JPIP_EMALFORMED, "COD segment too short")
                            : shrink_spcod(out, seg, m->len, 9, seg[4] & 1, d, err);
            break;
        case JPIP_MK_COC:
            rc = m->len < 5 + cidx
                     ? jpip__errf(err, JPIP_EMALFORMED, "COC segment too short")
                     : shrink_spcod(out, seg, m->len, 5 + cidx, seg[4 + cidx] & 1, d, err);
            break;
        case JPIP_MK_QCD: rc = shrink_spqcd(out, seg, m->len, 4, d, err); break;
        case JPIP_MK_QCC: rc = shrink_spqcd(out, seg, m->len, 4 + cidx, d, err); break;
        default: rc = jpip__buf_append(out, seg, m->len); break;
        }
    }
    jpip__markers_free(&ml, a);
    return rc;
}
