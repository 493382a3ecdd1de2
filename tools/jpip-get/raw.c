/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Planar raw output in OpenJPEG's layout: each component in turn, row by row, each sample's low
 * depth bits (two's complement for signed samples) in one byte when depth <= 8, else in two
 * bytes: most significant first for .raw, least significant first for .rawl (the convention
 * opj_compress reads; opj_decompress 2.5 writes both in the machine's byte order).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "image_write.h"

int write_raw(const struct jpip_image *img, const char *path, int big_endian, char *err,
              size_t errlen)
{
    for (unsigned k = 0; k < img->components; k++)
        if (img->comp[k].depth == 0 || img->comp[k].depth > 16) {
            snprintf(err, errlen, "component %u has %u bits: raw output holds 1 to 16", k,
                     img->comp[k].depth);
            return -1;
        }
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    int bad = 0;
    for (unsigned k = 0; k < img->components && !bad; k++) {
        const struct jpip_image_comp *c = &img->comp[k];
        uint32_t mask = (1u << c->depth) - 1;
        size_t n = (size_t)c->width * c->height;
        for (size_t i = 0; i < n && !bad; i++) {
            uint32_t v = (uint32_t)c->data[i] & mask;
            int hi = (int)(v >> 8), lo = (int)(v & 0xff);
            if (c->depth <= 8)
                bad = putc(lo, f) == EOF;
            else if (big_endian)
                bad = putc(hi, f) == EOF || putc(lo, f) == EOF;
            else
                bad = putc(lo, f) == EOF || putc(hi, f) == EOF;
        }
    }
    if (ferror(f))
        bad = 1;
    if (fclose(f) != 0)
        bad = 1;
    if (bad)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return bad ? -1 : 0;
}
