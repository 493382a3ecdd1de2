/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The viewer's geometry and resampling (view_math.h). Everything is plain arithmetic in
 * doubles on the reference grid, so the viewer and the test that checks its screenshots get
 * the same pixels from the same decode.
 */
#include "view_math.h"

#include <math.h>
#include <stdlib.h>

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static double fit_scale(const struct vw_image *im, int w, int h)
{
    const double sx = (double)w / (double)(im->x1 - im->x0);
    const double sy = (double)h / (double)(im->y1 - im->y0);
    return sx < sy ? sx : sy;
}

void vw_fit(const struct vw_image *im, int w, int h, struct vw_view *v)
{
    v->w = w;
    v->h = h;
    v->s = fit_scale(im, w, h);
    v->vx = (im->x0 + im->x1) / 2.0 - w / (2.0 * v->s);
    v->vy = (im->y0 + im->y1) / 2.0 - h / (2.0 * v->s);
}

void vw_zoom_at(struct vw_view *v, double k, double mx, double my)
{
    const double gx = v->vx + mx / v->s, gy = v->vy + my / v->s;
    v->s *= k;
    v->vx = gx - mx / v->s;
    v->vy = gy - my / v->s;
}

void vw_pan(struct vw_view *v, double dx, double dy)
{
    v->vx -= dx / v->s;
    v->vy -= dy / v->s;
}

void vw_clamp(const struct vw_image *im, struct vw_view *v)
{
    const double lo = fit_scale(im, v->w, v->h) / 4, hi = 16;
    if (v->s < lo || v->s > hi)
        vw_zoom_at(v, clampd(v->s, lo, hi) / v->s, v->w / 2.0, v->h / 2.0);
    const double cx = v->vx + v->w / (2.0 * v->s), cy = v->vy + v->h / (2.0 * v->s);
    v->vx += clampd(cx, im->x0, im->x1) - cx;
    v->vy += clampd(cy, im->y0, im->y1) - cy;
}

unsigned vw_discard(const struct vw_image *im, double s)
{
    unsigned d = 0;
    while (d < im->levels && d < 30 && s * (double)(2u << d) <= 1.0 + 1e-9)
        d++;
    return d;
}

/* First screen pixel whose centre lies at or after grid coordinate g. */
static int first_pixel(double g, double origin, double s, int n)
{
    return (int)clampd(ceil((g - origin) * s - 0.5), 0, n);
}

struct vw_rect vw_screen_rect(const struct vw_image *im, const struct vw_view *v)
{
    struct vw_rect r;
    r.x0 = first_pixel(im->x0, v->vx, v->s, v->w);
    r.x1 = first_pixel(im->x1, v->vx, v->s, v->w);
    r.y0 = first_pixel(im->y0, v->vy, v->s, v->h);
    r.y1 = first_pixel(im->y1, v->vy, v->s, v->h);
    if (r.x1 < r.x0)
        r.x1 = r.x0;
    if (r.y1 < r.y0)
        r.y1 = r.y0;
    return r;
}

static uint32_t ceil_pow2(uint32_t v, unsigned d)
{
    return (uint32_t)(((uint64_t)v + (1ull << d) - 1) >> d);
}

/* The samples [*a, *b] at discard d (on the level's own grid) that pixels [p0, p1) read. */
static void sample_span(double origin, double s, unsigned d, int p0, int p1, uint32_t lo,
                        uint32_t hi, uint32_t *a, uint32_t *b)
{
    const double L = (double)(1u << d);
    const double u0 = floor((origin + (p0 + 0.5) / s) / L - 0.5);
    const double u1 = floor((origin + (p1 - 0.5) / s) / L - 0.5) + 1;
    *a = (uint32_t)clampd(u0, lo, hi - 1);
    *b = (uint32_t)clampd(u1, lo, hi - 1);
}

int vw_request(const struct vw_image *im, const struct vw_view *v, unsigned d,
               const struct vw_mode *mode, unsigned layers, uint32_t comps[3],
               struct jpip_view *out)
{
    const struct vw_rect r = vw_screen_rect(im, v);
    if (r.x0 == r.x1 || r.y0 == r.y1)
        return -1;
    const uint32_t lx0 = ceil_pow2(im->x0, d), lx1 = ceil_pow2(im->x1, d);
    const uint32_t ly0 = ceil_pow2(im->y0, d), ly1 = ceil_pow2(im->y1, d);
    uint32_t ua, ub, va, vb;
    sample_span(v->vx, v->s, d, r.x0, r.x1, lx0, lx1, &ua, &ub);
    sample_span(v->vy, v->s, d, r.y0, r.y1, ly0, ly1, &va, &vb);
    struct jpip_view q = {0};
    q.fx = lx1 - lx0;
    q.fy = ly1 - ly0;
    q.round = 0;
    q.ox = ua - lx0;
    q.oy = va - ly0;
    q.sx = ub - ua + 1;
    q.sy = vb - va + 1;
    if (mode->colour || (im->mct && mode->comp < 3)) {
        comps[0] = 0;
        comps[1] = 1;
        comps[2] = 2;
        q.ncomps = 3;
    } else {
        comps[0] = mode->comp;
        q.ncomps = 1;
    }
    q.comps = comps;
    q.layers = (uint16_t)layers;
    *out = q;
    return 0;
}

unsigned vw_decode_comps(const struct vw_image *im, const struct vw_mode *mode, unsigned comps[3],
                         unsigned map[3])
{
    if (im->mct && (mode->colour || mode->comp < 3)) {
        map[0] = mode->colour ? 0 : mode->comp;
        map[1] = mode->colour ? 1 : map[0];
        map[2] = mode->colour ? 2 : map[0];
        return 0;
    }
    if (mode->colour) {
        for (unsigned k = 0; k < 3; k++)
            comps[k] = map[k] = k;
        return 3;
    }
    comps[0] = mode->comp;
    map[0] = map[1] = map[2] = 0;
    return 1;
}

