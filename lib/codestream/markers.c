/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Marker segment parsing for main and tile-part headers (15444-1 Annex A): splits a header into
 * segments and decodes the ones that shape the packet structure (SIZ, COD, COC, POC, SOT).
 * Quantisation, RGN, CRG and comments are located but kept opaque: the index never needs them
 * and the rebuild copies them byte for byte.
 */
#include <string.h>

#include "codestream/cs.h"
#include "common/alloc.h"
#include "common/bytes.h"

#define MAX_HEADER_MARKERS (1u << 20)

static int list_push(struct jpip__marker_list *l, uint16_t code, uint32_t off, uint32_t len,
                     const struct jpip_allocator *a)
{
    if (l->n == l->cap) {
        if (l->cap >= MAX_HEADER_MARKERS)
            return JPIP_ELIMIT;
        uint32_t ncap = l->cap ? l->cap * 2 : 16;
        struct jpip__marker *nv =
            jpip__realloc(a, l->v, l->cap * sizeof *nv, (size_t)ncap * sizeof *nv);
        if (!nv)
            return JPIP_ENOMEM;
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n].code = code;
    l->v[l->n].off = off;
    l->v[l->n].len = len;
    l->n++;
    return JPIP_OK;
}

void jpip__markers_free(struct jpip__marker_list *list, const struct jpip_allocator *a)
{
    jpip__free(a, list->v);
    list->v = NULL;
    list->n = list->cap = 0;
}

/* Every marker in a header other than SOC carries a 2-byte length (15444-1 A.1.3). */
int jpip__markers_split(struct jpip__marker_list *list, const uint8_t *buf, size_t len,
                        uint64_t base_off, const struct jpip_allocator *a, struct jpip__err *err)
{
    size_t pos = 0;
    if (len > UINT32_MAX)
        return jpip__errf(err, JPIP_ELIMIT, "header of %zu bytes at offset %llu is too large", len,
                          (unsigned long long)base_off);
    while (pos < len) {
        if (len - pos < 2)
            return jpip__errf(err, JPIP_EMALFORMED, "truncated marker at offset %llu",
                              (unsigned long long)(base_off + pos));
        uint16_t code = jpip__be16(buf + pos);
        if (code >= 0xFF30 && code <= 0xFF3F) { /* markers without a segment (A.1.3) */
            int rc = list_push(list, code, (uint32_t)pos, 2, a);
            if (rc < 0)
                return jpip__errf(err, rc, "too many marker segments in header at offset %llu",
                                  (unsigned long long)base_off);
            pos += 2;
            continue;
        }
        if (len - pos < 4)
            return jpip__errf(err, JPIP_EMALFORMED, "truncated marker segment at offset %llu",
                              (unsigned long long)(base_off + pos));
        uint16_t seglen = jpip__be16(buf + pos + 2);
        if (code < 0xFF30)
            return jpip__errf(err, JPIP_EMALFORMED,
                              "expected a marker at offset %llu, found 0x%04X",
                              (unsigned long long)(base_off + pos), code);
        if (seglen < 2 || (size_t)seglen + 2 > len - pos)
            return jpip__errf(err, JPIP_EMALFORMED,
                              "marker 0x%04X at offset %llu has length %u, past the end of the "
                              "header",
                              code, (unsigned long long)(base_off + pos), seglen);
        int rc = list_push(list, code, (uint32_t)pos, (uint32_t)seglen + 2, a);
        if (rc < 0)
            return jpip__errf(err, rc, "too many marker segments in header at offset %llu",
                              (unsigned long long)base_off);
        pos += (size_t)seglen + 2;
    }
    return JPIP_OK;
}

