/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The viewer's UI thread state (ui.c): the window, the view being shown, the pictures
 * (patches) received for recent views, input handling and drawing. Everything here runs on the
 * main thread; the network and decoding are in loader.c.
 */
#ifndef JPIP_VIEW_UI_H
#define JPIP_VIEW_UI_H

#include <stdint.h>

#include <SDL.h>

#include "loader.h"
#include "view_math.h"

#define UI_TILES_MAX 8
#define UI_FONT_SCALE 2

struct ui_tile {
    SDL_Texture *tex;
    struct vw_patch p; /* p.rgba is NULL once uploaded */
};

struct ui {
    SDL_Window *win;
    SDL_Renderer *ren;
    struct loader *ld;
    int have_info;
    struct vw_image im;
    struct vw_want want; /* the view shown; want.id changes with every change */
    int fitted;          /* the view is the fitted one (a resize fits again) */
    int win_w, win_h, status_h;
    struct ui_tile overview; /* the latest complete picture of the whole image */
    struct ui_tile tiles[UI_TILES_MAX];
    int ntiles;
    uint64_t shown_complete_id; /* want.id once its complete picture was presented */
    struct vw_patch shown;      /* facts of the current view's picture on screen (no pixels) */
    /* input */
    int mx, my;
    int drag_left, drag_right;
    int help, dirty, quit;
    int status_dirty;    /* only the status line changed: redrawn at most 10 times a second */
    int soft;            /* SDL's software renderer: scale pictures without filtering */
    uint32_t tex_format; /* pictures' texture format: the window's when it is 32-bit RGB */
    int tex_bgr;         /* its byte order is B,G,R,x (else R,G,B,x) */
    uint64_t present_us; /* the last frame */
    /* status */
    struct loader_status st;
    double rate; /* bytes per second */
    uint64_t rate_bytes, rate_us, title_us;
    struct vw_levels lv[3];
    /* measurements (--stats) and --print-view */
    int stats, print_view;
    uint64_t t0_us, first_pic_us, view_us, view_pic_us;
    const char *view_cause;
    int fit_reported;
};

uint64_t ui_now_us(void);
/* Handle one SDL event (user input, window changes, the loader's wake-up event). */
void ui_event(struct ui *u, const SDL_Event *ev, uint32_t wake_event);
/* The window is now w x h pixels (the viewport loses the status line). */
void ui_resized(struct ui *u, int w, int h);
/* Choose the pictures' texture format from the window's (call once the window exists). */
void ui_pick_pixel_format(struct ui *u);
/* Take what the loader has (image facts, pictures, status). */
void ui_poll(struct ui *u);
/* Draw a frame (not presented). */
void ui_draw(struct ui *u);
/* Present the drawn frame and note what became visible (measurements, --print-view). */
void ui_present(struct ui *u);
/* A line describing the current view (for --print-view and screenshots' .view files). */
void ui_describe(const struct ui *u, char *buf, size_t len);
void ui_free(struct ui *u);
/* The key help, one line per entry (also printed by --help). */
extern const char *const ui_keys_help[];

#endif
