/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jpip-get: fetch one view-window of a JPEG 2000 image from a JPIP server and write it decoded
 * (PNG, PGM/PPM, raw) or as the rebuilt codestream (J2K). This file owns the command line, the
 * progress display, the closing summary and the exit codes; the transfer is jpip_fetch
 * (<jpip/fetch.h>), the decode jpip_client_decode (<jpip/decode.h>), the file formats png.c,
 * pnm.c and raw.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jpip/client.h>
#include <jpip/decode.h>
#include <jpip/fetch.h>
#include <jpip/jpip.h>

#include "cli.h"
#include "image_write.h"

#define PROG "jpip-get"

/* Exit codes (documented in --help and docs/client.md). */
enum {
    EXIT_DONE = 0,       /* the view is complete and written */
    EXIT_USAGE = 1,      /* bad command line or URL */
    EXIT_NETWORK = 2,    /* network failure or HTTP error status */
    EXIT_PROTOCOL = 3,   /* the server broke the protocol */
    EXIT_INCOMPLETE = 4, /* --max-bytes reached: the view is incomplete */
    EXIT_OUTPUT = 5      /* decoding or writing the output failed */
};

enum {
    OPT_OUTPUT = 1,
    OPT_CACHE,
    OPT_LEN,
    OPT_MAX_BYTES,
    OPT_STATELESS,
    OPT_TIMEOUT,
    OPT_INSECURE,
    OPT_CACERT,
    OPT_PROXY,
    OPT_LIMIT_RATE,
    OPT_RETRIES,
    OPT_POST_OVER,
    OPT_PROGRESSIVE,
    OPT_THREADS,
    OPT_QUIET,
    OPT_VERBOSE,
    OPT_HELP,
    OPT_VERSION
};

static const struct cli_option options[] = {
    {"output", 'o', "FILE", OPT_OUTPUT,
     "write the view to FILE: .png, .pgm, .ppm, .raw, .rawl, or .j2k (the codestream)"},
    {"cache", 'c', "DIR", OPT_CACHE, "keep the data-bin cache in DIR between runs"},
    {"len", 0, "N", OPT_LEN, "ask for at most N bytes per response (len=)"},
    {"max-bytes", 0, "N", OPT_MAX_BYTES, "stop after N response bytes (exit 4 if incomplete)"},
    {"stateless", 0, NULL, OPT_STATELESS, "never open a session; declare the cache each time"},
    {"timeout", 't', "S", OPT_TIMEOUT, "give up connecting, or on a stalled response, after S s"},
    {"insecure", 'k', NULL, OPT_INSECURE, "do not verify the HTTPS server's certificate"},
    {"cacert", 0, "FILE", OPT_CACERT, "verify HTTPS servers with the PEM certificates in FILE"},
    {"proxy", 0, "URL", OPT_PROXY, "use this HTTP proxy (default: the *_proxy variables)"},
    {"limit-rate", 0, "BYTES", OPT_LIMIT_RATE, "receive at most BYTES per second"},
    {"retries", 0, "N", OPT_RETRIES, "retry network failures N times in a row (default 5)"},
    {"post-over", 0, "BYTES", OPT_POST_OVER, "send longer queries as POST forms (default 2000)"},
    {"progressive", 'p', "PREFIX", OPT_PROGRESSIVE,
     "write PREFIX_001.png, PREFIX_002.png, ... after each response"},
    {"threads", 'j', "N", OPT_THREADS, "decode with N threads"},
    {"quiet", 'q', NULL, OPT_QUIET, "no progress display and no summary"},
    {"verbose", 'v', NULL, OPT_VERBOSE, "also log informational messages"},
    {"help", 'h', NULL, OPT_HELP, "show this help and exit"},
    {"version", 'V', NULL, OPT_VERSION, "show the version and exit"},
    {NULL, 0, NULL, 0, NULL}};

enum format { FMT_PNG, FMT_PNM, FMT_RAW, FMT_RAWL, FMT_J2K };

struct opts {
    const char *url, *output, *cache, *cacert, *proxy, *progressive;
    uint64_t len, max_bytes, timeout, limit_rate, threads, retries, post_over;
    int stateless, insecure, quiet, verbose;
};

struct run {
    const struct opts *o;
    struct jpip_fetch *f;
    int bar;              /* show the progress line */
    uint64_t last_bar_us; /* when it was last drawn */
    unsigned steps;       /* --progressive files written */
    unsigned *comps;      /* the view's components, for the decoder */
    unsigned ncomps;
    uint64_t t0;
};