static int parse_siz(struct jpip__siz *s, const uint8_t *p, uint32_t len, uint64_t off,
                     const struct jpip_allocator *a, struct jpip__err *err)
{
    /* p points at the marker code; len includes it. 15444-1 Table A.9. */
    JPIP_FAIL_IF(len < 2 + 38 + 3, err, JPIP_EMALFORMED, "SIZ at offset %llu is too short",
                 (unsigned long long)off);
    const uint8_t *b = p + 4;
    s->rsiz = jpip__be16(b);
    s->xsiz = jpip__be32(b + 2);
    s->ysiz = jpip__be32(b + 6);
    s->xosiz = jpip__be32(b + 10);
    s->yosiz = jpip__be32(b + 14);
    s->xtsiz = jpip__be32(b + 18);
    s->ytsiz = jpip__be32(b + 22);
    s->xtosiz = jpip__be32(b + 26);
    s->ytosiz = jpip__be32(b + 30);
    s->csiz = jpip__be16(b + 34);
    JPIP_FAIL_IF(s->csiz == 0 || s->csiz > JPIP_MAX_COMPONENTS, err, JPIP_EMALFORMED,
                 "SIZ at offset %llu: %u components (1..%u allowed)", (unsigned long long)off,
                 s->csiz, JPIP_MAX_COMPONENTS);
    JPIP_FAIL_IF(len != 2 + 38u + 3u * s->csiz, err, JPIP_EMALFORMED,
                 "SIZ at offset %llu: length %u does not match %u components",
                 (unsigned long long)off, len - 2, s->csiz);
    JPIP_FAIL_IF(s->xsiz <= s->xosiz || s->ysiz <= s->yosiz, err, JPIP_EMALFORMED,
                 "SIZ at offset %llu: empty image area (%u..%u x %u..%u)", (unsigned long long)off,
                 s->xosiz, s->xsiz, s->yosiz, s->ysiz);
    JPIP_FAIL_IF(s->xtsiz == 0 || s->ytsiz == 0, err, JPIP_EMALFORMED,
                 "SIZ at offset %llu: zero tile size", (unsigned long long)off);
    JPIP_FAIL_IF(s->xtosiz > s->xosiz || s->ytosiz > s->yosiz ||
                     (uint64_t)s->xtosiz + s->xtsiz <= s->xosiz ||
                     (uint64_t)s->ytosiz + s->ytsiz <= s->yosiz,
                 err, JPIP_EMALFORMED,
                 "SIZ at offset %llu: the first tile does not cover the image origin",
                 (unsigned long long)off);
    uint64_t ntx = ((uint64_t)s->xsiz - s->xtosiz + s->xtsiz - 1) / s->xtsiz;
    uint64_t nty = ((uint64_t)s->ysiz - s->ytosiz + s->ytsiz - 1) / s->ytsiz;
    JPIP_FAIL_IF(ntx * nty > 65535, err, JPIP_EMALFORMED,
                 "SIZ at offset %llu: %llu tiles (at most 65535)", (unsigned long long)off,
                 (unsigned long long)(ntx * nty));
    s->ntx = (uint32_t)ntx;
    s->nty = (uint32_t)nty;
    s->ntiles = (uint32_t)(ntx * nty);
    s->comp = jpip__calloc(a, s->csiz, sizeof *s->comp);
    if (!s->comp)
        return jpip__errf(err, JPIP_ENOMEM, "out of memory for %u components", s->csiz);
    for (uint32_t c = 0; c < s->csiz; c++) {
        const uint8_t *q = b + 36 + 3 * c;
        s->comp[c].depth = (uint8_t)((q[0] & 0x7F) + 1);
        s->comp[c].sgnd = (uint8_t)(q[0] >> 7);
        s->comp[c].dx = q[1];
        s->comp[c].dy = q[2];
        JPIP_FAIL_IF(s->comp[c].depth > 38 || q[1] == 0 || q[2] == 0, err, JPIP_EMALFORMED,
                     "SIZ at offset %llu: component %u has depth %u, subsampling %ux%u",
                     (unsigned long long)off, c, s->comp[c].depth, q[1], q[2]);
    }
    return JPIP_OK;
}

