/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * From a request to a plan of what to send (15444-9 C.4, C.9): the metadata-bins asked for
 * (bin 0 always), then per codestream the main header, the headers of the tiles the
 * view-window touches, and the precincts it needs, up to the requested layers. The plan
 * records what the client already holds (session model, or model=/need= for stateless
 * requests) so the body never repeats a byte the client has.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "server/server_internal.h"

#define MAX_STREAMS 4096
#define MAX_EXPAND 65536 /* model ranges up to this many ids are expanded into the table */

/* ---- what the client holds ---- */

uint64_t jpip__plan_have(const struct jpip_response *r, unsigned cls, uint64_t cs, uint64_t id)
{
    cls &= ~1u;
    uint64_t have = 0;
    if (r->cm) {
        have = jpip__cm_get(r->cm, cls, cs, id);
        if (r->need_mode && r->cm == &r->own_cm)
            have = have == 0 ? JPIP__CM_ALL : (have == JPIP__CM_ALL ? have : have - 1);
    }
    for (uint32_t i = 0; i < r->nrules; i++) {
        const struct plan_rule *u = &r->rules[i];
        if (u->cls != cls || cs < u->cs_from || cs > u->cs_to || id < u->id_from || id > u->id_to)
            continue;
        if (u->subtractive) {
            if (have > u->bytes)
                have = u->bytes;
        } else if (u->bytes > have) {
            have = u->bytes;
        }
    }
    return have;
}

static int add_rule(struct jpip_response *r, const struct plan_rule *u)
{
    if (r->nrules >= 4096)
        return JPIP_ELIMIT;
    struct plan_rule *nv = jpip__realloc(r->srv->alloc, r->rules, r->nrules * sizeof *nv,
                                         (r->nrules + 1) * sizeof *nv);
    if (!nv)
        return JPIP_ENOMEM;
    r->rules = nv;
    r->rules[r->nrules++] = *u;
    return JPIP_OK;
}

static unsigned model_cls(uint8_t c)
{
    switch (c) {
    case JPIP__MODEL_MAIN_HEADER: return JPIP__CLS_MAIN_HEADER;
    case JPIP__MODEL_TILE_HEADER: return JPIP__CLS_TILE_HEADER;
    case JPIP__MODEL_PRECINCT: return JPIP__CLS_PRECINCT;
    case JPIP__MODEL_TILE: return JPIP__CLS_TILE;
    default: return JPIP__CLS_METADATA;
    }
}

/* Bytes of the first n layers of precinct bin id (0 when it cannot be told). */
static uint64_t layer_bytes(struct jpip_response *r, uint64_t cs, uint64_t id, uint64_t n)
{
    struct jpip__codestream *c = jpip__target_codestream(r->tgt->t, (unsigned)cs);
    if (!c)
        return 0;
    uint32_t t;
    uint16_t comp;
    uint64_t s;
    jpip__precinct_bin_split(id, c->mh.siz.ntiles, c->mh.siz.csiz, &t, &comp, &s);
    struct jpip__tile_index *ti;
    if (c->tile_ntp[t] == 0 || jpip__cs_tile(c, t, &ti) < 0 || s >= ti->comp[comp].nprec)
        return 0;
    uint32_t g = ti->comp[comp].prec_base + (uint32_t)s;
    return jpip__precinct_bin_length(ti, g, (uint16_t)(n > 65535 ? 65535 : n));
}

/* Records one model item's claim on one bin: b bytes held (additive), at most b (subtractive),
 * or, for need=, lacking everything past b (stored as have + 1; absent entries mean "has it
 * all"). */
static int model_bin(struct jpip_response *r, const struct jpip__model_item *it, int need,
                     unsigned cls, uint64_t cs, uint64_t id, uint64_t b)
{
    if (need) {
        uint64_t h = it->amount_kind == JPIP__MODEL_ALL ? 0 : b;
        return jpip__cm_add(r->cm, cls, cs, id, h == JPIP__CM_ALL ? h : h + 1);
    }
    if (it->subtractive)
        return jpip__cm_limit(r->cm, cls, cs, id, b);
    return jpip__cm_add(r->cm, cls, cs, id, b);
}

