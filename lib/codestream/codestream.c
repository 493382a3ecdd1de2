/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Opening a codestream: read the main header (SOC up to the first SOT) into memory, then walk
 * the chain of tile-parts by their SOT lengths, locating each tile-part header and its data.
 * Only marker heads (4 bytes) are read while walking; no packet data is touched.
 */
#include "codestream/codestream.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/bytes.h"
#include "common/source.h"

#define DEFAULT_MAX_HEADER (256u << 20)
#define DEFAULT_MAX_PACKETS (1u << 28)

static int rd(struct jpip__codestream *cs, uint64_t off, void *dst, size_t len)
{
    return jpip__src_read(cs->src, off, dst, len, &cs->err);
}

/* Find the end of the main header: the offset of the first SOT. */
static int main_header_end(struct jpip__codestream *cs, uint64_t *end)
{
    uint8_t b[4];
    JPIP_TRY(rd(cs, 0, b, 2));
    JPIP_FAIL_IF(jpip__be16(b) != JPIP_MK_SOC, &cs->err, JPIP_EMALFORMED,
                 "no SOC marker at offset 0 of the codestream");
    uint64_t pos = 2;
    for (;;) {
        JPIP_FAIL_IF(pos > cs->len || cs->len - pos < 4, &cs->err, JPIP_EMALFORMED,
                     "main header truncated at offset %llu (no SOT found)",
                     (unsigned long long)pos);
        JPIP_TRY(rd(cs, pos, b, 4));
        uint16_t code = jpip__be16(b);
        if (code == JPIP_MK_SOT)
            break;
        JPIP_FAIL_IF(code < 0xFF30, &cs->err, JPIP_EMALFORMED,
                     "expected a marker at offset %llu in the main header, found 0x%04X",
                     (unsigned long long)pos, code);
        if (code <= 0xFF3F) { /* FF30..FF3F: markers without a segment (A.1.3) */
            pos += 2;
            continue;
        }
        uint16_t l = jpip__be16(b + 2);
        JPIP_FAIL_IF(l < 2, &cs->err, JPIP_EMALFORMED, "marker 0x%04X at offset %llu has length %u",
                     code, (unsigned long long)pos, l);
        pos += 2u + l;
        JPIP_FAIL_IF(pos > cs->limits.max_header_bytes, &cs->err, JPIP_ELIMIT,
                     "main header longer than the limit of %llu bytes",
                     (unsigned long long)cs->limits.max_header_bytes);
    }
    *end = pos;
    return JPIP_OK;
}

