/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The viewer's network and decode threads (loader.h). The network thread is the only one that
 * touches the jpip_fetch and its client; it rebuilds a codestream for the view (the client's
 * cache at that moment: what arrived, lower resolutions included) whenever the decoder is idle
 * and new data came, and hands it over. The decode thread keeps the last decoded image so a
 * change of view or of window/level that needs no new data is only resampled. One mutex
 * guards the hand-over slots; neither thread holds it while working.
 */
#include "loader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <SDL.h>

#include <jpip/fetch.h>
#include <jpip/index.h>

#include "bands.h"

/* A response still running this long after the view changed is cut. */
#define PREEMPT_CUT_US 250000u
/* No picture from partial data before a view has been fetched this long, nor before the last
 * decode's duration: a fast link completes the view sooner, and a decode of partial data would
 * only delay the sharp one. */
#define PARTIAL_DELAY_US 60000u

struct job {
    int used;
    uint8_t *cs; /* NULL: resample the decoder's last image */
    size_t len;
    struct jpip_view_geometry g; /* how to decode cs (it may be rebuilt smaller: shrunk) */
    unsigned discard;            /* the view's resolution: what the decoded samples are */
    struct vw_want want;
    int complete;
    uint64_t databin_bytes;
};

struct loader {
    struct loader_config cfg;
    char *cache_path, *cache_key;
    struct jpip_fetch *f;
    struct jpip_client *c;
    pthread_t net, dec;
    int net_started, dec_started;
    pthread_mutex_t mu;
    pthread_cond_t net_cv, dec_cv;

    /* guarded by mu */
    int quit;
    struct vw_want want;
    int have_want;
    uint64_t want_us;
    int vp_w, vp_h;
    int refresh; /* resample again (levels changed) */
    struct vw_levels lv[3];
    int auto_levels; /* set grey levels from the next complete decode */
    int bgr;         /* pixel byte order of the next pictures (loader_pixel_order) */
    int have_info;
    struct vw_image im;
    struct vw_want first;
    struct loader_status st;
    struct job pending;
    int dec_busy;
    uint64_t decode_us; /* how long the last decode took */
    struct vw_patch out;
    int have_out;

    /* network thread only */
    struct vw_want served; /* the view the client is set to (id 0: the first request) */
    uint64_t failed_id;
    int failed;
    struct jpip_view cur;
    uint32_t cur_comps[3];
    uint64_t serial; /* changes whenever the client's view-window changes */
    int snap_valid, snap_complete;
    uint64_t snap_serial, snap_bytes, snap_id;
    uint64_t served_us;                   /* when the client's view changed */
    uint64_t snap_us;                     /* when the last picture was handed over */
    uint64_t responses, served_responses; /* responses finished: in all, when the view changed */

    uint64_t t0_us; /* for -v timings */