/* An item naming too many bins to list one by one. Additive claims can be dropped (the server
 * may then resend what the client has); claims that the client lacks something must not be,
 * so they fall back to "lacks every bin of the class in these codestreams" (a resend too). */
static int model_too_wide(struct jpip_response *r, const struct jpip__model_item *it, int need,
                          unsigned cls, uint64_t cs0, uint64_t cs1)
{
    if (!need && !it->subtractive)
        return JPIP_OK;
    struct plan_rule u = {(uint8_t)cls, 1, cs0, cs1, 0, UINT64_MAX, 0};
    return add_rule(r, &u);
}

/* The x..x1, y..y1 rectangle named by an implicit range over a grid w wide and h high: a is
 * its top-left and b its bottom-right cell in raster order (jpip-notes §6.2). 0 if empty. */
static int grid_rect(const struct jpip__model_ids *ids, uint32_t w, uint32_t h, uint32_t *x0,
                     uint32_t *y0, uint32_t *x1, uint32_t *y1)
{
    uint64_t n = (uint64_t)w * h;
    if (w == 0 || h == 0 || ids->from >= n)
        return 0;
    uint64_t to = ids->to >= n ? n - 1 : ids->to;
    *x0 = (uint32_t)(ids->from % w), *y0 = (uint32_t)(ids->from / w);
    *x1 = (uint32_t)(to % w), *y1 = (uint32_t)(to / w);
    if (ids->to >= n) /* open-ended: to the grid's far corner */
        *x1 = w - 1, *y1 = h - 1;
    return *x0 <= *x1 && *y0 <= *y1;
}

/* An implicit descriptor (t..c..r..p..[:Ln]) over codestream cs: every precinct it names. */
static int apply_implicit(struct jpip_response *r, const struct jpip__model_item *it, int need,
                          uint64_t cs, uint64_t *budget)
{
    struct jpip__codestream *c = jpip__target_codestream(r->tgt->t, (unsigned)cs);
    if (!c)
        return JPIP_OK;
    const struct jpip__siz *siz = &c->mh.siz;
    uint32_t tx0, ty0, tx1, ty1;
    if (!grid_rect(&it->t, siz->ntx, siz->nty, &tx0, &ty0, &tx1, &ty1))
        return JPIP_OK;
    for (uint32_t ty = ty0; ty <= ty1; ty++)
        for (uint32_t tx = tx0; tx <= tx1; tx++) {
            uint32_t t = ty * siz->ntx + tx;
            struct jpip__tile_index *ti;
            if (c->tile_ntp[t] == 0 || jpip__cs_tile(c, t, &ti) < 0)
                continue;
            for (uint64_t ci = it->c.from; ci <= it->c.to && ci < ti->ncomp; ci++) {
                const struct jpip__comp_layout *cl = &ti->comp[ci];
                for (uint64_t ri = it->r.from; ri <= it->r.to && ri < cl->nres; ri++) {
                    const struct jpip__res_layout *rl = &cl->res[ri];
                    uint32_t px0, py0, px1, py1;
                    if (!grid_rect(&it->p, rl->npw, rl->nph, &px0, &py0, &px1, &py1))
                        continue;
                    for (uint32_t py = py0; py <= py1; py++)
                        for (uint32_t px = px0; px <= px1; px++) {
                            if (*budget == 0)
                                return model_too_wide(r, it, need, JPIP__CLS_PRECINCT, cs, cs);
                            (*budget)--;
                            uint32_t g =
                                jpip__prec_g(ti, (uint16_t)ci, (uint8_t)ri, py * rl->npw + px);
                            uint64_t b = JPIP__CM_ALL;
                            if (it->amount_kind == JPIP__MODEL_LAYERS)
                                b = jpip__precinct_bin_length(
                                    ti, g, (uint16_t)(it->amount > 65535 ? 65535 : it->amount));
                            else if (it->subtractive)
                                b = 0;
                            uint64_t id = jpip__precinct_bin_id(siz->ntiles, siz->csiz, t,
                                                                (uint16_t)ci, g - cl->prec_base);
                            JPIP_TRY(model_bin(r, it, need, JPIP__CLS_PRECINCT, cs, id, b));
                        }
                }
            }
        }
    return JPIP_OK;
}

