/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The viewer's UI (ui.h): input becomes a new wanted view at once (the picture moves with the
 * pictures already received, scaled by the renderer), and the loader's pictures for it replace
 * them as they come. Pictures are drawn oldest first: the latest complete whole-image picture
 * at the bottom, then recent views' pictures, then the current view's on top, which once
 * complete covers everything (and is drawn pixel for pixel, without scaling).
 */
#include "ui.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "font.h"

const char *const ui_keys_help[] = {
    "drag, arrows   pan",
    "wheel          zoom around the cursor",
    "+ -            zoom in / out",
    "f, 0           fit the whole image to the window",
    "1              1:1, one image sample per pixel",
    "c              next component: colour, then each one",
    "w, shift+w     narrower / wider window (levels)",
    "l, shift+l     lower / higher level",
    "right-drag     window (across) and level (up-down)",
    "a              automatic window/level",
    "[ ]            fewer / more quality layers",
    "?, h           show or hide this help",
    "q, esc         quit",
    NULL,
};

uint64_t ui_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double ms_since(uint64_t t0)
{
    return (double)(ui_now_us() - t0) / 1000.0;
}

/* ---- changing the view ---- */

static void want_view(struct ui *u, const char *cause)
{
    if (!u->have_info)
        return;
    vw_clamp(&u->im, &u->want.view);
    u->want.id++;
    loader_want(u->ld, &u->want);
    u->view_us = ui_now_us();
    u->view_pic_us = 0;
    u->view_cause = cause;
    u->dirty = 1;
}

static void fit(struct ui *u)
{
    vw_fit(&u->im, u->want.view.w, u->want.view.h, &u->want.view);
    u->fitted = 1;
}

static void zoom(struct ui *u, double k, double mx, double my, const char *cause)
{
    vw_zoom_at(&u->want.view, k, mx, my);
    u->fitted = 0;
    want_view(u, cause);
}

static void pan(struct ui *u, double dx, double dy)
{
    vw_pan(&u->want.view, dx, dy);
    u->fitted = 0;
    want_view(u, "pan");
}

static void next_component(struct ui *u)
{
    struct vw_mode *m = &u->want.mode;
    if (m->colour) {
        m->colour = 0;
        m->comp = 0;
    } else if (m->comp + 1 < u->im.ncomps) {
        m->comp++;
    } else {
        m->comp = 0;
        m->colour = u->im.ncomps >= 3;
    }
    want_view(u, "component");
}

static void layers_step(struct ui *u, int up)
{
    unsigned n = u->want.layers ? u->want.layers : u->im.layers;
    if (up)
        n++;
    else if (n > 1)
        n--;
    u->want.layers = n >= u->im.layers ? 0 : n;
    want_view(u, "layers");
}

/* Window/level: width times k, centre moved by shift widths. */
static void levels_change(struct ui *u, double k, double shift)
{
    for (int i = 0; i < 3; i++) {
        struct vw_levels *l = &u->lv[i];
        const double c = (l->lo + l->hi) / 2, w = (l->hi - l->lo) * k;
        const double nc = c + shift * (l->hi - l->lo);
        l->lo = nc - w / 2;
        l->hi = nc + w / 2;
        if (l->hi - l->lo < 1)
            l->hi = l->lo + 1;
    }
    loader_set_levels(u->ld, u->lv);
    u->view_us = ui_now_us();
    u->view_pic_us = 0;
    u->view_cause = "levels";
}

void ui_resized(struct ui *u, int w, int h)
{
    u->win_w = w;
    u->win_h = h;
    const int vh = h - u->status_h > 1 ? h - u->status_h : 1;
    if (!u->have_info) {
        loader_viewport(u->ld, w, vh);
        u->want.view.w = w;
        u->want.view.h = vh;
        return;
    }
    struct vw_view *v = &u->want.view;
    v->vx += (v->w - w) / (2 * v->s);
    v->vy += (v->h - vh) / (2 * v->s);
    v->w = w;
    v->h = vh;
    if (u->fitted)
        fit(u);
    want_view(u, "resize");
}

