/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PGM/PPM output (netpbm formats P5 and P6) laid out like opj_decompress's, so the end-to-end
 * tests can compare jpip-get's output with OpenJPEG's decode of the original sample for sample.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_write.h"

/* Sample value for the file: signed samples move up by half the range, then clamp. */
static uint32_t pnm_value(const struct jpip_image_comp *c, int32_t v)
{
    int64_t x = v;
    if (c->is_signed)
        x += (int64_t)1 << (c->depth - 1);
    int64_t max = ((int64_t)1 << c->depth) - 1;
    return (uint32_t)(x < 0 ? 0 : x > max ? max : x);
}

static int put_sample(FILE *f, uint32_t v, int two)
{
    if (two && putc((int)(v >> 8), f) == EOF)
        return -1;
    return putc((int)(v & 0xff), f) == EOF ? -1 : 0;
}

static int check_depths(const struct jpip_image *img, char *err, size_t errlen)
{
    for (unsigned k = 0; k < img->components; k++)
        if (img->comp[k].depth == 0 || img->comp[k].depth > 16) {
            snprintf(err, errlen, "component %u has %u bits: PNM holds 1 to 16", k,
                     img->comp[k].depth);
            return -1;
        }
    return 0;
}

static int finish(FILE *f, const char *path, int bad, char *err, size_t errlen)
{
    if (ferror(f))
        bad = 1;
    if (fclose(f) != 0)
        bad = 1;
    if (bad)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return bad ? -1 : 0;
}

static int write_one(const struct jpip_image *img, unsigned k, const char *path, char *err,
                     size_t errlen)
{
    const struct jpip_image_comp *c = &img->comp[k];
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    int two = c->depth > 8, bad = 0;
    fprintf(f, "P5\n%u %u\n%u\n", c->width, c->height, (1u << c->depth) - 1);
    size_t n = (size_t)c->width * c->height;
    for (size_t i = 0; i < n && !bad; i++)
        bad = put_sample(f, pnm_value(c, c->data[i]), two) < 0;
    return finish(f, path, bad, err, errlen);
}

static int write_rgb(const struct jpip_image *img, const char *path, char *err, size_t errlen)
{
    const struct jpip_image_comp *c = img->comp;
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    int two = c->depth > 8, bad = 0;
    fprintf(f, "P6\n%u %u\n%u\n", c->width, c->height, (1u << c->depth) - 1);
    size_t n = (size_t)c->width * c->height;
    for (size_t i = 0; i < n && !bad; i++)
        for (unsigned k = 0; k < 3 && !bad; k++)
            bad = put_sample(f, pnm_value(&img->comp[k], img->comp[k].data[i]), two) < 0;
    return finish(f, path, bad, err, errlen);
}

int write_pnm(const struct jpip_image *img, const char *path, unsigned *files, char *err,
              size_t errlen)
{
    *files = 0;
    if (img->components == 0) {
        snprintf(err, errlen, "the image has no component");
        return -1;
    }
    if (check_depths(img, err, errlen) < 0)
        return -1;
    if (img->components == 1) {
        *files = 1;
        return write_one(img, 0, path, err, errlen);
    }
    const struct jpip_image_comp *c = img->comp;
    if (img->components == 3 && c[1].width == c[0].width && c[2].width == c[0].width &&
        c[1].height == c[0].height && c[2].height == c[0].height && c[1].depth == c[0].depth &&
        c[2].depth == c[0].depth) {
        *files = 1;
        return write_rgb(img, path, err, errlen);
    }
    /* One PGM per component: the name without its extension, then _k.pgm. */
    size_t len = strlen(path);
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : len;
    char *name = malloc(stem + 16);
    if (!name) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (unsigned k = 0; k < img->components && rc == 0; k++) {
        snprintf(name, stem + 16, "%.*s_%u.pgm", (int)stem, path, k);
        rc = write_one(img, k, name, err, errlen);
        if (rc == 0)
            (*files)++;
    }
    free(name);
    return rc;
}
