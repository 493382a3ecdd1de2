/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jpip-get's image writers: PNG (png.c, libpng), PGM/PPM (pnm.c) and planar raw (raw.c). Each
 * takes a decoded jpip_image and a file name, and on failure returns -1 with a message in err.
 */
#ifndef JPIP_GET_IMAGE_WRITE_H
#define JPIP_GET_IMAGE_WRITE_H

#include <stddef.h>

#include <jpip/decode.h>

/* PNG: gray, gray+alpha, RGB or RGBA from the first 1-4 components; 8 bits per sample when
 * every component has at most 8, else 16 (samples scaled to the full range, sBIT records the
 * original depth). Components smaller than the first (subsampled) are repeated to fill it. */
int write_png(const struct jpip_image *img, const char *path, char *err, size_t errlen);

/* PNM as OpenJPEG's opj_decompress writes it: one component -> P5 into path; three alike
 * (same size and depth) -> P6 into path; anything else -> one P5 per component, named path
 * without its extension + "_<k>.pgm". maxval 2^depth - 1; two bytes per sample, big-endian,
 * when depth > 8; signed samples offset by 2^(depth-1). *files gets how many were written. */
int write_pnm(const struct jpip_image *img, const char *path, unsigned *files, char *err,
              size_t errlen);

/* Raw in OpenJPEG's layout: components one after another, rows top to bottom, each sample's
 * low depth bits in one byte (depth <= 8) or two bytes, big-endian (.raw) or little-endian
 * (.rawl, big_endian = 0). No header. */
int write_raw(const struct jpip_image *img, const char *path, int big_endian, char *err,
              size_t errlen);

#endif