    /* decode thread only */
    struct vw_decoded dimg;
    unsigned img_discard;
    uint64_t img_us, img_cpu_us;
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void wake_ui(struct loader *l)
{
    SDL_Event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = l->cfg.wake_event;
    SDL_PushEvent(&ev);
}

static void on_log(void *user, enum jpip_log_level level, const char *msg)
{
    (void)user;
    fprintf(stderr, "jpip-view: %s%s\n", level == JPIP_LOG_ERROR ? "error: " : "", msg);
}

/* ---- network thread ---- */

static void publish_status(struct loader *l, const struct jpip_fetch_progress *p)
{
    struct jpip_client_stats cs;
    jpip_client_stats(l->c, &cs);
    struct jpip_fetch_stats fs;
    jpip_fetch_stats(l->f, &fs);
    pthread_mutex_lock(&l->mu);
    if (p)
        l->st.bytes = p->bytes;
    l->st.databin_bytes = cs.databin_bytes;
    l->st.cache_bytes = cs.cache_bytes;
    l->st.requests = fs.requests;
    l->st.served_id = l->served.id;
    pthread_mutex_unlock(&l->mu);
}

static int same_view(const struct jpip_view *a, const struct jpip_view *b)
{
    if (a->fx != b->fx || a->fy != b->fy || a->round != b->round || a->ox != b->ox ||
        a->oy != b->oy || a->sx != b->sx || a->sy != b->sy || a->ncomps != b->ncomps ||
        a->layers != b->layers || a->stream != b->stream)
        return 0;
    for (unsigned i = 0; i < a->ncomps; i++)
        if (a->comps[i] != b->comps[i])
            return 0;
    return 1;
}

static void set_client_view(struct loader *l, const struct jpip_view *v)
{
    if (l->serial && same_view(v, &l->cur))
        return;
    l->cur = *v;
    for (unsigned i = 0; i < v->ncomps && i < 3; i++)
        l->cur_comps[i] = v->comps[i];
    l->cur.comps = v->ncomps ? l->cur_comps : NULL;
    l->serial++;
    l->served_us = now_us();
    l->served_responses = l->responses;
    if (jpip_client_set_view(l->c, &l->cur) != JPIP_OK)
        fprintf(stderr, "jpip-view: cannot set the view: %s\n", jpip_client_errmsg(l->c));
}

/* The image facts from a rebuilt codestream's main header. */
static int read_info(const uint8_t *cs, size_t len, struct vw_image *im)
{
    struct jpip_source src;
    jpip_memory_source_init(&src, cs, len);
    struct jpip_target *t = NULL;
    int rc = jpip_target_open(&t, &src, NULL, NULL);
    struct jpip_codestream_info ci;
    if (rc == JPIP_OK)
        rc = jpip_target_codestream_info(t, 0, &ci);
    if (rc == JPIP_OK) {
        memset(im, 0, sizeof *im);
        im->x0 = ci.x0;
        im->y0 = ci.y0;
        im->x1 = ci.x0 + ci.width;
        im->y1 = ci.y0 + ci.height;
        im->levels = ci.levels;
        im->layers = ci.layers;
        im->ncomps = ci.components;
        im->mct = ci.mct && ci.components >= 3;
        for (unsigned k = 0; k < ci.components && k < 4 && rc == JPIP_OK; k++) {
            struct jpip_component_info cc;
            rc = jpip_target_component_info(t, 0, k, &cc);
            im->depth[k] = cc.depth;
            im->is_signed[k] = cc.is_signed;
            im->dx[k] = cc.dx;
            im->dy[k] = cc.dy;
        }
    }
    jpip_target_destroy(t);
    return rc;
}

static void default_levels(const struct vw_image *im, const struct vw_mode *m,
                           struct vw_levels lv[3], int *auto_levels)
{
    for (unsigned k = 0; k < 3; k++) {
        const unsigned c = m->colour ? k : m->comp;
        const unsigned i = c < 4 ? c : 0;
        lv[k] = vw_levels_full(im->depth[i], (int)im->is_signed[i]);
    }
    *auto_levels = !m->colour && im->depth[m->comp < 4 ? m->comp : 0] > 8;
}

/* Once the main header is in: the facts, the fitted view, and the first wanted view. */
static void try_info(struct loader *l)
{
    /* The main header as sent (a rebuilt codestream is trimmed to its view), made a
     * codestream by an empty tile-part of tile 0 and EOC. */
    static const uint8_t tail[] = {0xFF, 0x90, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x0E, 0x00, 0x01, 0xFF, 0x93, 0xFF, 0xD9};
    const uint8_t *mh;
    size_t mhl;
    if (jpip_client_main_header(l->c, &mh, &mhl) != JPIP_OK)
        return;
    uint8_t *cs = malloc(mhl + sizeof tail);
    if (!cs)
        return;
    memcpy(cs, mh, mhl);
    memcpy(cs + mhl, tail, sizeof tail);
    struct vw_image im;
    int rc = read_info(cs, mhl + sizeof tail, &im);
    free(cs);
    if (rc != JPIP_OK || im.x1 <= im.x0 || im.y1 <= im.y0)
        return;
    pthread_mutex_lock(&l->mu);
    l->im = im;
    struct vw_want w;
    memset(&w, 0, sizeof w);
    w.id = 1;
    vw_fit(&im, l->vp_w, l->vp_h, &w.view);
    w.mode.colour = im.ncomps >= 3;
    default_levels(&im, &w.mode, l->lv, &l->auto_levels);
    l->first = w;
    l->have_info = 1;
    if (!l->have_want) {
        l->want = w;
        l->have_want = 1;
        l->want_us = now_us();
    }
    pthread_mutex_unlock(&l->mu);
    wake_ui(l);
}

/* Hand the decoder a picture of the served view when it is idle and something changed, or
 * the view's last picture (complete = 1) in any case. */
static void snap(struct loader *l, int complete)
{
    pthread_mutex_lock(&l->mu);
    const int info = l->have_info, busy = l->dec_busy || l->pending.used, refresh = l->refresh;
    const uint64_t wait = l->decode_us > PARTIAL_DELAY_US ? l->decode_us : PARTIAL_DELAY_US;
    pthread_mutex_unlock(&l->mu);
    if (!info || l->served.id == 0) /* nothing to show before the first view */
        return;
    struct jpip_client_stats cs;
    jpip_client_stats(l->c, &cs);
    const int same_data =
        l->snap_valid && l->snap_serial == l->serial && l->snap_bytes == cs.databin_bytes;
    const int same = same_data && l->snap_id == l->served.id;
    if (!refresh) {
        /* The very first picture comes from the first bytes, whatever they are. */
        const uint64_t now = now_us();
        /* The first picture of a view waits for its first response (the lowest resolutions
         * of the whole view) unless that takes long; later ones for the delays below. */
        int early = l->responses == l->served_responses && now - l->served_us < wait;
        early |= l->snap_valid && now - l->served_us < wait;
        /* Partial pictures of one view come no more often than every 250 ms, nor than
         * every two decodes. */
        if (l->snap_valid && l->snap_id == l->served.id && l->snap_serial == l->serial)
            early |= now - l->snap_us < (2 * wait > 250000 ? 2 * wait : 250000);
        if (!complete && (busy || same || early))
            return;
        if (complete && same && l->snap_complete)
            return;
    }
    struct job j;
    memset(&j, 0, sizeof j);
    j.used = 1;
    j.want = l->served;
    j.discard = vw_discard(&l->im, l->served.view.s);
    j.complete = complete;
    j.databin_bytes = cs.databin_bytes;
    const uint64_t t = now_us();
    if (!same_data &&
        jpip_client_codestream(l->c, &j.cs, &j.len, &j.g) != JPIP_OK) /* no main header yet */
        return;
    if (l->cfg.verbose > 1)
        fprintf(stderr,
                "jpip-view: +%.1f ms: view %llu%s: %s %zu bytes in %.1f ms (decode: reduce %u, "
                "region %u,%u-%u,%u)\n",
                (double)(t - l->t0_us) / 1000.0, (unsigned long long)j.want.id,
                complete ? " complete" : "", j.cs ? "rebuilt" : "resample", j.len,
                (double)(now_us() - t) / 1000.0, j.g.discard, j.g.x0, j.g.y0, j.g.x1, j.g.y1);
    pthread_mutex_lock(&l->mu);
    if (l->pending.used) {
        if (!j.cs && l->pending.cs) { /* the pending decode is still needed */
            j.cs = l->pending.cs;
            j.len = l->pending.len;
            j.g = l->pending.g;
        } else {
            jpip_client_free(l->c, l->pending.cs);
        }
    }
    l->pending = j;
    l->refresh = 0;
    pthread_cond_signal(&l->dec_cv);
    pthread_mutex_unlock(&l->mu);
    l->snap_valid = 1;
    l->snap_serial = l->serial;
    l->snap_bytes = cs.databin_bytes;
    l->snap_id = l->served.id;
    l->snap_complete = complete;
    l->snap_us = now_us();
}

static int on_progress(void *user, const struct jpip_fetch_progress *p)
{
    struct loader *l = user;
    publish_status(l, p);
    l->responses = p->responses;
    if (!l->have_info) /* written by this thread only */
        try_info(l);
    snap(l, 0);
    pthread_mutex_lock(&l->mu);
    const int quit = l->quit;
    const int newer = l->have_want && l->want.id != l->served.id;
    const uint64_t since = now_us() - l->want_us;
    pthread_mutex_unlock(&l->mu);
    if (quit)
        return 1;
    if (newer && (p->response_done || since > PREEMPT_CUT_US))
        return 1;
    return 0;
}

/* The wanted view becomes the client's view-window. */
static void serve(struct loader *l, const struct vw_want *w, const struct vw_image *im)
{
    l->served = *w;
    uint32_t comps[3];
    struct jpip_view v;
    struct vw_mode mode = w->mode;
    if (mode.colour && im->ncomps < 3)
        mode.colour = 0;
    if (vw_request(im, &w->view, vw_discard(im, w->view.s), &mode, w->layers, comps, &v) == 0)
        set_client_view(l, &v);
    if (l->cfg.verbose > 1)
        fprintf(stderr, "jpip-view: +%.1f ms: view %llu asked for (%.1f ms after the change)\n",
                (double)(now_us() - l->t0_us) / 1000.0, (unsigned long long)w->id,
                (double)(now_us() - l->want_us) / 1000.0);
}

static int work_ready(struct loader *l)
{
    if (l->quit || l->refresh)
        return 1;
    if (l->have_want && l->want.id != l->served.id)
        return 1;
    return !jpip_client_view_complete(l->c) && !(l->failed && l->failed_id == l->served.id);
}

static void *net_main(void *arg)
{
    struct loader *l = arg;
    /* The first request only fetches the main header (and the little data of one sample at
     * full resolution): the image's facts must come from a codestream rebuilt without
     * discarded levels, since a reduced one is rebuilt with a reduced SIZ. A frame larger than
     * any image, rounded down, is the full resolution. */
    struct jpip_view v0;
    memset(&v0, 0, sizeof v0);
    v0.fx = v0.fy = 1u << 30;
    v0.sx = v0.sy = 1;
    v0.layers = 1;
    set_client_view(l, &v0);
    for (;;) {
        pthread_mutex_lock(&l->mu);
        while (!work_ready(l))
            pthread_cond_wait(&l->net_cv, &l->mu);
        if (l->quit) {
            pthread_mutex_unlock(&l->mu);
            break;
        }
        const int have = l->have_want && l->want.id != l->served.id;
        const struct vw_want w = l->want;
        const struct vw_image im = l->im;
        l->st.fetching = 1;
        pthread_mutex_unlock(&l->mu);
        if (have)
            serve(l, &w, &im);
        snap(l, jpip_client_view_complete(l->c));
        if (jpip_client_view_complete(l->c) && !have) {
            pthread_mutex_lock(&l->mu);
            l->st.fetching = 0;
            pthread_mutex_unlock(&l->mu);
            continue; /* a refresh only */
        }
        const uint64_t id = l->served.id;
        const int rc = jpip_fetch_run(l->f, on_progress, l);
        publish_status(l, NULL);
        pthread_mutex_lock(&l->mu);
        l->st.fetching = 0;
        l->st.failed = rc != JPIP_OK && rc != JPIP_AGAIN;
        if (l->st.failed)
            snprintf(l->st.msg, sizeof l->st.msg, "%s", jpip_fetch_errmsg(l->f));
        pthread_mutex_unlock(&l->mu);
        if (rc == JPIP_OK) {
            if (!l->have_info)
                try_info(l);
            snap(l, 1);
        } else if (rc != JPIP_AGAIN) {
            l->failed = 1;
            l->failed_id = id;
            if (l->cfg.verbose)
                fprintf(stderr, "jpip-view: %s\n", jpip_fetch_errmsg(l->f));
        }
    }
    return NULL;
}

/* ---- decode thread ---- */

struct render_part {
    const struct jpip_image *img;
    unsigned discard;
    const struct vw_view *view;
    struct vw_rect r;
    int colour;
    const unsigned *map;
    const struct vw_levels *lv;
    int bgr;
    uint8_t *rgba;
};

static void *render_part_main(void *arg)
{
    const struct render_part *p = arg;
    vw_render(p->img, p->discard, p->view, p->r, p->colour, p->map, p->lv, p->rgba);
    if (p->bgr)
        vw_swap_red_blue(p->rgba, (size_t)(p->r.x1 - p->r.x0) * (size_t)(p->r.y1 - p->r.y0));
    return NULL;
}

/* vw_render in horizontal slices of r, one thread each (each output row depends on its own
 * position only, so the slices give the same pixels as one call). */
static void render_threads(const struct jpip_image *img, unsigned discard, const struct vw_view *v,
                           struct vw_rect r, int colour, const unsigned map[3],
                           const struct vw_levels lv[3], int bgr, uint8_t *rgba, unsigned nthreads)
{
    enum { PARTS_MAX = 8 };
    struct render_part part[PARTS_MAX];
    pthread_t th[PARTS_MAX];
    int started[PARTS_MAX] = {0};
    const int h = r.y1 - r.y0;
    unsigned n = nthreads < 1 ? 1 : nthreads > PARTS_MAX ? PARTS_MAX : nthreads;
    if ((unsigned)h < 64 * n) /* not worth a thread */
        n = 1;
    const size_t stride = (size_t)(r.x1 - r.x0) * 4;
    for (unsigned k = 0; k < n; k++) {
        const int y0 = r.y0 + (int)((int64_t)h * k / n),
                  y1 = r.y0 + (int)((int64_t)h * (k + 1) / n);
        part[k] = (struct render_part){
            img, discard, v, r, colour, map, lv, bgr, rgba + (size_t)(y0 - r.y0) * stride};
        part[k].r.y0 = y0;
        part[k].r.y1 = y1;
        if (k > 0)
            started[k] = pthread_create(&th[k], NULL, render_part_main, &part[k]) == 0;
    }
    render_part_main(&part[0]);
    for (unsigned k = 1; k < n; k++) {
        if (started[k])
            pthread_join(th[k], NULL);
        else
            render_part_main(&part[k]);
    }
}

static void *dec_main(void *arg)
{
    struct loader *l = arg;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        while (!l->quit && !l->pending.used)
            pthread_cond_wait(&l->dec_cv, &l->mu);
        if (l->quit) {
            pthread_mutex_unlock(&l->mu);
            break;
        }
        struct job j = l->pending;
        l->pending.used = 0;
        l->pending.cs = NULL;
        l->dec_busy = 1;
        const struct vw_image im = l->im;
        pthread_mutex_unlock(&l->mu);

        struct vw_mode mode = j.want.mode;
        if (mode.colour && im.ncomps < 3)
            mode.colour = 0;
        unsigned comps[3], map[3];
        const unsigned ncomps = vw_decode_comps(&im, &mode, comps, map);
        if (j.cs) {
            /* A picture of partial data is a stopgap: decoded one resolution lower it costs
             * about a third, and frees the decoder sooner for the complete one. */
            const unsigned coarser = !j.complete && j.discard < im.levels;
            struct jpip_decode_options o;
            memset(&o, 0, sizeof o);
            o.reduce = j.g.discard + coarser;
            o.layers = j.g.layers;
            o.x0 = j.g.x0;
            o.y0 = j.g.y0;
            o.x1 = j.g.x1;
            o.y1 = j.g.y1;
            o.comps = comps;
            o.ncomps = ncomps;
            o.threads = l->cfg.threads;
            /* Bands need whole rows: no vertical subsampling among the decoded components. */
            int sub = ncomps == 0 && im.ncomps > 4;
            for (unsigned k = 0; k < ncomps && k < 3; k++)
                sub |= comps[k] < 4 ? im.dy[comps[k]] > 1 : 1; /* unknown: no bands */
            for (unsigned k = 0; !ncomps && k < im.ncomps && k < 4; k++)
                sub |= im.dy[k] > 1;
            struct vw_decoded d;
            char err[256] = "";
            const uint64_t t = now_us(), c0 = cpu_us();
            int drc = bands_decode(j.cs, j.len, &o, l->cfg.threads, sub, &d, err, sizeof err);
            if (drc != JPIP_OK && coarser) { /* a tile with fewer levels than the main header */
                o.reduce = j.g.discard;
                drc = bands_decode(j.cs, j.len, &o, l->cfg.threads, sub, &d, err, sizeof err);
            }
            if (l->cfg.verbose > 1)
                fprintf(stderr, "jpip-view: +%.1f ms: view %llu decoded in %.1f ms\n",
                        (double)(now_us() - l->t0_us) / 1000.0, (unsigned long long)j.want.id,
                        (double)(now_us() - t) / 1000.0);
            pthread_mutex_lock(&l->mu);
            l->decode_us = now_us() - t;
            pthread_mutex_unlock(&l->mu);
            if (drc == JPIP_OK) {
                bands_free(&l->dimg);
                l->dimg = d;
                l->img_discard = j.discard + (o.reduce - j.g.discard);
                l->img_us = now_us() - t;
                l->img_cpu_us = cpu_us() - c0;
            } else if (l->cfg.verbose) {
                fprintf(stderr, "jpip-view: decoding failed: %s\n", err);
            }
            jpip_client_free(l->c, j.cs);
        }
        struct vw_patch p;
        memset(&p, 0, sizeof p);
        const struct vw_rect r = vw_screen_rect(&im, &j.want.view);
        if (l->dimg.img && r.x1 > r.x0 && r.y1 > r.y0)
            p.rgba = malloc((size_t)(r.x1 - r.x0) * (size_t)(r.y1 - r.y0) * 4);
        pthread_mutex_lock(&l->mu);
        if (l->auto_levels && j.complete && l->dimg.img && !mode.colour) {
            if (map[0] < l->dimg.img->components)
                l->lv[0] = vw_levels_auto(&l->dimg.img->comp[map[0]]);
            l->auto_levels = 0;
        }
        memcpy(p.lv, l->lv, sizeof p.lv);
        p.bgr = l->bgr;
        pthread_mutex_unlock(&l->mu);
        if (p.rgba) {
            const uint64_t t = now_us();
            render_threads(l->dimg.img, l->img_discard, &j.want.view, r, mode.colour, map, p.lv,
                           p.bgr, p.rgba, l->cfg.threads);
            if (l->cfg.verbose > 1)
                fprintf(stderr, "jpip-view: +%.1f ms: view %llu resampled in %.1f ms\n",
                        (double)(now_us() - l->t0_us) / 1000.0, (unsigned long long)j.want.id,
                        (double)(now_us() - t) / 1000.0);
            p.id = j.want.id;
            p.view = j.want.view;
            p.r = r;
            p.discard = l->img_discard;
            p.decode_us = l->img_us;
            p.decode_cpu_us = l->img_cpu_us;
            p.complete = j.complete;
            p.mode = mode;
            p.layers = j.want.layers;
            p.databin_bytes = j.databin_bytes;
        }
        pthread_mutex_lock(&l->mu);
        if (p.rgba) {
            free(l->out.rgba);
            l->out = p;
            l->have_out = 1;
        }
        l->dec_busy = 0;
        pthread_mutex_unlock(&l->mu);
        if (p.rgba)
            wake_ui(l);
    }
    return NULL;
}

