/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The public target API (include/jpip/index.h): a file's kind, box tree and codestreams, each
 * codestream opened through a fragment-mapped source; queries for tools; the rebuild entry.
 */
#include <stdlib.h>
#include <string.h>

#include <jpip/index.h>

#include "codestream/box.h"
#include "codestream/codestream.h"
#include "codestream/rebuild.h"
#include "codestream/target_internal.h"
#include "common/alloc.h"

struct target_cs {
    struct jpip__span_source span;
    struct jpip__codestream cs;
    int opened;
    uint64_t **order; /* per tile: packet indices (g * L + l) in codestream order, lazily */
};

struct jpip_target {
    const struct jpip_allocator *alloc;
    struct jpip_allocator alloc_copy;
    const struct jpip_source *src;
    int kind;
    struct jpip__box_tree boxes;
    struct jpip__cs_location *loc;
    uint32_t ncs;
    struct target_cs *cs;
    struct jpip__err err;
    uint8_t *index_buf; /* a loaded persistent index the codestreams' saved records point into */
};

int jpip_target_open(struct jpip_target **out, const struct jpip_source *src,
                     const struct jpip_allocator *a, const struct jpip_target_limits *limits)
{
    if (!out || !src || !src->read_at)
        return JPIP_EINVAL;
    *out = NULL;
    struct jpip_target *t = jpip__calloc(a, 1, sizeof *t);
    if (!t)
        return JPIP_ENOMEM;
    if (a) {
        t->alloc_copy = *a;
        t->alloc = &t->alloc_copy;
    }
    a = t->alloc;
    t->src = src;
    *out = t;
    uint32_t max_boxes = limits && limits->max_boxes ? limits->max_boxes : 65536;
    struct jpip__cs_limits csl = {0};
    if (limits) {
        csl.max_header_bytes = limits->max_header_bytes;
        csl.max_packets = limits->max_packets;
    }
    JPIP_TRY(jpip__file_kind(src, &t->kind, &t->err));
    if (t->kind != JPIP__FILE_J2K)
        JPIP_TRY(jpip__box_tree_parse(&t->boxes, src, max_boxes, a, &t->err));
    JPIP_TRY(jpip__box_codestreams(&t->boxes, src, t->kind, &t->loc, &t->ncs, a, &t->err));
    JPIP_FAIL_IF(t->ncs == 0, &t->err, JPIP_EMALFORMED, "file holds no codestream");
    t->cs = jpip__calloc(a, t->ncs, sizeof *t->cs);
    if (!t->cs)
        return jpip__errf(&t->err, JPIP_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < t->ncs; i++) {
        struct target_cs *c = &t->cs[i];
        jpip__span_source_init(&c->span, src, t->loc[i].frag, t->loc[i].nfrag);
        int rc = jpip__cs_open(&c->cs, &c->span.src, &csl, a);
        c->opened = 1;
        if (rc < 0) {
            jpip__errf(&t->err, rc, "codestream %u: %s", i, c->cs.err.msg);
            return rc;
        }
    }
    return JPIP_OK;
}

void jpip_target_destroy(struct jpip_target *t)
{
    if (!t)
        return;
    const struct jpip_allocator *a = t->alloc;
    for (uint32_t i = 0; t->cs && i < t->ncs; i++) {
        struct target_cs *c = &t->cs[i];
        if (c->order) {
            for (uint32_t k = 0; k < c->cs.mh.siz.ntiles; k++)
                jpip__free(a, c->order[k]);
            jpip__free(a, c->order);
        }
        if (c->opened)
            jpip__cs_close(&c->cs);
    }
    jpip__free(a, t->cs);
    jpip__free(a, t->index_buf);
    if (t->loc)
        jpip__cs_locations_free(t->loc, t->ncs, a);
    jpip__box_tree_free(&t->boxes, a);
    struct jpip_allocator copy = t->alloc_copy;
    jpip__free(t->alloc ? &copy : NULL, t);
}

const char *jpip_target_errmsg(const struct jpip_target *t)
{
    return t ? t->err.msg : "";
}

enum jpip_target_kind jpip_target_kind(const struct jpip_target *t)
{
    return (enum jpip_target_kind)t->kind;
}

size_t jpip_target_box_count(const struct jpip_target *t)
{
    return t->boxes.n;
}

int jpip_target_box(const struct jpip_target *t, size_t i, struct jpip_box_info *out)
{
    if (i >= t->boxes.n)
        return JPIP_EINVAL;
    const struct jpip__box *b = &t->boxes.v[i];
    for (int k = 0; k < 4; k++) {
        char ch = (char)(b->type >> (24 - 8 * k));
        out->type[k] = (ch >= 32 && ch < 127) ? ch : '?';
    }
    out->type[4] = '\0';
    out->offset = b->off;
    out->length = b->len;
    out->header_length = b->hdr_len;
    out->parent = b->parent;
    out->depth = b->depth;
    return JPIP_OK;
}

unsigned jpip_target_codestream_count(const struct jpip_target *t)
{
    return t->ncs;
}

