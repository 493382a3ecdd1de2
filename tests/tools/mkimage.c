/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mkimage: writes deterministic test images (gradients, edges and pseudo-random noise) as
 * PGM, PPM, PAM or planar raw, for the test corpus generator. Any depth from 1 to 16 bits,
 * 1 to 16 components, signed or unsigned (raw only), per-component subsampling (raw only).
 *
 *   mkimage -w W -h H [-c N] [-b BITS] [-s] [-S DXxDY:DXxDY:...] [-seed N] OUT
 *
 * The format follows OUT's extension: .pgm (1 component), .ppm (3), .pam (any), .raw (any;
 * samples of more than 8 bits are two bytes, big-endian; components are stored one after the
 * other, each ceil(W/dx) x ceil(H/dy) samples, as opj_compress -F reads them).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COMPS 16

struct spec {
    unsigned width, height, comps, bits;
    int is_signed;
    unsigned dx[MAX_COMPS], dy[MAX_COMPS];
    uint32_t seed;
};

static uint32_t rng_state;

/* xorshift32: a fixed sequence for a given seed, so the corpus is reproducible. */
static uint32_t rng_next(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

/* Sample value of component c at (x, y) of its own grid, in [0, 2^bits). A mix of a diagonal
 * gradient, a few hard-edged rectangles (so every subband carries energy) and noise. */
static uint32_t sample(const struct spec *s, unsigned c, unsigned x, unsigned y, unsigned w,
                       unsigned h)
{
    const uint64_t maxv = ((uint64_t)1 << s->bits) - 1;
    uint64_t gx = (uint64_t)x * maxv / (w > 1 ? w - 1 : 1);
    uint64_t gy = (uint64_t)y * maxv / (h > 1 ? h - 1 : 1);
    int64_t v;
    switch (c % 3) {
    case 0: v = (int64_t)((gx + gy) / 2); break;
    case 1: v = (int64_t)((gx + (maxv - gy)) / 2); break;
    default: v = (int64_t)(maxv - (gx * 3 + gy) / 4); break;
    }
    /* Rectangles at positions that depend on the component. */
    unsigned rx = (w / 5) * (1 + c % 3), ry = (h / 4) * (1 + c % 2);
    if (x >= rx && x < rx + w / 4 + 1 && y >= ry && y < ry + h / 5 + 1)
        v = (int64_t)(maxv - (uint64_t)v);
    /* A one-sample checker stripe adds high-frequency content. */
    if (y % 16 == 3 && ((x / 2) % 2) == 0)
        v = (int64_t)(maxv * 7 / 8);
    /* Noise of amplitude about maxv/32. */
    int64_t amp = (int64_t)(maxv / 32) + 1;
    v += (int64_t)(rng_next() % (uint32_t)(2 * amp + 1)) - amp;
    if (v < 0)
        v = 0;
    if (v > (int64_t)maxv)
        v = (int64_t)maxv;
    return (uint32_t)v;
}

static void put_sample(FILE *f, uint32_t v, unsigned bits)
{
    if (bits > 8) {
        fputc((int)((v >> 8) & 0xFF), f);
        fputc((int)(v & 0xFF), f);
    } else {
        fputc((int)(v & 0xFF), f);
    }
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: mkimage -w W -h H [-c N] [-b BITS] [-s] [-S DXxDY:...] "
                    "[-seed N] OUT.{pgm,ppm,pam,raw}\n");
    return 2;
}

