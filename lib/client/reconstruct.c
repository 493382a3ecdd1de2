/* SPDX-License-Identifier: BSD-2-Clause */
/* Codestream reconstruction from data-bins (see reconstruct.h). */
#include "client/reconstruct.h"

#include <string.h>

#include "codestream/packet_header.h"
#include "codestream/progression.h"
#include "codestream/rebuild.h"
#include "codestream/shrink.h"
#include "common/alloc.h"
#include "common/bytes.h"
#include "databin/window.h"

struct rc_state {
    const struct jpip__bin_source *src;
    uint64_t cs;
    const struct jpip__mainhdr *mh;
    struct jpip__tile_index *ti;
    const struct jpip__reconstruct_opts *o;
    const struct jpip_allocator *a;
    struct jpip__buf *out;
    struct jpip__reconstruct_stats *st;
    struct jpip__err *err;
    /* current precinct */
    uint32_t g;
    int have_g;
    const uint8_t *bin;
    uint64_t bin_len, pos;
    int usable; /* packets can still be taken from the bin */
    int whole;  /* the bin is complete and every layer is wanted: copy it at once */
    struct jpip__prec_state *ps;
    void *ps_mem;
    size_t ps_cap;
    uint16_t nsop;
    int prog;
    /* Cropped rebuild of a single-tile image: ti is the cropped tile's layout, orig the
     * original's, which names the precinct data-bins. */
    const struct jpip__tile_index *orig;
};

static int prec_begin(struct rc_state *s, uint32_t g)
{
    const struct jpip__tile_index *ti = s->ti;
    uint16_t c;
    uint8_t r;
    uint32_t p;
    jpip__prec_locate(ti, g, &c, &r, &p);
    s->g = g;
    s->have_g = 1;
    s->pos = 0;
    s->bin = NULL;
    s->bin_len = 0;
    s->usable = 0;
    s->whole = 0;
    uint64_t sseq = ti->comp[c].res[r].s_base + p;
    if (s->orig) { /* the same precinct, numbered in the original tile */
        const struct jpip__tccp *tcc = &ti->coding.tccp[c];
        const struct jpip__res_layout *cr = &ti->comp[c].res[r], *orr = &s->orig->comp[c].res[r];
        uint32_t col = (cr->rect.x0 >> tcc->ppx[r]) + p % cr->npw - (orr->rect.x0 >> tcc->ppx[r]);
        uint32_t row = (cr->rect.y0 >> tcc->ppy[r]) + p / cr->npw - (orr->rect.y0 >> tcc->ppy[r]);
        sseq = orr->s_base + (uint64_t)row * orr->npw + col;
    }
    uint64_t id = ti->tile + (c + sseq * s->mh->siz.csiz) * (uint64_t)s->mh->siz.ntiles;
    int complete;
    if (s->src->get(s->src->user, 0, s->cs, id, &s->bin, &s->bin_len, &complete) < 0 || !s->bin)
        return JPIP_OK;
    /* A complete bin is every packet of the precinct, which RPCL writes one after another:
     * no header needs parsing when all of them are wanted. */
    if (complete && s->prog == JPIP_RPCL && (s->o->layers == 0 || s->o->layers >= ti->nlayers)) {
        s->whole = 1;
        return JPIP_OK;
    }
    /* Parser state for this precinct's code-blocks. */
    const struct jpip__tccp *tc = &ti->coding.tccp[c];
    const struct jpip__res_layout *rl = &ti->comp[c].res[r];
    uint32_t cw[3] = {0}, ch[3] = {0};
    unsigned nb = r == 0 ? 1 : 3;
    for (unsigned b = 0; b < nb; b++) {
        struct jpip__rect br;
        struct jpip__cblk_span sp;
        jpip__band_rect(&ti->comp[c].rect, tc->nl, r, r == 0 ? 0 : b + 1, &br);
        if (br.x1 <= br.x0 || br.y1 <= br.y0)
            continue;
        jpip__prec_cblks(&rl->rect, &br, r, tc->ppx[r], tc->ppy[r], tc->xcb, tc->ycb, p % rl->npw,
                         p / rl->npw, &sp);
        cw[b] = sp.cw;
        ch[b] = sp.ch;
    }
    size_t need = jpip__prec_state_size(nb, cw, ch);
    if (need == 0)
        return JPIP_OK; /* absurdly large precinct: its packets are written empty */
    if (need > s->ps_cap) {
        void *m = jpip__realloc(s->a, s->ps_mem, 0, need);
        if (!m)
            return JPIP_ENOMEM;
        s->ps_mem = m;
        s->ps_cap = need;
    }
    s->ps = jpip__prec_state_init(s->ps_mem, nb, cw, ch, tc->cblk_style);
    s->usable = 1;
    return JPIP_OK;
}

