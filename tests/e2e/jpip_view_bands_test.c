/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for tools/jpip-view/bands.c: decoding a region in bands (cut at tile rows and code-block
 * stripes, decoded by several threads, joined) must give exactly the samples of one decode of
 * the whole region. Codestreams are made with opj_compress (tiles with offsets, many tile rows,
 * no tiles, precincts, one and three components); regions, resolutions and band counts are
 * drawn at random from a fixed seed.
 */
#define _POSIX_C_SOURCE 200809L

#include "bands.h"

#include "test.h"

#include <stdarg.h>
#include <unistd.h>

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char paths[4][512];
    static unsigned next;
    char *p = paths[next++ % 4];
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/jpip_view_bands_test.XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

/* A picture with gradients and texture, as PGM (ncomp 1) or PPM (3). */
static void write_pnm(const char *path, unsigned w, unsigned h, unsigned ncomp)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fprintf(f, "P%c\n%u %u\n255\n", ncomp == 3 ? '6' : '5', w, h);
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++)
            for (unsigned c = 0; c < ncomp; c++)
                fputc((int)((x * 255 / w + y * (c + 1) + (next_rand() & 15)) & 255), f);
    fclose(f);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    rewind(f);
    uint8_t *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int have_tools(void)
{
    static int cached = -1;
    if (cached < 0) {
        cached = system("command -v opj_compress >/dev/null 2>&1") == 0;
        if (!cached)
            printf("skip: opj_compress not installed\n");
    }
    return cached;
}

struct shape {
    const char *name;
    unsigned w, h, ncomp, levels;
    uint32_t x0, y0;  /* image offset on the reference grid */
    const char *args; /* opj_compress options */
};

/* Decode random regions of one codestream in bands and whole; every pair must be equal. */
static void check_shape(const struct shape *s, unsigned views)
{
    if (!have_tools())
        return;
    const char *pnm = tmp_path(s->ncomp == 3 ? "in.ppm" : "in.pgm");
    const char *j2k = tmp_path("out.j2k");
    write_pnm(pnm, s->w, s->h, s->ncomp);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "opj_compress -i %s -o %s -n %u -d %u,%u %s >/dev/null 2>&1", pnm,
             j2k, s->levels, s->x0, s->y0, s->args);
    ASSERT_EQ_INT(system(cmd), 0);
    size_t len = 0;
    uint8_t *cs = read_file(j2k, &len);
    ASSERT_TRUE(cs != NULL);
    unsigned banded = 0;
    for (unsigned v = 0; v < views; v++) {
        struct jpip_decode_options o;
        memset(&o, 0, sizeof o);
        o.reduce = next_rand() % s->levels;
        const uint32_t w = s->w, h = s->h;
        o.x0 = s->x0 + next_rand() % (w / 2);
        o.y0 = s->y0 + next_rand() % (h / 3);
        o.x1 = o.x0 + 1 + next_rand() % (s->x0 + w - o.x0);
        o.y1 = o.y0 + (h / 3) + next_rand() % (s->y0 + h - o.y0 - h / 3);
        if (v == 0) { /* the whole image as a region */
            o.x0 = s->x0, o.y0 = s->y0, o.x1 = s->x0 + w, o.y1 = s->y0 + h;
        }
        o.threads = 1;
        struct jpip_image *whole = NULL;
        char err[256] = "";
        const int wrc = jpip_decode(cs, len, &o, &whole, err, sizeof err);
        const unsigned nbands = 2 + next_rand() % 5;
        struct vw_decoded d;
        const int brc = bands_decode(cs, len, &o, nbands, 0, &d, err, sizeof err);
        if (wrc != JPIP_OK) { /* a region OpenJPEG refuses (empty at this resolution) */
            ASSERT_TRUE(brc != JPIP_OK);
            continue;
        }
        if (brc != JPIP_OK)
            TEST_FAIL_AT("%s view %u (reduce %u, %u,%u-%u,%u, %u bands): %s\n", s->name, v,
                         o.reduce, o.x0, o.y0, o.x1, o.y1, nbands, err);
        char msg[256] = "";
        if (!jpip_image_equal(whole, d.img, msg, sizeof msg))
            TEST_FAIL_AT("%s view %u (reduce %u, %u,%u-%u,%u, %u bands): %s\n", s->name, v,
                         o.reduce, o.x0, o.y0, o.x1, o.y1, nbands, msg);
        banded += d.joined;
        jpip_image_destroy(whole);
        bands_free(&d);
    }
    printf("%s: %u views, %u decoded in bands, all equal\n", s->name, views, banded);
    ASSERT_TRUE(banded > views / 2);
    free(cs);
    unlink(pnm);
    unlink(j2k);
}

TEST(tiles_with_offsets)
{
    const struct shape s = {"tiles 64x48 offset",       301, 277, 3, 4, 13, 9,
                            "-t 64,48 -T 5,7 -r 20,5,1"};
    check_shape(&s, 80);
}

TEST(many_tile_rows)
{
    /* More tile rows in a region than bands can hold: the last band takes several. */
    const struct shape s = {"tiles 40x8", 200, 400, 1, 3, 0, 0, "-t 40,8 -r 10,1"};
    check_shape(&s, 50);
}

TEST(no_tiles)
{
    const struct shape s = {"untiled", 260, 530, 3, 5, 3, 1, "-r 30,8,1 -c [64,64],[32,32]"};
    check_shape(&s, 50);
}

TEST(tall_tiles_precincts)
{
    /* Tile rows taller than a band's share: split again at code-block stripes. */
    const struct shape s = {"tiles 96x300 PCRL",
                            250,
                            640,
                            1,
                            4,
                            2,
                            6,
                            "-t 96,300 -p PCRL -c [32,32],[16,16] -b 16,16 -r 8,1"};
    check_shape(&s, 50);
}

__attribute__((destructor)) static void cleanup(void)
{
    if (tmpdir[0])
        rmdir(tmpdir);
}

RUN_TESTS()