static int apply_model(struct jpip_response *r, const struct jpip__model *m, int need,
                       const struct jpip__range *streams, uint32_t nstreams)
{
    for (uint32_t i = 0; i < m->n; i++) {
        const struct jpip__model_item *it = &m->items[i];
        unsigned cls = it->cls == JPIP__MODEL_IMPLICIT ? JPIP__CLS_PRECINCT : model_cls(it->cls);
        const struct jpip__range *qs = it->qual_count ? &m->quals[it->qual_first] : streams;
        uint32_t nq = it->qual_count ? it->qual_count : nstreams;
        for (uint32_t k = 0; k < nq; k++) {
            uint64_t cs0 = qs[k].from, cs1 = qs[k].to;
            if (cls == JPIP__CLS_METADATA)
                cs0 = cs1 = 0; /* metadata-bins belong to the file, not a codestream */
            uint64_t n_ids = it->id.to - it->id.from;
            uint64_t n_cs = cs1 - cs0;
            int layers = it->amount_kind == JPIP__MODEL_LAYERS;
            if (it->cls == JPIP__MODEL_IMPLICIT) {
                if (n_cs >= 64) {
                    JPIP_TRY(model_too_wide(r, it, need, cls, cs0, cs1));
                    continue;
                }
                uint64_t budget = MAX_EXPAND;
                for (uint64_t cs = cs0; cs <= cs1; cs++)
                    JPIP_TRY(apply_implicit(r, it, need, cs, &budget));
                continue;
            }
            uint64_t bytes = it->amount_kind == JPIP__MODEL_ALL ? JPIP__CM_ALL : it->amount;
            if (it->subtractive && it->amount_kind == JPIP__MODEL_ALL)
                bytes = 0;
            if (n_ids >= MAX_EXPAND || n_cs >= 64 || (n_ids + 1) * (n_cs + 1) > MAX_EXPAND ||
                (layers && n_ids > 4096)) {
                if (layers) { /* "P*:L2" over a huge range */
                    JPIP_TRY(model_too_wide(r, it, need, cls, cs0, cs1));
                    continue;
                }
                struct plan_rule u = {(uint8_t)cls, it->subtractive, cs0, cs1, it->id.from,
                                      it->id.to,    need ? 0 : bytes};
                if (need) /* need=: the client lacks these (beyond the first n bytes) */
                    u.subtractive = 1, u.bytes = it->amount_kind == JPIP__MODEL_ALL ? 0 : bytes;
                JPIP_TRY(add_rule(r, &u));
                continue;
            }
            for (uint64_t cs = cs0; cs <= cs1; cs++)
                for (uint64_t id = it->id.from; id <= it->id.to; id++) {
                    uint64_t b = bytes;
                    if (layers && cls == JPIP__CLS_PRECINCT)
                        b = layer_bytes(r, cs, id, it->amount);
                    JPIP_TRY(model_bin(r, it, need, cls, cs, id, b));
                    if (id == UINT64_MAX)
                        break;
                }
        }
    }
    return JPIP_OK;
}

/* ---- plan building ---- */

static int push_bin(struct jpip_response *r, struct plan_bin **v, uint32_t *n, unsigned cls,
                    uint64_t cs, uint64_t id, uint64_t total, uint64_t want)
{
    uint64_t have = jpip__plan_have(r, cls, cs, id);
    /* An empty bin is only known complete through its last-byte flag (JPIP__CM_ALL). */
    uint64_t held = have == JPIP__CM_ALL ? total : have;
    if (held > want)
        held = want;
    r->st.model_bytes_saved += held;
    if (have == JPIP__CM_ALL || (want < total && have >= want) || (total > 0 && have >= total))
        return JPIP_OK;
    struct plan_bin *nv = jpip__realloc(r->srv->alloc, *v, *n * sizeof *nv, (*n + 1) * sizeof *nv);
    if (!nv)
        return JPIP_ENOMEM;
    *v = nv;
    nv[*n] = (struct plan_bin){(uint8_t)cls, (uint16_t)cs, id, have, want, total};
    (*n)++;
    return JPIP_OK;
}