static void on_key(struct ui *u, const SDL_KeyboardEvent *k)
{
    const int shift = (k->keysym.mod & KMOD_SHIFT) != 0;
    const struct vw_view *v = &u->want.view;
    const double step = (v->w < v->h ? v->w : v->h) / 8.0;
    switch (k->keysym.sym) {
    case SDLK_ESCAPE:
    case SDLK_q: u->quit = 1; return;
    case SDLK_h:
    case SDLK_QUESTION: u->help = !u->help; break;
    case SDLK_SLASH:
        if (shift)
            u->help = !u->help;
        break;
    default: break;
    }
    u->dirty = 1;
    if (!u->have_info)
        return;
    switch (k->keysym.sym) {
    case SDLK_LEFT: pan(u, step, 0); break;
    case SDLK_RIGHT: pan(u, -step, 0); break;
    case SDLK_UP: pan(u, 0, step); break;
    case SDLK_DOWN: pan(u, 0, -step); break;
    case SDLK_PLUS:
    case SDLK_EQUALS:
    case SDLK_KP_PLUS: zoom(u, 2, v->w / 2.0, v->h / 2.0, "zoom"); break;
    case SDLK_MINUS:
    case SDLK_KP_MINUS: zoom(u, 0.5, v->w / 2.0, v->h / 2.0, "zoom"); break;
    case SDLK_f:
    case SDLK_0:
        fit(u);
        want_view(u, "fit");
        break;
    case SDLK_1: zoom(u, 1 / v->s, v->w / 2.0, v->h / 2.0, "1:1"); break;
    case SDLK_c: next_component(u); break;
    case SDLK_w: levels_change(u, shift ? 1.25 : 0.8, 0); break;
    case SDLK_l: levels_change(u, 1, shift ? 0.1 : -0.1); break;
    case SDLK_a: loader_set_levels(u->ld, NULL); break;
    case SDLK_LEFTBRACKET: layers_step(u, 0); break;
    case SDLK_RIGHTBRACKET: layers_step(u, 1); break;
    default: break;
    }
}

void ui_event(struct ui *u, const SDL_Event *ev, uint32_t wake_event)
{
    if (ev->type == wake_event) {
        u->dirty = 1;
        return;
    }
    switch (ev->type) {
    case SDL_QUIT: u->quit = 1; break;
    case SDL_KEYDOWN: on_key(u, &ev->key); break;
    case SDL_MOUSEMOTION:
        if (u->drag_left && u->have_info)
            pan(u, ev->motion.xrel, ev->motion.yrel);
        else if (u->drag_right && u->have_info)
            levels_change(u, exp(ev->motion.xrel * 0.01), ev->motion.yrel * -0.005);
        u->mx = ev->motion.x;
        u->my = ev->motion.y;
        break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP: {
        const int down = ev->type == SDL_MOUSEBUTTONDOWN;
        u->mx = ev->button.x;
        u->my = ev->button.y;
        if (ev->button.button == SDL_BUTTON_LEFT)
            u->drag_left = down;
        else if (ev->button.button == SDL_BUTTON_RIGHT)
            u->drag_right = down;
        break;
    }
    case SDL_MOUSEWHEEL: {
        const int y = ev->wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? -ev->wheel.y : ev->wheel.y;
        if (y && u->have_info)
            zoom(u, pow(2.0, 0.5 * y), u->mx + 0.5, u->my + 0.5, "zoom");
        break;
    }
    case SDL_WINDOWEVENT:
        if (ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
            int w, h;
            SDL_GetRendererOutputSize(u->ren, &w, &h);
            if (w != u->win_w || h != u->win_h)
                ui_resized(u, w, h);
        }
        u->dirty = 1;
        break;
    default: break;
    }
}

/* ---- pictures ---- */

static void tile_free(struct ui_tile *t)
{
    if (t->tex)
        SDL_DestroyTexture(t->tex);
    free(t->p.rgba);
    memset(t, 0, sizeof *t);
}