/* ---- the API ---- */

static char *cache_key(const char *base, const char *target)
{
    /* scheme://host:port/target, without user:password@ (as the fetch's own cache key) */
    const char *auth = strstr(base, "://");
    auth = auth ? auth + 3 : base;
    const char *at = strrchr(auth, '@');
    const size_t sl = (size_t)(auth - base);
    const char *host = at ? at + 1 : auth;
    char *k = malloc(sl + strlen(host) + strlen(target) + 1);
    if (k)
        snprintf(k, sl + strlen(host) + strlen(target) + 1, "%.*s%s%s", (int)sl, base, host,
                 target);
    return k;
}

int loader_start(struct loader **out, const struct loader_config *cfg, char *err, size_t errlen)
{
    *out = NULL;
    struct loader *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    l->cfg = *cfg;
    l->t0_us = now_us();
    l->vp_w = cfg->vp_w;
    l->vp_h = cfg->vp_h;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->net_cv, NULL);
    pthread_cond_init(&l->dec_cv, NULL);
    char *url = malloc(strlen(cfg->url) + 1);
    if (!url) {
        snprintf(err, errlen, "out of memory");
        loader_stop(l);
        return -1;
    }
    memcpy(url, cfg->url, strlen(cfg->url) + 1);
    url[strcspn(url, "?#")] = '\0';
    struct jpip_fetch_config fc;
    jpip_fetch_config_default(&fc);
    fc.client.len = cfg->chunk;
    fc.log = on_log;
    fc.log_level = cfg->verbose ? JPIP_LOG_INFO : JPIP_LOG_WARN;
    int rc = jpip_fetch_create(&l->f, url, &fc);
    free(url);
    if (rc != JPIP_OK) {
        snprintf(err, errlen, "cannot use %s: %s", cfg->url, jpip_strerror(rc));
        loader_stop(l);
        return -1;
    }
    l->c = jpip_fetch_client(l->f);
    if (cfg->cache_dir) {
        /* The viewer keeps the cache file itself (the fetch would write it after every
         * pre-empted run): loaded now, written when the viewer stops. */
        l->cache_key = cache_key(jpip_fetch_base(l->f), jpip_fetch_target(l->f));
        const size_t n = strlen(cfg->cache_dir) + 1 + 32 + 11 + 1;
        l->cache_path = malloc(n);
        if (!l->cache_key || !l->cache_path) {
            snprintf(err, errlen, "out of memory");
            loader_stop(l);
            return -1;
        }
        char name[33];
        jpip_cache_file_name(l->cache_key, name);
        snprintf(l->cache_path, n, "%s/%s.jpipcache", cfg->cache_dir, name);
        char msg[512] = "";
        rc = jpip_cache_file_load(l->c, l->cache_path, l->cache_key, msg, sizeof msg);
        if (rc != JPIP_OK && rc != JPIP_ENOTFOUND)
            fprintf(stderr, "jpip-view: ignoring the cache: %s\n", msg);
    }
    if (pthread_create(&l->dec, NULL, dec_main, l) != 0) {
        snprintf(err, errlen, "cannot start the decode thread");
        loader_stop(l);
        return -1;
    }
    l->dec_started = 1;
    if (pthread_create(&l->net, NULL, net_main, l) != 0) {
        snprintf(err, errlen, "cannot start the network thread");
        loader_stop(l);
        return -1;
    }
    l->net_started = 1;
    *out = l;
    return 0;
}