/* SPcod/SPcoc (15444-1 Table A.15). p points at the NL byte; avail bytes remain. */
static int parse_spco(struct jpip__tccp *t, int user_prec, const uint8_t *p, uint32_t avail,
                      uint64_t off, const char *what, struct jpip__err *err)
{
    JPIP_FAIL_IF(avail < 5, err, JPIP_EMALFORMED, "%s at offset %llu is too short", what,
                 (unsigned long long)off);
    t->nl = p[0];
    JPIP_FAIL_IF(t->nl > JPIP_MAX_LEVELS, err, JPIP_EMALFORMED,
                 "%s at offset %llu: %u decomposition levels (at most 32)", what,
                 (unsigned long long)off, t->nl);
    JPIP_FAIL_IF(p[1] > 8 || p[2] > 8 || p[1] + p[2] > 8, err, JPIP_EMALFORMED,
                 "%s at offset %llu: code-block size exponents %u,%u out of range", what,
                 (unsigned long long)off, p[1] + 2, p[2] + 2);
    t->xcb = (uint8_t)(p[1] + 2);
    t->ycb = (uint8_t)(p[2] + 2);
    t->cblk_style = p[3];
    t->wavelet = p[4];
    JPIP_FAIL_IF(t->wavelet > 1, err, JPIP_EUNSUPPORTED,
                 "%s at offset %llu: wavelet transform %u (Part 2 kernels) is not supported", what,
                 (unsigned long long)off, t->wavelet);
    t->user_prec = (uint8_t)(user_prec != 0);
    if (user_prec) {
        JPIP_FAIL_IF(avail != 5u + t->nl + 1u, err, JPIP_EMALFORMED,
                     "%s at offset %llu: length does not match %u precinct sizes", what,
                     (unsigned long long)off, t->nl + 1);
        for (unsigned r = 0; r <= t->nl; r++) {
            uint8_t v = p[5 + r];
            t->ppx[r] = v & 0x0F;
            t->ppy[r] = v >> 4;
            JPIP_FAIL_IF(r > 0 && (t->ppx[r] == 0 || t->ppy[r] == 0), err, JPIP_EMALFORMED,
                         "%s at offset %llu: precinct exponent 0 at resolution %u", what,
                         (unsigned long long)off, r);
        }
    } else {
        JPIP_FAIL_IF(avail != 5, err, JPIP_EMALFORMED,
                     "%s at offset %llu: unexpected length without precinct sizes", what,
                     (unsigned long long)off);
        for (unsigned r = 0; r <= t->nl; r++)
            t->ppx[r] = t->ppy[r] = 15;
    }
    return JPIP_OK;
}

struct cod_seg {
    uint8_t scod, prog, mct;
    uint16_t layers;
    struct jpip__tccp tccp;
};

static int parse_cod(struct cod_seg *c, const uint8_t *p, uint32_t len, uint64_t off,
                     struct jpip__err *err)
{
    JPIP_FAIL_IF(len < 4 + 5 + 5, err, JPIP_EMALFORMED, "COD at offset %llu is too short",
                 (unsigned long long)off);
    c->scod = p[4];
    c->prog = p[5];
    c->layers = jpip__be16(p + 6);
    c->mct = p[8];
    JPIP_FAIL_IF(c->prog > 4, err, JPIP_EMALFORMED, "COD at offset %llu: progression order %u",
                 (unsigned long long)off, c->prog);
    JPIP_FAIL_IF(c->layers == 0, err, JPIP_EMALFORMED, "COD at offset %llu: zero layers",
                 (unsigned long long)off);
    JPIP_FAIL_IF((c->scod & ~0x07) != 0, err, JPIP_EUNSUPPORTED,
                 "COD at offset %llu: coding style 0x%02X has Part 2 bits", (unsigned long long)off,
                 c->scod);
    memset(&c->tccp, 0, sizeof c->tccp);
    return parse_spco(&c->tccp, c->scod & 1, p + 9, len - 9, off, "COD", err);
}

/* COC: component index is 1 byte when Csiz < 257, else 2 (15444-1 Table A.17). */
static int parse_coc(uint16_t *comp, struct jpip__tccp *t, uint16_t csiz, const uint8_t *p,
                     uint32_t len, uint64_t off, struct jpip__err *err)
{
    unsigned ib = csiz < 257 ? 1 : 2;
    JPIP_FAIL_IF(len < 4 + ib + 1 + 5, err, JPIP_EMALFORMED, "COC at offset %llu is too short",
                 (unsigned long long)off);
    *comp = ib == 1 ? p[4] : jpip__be16(p + 4);
    JPIP_FAIL_IF(*comp >= csiz, err, JPIP_EMALFORMED, "COC at offset %llu names component %u of %u",
                 (unsigned long long)off, *comp, csiz);
    uint8_t scoc = p[4 + ib];
    memset(t, 0, sizeof *t);
    return parse_spco(t, scoc & 1, p + 5 + ib, len - 5 - ib, off, "COC", err);
}