/* Length of the next whole packet in the bin, or 0 when the bin holds no more whole packet. */
static uint64_t next_packet(struct rc_state *s, unsigned layer)
{
    if (!s->usable)
        return 0;
    uint8_t scod = s->ti->coding.scod;
    uint64_t p = s->pos, n = s->bin_len;
    if ((scod & 2) && n - p >= 2 && jpip__be16(s->bin + p) == JPIP_MK_SOP) {
        if (n - p < 6)
            goto stop;
        p += 6;
    }
    size_t hl;
    uint64_t bl;
    struct jpip__err e;
    if (jpip__packet_header_decode(s->ps, layer, s->bin + p, (size_t)(n - p), &hl, &bl, p, &e) !=
        JPIP_OK)
        goto stop;
    p += hl;
    if (scod & 4) { /* EPH is mandatory when signalled */
        if (n - p < 2 || jpip__be16(s->bin + p) != JPIP_MK_EPH)
            goto stop;
        p += 2;
    }
    if (bl > n - p)
        goto stop;
    p += bl;
    return p - s->pos;
stop:
    s->usable = 0; /* the state may be partly advanced: no later packet can be trusted */
    return 0;
}

static int on_packet(void *user, uint32_t g, uint16_t l)
{
    struct rc_state *s = user;
    const struct jpip__tile_index *ti = s->ti;
    uint16_t c;
    uint8_t r;
    uint32_t p;
    jpip__prec_locate(ti, g, &c, &r, &p);
    unsigned nl = ti->coding.tccp[c].nl;
    if (nl >= s->o->discard && r > nl - s->o->discard)
        /* Resolutions above the kept ones are written as empty packets: leaving them out
         * (ending the RPCL tile early) makes OpenJPEG 2.5.0 fail on some tiled files. */
        return jpip__rebuild_empty_packet(s->out, ti->coding.scod, s->nsop++);
    if (!s->have_g || s->g != g)
        JPIP_TRY(prec_begin(s, g));
    uint16_t nsop = s->nsop++;
    if (s->whole) {
        if (l == 0) {
            JPIP_TRY(jpip__buf_append(s->out, s->bin, (size_t)s->bin_len));
            s->st->bytes_copied += s->bin_len;
        }
        s->st->packets_copied++;
        return 0;
    }
    uint64_t len = 0;
    if (s->o->layers == 0 || l < s->o->layers)
        len = next_packet(s, l);
    else
        s->usable = 0;
    if (len) {
        JPIP_TRY(jpip__buf_append(s->out, s->bin + s->pos, (size_t)len));
        s->pos += len;
        s->st->packets_copied++;
        s->st->bytes_copied += len;
        return 0;
    }
    s->st->packets_empty++;
    return jpip__rebuild_empty_packet(s->out, ti->coding.scod, nsop);
}

/* Tile header bins from other servers may carry the SOT segment body and a trailing SOD
 * (OpenJPIP) or PLT segments: keep only well-formed marker segments other than those. */
static size_t clean_tile_header(const uint8_t *in, uint64_t len, uint8_t *outb)
{
    uint64_t p = 0;
    size_t n = 0;
    /* OpenJPIP: the bin starts with Lsot (000A) and the SOT body. */
    if (len >= 10 && jpip__be16(in) == 10 && (len < 2 || in[0] != 0xFF))
        p = 10;
    while (len - p >= 4) {
        uint16_t code = jpip__be16(in + p);
        if (code == JPIP_MK_SOD || code < 0xFF30)
            break;
        uint16_t l = jpip__be16(in + p + 2);
        if (l < 2 || p + 2 + l > len)
            break;
        if (code != JPIP_MK_SOT) {
            memcpy(outb + n, in + p, (size_t)l + 2);
            n += (size_t)l + 2;
        }
        p += 2u + l;
    }
    return n;
}