/* Set by SIGINT/SIGTERM: the run stops at the next chance and the cache is still saved. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: %s [OPTIONS] URL\n\n", PROG);
    fputs("Fetch a view-window of a JPEG 2000 image from a JPIP server and write it.\n"
          "URL: http[s]://host[:port]/target[?fields], where fields are the view-window:\n"
          "  fsiz=W,H[,round-up|closest]  frame size (the resolution; default full size)\n"
          "  roff=X,Y  rsiz=W,H           region within that frame\n"
          "  comps=0,2-3  layers=N  stream=N  len=N\n\n",
          f);
    fputs("Options:\n", f);
    cli_print_options(f, options);
    fputs("\nOutput: PNG (8 or 16 bits), PGM for one component, PPM for three alike, else one\n"
          "PGM per component (NAME_0.pgm, ...); .raw is planar, big-endian when deeper than\n"
          "8 bits (.rawl: little-endian); .j2k is the codestream rebuilt from the cache.\n"
          "Default: the target's name with .png.\n\n"
          "Exit status: 0 the view is complete and written; 1 usage; 2 network or HTTP error;\n"
          "3 server or protocol error; 4 view incomplete (--max-bytes reached, or interrupted);\n"
          "5 decode or write error.\n\n",
          f);
    fprintf(f,
            "Example:\n  %s 'http://localhost:8080/big.jp2?fsiz=640,480&roff=0,0&rsiz=320,240' "
            "-o part.png\n",
            PROG);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    struct cli_parser p;
    cli_init(&p, PROG, argc, argv);
    memset(o, 0, sizeof *o);
    o->timeout = 30;
    o->retries = 5;
    o->post_over = 2000;
    const char *arg;
    int id;
    while ((id = cli_next(&p, options, &arg)) != CLI_END) {
        uint64_t *num = NULL, max = UINT64_MAX, min = 0;
        switch (id) {
        case CLI_ERROR: return EXIT_USAGE;
        case CLI_POSITIONAL:
            if (o->url) {
                cli_error(PROG, "more than one URL given ('%s' and '%s')", o->url, arg);
                return EXIT_USAGE;
            }
            o->url = arg;
            break;
        case OPT_OUTPUT: o->output = arg; break;
        case OPT_CACHE: o->cache = arg; break;
        case OPT_CACERT: o->cacert = arg; break;
        case OPT_PROXY: o->proxy = arg; break;
        case OPT_PROGRESSIVE: o->progressive = arg; break;
        case OPT_LEN:
            num = &o->len;
            min = 1;
            break;
        case OPT_MAX_BYTES:
            num = &o->max_bytes;
            min = 1;
            break;
        case OPT_TIMEOUT:
            num = &o->timeout;
            min = 1;
            max = 86400;
            break;
        case OPT_LIMIT_RATE:
            num = &o->limit_rate;
            min = 1;
            break;
        case OPT_RETRIES:
            num = &o->retries;
            max = 100;
            break;
        case OPT_POST_OVER:
            num = &o->post_over;
            max = 1u << 20;
            break;
        case OPT_THREADS:
            num = &o->threads;
            max = 1024;
            break;
        case OPT_STATELESS: o->stateless = 1; break;
        case OPT_INSECURE: o->insecure = 1; break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_VERBOSE: o->verbose = 1; break;
        case OPT_HELP: usage(stdout); return -1;
        case OPT_VERSION: printf("%s %s\n", PROG, jpip_version_string()); return -1;
        default: return EXIT_USAGE;
        }
        if (num && (cli_parse_u64(arg, max, num) != 0 || *num < min)) {
            cli_error(PROG, "'%s' is not a number in %llu..%llu", arg, (unsigned long long)min,
                      (unsigned long long)max);
            return EXIT_USAGE;
        }
    }
    if (!o->url) {
        cli_error(PROG, "no URL given (see --help)");
        return EXIT_USAGE;
    }
    return EXIT_DONE;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int output_format(const char *path, enum format *fmt)
{
    if (ends_with(path, ".png"))
        *fmt = FMT_PNG;
    else if (ends_with(path, ".pgm") || ends_with(path, ".ppm") || ends_with(path, ".pnm"))
        *fmt = FMT_PNM;
    else if (ends_with(path, ".raw"))
        *fmt = FMT_RAW;
    else if (ends_with(path, ".rawl"))
        *fmt = FMT_RAWL;
    else if (ends_with(path, ".j2k") || ends_with(path, ".j2c") || ends_with(path, ".jpc"))
        *fmt = FMT_J2K;
    else
        return -1;
    return 0;
}

/* The default output name: the target's last path segment with .png for its extension. */
static char *default_output(const char *target)
{
    const char *name = strrchr(target, '/');
    name = name ? name + 1 : target;
    size_t n = strcspn(name, ".");
    if (n == 0 || n > 200)
        n = 0;
    char *out = malloc(n + 8);
    if (out)
        snprintf(out, n + 8, "%.*s.png", (int)n, n ? name : "view");
    return out;
}

