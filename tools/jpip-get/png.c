/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PNG output through libpng: up to four components as gray, gray+alpha, RGB or RGBA, 8 or 16
 * bits per sample. Samples are scaled to the PNG sample range with rounding (an sBIT chunk
 * keeps the original depth), signed samples first moved up by half their range. Subsampled
 * components are repeated to the size of the largest one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "image_write.h"

struct png_err {
    char *msg;
    size_t len;
};

static void on_png_error(png_structp p, png_const_charp msg)
{
    struct png_err *e = png_get_error_ptr(p);
    snprintf(e->msg, e->len, "libpng: %s", msg);
    png_longjmp(p, 1);
}

static void on_png_warning(png_structp p, png_const_charp msg)
{
    (void)p;
    (void)msg;
}

/* v scaled from [0, 2^depth - 1] to [0, outmax]. */
static uint32_t scale(const struct jpip_image_comp *c, int32_t v, uint32_t outmax)
{
    int64_t x = v;
    if (c->is_signed)
        x += (int64_t)1 << (c->depth - 1);
    int64_t max = ((int64_t)1 << c->depth) - 1;
    if (x < 0)
        x = 0;
    if (x > max)
        x = max;
    if ((uint64_t)max == outmax)
        return (uint32_t)x;
    return (uint32_t)((x * outmax + max / 2) / max);
}

/* Fill row y (of width w, height h) with channels samples per pixel. */
static void fill_row(const struct jpip_image *img, unsigned channels, uint32_t w, uint32_t h,
                     uint32_t y, int two, uint32_t outmax, uint8_t *row)
{
    size_t o = 0;
    for (uint32_t x = 0; x < w; x++) {
        for (unsigned k = 0; k < channels; k++) {
            const struct jpip_image_comp *c = &img->comp[k];
            uint32_t cx = (uint32_t)((uint64_t)x * c->width / w);
            uint32_t cy = (uint32_t)((uint64_t)y * c->height / h);
            uint32_t v = scale(c, c->data[(size_t)cy * c->width + cx], outmax);
            if (two)
                row[o++] = (uint8_t)(v >> 8);
            row[o++] = (uint8_t)v;
        }
    }
}

int write_png(const struct jpip_image *img, const char *path, char *err, size_t errlen)
{
    if (img->components == 0) {
        snprintf(err, errlen, "the image has no component");
        return -1;
    }
    unsigned channels = img->components > 4 ? 4 : img->components;
    uint32_t w = 0, h = 0;
    unsigned depth = 0;
    for (unsigned k = 0; k < channels; k++) {
        const struct jpip_image_comp *c = &img->comp[k];
        if (c->depth == 0 || c->depth > 16 || c->width == 0 || c->height == 0) {
            snprintf(err, errlen, "component %u (%u bits, %ux%u) cannot go into a PNG", k, c->depth,
                     c->width, c->height);
            return -1;
        }
        w = c->width > w ? c->width : w;
        h = c->height > h ? c->height : h;
        depth = c->depth > depth ? c->depth : depth;
    }
    int two = depth > 8;
    uint32_t outmax = two ? 65535u : 255u;
    static const int types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                PNG_COLOR_TYPE_RGB_ALPHA};
    size_t rowbytes = (size_t)w * channels * (two ? 2u : 1u);
    uint8_t *row = malloc(rowbytes);
    if (!row) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        free(row);
        return -1;
    }
    struct png_err pe = {err, errlen};
    png_structp p =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, &pe, on_png_error, on_png_warning);
    png_infop info = p ? png_create_info_struct(p) : NULL;
    if (!p || !info) {
        snprintf(err, errlen, "libpng: out of memory");
        png_destroy_write_struct(p ? &p : NULL, NULL);
        fclose(f);
        free(row);
        return -1;
    }
    if (setjmp(png_jmpbuf(p))) {
        png_destroy_write_struct(&p, &info);
        fclose(f);
        free(row);
        return -1;
    }
    png_init_io(p, f);
    png_set_IHDR(p, info, w, h, two ? 16 : 8, types[channels - 1], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (depth != 8 && depth != 16) {
        png_color_8 sig = {0};
        png_byte d0 = (png_byte)img->comp[0].depth;
        if (channels >= 3) {
            sig.red = d0;
            sig.green = (png_byte)img->comp[1].depth;
            sig.blue = (png_byte)img->comp[2].depth;
        } else {
            sig.gray = d0;
        }
        if (channels == 2 || channels == 4)
            sig.alpha = (png_byte)img->comp[channels - 1].depth;
        png_set_sBIT(p, info, &sig);
    }
    png_write_info(p, info);
    for (uint32_t y = 0; y < h; y++) {
        fill_row(img, channels, w, h, y, two, outmax, row);
        png_write_row(p, row);
    }
    png_write_end(p, info);
    png_destroy_write_struct(&p, &info);
    free(row);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