static int cmp_tp(const void *a, const void *b)
{
    const struct jpip__tilepart *x = a, *y = b;
    if (x->tile != y->tile)
        return x->tile < y->tile ? -1 : 1;
    /* Tile-parts of a tile follow each other in codestream order; TPsot is only 8 bits, and
     * some encoders let it wrap past 255, so the order of appearance is what counts. */
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Walk the tile-part chain from the first SOT. */
static int scan_tileparts(struct jpip__codestream *cs, uint64_t pos)
{
    const struct jpip__siz *siz = &cs->mh.siz;
    uint32_t cap = 0;
    uint8_t b[12];
    while (pos < cs->len) {
        JPIP_TRY(rd(cs, pos, b, 2));
        uint16_t code = jpip__be16(b);
        if (code == JPIP_MK_EOC)
            break;
        JPIP_FAIL_IF(code != JPIP_MK_SOT, &cs->err, JPIP_EMALFORMED,
                     "expected SOT or EOC at offset %llu, found 0x%04X", (unsigned long long)pos,
                     code);
        JPIP_FAIL_IF(cs->len - pos < 12, &cs->err, JPIP_EMALFORMED, "truncated SOT at offset %llu",
                     (unsigned long long)pos);
        JPIP_TRY(rd(cs, pos, b, 12));
        struct jpip__sot sot;
        JPIP_TRY(jpip__sot_parse(&sot, b + 2, 10, pos, &cs->err));
        JPIP_FAIL_IF(sot.isot >= siz->ntiles, &cs->err, JPIP_EMALFORMED,
                     "SOT at offset %llu names tile %u of %u", (unsigned long long)pos, sot.isot,
                     siz->ntiles);
        uint64_t end = 0;
        if (sot.psot == 0) {
            /* Psot 0: the tile-part runs to the end of the codestream (before EOC). */
            end = cs->len;
            if (cs->len >= 2) {
                uint8_t e[2];
                JPIP_TRY(rd(cs, cs->len - 2, e, 2));
                if (jpip__be16(e) == JPIP_MK_EOC)
                    end = cs->len - 2;
            }
        } else {
            JPIP_FAIL_IF(sot.psot < 14, &cs->err, JPIP_EMALFORMED,
                         "SOT at offset %llu: tile-part length %u is too small",
                         (unsigned long long)pos, sot.psot);
            end = pos + sot.psot;
            JPIP_FAIL_IF(end > cs->len, &cs->err, JPIP_EMALFORMED,
                         "tile-part at offset %llu (tile %u, length %u) runs past the end of "
                         "the codestream (%llu bytes): file truncated?",
                         (unsigned long long)pos, sot.isot, sot.psot, (unsigned long long)cs->len);
        }
        /* Tile-part header: marker segments up to SOD. */
        uint64_t h = pos + 12;
        for (;;) {
            JPIP_FAIL_IF(end < h + 2, &cs->err, JPIP_EMALFORMED,
                         "tile-part header at offset %llu has no SOD", (unsigned long long)pos);
            JPIP_TRY(rd(cs, h, b, 2));
            uint16_t mc = jpip__be16(b);
            if (mc == JPIP_MK_SOD)
                break;
            if (mc >= 0xFF30 && mc <= 0xFF3F) {
                h += 2;
                continue;
            }
            JPIP_FAIL_IF(mc < 0xFF30 || end < h + 4, &cs->err, JPIP_EMALFORMED,
                         "expected a marker at offset %llu in a tile-part header, found 0x%04X",
                         (unsigned long long)h, mc);
            JPIP_TRY(rd(cs, h + 2, b + 2, 2));
            uint16_t l = jpip__be16(b + 2);
            JPIP_FAIL_IF(l < 2 || h + 2 + l > end, &cs->err, JPIP_EMALFORMED,
                         "marker 0x%04X at offset %llu has length %u, past its tile-part", mc,
                         (unsigned long long)h, l);
            if (mc == JPIP_MK_PPT)
                cs->has_ppt = 1;
            else if (mc == JPIP_MK_PLT)
                cs->has_plt = 1;
            else if (mc == JPIP_MK_POC)
                cs->has_tile_poc = 1;
            h += 2u + l;
            JPIP_FAIL_IF(h - pos > cs->limits.max_header_bytes, &cs->err, JPIP_ELIMIT,
                         "tile-part header at offset %llu is longer than the limit",
                         (unsigned long long)pos);
        }
        if (cs->ntp == cap) {
            JPIP_FAIL_IF(cap >= (1u << 24), &cs->err, JPIP_ELIMIT, "more than %u tile-parts",
                         1u << 24);
            uint32_t ncap = cap ? cap * 2 : 64;
            struct jpip__tilepart *nv =
                jpip__realloc(cs->alloc, cs->tp, cap * sizeof *nv, (size_t)ncap * sizeof *nv);
            if (!nv)
                return jpip__errf(&cs->err, JPIP_ENOMEM, "out of memory for tile-parts");
            cs->tp = nv;
            cap = ncap;
        }
        struct jpip__tilepart *tp = &cs->tp[cs->ntp];
        tp->sot_off = pos;
        tp->hdr_off = pos + 12;
        tp->hdr_len = (uint32_t)(h - pos - 12);
        tp->data_off = h + 2;
        tp->data_len = end - (h + 2);
        tp->tile = sot.isot;
        tp->tpsot = sot.tpsot;
        tp->tnsot = sot.tnsot;
        tp->seq = cs->ntp++;
        pos = end;
        if (sot.psot == 0)
            break;
    }
    JPIP_FAIL_IF(cs->ntp == 0, &cs->err, JPIP_EMALFORMED, "codestream has no tile-parts");
    qsort(cs->tp, cs->ntp, sizeof *cs->tp, cmp_tp);
    uint32_t nt = siz->ntiles;
    cs->tile_tp = jpip__calloc(cs->alloc, nt, sizeof *cs->tile_tp);
    cs->tile_ntp = jpip__calloc(cs->alloc, nt, sizeof *cs->tile_ntp);
    cs->tiles = jpip__calloc(cs->alloc, nt, sizeof *cs->tiles);
    cs->tile_status = jpip__calloc(cs->alloc, nt, sizeof *cs->tile_status);
    if (!cs->tile_tp || !cs->tile_ntp || !cs->tiles || !cs->tile_status)
        return jpip__errf(&cs->err, JPIP_ENOMEM, "out of memory for %u tiles", nt);
    for (uint32_t i = 0; i < cs->ntp; i++) {
        const struct jpip__tilepart *tp = &cs->tp[i];
        if (cs->tile_ntp[tp->tile] == 0)
            cs->tile_tp[tp->tile] = i;
        JPIP_FAIL_IF(tp->tpsot != (cs->tile_ntp[tp->tile] & 0xFF), &cs->err, JPIP_EMALFORMED,
                     "tile %u: tile-part at offset %llu has index %u, expected %u", tp->tile,
                     (unsigned long long)tp->sot_off, tp->tpsot, cs->tile_ntp[tp->tile] & 0xFF);
        JPIP_FAIL_IF(cs->tile_ntp[tp->tile] == UINT16_MAX, &cs->err, JPIP_ELIMIT,
                     "tile %u has more than 65535 tile-parts", tp->tile);
        cs->tile_ntp[tp->tile]++;
    }
    return JPIP_OK;
}

/* PPM (15444-1 A.7.4): the Ippm bytes of all PPM segments, in Zppm order, form a sequence of
 * chunks, each a 4-byte Nppm then Nppm bytes of packed headers: one chunk per tile-part in
 * codestream order. */
struct ppm_seg {
    uint32_t marker;
    uint8_t z;
};

static int cmp_ppm(const void *x, const void *y)
{
    const struct ppm_seg *a = x, *b = y;
    if (a->z != b->z)
        return a->z < b->z ? -1 : 1;
    return a->marker < b->marker ? -1 : a->marker > b->marker;
}

static int split_ppm(struct jpip__codestream *cs)
{
    const struct jpip__mainhdr *mh = &cs->mh;
    uint64_t total = 0;
    uint32_t nseg = 0;
    for (uint32_t i = 0; i < mh->markers.n; i++)
        if (mh->markers.v[i].code == JPIP_MK_PPM)
            nseg++;
    struct ppm_seg *segs = jpip__calloc(cs->alloc, nseg, sizeof *segs);
    if (!segs)
        return jpip__errf(&cs->err, JPIP_ENOMEM, "out of memory for PPM segments");
    nseg = 0;
    for (uint32_t i = 0; i < mh->markers.n; i++) {
        const struct jpip__marker *m = &mh->markers.v[i];
        if (m->code != JPIP_MK_PPM)
            continue;
        segs[nseg].marker = i;
        segs[nseg].z = cs->mh_buf[m->off + 4];
        nseg++;
        total += m->len - 5;
    }
    qsort(segs, nseg, sizeof *segs, cmp_ppm);
    cs->ppm = jpip__alloc(cs->alloc, (size_t)total);
    if (!cs->ppm) {
        jpip__free(cs->alloc, segs);
        return jpip__errf(&cs->err, JPIP_ENOMEM, "out of memory for PPM data");
    }
    for (uint32_t k = 0; k < nseg; k++) {
        const struct jpip__marker *m = &mh->markers.v[segs[k].marker];
        memcpy(cs->ppm + cs->ppm_len, cs->mh_buf + m->off + 5, m->len - 5);
        cs->ppm_len += m->len - 5;
    }
    jpip__free(cs->alloc, segs);
    cs->ppm_chunk_off = jpip__calloc(cs->alloc, cs->ntp, sizeof *cs->ppm_chunk_off);
    cs->ppm_chunk_len = jpip__calloc(cs->alloc, cs->ntp, sizeof *cs->ppm_chunk_len);
    if (!cs->ppm_chunk_off || !cs->ppm_chunk_len)
        return jpip__errf(&cs->err, JPIP_ENOMEM, "out of memory for PPM chunks");
    uint64_t pos = 0;
    for (uint32_t k = 0; k < cs->ntp; k++) {
        JPIP_FAIL_IF(cs->ppm_len - pos < 4, &cs->err, JPIP_EMALFORMED,
                     "PPM data holds fewer chunks (%u) than there are tile-parts (%u)", k, cs->ntp);
        uint32_t n = jpip__be32(cs->ppm + pos);
        pos += 4;
        JPIP_FAIL_IF(n > cs->ppm_len - pos, &cs->err, JPIP_EMALFORMED,
                     "PPM chunk %u of %u bytes runs past the PPM data", k, n);
        cs->ppm_chunk_off[k] = pos;
        cs->ppm_chunk_len[k] = n;
        pos += n;
    }
    return JPIP_OK;
}

int jpip__cs_open(struct jpip__codestream *cs, const struct jpip_source *src,
                  const struct jpip__cs_limits *limits, const struct jpip_allocator *a)
{
    memset(cs, 0, sizeof *cs);
    cs->src = src;
    cs->len = src->size;
    cs->alloc = a;
    cs->limits.max_header_bytes = DEFAULT_MAX_HEADER;
    cs->limits.max_packets = DEFAULT_MAX_PACKETS;
    if (limits && limits->max_header_bytes)
        cs->limits.max_header_bytes = limits->max_header_bytes;
    if (limits && limits->max_packets)
        cs->limits.max_packets = limits->max_packets;
    uint64_t end = 0;
    JPIP_TRY(main_header_end(cs, &end));
    cs->mh_len = (uint32_t)end;
    cs->mh_buf = jpip__alloc(a, cs->mh_len);
    if (!cs->mh_buf)
        return jpip__errf(&cs->err, JPIP_ENOMEM, "out of memory for the main header");
    JPIP_TRY(rd(cs, 0, cs->mh_buf, cs->mh_len));
    JPIP_TRY(jpip__mainhdr_parse(&cs->mh, cs->mh_buf, cs->mh_len, 0, a, &cs->err));
    JPIP_TRY(scan_tileparts(cs, end));
    if (cs->mh.has_ppm) {
        JPIP_FAIL_IF(cs->has_ppt, &cs->err, JPIP_EMALFORMED, "codestream has both PPM and PPT");
        JPIP_TRY(split_ppm(cs));
    }
    return JPIP_OK;
}

void jpip__cs_close(struct jpip__codestream *cs)
{
    const struct jpip_allocator *a = cs->alloc;
    if (cs->tiles) {
        for (uint32_t t = 0; t < cs->mh.siz.ntiles; t++) {
            if (cs->tiles[t]) {
                jpip__tile_index_free(cs->tiles[t], a);
                jpip__free(a, cs->tiles[t]);
            }
        }
    }
    jpip__free(a, cs->tiles);
    jpip__free(a, cs->tile_status);
    jpip__free(a, cs->tile_tp);
    jpip__free(a, cs->tile_ntp);
    jpip__free(a, cs->tp);
    jpip__free(a, cs->ppm);
    jpip__free(a, cs->ppm_chunk_off);
    jpip__free(a, cs->ppm_chunk_len);
    jpip__free(a, cs->saved_rec);
    jpip__free(a, cs->saved_len);
    jpip__mainhdr_free(&cs->mh, a);
    jpip__free(a, cs->mh_buf);
    memset(cs, 0, sizeof *cs);
}

int jpip__cs_read_tile_data(struct jpip__codestream *cs, uint32_t t, uint64_t off, void *dst,
                            size_t len)
{
    uint8_t *d = dst;
    uint32_t first = cs->tile_tp[t], n = cs->tile_ntp[t];
    for (uint32_t i = 0; i < n && len > 0; i++) {
        const struct jpip__tilepart *tp = &cs->tp[first + i];
        if (off >= tp->data_len) {
            off -= tp->data_len;
            continue;
        }
        uint64_t take = tp->data_len - off;
        if (take > len)
            take = len;
        JPIP_TRY(rd(cs, tp->data_off + off, d, (size_t)take));
        d += take;
        len -= (size_t)take;
        off = 0;
    }
    JPIP_FAIL_IF(len > 0, &cs->err, JPIP_EMALFORMED,
                 "tile %u: read of %zu bytes past the end of its data", t, len);
    return JPIP_OK;
}
