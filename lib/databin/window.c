/* SPDX-License-Identifier: BSD-2-Clause */
/* View-window resolution and precinct relevance (see window.h). */
#include "databin/window.h"

#include <string.h>

unsigned jpip__window_dmax(const struct jpip__mainhdr *mh)
{
    unsigned d = JPIP_MAX_LEVELS;
    for (uint16_t c = 0; c < mh->siz.csiz; c++)
        if (mh->cod.tccp[c].nl < d)
            d = mh->cod.tccp[c].nl;
    return d;
}

void jpip__frame_size(const struct jpip__siz *siz, unsigned d, uint32_t *w, uint32_t *h)
{
    *w = jpip__ceildiv_pow2(siz->xsiz, d) - jpip__ceildiv_pow2(siz->xosiz, d);
    *h = jpip__ceildiv_pow2(siz->ysiz, d) - jpip__ceildiv_pow2(siz->yosiz, d);
}

static unsigned choose_discard(const struct jpip__siz *siz, unsigned dmax,
                               const struct jpip__window_req *q)
{
    uint32_t w, h;
    switch (q->round) {
    case JPIP__WIN_ROUND_UP: {
        unsigned best = 0;
        for (unsigned d = 0; d <= dmax; d++) {
            jpip__frame_size(siz, d, &w, &h);
            if (w >= q->fx && h >= q->fy)
                best = d;
            else
                break;
        }
        return best;
    }
    case JPIP__WIN_ROUND_CLOSEST: {
        uint64_t target = (uint64_t)q->fx * q->fy;
        unsigned best = 0;
        uint64_t best_diff = UINT64_MAX;
        for (unsigned d = 0; d <= dmax; d++) {
            jpip__frame_size(siz, d, &w, &h);
            uint64_t area = (uint64_t)w * h;
            uint64_t diff = area > target ? area - target : target - area;
            if (diff < best_diff) {
                best_diff = diff;
                best = d;
            }
            if (area < target)
                break; /* smaller frames only get further away */
        }
        return best;
    }
    default:
        for (unsigned d = 0; d <= dmax; d++) {
            jpip__frame_size(siz, d, &w, &h);
            if (w <= q->fx && h <= q->fy)
                return d;
        }
        return dmax;
    }
}

void jpip__window_resolve(const struct jpip__siz *siz, unsigned dmax,
                          const struct jpip__window_req *q, struct jpip__window *w)
{
    memset(w, 0, sizeof *w);
    uint32_t fx, fy;
    unsigned d = q->has_fsiz ? choose_discard(siz, dmax, q) : 0;
    jpip__frame_size(siz, d, &fx, &fy);
    w->discard = d;
    w->fx = fx;
    w->fy = fy;
    uint64_t qfx = q->has_fsiz ? q->fx : fx, qfy = q->has_fsiz ? q->fy : fy;
    uint64_t ox = q->has_roff ? q->ox : 0, oy = q->has_roff ? q->oy : 0;
    uint64_t sx = q->has_rsiz ? q->sx : qfx, sy = q->has_rsiz ? q->sy : qfy;
    w->fsiz_changed = q->has_fsiz && (q->fx != fx || q->fy != fy);
    uint64_t x0, x1, y0, y1;
    if (sx == 0 || sy == 0 || ox >= qfx || oy >= qfy) {
        w->empty = 1;
        return;
    }
    /* Scale the region into the chosen frame (C.4.3), then clip it. */
    x0 = ox * fx / qfx;
    y0 = oy * fy / qfy;
    x1 = (ox + sx - 1) * fx / qfx + 1;
    y1 = (oy + sy - 1) * fy / qfy + 1;
    if (x1 > fx)
        x1 = fx;
    if (y1 > fy)
        y1 = fy;
    if (x0 >= x1 || y0 >= y1) {
        w->empty = 1;
        return;
    }
    w->ox = (uint32_t)x0;
    w->oy = (uint32_t)y0;
    w->sx = (uint32_t)(x1 - x0);
    w->sy = (uint32_t)(y1 - y0);
    w->roff_changed = q->has_roff && (w->ox != q->ox || w->oy != q->oy);
    w->rsiz_changed = q->has_rsiz && (w->sx != q->sx || w->sy != q->sy);
    if (w->fsiz_changed) {
        w->roff_changed = q->has_roff;
        w->rsiz_changed = q->has_rsiz;
    }
    /* Onto the full-resolution canvas: reduced sample u covers [u*2^d, (u+1)*2^d). */
    uint64_t rx0 = jpip__ceildiv_pow2(siz->xosiz, d), ry0 = jpip__ceildiv_pow2(siz->yosiz, d);
    uint64_t cx0 = (rx0 + x0) << d, cx1 = (rx0 + x1) << d;
    uint64_t cy0 = (ry0 + y0) << d, cy1 = (ry0 + y1) << d;
    w->canvas.x0 = (uint32_t)(cx0 < siz->xosiz ? siz->xosiz : cx0);
    w->canvas.y0 = (uint32_t)(cy0 < siz->yosiz ? siz->yosiz : cy0);
    w->canvas.x1 = (uint32_t)(cx1 > siz->xsiz ? siz->xsiz : cx1);
    w->canvas.y1 = (uint32_t)(cy1 > siz->ysiz ? siz->ysiz : cy1);
}