static int parse_poc(struct jpip__coding *cod, uint16_t csiz, const uint8_t *p, uint32_t len,
                     uint64_t off, const struct jpip_allocator *a, struct jpip__err *err)
{
    unsigned ib = csiz < 257 ? 1 : 2;
    unsigned esz = 5 + 2 * ib;
    uint32_t body = len - 4;
    JPIP_FAIL_IF(body == 0 || body % esz != 0, err, JPIP_EMALFORMED,
                 "POC at offset %llu: length %u is not a multiple of %u", (unsigned long long)off,
                 body + 2, esz);
    uint32_t n = body / esz;
    JPIP_FAIL_IF(cod->npoc + n > 65535, err, JPIP_ELIMIT, "POC at offset %llu: too many entries",
                 (unsigned long long)off);
    struct jpip__poc *nv =
        jpip__realloc(a, cod->poc, cod->npoc * sizeof *nv, (size_t)(cod->npoc + n) * sizeof *nv);
    if (!nv)
        return jpip__errf(err, JPIP_ENOMEM, "out of memory for POC");
    cod->poc = nv;
    const uint8_t *q = p + 4;
    for (uint32_t i = 0; i < n; i++, q += esz) {
        struct jpip__poc *e = &cod->poc[cod->npoc + i];
        e->rs = q[0];
        e->cs = ib == 1 ? q[1] : jpip__be16(q + 1);
        e->lye = jpip__be16(q + 1 + ib);
        e->re = q[3 + ib];
        e->ce = ib == 1 ? q[4 + ib] : jpip__be16(q + 4 + ib);
        if (ib == 1 && e->ce == 0)
            e->ce = 256; /* CEpoc 0 means 256 (Table A.32) */
        e->prog = q[3 + 2 * ib + 1];
        JPIP_FAIL_IF(e->prog > 4, err, JPIP_EMALFORMED, "POC at offset %llu: progression order %u",
                     (unsigned long long)off, e->prog);
    }
    cod->npoc = (uint16_t)(cod->npoc + n);
    return JPIP_OK;
}

static void apply_cod(struct jpip__coding *dst, const struct cod_seg *c, uint16_t csiz,
                      int override_coc)
{
    dst->scod = c->scod;
    dst->prog = c->prog;
    dst->layers = c->layers;
    dst->mct = c->mct;
    for (uint16_t i = 0; i < csiz; i++)
        if (override_coc || !dst->coc_set[i])
            dst->tccp[i] = c->tccp;
}