void ui_pick_pixel_format(struct ui *u)
{
    /* Pictures in the window's own 32-bit format are drawn (and scaled, by the software
     * renderer) without a per-pixel conversion. On little-endian machines RGB888 and ARGB8888
     * are B,G,R,x in memory, BGR888 and ABGR8888 R,G,B,x. */
    const uint32_t f = SDL_GetWindowPixelFormat(u->win);
    const int le = SDL_BYTEORDER == SDL_LIL_ENDIAN;
    u->tex_format = SDL_PIXELFORMAT_RGBA32;
    u->tex_bgr = 0;
    if (le && (f == SDL_PIXELFORMAT_RGB888 || f == SDL_PIXELFORMAT_ARGB8888)) {
        u->tex_format = f;
        u->tex_bgr = 1;
    } else if (le && (f == SDL_PIXELFORMAT_BGR888 || f == SDL_PIXELFORMAT_ABGR8888)) {
        u->tex_format = f;
    }
}

static int upload(struct ui *u, struct ui_tile *t, struct vw_patch *p)
{
    const int w = p->r.x1 - p->r.x0, h = p->r.y1 - p->r.y0;
    if (p->bgr != u->tex_bgr) /* drawn before the window's format was known */
        vw_swap_red_blue(p->rgba, (size_t)w * h);
    SDL_Texture *tex =
        SDL_CreateTexture(u->ren, u->tex_format ? u->tex_format : SDL_PIXELFORMAT_RGBA32,
                          SDL_TEXTUREACCESS_STATIC, w, h);
    if (!tex || SDL_UpdateTexture(tex, NULL, p->rgba, 4 * w) != 0) {
        if (tex)
            SDL_DestroyTexture(tex);
        free(p->rgba);
        return -1;
    }
    if (u->soft) /* the software renderer's bilinear scaling costs the decoder's CPU */
        SDL_SetTextureScaleMode(tex, SDL_ScaleModeNearest);
    tile_free(t);
    t->tex = tex;
    t->p = *p;
    free(t->p.rgba);
    t->p.rgba = NULL;
    return 0;
}

/* The picture shows the whole image, unclipped. */
static int whole_image(const struct ui *u, const struct vw_patch *p)
{
    const struct vw_view *v = &p->view;
    return (u->im.x0 - v->vx) * v->s >= -0.5 && (u->im.y0 - v->vy) * v->s >= -0.5 &&
           (u->im.x1 - v->vx) * v->s <= v->w + 0.5 && (u->im.y1 - v->vy) * v->s <= v->h + 0.5;
}

static void take_patch(struct ui *u, struct vw_patch *p)
{
    if (p->complete && whole_image(u, p)) {
        struct vw_patch copy = *p;
        const size_t n = (size_t)(p->r.x1 - p->r.x0) * (size_t)(p->r.y1 - p->r.y0) * 4;
        copy.rgba = malloc(n);
        if (copy.rgba) {
            memcpy(copy.rgba, p->rgba, n);
            upload(u, &u->overview, &copy);
        }
    }
    int i = 0;
    while (i < u->ntiles && u->tiles[i].p.id != p->id)
        i++;
    if (i == u->ntiles) {
        if (u->ntiles == UI_TILES_MAX) {
            tile_free(&u->tiles[0]);
            memmove(&u->tiles[0], &u->tiles[1], (UI_TILES_MAX - 1) * sizeof u->tiles[0]);
            memset(&u->tiles[UI_TILES_MAX - 1], 0, sizeof u->tiles[0]);
            i = UI_TILES_MAX - 1;
        } else {
            i = u->ntiles++;
        }
    }
    upload(u, &u->tiles[i], p);
    u->dirty = 1;
}

