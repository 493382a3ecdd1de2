/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The viewer's background work (loader.c): a network thread that owns the jpip_fetch (and so
 * the client and its cache) and turns each wanted view into requests on one channel, and a
 * decode thread that decodes codestreams rebuilt from the cache and resamples them to screen
 * pixels. The UI thread only posts wanted views and takes finished patches; it never waits on
 * the network or on OpenJPEG.
 *
 * A new view pre-empts the one being fetched at the next response boundary (responses are
 * kept short with len=), so the channel, the server's model of the cache and the connection
 * survive; a response still running 250 ms after the view changed is cut, and the client core
 * then re-declares its cache on a new channel.
 */
#ifndef JPIP_VIEW_LOADER_H
#define JPIP_VIEW_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "view_math.h"

struct loader;

struct loader_config {
    const char *url;       /* http[s]://host[:port]/target; a query is ignored */
    const char *cache_dir; /* NULL: no cache file */
    uint64_t chunk;        /* len= per response */
    unsigned threads;      /* OpenJPEG decoding threads */
    int vp_w, vp_h;        /* viewport at start, for the fitted first view */
    uint32_t wake_event;   /* SDL user event pushed when a patch or the image facts arrive */
    int verbose;
};

/* What the UI wants shown. */
struct vw_want {
    uint64_t id; /* increases with every change */
    struct vw_view view;
    struct vw_mode mode;
    unsigned layers; /* 0 = all */
};

/* A picture for one view: (r.x1 - r.x0) x (r.y1 - r.y0) RGBA pixels, placed at r in the
 * viewport of view. */
struct vw_patch {
    uint64_t id;
    struct vw_view view;
    struct vw_rect r;
    unsigned discard;
    int complete; /* decoded from every byte of the view */
    struct vw_mode mode;
    unsigned layers;
    struct vw_levels lv[3];
    uint64_t databin_bytes;            /* cache data behind it */
    uint64_t decode_us, decode_cpu_us; /* the decode behind it: wall time, process CPU time */
    int bgr;       /* pixels are B,G,R,255 bytes (else R,G,B,255): see loader_pixel_order */
    uint8_t *rgba; /* owned by the patch: free() it */
};

struct loader_status {
    uint64_t bytes;         /* response bytes received */
    uint64_t databin_bytes; /* data-bin bytes among them */
    uint64_t cache_bytes;   /* held in the cache */
    uint64_t requests;
    uint64_t served_id; /* the view being fetched */
    int fetching;       /* a request is under way */
    int failed;         /* the last fetch failed; msg says why */
    char msg[256];
};

/* Start both threads. On failure (bad URL, no libcurl) a message goes to err. */
int loader_start(struct loader **out, const struct loader_config *cfg, char *err, size_t errlen);
/* Stop the threads, write the cache file, free everything. */
void loader_stop(struct loader *l);

/* The image facts and the fitted first view (its id and mode), once the main header arrived:
 * 1, else 0. */
int loader_info(struct loader *l, struct vw_image *im, struct vw_want *first);
/* The viewport size used until the facts are known (for the fitted first view). */
void loader_viewport(struct loader *l, int w, int h);
/* Write later pictures' pixels as B,G,R,255 (bgr = 1: the byte order of most windows' 32-bit
 * formats on little-endian machines, so drawing them needs no conversion) or R,G,B,255. */
void loader_pixel_order(struct loader *l, int bgr);
void loader_want(struct loader *l, const struct vw_want *w);
/* The window/level now used for rendering; set them (patches are rendered again). */
void loader_levels(struct loader *l, struct vw_levels lv[3]);
void loader_set_levels(struct loader *l, const struct vw_levels lv[3]);
/* Take the newest finished patch: 1 and *p filled (p->rgba is the caller's), or 0. */
int loader_take(struct loader *l, struct vw_patch *p);
void loader_status(struct loader *l, struct loader_status *st);

#endif