int jpip__mainhdr_parse(struct jpip__mainhdr *mh, const uint8_t *buf, size_t len, uint64_t base_off,
                        const struct jpip_allocator *a, struct jpip__err *err)
{
    memset(mh, 0, sizeof *mh);
    JPIP_FAIL_IF(len < 2 || jpip__be16(buf) != JPIP_MK_SOC, err, JPIP_EMALFORMED,
                 "no SOC marker at offset %llu", (unsigned long long)base_off);
    JPIP_TRY(jpip__markers_split(&mh->markers, buf + 2, len - 2, base_off + 2, a, err));
    /* Marker offsets are relative to buf. */
    for (uint32_t i = 0; i < mh->markers.n; i++)
        mh->markers.v[i].off += 2;
    JPIP_FAIL_IF(mh->markers.n == 0 || mh->markers.v[0].code != JPIP_MK_SIZ, err, JPIP_EMALFORMED,
                 "SIZ must follow SOC at offset %llu", (unsigned long long)(base_off + 2));
    const struct jpip__marker *m = &mh->markers.v[0];
    JPIP_TRY(parse_siz(&mh->siz, buf + m->off, m->len, base_off + m->off, a, err));
    uint16_t csiz = mh->siz.csiz;
    mh->cod.tccp = jpip__calloc(a, csiz, sizeof *mh->cod.tccp);
    mh->cod.coc_set = jpip__calloc(a, csiz, 1);
    if (!mh->cod.tccp || !mh->cod.coc_set)
        return jpip__errf(err, JPIP_ENOMEM, "out of memory for %u components", csiz);
    struct cod_seg cod;
    for (uint32_t i = 1; i < mh->markers.n; i++) {
        m = &mh->markers.v[i];
        const uint8_t *p = buf + m->off;
        uint64_t off = base_off + m->off;
        switch (m->code) {
        case JPIP_MK_SIZ:
            return jpip__errf(err, JPIP_EMALFORMED, "second SIZ at offset %llu",
                              (unsigned long long)off);
        case JPIP_MK_COD:
            JPIP_FAIL_IF(mh->has_cod, err, JPIP_EMALFORMED, "second COD at offset %llu",
                         (unsigned long long)off);
            JPIP_TRY(parse_cod(&cod, p, m->len, off, err));
            apply_cod(&mh->cod, &cod, csiz, 0);
            mh->has_cod = 1;
            break;
        case JPIP_MK_COC: {
            uint16_t c;
            struct jpip__tccp t;
            JPIP_TRY(parse_coc(&c, &t, csiz, p, m->len, off, err));
            mh->cod.tccp[c] = t;
            mh->cod.coc_set[c] = 1;
            break;
        }
        case JPIP_MK_QCD:
            JPIP_FAIL_IF(m->len < 5, err, JPIP_EMALFORMED, "QCD at offset %llu is too short",
                         (unsigned long long)off);
            mh->has_qcd = 1;
            mh->qcd_style = p[4] & 0x1F;
            mh->qcd_guard_bits = p[4] >> 5;
            break;
        case JPIP_MK_POC: JPIP_TRY(parse_poc(&mh->cod, csiz, p, m->len, off, a, err)); break;
        case JPIP_MK_TLM: mh->has_tlm = 1; break;
        case JPIP_MK_PLM: mh->has_plm = 1; break;
        case JPIP_MK_PPM:
            JPIP_FAIL_IF(m->len < 5, err, JPIP_EMALFORMED, "PPM at offset %llu is too short",
                         (unsigned long long)off);
            mh->has_ppm = 1;
            break;
        case JPIP_MK_CAP: mh->has_cap = 1; break;
        case JPIP_MK_SOT:
        case JPIP_MK_SOD:
        case JPIP_MK_EOC:
        case JPIP_MK_PLT:
        case JPIP_MK_PPT:
            return jpip__errf(err, JPIP_EMALFORMED,
                              "marker 0x%04X at offset %llu is not allowed in the main header",
                              m->code, (unsigned long long)off);
        default: break; /* QCC, RGN, CRG, COM, CPF, Part 2 segments: kept opaque */
        }
    }
    JPIP_FAIL_IF(!mh->has_cod, err, JPIP_EMALFORMED, "main header at offset %llu has no COD marker",
                 (unsigned long long)base_off);
    JPIP_FAIL_IF(!mh->has_qcd, err, JPIP_EMALFORMED, "main header at offset %llu has no QCD marker",
                 (unsigned long long)base_off);
    return JPIP_OK;
}

void jpip__coding_free(struct jpip__coding *c, const struct jpip_allocator *a)
{
    jpip__free(a, c->poc);
    jpip__free(a, c->tccp);
    jpip__free(a, c->coc_set);
    memset(c, 0, sizeof *c);
}

void jpip__mainhdr_free(struct jpip__mainhdr *mh, const struct jpip_allocator *a)
{
    jpip__free(a, mh->siz.comp);
    jpip__coding_free(&mh->cod, a);
    jpip__markers_free(&mh->markers, a);
    memset(mh, 0, sizeof *mh);
}