static void on_log(void *user, enum jpip_log_level level, const char *msg)
{
    (void)user;
    static const char *const names[] = {"error", "warning", "info", "debug", "trace"};
    fprintf(stderr, "\r%s: %s: %s\n", PROG, names[level <= JPIP_LOG_TRACE ? level : 4], msg);
}

static void human(char *buf, size_t len, double v)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void draw_bar(struct run *r, const struct jpip_fetch_progress *p)
{
    char got[32], rate[32];
    double secs = (double)(now_us() - r->t0) / 1e6;
    human(got, sizeof got, (double)p->bytes);
    human(rate, sizeof rate, secs > 0 ? (double)p->bytes / secs : 0);
    /* No total is known in advance: the bar fills with responses, and turns solid at the end. */
    char bar[21];
    for (int i = 0; i < 20; i++)
        bar[i] = p->complete ? '#' : (i == (int)(p->responses % 20) ? '#' : '-');
    bar[20] = '\0';
    fprintf(stderr, "\r[%s] %s, %llu responses, %s/s ", bar, got, (unsigned long long)p->responses,
            rate);
    fflush(stderr);
}

static int write_image(struct run *r, enum format fmt, const char *path, char *err, size_t errlen);

static int on_progress(void *user, const struct jpip_fetch_progress *p)
{
    struct run *r = user;
    if (interrupted)
        return 1;
    if (r->bar) {
        uint64_t t = now_us();
        if (p->response_done || t - r->last_bar_us >= 100000) {
            r->last_bar_us = t;
            draw_bar(r, p);
        }
    }
    if (r->o->progressive && p->response_done) {
        char name[4096], err[512] = "";
        snprintf(name, sizeof name, "%s_%03u.png", r->o->progressive, r->steps + 1);
        int rc = write_image(r, FMT_PNG, name, err, sizeof err);
        if (rc == 0)
            r->steps++;
        else if (rc < 0)
            fprintf(stderr, "\r%s: warning: %s\n", PROG, err);
    }
    return 0;
}

/* Decode the client's view and write it. Returns 0, 1 when nothing is decodable yet (no main
 * header), or -1 with err set. */
static int write_image(struct run *r, enum format fmt, const char *path, char *err, size_t errlen)
{
    struct jpip_client *c = jpip_fetch_client(r->f);
    if (fmt == FMT_J2K) {
        uint8_t *cs = NULL;
        size_t len = 0;
        struct jpip_view_geometry g;
        int rc = jpip_client_codestream(c, &cs, &len, &g);
        if (rc == JPIP_AGAIN)
            return 1;
        if (rc != JPIP_OK) {
            snprintf(err, errlen, "cannot rebuild the codestream: %s", jpip_client_errmsg(c));
            return -1;
        }
        FILE *f = fopen(path, "wb");
        int bad = !f || fwrite(cs, 1, len, f) != len;
        if (f && fclose(f) != 0)
            bad = 1;
        jpip_client_free(c, cs);
        if (bad) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            return -1;
        }
        if (!r->o->quiet)
            fprintf(stderr,
                    "%s: %s holds the view for a decoder told: reduce %u, region %u,%u,%u,%u "
                    "on the full-resolution grid%s\n",
                    PROG, path, g.discard, g.x0, g.y0, g.x1, g.y1,
                    g.layers ? ", and the layer count" : "");
        return 0;
    }
    struct jpip_image *img = NULL;
    int rc = jpip_client_decode(c, r->comps, r->ncomps, (unsigned)r->o->threads, &img, err, errlen);
    if (rc == JPIP_AGAIN)
        return 1;
    if (rc != JPIP_OK) {
        if (!err[0])
            snprintf(err, errlen, "%s", jpip_strerror(rc));
        return -1;
    }
    unsigned files = 0;
    char werr[512] = "";
    int w;
    if (fmt == FMT_PNG)
        w = write_png(img, path, werr, sizeof werr);
    else if (fmt == FMT_PNM)
        w = write_pnm(img, path, &files, werr, sizeof werr);
    else
        w = write_raw(img, path, fmt == FMT_RAW, werr, sizeof werr);
    jpip_image_destroy(img);
    if (w < 0) {
        snprintf(err, errlen, "%s", werr);
        return -1;
    }
    return 0;
}

static int exit_code(int rc)
{
    switch (rc) {
    case JPIP_OK: return EXIT_DONE;
    case JPIP_ELIMIT:
    case JPIP_AGAIN: return EXIT_INCOMPLETE;
    case JPIP_EIO: return EXIT_NETWORK;
    default: return EXIT_PROTOCOL;
    }
}