static int parse_subsampling(struct spec *s, const char *arg)
{
    unsigned c = 0;
    const char *p = arg;
    while (*p && c < MAX_COMPS) {
        char *end;
        unsigned long dx = strtoul(p, &end, 10);
        if (end == p || (*end != 'x' && *end != 'X'))
            return -1;
        p = end + 1;
        unsigned long dy = strtoul(p, &end, 10);
        if (end == p || dx == 0 || dy == 0 || dx > 255 || dy > 255)
            return -1;
        s->dx[c] = (unsigned)dx;
        s->dy[c] = (unsigned)dy;
        c++;
        p = end;
        if (*p == ':')
            p++;
    }
    return *p ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct spec s;
    const char *out = NULL;
    memset(&s, 0, sizeof s);
    s.comps = 1;
    s.bits = 8;
    s.seed = 12345;
    for (unsigned c = 0; c < MAX_COMPS; c++)
        s.dx[c] = s.dy[c] = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-s") == 0) {
            s.is_signed = 1;
        } else if (i + 1 < argc && strcmp(a, "-w") == 0) {
            s.width = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(a, "-h") == 0) {
            s.height = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(a, "-c") == 0) {
            s.comps = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(a, "-b") == 0) {
            s.bits = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(a, "-seed") == 0) {
            s.seed = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(a, "-S") == 0) {
            if (parse_subsampling(&s, argv[++i]) != 0)
                return usage();
        } else if (a[0] != '-' && !out) {
            out = a;
        } else {
            return usage();
        }
    }
    if (!out || s.width == 0 || s.height == 0 || s.comps == 0 || s.comps > MAX_COMPS ||
        s.bits == 0 || s.bits > 16 || s.width > 65535 || s.height > 65535)
        return usage();
    rng_state = s.seed ? s.seed : 1;

    int raw = ends_with(out, ".raw");
    int pam = ends_with(out, ".pam");
    if (!raw) {
        for (unsigned c = 0; c < s.comps; c++) {
            if (s.dx[c] != 1 || s.dy[c] != 1) {
                fprintf(stderr, "mkimage: subsampling needs .raw output\n");
                return 2;
            }
        }
        if (s.is_signed) {
            fprintf(stderr, "mkimage: signed samples need .raw output\n");
            return 2;
        }
        if (ends_with(out, ".pgm") && s.comps != 1) {
            fprintf(stderr, "mkimage: .pgm holds 1 component\n");
            return 2;
        }
        if (ends_with(out, ".ppm") && s.comps != 3) {
            fprintf(stderr, "mkimage: .ppm holds 3 components\n");
            return 2;
        }
        if (!pam && !ends_with(out, ".pgm") && !ends_with(out, ".ppm")) {
            fprintf(stderr, "mkimage: unknown output extension: %s\n", out);
            return 2;
        }
    }

    FILE *f = fopen(out, "wb");
    if (!f) {
        perror(out);
        return 1;
    }
    const unsigned maxv = (1u << s.bits) - 1;
    if (raw) {
        for (unsigned c = 0; c < s.comps; c++) {
            unsigned w = (s.width + s.dx[c] - 1) / s.dx[c];
            unsigned h = (s.height + s.dy[c] - 1) / s.dy[c];
            for (unsigned y = 0; y < h; y++) {
                for (unsigned x = 0; x < w; x++) {
                    uint32_t v = sample(&s, c, x, y, w, h);
                    if (s.is_signed)
                        v = (uint32_t)((int32_t)v - (int32_t)(1u << (s.bits - 1)));
                    put_sample(f, v & ((s.bits > 8) ? 0xFFFFu : 0xFFu), s.bits);
                }
            }
        }
    } else {
        if (pam) {
            const char *tuple = s.comps == 1   ? "GRAYSCALE"
                                : s.comps == 2 ? "GRAYSCALE_ALPHA"
                                : s.comps == 3 ? "RGB"
                                               : "RGB_ALPHA";
            fprintf(f, "P7\nWIDTH %u\nHEIGHT %u\nDEPTH %u\nMAXVAL %u\nTUPLTYPE %s\nENDHDR\n",
                    s.width, s.height, s.comps, maxv, tuple);
        } else {
            fprintf(f, "%s\n%u %u\n%u\n", s.comps == 1 ? "P5" : "P6", s.width, s.height, maxv);
        }
        /* Interleaved: the noise sequence then differs from the raw layout, which is fine. */
        for (unsigned y = 0; y < s.height; y++)
            for (unsigned x = 0; x < s.width; x++)
                for (unsigned c = 0; c < s.comps; c++)
                    put_sample(f, sample(&s, c, x, y, s.width, s.height), s.bits);
    }
    if (fclose(f) != 0) {
        perror(out);
        return 1;
    }
    return 0;
}
