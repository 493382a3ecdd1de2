/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The viewer's geometry, with no I/O and no SDL: where the image lies on the screen for a
 * scale and an origin, which resolution a scale needs, which view-window (fsiz/roff/rsiz) to
 * ask the server for, and how a decoded resolution is resampled to screen pixels (bilinear,
 * then window/level to 8 bits). The end-to-end test links this file too, so the reference
 * picture it makes from OpenJPEG's decode of the original goes through the very same
 * arithmetic as the viewer's.
 */
#ifndef JPIP_VIEW_MATH_H
#define JPIP_VIEW_MATH_H

#include <stdint.h>

#include <jpip/client.h>
#include <jpip/decode.h>

/* What the viewer knows about the image (from the main header). */
struct vw_image {
    uint32_t x0, y0, x1, y1; /* image area on the reference grid */
    unsigned levels;         /* decomposition levels: the most resolutions one can discard */
    unsigned layers;         /* quality layers */
    unsigned ncomps;
    int mct;           /* the first three components are colour-transformed together */
    unsigned depth[4]; /* of the first four components */
    unsigned is_signed[4];
    unsigned dx[4], dy[4];
};

/* A view: s screen pixels per reference-grid sample; the screen pixel (i, j) shows the grid
 * point (vx + (i + 0.5) / s, vy + (j + 0.5) / s); w x h is the image viewport in pixels. */
struct vw_view {
    double s, vx, vy;
    int w, h;
};

/* The screen rectangle [x0, x1) x [y0, y1) whose pixel centres fall inside the image. */
struct vw_rect {
    int x0, y0, x1, y1;
};

/* How samples become 8-bit values: (v - lo) / (hi - lo) scaled to 0..255 and clamped. */
struct vw_levels {
    double lo, hi;
};

/* Colour: the first three components as R, G, B. Grey: component comp alone. */
struct vw_mode {
    int colour;
    unsigned comp;
};

/* The whole image fitted to a w x h viewport and centred. */
void vw_fit(const struct vw_image *im, int w, int h, struct vw_view *v);
/* Scale by k keeping the grid point under screen pixel (mx, my) where it is. */
void vw_zoom_at(struct vw_view *v, double k, double mx, double my);
/* Move the picture by (dx, dy) screen pixels. */
void vw_pan(struct vw_view *v, double dx, double dy);
/* Keep the scale within [fit / 4, 16] and the viewport's centre within the image. */
void vw_clamp(const struct vw_image *im, struct vw_view *v);

/* The resolutions to discard so that the picture is never enlarged (at most levels). */
unsigned vw_discard(const struct vw_image *im, double s);
/* The visible image pixels. Empty (x0 == x1 or y0 == y1) when the image is off screen. */
struct vw_rect vw_screen_rect(const struct vw_image *im, const struct vw_view *v);

/* The components to decode for a mode: fills comps and returns their count, or 0 for all of
 * them (OpenJPEG undoes a colour transform only when every component is decoded); map[k] is
 * where shown channel k (R, G, B; or grey in map[0]) is in the decoded image. */
unsigned vw_decode_comps(const struct vw_image *im, const struct vw_mode *mode, unsigned comps[3],
                         unsigned map[3]);

/* The view-window that holds every sample resampling needs for v at discard d: fsiz is the
 * frame at d (round-down selects d exactly), roff/rsiz the samples under the visible pixels
 * plus their bilinear neighbours; the components the mode shows (with a colour transform, the
 * three it mixes) go in comps, the caller's array of 3. Returns 0, or -1 when nothing is
 * visible. */
int vw_request(const struct vw_image *im, const struct vw_view *v, unsigned d,
               const struct vw_mode *mode, unsigned layers, uint32_t comps[3],
               struct jpip_view *out);

/* The default sample range of a component: [0, 2^depth - 1], or signed. */
struct vw_levels vw_levels_full(unsigned depth, int is_signed);

/* Render img, a decode at discard d, into rgba (stride 4 * (r.x1 - r.x0) bytes) for the pixels
 * r of view v: bilinear sampling (edges clamped to the decoded area), then the levels, then
 * 8 bits. With colour, img's components map[0..2] (levels lv[0..2]) make R, G, B; else
 * component map[0] with lv[0] makes grey. Alpha is 255. */
void vw_render(const struct jpip_image *img, unsigned d, const struct vw_view *v, struct vw_rect r,
               int colour, const unsigned map[3], const struct vw_levels lv[3], uint8_t *rgba);
/* Swap the first and third byte of n 4-byte pixels: R,G,B,A <-> B,G,R,A. */
void vw_swap_red_blue(uint8_t *px, size_t n);

/* Window/level from a component's histogram: the 0.5 and 99.5 percentiles. */
struct vw_levels vw_levels_auto(const struct jpip_image_comp *c);

#endif