struct vw_levels vw_levels_full(unsigned depth, int is_signed)
{
    const double top = depth >= 1 && depth <= 32 ? ldexp(1.0, (int)depth) : 256.0;
    struct vw_levels l = {0, top - 1};
    if (is_signed) {
        l.lo = -top / 2;
        l.hi = top / 2 - 1;
    }
    return l;
}

/* Where a component's samples start on the decoded level's grid, divided by its subsampling. */
static uint32_t comp_start(uint32_t level_x0, uint32_t dx)
{
    return dx > 1 ? (uint32_t)(((uint64_t)level_x0 + dx - 1) / dx) : level_x0;
}

/* One axis of the bilinear sampling for a component: for each output pixel, the two sample
 * indices (clamped to the decoded extent) and the weight of the second. */
struct axis {
    size_t *i0, *i1;
    double *w;
};

static int axis_make(struct axis *a, int p0, int p1, double origin, double s, double step,
                     uint32_t start, uint32_t n)
{
    const size_t m = (size_t)(p1 - p0);
    a->i0 = malloc(m * sizeof *a->i0);
    a->i1 = malloc(m * sizeof *a->i1);
    a->w = malloc(m * sizeof *a->w);
    if (!a->i0 || !a->i1 || !a->w)
        return -1;
    const double top = n ? n - 1.0 : 0.0;
    for (int p = p0; p < p1; p++) {
        const double pos = (origin + (p + 0.5) / s) / step - 0.5 - start;
        const double f = floor(pos);
        a->i0[p - p0] = (size_t)clampd(f, 0, top);
        a->i1[p - p0] = (size_t)clampd(f + 1, 0, top);
        a->w[p - p0] = pos - f;
    }
    return 0;
}

static void axis_free(struct axis *a)
{
    free(a->i0);
    free(a->i1);
    free(a->w);
}

void vw_render(const struct jpip_image *img, unsigned d, const struct vw_view *v, struct vw_rect r,
               int colour, const unsigned map[3], const struct vw_levels lv[3], uint8_t *rgba)
{
    const unsigned n = colour ? 3 : 1;
    const size_t w = (size_t)(r.x1 - r.x0), stride = 4 * w;
    const double L = (double)(1u << d);
    for (size_t j = 0; j < (size_t)(r.y1 - r.y0); j++)
        for (size_t i = 0; i < w; i++) {
            uint8_t *o = rgba + j * stride + 4 * i;
            o[0] = o[1] = o[2] = 0;
            o[3] = 255;
        }
    for (unsigned k = 0; k < n; k++) {
        if (map[k] >= img->components)
            return;
        const struct jpip_image_comp *c = &img->comp[map[k]];
        if (!c->width || !c->height)
            continue;
        const uint32_t dx = c->dx ? c->dx : 1, dy = c->dy ? c->dy : 1;
        struct axis ax = {0}, ay = {0};
        if (axis_make(&ax, r.x0, r.x1, v->vx, v->s, L * dx, comp_start(img->x0, dx), c->width) ||
            axis_make(&ay, r.y0, r.y1, v->vy, v->s, L * dy, comp_start(img->y0, dy), c->height)) {
            axis_free(&ax);
            axis_free(&ay);
            return;
        }
        const double lo = lv[k].lo, span = lv[k].hi > lv[k].lo ? lv[k].hi - lv[k].lo : 1.0;
        for (size_t j = 0; j < (size_t)(r.y1 - r.y0); j++) {
            const int32_t *r0 = c->data + ay.i0[j] * c->width, *r1 = c->data + ay.i1[j] * c->width;
            const double wv = ay.w[j];
            uint8_t *o = rgba + j * stride + k;
            for (size_t i = 0; i < w; i++, o += 4) {
                const size_t u0 = ax.i0[i], u1 = ax.i1[i];
                const double wu = ax.w[i];
                const double top = r0[u0] + wu * (r0[u1] - (double)r0[u0]);
                const double bot = r1[u0] + wu * (r1[u1] - (double)r1[u0]);
                const double t = (top + wv * (bot - top) - lo) / span;
                *o = !(t > 0) ? 0 : t >= 1 ? 255 : (uint8_t)(t * 255.0 + 0.5);
            }
        }
        axis_free(&ax);
        axis_free(&ay);
    }
    if (n == 1)
        for (size_t j = 0; j < (size_t)(r.y1 - r.y0); j++)
            for (size_t i = 0; i < w; i++) {
                uint8_t *o = rgba + j * stride + 4 * i;
                o[1] = o[2] = o[0];
            }
}

void vw_swap_red_blue(uint8_t *px, size_t n)
{
    for (uint8_t *o = px, *end = px + 4 * n; o < end; o += 4) {
        const uint8_t red = o[0];
        o[0] = o[2];
        o[2] = red;
    }
}

static int cmp_i32(const void *a, const void *b)
{
    const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

struct vw_levels vw_levels_auto(const struct jpip_image_comp *c)
{
    struct vw_levels l = vw_levels_full(c->depth, c->is_signed);
    const size_t n = (size_t)c->width * c->height;
    if (n == 0)
        return l;
    const size_t want = n < 65536 ? n : 65536, step = n / want;
    int32_t *s = malloc(want * sizeof *s);
    if (!s)
        return l;
    for (size_t i = 0; i < want; i++)
        s[i] = c->data[i * step];
    qsort(s, want, sizeof *s, cmp_i32);
    l.lo = s[want / 200];
    l.hi = s[want - 1 - want / 200];
    if (l.hi <= l.lo)
        l.hi = l.lo + 1;
    free(s);
    return l;
}