static int plan_metadata(struct jpip_response *r, const struct jpip__request *q)
{
    const struct jpip__metabins *mb = &r->tgt->mb;
    uint8_t *want = jpip__calloc(r->srv->alloc, mb->nbins ? mb->nbins : 1, 1);
    if (!want)
        return JPIP_ENOMEM;
    want[0] = 1;
    const struct jpip__box_tree *bt = jpip__target_boxes(r->tgt->t);
    if (q && jpip__request_has(q, JPIP__F_METAREQ)) {
        const struct jpip__metareq *mq = &q->metareq;
        for (uint32_t i = 0; i < mq->nprops; i++) {
            const struct jpip__metareq_prop *p = &mq->props[i];
            if (p->wildcard) {
                memset(want, 1, mb->nbins);
                break;
            }
            for (uint32_t b = 0; b < bt->n; b++) {
                if (bt->v[b].type != p->box_type)
                    continue;
                if (mb->box_bin[b] >= 0)
                    want[mb->box_bin[b]] = 1;
                if (mb->box_content_bin[b] >= 0)
                    want[mb->box_content_bin[b]] = 1;
            }
        }
        r->metadata_only = mq->metadata_only;
    }
    int rc = JPIP_OK;
    for (uint32_t b = 0; b < mb->nbins && rc >= 0; b++)
        if (want[b])
            rc = push_bin(r, &r->meta, &r->nmeta, JPIP__CLS_METADATA, 0, b, mb->bin[b].len,
                          mb->bin[b].len);
    jpip__free(r->srv->alloc, want);
    return rc;
}

struct prec_cb {
    struct jpip_response *r;
    struct plan_cs *pc;
    struct jpip__tile_index *ti;
    uint16_t layers;
    uint32_t cap;
    int err;
};

static int on_precinct(void *user, uint16_t c, uint8_t res, uint32_t p)
{
    struct prec_cb *cb = user;
    struct plan_cs *pc = cb->pc;
    const struct jpip__tile_index *ti = cb->ti;
    uint32_t g = jpip__prec_g(ti, c, res, p);
    uint64_t s = ti->comp[c].res[res].s_base + p;
    uint64_t id = jpip__precinct_bin_id(pc->c->mh.siz.ntiles, pc->c->mh.siz.csiz, ti->tile, c, s);
    uint16_t layers = cb->layers == 0 || cb->layers > ti->nlayers ? ti->nlayers : cb->layers;
    /* What the client holds is looked at when the precinct's turn comes (response.c), so a
     * response cut short by len= never pays for precincts it does not reach. */
    if (pc->nprec == pc->cap_prec) {
        uint32_t ncap = pc->cap_prec ? pc->cap_prec * 2 : 256;
        struct plan_prec *nv = jpip__realloc(cb->r->srv->alloc, pc->prec, pc->cap_prec * sizeof *nv,
                                             ncap * sizeof *nv);
        if (!nv)
            return JPIP_ENOMEM;
        pc->prec = nv;
        pc->cap_prec = ncap;
    }
    pc->prec[pc->nprec++] = (struct plan_prec){ti->tile, g, id, 0, layers, res};
    if (layers > pc->max_layers)
        pc->max_layers = layers;
    return 0;
}

/* JPT-stream: the furthest byte of tile data the view needs. */
struct jpt_cb {
    const struct jpip__tile_index *ti;
    uint16_t layers;
    uint64_t max_end;
};

static int on_precinct_jpt(void *user, uint16_t c, uint8_t res, uint32_t p)
{
    struct jpt_cb *cb = user;
    const struct jpip__tile_index *ti = cb->ti;
    uint32_t g = jpip__prec_g(ti, c, res, p);
    uint16_t n = cb->layers == 0 || cb->layers > ti->nlayers ? ti->nlayers : cb->layers;
    for (uint16_t l = 0; l < n; l++) {
        const struct jpip__packet *pk = &ti->pk[(uint64_t)g * ti->nlayers + l];
        if (jpip__pk_present(pk) && jpip__pk_off(pk) + pk->len > cb->max_end)
            cb->max_end = jpip__pk_off(pk) + pk->len;
    }
    return 0;
}

/* Tile data-bin (15444-9 A.3.4): the tile's tile-parts, SOT to end, concatenated. The view
 * needs the tile-parts up to the one holding its furthest packet byte (at least the first,
 * which carries the tile header). */
