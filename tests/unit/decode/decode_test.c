/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for lib/decode/decode.c: jpip_decode must give, sample for sample, what
 * opj_decompress writes for the same codestream and the same reduce / layers / area /
 * component options. Codestreams are made at test time with opj_compress; when the OpenJPEG
 * command-line tools are missing, those tests report a skip and pass.
 */
#define _POSIX_C_SOURCE 200809L

#include <jpip/decode.h>

#include "test.h"

#include <stdarg.h>
#include <unistd.h>

static char tmpdir[256];

static int have_tools(void)
{
    static int cached = -1;
    if (cached < 0) {
        cached = system("command -v opj_compress >/dev/null 2>&1 && "
                        "command -v opj_decompress >/dev/null 2>&1") == 0;
        if (!cached)
            printf("skip: opj_compress/opj_decompress not installed\n");
    }
    return cached;
}

static const char *tmp_path(const char *name)
{
    static char paths[8][512];
    static unsigned next;
    char *p = paths[next++ % 8];
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/jpip_decode_test.XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static int run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[2200];
    snprintf(full, sizeof full, "%s >/dev/null 2>&1", cmd);
    int rc = system(full);
    if (rc != 0)
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    return rc;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* A deterministic test picture: gradient, a rectangle and noise, 1 or 3 components. */
static void write_pnm(const char *path, unsigned w, unsigned h, unsigned comps, unsigned bits)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    unsigned maxv = (1u << bits) - 1;
    fprintf(f, "%s\n%u %u\n%u\n", comps == 1 ? "P5" : "P6", w, h, maxv);
    uint32_t r = 2463534242u;
    for (unsigned y = 0; y < h; y++) {
        for (unsigned x = 0; x < w; x++) {
            for (unsigned c = 0; c < comps; c++) {
                r ^= r << 13;
                r ^= r >> 17;
                r ^= r << 5;
                unsigned v = (unsigned)(((uint64_t)(x * (c + 1) + y) * maxv) / (w * (c + 1) + h));
                if (x > w / 3 && x < w / 2 && y > h / 4 && y < h / 2)
                    v = maxv - v;
                v = (v + (r % 17)) % (maxv + 1);
                if (bits > 8)
                    fputc((int)(v >> 8), f);
                fputc((int)(v & 0xFF), f);
            }
        }
    }
    fclose(f);
}

struct pgm {
    unsigned w, h, maxv;
    int32_t *data;
};

static int skip_ws(const uint8_t *b, size_t len, size_t *i)
{
    while (*i < len) {
        if (b[*i] == '#') {
            while (*i < len && b[*i] != '\n')
                (*i)++;
        } else if (b[*i] == ' ' || b[*i] == '\n' || b[*i] == '\r' || b[*i] == '\t') {
            (*i)++;
        } else {
            return 0;
        }
    }
    return -1;
}

static int read_uint(const uint8_t *b, size_t len, size_t *i, unsigned *out)
{
    if (skip_ws(b, len, i) != 0 || b[*i] < '0' || b[*i] > '9')
        return -1;
    unsigned v = 0;
    while (*i < len && b[*i] >= '0' && b[*i] <= '9')
        v = v * 10 + (unsigned)(b[(*i)++] - '0');
    *out = v;
    return 0;
}

/* Parse a binary PGM (P5) as opj_decompress writes it: 1 or 2 bytes per sample. */
static int load_pgm(const char *path, struct pgm *p)
{
    size_t len, i = 2;
    uint8_t *b = read_all(path, &len);
    if (!b || len < 2 || b[0] != 'P' || b[1] != '5') {
        free(b);
        return -1;
    }
    if (read_uint(b, len, &i, &p->w) || read_uint(b, len, &i, &p->h) ||
        read_uint(b, len, &i, &p->maxv) || i >= len) {
        free(b);
        return -1;
    }
    i++; /* the single whitespace after maxval */
    size_t bps = p->maxv > 255 ? 2 : 1, n = (size_t)p->w * p->h;
    if (len - i < n * bps) {
        free(b);
        return -1;
    }
    p->data = malloc((n ? n : 1) * sizeof(int32_t));
    for (size_t k = 0; k < n; k++)
        p->data[k] = bps == 2 ? (b[i + 2 * k] << 8 | b[i + 2 * k + 1]) : b[i + k];
    free(b);
    return 0;
}

