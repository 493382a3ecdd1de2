/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * compare_client: drives one view sequence against one JPIP server over HTTP (libcurl, one
 * keep-alive connection, one JPIP session opened with cnew=http) and prints one TSV line per
 * view: bytes of the response body and what they hold (precinct, tile-header, main-header and
 * metadata data-bin payload, the rest being message headers and EOR), time to first and last
 * byte, and the PSNR of the view the response lets a client decode against OpenJPEG's decode
 * of the original file at the same resolution and region ("inf" = identical samples).
 *
 * Both servers' responses go through our client core (include/jpip/client.h), which rebuilds a
 * codestream from the data-bins and decodes it (include/jpip/decode.h). OpenJPIP's tile-header
 * data-bins are not those of 15444-9: they hold the first tile-part's SOT segment body (Lsot to
 * TNsot, 10 bytes) before the header's marker segments and its SOD marker after them; the
 * messages of the openjpip kind are rewritten without those 12 bytes before our client sees
 * them (jpip-notes 5.2), and their codestream numbers, which OpenJPIP takes from the order in
 * which its process opened the targets, are set to 0. Byte counts are those of the wire.
 *
 *   compare_client --kind jpipd|openjpip --url BASE --name TARGET --file PATH
 *                  --seq thumb|region|pan [--label TEXT]
 *
 * BASE is http://HOST:PORT for jpipd (the target is the path) and the FastCGI URL for OpenJPIP
 * (the target goes in target=). Sequences on a W x H image: thumb = fsiz=256,256; region = a
 * 512x512 window at full resolution in the middle; pan = 8 such windows from the left edge
 * to the right edge along the middle row, in one session.
 * Columns: label kind seq step query body precinct tileheader mainheader metadata framing
 * ttfb_ms total_ms psnr_db
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpip/client.h>
#include <jpip/decode.h>
#include <jpip/index.h>

#include "codestream/codestream.h"
#include "databin/window.h"
#include "stream/stream_reader.h"

struct mem {
    uint8_t *p;
    size_t n, cap;
};

static void mem_put(struct mem *m, const void *d, size_t len)
{
    if (m->n + len > m->cap) {
        size_t cap = m->cap ? m->cap : 65536;
        while (cap < m->n + len)
            cap *= 2;
        m->p = realloc(m->p, cap);
        if (!m->p) {
            fprintf(stderr, "compare_client: out of memory\n");
            exit(1);
        }
        m->cap = cap;
    }
    memcpy(m->p + m->n, d, len);
    m->n += len;
}

static size_t on_body(char *d, size_t sz, size_t n, void *u)
{
    mem_put(u, d, sz * n);
    return sz * n;
}

static size_t on_header(char *d, size_t sz, size_t n, void *u)
{
    /* Keep "Name: value" lines; drop the status line and the blank line. */
    if (sz * n > 5 && memcmp(d, "HTTP/", 5) != 0 && memchr(d, ':', sz * n))
        mem_put(u, d, sz * n);
    return sz * n;
}

/* Re-encodes every message (rewriting OpenJPIP tile-header bins) and tallies payload bytes. */
struct rewrite {
    int openjpip;
    struct jpip__msg_enc enc;
    struct mem out;
    uint64_t by_class[16];
    uint64_t wrong_cs; /* OpenJPIP messages with CSn != 0, counted and renumbered */
};

static int on_msg(void *u, const struct jpip__msg *m, const uint8_t *body)
{
    struct rewrite *w = u;
    w->by_class[m->cls & 15] += m->len;
    struct jpip__msg mm = *m;
    if (w->openjpip && mm.cs != 0) {
        /* OpenJPIP numbers codestreams by the order in which its process opened the targets, so
         * every file but the first it served carries CSn > 0 although it has one codestream. */
        w->wrong_cs++;
        mm.cs = 0;
    }
    if (w->openjpip && m->cls == 2 && m->off == 0 && m->len >= 12 && body[0] == 0 &&
        body[1] == 10 && body[m->len - 2] == 0xFF && body[m->len - 1] == 0x93) {
        body += 10;
        mm.len -= 12;
    }
    uint8_t h[JPIP__MSG_HEADER_MAX];
    size_t hn;
    if (jpip__msg_header_encode(&w->enc, &mm, h, sizeof h, &hn) != JPIP_OK)
        return JPIP_EINVAL;
    mem_put(&w->out, h, hn);
    mem_put(&w->out, body, (size_t)mm.len);
    return JPIP_OK;
}

