/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jpip-view: an interactive viewer for JPEG 2000 images served over JPIP. The window shows the
 * whole image at the resolution that fits as soon as the first bytes arrive; panning and
 * zooming ask the server for the new view on the same channel while the picture is drawn from
 * what the cache already holds, and sharpens as the data lands. This file holds the command
 * line and the main loop; ui.c the window, loader.c the network and decoding threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <SDL.h>

#include <jpip/jpip.h>

#include "cli.h"
#include "loader.h"
#include "script.h"
#include "ui.h"

enum {
    OPT_HELP = 1,
    OPT_SIZE,
    OPT_CACHE,
    OPT_LEN,
    OPT_THREADS,
    OPT_SCRIPT,
    OPT_STATS,
    OPT_PRINT_VIEW,
    OPT_VERBOSE,
    OPT_VERSION,
    OPT_SOFTWARE
};

static const struct cli_option options[] = {
    {"size", 's', "WxH", OPT_SIZE, "window size at start (default 1024x768)"},
    {"cache", 0, "DIR", OPT_CACHE, "keep the data-bin cache in DIR between runs"},
    {"len", 0, "N", OPT_LEN,
     "bytes per response (len=; default 262144): how soon a new view "
     "pre-empts the old one"},
    {"threads", 0, "N", OPT_THREADS, "decoding threads (default: the CPUs, at most 8)"},
    {"software", 0, NULL, OPT_SOFTWARE,
     "draw without OpenGL (faster on an X server without a GPU, e.g. Xvfb)"},
    {"script", 0, "FILE", OPT_SCRIPT, "run the commands in FILE ('-': stdin), see below"},
    {"stats", 0, NULL, OPT_STATS, "print timings: first picture, each view sharp"},
    {"print-view", 0, NULL, OPT_PRINT_VIEW, "print each view's facts once it is complete"},
    {"verbose", 'v', NULL, OPT_VERBOSE, "log the client's messages; twice: timings of each step"},
    {"version", 0, NULL, OPT_VERSION, "print the version"},
    {"help", 'h', NULL, OPT_HELP, "this help"},
    {NULL, 0, NULL, 0, NULL},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: jpip-view [options] http[s]://host[:port]/target\n\n"
               "Shows a JPEG 2000 image from a JPIP server; pan and zoom fetch what the view "
               "needs.\n\nOptions:\n");
    cli_print_options(f, options);
    fprintf(f, "\nKeys and mouse in the window:\n");
    for (int i = 0; ui_keys_help[i]; i++)
        fprintf(f, "  %s\n", ui_keys_help[i]);
    fprintf(f, "\nScript commands (--script), one a line:\n"
               "  wait-complete [S] | sleep MS | zoom-in X Y | zoom-out X Y | pan DX DY |\n"
               "  key NAME [shift] | resize W H | screenshot FILE(.ppm|.png) | print-view | "
               "quit\n\n"
               "The status line shows the resolution shown (frame size, fraction of the full "
               "image,\nscale), the component and layers, bytes received, the rate, the cache "
               "size and\nwhether the view is complete.\n");
}

struct opts {
    const char *url, *cache, *script;
    int w, h, stats, print_view, verbose, software;
    uint64_t len, threads;
};

