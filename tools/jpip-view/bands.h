/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Decoding a view in horizontal bands at once (bands.c): OpenJPEG's own threads share out the
 * code-blocks of one tile at a time, which leaves cores idle on small tiles and on the serial
 * steps; single-threaded decoders on bands keep them all busy. Bands are cut at the tile rows
 * first (tiles decode independently, so nothing is decoded twice), then at 64-row code-block
 * stripes until every thread has work; the threads take bands from a queue, tallest first. Each
 * band is a region decode whose edges fall on rows of the decoded resolution, so the joined
 * image holds exactly the samples a single decode of the whole region gives.
 */
#ifndef JPIP_VIEW_BANDS_H
#define JPIP_VIEW_BANDS_H

#include <stddef.h>
#include <stdint.h>

#include <jpip/decode.h>

struct vw_decoded {
    struct jpip_image *img;
    int joined; /* img was put together here (free with bands_free), not by jpip_decode */
};

/* Decode o's region (never the whole image: o must name a region) of cs in bands on up to
 * nbands threads; one band, or components with vertical subsampling (sub != 0), decode in one
 * piece with o->threads. Returns JPIP_OK or jpip_decode's error (message in err). */
int bands_decode(const uint8_t *cs, size_t len, const struct jpip_decode_options *o,
                 unsigned nbands, int sub, struct vw_decoded *out, char *err, size_t errlen);
void bands_free(struct vw_decoded *d);

#endif