/* JPT: append the complete tile-parts at the start of a tile data-bin; returns how many. */
static int copy_tile_parts(const uint8_t *bin, uint64_t len, uint32_t t, struct jpip__buf *out,
                           unsigned *count)
{
    uint64_t p = 0;
    size_t first = out->len;
    *count = 0;
    while (len - p >= 14 && jpip__be16(bin + p) == JPIP_MK_SOT) {
        uint32_t psot = jpip__be32(bin + p + 6);
        if (jpip__be16(bin + p + 4) != t || psot < 14 || psot > len - p)
            break;
        JPIP_TRY(jpip__buf_append(out, bin + p, psot));
        p += psot;
        (*count)++;
    }
    /* Renumber: TPsot in order, TNsot = the number copied. */
    size_t q = first;
    for (unsigned i = 0; i < *count; i++) {
        out->data[q + 10] = (uint8_t)i;
        out->data[q + 11] = (uint8_t)*count;
        q += jpip__be32(out->data + q + 6);
    }
    return JPIP_OK;
}

/* SOT (Psot patched by the caller once the tile-part is written), the tile header's
 * segments, SOD: the one tile-part of tile t. */
static int tile_part_header(struct jpip__buf *out, uint32_t t, const uint8_t *hdr, size_t hl,
                            int prog, const struct jpip_allocator *a, struct jpip__err *err)
{
    const uint8_t sot[12] = {0xFF, 0x90, 0x00, 0x0A, (uint8_t)(t >> 8), (uint8_t)t, 0, 0,
                             0,    0,    0x00, 0x01};
    JPIP_TRY(jpip__buf_append(out, sot, sizeof sot));
    if (hl)
        JPIP_TRY(jpip__rebuild_header_segments(out, hdr, hl, prog, a, err));
    return jpip__buf_append_u16be(out, JPIP_MK_SOD);
}

/* ---- cropping a single-tile image to the view ----
 *
 * OpenJPEG allocates and walks every code-block of a tile even to decode a small region of
 * it, so a region of a large untiled image costs as much as the whole. The rebuild can make
 * the image itself smaller: image and tile become the rectangle C around the region, with
 * C's edges on multiples of the largest precinct footprint on the reference grid. Precinct
 * and code-block partitions are anchored at the grid origin, so every precinct inside C keeps
 * its code-blocks, packets and wavelet phase; C holds every precinct the region depends on
 * (jpip__window_precincts; only the corners of their ranges are looked at), so what lies beyond
 * C never reaches the region's samples. */

struct crop_plan {
    const struct jpip__tile_index *ti;
    const struct jpip__siz *siz;
    struct jpip__rect box; /* reference grid; x0 > x1 while empty */
};

static int crop_extend(void *user, uint16_t c, uint8_t r, uint32_t p);

/* The footprints of the two corner precincts of each resolution's range. */
static int crop_extend_bounds(void *user, uint16_t c, uint8_t r, uint32_t px0, uint32_t py0,
                              uint32_t px1, uint32_t py1)
{
    const struct crop_plan *cp = user;
    const uint64_t npw = cp->ti->comp[c].res[r].npw;
    crop_extend(user, c, r, (uint32_t)(py0 * npw + px0));
    return crop_extend(user, c, r, (uint32_t)((py1 - 1) * npw + px1 - 1));
}