void loader_stop(struct loader *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->quit = 1;
    pthread_cond_broadcast(&l->net_cv);
    pthread_cond_broadcast(&l->dec_cv);
    pthread_mutex_unlock(&l->mu);
    if (l->net_started)
        pthread_join(l->net, NULL);
    if (l->dec_started)
        pthread_join(l->dec, NULL);
    if (l->cache_path && l->c) {
        char msg[512] = "";
        if (jpip_cache_file_save(l->c, l->cache_path, l->cache_key, msg, sizeof msg) != JPIP_OK)
            fprintf(stderr, "jpip-view: %s\n", msg);
    }
    jpip_client_free(l->c, l->pending.cs);
    jpip_fetch_destroy(l->f);
    bands_free(&l->dimg);
    free(l->out.rgba);
    free(l->cache_path);
    free(l->cache_key);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->net_cv);
    pthread_cond_destroy(&l->dec_cv);
    free(l);
}

int loader_info(struct loader *l, struct vw_image *im, struct vw_want *first)
{
    pthread_mutex_lock(&l->mu);
    const int have = l->have_info;
    if (have) {
        *im = l->im;
        *first = l->first;
    }
    pthread_mutex_unlock(&l->mu);
    return have;
}

void loader_viewport(struct loader *l, int w, int h)
{
    pthread_mutex_lock(&l->mu);
    l->vp_w = w;
    l->vp_h = h;
    pthread_mutex_unlock(&l->mu);
}

