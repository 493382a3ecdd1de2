/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper (header-only) for in-process server tests: a directory of test files made with
 * opj_compress, server hooks over it, a test-side bin store fed by the stream reader (it
 * counts bytes received twice), and the exactness check of a rebuilt view against OpenJPEG's
 * decode of the original. Include once per test executable.
 */
#ifndef JPIP_TEST_SERVER_HARNESS_H
#define JPIP_TEST_SERVER_HARNESS_H

#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpip/decode.h>
#include <jpip/index.h>
#include <jpip/server.h>

#include "client/jp2_wrap.h"
#include "client/reconstruct.h"
#include "databin/window.h"
#include "stream/stream_reader.h"

char dir[512];
int harness_jpt;          /* check_view rebuilds from tile data-bins */
int harness_shrink;       /* check_view trims the rebuild to the view when it can */
unsigned harness_shrunk;  /* views rebuilt so */
unsigned harness_cropped; /* region views of single-tile images cropped to the region */

/* ---- a test-side bin store: appends in order, counts bytes received twice ---- */
struct tbin {
    unsigned cls;
    uint64_t cs, id;
    uint8_t *data;
    uint64_t len;
    int complete;
};
struct tstore {
    struct tbin *v;
    size_t n;
    uint64_t dup_bytes, bytes, msgs;
    int bad;
};

static inline struct tbin *tfind(struct tstore *s, unsigned cls, uint64_t cs, uint64_t id, int make)
{
    cls &= ~1u;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].cls == cls && s->v[i].cs == cs && s->v[i].id == id)
            return &s->v[i];
    if (!make)
        return NULL;
    s->v = realloc(s->v, (s->n + 1) * sizeof *s->v);
    memset(&s->v[s->n], 0, sizeof *s->v);
    s->v[s->n].cls = cls;
    s->v[s->n].cs = cs;
    s->v[s->n].id = id;
    return &s->v[s->n++];
}

static inline int on_msg(void *u, const struct jpip__msg *m, const uint8_t *body)
{
    struct tstore *s = u;
    struct tbin *b = tfind(s, m->cls, m->cs, m->id, 1);
    s->msgs++;
    s->bytes += m->len;
    if (m->off < b->len) {
        uint64_t overlap = b->len - m->off < m->len ? b->len - m->off : m->len;
        s->dup_bytes += overlap;
    }
    if (m->off > b->len) {
        s->bad = 1; /* a hole: our server always continues where the client stopped */
        return 0;
    }
    uint64_t end = m->off + m->len;
    if (end > b->len) {
        b->data = realloc(b->data, (size_t)end + 1);
        memcpy(b->data + m->off, body, (size_t)m->len);
        b->len = end;
    }
    if (m->last)
        b->complete = 1;
    return 0;
}

static inline int tget(void *u, unsigned cls, uint64_t cs, uint64_t id, const uint8_t **data,
                       uint64_t *len, int *complete)
{
    struct tbin *b = tfind(u, cls, cs, id, 0);
    *data = b ? b->data : NULL;
    *len = b ? b->len : 0;
    *complete = b ? b->complete : 0;
    if (b && !b->data)
        *data = (const uint8_t *)"";
    return 0;
}

static inline void tfree(struct tstore *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].data);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- server hooks over files in dir ---- */
static inline int resolve(void *user, const char *name, size_t len, struct jpip_target_ref *out,
                          char *msg, size_t msglen)
{
    (void)user;
    char path[1100];
    if (len > 200 || memchr(name, '/', len)) {
        snprintf(msg, msglen, "bad name");
        return JPIP_EINVAL;
    }
    snprintf(path, sizeof path, "%s/%.*s", dir, (int)len, name);
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(msg, msglen, "no such file");
        return JPIP_ENOTFOUND;
    }
    if (jpip_file_source_open(&out->src, path) != JPIP_OK)
        return JPIP_EIO;
    snprintf(out->version, sizeof out->version, "%lld:%lld", (long long)st.st_size,
             (long long)st.st_mtime);
    return JPIP_OK;
}

static inline void release(void *user, struct jpip_target_ref *ref)
{
    (void)user;
    jpip_file_source_close(&ref->src);
}

static inline int rnd(void *user, uint8_t *buf, size_t len)
{
    static uint32_t x = 12345;
    (void)user;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    return 0;
}

static inline struct jpip_server *new_server(void)
{
    struct jpip_server_hooks h = {.resolve = resolve, .release = release, .random = rnd};
    struct jpip_server *s = NULL;
    if (jpip_server_create(&s, &h, NULL, NULL) != JPIP_OK)
        return NULL;
    return s;
}

