/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The OpenJPEG adapter: decodes a codestream (or JP2 file) held in memory into a jpip_image,
 * honouring reduce, layers, region and component subset, and compares two images. This is the
 * only file of the tree that includes openjpeg.h; it never prints, and OpenJPEG's messages are
 * captured into the caller's error buffer.
 */
#include <jpip/decode.h>

#include "common/alloc.h"

#include <openjpeg.h>
#include <stdio.h>
#include <string.h>

/* The bytes OpenJPEG reads through its stream callbacks. pos may move past len (as a file
 * position may move past the end of a file); reads there report end of stream. */
struct mem_stream {
    const uint8_t *data;
    size_t len;
    uint64_t pos;
};

/* OpenJPEG's messages, kept rather than printed: the last error and the last warning. */
struct messages {
    char error[256];
    char warning[256];
};

static OPJ_SIZE_T mem_read(void *buffer, OPJ_SIZE_T nbytes, void *user)
{
    struct mem_stream *m = user;
    if (m->pos >= m->len)
        return (OPJ_SIZE_T)-1;
    size_t avail = m->len - (size_t)m->pos;
    size_t n = nbytes < avail ? nbytes : avail;
    memcpy(buffer, m->data + m->pos, n);
    m->pos += n;
    return n;
}

static OPJ_OFF_T mem_skip(OPJ_OFF_T nbytes, void *user)
{
    struct mem_stream *m = user;
    if (nbytes < 0) {
        if ((uint64_t)(-nbytes) > m->pos)
            return (OPJ_OFF_T)-1;
        m->pos -= (uint64_t)(-nbytes);
        return nbytes;
    }
    if ((uint64_t)nbytes > UINT64_MAX - m->pos)
        return (OPJ_OFF_T)-1;
    m->pos += (uint64_t)nbytes;
    return nbytes;
}

static OPJ_BOOL mem_seek(OPJ_OFF_T off, void *user)
{
    struct mem_stream *m = user;
    if (off < 0 || (uint64_t)off > m->len)
        return OPJ_FALSE;
    m->pos = (uint64_t)off;
    return OPJ_TRUE;
}

/* Copy msg into dst without its trailing newline(s). */
static void keep_message(char *dst, size_t dstlen, const char *msg)
{
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        n--;
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, msg, n);
    dst[n] = '\0';
}

static void on_error(const char *msg, void *user)
{
    struct messages *m = user;
    keep_message(m->error, sizeof m->error, msg);
}

static void on_warning(const char *msg, void *user)
{
    struct messages *m = user;
    keep_message(m->warning, sizeof m->warning, msg);
}

static void on_info(const char *msg, void *user)
{
    (void)msg;
    (void)user;
}

static void report(char *errbuf, size_t errlen, const struct messages *m, const char *step)
{
    if (!errbuf || errlen == 0)
        return;
    if (m->error[0])
        snprintf(errbuf, errlen, "%s: %s", step, m->error);
    else if (m->warning[0])
        snprintf(errbuf, errlen, "%s failed (last warning: %s)", step, m->warning);
    else
        snprintf(errbuf, errlen, "%s failed", step);
}

static uint32_t ceil_div_pow2(uint32_t v, unsigned e)
{
    if (e >= 32)
        return v ? 1 : 0;
    return (uint32_t)(((uint64_t)v + ((uint64_t)1 << e) - 1) >> e);
}

void jpip_image_destroy(struct jpip_image *img)
{
    if (!img)
        return;
    if (img->comp) {
        for (unsigned c = 0; c < img->components; c++)
            jpip__free(NULL, img->comp[c].data);
        jpip__free(NULL, img->comp);
    }
    jpip__free(NULL, img);
}

