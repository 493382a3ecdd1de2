/* SPDX-License-Identifier: BSD-2-Clause */
/* Screenshots of the viewer (shot.c). */
#ifndef JPIP_VIEW_SHOT_H
#define JPIP_VIEW_SHOT_H

#include <stdint.h>

/* Write w x h RGB pixels (rows of 3 * w bytes) to path: PNG when it ends in ".png", else
 * binary PPM. Returns 0, or -1 (errno tells why for a file error). */
int shot_write(const char *path, const uint8_t *rgb, int w, int h);

#endif