static void summary(struct run *r, int complete)
{
    struct jpip_client_stats cs;
    struct jpip_fetch_stats fs;
    jpip_client_stats(jpip_fetch_client(r->f), &cs);
    jpip_fetch_stats(r->f, &fs);
    fprintf(stderr,
            "%s: view %s: received %llu bytes, data-bin bytes %llu, requests %llu, bins %llu, "
            "duplicate bytes %llu, cache hits %llu, time %.3f s\n",
            PROG, complete ? "complete" : "incomplete", (unsigned long long)cs.body_bytes,
            (unsigned long long)cs.databin_bytes, (unsigned long long)fs.requests,
            (unsigned long long)cs.bins, (unsigned long long)cs.duplicate_bytes,
            (unsigned long long)fs.cache_bins, (double)(now_us() - r->t0) / 1e6);
    if (r->o->verbose)
        fprintf(stderr, "%s: %llu POST requests, %llu retries, %llu broken responses\n", PROG,
                (unsigned long long)fs.posts, (unsigned long long)fs.retries,
                (unsigned long long)fs.broken);
}

int main(int argc, char **argv)
{
    struct opts o;
    int code = parse_args(argc, argv, &o);
    if (code != EXIT_DONE)
        return code < 0 ? EXIT_DONE : code;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct jpip_fetch_config cfg;
    jpip_fetch_config_default(&cfg);
    cfg.client.stateless = o.stateless;
    cfg.client.len = o.len;
    cfg.cache_dir = o.cache;
    cfg.max_bytes = o.max_bytes;
    cfg.connect_timeout_ms = (uint32_t)(o.timeout * 1000);
    cfg.stall_timeout_s = (uint32_t)o.timeout;
    cfg.insecure = o.insecure;
    cfg.ca_file = o.cacert;
    cfg.proxy = o.proxy;
    cfg.max_recv_speed = o.limit_rate;
    cfg.max_retries = (unsigned)o.retries;
    cfg.post_threshold = (size_t)o.post_over;
    cfg.log = on_log;
    cfg.log_level = o.verbose ? JPIP_LOG_INFO : JPIP_LOG_WARN;

    struct run r = {0};
    r.o = &o;
    r.t0 = now_us();
    int rc = jpip_fetch_create(&r.f, o.url, &cfg);
    if (rc != JPIP_OK)
        return rc == JPIP_EINVAL ? EXIT_USAGE : EXIT_NETWORK;

    char *out = o.output ? NULL : default_output(jpip_fetch_target(r.f));
    const char *path = o.output ? o.output : out;
    enum format fmt = FMT_PNG;
    if (!path || output_format(path, &fmt) < 0) {
        cli_error(PROG, "%s: unknown output type (use .png, .pgm, .ppm, .raw, .rawl or .j2k)",
                  path ? path : "?");
        jpip_fetch_destroy(r.f);
        free(out);
        return EXIT_USAGE;
    }
    const struct jpip_view *v = jpip_fetch_view(r.f);
    if (v->ncomps) {
        r.comps = malloc(v->ncomps * sizeof *r.comps);
        if (!r.comps) {
            cli_error(PROG, "out of memory");
            jpip_fetch_destroy(r.f);
            free(out);
            return EXIT_OUTPUT;
        }
        for (unsigned i = 0; i < v->ncomps; i++)
            r.comps[i] = v->comps[i];
        r.ncomps = v->ncomps;
    }
    r.bar = !o.quiet && isatty(STDERR_FILENO);

    rc = jpip_fetch_run(r.f, on_progress, &r);
    if (r.bar)
        fputs("\r\033[K", stderr);
    code = exit_code(rc);
    if (rc == JPIP_AGAIN)
        cli_error(PROG, "interrupted%s", o.cache ? "; the cache is saved" : "");
    else if (rc != JPIP_OK)
        cli_error(PROG, "%s", jpip_fetch_errmsg(r.f));
    if (code == EXIT_DONE || code == EXIT_INCOMPLETE) {
        char err[512] = "";
        int w = write_image(&r, fmt, path, err, sizeof err);
        if (w != 0 && code == EXIT_DONE) {
            cli_error(PROG, "%s", w > 0 ? "the server sent no main header" : err);
            code = EXIT_OUTPUT;
        } else if (w != 0) {
            cli_error(PROG, "nothing written: %s", w > 0 ? "no main header yet" : err);
        } else if (code == EXIT_INCOMPLETE && !o.quiet) {
            cli_error(PROG, "wrote the incomplete view to %s", path);
        }
    }
    if (!o.quiet)
        summary(&r, rc == JPIP_OK);
    jpip_fetch_destroy(r.f);
    free(r.comps);
    free(out);
    return code;
}
