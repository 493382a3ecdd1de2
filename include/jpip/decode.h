/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Decoding a codestream held in memory with OpenJPEG, at a chosen resolution (reduce), region
 * (on the full-resolution reference grid), component subset and number of quality layers.
 * This is the adapter the client uses after rebuilding a codestream, and the oracle the tests
 * compare against. openjpeg.h never leaks through this header.
 */
#ifndef JPIP_DECODE_H
#define JPIP_DECODE_H

#include <jpip/jpip.h>

#ifdef __cplusplus
extern "C" {
#endif

struct jpip_image_comp {
    uint32_t width, height; /* samples */
    uint32_t x0, y0;        /* first sample on the component's grid at the decoded resolution */
    uint32_t dx, dy;        /* subsampling */
    uint8_t depth, is_signed;
    int32_t *data; /* width * height samples, row-major */
};

struct jpip_image {
    uint32_t x0, y0, x1, y1; /* decoded area on the reference grid at the decoded resolution */
    uint16_t components;
    struct jpip_image_comp *comp;
    int color_space; /* OpenJPEG's OPJ_CLRSPC_* value, informational */
};

struct jpip_decode_options {
    unsigned reduce;         /* discard this many resolution levels */
    unsigned layers;         /* 0 = all */
    uint32_t x0, y0, x1, y1; /* region on the full-resolution grid; all 0 = whole image */
    unsigned ncomps;         /* 0 = all components */
    const unsigned *comps;   /* borrowed: ncomps indices */
    unsigned threads;        /* 0 or 1 = single-threaded */
    int jp2;                 /* input is a JP2 file rather than a raw codestream */
};

/* Decode data[0..len). On success *out is a new image (free with jpip_image_destroy).
 * On failure returns JPIP_ECODEC (or JPIP_ENOMEM/JPIP_EINVAL) and writes OpenJPEG's last error
 * message into errbuf (errlen bytes, may be 0). */
JPIP_API int jpip_decode(const uint8_t *data, size_t len, const struct jpip_decode_options *opt,
                         struct jpip_image **out, char *errbuf, size_t errlen);
JPIP_API void jpip_image_destroy(struct jpip_image *img);

/* Compare two images sample by sample: returns 1 when the dimensions, component count and
 * every sample are equal, 0 otherwise; msg (may be NULL) describes the first difference. */
JPIP_API int jpip_image_equal(const struct jpip_image *a, const struct jpip_image *b, char *msg,
                              size_t msglen);

struct jpip_client;
/* Decode a client's current view from its cache (include/jpip/client.h): the rebuilt
 * codestream at the view's discard levels, region and layers; comps/ncomps select components
 * (0 = all), threads as above. JPIP_AGAIN when the main header has not arrived. */
JPIP_API int jpip_client_decode(struct jpip_client *c, const unsigned *comps, unsigned ncomps,
                                unsigned threads, struct jpip_image **out, char *errbuf,
                                size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
