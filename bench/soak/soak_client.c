/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * soak_client: many concurrent JPIP clients doing random pans and zooms against one server for
 * a set time, checking every answer. Each client thread loops over three kinds of work, on
 * random targets of a manifest and random views (a random resolution chosen by fsiz, a random
 * region by roff/rsiz or the whole frame, sometimes fewer layers or components, a random
 * codestream of a JPX, sometimes a len= budget or JPT-streams):
 *
 *   session    cnew=http, then 1-8 views on the channel, then cclose (40 %; half of those
 *              then check that the closed cid gets 404) or the session is abandoned for the
 *              server to reap; no data-bin byte may arrive twice on a channel
 *   stateless  one request with the target in the path; 2 % are dropped after a few bytes
 *   verified   the client core (include/jpip/fetch.h) fetches a view and up to four pans
 *              after it, channel or stateless, with or without len=; each view is rebuilt,
 *              decoded and compared sample by sample with OpenJPEG's decode of the original
 *
 * Every raw response must be 200 with a JPP/JPT content type, parse completely with the
 * library's stream reader (lib/stream), end with an EOR whose reason fits the request (window
 * or image done; byte limit only with len=), and carry only codestreams the target has.
 * Anything else is an error, printed (the first 30) on stderr and counted by kind.
 * With --pid, the server's VmRSS (/proc/PID/status) is sampled after the warm-up, every
 * 10 s, and at the end.
 *
 *   soak_client --url http://127.0.0.1:PORT --manifest FILE [--clients N] [--seconds S]
 *               [--warmup S] [--pid PID] [--seed N]
 *
 * Manifest lines: "NAME PATH [REF1 ...]": NAME is the target's path on the server, PATH the
 * file itself, REFk the file whose decode is codestream k's reference (default: PATH for
 * codestream 0). The summary goes to stdout as key=value pairs; exit 0 when no error was
 * seen, 1 otherwise, 2 for bad usage.
 */
#define _DEFAULT_SOURCE /* usleep, strncasecmp */
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jpip/client.h>
#include <jpip/decode.h>
#include <jpip/fetch.h>
#include <jpip/index.h>

#include "stream/stream_reader.h"

#define MAX_TARGETS 16
#define MAX_CS 8
#define MAX_BODY ((size_t)256 << 20)

/* ---- targets ---- */

struct cs_facts {
    uint32_t w, h;
    unsigned levels, layers, comps;
};

struct target {
    char name[256]; /* path on the server, without the leading '/' */
    unsigned ncs;
    struct cs_facts cs[MAX_CS];
    uint8_t *ref[MAX_CS]; /* reference file of each codestream (NULL: not verified) */
    size_t ref_len[MAX_CS];
    int ref_jp2[MAX_CS];
};

static struct target targets[MAX_TARGETS];
static unsigned ntargets;
static const char *base_url;

/* ---- counters and errors ---- */

enum err_kind { E_STATUS, E_NET, E_MALFORMED, E_EOR, E_DUPLICATE, E_PIXELS, E_FETCH, E_KINDS };
static const char *const err_names[E_KINDS] = {"status",    "net",    "malformed", "eor",
                                               "duplicate", "pixels", "fetch"};

static atomic_uint_fast64_t n_requests, n_bytes, n_views, n_verified, n_sessions, n_cclose,
    n_stateless, n_dropped, n_errors[E_KINDS];
static atomic_int stop_flag;
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned err_printed;

static void error(enum err_kind k, const char *fmt, ...)
{
    atomic_fetch_add(&n_errors[k], 1);
    pthread_mutex_lock(&err_lock);
    if (err_printed++ < 30) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "soak_client: %s: ", err_names[k]);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    pthread_mutex_unlock(&err_lock);
}

/* ---- helpers ---- */

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64* */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static uint32_t rnd(uint64_t *s, uint32_t n)
{
    return n ? (uint32_t)(rng_next(s) % n) : 0;
}