static int on_eor(void *u, uint8_t reason, const uint8_t *body, size_t len)
{
    (void)body;
    (void)len;
    struct rewrite *w = u;
    uint8_t e[JPIP__EOR_LEN];
    size_t n;
    jpip__eor_encode(reason, e, sizeof e, &n);
    mem_put(&w->out, e, n);
    return JPIP_OK;
}

/* The view's resolution and region on the original image, for decoding the original file as
 * the reference (the client's own rebuild may be shrunk or cropped: its geometry is not the
 * original's). */
static int reference_options(struct jpip_client *c, const struct jpip_view *v,
                             struct jpip_decode_options *o)
{
    const uint8_t *mh;
    size_t mhl;
    if (jpip_client_main_header(c, &mh, &mhl) != JPIP_OK)
        return -1;
    struct jpip__mainhdr hdr;
    struct jpip__err err;
    if (jpip__mainhdr_parse(&hdr, mh, mhl, 0, NULL, &err) != JPIP_OK) {
        jpip__mainhdr_free(&hdr, NULL);
        return -1;
    }
    struct jpip__window_req q = {0};
    if (v->fx && v->fy) {
        q.has_fsiz = 1, q.fx = v->fx, q.fy = v->fy, q.round = v->round;
        q.has_roff = 1, q.ox = v->ox, q.oy = v->oy;
        q.has_rsiz = v->sx && v->sy, q.sx = v->sx, q.sy = v->sy;
    }
    struct jpip__window w;
    jpip__window_resolve(&hdr.siz, jpip__window_dmax(&hdr), &q, &w);
    jpip__mainhdr_free(&hdr, NULL);
    memset(o, 0, sizeof *o);
    o->reduce = w.discard;
    o->x0 = w.canvas.x0, o->y0 = w.canvas.y0, o->x1 = w.canvas.x1, o->y1 = w.canvas.y1;
    o->jp2 = 1;
    return w.empty ? -1 : 0;
}

static double psnr(const struct jpip_image *a, const struct jpip_image *b)
{
    if (a->components != b->components)
        return -1;
    double se = 0, peak = 0;
    uint64_t count = 0;
    for (unsigned c = 0; c < a->components; c++) {
        const struct jpip_image_comp *x = &a->comp[c], *y = &b->comp[c];
        if (x->width != y->width || x->height != y->height)
            return -1;
        const double p = (double)((1u << x->depth) - 1);
        if (p > peak)
            peak = p;
        for (size_t i = 0; i < (size_t)x->width * x->height; i++) {
            const double d = (double)x->data[i] - (double)y->data[i];
            se += d * d;
        }
        count += (uint64_t)x->width * x->height;
    }
    if (se == 0)
        return INFINITY;
    return 10 * log10(peak * peak / (se / (double)count));
}

static uint8_t *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* "cid=..., path=..." from a JPIP-cnew line in headers. */
static void parse_cnew(const char *h, char *cid, size_t cidlen, char *path, size_t pathlen)
{
    const char *l = strstr(h, "JPIP-cnew:");
    if (!l)
        return;
    for (const char *p = l + 10; *p && *p != '\r' && *p != '\n';) {
        while (*p == ' ' || *p == ',')
            p++;
        const size_t n = strcspn(p, ",\r\n");
        if (!strncmp(p, "cid=", 4))
            snprintf(cid, cidlen, "%.*s", (int)(n - 4), p + 4);
        else if (!strncmp(p, "path=", 5))
            snprintf(path, pathlen, "%.*s", (int)(n - 5), p + 5);
        p += n;
    }
}