static int crop_extend(void *user, uint16_t c, uint8_t r, uint32_t p)
{
    struct crop_plan *cp = user;
    const struct jpip__res_layout *rl = &cp->ti->comp[c].res[r];
    const struct jpip__tccp *tc = &cp->ti->coding.tccp[c];
    unsigned sh = tc->nl - r;
    uint64_t px = (rl->rect.x0 >> tc->ppx[r]) + p % rl->npw;
    uint64_t py = (rl->rect.y0 >> tc->ppy[r]) + p / rl->npw;
    uint64_t dx = cp->siz->comp[c].dx, dy = cp->siz->comp[c].dy;
    uint64_t x0 = (px << tc->ppx[r] << sh) * dx, x1 = ((px + 1) << tc->ppx[r] << sh) * dx;
    uint64_t y0 = (py << tc->ppy[r] << sh) * dy, y1 = ((py + 1) << tc->ppy[r] << sh) * dy;
    struct jpip__rect *b = &cp->box;
    b->x0 = x0 < b->x0 ? (uint32_t)(x0 > UINT32_MAX ? UINT32_MAX : x0) : b->x0;
    b->y0 = y0 < b->y0 ? (uint32_t)(y0 > UINT32_MAX ? UINT32_MAX : y0) : b->y0;
    b->x1 = x1 > b->x1 ? (uint32_t)(x1 > UINT32_MAX ? UINT32_MAX : x1) : b->x1;
    b->y1 = y1 > b->y1 ? (uint32_t)(y1 > UINT32_MAX ? UINT32_MAX : y1) : b->y1;
    return 0;
}

/* The crop rectangle for the view, or 0 when cropping would not shrink the image. */
static int plan_crop(const struct jpip__tile_index *ti, const struct jpip__siz *siz,
                     const struct jpip__reconstruct_opts *o, struct jpip__rect *crop)
{
    uint64_t ax = 1, ay = 1; /* largest precinct footprint on the reference grid */
    for (uint16_t c = 0; c < ti->ncomp; c++) {
        const struct jpip__tccp *tc = &ti->coding.tccp[c];
        for (unsigned r = 0; r < ti->comp[c].nres; r++) {
            unsigned ex = tc->ppx[r] + tc->nl - r, ey = tc->ppy[r] + tc->nl - r;
            if (ex > 31 || ey > 31)
                return 0;
            uint64_t fx = ((uint64_t)1 << ex) * siz->comp[c].dx;
            uint64_t fy = ((uint64_t)1 << ey) * siz->comp[c].dy;
            ax = fx > ax ? fx : ax;
            ay = fy > ay ? fy : ay;
        }
    }
    struct crop_plan cp = {ti, siz, {UINT32_MAX, UINT32_MAX, 0, 0}};
    for (uint16_t c = 0; c < ti->ncomp; c++)
        if (jpip__window_precinct_bounds(ti, siz, c, o->discard, &o->region, crop_extend_bounds,
                                         &cp) < 0)
            return 0;
    if (cp.box.x0 >= cp.box.x1 || cp.box.y0 >= cp.box.y1)
        return 0;
    uint64_t x0 = cp.box.x0 / ax * ax, y0 = cp.box.y0 / ay * ay;
    uint64_t x1 = ((uint64_t)cp.box.x1 + ax - 1) / ax * ax;
    uint64_t y1 = ((uint64_t)cp.box.y1 + ay - 1) / ay * ay;
    x0 = x0 < siz->xosiz ? siz->xosiz : x0;
    y0 = y0 < siz->yosiz ? siz->yosiz : y0;
    x1 = x1 > siz->xsiz ? siz->xsiz : x1;
    y1 = y1 > siz->ysiz ? siz->ysiz : y1;
    if (x0 > o->region.x0 || y0 > o->region.y0 || x1 < o->region.x1 || y1 < o->region.y1 ||
        x0 >= x1 || y0 >= y1)
        return 0;
    if (x0 == siz->xosiz && y0 == siz->yosiz && x1 == siz->xsiz && y1 == siz->ysiz)
        return 0; /* nothing to gain */
    *crop = (struct jpip__rect){(uint32_t)x0, (uint32_t)y0, (uint32_t)x1, (uint32_t)y1};
    return 1;
}

/* ---- shrinking: the main and tile headers seen through codestream/shrink.h ---- */

struct shrink_src {
    const struct jpip__bin_source *inner;
    unsigned d;
    uint16_t csiz;
    const struct jpip_allocator *a;
    struct jpip__buf mh, th; /* the shrunk main header; the last shrunk tile header */
    int unsupported;         /* a tile header cannot be shrunk */
    struct jpip__err err;
};