/* Issue a request and feed its body into the store; returns the status. */
static inline int fetch(struct jpip_server *s, const char *path, const char *query,
                        struct tstore *st, char *hdrs, size_t hcap, uint8_t *eor)
{
    struct jpip_response *r;
    if (jpip_server_handle(s, path, strlen(path), query, strlen(query), 0, &r) != JPIP_OK)
        return -1;
    int status = jpip_response_status(r);
    if (hdrs)
        snprintf(hdrs, hcap, "%s", jpip_response_headers(r));
    struct jpip__stream_reader rd;
    jpip__stream_reader_init(&rd, NULL, 0, on_msg, NULL, st);
    uint8_t buf[4096];
    int done = 0;
    size_t piece = 64;
    while (!done && status == 200) {
        size_t n;
        if (jpip_response_read(r, buf, piece, &n, &done) != JPIP_OK) {
            status = -2;
            break;
        }
        if (jpip__stream_reader_feed(&rd, buf, n) != JPIP_OK) {
            fprintf(stderr, "stream error: %s\n", rd.err.msg);
            status = -3;
            break;
        }
        piece = piece * 7 % 4000 + 64; /* odd sizes: messages straddle reads */
    }
    if (eor)
        *eor = rd.eor_seen ? rd.eor_reason : 0;
    jpip__stream_reader_free(&rd);
    jpip_response_destroy(r);
    return status;
}

static inline int sh(const char *cmd)
{
    char full[4200];
    snprintf(full, sizeof full, "%s >/dev/null 2>&1", cmd);
    return system(full);
}

static inline uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    *len = 0;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc((size_t)n + 1);
    *len = fread(d, 1, (size_t)n, f);
    fclose(f);
    return d;
}

/* Compare the view rebuilt from codestream `stream` of the store with OpenJPEG on the file
 * that holds that codestream alone. */
static inline int check_stream_view(const char *file, uint64_t stream, struct tstore *st,
                                    unsigned d, const struct jpip__rect *cv, unsigned layers,
                                    unsigned ncomps, const unsigned *comps, char *why, size_t wl)
{
    struct jpip__bin_source src = {tget, st};
    struct jpip__reconstruct_opts o = {d, (uint16_t)layers, 1, *cv, harness_jpt, harness_shrink};
    struct jpip__buf out;
    jpip__buf_init(&out, NULL, SIZE_MAX);
    struct jpip__err err = {{0}, 0};
    struct jpip__reconstruct_stats rst;
    int rc = jpip__reconstruct(&src, stream, &o, NULL, &out, &rst, &err);
    if (rc != JPIP_OK) {
        snprintf(why, wl, "reconstruct: %.200s", err.msg);
        jpip__buf_free(&out);
        return 0;
    }
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    size_t olen = 0;
    uint8_t *orig = slurp(path, &olen);
    struct jpip_decode_options dop = {0};
    dop.reduce = d;
    dop.layers = layers;
    dop.x0 = cv->x0;
    dop.y0 = cv->y0;
    dop.x1 = cv->x1;
    dop.y1 = cv->y1;
    dop.ncomps = ncomps;
    dop.comps = comps;
    dop.jp2 = strstr(file, ".jp2") != NULL;
    struct jpip_image *a = NULL, *b = NULL;
    char e1[256] = "", e2[256] = "";
    int ra = jpip_decode(orig, olen, &dop, &a, e1, sizeof e1);
    dop.jp2 = 0;
    harness_cropped += rc == JPIP_OK && rst.cropped;
    if (rst.shrunk) { /* the levels left out: reduce 0 over the region divided alike */
        unsigned k = rst.shrunk;
        harness_shrunk++;
        dop.reduce -= k;
        dop.x0 = (uint32_t)(((uint64_t)dop.x0 + (1u << k) - 1) >> k);
        dop.y0 = (uint32_t)(((uint64_t)dop.y0 + (1u << k) - 1) >> k);
        dop.x1 = (uint32_t)(((uint64_t)dop.x1 + (1u << k) - 1) >> k);
        dop.y1 = (uint32_t)(((uint64_t)dop.y1 + (1u << k) - 1) >> k);
    }
    /* A JP2 target: wrap the rebuilt codestream with the JP2 header of metadata-bin 0, as the
     * client does, so palettes and channel definitions apply on both sides. */
    const uint8_t *meta0 = NULL, *jp2h;
    uint64_t mlen = 0;
    size_t hlen;
    int mcomplete;
    struct jpip__buf wrapped;
    jpip__buf_init(&wrapped, NULL, SIZE_MAX);
    if (stream == 0 && tget(st, 8, 0, 0, &meta0, &mlen, &mcomplete) == 0 && meta0 &&
        jpip__jp2_find_header(meta0, (size_t)mlen, &jp2h, &hlen) &&
        jpip__jp2_wrap(&wrapped, jp2h, hlen, out.data, out.len) == JPIP_OK) {
        jpip__buf_free(&out);
        out = wrapped;
        dop.jp2 = 1;
    } else {
        jpip__buf_free(&wrapped);
    }
    int rb = jpip_decode(out.data, out.len, &dop, &b, e2, sizeof e2);
    int ok;
    if (ra != JPIP_OK) {
        snprintf(why, wl, "skip: OpenJPEG cannot decode the original: %.180s", e1);
        ok = 2;
    } else if (rb != JPIP_OK) {
        snprintf(why, wl, "rebuilt stream does not decode: %.180s", e2);
        ok = 0;
    } else {
        ok = jpip_image_equal(a, b, why, wl);
    }
    jpip_image_destroy(a);
    jpip_image_destroy(b);
    free(orig);
    jpip__buf_free(&out);
    return ok;
}