static int plan_tile_bin(struct jpip_response *r, struct plan_cs *pc, struct jpip__tile_index *ti,
                         uint64_t max_end)
{
    const struct jpip__codestream *c = pc->c;
    uint32_t first = c->tile_tp[ti->tile], ntp = c->tile_ntp[ti->tile];
    uint64_t total = 0, want = 0, data = 0;
    for (uint32_t i = 0; i < ntp; i++) {
        const struct jpip__tilepart *tp = &c->tp[first + i];
        uint64_t tplen = tp->data_off + tp->data_len - tp->sot_off;
        total += tplen;
        if (i == 0 || data < max_end)
            want = total;
        data += tp->data_len;
    }
    return push_bin(r, &pc->hdr, &pc->nhdr, JPIP__CLS_TILE, pc->cs, ti->tile, total, want);
}

int jpip__plan_next_resolution(struct jpip_response *r, struct plan_cs *pc)
{
    if (pc->planned_r >= pc->max_r)
        return 0;
    int res = ++pc->planned_r;
    const struct jpip__siz *siz = &pc->c->mh.siz;
    struct prec_cb cb = {r, pc, NULL, pc->layers, 0, 0};
    for (uint32_t i = 0; i < pc->ntcs; i++) {
        struct jpip__tile_index *ti;
        JPIP_TRY(jpip__cs_tile(pc->c, pc->tcs[i].tile, &ti));
        cb.ti = ti;
        JPIP_TRY(jpip__window_precincts_at(ti, siz, pc->tcs[i].comp, pc->discard, &pc->canvas, res,
                                           on_precinct, &cb));
    }
    return 1;
}

