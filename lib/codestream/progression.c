/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Progression iteration (15444-1 B.12). Position-driven orders (RPCL, PCRL, CPRL) visit the
 * tile's canvas positions where some precinct starts: rather than stepping by a common
 * divisor, we collect the exact set of such positions (the tile origin and every multiple of
 * each component-resolution's precinct step inside the tile), which is what the standard's
 * sample-by-sample loop amounts to.
 */
#include "codestream/progression.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

struct walk {
    const struct jpip__tile_index *ti;
    const struct jpip__siz *siz;
    uint8_t *done; /* bitmap over packets: already visited */
    jpip__packet_fn fn;
    void *user;
    uint32_t *xs, *ys;
    uint32_t nxs, nys;
};

static int visit(struct walk *w, uint32_t g, uint16_t l)
{
    uint64_t k = (uint64_t)g * w->ti->nlayers + l;
    if (w->done[k >> 3] & (1u << (k & 7)))
        return 0;
    w->done[k >> 3] |= (uint8_t)(1u << (k & 7));
    return w->fn(w->user, g, l);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Positions along one axis: v0 and every multiple of each step in (v0, v1), the steps being
 * those of components [c0, c1) at resolutions [r0, r1]. */
static int positions(const struct jpip__tile_index *ti, const struct jpip__siz *siz, int axis,
                     uint16_t c0, uint16_t c1, unsigned r0, unsigned r1, uint32_t **out,
                     uint32_t *n, const struct jpip_allocator *a)
{
    uint32_t v0 = axis ? ti->rect.y0 : ti->rect.x0;
    uint32_t v1 = axis ? ti->rect.y1 : ti->rect.x1;
    uint64_t count = 1;
    for (uint16_t c = c0; c < c1; c++) {
        const struct jpip__tccp *tc = &ti->coding.tccp[c];
        uint32_t sub = axis ? siz->comp[c].dy : siz->comp[c].dx;
        for (unsigned r = r0; r <= tc->nl && r <= r1; r++) {
            unsigned e = (axis ? tc->ppy[r] : tc->ppx[r]) + tc->nl - r;
            if (e >= 40)
                continue;
            uint64_t step = (uint64_t)sub << e;
            count += v1 / step - v0 / step + 1;
        }
    }
    if (count > (1u << 26))
        return JPIP_ELIMIT;
    uint32_t *v = jpip__calloc(a, (size_t)count, sizeof *v);
    if (!v)
        return JPIP_ENOMEM;
    uint32_t k = 0;
    v[k++] = v0;
    for (uint16_t c = c0; c < c1; c++) {
        const struct jpip__tccp *tc = &ti->coding.tccp[c];
        uint32_t sub = axis ? siz->comp[c].dy : siz->comp[c].dx;
        for (unsigned r = r0; r <= tc->nl && r <= r1; r++) {
            unsigned e = (axis ? tc->ppy[r] : tc->ppx[r]) + tc->nl - r;
            if (e >= 40)
                continue;
            uint64_t step = (uint64_t)sub << e;
            for (uint64_t m = (v0 / step + 1) * step; m < v1; m += step)
                v[k++] = (uint32_t)m;
        }
    }
    qsort(v, k, sizeof *v, cmp_u32);
    uint32_t u = 0;
    for (uint32_t i = 0; i < k; i++)
        if (u == 0 || v[u - 1] != v[i])
            v[u++] = v[i];
    *out = v;
    *n = u;
    return JPIP_OK;
}

/* Whether canvas coordinate v (along x or y) starts a precinct of (c, r) (B.12.1.3): a multiple
 * of the precinct step on the canvas, or the tile's edge when the tile-resolution does not start
 * on that step. */
static int starts_precinct(const struct walk *w, uint16_t c, unsigned r, int axis, uint32_t v)
{
    const struct jpip__tile_index *ti = w->ti;
    const struct jpip__tccp *tc = &ti->coding.tccp[c];
    const struct jpip__res_layout *rl = &ti->comp[c].res[r];
    unsigned lv = tc->nl - r;
    uint64_t sub = axis ? w->siz->comp[c].dy : w->siz->comp[c].dx;
    unsigned rp = (axis ? tc->ppy[r] : tc->ppx[r]) + lv;
    uint64_t tr0 = axis ? rl->rect.y0 : rl->rect.x0;
    uint32_t edge = axis ? ti->rect.y0 : ti->rect.x0;
    return (rp < 40 && v % (sub << rp) == 0) ||
           (v == edge && rp < 64 && ((tr0 << lv) % ((uint64_t)1 << rp)) != 0);
}

/* Whether a row of precincts of (c, r) starts at canvas row y: prec_at's test on y alone. */
static int row_starts(const struct walk *w, uint16_t c, unsigned r, uint32_t y)
{
    const struct jpip__res_layout *rl = &w->ti->comp[c].res[r];
    return rl->npw && rl->nph && starts_precinct(w, c, r, 1, y);
}

/* The precinct of (c, r) that starts at canvas position (x, y), if any (B.12.1.3). */
static int prec_at(const struct walk *w, uint16_t c, unsigned r, uint32_t x, uint32_t y,
                   uint32_t *p)
{
    const struct jpip__tile_index *ti = w->ti;
    const struct jpip__tccp *tc = &ti->coding.tccp[c];
    const struct jpip__res_layout *rl = &ti->comp[c].res[r];
    if (rl->npw == 0 || rl->nph == 0 || !starts_precinct(w, c, r, 0, x) ||
        !starts_precinct(w, c, r, 1, y))
        return 0;
    unsigned lv = tc->nl - r;
    uint64_t dx = w->siz->comp[c].dx, dy = w->siz->comp[c].dy;
    uint64_t cx = (x + (dx << lv) - 1) / (dx << lv);
    uint64_t cy = (y + (dy << lv) - 1) / (dy << lv);
    uint64_t px = (cx >> tc->ppx[r]) - (rl->rect.x0 >> tc->ppx[r]);
    uint64_t py = (cy >> tc->ppy[r]) - (rl->rect.y0 >> tc->ppy[r]);
    if (px >= rl->npw || py >= rl->nph)
        return 0;
    *p = (uint32_t)(py * rl->npw + px);
    return 1;
}

static int layers_of(struct walk *w, uint16_t c, unsigned r, uint32_t p, uint16_t ly1)
{
    uint32_t g = jpip__prec_g(w->ti, c, (uint8_t)r, p);
    for (uint16_t l = 0; l < ly1; l++) {
        int rc = visit(w, g, l);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Layer l of every precinct of resolution r in components [cs, ce), precincts in raster order:
 * the inner loops of LRCP and RLCP (B.12.1.1, B.12.1.2). */
static int layer_sweep(struct walk *w, unsigned r, uint16_t l, uint16_t cs, uint16_t ce)
{
    const struct jpip__tile_index *ti = w->ti;
    for (uint16_t c = cs; c < ce; c++) {
        if (r >= ti->comp[c].nres)
            continue;
        const struct jpip__res_layout *rl = &ti->comp[c].res[r];
        uint32_t np = rl->npw * rl->nph;
        for (uint32_t p = 0; p < np; p++) {
            int rc = visit(w, jpip__prec_g(ti, c, (uint8_t)r, p), l);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static int volume(struct walk *w, const struct jpip__poc *v, const struct jpip_allocator *a)
{
    const struct jpip__tile_index *ti = w->ti;
    uint16_t ce = v->ce < ti->ncomp ? v->ce : ti->ncomp;
    uint16_t ly1 = v->lye < ti->nlayers ? v->lye : ti->nlayers;
    unsigned maxres = 0;
    for (uint16_t c = 0; c < ti->ncomp; c++)
        if (ti->comp[c].nres > maxres)
            maxres = ti->comp[c].nres;
    unsigned re = v->re < maxres ? v->re : maxres;
    int rc = 0;
    switch (v->prog) {
    case JPIP_LRCP:
        for (uint16_t l = 0; l < ly1; l++)
            for (unsigned r = v->rs; r < re; r++) {
                rc = layer_sweep(w, r, l, v->cs, ce);
                if (rc < 0)
                    return rc;
            }
        return 0;
    case JPIP_RLCP:
        for (unsigned r = v->rs; r < re; r++)
            for (uint16_t l = 0; l < ly1; l++) {
                rc = layer_sweep(w, r, l, v->cs, ce);
                if (rc < 0)
                    return rc;
            }
        return 0;
    default: break;
    }
    /* Position-driven orders. */
    uint32_t *xs = NULL, *ys = NULL, nx = 0, ny = 0;
    uint32_t p;
    if (v->prog == JPIP_RPCL) {
        /* Only the positions where a precinct of resolution r starts can yield one of its
         * packets, so each resolution walks its own (the order among them is unchanged):
         * the walk then costs about one step per precinct instead of one per position of the
         * finest grid at every resolution. */
        for (unsigned r = v->rs; r < re && rc >= 0; r++) {
            if ((rc = positions(ti, w->siz, 0, v->cs, ce, r, r, &xs, &nx, a)) < 0)
                break;
            if ((rc = positions(ti, w->siz, 1, v->cs, ce, r, r, &ys, &ny, a)) < 0)
                break;
            for (uint32_t iy = 0; iy < ny && rc >= 0; iy++)
                for (uint32_t ix = 0; ix < nx && rc >= 0; ix++)
                    for (uint16_t c = v->cs; c < ce && rc >= 0; c++)
                        if (r < ti->comp[c].nres && prec_at(w, c, r, xs[ix], ys[iy], &p))
                            rc = layers_of(w, c, r, p, ly1);
            jpip__free(a, xs);
            jpip__free(a, ys);
            xs = ys = NULL;
        }
        jpip__free(a, xs);
        jpip__free(a, ys);
        return rc;
    }
    if (v->prog != JPIP_CPRL) {
        if ((rc = positions(ti, w->siz, 0, 0, ti->ncomp, 0, JPIP_MAX_LEVELS, &xs, &nx, a)) < 0)
            return rc;
        if ((rc = positions(ti, w->siz, 1, 0, ti->ncomp, 0, JPIP_MAX_LEVELS, &ys, &ny, a)) < 0) {
            jpip__free(a, xs);
            return rc;
        }
    }
    /* At each row, only the (component, resolution) pairs with precincts starting on it are
     * tried along the row: on a fine grid most rows belong to a few pairs only. */
    struct pair {
        uint16_t c;
        uint8_t r;
    } *pairs =
        jpip__alloc(a, ((size_t)(ce > v->cs ? ce - v->cs : 0) * (re + 1) + 1) * sizeof *pairs);
    if (!pairs) {
        jpip__free(a, xs);
        jpip__free(a, ys);
        return JPIP_ENOMEM;
    }
    if (v->prog == JPIP_PCRL) {
        for (uint32_t iy = 0; iy < ny && rc >= 0; iy++) {
            uint32_t np = 0;
            for (uint16_t c = v->cs; c < ce; c++)
                for (unsigned r = v->rs; r < re && r < ti->comp[c].nres; r++)
                    if (row_starts(w, c, r, ys[iy]))
                        pairs[np++] = (struct pair){c, (uint8_t)r};
            for (uint32_t ix = 0; ix < nx && np && rc >= 0; ix++)
                for (uint32_t k = 0; k < np && rc >= 0; k++)
                    if (prec_at(w, pairs[k].c, pairs[k].r, xs[ix], ys[iy], &p))
                        rc = layers_of(w, pairs[k].c, pairs[k].r, p, ly1);
        }
    } else { /* CPRL: positions per component */
        for (uint16_t c = v->cs; c < ce && rc >= 0; c++) {
            if ((rc = positions(ti, w->siz, 0, c, (uint16_t)(c + 1), 0, JPIP_MAX_LEVELS, &xs, &nx,
                                a)) < 0)
                break;
            if ((rc = positions(ti, w->siz, 1, c, (uint16_t)(c + 1), 0, JPIP_MAX_LEVELS, &ys, &ny,
                                a)) < 0)
                break;
            for (uint32_t iy = 0; iy < ny && rc >= 0; iy++) {
                uint32_t np = 0;
                for (unsigned r = v->rs; r < re && r < ti->comp[c].nres; r++)
                    if (row_starts(w, c, r, ys[iy]))
                        pairs[np++] = (struct pair){c, (uint8_t)r};
                for (uint32_t ix = 0; ix < nx && np && rc >= 0; ix++)
                    for (uint32_t k = 0; k < np && rc >= 0; k++)
                        if (prec_at(w, c, pairs[k].r, xs[ix], ys[iy], &p))
                            rc = layers_of(w, c, pairs[k].r, p, ly1);
            }
            jpip__free(a, xs);
            jpip__free(a, ys);
            xs = ys = NULL;
        }
    }
    jpip__free(a, pairs);
    jpip__free(a, xs);
    jpip__free(a, ys);
    return rc;
}

int jpip__progression_walk(const struct jpip__tile_index *ti, const struct jpip__siz *siz, int prog,
                           jpip__packet_fn fn, void *user, const struct jpip_allocator *a)
{
    return jpip__progression_walk_upto(ti, siz, prog, JPIP_MAX_LEVELS, fn, user, a);
}

int jpip__progression_walk_upto(const struct jpip__tile_index *ti, const struct jpip__siz *siz,
                                int prog, unsigned max_r, jpip__packet_fn fn, void *user,
                                const struct jpip_allocator *a)
{
    struct walk w = {0};
    w.ti = ti;
    w.siz = siz;
    w.fn = fn;
    w.user = user;
    uint64_t nbits = (uint64_t)ti->nprec * ti->nlayers;
    w.done = jpip__calloc(a, (size_t)(nbits / 8 + 1), 1);
    if (!w.done)
        return JPIP_ENOMEM;
    int rc = 0;
    struct jpip__poc all = {0,           (uint8_t)(max_r + 1),
                            0,           ti->ncomp,
                            ti->nlayers, (uint8_t)(prog >= 0 ? prog : ti->coding.prog)};
    if (prog < 0 && ti->coding.npoc > 0) {
        for (uint16_t i = 0; i < ti->coding.npoc && rc >= 0; i++)
            rc = volume(&w, &ti->coding.poc[i], a);
    } else {
        rc = volume(&w, &all, a);
    }
    jpip__free(a, w.done);
    return rc;
}
