/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The reference for jpip-view's screenshots (tests/e2e/jpip_view_test.sh). For a screenshot
 * SHOT (PPM) and its SHOT.view facts (the view's scale and origin, the discard level, the
 * component mode, layers and window/level the picture was rendered with), decode the original
 * file with OpenJPEG at that discard level and those layers (the whole image: no region), render
 * it to the screen pixels with the viewer's own resampling (tools/jpip-view/view_math.c), and
 * print the PSNR of the screenshot's image area against it. Exit 0 when the view was complete
 * and the PSNR reaches the threshold, 1 otherwise, 2 on usage or I/O errors.
 *
 * Also makes the test's pictures: --make rgb W H (a binary PPM with detail at every scale) or
 * --make grey16 W H (a 16-bit PGM, 12 bits used), on stdout.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpip/decode.h>
#include <jpip/index.h>

#include "view_math.h"

static int make(const char *kind, unsigned w, unsigned h)
{
    const int grey = strcmp(kind, "grey16") == 0;
    if (!grey && strcmp(kind, "rgb") != 0)
        return 2;
    printf(grey ? "P5\n%u %u\n65535\n" : "P6\n%u %u\n255\n", w, h);
    unsigned char *row = malloc((size_t)w * 6);
    if (!row)
        return 2;
    for (unsigned y = 0; y < h; y++) {
        for (unsigned x = 0; x < w; x++) {
            const double u = (double)x / w, v = (double)y / h;
            const double ring = sin(hypot(x - w * 0.4, y - h * 0.6) * 0.15);
            const int grid = x % 128 < 2 || y % 128 < 2, check = ((x >> 3) ^ (y >> 3)) & 1;
            if (grey) {
                double s = 2048 + 1200 * sin(u * 9) * cos(v * 7) + 300 * ring;
                if (grid)
                    s = 4000;
                else if (x % 256 < 40 && y % 256 < 40)
                    s = check ? 3500 : 500;
                const unsigned q = (unsigned)s;
                row[2 * x] = (unsigned char)(q >> 8);
                row[2 * x + 1] = (unsigned char)(q & 255);
            } else {
                double r = 128 + 90 * sin(6 * u + 2 * sin(5 * v)) + 30 * ring;
                double g = 128 + 90 * sin(7 * v + 3 * u),
                       b = 128 + 90 * cos(5 * (u + v)) - 30 * ring;
                if (grid) {
                    r = g = b = 250;
                } else if (x % 256 < 40 && y % 256 < 40) {
                    r = g = b = check ? 230 : 20;
                }
                row[3 * x] = (unsigned char)(r < 0 ? 0 : r > 255 ? 255 : r);
                row[3 * x + 1] = (unsigned char)(g < 0 ? 0 : g > 255 ? 255 : g);
                row[3 * x + 2] = (unsigned char)(b < 0 ? 0 : b > 255 ? 255 : b);
            }
        }
        fwrite(row, grey ? 2 : 3, w, stdout);
    }
    free(row);
    return fflush(stdout) == 0 ? 0 : 2;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    uint8_t *b = malloc(cap);
    size_t got;
    while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

struct facts {
    int complete;
    struct vw_view v;
    unsigned discard, layers;
    struct vw_image im;
    struct vw_mode mode;
    struct vw_levels lv[3];
    struct vw_rect r;
};

static int read_facts(const char *path, struct facts *f)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return -1;
    memset(f, 0, sizeof *f);
    char line[512];
    int seen = 0;
    while (fgets(line, sizeof line, in)) {
        int colour = 0;
        if (sscanf(line, "complete %d", &f->complete) == 1 ||
            sscanf(line, "scale %lf", &f->v.s) == 1 ||
            sscanf(line, "origin %lf %lf", &f->v.vx, &f->v.vy) == 2 ||
            sscanf(line, "viewport %d %d", &f->v.w, &f->v.h) == 2 ||
            sscanf(line, "discard %u", &f->discard) == 1 ||
            sscanf(line, "layers %u", &f->layers) == 1 ||
            sscanf(line, "image %u %u %u %u", &f->im.x0, &f->im.y0, &f->im.x1, &f->im.y1) == 4 ||
            sscanf(line, "levels %lf %lf %lf %lf %lf %lf", &f->lv[0].lo, &f->lv[0].hi, &f->lv[1].lo,
                   &f->lv[1].hi, &f->lv[2].lo, &f->lv[2].hi) == 6 ||
            sscanf(line, "rect %d %d %d %d", &f->r.x0, &f->r.y0, &f->r.x1, &f->r.y1) == 4)
            seen++;
        else if (sscanf(line, "mode %d %u", &colour, &f->mode.comp) == 2) {
            f->mode.colour = colour;
            seen++;
        }
    }
    fclose(in);
    return seen == 10 ? 0 : -1;
}