static struct target_cs *get_cs(const struct jpip_target *t, unsigned cs)
{
    return cs < t->ncs ? &t->cs[cs] : NULL;
}

int jpip_target_codestream_info(const struct jpip_target *t, unsigned cs,
                                struct jpip_codestream_info *o)
{
    struct target_cs *c = get_cs(t, cs);
    if (!c)
        return JPIP_EINVAL;
    const struct jpip__mainhdr *mh = &c->cs.mh;
    const struct jpip__siz *s = &mh->siz;
    memset(o, 0, sizeof *o);
    o->length = c->cs.len;
    o->rsiz = s->rsiz;
    o->width = s->xsiz - s->xosiz;
    o->height = s->ysiz - s->yosiz;
    o->x0 = s->xosiz;
    o->y0 = s->yosiz;
    o->tile_width = s->xtsiz;
    o->tile_height = s->ytsiz;
    o->tile_x0 = s->xtosiz;
    o->tile_y0 = s->ytosiz;
    o->tiles_x = s->ntx;
    o->tiles_y = s->nty;
    o->components = s->csiz;
    o->progression = mh->cod.prog;
    o->layers = mh->cod.layers;
    /* Component 0's parameters stand for the main COD (a main COC may differ). */
    o->levels = mh->cod.tccp[0].nl;
    o->cblk_w = mh->cod.tccp[0].xcb;
    o->cblk_h = mh->cod.tccp[0].ycb;
    o->cblk_style = mh->cod.tccp[0].cblk_style;
    o->wavelet = mh->cod.tccp[0].wavelet;
    o->mct = mh->cod.mct;
    o->sop = (mh->cod.scod >> 1) & 1;
    o->eph = (mh->cod.scod >> 2) & 1;
    o->user_precincts = mh->cod.scod & 1;
    o->qcd_style = mh->qcd_style;
    o->guard_bits = (uint8_t)mh->qcd_guard_bits;
    o->has_plt = c->cs.has_plt;
    o->has_plm = mh->has_plm;
    o->has_tlm = mh->has_tlm;
    o->has_ppm = mh->has_ppm;
    o->has_ppt = c->cs.has_ppt;
    o->has_poc = mh->cod.npoc > 0 || c->cs.has_tile_poc;
    o->has_cap = mh->has_cap;
    o->tile_parts = c->cs.ntp;
    o->main_header_length = c->cs.mh_len;
    return JPIP_OK;
}

int jpip_target_component_info(const struct jpip_target *t, unsigned cs, unsigned comp,
                               struct jpip_component_info *o)
{
    struct target_cs *c = get_cs(t, cs);
    if (!c || comp >= c->cs.mh.siz.csiz)
        return JPIP_EINVAL;
    const struct jpip__siz *s = &c->cs.mh.siz;
    const struct jpip__comp_siz *cp = &s->comp[comp];
    o->depth = cp->depth;
    o->is_signed = cp->sgnd;
    o->dx = cp->dx;
    o->dy = cp->dy;
    o->width = jpip__ceildiv(s->xsiz, cp->dx) - jpip__ceildiv(s->xosiz, cp->dx);
    o->height = jpip__ceildiv(s->ysiz, cp->dy) - jpip__ceildiv(s->yosiz, cp->dy);
    return JPIP_OK;
}

static int tile(struct jpip_target *t, unsigned cs, uint32_t tile_no, struct jpip__tile_index **ti)
{
    struct target_cs *c = get_cs(t, cs);
    if (!c)
        return jpip__errf(&t->err, JPIP_EINVAL, "codestream %u out of range", cs);
    int rc = jpip__cs_tile(&c->cs, tile_no, ti);
    if (rc < 0)
        jpip__errf(&t->err, rc, "codestream %u: %s", cs, c->cs.err.msg);
    return rc;
}

int jpip_target_tile_info(struct jpip_target *t, unsigned cs, uint32_t tile_no,
                          struct jpip_tile_info *o)
{
    struct jpip__tile_index *ti;
    JPIP_TRY(tile(t, cs, tile_no, &ti));
    struct target_cs *c = &t->cs[cs];
    memset(o, 0, sizeof *o);
    o->x0 = ti->rect.x0;
    o->y0 = ti->rect.y0;
    o->x1 = ti->rect.x1;
    o->y1 = ti->rect.y1;
    o->tile_parts = c->cs.tile_ntp[tile_no];
    o->layers = ti->nlayers;
    o->progression = ti->coding.prog;
    o->precincts = ti->nprec;
    o->packets = ti->packets_present;
    o->header_bytes = ti->tp_header_bytes;
    o->from_plt = ti->from_plt;
    for (uint64_t k = 0; k < ti->npk; k++)
        if (jpip__pk_present(&ti->pk[k]))
            o->packet_bytes += ti->pk[k].len + (ti->ph_len ? ti->ph_len[k] : 0);
    return JPIP_OK;
}

struct off_key {
    uint64_t off;
    uint64_t k;
};