static int shrink_get(void *user, unsigned cls, uint64_t cs, uint64_t id, const uint8_t **data,
                      uint64_t *len, int *complete)
{
    struct shrink_src *s = user;
    if (cls == 6) {
        *data = s->mh.data;
        *len = s->mh.len;
        *complete = 1;
        return JPIP_OK;
    }
    JPIP_TRY(s->inner->get(s->inner->user, cls, cs, id, data, len, complete));
    if (cls != 2 || !*data || !*complete || *len == 0)
        return JPIP_OK;
    jpip__buf_reset(&s->th);
    int rc = jpip__shrink_segments(&s->th, *data, (size_t)*len, s->d, s->csiz, s->a, &s->err);
    if (rc < 0) {
        s->unsupported = 1; /* e.g. fewer levels in this tile, or another server's layout */
        return rc;
    }
    *data = s->th.data ? s->th.data : (const uint8_t *)"";
    *len = s->th.len;
    return JPIP_OK;
}

/* The rebuild with the discarded levels left out; JPIP_EUNSUPPORTED (out unchanged) when
 * that is not exact for this codestream. */
static int reconstruct_shrunk(const struct jpip__bin_source *src, uint64_t cs,
                              const struct jpip__reconstruct_opts *o, const uint8_t *mhb,
                              uint64_t mhl, uint16_t csiz, const struct jpip_allocator *a,
                              struct jpip__buf *out, struct jpip__reconstruct_stats *st,
                              struct jpip__err *err)
{
    struct shrink_src s = {src, o->discard, csiz, a, {0}, {0}, 0, {{0}, 0}};
    jpip__buf_init(&s.mh, a, SIZE_MAX);
    jpip__buf_init(&s.th, a, SIZE_MAX);
    size_t start = out->len;
    int rc = jpip__buf_append_u16be(&s.mh, JPIP_MK_SOC);
    if (rc >= 0)
        rc = jpip__shrink_segments(&s.mh, mhb + 2, (size_t)mhl - 2, o->discard, csiz, a, &s.err);
    if (rc >= 0) {
        struct jpip__reconstruct_opts o2 = *o;
        unsigned d = o->discard;
        o2.discard = 0;
        o2.shrink = 1; /* discard is 0 now: only the crop can apply */
        o2.region.x0 = (uint32_t)(((uint64_t)o->region.x0 + (1u << d) - 1) >> d);
        o2.region.y0 = (uint32_t)(((uint64_t)o->region.y0 + (1u << d) - 1) >> d);
        o2.region.x1 = (uint32_t)(((uint64_t)o->region.x1 + (1u << d) - 1) >> d);
        o2.region.y1 = (uint32_t)(((uint64_t)o->region.y1 + (1u << d) - 1) >> d);
        struct jpip__bin_source ss = {shrink_get, &s};
        rc = jpip__reconstruct(&ss, cs, &o2, a, out, st, err);
        if (rc >= 0)
            st->shrunk = d;
        else if (s.unsupported)
            rc = JPIP_EUNSUPPORTED;
    }
    if (rc == JPIP_EUNSUPPORTED || (rc < 0 && s.unsupported))
        rc = JPIP_EUNSUPPORTED, out->len = start;
    jpip__buf_free(&s.mh);
    jpip__buf_free(&s.th);
    return rc;
}