/* ---- precinct relevance ---- */

struct span {
    int64_t a, b; /* half-open; empty when a >= b */
};

static struct span clip(struct span s, uint32_t lo, uint32_t hi)
{
    if (s.a < lo)
        s.a = lo;
    if (s.b > hi)
        s.b = hi;
    return s;
}

/* B-15 mapping of a tile-component coordinate into a band at level nb with offset ob. */
static int64_t to_band(uint32_t v, unsigned nb, unsigned ob)
{
    if (nb == 0)
        return v;
    uint64_t off = ob ? (uint64_t)1 << (nb - 1) : 0;
    if (v <= off)
        return 0;
    return (int64_t)((v - off + (((uint64_t)1 << nb) - 1)) >> nb);
}

/* Support of one synthesis level (jpip-notes 10.3): output [a,b) of a level needs low-pass
 * samples [a/2 + lo0, b/2 + lo1) and high-pass samples [a/2 + hi0, b/2 + hi1). */
static void support(struct span out, int reversible, struct span *lo, struct span *hi)
{
    int64_t fa = out.a >> 1, fb = out.b >> 1;
    if (reversible) {
        lo->a = fa;
        lo->b = fb + 1;
        hi->a = fa - 1;
        hi->b = fb + 1;
    } else {
        lo->a = fa - 1;
        lo->b = fb + 2;
        hi->a = fa - 2;
        hi->b = fb + 2;
    }
}

struct prect {
    int64_t x0, y0, x1, y1;
};

/* Precinct index ranges of a band rectangle need (band coordinates) for one resolution. */
static int prec_range(const struct jpip__res_layout *rl, unsigned r, unsigned ppx, unsigned ppy,
                      const struct jpip__rect *band, int64_t nx0, int64_t ny0, int64_t nx1,
                      int64_t ny1, struct prect *out)
{
    if (nx0 < band->x0)
        nx0 = band->x0;
    if (ny0 < band->y0)
        ny0 = band->y0;
    if (nx1 > band->x1)
        nx1 = band->x1;
    if (ny1 > band->y1)
        ny1 = band->y1;
    if (nx0 >= nx1 || ny0 >= ny1)
        return 0;
    int64_t gx0 = (int64_t)jpip__floordiv_pow2(rl->rect.x0, ppx) << ppx;
    int64_t gy0 = (int64_t)jpip__floordiv_pow2(rl->rect.y0, ppy) << ppy;
    unsigned ex = ppx, ey = ppy;
    if (r > 0) {
        gx0 = (gx0 + 1) >> 1;
        gy0 = (gy0 + 1) >> 1;
        ex = ppx ? ppx - 1 : 0;
        ey = ppy ? ppy - 1 : 0;
    }
    out->x0 = (nx0 - gx0) >> ex;
    out->y0 = (ny0 - gy0) >> ey;
    out->x1 = ((nx1 - gx0) + ((int64_t)1 << ex) - 1) >> ex;
    out->y1 = ((ny1 - gy0) + ((int64_t)1 << ey) - 1) >> ey;
    if (out->x0 < 0)
        out->x0 = 0;
    if (out->y0 < 0)
        out->y0 = 0;
    if (out->x1 > rl->npw)
        out->x1 = rl->npw;
    if (out->y1 > rl->nph)
        out->y1 = rl->nph;
    return out->x0 < out->x1 && out->y0 < out->y1;
}