static int plan_codestream(struct jpip_response *r, const struct jpip__request *q, unsigned cs,
                           int first, struct jpip__err *err)
{
    struct srv_target *tg = r->tgt;
    struct jpip__codestream *c = jpip__target_codestream(tg->t, cs);
    const struct jpip__siz *siz = &c->mh.siz;
    struct plan_cs *pc = &r->pcs[r->npcs++];
    memset(pc, 0, sizeof *pc);
    pc->cs = (uint16_t)cs;
    pc->c = c;
    /* View-window. */
    struct jpip__window_req wq = {0};
    if (jpip__request_has(q, JPIP__F_FSIZ)) {
        wq.has_fsiz = 1;
        wq.fx = q->fsiz[0];
        wq.fy = q->fsiz[1];
        wq.round = q->fsiz_round;
    }
    if (jpip__request_has(q, JPIP__F_ROFF)) {
        wq.has_roff = 1;
        wq.ox = q->roff[0];
        wq.oy = q->roff[1];
    }
    if (jpip__request_has(q, JPIP__F_RSIZ)) {
        wq.has_rsiz = 1;
        wq.sx = q->rsiz[0];
        wq.sy = q->rsiz[1];
    }
    struct jpip__window w;
    jpip__window_resolve(siz, tg->cs[cs].dmax, &wq, &w);
    uint16_t layers = jpip__request_has(q, JPIP__F_LAYERS)
                          ? (uint16_t)(q->layers > 65535 ? 65535 : q->layers)
                          : 0;
    if (first) {
        char line[128];
        if (w.fsiz_changed) {
            snprintf(line, sizeof line, "JPIP-fsiz: %u,%u", w.fx, w.fy);
            JPIP_TRY(jpip__buf_append(&r->headers, line, strlen(line)));
            JPIP_TRY(jpip__buf_append(&r->headers, "\r\n", 2));
        }
        if (!w.empty && w.roff_changed) {
            snprintf(line, sizeof line, "JPIP-roff: %u,%u\r\n", w.ox, w.oy);
            JPIP_TRY(jpip__buf_append(&r->headers, line, strlen(line)));
        }
        if (!w.empty && w.rsiz_changed) {
            snprintf(line, sizeof line, "JPIP-rsiz: %u,%u\r\n", w.sx, w.sy);
            JPIP_TRY(jpip__buf_append(&r->headers, line, strlen(line)));
        }
        if (layers > c->mh.cod.layers) {
            snprintf(line, sizeof line, "JPIP-layers: %u\r\n", c->mh.cod.layers);
            JPIP_TRY(jpip__buf_append(&r->headers, line, strlen(line)));
        }
    }
    if (r->metadata_only)
        return JPIP_OK;
    /* Main header. */
    struct srv_cs *sc = &tg->cs[cs];
    if (!sc->mainhdr) {
        struct jpip__buf b;
        jpip__buf_init(&b, r->srv->alloc, SIZE_MAX);
        int rc = jpip__main_header_bin(c, &b);
        if (rc < 0) {
            jpip__buf_free(&b);
            return rc;
        }
        sc->mainhdr = jpip__buf_take(&b, &sc->mainhdr_len);
    }
    JPIP_TRY(push_bin(r, &pc->hdr, &pc->nhdr, JPIP__CLS_MAIN_HEADER, cs, 0, sc->mainhdr_len,
                      sc->mainhdr_len));
    if (w.empty)
        return JPIP_OK;
    /* Components: the MCT needs 0..2 together (jpip-notes 10.1). */
    uint16_t nc = siz->csiz;
    uint8_t *comp = jpip__calloc(r->srv->alloc, nc, 1);
    if (!comp)
        return JPIP_ENOMEM;
    if (jpip__request_has(q, JPIP__F_COMPS)) {
        for (uint32_t i = 0; i < q->ncomps; i++)
            for (uint64_t k = q->comps[i].from; k <= q->comps[i].to && k < nc; k++)
                comp[k] = 1;
        if (c->mh.cod.mct && nc >= 3 && (comp[0] || comp[1] || comp[2]))
            comp[0] = comp[1] = comp[2] = 1;
    } else {
        memset(comp, 1, nc);
    }
    /* Tiles the canvas region touches. */
    const struct jpip__rect *cv = &w.canvas;
    uint32_t tx0 = (cv->x0 - siz->xtosiz) / siz->xtsiz, ty0 = (cv->y0 - siz->ytosiz) / siz->ytsiz;
    uint32_t tx1 = (uint32_t)(((uint64_t)cv->x1 - siz->xtosiz + siz->xtsiz - 1) / siz->xtsiz);
    uint32_t ty1 = (uint32_t)(((uint64_t)cv->y1 - siz->ytosiz + siz->ytsiz - 1) / siz->ytsiz);
    if (tx1 > siz->ntx)
        tx1 = siz->ntx;
    if (ty1 > siz->nty)
        ty1 = siz->nty;
    pc->discard = w.discard;
    pc->canvas = *cv;
    pc->layers = layers;
    pc->planned_r = -1;
    pc->max_r = -1;
    int rc = JPIP_OK;
    for (uint32_t ty = ty0; ty < ty1 && rc >= 0; ty++)
        for (uint32_t tx = tx0; tx < tx1 && rc >= 0; tx++) {
            uint32_t t = ty * siz->ntx + tx;
            if (c->tile_ntp[t] == 0)
                continue;
            struct jpip__tile_index *ti;
            rc = jpip__cs_tile(c, t, &ti);
            if (rc < 0) {
                jpip__errf(err, rc, "codestream %u: %s", cs, c->err.msg);
                break;
            }
            if (r->jpt) {
                struct jpt_cb jc = {ti, layers, 0};
                for (uint16_t k = 0; k < nc && rc >= 0; k++)
                    if (comp[k])
                        rc =
                            jpip__window_precincts(ti, siz, k, w.discard, cv, on_precinct_jpt, &jc);
                if (rc >= 0)
                    rc = plan_tile_bin(r, pc, ti, jc.max_end);
                continue;
            }
            rc = push_bin(r, &pc->hdr, &pc->nhdr, JPIP__CLS_TILE_HEADER, cs, t, ti->hdr_len,
                          ti->hdr_len);
            if (ti->nlayers > pc->max_layers)
                pc->max_layers = ti->nlayers;
            for (uint16_t k = 0; k < nc && rc >= 0; k++) {
                if (!comp[k])
                    continue;
                unsigned nl = ti->coding.tccp[k].nl;
                int top = nl > w.discard ? (int)(nl - w.discard) : 0;
                if (top > pc->max_r)
                    pc->max_r = top;
                struct plan_tc *nv = jpip__realloc(r->srv->alloc, pc->tcs, pc->ntcs * sizeof *nv,
                                                   (pc->ntcs + 1) * sizeof *nv);
                if (!nv) {
                    rc = JPIP_ENOMEM;
                    break;
                }
                pc->tcs = nv;
                pc->tcs[pc->ntcs++] = (struct plan_tc){t, k};
            }
        }
    jpip__free(r->srv->alloc, comp);
    if (pc->layers && pc->layers < pc->max_layers)
        pc->max_layers = pc->layers;
    return rc;
}

