/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * View-windows (15444-9 C.4): mapping a requested frame size, region, components and layers
 * onto a codestream — the number of discarded resolution levels, the region on the full
 * resolution canvas — and the precincts of each tile-component-resolution that a decoder of
 * that region needs. Server and client compute the same thing: the server to choose the bins
 * to send, the client to declare its cache and to decode.
 */
#ifndef JPIP_DATABIN_WINDOW_H
#define JPIP_DATABIN_WINDOW_H

#include "codestream/codestream.h"

enum { JPIP__WIN_ROUND_DOWN = 0, JPIP__WIN_ROUND_UP = 1, JPIP__WIN_ROUND_CLOSEST = 2 };

struct jpip__window_req {
    int has_fsiz;
    uint32_t fx, fy;
    int round;
    int has_roff, has_rsiz;
    uint32_t ox, oy, sx, sy;
};

struct jpip__window {
    unsigned discard;         /* resolution levels dropped */
    uint32_t fx, fy;          /* frame size at that resolution */
    uint32_t ox, oy, sx, sy;  /* region within the frame, clipped to it */
    int empty;                /* the region lies outside the frame */
    struct jpip__rect canvas; /* the region on the full-resolution reference grid */
    int fsiz_changed, roff_changed, rsiz_changed; /* the server altered what was asked */
};

/* The largest discard usable for the whole codestream: the smallest NL of any component in
 * the main header (tiles with fewer levels clamp on their own). */
unsigned jpip__window_dmax(const struct jpip__mainhdr *mh);

/* Resolve a request (15444-9 C.4.2-C.4.4; round-down by default). No fsiz means the whole
 * image at full resolution. */
void jpip__window_resolve(const struct jpip__siz *siz, unsigned dmax,
                          const struct jpip__window_req *q, struct jpip__window *w);

/* Frame size after d discard levels: ceil(Xsiz/2^d) - ceil(XOsiz/2^d) (same for y). */
void jpip__frame_size(const struct jpip__siz *siz, unsigned d, uint32_t *w, uint32_t *h);

/* Called for each relevant precinct p (raster index within (c, r)), in raster order. */
typedef int (*jpip__precinct_fn)(void *user, uint16_t c, uint8_t r, uint32_t p);

/* The precincts of tile-component c (layout in ti) that decoding canvas region at discard d
 * needs: resolutions 0..NL_c - d, each precinct whose band area meets the part of that band
 * on which the region depends. The dependency set is the union of the exact inverse-DWT
 * support (followed level by level) and the margin OpenJPEG's region decoder reads (2 band
 * samples for 5/3, 3 for 9/7), so a client reproduces both a true crop and OpenJPEG's own
 * region decode. */
int jpip__window_precincts(const struct jpip__tile_index *ti, const struct jpip__siz *siz,
                           uint16_t c, unsigned discard, const struct jpip__rect *canvas,
                           jpip__precinct_fn fn, void *user);
/* The same for resolution only_r alone (nothing when only_r is above the kept ones). */
int jpip__window_precincts_at(const struct jpip__tile_index *ti, const struct jpip__siz *siz,
                              uint16_t c, unsigned discard, const struct jpip__rect *canvas,
                              int only_r, jpip__precinct_fn fn, void *user);

/* Called per resolution with the rectangle [px0, px1) x [py0, py1) of precinct columns and rows
 * that bounds the needed precincts (those on its edges are needed). */
typedef int (*jpip__precinct_bounds_fn)(void *user, uint16_t c, uint8_t r, uint32_t px0,
                                        uint32_t py0, uint32_t px1, uint32_t py1);
/* The bounds of jpip__window_precincts' precincts, per resolution, at a cost independent of
 * how many there are. */
int jpip__window_precinct_bounds(const struct jpip__tile_index *ti, const struct jpip__siz *siz,
                                 uint16_t c, unsigned discard, const struct jpip__rect *canvas,
                                 jpip__precinct_bounds_fn fn, void *user);

#endif