/* A binary PPM: its size and a pointer to the pixels inside buf. */
static const uint8_t *ppm_pixels(const uint8_t *buf, size_t len, int *w, int *h)
{
    int maxval, off = 0;
    if (len < 16 || sscanf((const char *)buf, "P6 %d %d %d%n", w, h, &maxval, &off) != 3 ||
        maxval != 255 || (size_t)off + 1 + (size_t)*w * (size_t)*h * 3 > len)
        return NULL;
    return buf + off + 1;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--make") == 0)
        return make(argv[2], (unsigned)strtoul(argv[3], NULL, 10),
                    (unsigned)strtoul(argv[4], NULL, 10));
    if (argc < 3) {
        fprintf(stderr, "usage: jpip_view_compare ORIGINAL SHOT.ppm [MIN_PSNR]\n"
                        "       jpip_view_compare --make rgb|grey16 W H > picture\n");
        return 2;
    }
    const double min_psnr = argc > 3 ? strtod(argv[3], NULL) : 40.0;
    char vpath[4096];
    snprintf(vpath, sizeof vpath, "%s.view", argv[2]);
    struct facts f;
    if (read_facts(vpath, &f) != 0) {
        fprintf(stderr, "jpip_view_compare: cannot read %s\n", vpath);
        return 2;
    }
    if (!f.complete) {
        printf("%s: the view was not complete\n", argv[2]);
        return 1;
    }
    /* The facts the viewer read from the main header, here from the original file. */
    struct jpip_source src;
    struct jpip_target *t = NULL;
    struct jpip_codestream_info ci;
    if (jpip_file_source_open(&src, argv[1]) != JPIP_OK) {
        fprintf(stderr, "jpip_view_compare: cannot open %s\n", argv[1]);
        return 2;
    }
    if (jpip_target_open(&t, &src, NULL, NULL) != JPIP_OK ||
        jpip_target_codestream_info(t, 0, &ci) != JPIP_OK) {
        fprintf(stderr, "jpip_view_compare: %s: %s\n", argv[1], t ? jpip_target_errmsg(t) : "");
        return 2;
    }
    f.im.levels = ci.levels;
    f.im.layers = ci.layers;
    f.im.ncomps = ci.components;
    f.im.mct = ci.mct && ci.components >= 3;
    const int jp2 = jpip_target_kind(t) != JPIP_KIND_J2K;
    jpip_target_destroy(t);
    jpip_file_source_close(&src);

    size_t flen = 0, slen = 0;
    uint8_t *file = read_file(argv[1], &flen), *shot = read_file(argv[2], &slen);
    int sw = 0, sh = 0;
    const uint8_t *px = shot ? ppm_pixels(shot, slen, &sw, &sh) : NULL;
    if (!file || !px || f.r.x1 > sw || f.r.y1 > sh || f.r.x0 >= f.r.x1 || f.r.y0 >= f.r.y1) {
        fprintf(stderr, "jpip_view_compare: cannot read %s or %s, or the rect is wrong\n", argv[1],
                argv[2]);
        return 2;
    }
    unsigned comps[3], map[3];
    struct jpip_decode_options o;
    memset(&o, 0, sizeof o);
    o.reduce = f.discard;
    o.layers = f.layers;
    o.ncomps = vw_decode_comps(&f.im, &f.mode, comps, map);
    o.comps = comps;
    o.jp2 = jp2;
    struct jpip_image *img = NULL;
    char err[256] = "";
    if (jpip_decode(file, flen, &o, &img, err, sizeof err) != JPIP_OK) {
        fprintf(stderr, "jpip_view_compare: OpenJPEG: %s\n", err);
        return 2;
    }
    const int w = f.r.x1 - f.r.x0, h = f.r.y1 - f.r.y0;
    uint8_t *ref = malloc((size_t)w * (size_t)h * 4);
    if (!ref)
        return 2;
    vw_render(img, f.discard, &f.v, f.r, f.mode.colour, map, f.lv, ref);
    double se = 0;
    unsigned maxd = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++) {
                const int a = ref[((size_t)y * w + x) * 4 + k];
                const int b = px[((size_t)(y + f.r.y0) * sw + x + f.r.x0) * 3 + k];
                se += (double)(a - b) * (a - b);
                maxd = (unsigned)abs(a - b) > maxd ? (unsigned)abs(a - b) : maxd;
            }
    const double mse = se / ((double)w * h * 3);
    const double psnr = mse > 0 ? 10 * log10(255.0 * 255.0 / mse) : INFINITY;
    printf("%s: %dx%d pixels at 1/%u, PSNR %.2f dB (max difference %u), threshold %.1f dB\n",
           argv[2], w, h, 1u << f.discard, psnr, maxd, min_psnr);
    free(ref);
    jpip_image_destroy(img);
    free(file);
    free(shot);
    return psnr >= min_psnr ? 0 : 1;
}