void loader_pixel_order(struct loader *l, int bgr)
{
    pthread_mutex_lock(&l->mu);
    l->bgr = bgr;
    pthread_mutex_unlock(&l->mu);
}

void loader_want(struct loader *l, const struct vw_want *w)
{
    pthread_mutex_lock(&l->mu);
    const int mode_changed = l->have_want && (l->want.mode.colour != w->mode.colour ||
                                              l->want.mode.comp != w->mode.comp);
    l->want = *w;
    l->have_want = 1;
    l->want_us = now_us();
    if (mode_changed && l->have_info)
        default_levels(&l->im, &w->mode, l->lv, &l->auto_levels);
    pthread_cond_signal(&l->net_cv);
    pthread_mutex_unlock(&l->mu);
}

void loader_levels(struct loader *l, struct vw_levels lv[3])
{
    pthread_mutex_lock(&l->mu);
    memcpy(lv, l->lv, sizeof l->lv);
    pthread_mutex_unlock(&l->mu);
}

void loader_set_levels(struct loader *l, const struct vw_levels lv[3])
{
    pthread_mutex_lock(&l->mu);
    if (lv) {
        memcpy(l->lv, lv, sizeof l->lv);
        l->auto_levels = 0;
    } else if (l->have_info) {
        default_levels(&l->im, &l->want.mode, l->lv, &l->auto_levels);
    }
    l->refresh = 1;
    pthread_cond_signal(&l->net_cv);
    pthread_mutex_unlock(&l->mu);
}

int loader_take(struct loader *l, struct vw_patch *p)
{
    pthread_mutex_lock(&l->mu);
    const int have = l->have_out;
    if (have) {
        *p = l->out;
        l->out.rgba = NULL;
        l->have_out = 0;
    }
    pthread_mutex_unlock(&l->mu);
    return have;
}

void loader_status(struct loader *l, struct loader_status *st)
{
    pthread_mutex_lock(&l->mu);
    *st = l->st;
    pthread_mutex_unlock(&l->mu);
}