void ui_poll(struct ui *u)
{
    if (!u->have_info) {
        struct vw_want first;
        if (loader_info(u->ld, &u->im, &first)) {
            u->have_info = 1;
            const int w = u->want.view.w, h = u->want.view.h;
            u->want = first;
            u->fitted = 1;
            u->view_us = u->t0_us;
            u->view_cause = "start";
            u->dirty = 1;
            if (w != first.view.w || h != first.view.h) /* resized meanwhile */
                ui_resized(u, u->win_w, u->win_h);
        }
    }
    struct vw_patch p;
    while (loader_take(u->ld, &p))
        take_patch(u, &p);
    loader_levels(u->ld, u->lv);
    const uint64_t now = ui_now_us();
    struct loader_status old = u->st;
    loader_status(u->ld, &u->st);
    if (memcmp(&old, &u->st, sizeof old) != 0)
        u->status_dirty = 1;
    if (now - u->rate_us >= 500000) {
        const double dt = (double)(now - u->rate_us) / 1e6;
        u->rate = u->rate_us ? (double)(u->st.bytes - u->rate_bytes) / dt : 0;
        u->rate_bytes = u->st.bytes;
        u->rate_us = now;
        u->status_dirty = 1;
    }
}

/* ---- drawing ---- */

static int same_view(const struct vw_view *a, const struct vw_view *b)
{
    return a->s == b->s && a->vx == b->vx && a->vy == b->vy && a->w == b->w && a->h == b->h;
}

/* Where t's picture lands in the window for the current view. */
static SDL_FRect tile_dst(const struct ui *u, const struct ui_tile *t)
{
    const struct vw_view *v = &u->want.view, *pv = &t->p.view;
    const struct vw_rect r = t->p.r;
    if (same_view(v, pv))
        return (SDL_FRect){(float)r.x0, (float)r.y0, (float)(r.x1 - r.x0), (float)(r.y1 - r.y0)};
    const double k = v->s / pv->s;
    return (SDL_FRect){(float)((pv->vx + r.x0 / pv->s - v->vx) * v->s),
                       (float)((pv->vy + r.y0 / pv->s - v->vy) * v->s), (float)((r.x1 - r.x0) * k),
                       (float)((r.y1 - r.y0) * k)};
}

static void draw_tile(struct ui *u, const struct ui_tile *t)
{
    if (!t->tex)
        return;
    const SDL_FRect dst = tile_dst(u, t);
    if (same_view(&u->want.view, &t->p.view)) {
        const SDL_Rect d = {(int)dst.x, (int)dst.y, (int)dst.w, (int)dst.h};
        SDL_RenderCopy(u->ren, t->tex, NULL, &d);
        return;
    }
    SDL_RenderCopyF(u->ren, t->tex, NULL, &dst);
}

/* Whether `top`, drawn later, hides all of `t` that falls in the viewport: then t need not be
 * drawn (each scaled copy costs the software renderer milliseconds the decoder could use). A
 * pixel is drawn when its centre is inside the destination, hence the half-pixel slack. */
static int hidden_by(const struct ui *u, const struct ui_tile *t, const struct ui_tile *top)
{
    if (!t->tex || !top->tex)
        return 0;
    const SDL_FRect a = tile_dst(u, t), b = tile_dst(u, top);
    const float vw = (float)u->win_w, vh = (float)(u->win_h - u->status_h);
    const float x0 = a.x > 0 ? a.x : 0, y0 = a.y > 0 ? a.y : 0;
    const float x1 = a.x + a.w < vw ? a.x + a.w : vw, y1 = a.y + a.h < vh ? a.y + a.h : vh;
    if (x1 <= x0 || y1 <= y0)
        return 1; /* outside the viewport */
    return b.x <= x0 + 0.5f && b.y <= y0 + 0.5f && b.x + b.w >= x1 - 0.5f && b.y + b.h >= y1 - 0.5f;
}

static void human(char *buf, size_t len, double v)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (v >= 1000 && i < 4) {
        v /= 1000;
        i++;
    }
    snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", v, units[i]);
}