static uint8_t *load_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *p = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        const long n = ftell(f);
        if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n)) != NULL &&
            fread(p, 1, (size_t)n, f) != (size_t)n) {
            free(p);
            p = NULL;
        }
        *len = n > 0 ? (size_t)n : 0;
    }
    fclose(f);
    return p;
}

static long vm_rss_kb(long pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    const size_t fl = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, fl) && line[fl] == ':')
            kb = strtol(line + fl + 1, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- random views ---- */

struct view_pick {
    unsigned stream;
    struct jpip_view v;
    unsigned level; /* resolution levels discarded: the frame is the image divided by 2^level */
    int comps;      /* raw requests only: 0 all, 1 "comps=0", 2 "comps=1-2" */
};

static void pick_view(uint64_t *s, const struct target *t, struct view_pick *p)
{
    memset(p, 0, sizeof *p);
    p->stream = rnd(s, t->ncs);
    const struct cs_facts *c = &t->cs[p->stream];
    const unsigned d = rnd(s, c->levels + 1);
    const uint32_t fw = (c->w + (1u << d) - 1) >> d, fh = (c->h + (1u << d) - 1) >> d;
    p->level = d;
    p->v.fx = fw;
    p->v.fy = fh;
    p->v.stream = p->stream;
    if (rnd(s, 4) != 0) {
        p->v.sx = 1 + rnd(s, fw < 768 ? fw : 768);
        p->v.sy = 1 + rnd(s, fh < 768 ? fh : 768);
        p->v.ox = rnd(s, fw - p->v.sx + 1);
        p->v.oy = rnd(s, fh - p->v.sy + 1);
    }
    if (c->layers > 1 && rnd(s, 3) == 0)
        p->v.layers = (uint16_t)(1 + rnd(s, c->layers));
    if (c->comps >= 3 && rnd(s, 6) == 0)
        p->comps = 1 + (int)rnd(s, 2);
}

static int view_query(const struct target *t, const struct view_pick *p, char *q, size_t cap)
{
    int n = snprintf(q, cap, "fsiz=%u,%u", p->v.fx, p->v.fy);
    if (p->v.sx)
        n += snprintf(q + n, cap - (size_t)n, "&roff=%u,%u&rsiz=%u,%u", p->v.ox, p->v.oy, p->v.sx,
                      p->v.sy);
    if (p->v.layers)
        n += snprintf(q + n, cap - (size_t)n, "&layers=%u", p->v.layers);
    if (p->comps)
        n += snprintf(q + n, cap - (size_t)n, "&comps=%s", p->comps == 1 ? "0" : "1-2");
    if (t->ncs > 1)
        n += snprintf(q + n, cap - (size_t)n, "&stream=%u", p->stream);
    return n;
}

/* ---- raw requests (libcurl, one keep-alive connection per client) ---- */

/* What a session has received of each data-bin: the end of its contiguous prefix. */
struct bin_entry {
    uint64_t key; /* class, codestream and id mixed; 0 = free */
    uint64_t end;
};
#define BIN_SLOTS 8192

struct response {
    struct jpip__stream_reader rd;
    int reader_on;
    size_t body;
    size_t drop_after; /* 0 = read everything */
    char headers[8192];
    size_t hlen;
    const struct target *t;
    int jpt;
    struct bin_entry *bins; /* NULL: stateless, no duplicate check */
    uint64_t dup_bytes;
    unsigned bad_class, bad_cs;
};

static int on_msg(void *u, const struct jpip__msg *m, const uint8_t *body)
{
    (void)body;
    struct response *r = u;
    const int ok_class =
        r->jpt ? (m->cls == 2 || m->cls == 4 || m->cls == 5 || m->cls == 6 || m->cls == 8)
               : (m->cls == 0 || m->cls == 1 || m->cls == 2 || m->cls == 6 || m->cls == 8);
    if (!ok_class)
        r->bad_class++;
    if (m->cls != 8 && m->cs >= r->t->ncs)
        r->bad_cs++;
    if (!r->bins || !m->len)
        return JPIP_OK;
    uint64_t key = ((uint64_t)m->cls << 56) ^ (m->cs << 48) ^ m->id ^ 0x9E3779B97F4A7C15ULL;
    key = key ? key : 1;
    for (unsigned i = 0, h = (unsigned)((key * 0xff51afd7ed558ccdULL) >> 51); i < BIN_SLOTS;
         i++, h = (h + 1) % BIN_SLOTS) {
        struct bin_entry *e = &r->bins[h];
        if (e->key == 0)
            e->key = key;
        if (e->key != key)
            continue;
        if (m->off < e->end) {
            const uint64_t stop = m->off + m->len < e->end ? m->off + m->len : e->end;
            r->dup_bytes += stop - m->off;
        }
        if (m->off + m->len > e->end)
            e->end = m->off + m->len;
        break;
    }
    return JPIP_OK;
}

static size_t on_body(char *d, size_t sz, size_t n, void *u)
{
    struct response *r = u;
    const size_t len = sz * n;
    r->body += len;
    if (r->drop_after && r->body >= r->drop_after)
        return 0; /* drop the connection in the middle of the body */
    if (r->reader_on)
        jpip__stream_reader_feed(&r->rd, (const uint8_t *)d, len);
    return len;
}

static size_t on_header(char *d, size_t sz, size_t n, void *u)
{
    struct response *r = u;
    const size_t len = sz * n;
    if (len >= 5 && !memcmp(d, "HTTP/", 5))
        r->hlen = 0; /* a new response (after a 100 Continue, say) */
    if (r->hlen + len < sizeof r->headers) {
        memcpy(r->headers + r->hlen, d, len);
        r->hlen += len;
        r->headers[r->hlen] = 0;
    }
    return len;
}

static const char *header_value(const struct response *r, const char *name, size_t *vlen)
{
    const size_t nl = strlen(name);
    for (const char *l = r->headers; *l;) {
        const size_t ll = strcspn(l, "\n");
        if (ll > nl && !strncasecmp(l, name, nl) && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ')
                v++;
            *vlen = strcspn(v, "\r\n");
            return v;
        }
        l += ll + (l[ll] == '\n');
    }
    return NULL;
}

struct worker {
    unsigned id;
    uint64_t rng;
    CURL *h;
    struct bin_entry *bins;
    char cnew[512]; /* the JPIP-cnew value of the last cnew=http answer */
};

/* GET url; checks a JPP/JPT answer when want == 200. Returns the status (0 = network error).
 * len_limited: len= was sent (EOR 4 is then fine). */
static long raw_get(struct worker *w, const char *url, const struct target *t, int jpt,
                    int len_limited, int session, size_t drop_after, long want)
{
    struct response r;
    memset(&r, 0, sizeof r);
    r.t = t;
    r.jpt = jpt;
    r.bins = session ? w->bins : NULL;
    r.drop_after = drop_after;
    r.reader_on = 1;
    jpip__stream_reader_init(&r.rd, NULL, MAX_BODY, on_msg, NULL, &r);
    curl_easy_setopt(w->h, CURLOPT_URL, url);
    curl_easy_setopt(w->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(w->h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(w->h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(w->h, CURLOPT_HEADERDATA, &r);
    const CURLcode cc = curl_easy_perform(w->h);
    long code = 0;
    curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &code);
    atomic_fetch_add(&n_requests, 1);
    atomic_fetch_add(&n_bytes, r.body);
    if (drop_after && cc == CURLE_WRITE_ERROR) {
        atomic_fetch_add(&n_dropped, 1);
        jpip__stream_reader_free(&r.rd);
        return -1;
    }
    if (cc != CURLE_OK) {
        error(E_NET, "%s: %s (after %zu body bytes)", url, curl_easy_strerror(cc), r.body);
        code = 0;
    } else if (code != want) {
        error(E_STATUS, "%s: HTTP %ld, want %ld: %.200s", url, code, want, r.headers);
    } else if (want == 200) {
        size_t vl = 0;
        const char *ct = header_value(&r, "Content-Type", &vl);
        /* A request that only closes the channel may be answered as either stream type. */
        const char *want_ct =
            jpt && !strstr(url, "cclose=") ? "image/jpt-stream" : "image/jpp-stream";
        int rc = jpip__stream_reader_finish(&r.rd);
        if (!ct || vl != strlen(want_ct) || strncmp(ct, want_ct, vl))
            error(E_MALFORMED, "%s: Content-Type %.*s", url, (int)vl, ct ? ct : "(none)");
        else if (rc != JPIP_OK)
            error(E_MALFORMED, "%s: %s (%s)", url, jpip_strerror(rc), r.rd.err.msg);
        else if (r.bad_class || r.bad_cs)
            error(E_MALFORMED, "%s: %u messages of a wrong class, %u of a wrong codestream", url,
                  r.bad_class, r.bad_cs);
        else if (!r.rd.eor_seen)
            error(E_EOR, "%s: no EOR", url);
        else if (r.rd.eor_reason != 1 && r.rd.eor_reason != 2 &&
                 !(len_limited && r.rd.eor_reason == 4))
            error(E_EOR, "%s: EOR reason %u", url, r.rd.eor_reason);
        if (r.dup_bytes)
            error(E_DUPLICATE, "%s: %llu data-bin bytes received twice on the channel", url,
                  (unsigned long long)r.dup_bytes);
    }
    if (session && code == 200 && !strstr(url, "cid=")) {
        size_t vl = 0;
        const char *v = header_value(&r, "JPIP-cnew", &vl);
        snprintf(w->cnew, sizeof w->cnew, "%.*s", v ? (int)vl : 0, v ? v : "");
    }
    jpip__stream_reader_free(&r.rd);
    return code;
}

static void cnew_field(const char *cnew, const char *name, char *out, size_t cap)
{
    out[0] = 0;
    const size_t nl = strlen(name);
    for (const char *p = cnew; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const size_t n = strcspn(p, ",");
        if (n > nl && !strncmp(p, name, nl) && p[nl] == '=')
            snprintf(out, cap, "%.*s", (int)(n - nl - 1), p + nl + 1);
        p += n;
    }
}

static void do_session(struct worker *w, const struct target *t)
{
    char q[512], url[1024], cid[128], path[256];
    struct view_pick p;
    const int jpt = rnd(&w->rng, 10) == 0;
    uint64_t len = rnd(&w->rng, 4) == 0 ? 2000 + rnd(&w->rng, 60000) : 0;
    memset(w->bins, 0, sizeof(struct bin_entry) * BIN_SLOTS);
    pick_view(&w->rng, t, &p);
    view_query(t, &p, q, sizeof q);
    snprintf(url, sizeof url, "%s/%s?cnew=http&%s%s", base_url, t->name, q,
             jpt ? "&type=jpt-stream" : "");
    w->cnew[0] = 0;
    atomic_fetch_add(&n_views, 1);
    if (raw_get(w, url, t, jpt, 0, 1, 0, 200) != 200)
        return;
    cnew_field(w->cnew, "cid", cid, sizeof cid);
    cnew_field(w->cnew, "path", path, sizeof path);
    if (!cid[0]) {
        error(E_STATUS, "%s: no cid in JPIP-cnew '%s'", url, w->cnew);
        return;
    }
    if (!path[0])
        snprintf(path, sizeof path, "%s", t->name);
    atomic_fetch_add(&n_sessions, 1);
    const unsigned views = 1 + rnd(&w->rng, 8);
    for (unsigned i = 0; i < views && !atomic_load(&stop_flag); i++) {
        pick_view(&w->rng, t, &p);
        int n = view_query(t, &p, q, sizeof q);
        if (len && rnd(&w->rng, 2))
            snprintf(q + n, sizeof q - (size_t)n, "&len=%llu", (unsigned long long)len);
        snprintf(url, sizeof url, "%s/%s?cid=%s&%s", base_url, path, cid, q);
        atomic_fetch_add(&n_views, 1);
        if (raw_get(w, url, t, jpt, strstr(q, "len=") != NULL, 1, 0, 200) != 200)
            return;
    }
    if (rnd(&w->rng, 10) < 4) {
        snprintf(url, sizeof url, "%s/%s?cid=%s&cclose=%s", base_url, path, cid, cid);
        if (raw_get(w, url, t, jpt, 0, 1, 0, 200) != 200)
            return;
        atomic_fetch_add(&n_cclose, 1);
        if (rnd(&w->rng, 2)) {
            snprintf(url, sizeof url, "%s/%s?cid=%s&fsiz=64,64", base_url, path, cid);
            raw_get(w, url, t, jpt, 0, 1, 0, 404);
        }
    }
}

static void do_stateless(struct worker *w, const struct target *t)
{
    char q[600], url[1024];
    struct view_pick p;
    pick_view(&w->rng, t, &p);
    int n = view_query(t, &p, q, sizeof q);
    const int jpt = rnd(&w->rng, 10) == 0;
    const int len = rnd(&w->rng, 4) == 0;
    if (len)
        n += snprintf(q + n, sizeof q - (size_t)n, "&len=%u", 1000 + rnd(&w->rng, 100000));
    if (jpt)
        n += snprintf(q + n, sizeof q - (size_t)n, "&type=jpt-stream");
    if (rnd(&w->rng, 4) == 0)
        snprintf(q + n, sizeof q - (size_t)n, "&tid=0");
    snprintf(url, sizeof url, "%s/%s?%s", base_url, t->name, q);
    const size_t drop = rnd(&w->rng, 50) == 0 ? 1 + rnd(&w->rng, 4000) : 0;
    atomic_fetch_add(&n_stateless, 1);
    atomic_fetch_add(&n_views, 1);
    raw_get(w, url, t, jpt, len, 0, drop, 200);
    if (drop)
        curl_easy_reset(w->h); /* the dropped connection is not reused */
}

/* ---- verified views through the client core ---- */

static int verify_view(struct jpip_client *c, const struct target *t, const struct view_pick *p,
                       const char *what)
{
    const unsigned stream = p->stream;
    if (!t->ref[stream])
        return 0;
    uint8_t *file = NULL;
    size_t len = 0;
    struct jpip_view_geometry g;
    int jp2 = 0;
    int rc = jpip_client_view_file(c, &file, &len, &g, &jp2);
    if (rc != JPIP_OK) {
        error(E_PIXELS, "%s: rebuild: %s", what, jpip_client_errmsg(c));
        return -1;
    }
    struct jpip_decode_options o = {.reduce = g.discard,
                                    .layers = g.layers,
                                    .x0 = g.x0,
                                    .y0 = g.y0,
                                    .x1 = g.x1,
                                    .y1 = g.y1,
                                    .jp2 = jp2};
    struct jpip_image *mine = NULL, *ref = NULL;
    char err[256] = "", diff[256] = "";
    rc = jpip_decode(file, len, &o, &mine, err, sizeof err);
    jpip_client_free(c, file);
    if (rc == JPIP_OK) {
        /* The reference: the original at the view's resolution and region on its own grid
         * (the rebuilt codestream may leave the discarded levels out, and g is then relative
         * to that smaller grid). The images here have their origin at 0,0 and fsiz names a
         * frame size exactly, so the level is p->level and the region scales by 2^level. */
        const struct cs_facts *cf = &t->cs[stream];
        const unsigned d = p->level;
        struct jpip_decode_options r = {
            .reduce = d, .layers = p->v.layers, .jp2 = t->ref_jp2[stream]};
        if (p->v.sx) {
            r.x0 = p->v.ox << d;
            r.y0 = p->v.oy << d;
            r.x1 = (p->v.ox + p->v.sx) << d < cf->w ? (p->v.ox + p->v.sx) << d : cf->w;
            r.y1 = (p->v.oy + p->v.sy) << d < cf->h ? (p->v.oy + p->v.sy) << d : cf->h;
        }
        rc = jpip_decode(t->ref[stream], t->ref_len[stream], &r, &ref, err, sizeof err);
    }
    int bad = 0;
    if (rc != JPIP_OK) {
        error(E_PIXELS, "%s: decode: %s", what, err);
        bad = -1;
    } else if (!jpip_image_equal(mine, ref, diff, sizeof diff)) {
        error(E_PIXELS, "%s: differs from OpenJPEG's decode of the original: %s", what, diff);
        bad = -1;
    } else {
        atomic_fetch_add(&n_verified, 1);
    }
    jpip_image_destroy(mine);
    jpip_image_destroy(ref);
    return bad;
}

static void do_verified(struct worker *w, const struct target *t)
{
    struct view_pick p;
    char q[512], url[1024];
    pick_view(&w->rng, t, &p);
    p.comps = 0;
    view_query(t, &p, q, sizeof q);
    snprintf(url, sizeof url, "%s/%s?%s", base_url, t->name, q);
    struct jpip_fetch_config cfg;
    jpip_fetch_config_default(&cfg);
    cfg.client.stateless = rnd(&w->rng, 10) < 3;
    cfg.client.len = rnd(&w->rng, 10) < 3 ? 4000 + rnd(&w->rng, 60000) : 0;
    cfg.client.jpt = rnd(&w->rng, 10) == 0;
    cfg.request_timeout_ms = 120000;
    struct jpip_fetch *f = NULL;
    if (jpip_fetch_create(&f, url, &cfg) != JPIP_OK) {
        error(E_FETCH, "%s: cannot create the fetch", url);
        return;
    }
    struct jpip_client *c = jpip_fetch_client(f);
    const unsigned pans = rnd(&w->rng, 5);
    for (unsigned i = 0; i <= pans && !atomic_load(&stop_flag); i++) {
        if (i) {
            /* A pan or zoom on the same codestream, on the same channel and cache. */
            const unsigned stream = p.stream;
            do
                pick_view(&w->rng, t, &p);
            while (p.stream != stream);
            p.comps = 0;
            if (jpip_client_set_view(c, &p.v) != JPIP_OK) {
                error(E_FETCH, "%s: set_view: %s", url, jpip_client_errmsg(c));
                break;
            }
        }
        atomic_fetch_add(&n_views, 1);
        const int rc = jpip_fetch_run(f, NULL, NULL);
        if (rc != JPIP_OK) {
            error(E_FETCH, "%s view %u: %s (HTTP %d)", url, i, jpip_fetch_errmsg(f),
                  jpip_fetch_http_status(f));
            break;
        }
        char what[1700];
        view_query(t, &p, q, sizeof q);
        snprintf(what, sizeof what, "%s%s view %u (%s)", url,
                 cfg.client.stateless ? " stateless" : "", i, q);
        if (verify_view(c, t, &p, what) != 0)
            break;
    }
    struct jpip_client_stats cs;
    struct jpip_fetch_stats fs;
    jpip_client_stats(c, &cs);
    jpip_fetch_stats(f, &fs);
    atomic_fetch_add(&n_requests, fs.requests);
    atomic_fetch_add(&n_bytes, cs.body_bytes);
    if (cs.duplicate_bytes)
        error(E_DUPLICATE, "%s: the client core received %llu bytes twice", url,
              (unsigned long long)cs.duplicate_bytes);
    jpip_fetch_destroy(f);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->h = curl_easy_init();
    w->bins = calloc(BIN_SLOTS, sizeof *w->bins);
    if (!w->h || !w->bins) {
        error(E_NET, "client %u: cannot start", w->id);
        return NULL;
    }
    while (!atomic_load(&stop_flag)) {
        const struct target *t = &targets[rnd(&w->rng, ntargets)];
        const uint32_t k = rnd(&w->rng, 100);
        curl_easy_setopt(w->h, CURLOPT_TIMEOUT, 120L);
        curl_easy_setopt(w->h, CURLOPT_NOSIGNAL, 1L);
        if (k < 45)
            do_session(w, t);
        else if (k < 88)
            do_stateless(w, t);
        else
            do_verified(w, t);
    }
    curl_easy_cleanup(w->h);
    free(w->bins);
    return NULL;
}

/* ---- set-up ---- */

static int load_manifest(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    if (!f) {
        fprintf(stderr, "soak_client: cannot read %s\n", path);
        return -1;
    }
    while (fgets(line, sizeof line, f) && ntargets < MAX_TARGETS) {
        char *tok[2 + MAX_CS];
        unsigned n = 0;
        for (char *s = strtok(line, " \t\r\n"); s && n < 2 + MAX_CS; s = strtok(NULL, " \t\r\n"))
            tok[n++] = s;
        if (n < 2 || tok[0][0] == '#')
            continue;
        struct target *t = &targets[ntargets];
        snprintf(t->name, sizeof t->name, "%s", tok[0]);
        size_t len;
        uint8_t *data = load_file(tok[1], &len);
        struct jpip_source src;
        struct jpip_target *jt;
        if (!data) {
            fprintf(stderr, "soak_client: cannot read %s\n", tok[1]);
            fclose(f);
            return -1;
        }
        jpip_memory_source_init(&src, data, len);
        if (jpip_target_open(&jt, &src, NULL, NULL) != JPIP_OK) {
            fprintf(stderr, "soak_client: %s: not a JPEG 2000 file\n", tok[1]);
            fclose(f);
            return -1;
        }
        t->ncs = jpip_target_codestream_count(jt);
        t->ncs = t->ncs > MAX_CS ? MAX_CS : t->ncs;
        for (unsigned k = 0; k < t->ncs; k++) {
            struct jpip_codestream_info ci;
            jpip_target_codestream_info(jt, k, &ci);
            t->cs[k] = (struct cs_facts){ci.width, ci.height, ci.levels, ci.layers, ci.components};
        }
        jpip_target_destroy(jt);
        for (unsigned k = 0; k < t->ncs; k++) {
            const char *ref = n > 2 ? (k + 2 < n ? tok[k + 2] : NULL) : (k == 0 ? tok[1] : NULL);
            if (!ref)
                continue;
            t->ref[k] = k == 0 && ref == tok[1] ? data : load_file(ref, &t->ref_len[k]);
            if (t->ref[k] == data)
                t->ref_len[k] = len;
            if (!t->ref[k]) {
                fprintf(stderr, "soak_client: cannot read %s\n", ref);
                fclose(f);
                return -1;
            }
            t->ref_jp2[k] = t->ref_len[k] > 12 && !memcmp(t->ref[k] + 4, "jP  ", 4);
        }
        if (t->ref[0] != data)
            free(data);
        ntargets++;
    }
    fclose(f);
    return ntargets ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *manifest = NULL;
    unsigned clients = 100;
    double seconds = 600, warmup = 30;
    long pid = 0;
    uint64_t seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--url"))
            base_url = v;
        else if (!strcmp(k, "--manifest"))
            manifest = v;
        else if (!strcmp(k, "--clients"))
            clients = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(k, "--seconds"))
            seconds = strtod(v, NULL);
        else if (!strcmp(k, "--warmup"))
            warmup = strtod(v, NULL);
        else if (!strcmp(k, "--pid"))
            pid = strtol(v, NULL, 10);
        else if (!strcmp(k, "--seed"))
            seed = strtoull(v, NULL, 10);
    }
    if (!base_url || !manifest || clients == 0 || clients > 4096 || seconds <= 0) {
        fprintf(stderr, "usage: soak_client --url http://HOST:PORT --manifest FILE "
                        "[--clients N] [--seconds S] [--warmup S] [--pid PID] [--seed N]\n");
        return 2;
    }
    if (load_manifest(manifest) != 0)
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct worker *w = calloc(clients, sizeof *w);
    pthread_t *th = calloc(clients, sizeof *th);
    if (!w || !th)
        return 1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1 << 20);
    const double t0 = now_s();
    for (unsigned i = 0; i < clients; i++) {
        w[i].id = i;
        w[i].rng = (seed * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)(i + 1) << 32) ^ (i + 1);
        if (pthread_create(&th[i], &attr, worker_main, &w[i]) != 0) {
            fprintf(stderr, "soak_client: cannot start client %u\n", i);
            atomic_store(&stop_flag, 1);
            clients = i;
            break;
        }
    }
    long rss_start = -1, rss_max = -1;
    double next_report = t0 + 10;
    int warm = warmup <= 0;
    if (warm && pid)
        rss_start = vm_rss_kb(pid, "VmRSS");
    while (!atomic_load(&stop_flag)) {
        usleep(200000);
        const double t = now_s();
        if (!warm && t - t0 >= warmup) {
            warm = 1;
            rss_start = pid ? vm_rss_kb(pid, "VmRSS") : -1;
            fprintf(stderr, "soak_client: warm-up over at %.0f s: server VmRSS %ld kB\n", t - t0,
                    rss_start);
        }
        if (t >= next_report) {
            next_report += 10;
            const long rss = pid ? vm_rss_kb(pid, "VmRSS") : -1;
            if (warm && rss > rss_max)
                rss_max = rss;
            uint64_t errs = 0;
            for (int k = 0; k < E_KINDS; k++)
                errs += atomic_load(&n_errors[k]);
            fprintf(stderr,
                    "soak_client: %4.0f s: %llu requests, %llu views, %llu verified, %.1f MB, "
                    "%llu errors, server VmRSS %ld kB\n",
                    t - t0, (unsigned long long)atomic_load(&n_requests),
                    (unsigned long long)atomic_load(&n_views),
                    (unsigned long long)atomic_load(&n_verified),
                    (double)atomic_load(&n_bytes) / 1e6, (unsigned long long)errs, rss);
            if (pid && rss < 0) {
                error(E_NET, "the server (pid %ld) is gone", pid);
                atomic_store(&stop_flag, 1);
            }
        }
        if (t - t0 >= seconds)
            atomic_store(&stop_flag, 1);
    }
    for (unsigned i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    const double elapsed = now_s() - t0;
    const long rss_end = pid ? vm_rss_kb(pid, "VmRSS") : -1;
    const long hwm = pid ? vm_rss_kb(pid, "VmHWM") : -1;
    if (rss_end > rss_max)
        rss_max = rss_end;
    uint64_t errs = 0;
    for (int k = 0; k < E_KINDS; k++)
        errs += atomic_load(&n_errors[k]);
    printf("seconds=%.0f clients=%u targets=%u requests=%llu views=%llu verified=%llu "
           "sessions=%llu cclose=%llu stateless=%llu dropped=%llu bytes=%llu "
           "requests_per_s=%.1f MB_per_s=%.2f errors=%llu",
           elapsed, clients, ntargets, (unsigned long long)atomic_load(&n_requests),
           (unsigned long long)atomic_load(&n_views), (unsigned long long)atomic_load(&n_verified),
           (unsigned long long)atomic_load(&n_sessions), (unsigned long long)atomic_load(&n_cclose),
           (unsigned long long)atomic_load(&n_stateless),
           (unsigned long long)atomic_load(&n_dropped), (unsigned long long)atomic_load(&n_bytes),
           (double)atomic_load(&n_requests) / elapsed,
           (double)atomic_load(&n_bytes) / elapsed / 1e6, (unsigned long long)errs);
    for (int k = 0; k < E_KINDS; k++)
        printf(" errors_%s=%llu", err_names[k], (unsigned long long)atomic_load(&n_errors[k]));
    if (pid)
        printf(" rss_start_kb=%ld rss_end_kb=%ld rss_max_kb=%ld hwm_kb=%ld growth_pct=%.1f",
               rss_start, rss_end, rss_max, hwm,
               rss_start > 0 ? 100.0 * (double)(rss_end - rss_start) / (double)rss_start : 0.0);
    printf("\n");
    for (unsigned i = 0; i < ntargets; i++)
        for (unsigned k = 0; k < targets[i].ncs; k++)
            free(targets[i].ref[k]);
    free(w);
    free(th);
    curl_global_cleanup();
    return errs ? 1 : 0;
}