int jpip__coding_copy(struct jpip__coding *dst, const struct jpip__coding *src, uint16_t csiz,
                      const struct jpip_allocator *a)
{
    *dst = *src;
    dst->poc = NULL;
    dst->tccp = jpip__calloc(a, csiz, sizeof *dst->tccp);
    dst->coc_set = jpip__calloc(a, csiz, 1);
    if (src->npoc)
        dst->poc = jpip__calloc(a, src->npoc, sizeof *dst->poc);
    if (!dst->tccp || !dst->coc_set || (src->npoc && !dst->poc)) {
        jpip__coding_free(dst, a);
        return JPIP_ENOMEM;
    }
    memcpy(dst->tccp, src->tccp, csiz * sizeof *dst->tccp);
    memset(dst->coc_set, 0, csiz); /* COC flags are per header level */
    if (src->npoc)
        memcpy(dst->poc, src->poc, src->npoc * sizeof *dst->poc);
    return JPIP_OK;
}

int jpip__tilehdr_apply(struct jpip__coding *tile, int *tile_has_poc, const struct jpip__siz *siz,
                        const uint8_t *buf, size_t len, uint64_t base_off, int first_tp,
                        const struct jpip_allocator *a, struct jpip__err *err)
{
    struct jpip__marker_list l = {0};
    int rc = jpip__markers_split(&l, buf, len, base_off, a, err);
    for (uint32_t i = 0; rc >= 0 && i < l.n; i++) {
        const struct jpip__marker *m = &l.v[i];
        const uint8_t *p = buf + m->off;
        uint64_t off = base_off + m->off;
        switch (m->code) {
        case JPIP_MK_COD: {
            struct cod_seg cod;
            if (!first_tp) {
                rc = jpip__errf(err, JPIP_EMALFORMED,
                                "COD at offset %llu in a tile-part other than the first",
                                (unsigned long long)off);
                break;
            }
            rc = parse_cod(&cod, p, m->len, off, err);
            if (rc >= 0)
                apply_cod(tile, &cod, siz->csiz, 0);
            break;
        }
        case JPIP_MK_COC: {
            uint16_t c;
            struct jpip__tccp t;
            if (!first_tp) {
                rc = jpip__errf(err, JPIP_EMALFORMED,
                                "COC at offset %llu in a tile-part other than the first",
                                (unsigned long long)off);
                break;
            }
            rc = parse_coc(&c, &t, siz->csiz, p, m->len, off, err);
            if (rc >= 0) {
                tile->tccp[c] = t;
                tile->coc_set[c] = 1;
            }
            break;
        }
        case JPIP_MK_POC:
            if (!*tile_has_poc) {
                tile->npoc = 0; /* tile POC replaces the main header's */
                *tile_has_poc = 1;
            }
            rc = parse_poc(tile, siz->csiz, p, m->len, off, a, err);
            break;
        case JPIP_MK_SIZ:
        case JPIP_MK_TLM:
        case JPIP_MK_PLM:
        case JPIP_MK_PPM:
        case JPIP_MK_CAP:
        case JPIP_MK_SOT:
        case JPIP_MK_SOC:
        case JPIP_MK_EOC:
            rc = jpip__errf(err, JPIP_EMALFORMED,
                            "marker 0x%04X at offset %llu is not allowed in a tile-part header",
                            m->code, (unsigned long long)off);
            break;
        default: break;
        }
    }
    jpip__markers_free(&l, a);
    return rc < 0 ? rc : JPIP_OK;
}

int jpip__sot_parse(struct jpip__sot *sot, const uint8_t *p, size_t len, uint64_t off,
                    struct jpip__err *err)
{
    JPIP_FAIL_IF(len < 10, err, JPIP_EMALFORMED, "truncated SOT at offset %llu",
                 (unsigned long long)off);
    JPIP_FAIL_IF(jpip__be16(p) != 10, err, JPIP_EMALFORMED,
                 "SOT at offset %llu has length %u (10 expected)", (unsigned long long)off,
                 jpip__be16(p));
    sot->isot = jpip__be16(p + 2);
    sot->psot = jpip__be32(p + 4);
    sot->tpsot = p[8];
    sot->tnsot = p[9];
    return JPIP_OK;
}