/* Compare the rebuilt view with OpenJPEG on the original. */
static inline int check_view(const char *file, struct tstore *st, unsigned d,
                             const struct jpip__rect *cv, unsigned layers, unsigned ncomps,
                             const unsigned *comps, char *why, size_t wl)
{
    return check_stream_view(file, 0, st, d, cv, layers, ncomps, comps, why, wl);
}

struct file_case {
    const char *name;
    const char *opts;
};

const struct file_case files[] = {
    {"rpcl_prec.j2k", "-p RPCL -c [32,32],[32,32],[16,16] -b 16,16 -r 30,10,1"},
    {"lrcp_tiles.j2k", "-p LRCP -t 64,48 -d 5,3 -T 2,1 -r 20,5 -SOP -EPH"},
    {"irrev_plt.j2k", "-I -p PCRL -c [64,64],[32,32] -r 40,8,2 -PLT -TLM"},
    {"rpcl_tpR.j2k", "-p RPCL -t 80,80 -TP R -c [16,16] -b 8,8 -n 4"},
    {"cprl_tpC.j2k", "-p CPRL -TP C -c [32,32],[16,16] -b 8,8 -n 4 -r 20,4"},
    {"rlcp_default.jp2", "-p RLCP -r 10,3"},
};

static inline void remove_files(void)
{
    char cmd[600];
    if (dir[0] && strncmp(dir, "/tmp/jpip_srvtest_", 18) == 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
}

static inline int make_files(void)
{
    if (dir[0])
        return 0; /* made already by an earlier test of this executable */
    snprintf(dir, sizeof dir, "/tmp/jpip_srvtest_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    atexit(remove_files);
    /* a 203x157 RGB test picture with edges and texture */
    char ppm[600];
    snprintf(ppm, sizeof ppm, "%s/in.ppm", dir);
    FILE *f = fopen(ppm, "wb");
    fprintf(f, "P6\n203 157\n255\n");
    for (int y = 0; y < 157; y++)
        for (int x = 0; x < 203; x++) {
            unsigned v = (unsigned)(x * 7 + y * 3 + ((x * y) % 17) * 5);
            fputc((int)(v & 255), f);
            fputc((int)((x ^ y) & 255), f);
            fputc((int)((y * 2 + (x > 100) * 80) & 255), f);
        }
    fclose(f);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char cmd[2000];
        snprintf(cmd, sizeof cmd, "opj_compress -i %s -o %s/%s %s", ppm, dir, files[i].name,
                 files[i].opts);
        if (sh(cmd) != 0)
            return -1;
    }
    return 0;
}

/* A JPX with n codestreams (frame<i>.j2k in dir): signature, ftyp 'jpx ', then one jp2c box per
 * codestream. */
static inline int make_jpx(const char *name, int n)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    static const uint8_t head[] = {0,    0,   0, 12, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87,
                                   0x0A, 0,   0, 0,  20,  'f', 't', 'y', 'p',  'j',  'p',
                                   'x',  ' ', 0, 0,  0,   0,   'j', 'p', 'x',  ' '};
    fwrite(head, 1, sizeof head, f);
    for (int i = 0; i < n; i++) {
        char j2k[600], cmd[1800];
        snprintf(j2k, sizeof j2k, "%s/frame%d.j2k", dir, i);
        snprintf(cmd, sizeof cmd,
                 "opj_compress -i %s/in.ppm -o %s -p RPCL -c [32,32],[16,16] -r %d,%d,%d", dir, j2k,
                 50 + 10 * i, 12 + i, 2 + i);
        if (sh(cmd) != 0)
            return -1;
        size_t len;
        uint8_t *d = slurp(j2k, &len);
        uint8_t bh[8] = {(uint8_t)((len + 8) >> 24),
                         (uint8_t)((len + 8) >> 16),
                         (uint8_t)((len + 8) >> 8),
                         (uint8_t)(len + 8),
                         'j',
                         'p',
                         '2',
                         'c'};
        fwrite(bh, 1, 8, f);
        fwrite(d, 1, len, f);
        free(d);
    }
    fclose(f);
    return 0;
}