int jpip__reconstruct(const struct jpip__bin_source *src, uint64_t cs,
                      const struct jpip__reconstruct_opts *o, const struct jpip_allocator *a,
                      struct jpip__buf *out, struct jpip__reconstruct_stats *st,
                      struct jpip__err *err)
{
    struct jpip__reconstruct_stats dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    const uint8_t *mhb;
    uint64_t mhl;
    int complete;
    JPIP_TRY(src->get(src->user, 6, cs, 0, &mhb, &mhl, &complete));
    if (!mhb || !complete)
        return jpip__errf(err, JPIP_AGAIN, "main header of codestream %llu not yet complete",
                          (unsigned long long)cs);
    JPIP_FAIL_IF(mhl < 4 || mhl > UINT32_MAX, err, JPIP_EMALFORMED,
                 "main header data-bin of %llu bytes", (unsigned long long)mhl);
    struct jpip__mainhdr mh;
    int rc = jpip__mainhdr_parse(&mh, mhb, (size_t)mhl, 0, a, err);
    if (rc < 0) {
        jpip__mainhdr_free(&mh, a);
        return rc;
    }
    if (o->shrink && o->discard > 0 && o->discard < 32 && !o->jpt) {
        rc = reconstruct_shrunk(src, cs, o, mhb, mhl, mh.siz.csiz, a, out, st, err);
        if (rc != JPIP_EUNSUPPORTED) {
            jpip__mainhdr_free(&mh, a);
            return rc;
        }
        memset(st, 0, sizeof *st); /* not exact when shrunk: the full-size rebuild */
    }
    struct rc_state s;
    memset(&s, 0, sizeof s);
    s.src = src;
    s.cs = cs;
    s.mh = &mh;
    s.o = o;
    s.a = a;
    s.out = out;
    s.st = st;
    s.err = err;
    uint8_t *hdr = NULL;
    /* A region of a single-tile image: crop the image to it when that can be exact. */
    struct jpip__tile_index orig;
    memset(&orig, 0, sizeof orig);
    int have_orig = 0, crop = 0;
    struct jpip__rect cr = {0, 0, 0, 0};
    if (o->shrink && o->has_region && mh.siz.ntiles == 1 && !o->jpt) {
        const uint8_t *th = NULL;
        uint64_t thl = 0;
        int thc = 0;
        struct jpip__err e2;
        jpip__err_clear(&e2);
        if (src->get(src->user, 2, cs, 0, &th, &thl, &thc) >= 0 && (!th || thc) &&
            thl < UINT32_MAX && (hdr = jpip__alloc(a, (size_t)thl + 1)) != NULL) {
            size_t hl = th ? clean_tile_header(th, thl, hdr) : 0;
            have_orig = 1; /* freed below even when the layout fails half-way */
            crop = jpip__tile_layout(&orig, &mh, 0, hdr, (uint32_t)hl, a, &e2) >= 0 && orig.nprec &&
                   plan_crop(&orig, &mh.siz, o, &cr);
        }
    }
    size_t soc_at = out->len;
    uint64_t work = 0;
    if ((rc = jpip__buf_append_u16be(out, JPIP_MK_SOC)) < 0)
        goto done;
    int prog = o->jpt ? -1 : JPIP_RPCL; /* JPT copies tile-parts: keep their progression */
    if ((rc = jpip__rebuild_header_segments(out, mhb + 2, (size_t)mhl - 2, prog, a, err)) < 0)
        goto done;
    if (crop) {
        /* SIZ follows SOC: image and its one tile become the crop rectangle. */
        uint8_t *siz = out->data + soc_at + 2;
        const uint32_t v[8] = {cr.x1,         cr.y1,         cr.x0, cr.y0,
                               cr.x1 - cr.x0, cr.y1 - cr.y0, cr.x0, cr.y0};
        for (int i = 0; i < 8; i++)
            jpip__put_be32(siz + 6 + 4 * i, v[i]);
        mh.siz.xsiz = cr.x1, mh.siz.ysiz = cr.y1, mh.siz.xosiz = cr.x0, mh.siz.yosiz = cr.y0;
        mh.siz.xtsiz = cr.x1 - cr.x0, mh.siz.ytsiz = cr.y1 - cr.y0;
        mh.siz.xtosiz = cr.x0, mh.siz.ytosiz = cr.y0;
        s.orig = &orig;
        st->cropped = 1;
    }
    for (uint32_t t = 0; t < mh.siz.ntiles && rc >= 0; t++) {
        const uint8_t *th = NULL;
        uint64_t thl = 0;
        int thc = 0;
        if (o->jpt) {
            rc = src->get(src->user, 4, cs, t, &th, &thl, &thc);
            unsigned ntp = 0;
            if (rc >= 0 && th)
                rc = copy_tile_parts(th, thl, t, out, &ntp);
            if (rc < 0)
                break;
            if (ntp) {
                st->tiles_with_header++;
                continue;
            }
            st->tiles_without_header++;
            th = NULL;
        } else {
            rc = src->get(src->user, 2, cs, t, &th, &thl, &thc);
        }
        if (rc < 0)
            break;
        size_t hl = 0;
        if (th && thc) {
            uint8_t *nh = jpip__realloc(a, hdr, 0, (size_t)thl + 1);
            if (!nh) {
                rc = JPIP_ENOMEM;
                break;
            }
            hdr = nh;
            hl = clean_tile_header(th, thl, hdr);
            st->tiles_with_header++;
        } else {
            st->tiles_without_header++;
        }
        struct jpip__rect tr;
        jpip__tile_rect(&mh.siz, t, &tr);
        int outside = o->has_region && (tr.x1 <= o->region.x0 || tr.x0 >= o->region.x1 ||
                                        tr.y1 <= o->region.y0 || tr.y0 >= o->region.y1);
        if (outside) { /* never decoded: SOT, header and SOD suffice, no layout needed */
            size_t at = out->len;
            rc = tile_part_header(out, t, hdr, hl, prog, a, err);
            if (rc >= 0)
                jpip__put_be32(out->data + at + 6, (uint32_t)(out->len - at));
            continue;
        }
        struct jpip__tile_index ti;
        rc = jpip__tile_layout(&ti, &mh, t, hdr, (uint32_t)hl, a, err);
        if (rc < 0) {
            jpip__tile_index_free(&ti, a);
            break;
        }
        /* Work bound: every packet costs at least a byte of output, and laying out tiles
         * costs per component and resolution even when they hold nothing, so a main header
         * describing a huge image stops at the output's limit instead of running for long. */
        work += (uint64_t)ti.ncomp * (JPIP_MAX_LEVELS + 1) + ti.npk;
        if (ti.npk > out->max - out->len || work > (uint64_t)out->max + ((uint64_t)1 << 24)) {
            jpip__tile_index_free(&ti, a);
            rc = jpip__errf(err, JPIP_ELIMIT, "the view's codestream would exceed %zu bytes",
                            out->max);
            break;
        }
        if (ti.nprec == 0) {
            /* Every tile-component is empty (a tile on the image's edge with subsampled
             * components): there is nothing to code, and OpenJPEG refuses a tile-part
             * without packets, so the tile is left out like encoders do. */
            jpip__tile_index_free(&ti, a);
            continue;
        }
        size_t sot_at = out->len;
        rc = tile_part_header(out, t, hdr, hl, prog, a, err);
        if (rc >= 0) {
            s.ti = &ti;
            s.prog = prog;
            s.have_g = 0;
            s.nsop = 0;
            if (prog == JPIP_RPCL) {
                /* RPCL puts every packet of the resolutions above the kept ones last: walk
                 * the kept ones, then write the rest as a run of empty packets. */
                unsigned top = 0;
                for (uint16_t k = 0; k < ti.ncomp; k++) {
                    unsigned nl = ti.coding.tccp[k].nl;
                    unsigned kept = nl > o->discard ? nl - o->discard : 0;
                    if (kept > top)
                        top = kept;
                }
                rc = jpip__progression_walk_upto(&ti, &mh.siz, prog, top, on_packet, &s, a);
                uint64_t rest = 0;
                for (uint16_t k = 0; k < ti.ncomp; k++)
                    for (unsigned r = top + 1; r < ti.comp[k].nres; r++)
                        rest += (uint64_t)ti.comp[k].res[r].npw * ti.comp[k].res[r].nph;
                rest *= ti.nlayers;
                st->packets_empty += rest;
                if (rc >= 0 && !(ti.coding.scod & 6)) {
                    rc = jpip__buf_reserve(out, (size_t)rest);
                    if (rc >= 0) {
                        memset(out->data + out->len, 0, (size_t)rest);
                        out->len += (size_t)rest;
                    }
                } else {
                    for (uint64_t i = 0; rc >= 0 && i < rest; i++)
                        rc = jpip__rebuild_empty_packet(out, ti.coding.scod, s.nsop++);
                }
            } else {
                rc = jpip__progression_walk(&ti, &mh.siz, prog, on_packet, &s, a);
            }
        }
        jpip__tile_index_free(&ti, a);
        if (rc < 0)
            break;
        jpip__put_be32(out->data + sot_at + 6, (uint32_t)(out->len - sot_at));
    }
    if (rc >= 0)
        rc = jpip__buf_append_u16be(out, JPIP_MK_EOC);
done:
    if (have_orig)
        jpip__tile_index_free(&orig, a);
    jpip__free(a, hdr);
    jpip__free(a, s.ps_mem);
    jpip__mainhdr_free(&mh, a);
    if (rc < 0 && !err->msg[0])
        jpip__errf(err, rc, "reconstruct: %s", jpip_strerror(rc));
    return rc;
}