static void status_text(const struct ui *u, char *buf, size_t len)
{
    char got[32], rate[32], cache[32];
    human(got, sizeof got, (double)u->st.bytes);
    human(rate, sizeof rate, u->rate);
    human(cache, sizeof cache, (double)u->st.cache_bytes);
    if (!u->have_info) {
        if (u->st.failed)
            snprintf(buf, len, "error: %.200s", u->st.msg);
        else
            snprintf(buf, len, "connecting... %s", got);
        return;
    }
    const unsigned d = vw_discard(&u->im, u->want.view.s);
    const uint32_t fw = (uint32_t)(((uint64_t)u->im.x1 + (1u << d) - 1) >> d) -
                        (uint32_t)(((uint64_t)u->im.x0 + (1u << d) - 1) >> d);
    const uint32_t fh = (uint32_t)(((uint64_t)u->im.y1 + (1u << d) - 1) >> d) -
                        (uint32_t)(((uint64_t)u->im.y0 + (1u << d) - 1) >> d);
    char comp[24], layers[24];
    if (u->want.mode.colour)
        snprintf(comp, sizeof comp, "RGB");
    else
        snprintf(comp, sizeof comp, "C%u", u->want.mode.comp);
    if (u->want.layers)
        snprintf(layers, sizeof layers, "L%u/%u", u->want.layers, u->im.layers);
    else
        snprintf(layers, sizeof layers, "L%u", u->im.layers);
    const char *state = u->st.failed                         ? "ERROR"
                        : u->shown_complete_id == u->want.id ? "DONE"
                                                             : "LOADING";
    snprintf(buf, len, "%ux%u 1/%u %3.0f%% %s %s | %s %s/s | cache %s | %s", fw, fh, 1u << d,
             u->want.view.s * 100, comp, layers, got, rate, cache, state);
}

static void draw_status(struct ui *u)
{
    const SDL_Rect bar = {0, u->win_h - u->status_h, u->win_w, u->status_h};
    SDL_SetRenderDrawColor(u->ren, 24, 24, 28, 255);
    SDL_RenderFillRect(u->ren, &bar);
    char text[256];
    status_text(u, text, sizeof text);
    SDL_SetRenderDrawColor(u->ren, 220, 220, 210, 255);
    const int pad = (u->status_h - 7 * UI_FONT_SCALE) / 2;
    font_draw(u->ren, 6, bar.y + pad, UI_FONT_SCALE, text);
    const char *hint = "? HELP";
    const int hw = font_text_width(hint, UI_FONT_SCALE);
    if (font_text_width(text, UI_FONT_SCALE) + hw + 24 < u->win_w)
        font_draw(u->ren, u->win_w - hw - 6, bar.y + pad, UI_FONT_SCALE, hint);
}