/* Copy OpenJPEG's decoded image into a new jpip_image. */
static int copy_image(const opj_image_t *src, unsigned reduce, struct jpip_image **out,
                      char *errbuf, size_t errlen)
{
    if (src->numcomps == 0 || src->numcomps > UINT16_MAX) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "decoded image has %u components", src->numcomps);
        return JPIP_ECODEC;
    }
    struct jpip_image *img = jpip__calloc(NULL, 1, sizeof *img);
    if (!img)
        return JPIP_ENOMEM;
    img->comp = jpip__calloc(NULL, src->numcomps, sizeof *img->comp);
    if (!img->comp) {
        jpip__free(NULL, img);
        return JPIP_ENOMEM;
    }
    img->components = (uint16_t)src->numcomps;
    img->x0 = ceil_div_pow2(src->x0, reduce);
    img->y0 = ceil_div_pow2(src->y0, reduce);
    img->x1 = ceil_div_pow2(src->x1, reduce);
    img->y1 = ceil_div_pow2(src->y1, reduce);
    img->color_space = (int)src->color_space;
    for (unsigned c = 0; c < src->numcomps; c++) {
        const opj_image_comp_t *sc = &src->comps[c];
        struct jpip_image_comp *dc = &img->comp[c];
        if (!sc->data && (uint64_t)sc->w * sc->h != 0) {
            if (errbuf && errlen)
                snprintf(errbuf, errlen, "component %u was not decoded", c);
            jpip_image_destroy(img);
            return JPIP_ECODEC;
        }
        dc->width = sc->w;
        dc->height = sc->h;
        /* OpenJPEG gives the full-resolution position; ours is at the decoded resolution
         * (like img->x0), so a codestream rebuilt without the discarded levels
         * (jpip_client_codestream) decodes to an image equal in every field. */
        dc->x0 = ceil_div_pow2(sc->x0, reduce);
        dc->y0 = ceil_div_pow2(sc->y0, reduce);
        dc->dx = sc->dx;
        dc->dy = sc->dy;
        dc->depth = (uint8_t)sc->prec;
        dc->is_signed = (uint8_t)(sc->sgnd ? 1 : 0);
        if ((uint64_t)sc->w * sc->h > SIZE_MAX / sizeof(int32_t)) {
            jpip_image_destroy(img);
            return JPIP_ENOMEM;
        }
        size_t n = (size_t)sc->w * sc->h;
        dc->data = jpip__calloc(NULL, n ? n : 1, sizeof(int32_t));
        if (!dc->data) {
            jpip_image_destroy(img);
            return JPIP_ENOMEM;
        }
        if (n)
            memcpy(dc->data, sc->data, n * sizeof(int32_t));
    }
    *out = img;
    return JPIP_OK;
}

int jpip_decode(const uint8_t *data, size_t len, const struct jpip_decode_options *opt,
                struct jpip_image **out, char *errbuf, size_t errlen)
{
    static const struct jpip_decode_options defaults;
    struct mem_stream ms = {data, len, 0};
    struct messages msgs;
    opj_dparameters_t params;
    opj_codec_t *codec = NULL;
    opj_stream_t *stream = NULL;
    opj_image_t *image = NULL;
    int rc = JPIP_ECODEC;

    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (!out || (!data && len))
        return JPIP_EINVAL;
    *out = NULL;
    if (!opt)
        opt = &defaults;
    if (opt->ncomps && !opt->comps)
        return JPIP_EINVAL;
    memset(&msgs, 0, sizeof msgs);