/* Compare component c of img with a PGM file; returns 0 when equal, prints otherwise. */
static int compare_comp(const struct jpip_image *img, unsigned c, const char *pgm_path)
{
    struct pgm p = {0};
    if (load_pgm(pgm_path, &p) != 0) {
        fprintf(stderr, "cannot read %s\n", pgm_path);
        return -1;
    }
    const struct jpip_image_comp *ic = &img->comp[c];
    int rc = 0;
    if (ic->width != p.w || ic->height != p.h) {
        fprintf(stderr, "%s: size %ux%u, jpip_decode %ux%u\n", pgm_path, p.w, p.h, ic->width,
                ic->height);
        rc = -1;
    } else if (p.maxv != (1u << ic->depth) - 1) {
        fprintf(stderr, "%s: maxval %u, depth %u\n", pgm_path, p.maxv, ic->depth);
        rc = -1;
    } else {
        for (size_t k = 0; k < (size_t)p.w * p.h; k++) {
            if (p.data[k] != ic->data[k]) {
                fprintf(stderr, "%s: sample %zu: %d != %d\n", pgm_path, k, p.data[k], ic->data[k]);
                rc = -1;
                break;
            }
        }
    }
    free(p.data);
    return rc;
}

/* Decode file with both tools under the same options and compare every component. */
static int check_case(const char *file, int jp2, const char *opj_args,
                      const struct jpip_decode_options *opt, unsigned ncomps_expected)
{
    size_t len;
    uint8_t *data = read_all(file, &len);
    if (!data)
        return -1;
    struct jpip_image *img = NULL;
    char err[256];
    struct jpip_decode_options o = *opt;
    o.jp2 = jp2;
    int rc = jpip_decode(data, len, &o, &img, err, sizeof err);
    free(data);
    if (rc != JPIP_OK) {
        fprintf(stderr, "jpip_decode(%s, %s): %d %s\n", file, opj_args, rc, err);
        return -1;
    }
    if (img->components != ncomps_expected) {
        fprintf(stderr, "%u components, expected %u\n", img->components, ncomps_expected);
        jpip_image_destroy(img);
        return -1;
    }
    int fail = 0;
    if (img->components == 1) {
        const char *out = tmp_path("ref.pgm");
        if (run("opj_decompress -i %s -o %s %s", file, out, opj_args) != 0)
            fail = 1;
        else
            fail = compare_comp(img, 0, out) != 0;
    } else {
        const char *out = tmp_path("ref.ppm");
        if (run("opj_decompress -i %s -o %s -split-pnm %s", file, out, opj_args) != 0) {
            fail = 1;
        } else {
            for (unsigned c = 0; c < img->components && !fail; c++) {
                char name[64];
                snprintf(name, sizeof name, "ref_%u.pgm", c);
                fail = compare_comp(img, c, tmp_path(name)) != 0;
            }
        }
    }
    jpip_image_destroy(img);
    if (fail)
        fprintf(stderr, "mismatch for %s with '%s'\n", file, opj_args);
    return fail ? -1 : 0;
}

static const char *gray8_j2k(void)
{
    static char path[512];
    static int state; /* 0 not made, 1 made, -1 failed */
    if (state == 0) {
        write_pnm(tmp_path("g8.pgm"), 97, 61, 1, 8);
        snprintf(path, sizeof path, "%s", tmp_path("g8.j2k"));
        state = run("opj_compress -i %s -o %s -r 20,5,1 -n 4 -t 48,40 -c [32,32] -p RPCL",
                    tmp_path("g8.pgm"), path) == 0
                    ? 1
                    : -1;
    }
    return state == 1 ? path : NULL;
}

TEST(gray8_matches_opj_decompress)
{
    if (!have_tools())
        return;
    const char *f = gray8_j2k();
    ASSERT_TRUE(f != NULL);
    struct jpip_decode_options o = {0};
    ASSERT_OK(check_case(f, 0, "", &o, 1));
    o.reduce = 1;
    ASSERT_OK(check_case(f, 0, "-r 1", &o, 1));
    o.reduce = 3;
    ASSERT_OK(check_case(f, 0, "-r 3", &o, 1));
    o.reduce = 0;
    o.layers = 1;
    ASSERT_OK(check_case(f, 0, "-l 1", &o, 1));
    o.layers = 2;
    ASSERT_OK(check_case(f, 0, "-l 2", &o, 1));
    o.layers = 0;
    o.x0 = 10, o.y0 = 7, o.x1 = 70, o.y1 = 50;
    ASSERT_OK(check_case(f, 0, "-d 10,7,70,50", &o, 1));
    o.reduce = 1;
    o.layers = 1;
    ASSERT_OK(check_case(f, 0, "-d 10,7,70,50 -r 1 -l 1", &o, 1));
}