int jpip__plan_build(struct jpip_response *r, const struct jpip__request *q, int use_model,
                     struct jpip__err *err)
{
    struct srv_target *tg = r->tgt;
    if (jpip__request_has(q, JPIP__F_LEN))
        r->budget = q->len;
    else if (r->srv->cfg.max_response_bytes)
        r->budget = r->srv->cfg.max_response_bytes;
    /* Codestreams: stream= ranges (default 0); context=jpxl<..> names compositing layers,
     * which we map one to one onto codestreams. */
    struct jpip__range def = {0, 0, 1};
    const struct jpip__range *streams = &def;
    uint32_t nstreams = 1;
    if (jpip__request_has(q, JPIP__F_STREAM)) {
        streams = q->stream;
        nstreams = q->nstream;
    } else if (jpip__request_has(q, JPIP__F_CONTEXT) && q->ncontext &&
               q->context[0].kind == JPIP__CONTEXT_JPXL) {
        streams = q->context[0].ranges;
        nstreams = q->context[0].nranges;
    }
    if (use_model && jpip__request_has(q, JPIP__F_MODEL))
        JPIP_TRY(apply_model(r, &q->model, 0, streams, nstreams));
    if (use_model && jpip__request_has(q, JPIP__F_NEED)) {
        JPIP_FAIL_IF(r->sess, err, JPIP_EMALFORMED, "need= is for stateless requests only");
        r->need_mode = 1;
        JPIP_TRY(apply_model(r, &q->need, 1, streams, nstreams));
    }
    JPIP_TRY(plan_metadata(r, q));
    uint32_t count = 0;
    for (uint32_t i = 0; i < nstreams; i++) {
        uint64_t to = streams[i].to;
        if (to >= tg->ncs)
            to = tg->ncs ? tg->ncs - 1 : 0;
        uint32_t step = streams[i].step ? streams[i].step : 1;
        for (uint64_t k = streams[i].from; k <= to && k < tg->ncs; k += step)
            count++;
    }
    JPIP_FAIL_IF(count > MAX_STREAMS, err, JPIP_ELIMIT, "request names %u codestreams (at most %u)",
                 count, MAX_STREAMS);
    JPIP_FAIL_IF(count == 0 && nstreams, err, JPIP_ENOTFOUND,
                 "the requested codestreams do not exist (the target has %u)", tg->ncs);
    r->pcs = jpip__calloc(r->srv->alloc, count ? count : 1, sizeof *r->pcs);
    if (!r->pcs)
        return JPIP_ENOMEM;
    int first = 1;
    for (uint32_t i = 0; i < nstreams; i++) {
        uint32_t step = streams[i].step ? streams[i].step : 1;
        for (uint64_t k = streams[i].from; k <= streams[i].to && k < tg->ncs; k += step) {
            int rc = plan_codestream(r, q, (unsigned)k, first, err);
            if (rc < 0) {
                if (!err->msg[0])
                    jpip__errf(err, rc, "codestream %llu: %s", (unsigned long long)k,
                               jpip_strerror(rc));
                return rc;
            }
            first = 0;
        }
    }
    return JPIP_OK;
}

void jpip__plan_free(struct jpip_response *r)
{
    const struct jpip_allocator *a = r->srv->alloc;
    for (uint32_t i = 0; i < r->npcs; i++) {
        jpip__free(a, r->pcs[i].hdr);
        jpip__free(a, r->pcs[i].prec);
        jpip__free(a, r->pcs[i].tcs);
    }
    jpip__free(a, r->pcs);
    jpip__free(a, r->meta);
    jpip__free(a, r->rules);
    r->pcs = NULL;
    r->meta = NULL;
    r->rules = NULL;
    r->npcs = r->nmeta = r->nrules = 0;
}