    codec = opj_create_decompress(opt->jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
    if (!codec)
        return JPIP_ENOMEM;
    opj_set_error_handler(codec, on_error, &msgs);
    opj_set_warning_handler(codec, on_warning, &msgs);
    opj_set_info_handler(codec, on_info, &msgs);

    opj_set_default_decoder_parameters(&params);
    params.cp_reduce = opt->reduce;
    params.cp_layer = opt->layers;
    if (!opj_setup_decoder(codec, &params)) {
        report(errbuf, errlen, &msgs, "opj_setup_decoder");
        goto fail;
    }
    /* Thread support is optional in OpenJPEG builds; decoding single-threaded is always fine.
     * One thread means no pool: OpenJPEG would start one worker and hand it every code-block,
     * which costs about a quarter more CPU (futex hand-offs) than decoding in place. */
    if (opt->threads > 1)
        (void)opj_codec_set_threads(codec, (int)opt->threads);

    stream = opj_stream_create(
        len < OPJ_J2K_STREAM_CHUNK_SIZE ? (len ? len : 1) : OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
    if (!stream) {
        rc = JPIP_ENOMEM;
        goto fail;
    }
    opj_stream_set_user_data(stream, &ms, NULL);
    opj_stream_set_user_data_length(stream, (OPJ_UINT64)len);
    opj_stream_set_read_function(stream, mem_read);
    opj_stream_set_skip_function(stream, mem_skip);
    opj_stream_set_seek_function(stream, mem_seek);

    if (!opj_read_header(stream, codec, &image)) {
        report(errbuf, errlen, &msgs, "opj_read_header");
        goto fail;
    }
    if (opt->ncomps) {
        if (!opj_set_decoded_components(codec, opt->ncomps, opt->comps, OPJ_FALSE)) {
            report(errbuf, errlen, &msgs, "opj_set_decoded_components");
            rc = JPIP_EINVAL;
            goto fail;
        }
    }
    if (opt->x0 || opt->y0 || opt->x1 || opt->y1) {
        if (opt->x1 > INT32_MAX || opt->y1 > INT32_MAX ||
            !opj_set_decode_area(codec, image, (OPJ_INT32)opt->x0, (OPJ_INT32)opt->y0,
                                 (OPJ_INT32)opt->x1, (OPJ_INT32)opt->y1)) {
            report(errbuf, errlen, &msgs, "opj_set_decode_area");
            rc = JPIP_EINVAL;
            goto fail;
        }
    }
    if (!opj_decode(codec, stream, image)) {
        report(errbuf, errlen, &msgs, "opj_decode");
        goto fail;
    }
    if (!opj_end_decompress(codec, stream)) {
        report(errbuf, errlen, &msgs, "opj_end_decompress");
        goto fail;
    }
    rc = copy_image(image, opt->reduce, out, errbuf, errlen);

fail:
    if (image)
        opj_image_destroy(image);
    if (stream)
        opj_stream_destroy(stream);
    opj_destroy_codec(codec);
    return rc;
}

#define DIFF(field, what)                                                                          \
    do {                                                                                           \
        if (ca->field != cb->field) {                                                              \
            if (msg && msglen)                                                                     \
                snprintf(msg, msglen, "component %u: %s %lld != %lld", c, what,                    \
                         (long long)ca->field, (long long)cb->field);                              \
            return 0;                                                                              \
        }                                                                                          \
    } while (0)

int jpip_image_equal(const struct jpip_image *a, const struct jpip_image *b, char *msg,
                     size_t msglen)
{
    if (msg && msglen)
        msg[0] = '\0';
    if (!a || !b) {
        if (msg && msglen)
            snprintf(msg, msglen, "missing image");
        return a == b;
    }
    if (a->components != b->components) {
        if (msg && msglen)
            snprintf(msg, msglen, "component count %u != %u", a->components, b->components);
        return 0;
    }
    if (a->x0 != b->x0 || a->y0 != b->y0 || a->x1 != b->x1 || a->y1 != b->y1) {
        if (msg && msglen)
            snprintf(msg, msglen, "area (%u,%u)-(%u,%u) != (%u,%u)-(%u,%u)", a->x0, a->y0, a->x1,
                     a->y1, b->x0, b->y0, b->x1, b->y1);
        return 0;
    }
    for (unsigned c = 0; c < a->components; c++) {
        const struct jpip_image_comp *ca = &a->comp[c];
        const struct jpip_image_comp *cb = &b->comp[c];
        DIFF(width, "width");
        DIFF(height, "height");
        DIFF(x0, "x0");
        DIFF(y0, "y0");
        DIFF(dx, "dx");
        DIFF(dy, "dy");
        DIFF(depth, "depth");
        DIFF(is_signed, "signedness");
        size_t n = (size_t)ca->width * ca->height;
        size_t ndiff = 0, first = 0;
        for (size_t i = 0; i < n; i++) {
            if (ca->data[i] != cb->data[i]) {
                if (ndiff == 0)
                    first = i;
                ndiff++;
            }
        }
        if (ndiff) {
            if (msg && msglen)
                snprintf(msg, msglen,
                         "component %u: %zu of %zu samples differ, first at (x=%zu,y=%zu): "
                         "%ld != %ld",
                         c, ndiff, n, first % ca->width, first / ca->width, (long)ca->data[first],
                         (long)cb->data[first]);
            return 0;
        }
    }
    return 1;
}