static void draw_help(struct ui *u)
{
    int n = 0, wmax = 0;
    for (; ui_keys_help[n]; n++) {
        const int w = font_text_width(ui_keys_help[n], UI_FONT_SCALE);
        wmax = w > wmax ? w : wmax;
    }
    const int scale = wmax + 72 <= u->win_w ? UI_FONT_SCALE : 1;
    wmax = wmax * scale / UI_FONT_SCALE;
    const int lh = FONT_LINE * scale;
    SDL_Rect box = {20, 20, wmax + 32, n * lh + 32};
    SDL_SetRenderDrawBlendMode(u->ren, SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(u->ren, 0, 0, 0, 200);
    SDL_RenderFillRect(u->ren, &box);
    SDL_SetRenderDrawBlendMode(u->ren, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(u->ren, 255, 255, 255, 255);
    for (int i = 0; i < n; i++)
        font_draw(u->ren, box.x + 16, box.y + 16 + i * lh, scale, ui_keys_help[i]);
}

void ui_draw(struct ui *u)
{
    SDL_SetRenderDrawColor(u->ren, 40, 40, 44, 255);
    SDL_RenderClear(u->ren);
    const SDL_Rect vp = {0, 0, u->win_w, u->win_h - u->status_h};
    SDL_RenderSetClipRect(u->ren, &vp);
    int cur = -1;
    for (int i = 0; i < u->ntiles; i++)
        if (u->tiles[i].p.id == u->want.id)
            cur = i;
    /* Once the current view's complete picture is in, it covers all there is to see. */
    const int covered = cur >= 0 && u->tiles[cur].p.complete;
    if (!covered) {
        /* The overview, then the other views' pictures oldest first, each left out when a
         * picture drawn after it hides it. */
        const struct ui_tile *order[UI_TILES_MAX + 2];
        int n = 0;
        order[n++] = &u->overview;
        for (int i = 0; i < u->ntiles; i++)
            if (i != cur)
                order[n++] = &u->tiles[i];
        if (cur >= 0)
            order[n++] = &u->tiles[cur];
        for (int i = 0; i < n - (cur >= 0); i++) {
            int hidden = 0;
            for (int k = i + 1; k < n && !hidden; k++)
                hidden = hidden_by(u, order[i], order[k]);
            if (!hidden)
                draw_tile(u, order[i]);
        }
    }
    if (cur >= 0)
        draw_tile(u, &u->tiles[cur]);
    SDL_RenderSetClipRect(u->ren, NULL);
    if (cur >= 0)
        u->shown = u->tiles[cur].p;
    if (u->help)
        draw_help(u);
    draw_status(u);
}

void ui_describe(const struct ui *u, char *buf, size_t len)
{
    const struct vw_view *v = &u->want.view;
    const struct vw_patch *p = &u->shown;
    const int cur = p->id == u->want.id;
    const struct vw_rect r = vw_screen_rect(&u->im, v);
    snprintf(buf, len,
             "id %llu\ncomplete %d\nscale %.17g\norigin %.17g %.17g\nviewport %d %d\n"
             "discard %u\nimage %u %u %u %u\nmode %d %u\nlayers %u\n"
             "levels %.17g %.17g %.17g %.17g %.17g %.17g\nrect %d %d %d %d\n"
             "received %llu bytes, %llu data-bin bytes\n",
             (unsigned long long)u->want.id, cur && p->complete, v->s, v->vx, v->vy, v->w, v->h,
             cur ? p->discard : vw_discard(&u->im, v->s), u->im.x0, u->im.y0, u->im.x1, u->im.y1,
             u->want.mode.colour && u->im.ncomps >= 3, u->want.mode.comp, u->want.layers,
             p->lv[0].lo, p->lv[0].hi, p->lv[1].lo, p->lv[1].hi, p->lv[2].lo, p->lv[2].hi, r.x0,
             r.y0, r.x1, r.y1, (unsigned long long)u->st.bytes,
             (unsigned long long)u->st.databin_bytes);
}

void ui_present(struct ui *u)
{
    SDL_RenderPresent(u->ren);
    u->dirty = 0;
    u->status_dirty = 0;
    u->present_us = ui_now_us();
    const int any = u->overview.tex || u->ntiles > 0;
    if (any && !u->first_pic_us) {
        u->first_pic_us = ui_now_us();
        if (u->stats)
            fprintf(stderr, "jpip-view: stats: first picture %.1f ms after start (%llu bytes)\n",
                    (double)(u->first_pic_us - u->t0_us) / 1000.0, (unsigned long long)u->st.bytes);
    }
    if (u->shown.id != u->want.id || !u->have_info)
        return;
    if (!u->view_pic_us) {
        u->view_pic_us = ui_now_us();
        if (u->stats)
            fprintf(stderr, "jpip-view: stats: view %llu (%s): first picture %.1f ms\n",
                    (unsigned long long)u->want.id, u->view_cause, ms_since(u->view_us));
    }
    if (u->shown.complete && u->shown_complete_id != u->want.id) {
        u->shown_complete_id = u->want.id;
        if (u->stats)
            fprintf(stderr,
                    "jpip-view: stats: view %llu (%s): sharp %.1f ms (1/%u; its decode %.1f ms, "
                    "%.1f ms of CPU; %llu bytes received in all, %llu requests)\n",
                    (unsigned long long)u->want.id, u->view_cause, ms_since(u->view_us),
                    1u << u->shown.discard, u->shown.decode_us / 1000.0,
                    u->shown.decode_cpu_us / 1000.0, (unsigned long long)u->st.bytes,
                    (unsigned long long)u->st.requests);
        if (u->print_view) {
            char d[1024];
            ui_describe(u, d, sizeof d);
            for (char *c = d; *c; c++)
                if (*c == '\n')
                    *c = c[1] ? ';' : '\n';
            fputs(d, stdout);
            fflush(stdout);
        }
    }
}

void ui_free(struct ui *u)
{
    tile_free(&u->overview);
    for (int i = 0; i < u->ntiles; i++)
        tile_free(&u->tiles[i]);
    u->ntiles = 0;
}