static int cmp_off(const void *a, const void *b)
{
    const struct off_key *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

int jpip_target_packet(struct jpip_target *t, unsigned cs, uint32_t tile_no, uint64_t i,
                       struct jpip_packet_info *o)
{
    struct jpip__tile_index *ti;
    JPIP_TRY(tile(t, cs, tile_no, &ti));
    struct target_cs *c = &t->cs[cs];
    const struct jpip_allocator *a = t->alloc;
    if (i >= ti->packets_present)
        return jpip__errf(&t->err, JPIP_EINVAL, "packet %llu out of range", (unsigned long long)i);
    if (!c->order) {
        c->order = jpip__calloc(a, c->cs.mh.siz.ntiles, sizeof *c->order);
        if (!c->order)
            return JPIP_ENOMEM;
    }
    if (!c->order[tile_no]) {
        /* Codestream order: packets sorted by their offset in the tile's data. */
        struct off_key *keys = jpip__calloc(a, (size_t)ti->packets_present, sizeof *keys);
        uint64_t *ord = jpip__calloc(a, (size_t)ti->packets_present, sizeof *ord);
        if (!keys || !ord) {
            jpip__free(a, keys);
            jpip__free(a, ord);
            return JPIP_ENOMEM;
        }
        uint64_t n = 0;
        for (uint64_t k = 0; k < ti->npk && n < ti->packets_present; k++)
            if (jpip__pk_present(&ti->pk[k]))
                keys[n++] = (struct off_key){jpip__pk_off(&ti->pk[k]), k};
        qsort(keys, (size_t)n, sizeof *keys, cmp_off);
        for (uint64_t j = 0; j < n; j++)
            ord[j] = keys[j].k;
        jpip__free(a, keys);
        c->order[tile_no] = ord;
    }
    uint64_t k = c->order[tile_no][i];
    uint32_t g = (uint32_t)(k / ti->nlayers);
    uint16_t comp;
    uint8_t r;
    uint32_t p;
    jpip__prec_locate(ti, g, &comp, &r, &p);
    const struct jpip__packet *pk = &ti->pk[k];
    o->component = comp;
    o->resolution = r;
    o->precinct = p;
    o->layer = (uint16_t)(k % ti->nlayers);
    /* Logical tile-data offset to codestream offset. */
    uint64_t off = jpip__pk_off(pk);
    uint32_t first = c->cs.tile_tp[tile_no];
    o->offset = 0;
    for (uint32_t j = 0; j < c->cs.tile_ntp[tile_no]; j++) {
        const struct jpip__tilepart *tp = &c->cs.tp[first + j];
        if (off < tp->data_len) {
            o->offset = tp->data_off + off;
            break;
        }
        off -= tp->data_len;
    }
    o->length = pk->len;
    o->header_length = pk->hlen;
    o->packed_header_length = ti->ph_len ? ti->ph_len[k] : 0;
    uint64_t s = ti->comp[comp].res[r].s_base + p;
    uint64_t ntiles = c->cs.mh.siz.ntiles, ncomp = c->cs.mh.siz.csiz;
    o->databin_id = tile_no + (comp + s * ncomp) * ntiles; /* 15444-9 A.3.2.1 */
    return JPIP_OK;
}

int jpip_target_rebuild(struct jpip_target *t, unsigned cs, const struct jpip_rebuild_options *opt,
                        uint8_t **out, size_t *out_len)
{
    struct target_cs *c = get_cs(t, cs);
    if (!c || !out || !out_len)
        return JPIP_EINVAL;
    struct jpip__buf b;
    jpip__buf_init(&b, t->alloc, SIZE_MAX);
    int prog = opt ? opt->progression : -1;
    int rc = jpip__rebuild(&c->cs, prog, opt ? opt->present : NULL, opt ? opt->user : NULL, &b);
    if (rc < 0) {
        jpip__errf(&t->err, rc, "codestream %u: %s", cs, c->cs.err.msg);
        jpip__buf_free(&b);
        return rc;
    }
    *out = jpip__buf_take(&b, out_len);
    return JPIP_OK;
}

void jpip_target_free(const struct jpip_target *t, void *p)
{
    jpip__free(t ? t->alloc : NULL, p);
}

struct jpip__codestream *jpip__target_codestream(struct jpip_target *t, unsigned i)
{
    return i < t->ncs ? &t->cs[i].cs : NULL;
}

const struct jpip__box_tree *jpip__target_boxes(const struct jpip_target *t)
{
    return &t->boxes;
}

const struct jpip__cs_location *jpip__target_locations(const struct jpip_target *t, uint32_t *n)
{
    *n = t->ncs;
    return t->loc;
}

const struct jpip_source *jpip__target_source(const struct jpip_target *t)
{
    return t->src;
}

void jpip__target_adopt_index(struct jpip_target *t, uint8_t *buf)
{
    jpip__free(t->alloc, t->index_buf);
    t->index_buf = buf;
}

const struct jpip_allocator *jpip__target_alloc(const struct jpip_target *t)
{
    return t->alloc;
}
