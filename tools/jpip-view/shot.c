/* SPDX-License-Identifier: BSD-2-Clause */
/* Writing the window's pixels (8-bit RGB rows) as binary PPM or, for a name ending in .png,
 * as PNG (libpng). */
#include "shot.h"

#include <png.h>
#include <stdio.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix)
{
    const size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int write_png(FILE *f, const uint8_t *rgb, int w, int h)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, rgb + (size_t)y * (size_t)w * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int shot_write(const char *path, const uint8_t *rgb, int w, int h)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int rc;
    if (ends_with(path, ".png")) {
        rc = write_png(f, rgb, w, h);
    } else {
        rc = fprintf(f, "P6\n%d %d\n255\n", w, h) < 0 ? -1 : 0;
        if (rc == 0 && fwrite(rgb, 3, (size_t)w * (size_t)h, f) != (size_t)w * (size_t)h)
            rc = -1;
    }
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}
