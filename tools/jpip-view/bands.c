/* SPDX-License-Identifier: BSD-2-Clause */
/* Decoding a view in bands, one thread each (bands.h). */
#include "bands.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BANDS_MAX 16

struct band {
    const uint8_t *cs;
    size_t len;
    struct jpip_decode_options o;
    struct jpip_image *img;
    int rc;
    char err[256];
};

static void *band_main(void *arg)
{
    struct band *b = arg;
    b->rc = jpip_decode(b->cs, b->len, &b->o, &b->img, b->err, sizeof b->err);
    return NULL;
}

void bands_free(struct vw_decoded *d)
{
    if (!d->img)
        return;
    if (d->joined) {
        for (unsigned c = 0; c < d->img->components; c++)
            free(d->img->comp[c].data);
        free(d->img->comp);
        free(d->img);
    } else {
        jpip_image_destroy(d->img);
    }
    d->img = NULL;
}

/* One image from the bands' images, top to bottom; NULL when they do not fit together. */
static struct jpip_image *join(struct band *b, unsigned n)
{
    const struct jpip_image *first = b[0].img;
    struct jpip_image *img = calloc(1, sizeof *img);
    if (!img)
        return NULL;
    *img = *first;
    img->y1 = b[n - 1].img->y1;
    img->comp = calloc(first->components, sizeof *img->comp);
    if (!img->comp) {
        free(img);
        return NULL;
    }
    struct vw_decoded d = {img, 1};
    for (unsigned c = 0; c < first->components; c++) {
        struct jpip_image_comp *to = &img->comp[c];
        *to = first->comp[c];
        to->height = 0;
        for (unsigned k = 0; k < n; k++) {
            if (b[k].img->components != first->components || b[k].img->comp[c].width != to->width) {
                to->data = NULL;
                bands_free(&d);
                return NULL;
            }
            to->height += b[k].img->comp[c].height;
        }
        to->data = malloc((size_t)to->width * to->height * sizeof *to->data + 1);
        if (!to->data) {
            bands_free(&d);
            return NULL;
        }
        size_t at = 0;
        for (unsigned k = 0; k < n; k++) {
            const struct jpip_image_comp *from = &b[k].img->comp[c];
            const size_t m = (size_t)from->width * from->height;
            memcpy(to->data + at, from->data, m * sizeof *to->data);
            at += m;
        }
    }
    return img;
}

int bands_decode(const uint8_t *cs, size_t len, const struct jpip_decode_options *o,
                 unsigned nbands, int sub, struct vw_decoded *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    /* Band edges on whole rows of the decoded resolution, and on whole 64-row code-block
     * stripes there so that few code-blocks are decoded twice. */
    const uint64_t step = (uint64_t)64 << (o->reduce < 26 ? o->reduce : 26);
    uint32_t edge[BANDS_MAX + 1];
    unsigned n = 0;
    edge[0] = o->y0;
    if (!sub && o->y1 > o->y0)
        for (unsigned k = 1; k < nbands && k < BANDS_MAX; k++) {
            uint64_t e = o->y0 + (uint64_t)(o->y1 - o->y0) * k / nbands;
            e = (e + step - 1) / step * step;
            if (e > edge[n] && e < o->y1)
                edge[++n] = (uint32_t)e;
        }
    edge[++n] = o->y1;
    if (n == 1) {
        out->joined = 0;
        return jpip_decode(cs, len, o, &out->img, err, errlen);
    }
    struct band b[BANDS_MAX];
    pthread_t th[BANDS_MAX];
    int started[BANDS_MAX] = {0};
    for (unsigned k = 0; k < n; k++) {
        memset(&b[k], 0, sizeof b[k]);
        b[k].cs = cs;
        b[k].len = len;
        b[k].o = *o;
        b[k].o.y0 = edge[k];
        b[k].o.y1 = edge[k + 1];
        b[k].o.threads = 1;
        if (k > 0)
            started[k] = pthread_create(&th[k], NULL, band_main, &b[k]) == 0;
    }
    band_main(&b[0]);
    for (unsigned k = 1; k < n; k++) {
        if (started[k])
            pthread_join(th[k], NULL);
        else
            band_main(&b[k]);
    }
    int rc = JPIP_OK;
    for (unsigned k = 0; k < n && rc == JPIP_OK; k++)
        if (b[k].rc != JPIP_OK) {
            rc = b[k].rc;
            if (errlen)
                snprintf(err, errlen, "%s", b[k].err);
        }
    if (rc == JPIP_OK) {
        out->img = join(b, n);
        out->joined = 1;
        if (!out->img)
            rc = JPIP_ENOMEM;
    }
    for (unsigned k = 0; k < n; k++)
        jpip_image_destroy(b[k].img);
    return rc;
}