TEST(gray12_and_rgb_match_opj_decompress)
{
    if (!have_tools())
        return;
    write_pnm(tmp_path("g12.pgm"), 80, 64, 1, 12);
    ASSERT_OK(run("opj_compress -i %s -o %s -r 10,1 -SOP -EPH", tmp_path("g12.pgm"),
                  tmp_path("g12.j2k")));
    struct jpip_decode_options o = {0};
    ASSERT_OK(check_case(tmp_path("g12.j2k"), 0, "", &o, 1));
    o.layers = 1;
    o.reduce = 2;
    ASSERT_OK(check_case(tmp_path("g12.j2k"), 0, "-l 1 -r 2", &o, 1));

    write_pnm(tmp_path("rgb.ppm"), 75, 50, 3, 8);
    ASSERT_OK(run("opj_compress -i %s -o %s -r 30,8,1 -t 32,32 -p CPRL", tmp_path("rgb.ppm"),
                  tmp_path("rgb.j2k")));
    memset(&o, 0, sizeof o);
    ASSERT_OK(check_case(tmp_path("rgb.j2k"), 0, "", &o, 3));
    o.reduce = 1;
    o.x0 = 5, o.y0 = 3, o.x1 = 60, o.y1 = 41;
    ASSERT_OK(check_case(tmp_path("rgb.j2k"), 0, "-r 1 -d 5,3,60,41", &o, 3));
    /* Component subset: component 1 alone. */
    static const unsigned one[1] = {1};
    memset(&o, 0, sizeof o);
    o.ncomps = 1;
    o.comps = one;
    ASSERT_OK(check_case(tmp_path("rgb.j2k"), 0, "-c 1", &o, 1));
}

TEST(jp2_matches_opj_decompress)
{
    if (!have_tools())
        return;
    write_pnm(tmp_path("j.pgm"), 64, 48, 1, 8);
    ASSERT_OK(run("opj_compress -i %s -o %s -r 10,1", tmp_path("j.pgm"), tmp_path("j.jp2")));
    struct jpip_decode_options o = {0};
    ASSERT_OK(check_case(tmp_path("j.jp2"), 1, "", &o, 1));
    o.reduce = 1;
    o.layers = 1;
    o.threads = 2;
    ASSERT_OK(check_case(tmp_path("j.jp2"), 1, "-r 1 -l 1", &o, 1));
}

TEST(truncated_codestream_fails_with_message)
{
    if (!have_tools())
        return;
    const char *f = gray8_j2k();
    ASSERT_TRUE(f != NULL);
    size_t len;
    uint8_t *data = read_all(f, &len);
    ASSERT_TRUE(data != NULL);
    struct jpip_image *img = NULL;
    char err[256] = "x";
    /* Cut inside the main header: OpenJPEG must fail and say why. */
    int rc = jpip_decode(data, 40, NULL, &img, err, sizeof err);
    free(data);
    ASSERT_EQ_INT(rc, JPIP_ECODEC);
    ASSERT_TRUE(img == NULL);
    ASSERT_TRUE(err[0] != '\0');
}

TEST(garbage_and_bad_arguments)
{
    static const uint8_t junk[16] = {0xFF, 0x4F, 0xFF, 0x51, 0, 1, 2, 3};
    struct jpip_image *img = NULL;
    char err[128];
    ASSERT_EQ_INT(jpip_decode(junk, sizeof junk, NULL, &img, err, sizeof err), JPIP_ECODEC);
    ASSERT_TRUE(strlen(err) > 0);
    ASSERT_EQ_INT(jpip_decode(junk, sizeof junk, NULL, NULL, err, sizeof err), JPIP_EINVAL);
    struct jpip_decode_options o = {0};
    o.ncomps = 1;
    ASSERT_EQ_INT(jpip_decode(junk, sizeof junk, &o, &img, NULL, 0), JPIP_EINVAL);
    jpip_image_destroy(NULL);
}

TEST(image_equal_reports_first_difference)
{
    int32_t a_data[6] = {1, 2, 3, 4, 5, 6}, b_data[6] = {1, 2, 3, 4, 9, 6};
    struct jpip_image_comp ca = {3, 2, 0, 0, 1, 1, 8, 0, a_data};
    struct jpip_image_comp cb = {3, 2, 0, 0, 1, 1, 8, 0, b_data};
    struct jpip_image a = {0, 0, 3, 2, 1, &ca, 0}, b = {0, 0, 3, 2, 1, &cb, 0};
    char msg[200];
    ASSERT_EQ_INT(jpip_image_equal(&a, &a, msg, sizeof msg), 1);
    ASSERT_EQ_INT(jpip_image_equal(&a, &b, msg, sizeof msg), 0);
    ASSERT_STR_CONTAINS(msg, "(x=1,y=1)");
    ASSERT_STR_CONTAINS(msg, "5 != 9");
    cb.depth = 12;
    ASSERT_EQ_INT(jpip_image_equal(&a, &b, msg, sizeof msg), 0);
    ASSERT_STR_CONTAINS(msg, "depth");
    b.components = 0;
    ASSERT_EQ_INT(jpip_image_equal(&a, &b, NULL, 0), 0);
}

TEST(cleanup)
{
    if (tmpdir[0]) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        ASSERT_OK(system(cmd));
    }
}

RUN_TESTS()