static inline void frame_size(const char *file, unsigned d, uint32_t *w, uint32_t *h)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    struct jpip_source src;
    jpip_file_source_open(&src, path);
    struct jpip_target *t;
    jpip_target_open(&t, &src, NULL, NULL);
    struct jpip_codestream_info ci;
    jpip_target_codestream_info(t, 0, &ci);
    uint32_t x1 = ci.x0 + ci.width, y1 = ci.y0 + ci.height;
    *w = ((x1 + (1u << d) - 1) >> d) - ((ci.x0 + (1u << d) - 1) >> d);
    *h = ((y1 + (1u << d) - 1) >> d) - ((ci.y0 + (1u << d) - 1) >> d);
    jpip_target_destroy(t);
    jpip_file_source_close(&src);
}

/* The canvas region the server uses for a view (the client computes the same). */
static inline void view_canvas(const char *file, unsigned d, uint32_t ox, uint32_t oy, uint32_t sx,
                               uint32_t sy, struct jpip__rect *cv)
{
    uint32_t fw, fh;
    frame_size(file, d, &fw, &fh);
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    struct jpip_source src;
    jpip_file_source_open(&src, path);
    struct jpip_target *t;
    jpip_target_open(&t, &src, NULL, NULL);
    struct jpip_codestream_info ci;
    jpip_target_codestream_info(t, 0, &ci);
    struct jpip__siz siz = {0};
    siz.xsiz = ci.x0 + ci.width;
    siz.ysiz = ci.y0 + ci.height;
    siz.xosiz = ci.x0;
    siz.yosiz = ci.y0;
    struct jpip__window_req q = {1, fw, fh, 0, 1, 1, ox, oy, sx, sy};
    struct jpip__window w;
    jpip__window_resolve(&siz, d, &q, &w);
    *cv = w.canvas;
    jpip_target_destroy(t);
    jpip_file_source_close(&src);
}

/* One stateless view through the server and back: fsiz for reduce d, region (ox, oy, sx, sy)
 * in that frame (sx or sy 0: the whole frame), layers (0 = all), one component comp (-1 = all).
 * The view must come back complete (EOR 2), with no hole and no byte twice, and decode exactly.
 * Returns 1 ok, 2 skip (OpenJPEG cannot decode the original), 0 failure; the query and the
 * reason land in q and why, the data-bin bytes and messages in *bytes and *msgs. */
static inline int run_view(struct jpip_server *s, const char *file, unsigned d, uint32_t ox,
                           uint32_t oy, uint32_t sx, uint32_t sy, unsigned layers, int comp,
                           char *q, size_t ql, char *why, size_t wl, uint64_t *bytes,
                           uint64_t *msgs)
{
    uint32_t fw, fh;
    frame_size(file, d, &fw, &fh);
    if (sx == 0 || sy == 0) {
        sx = fw;
        sy = fh;
    }
    char path[1100];
    snprintf(path, sizeof path, "/%s", file);
    int n = snprintf(q, ql, "fsiz=%u,%u&roff=%u,%u&rsiz=%u,%u", fw, fh, ox, oy, sx, sy);
    if (layers)
        n += snprintf(q + n, ql - (size_t)n, "&layers=%u", layers);
    if (comp >= 0)
        snprintf(q + n, ql - (size_t)n, "&comps=%d", comp);
    struct tstore st = {0};
    uint8_t eor = 0;
    int status = fetch(s, path, q, &st, NULL, 0, &eor);
    int ok;
    if (status != 200 || eor != 2 || st.bad || st.dup_bytes) {
        snprintf(why, wl, "status %d, EOR %u, hole %d, %llu bytes twice", status, eor, st.bad,
                 (unsigned long long)st.dup_bytes);
        ok = 0;
    } else {
        struct jpip__rect cv;
        view_canvas(file, d, ox, oy, sx, sy, &cv);
        unsigned c = comp >= 0 ? (unsigned)comp : 0;
        ok = check_view(file, &st, d, &cv, layers, comp >= 0 ? 1 : 0, comp >= 0 ? &c : NULL, why,
                        wl);
    }
    *bytes = st.bytes;
    *msgs = st.msgs;
    tfree(&st);
    return ok;
}

#endif