int jpip__window_precincts(const struct jpip__tile_index *ti, const struct jpip__siz *siz,
                           uint16_t c, unsigned discard, const struct jpip__rect *canvas,
                           jpip__precinct_fn fn, void *user)
{
    return jpip__window_precincts_at(ti, siz, c, discard, canvas, -1, fn, user);
}

/* The walk behind both entry points: per resolution, each needed precinct to fn, or (when
 * bounds_fn is set) only the bounding rectangle of the needed ones to bounds_fn. */
static int window_walk(const struct jpip__tile_index *ti, const struct jpip__siz *siz, uint16_t c,
                       unsigned discard, const struct jpip__rect *canvas, int only_r,
                       jpip__precinct_fn fn, jpip__precinct_bounds_fn bounds_fn, void *user)
{
    const struct jpip__comp_layout *cl = &ti->comp[c];
    const struct jpip__tccp *tc = &ti->coding.tccp[c];
    const unsigned nl = tc->nl;
    const int rev = tc->wavelet == 1;
    const unsigned margin = rev ? 2 : 3; /* OpenJPEG's region decoder */
    uint32_t dx = siz->comp[c].dx, dy = siz->comp[c].dy;
    int64_t cx0 = jpip__ceildiv(canvas->x0, dx), cx1 = jpip__ceildiv(canvas->x1, dx);
    int64_t cy0 = jpip__ceildiv(canvas->y0, dy), cy1 = jpip__ceildiv(canvas->y1, dy);
    if (cx0 < cl->rect.x0)
        cx0 = cl->rect.x0;
    if (cy0 < cl->rect.y0)
        cy0 = cl->rect.y0;
    if (cx1 > cl->rect.x1)
        cx1 = cl->rect.x1;
    if (cy1 > cl->rect.y1)
        cy1 = cl->rect.y1;
    if (cx0 >= cx1 || cy0 >= cy1)
        return 0;
    unsigned rk = nl > discard ? nl - discard : 0;
    /* Exact support: needed[r][band] rectangles, computed top-down. */
    struct prect need[JPIP_MAX_LEVELS + 1][3];
    memset(need, 0, sizeof need);
    unsigned e = nl - rk;
    struct span wx = {jpip__ceildiv_pow2((uint32_t)cx0, e), jpip__ceildiv_pow2((uint32_t)cx1, e)};
    struct span wy = {jpip__ceildiv_pow2((uint32_t)cy0, e), jpip__ceildiv_pow2((uint32_t)cy1, e)};
    wx = clip(wx, cl->res[rk].rect.x0, cl->res[rk].rect.x1);
    wy = clip(wy, cl->res[rk].rect.y0, cl->res[rk].rect.y1);
    for (unsigned r = rk; r >= 1; r--) {
        struct span lx, hx, ly, hy;
        struct jpip__rect hl, lh;
        jpip__band_rect(&cl->rect, nl, r, 1, &hl);
        jpip__band_rect(&cl->rect, nl, r, 2, &lh);
        support(wx, rev, &lx, &hx);
        support(wy, rev, &ly, &hy);
        lx = clip(lx, cl->res[r - 1].rect.x0, cl->res[r - 1].rect.x1);
        ly = clip(ly, cl->res[r - 1].rect.y0, cl->res[r - 1].rect.y1);
        hx = clip(hx, hl.x0, hl.x1);
        hy = clip(hy, lh.y0, lh.y1);
        if (wx.a >= wx.b || wy.a >= wy.b) {
            lx.a = lx.b = ly.a = ly.b = hx.a = hx.b = hy.a = hy.b = 0;
        }
        need[r][0] = (struct prect){hx.a, ly.a, hx.b, ly.b}; /* HL */
        need[r][1] = (struct prect){lx.a, hy.a, lx.b, hy.b}; /* LH */
        need[r][2] = (struct prect){hx.a, hy.a, hx.b, hy.b}; /* HH */
        wx = lx;
        wy = ly;
    }
    need[0][0] = (struct prect){wx.a, wy.a, wx.b, wy.b};
    for (unsigned r = 0; r <= rk; r++) {
        const struct jpip__res_layout *rl = &cl->res[r];
        if (rl->npw == 0 || rl->nph == 0 || (only_r >= 0 && r != (unsigned)only_r))
            continue;
        struct prect pr[6];
        unsigned npr = 0;
        unsigned nbands = r == 0 ? 1 : 3;
        unsigned nb = r == 0 ? nl : nl - r + 1;
        for (unsigned b = 0; b < nbands; b++) {
            unsigned band = r == 0 ? 0 : b + 1;
            struct jpip__rect br;
            jpip__band_rect(&cl->rect, nl, r, band, &br);
            if (br.x0 >= br.x1 || br.y0 >= br.y1)
                continue;
            const struct prect *n = &need[r][b];
            if (prec_range(rl, r, tc->ppx[r], tc->ppy[r], &br, n->x0, n->y0, n->x1, n->y1,
                           &pr[npr]))
                npr++;
            /* OpenJPEG's margin rule on the same band. */
            unsigned xob = band & 1, yob = band >> 1;
            int64_t ox0 = to_band((uint32_t)cx0, nb, xob) - margin;
            int64_t oy0 = to_band((uint32_t)cy0, nb, yob) - margin;
            int64_t ox1 = to_band((uint32_t)cx1, nb, xob) + margin;
            int64_t oy1 = to_band((uint32_t)cy1, nb, yob) + margin;
            if (prec_range(rl, r, tc->ppx[r], tc->ppy[r], &br, ox0, oy0, ox1, oy1, &pr[npr]))
                npr++;
        }
        if (npr == 0)
            continue;
        struct prect bb = pr[0];
        for (unsigned i = 1; i < npr; i++) {
            if (pr[i].x0 < bb.x0)
                bb.x0 = pr[i].x0;
            if (pr[i].y0 < bb.y0)
                bb.y0 = pr[i].y0;
            if (pr[i].x1 > bb.x1)
                bb.x1 = pr[i].x1;
            if (pr[i].y1 > bb.y1)
                bb.y1 = pr[i].y1;
        }
        if (bounds_fn) { /* the corners of the ranges are needed precincts themselves */
            int rc = bounds_fn(user, c, (uint8_t)r, (uint32_t)bb.x0, (uint32_t)bb.y0,
                               (uint32_t)bb.x1, (uint32_t)bb.y1);
            if (rc < 0)
                return rc;
            continue;
        }
        for (int64_t py = bb.y0; py < bb.y1; py++)
            for (int64_t px = bb.x0; px < bb.x1; px++) {
                int hit = 0;
                for (unsigned i = 0; i < npr && !hit; i++)
                    hit = px >= pr[i].x0 && px < pr[i].x1 && py >= pr[i].y0 && py < pr[i].y1;
                if (!hit)
                    continue;
                int rc = fn(user, c, (uint8_t)r, (uint32_t)(py * rl->npw + px));
                if (rc < 0)
                    return rc;
            }
    }
    return 0;
}

int jpip__window_precincts_at(const struct jpip__tile_index *ti, const struct jpip__siz *siz,
                              uint16_t c, unsigned discard, const struct jpip__rect *canvas,
                              int only_r, jpip__precinct_fn fn, void *user)
{
    return window_walk(ti, siz, c, discard, canvas, only_r, fn, NULL, user);
}

int jpip__window_precinct_bounds(const struct jpip__tile_index *ti, const struct jpip__siz *siz,
                                 uint16_t c, unsigned discard, const struct jpip__rect *canvas,
                                 jpip__precinct_bounds_fn fn, void *user)
{
    return window_walk(ti, siz, c, discard, canvas, -1, NULL, fn, user);
}