int main(int argc, char **argv)
{
    const char *kind = NULL, *url = NULL, *name = NULL, *file = NULL, *seq = NULL, *label = "-";
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--kind"))
            kind = v;
        else if (!strcmp(k, "--url"))
            url = v;
        else if (!strcmp(k, "--name"))
            name = v;
        else if (!strcmp(k, "--file"))
            file = v;
        else if (!strcmp(k, "--seq"))
            seq = v;
        else if (!strcmp(k, "--label"))
            label = v;
    }
    if (!kind || !url || !name || !file || !seq) {
        fprintf(stderr, "usage: compare_client --kind jpipd|openjpip --url BASE --name TARGET "
                        "--file PATH --seq thumb|region|pan [--label TEXT]\n");
        return 2;
    }
    const int openjpip = !strcmp(kind, "openjpip");
    size_t orig_len;
    uint8_t *orig = load(file, &orig_len);
    struct jpip_source src;
    struct jpip_target *t;
    struct jpip_codestream_info ci;
    if (!orig) {
        fprintf(stderr, "compare_client: cannot read %s\n", file);
        return 1;
    }
    jpip_memory_source_init(&src, orig, orig_len);
    if (jpip_target_open(&t, &src, NULL, NULL) != JPIP_OK ||
        jpip_target_codestream_info(t, 0, &ci) != JPIP_OK) {
        fprintf(stderr, "compare_client: %s: not a JPEG 2000 file\n", file);
        return 1;
    }
    jpip_target_destroy(t);

    /* The views. */
    struct jpip_view views[8];
    unsigned nviews = 0;
    const uint32_t W = ci.width, H = ci.height;
    const uint32_t wy = H > 512 ? H / 2 - 256 : 0, wx = W > 512 ? W / 2 - 256 : 0;
    if (!strcmp(seq, "thumb")) {
        views[nviews++] = (struct jpip_view){.fx = 256, .fy = 256};
    } else if (!strcmp(seq, "region")) {
        views[nviews++] =
            (struct jpip_view){.fx = W, .fy = H, .ox = wx, .oy = wy, .sx = 512, .sy = 512};
    } else if (!strcmp(seq, "pan")) {
        /* Eight windows from the left edge to the right edge. */
        const uint32_t step = W > 512 ? (W - 512) / 7 : 0;
        for (unsigned i = 0; i < 8; i++)
            views[nviews++] = (struct jpip_view){
                .fx = W, .fy = H, .ox = i * step, .oy = wy, .sx = 512, .sy = 512};
    } else {
        fprintf(stderr, "compare_client: unknown sequence %s\n", seq);
        return 2;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    struct jpip_client *c;
    char target[512];
    snprintf(target, sizeof target, "/%s", name);
    if (!h || jpip_client_create(&c, target, NULL, NULL) != JPIP_OK)
        return 1;
    char cid[128] = "", chan_path[128] = "";
    int status = 0;
    for (unsigned s = 0; s < nviews; s++) {
        const struct jpip_view *v = &views[s];
        char q[512], full[1024];
        int n = snprintf(q, sizeof q, "type=jpp-stream&fsiz=%u,%u", v->fx, v->fy);
        if (v->sx)
            n += snprintf(q + n, sizeof q - (size_t)n, "&roff=%u,%u&rsiz=%u,%u", v->ox, v->oy,
                          v->sx, v->sy);
        if (!cid[0] && openjpip)
            snprintf(full, sizeof full, "%s?target=%s&cnew=http&%s", url, name, q);
        else if (!cid[0])
            snprintf(full, sizeof full, "%s/%s?cnew=http&%s", url, name, q);
        else if (openjpip || !chan_path[0])
            snprintf(full, sizeof full, "%s%s%s?cid=%s&%s", url, openjpip ? "" : "/",
                     openjpip ? "" : name, cid, q);
        else
            snprintf(full, sizeof full, "%s/%s?cid=%s&%s", url, chan_path, cid, q);

        struct mem body = {0}, hdrs = {0};
        curl_easy_setopt(h, CURLOPT_URL, full);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &hdrs);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
        const CURLcode cc = curl_easy_perform(h);
        long code = 0;
        curl_off_t ttfb = 0, total = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(h, CURLINFO_STARTTRANSFER_TIME_T, &ttfb);
        curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total);
        mem_put(&hdrs, "", 1);
        if (cc != CURLE_OK || code != 200) {
            fprintf(stderr, "compare_client: %s: %s, HTTP %ld\n", full, curl_easy_strerror(cc),
                    code);
            status = 1;
            free(body.p);
            free(hdrs.p);
            break;
        }
        if (!cid[0])
            parse_cnew((const char *)hdrs.p, cid, sizeof cid, chan_path, sizeof chan_path);

        /* Tally and rewrite, then hand the messages to our client core. */
        struct rewrite w = {.openjpip = openjpip};
        jpip__msg_enc_reset(&w.enc);
        struct jpip__stream_reader rd;
        jpip__stream_reader_init(&rd, NULL, 0, on_msg, on_eor, &w);
        int rc = jpip__stream_reader_feed(&rd, body.p, body.n);
        if (rc == JPIP_OK)
            rc = jpip__stream_reader_finish(&rd);
        jpip__stream_reader_free(&rd);
        const char *path, *qq;
        size_t ql;
        jpip_client_set_view(c, v);
        jpip_client_next_request(c, &path, &qq, &ql);
        if (rc == JPIP_OK)
            rc = jpip_client_begin_response(c, 200, (const char *)hdrs.p);
        if (rc == JPIP_OK)
            rc = jpip_client_feed(c, w.out.p, w.out.n);
        if (rc == JPIP_OK)
            rc = jpip_client_end_response(c, 1);
        double db = -1;
        if (rc == JPIP_OK) {
            uint8_t *cs;
            size_t cslen;
            struct jpip_view_geometry g;
            struct jpip_image *mine = NULL, *ref = NULL;
            char err[256] = "";
            const int r0 = jpip_client_codestream(c, &cs, &cslen, &g);
            if (r0 != JPIP_OK)
                fprintf(stderr, "compare_client: %s step %u: rebuild: %s\n", kind, s,
                        jpip_client_errmsg(c)[0] ? jpip_client_errmsg(c) : jpip_strerror(r0));
            if (r0 == JPIP_OK) {
                jpip_client_free(c, cs);
                struct jpip_decode_options o;
                int r1 = jpip_client_decode(c, NULL, 0, 1, &mine, err, sizeof err);
                if (r1 == JPIP_OK && reference_options(c, v, &o) != 0) {
                    r1 = JPIP_EINVAL;
                    snprintf(err, sizeof err, "no main header for the reference's geometry");
                }
                const int r2 =
                    r1 == JPIP_OK ? jpip_decode(orig, orig_len, &o, &ref, err, sizeof err) : r1;
                if (r2 == JPIP_OK)
                    db = psnr(mine, ref);
                else
                    fprintf(stderr, "compare_client: %s step %u: decode (%s): %s\n", kind, s,
                            r1 == JPIP_OK ? "reference" : "view", err[0] ? err : jpip_strerror(r2));
                if (mine && ref && db < 0)
                    fprintf(stderr,
                            "compare_client: %s step %u: view %ux%u (%u components) against "
                            "%ux%u (%u)\n",
                            kind, s, mine->x1 - mine->x0, mine->y1 - mine->y0, mine->components,
                            ref->x1 - ref->x0, ref->y1 - ref->y0, ref->components);
            }
            jpip_image_destroy(mine);
            jpip_image_destroy(ref);
        } else {
            fprintf(stderr, "compare_client: %s step %u: %s\n", kind, s, jpip_client_errmsg(c));
        }
        if (w.wrong_cs)
            fprintf(stderr,
                    "compare_client: %s step %u: %llu messages renumbered to codestream 0\n", kind,
                    s, (unsigned long long)w.wrong_cs);
        const uint64_t payload = w.by_class[0] + w.by_class[1] + w.by_class[2] + w.by_class[6] +
                                 w.by_class[8] + w.by_class[4] + w.by_class[5];
        char dbs[32];
        if (isinf(db))
            snprintf(dbs, sizeof dbs, "inf");
        else if (db < 0)
            snprintf(dbs, sizeof dbs, "fail");
        else
            snprintf(dbs, sizeof dbs, "%.2f", db);
        printf("%s\t%s\t%s\t%u\t%s\t%zu\t%llu\t%llu\t%llu\t%llu\t%llu\t%.3f\t%.3f\t%s\n", label,
               kind, seq, s, q, body.n, (unsigned long long)(w.by_class[0] + w.by_class[1]),
               (unsigned long long)w.by_class[2], (unsigned long long)w.by_class[6],
               (unsigned long long)w.by_class[8], (unsigned long long)(body.n - payload),
               ttfb / 1e3, total / 1e3, dbs);
        free(w.out.p);
        free(body.p);
        free(hdrs.p);
    }
    jpip_client_destroy(c);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    free(orig);
    return status;
}