static int parse_size(const char *s, int *w, int *h)
{
    char *end;
    const long a = strtol(s, &end, 10);
    if (*end != 'x' || a < 64 || a > 16384)
        return -1;
    const long b = strtol(end + 1, &end, 10);
    if (*end || b < 64 || b > 16384)
        return -1;
    *w = (int)a;
    *h = (int)b;
    return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->w = 1024;
    o->h = 768;
    o->len = 262144;
    const int cpus = SDL_GetCPUCount();
    o->threads = cpus < 1 ? 1 : cpus > 8 ? 8 : (uint64_t)cpus;
    struct cli_parser p;
    cli_init(&p, "jpip-view", argc, argv);
    const char *arg;
    int id;
    while ((id = cli_next(&p, options, &arg)) != CLI_END) {
        switch (id) {
        case CLI_ERROR: return CLI_EXIT_USAGE;
        case OPT_HELP: usage(stdout); return -1;
        case OPT_VERSION: printf("jpip-view %s\n", jpip_version_string()); return -1;
        case OPT_SIZE:
            if (parse_size(arg, &o->w, &o->h) != 0) {
                cli_error("jpip-view", "bad --size %s (WxH, 64 to 16384)", arg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_CACHE: o->cache = arg; break;
        case OPT_LEN:
            if (cli_parse_u64(arg, UINT64_MAX, &o->len) != 0 || o->len < 1024) {
                cli_error("jpip-view", "bad --len %s (at least 1024)", arg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_THREADS:
            if (cli_parse_u64(arg, 64, &o->threads) != 0) {
                cli_error("jpip-view", "bad --threads %s", arg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_SCRIPT: o->script = arg; break;
        case OPT_STATS: o->stats = 1; break;
        case OPT_PRINT_VIEW: o->print_view = 1; break;
        case OPT_VERBOSE: o->verbose++; break;
        case OPT_SOFTWARE: o->software = 1; break;
        case CLI_POSITIONAL:
            if (o->url) {
                cli_error("jpip-view", "one URL only");
                return CLI_EXIT_USAGE;
            }
            o->url = arg;
            break;
        default: break;
        }
    }
    if (!o->url) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* Every decode allocates and frees tens of megabytes of buffers. By default glibc hands
 * allocations that large back to the kernel at once, so each decode pays for page faults and for
 * the kernel zeroing fresh pages (about a tenth of its CPU time); keeping up to 256 MiB of freed
 * memory in the process for reuse avoids that. */
static void keep_freed_memory(void)
{
#ifdef __GLIBC__
    (void)mallopt(M_MMAP_THRESHOLD, 256 << 20);
    (void)mallopt(M_TRIM_THRESHOLD, 256 << 20);
    (void)mallopt(M_TOP_PAD, 64 << 20);
#endif
}

int main(int argc, char **argv)
{
    keep_freed_memory();
    struct ui u;
    memset(&u, 0, sizeof u);
    u.t0_us = ui_now_us();
    struct opts o;
    int rc = parse(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    struct script sc;
    memset(&sc, 0, sizeof sc);
    if (o.script && script_load(&sc, o.script) != 0)
        return CLI_EXIT_USAGE;

    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "1");
    /* SDL's software renderer still draws the window through OpenGL unless told not to, and
     * Mesa's software OpenGL takes some 100 ms to start and the CPU the decoder needs. */
    const char *driver = SDL_GetHint(SDL_HINT_RENDER_DRIVER);
    if (o.software || (driver && strcmp(driver, "software") == 0)) {
        SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
        SDL_SetHintWithPriority(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0", SDL_HINT_DEFAULT);
    }
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        fprintf(stderr, "jpip-view: cannot open the display: %s\n", SDL_GetError());
        script_free(&sc);
        return CLI_EXIT_IO;
    }
    const uint32_t wake = SDL_RegisterEvents(1);
    u.status_h = 7 * UI_FONT_SCALE + 8;
    u.stats = o.stats;
    u.print_view = o.print_view;
    /* The network starts while the window opens (which can take a while). */
    struct loader_config lc;
    memset(&lc, 0, sizeof lc);
    lc.url = o.url;
    lc.cache_dir = o.cache;
    lc.chunk = o.len;
    lc.threads = (unsigned)o.threads;
    lc.vp_w = o.w;
    lc.vp_h = o.h - u.status_h;
    lc.wake_event = wake;
    lc.verbose = o.verbose;
    char err[512] = "";
    if (loader_start(&u.ld, &lc, err, sizeof err) != 0) {
        fprintf(stderr, "jpip-view: %s\n", err);
        SDL_Quit();
        script_free(&sc);
        return CLI_EXIT_USAGE;
    }
    u.win = SDL_CreateWindow("jpip-view", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, o.w,
                             o.h, SDL_WINDOW_RESIZABLE);
    u.ren = u.win ? SDL_CreateRenderer(u.win, -1, 0) : NULL;
    if (!u.ren) {
        fprintf(stderr, "jpip-view: cannot create the window: %s\n", SDL_GetError());
        rc = CLI_EXIT_IO;
        goto done;
    }
    SDL_GetRendererOutputSize(u.ren, &u.win_w, &u.win_h);
    SDL_RendererInfo ri;
    SDL_GetRendererInfo(u.ren, &ri);
    u.soft = strcmp(ri.name, "software") == 0;
    ui_pick_pixel_format(&u);
    loader_pixel_order(u.ld, u.tex_bgr);
    if (o.stats) {
        fprintf(stderr, "jpip-view: stats: window open %.1f ms after start (%s renderer)\n",
                (double)(ui_now_us() - u.t0_us) / 1000.0, ri.name);
    }
    u.want.view.w = o.w;
    u.want.view.h = o.h - u.status_h;
    if (u.win_w != o.w || u.win_h != o.h)
        ui_resized(&u, u.win_w, u.win_h);

    u.dirty = 1;
    while (!u.quit) {
        SDL_Event ev;
        if (SDL_WaitEventTimeout(&ev, o.script ? 5 : 50)) {
            ui_event(&u, &ev, wake);
            while (SDL_PollEvent(&ev))
                ui_event(&u, &ev, wake);
        }
        ui_poll(&u);
        const uint64_t now = ui_now_us();
        if (u.dirty || (u.status_dirty && now - u.present_us >= 100000)) {
            ui_draw(&u);
            ui_present(&u);
        }
        if (now - u.title_us > 500000) {
            char title[256];
            snprintf(title, sizeof title, "jpip-view %s%s", o.url, u.st.failed ? " (error)" : "");
            SDL_SetWindowTitle(u.win, title);
            u.title_us = now;
        }
        if (o.script) {
            const int s = script_step(&sc, &u);
            if (s != 0) {
                rc = s < 0 ? CLI_EXIT_DATA : CLI_EXIT_OK;
                break;
            }
        }
    }
    if (u.st.failed && !o.script)
        fprintf(stderr, "jpip-view: %s\n", u.st.msg);
done:
    loader_stop(u.ld);
    ui_free(&u);
    if (u.ren)
        SDL_DestroyRenderer(u.ren);
    if (u.win)
        SDL_DestroyWindow(u.win);
    SDL_Quit();
    script_free(&sc);
    return rc;
}
