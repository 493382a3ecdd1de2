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

/* The tile grid's rows from the codestream's SIZ marker: *yt0 the first tile's top and *yts the
 * tile height on the reference grid; 0 when cs does not start with SOC and SIZ. */
static int tile_rows(const uint8_t *cs, size_t len, uint64_t *yt0, uint64_t *yts)
{
    if (len < 40 || cs[0] != 0xFF || cs[1] != 0x4F || cs[2] != 0xFF || cs[3] != 0x51)
        return 0;
    const uint8_t *p = cs + 28; /* YTsiz, then XTOsiz, YTOsiz */
    *yts = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
    p = cs + 36;
    *yt0 = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
    return *yts > 0;
}

/* The row on the decoded resolution where a band starting at grid row e begins. */
static uint64_t decoded_row(uint64_t e, unsigned reduce)
{
    return (e + ((uint64_t)1 << reduce) - 1) >> reduce;
}

struct queue {
    pthread_mutex_t mu;
    struct band *b;
    const unsigned *order; /* bands by decreasing height: the longest start first */
    unsigned n, next;
};

static void *worker_main(void *arg)
{
    struct queue *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        const unsigned k = q->next < q->n ? q->order[q->next++] : q->n;
        pthread_mutex_unlock(&q->mu);
        if (k == q->n)
            return NULL;
        band_main(&q->b[k]);
    }
}

/* Cut [y0, y1) into bands: first at the tile rows' edges (tiles decode independently, so a
 * band there costs nothing twice), then the tallest band in two at a code-block stripe until
 * there are enough bands to keep nthreads busy and none is much taller than its share. Writes
 * edge[0..n] and returns n. */
static unsigned plan_bands(const uint8_t *cs, size_t len, const struct jpip_decode_options *o,
                           unsigned nthreads, uint32_t *edge)
{
    const unsigned reduce = o->reduce < 26 ? o->reduce : 26;
    const uint64_t step = (uint64_t)64 << reduce, height = (uint64_t)o->y1 - o->y0;
    unsigned n = 0;
    edge[0] = o->y0;
    uint64_t yt0 = 0, yts = 0;
    if (tile_rows(cs, len, &yt0, &yts) && yts < height) {
        uint64_t e = o->y0 > yt0 ? yt0 + ((o->y0 - yt0) / yts + 1) * yts : yt0 + yts;
        for (; e < o->y1 && n + 1 < BANDS_MAX; e += yts)
            if (decoded_row(e, reduce) > decoded_row(edge[n], reduce) &&
                decoded_row(e, reduce) < decoded_row(o->y1, reduce))
                edge[++n] = (uint32_t)e; /* no band without a row */
    }
    edge[++n] = o->y1;
    const uint64_t share = height / nthreads;
    while (n < BANDS_MAX) {
        unsigned tall = 0;
        for (unsigned k = 1; k < n; k++)
            if (edge[k + 1] - edge[k] > edge[tall + 1] - edge[tall])
                tall = k;
        const uint64_t h = (uint64_t)edge[tall + 1] - edge[tall];
        if (n >= nthreads && 2 * h <= 3 * share)
            break;
        /* The stripe edge nearest the band's middle, strictly inside it. */
        uint64_t cut = (edge[tall] + h / 2 + step / 2) / step * step;
        if (cut <= edge[tall])
            cut += step;
        if (cut >= edge[tall + 1] || decoded_row(cut, reduce) <= decoded_row(edge[tall], reduce) ||
            decoded_row(cut, reduce) >= decoded_row(edge[tall + 1], reduce))
            break;
        memmove(&edge[tall + 2], &edge[tall + 1], (n - tall) * sizeof *edge);
        edge[tall + 1] = (uint32_t)cut;
        n++;
    }
    return n;
}

int bands_decode(const uint8_t *cs, size_t len, const struct jpip_decode_options *o,
                 unsigned nbands, int sub, struct vw_decoded *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    uint32_t edge[BANDS_MAX + 1];
    unsigned n = 1;
    if (nbands > BANDS_MAX)
        nbands = BANDS_MAX;
    if (!sub && nbands > 1 && o->y1 > o->y0)
        n = plan_bands(cs, len, o, nbands, edge);
    if (n == 1) {
        out->joined = 0;
        return jpip_decode(cs, len, o, &out->img, err, errlen);
    }
    struct band b[BANDS_MAX];
    unsigned order[BANDS_MAX];
    for (unsigned k = 0; k < n; k++) {
        memset(&b[k], 0, sizeof b[k]);
        b[k].cs = cs;
        b[k].len = len;
        b[k].o = *o;
        b[k].o.y0 = edge[k];
        b[k].o.y1 = edge[k + 1];
        b[k].o.threads = 1;
        order[k] = k;
    }
    for (unsigned i = 1; i < n; i++) /* insertion sort by decreasing height */
        for (unsigned j = i; j > 0 && edge[order[j] + 1] - edge[order[j]] >
                                          edge[order[j - 1] + 1] - edge[order[j - 1]];
             j--) {
            const unsigned t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    struct queue q = {.b = b, .order = order, .n = n, .next = 0};
    pthread_mutex_init(&q.mu, NULL);
    pthread_t th[BANDS_MAX];
    int started[BANDS_MAX] = {0};
    const unsigned nth = nbands < n ? nbands : n;
    for (unsigned k = 1; k < nth; k++)
        started[k] = pthread_create(&th[k], NULL, worker_main, &q) == 0;
    worker_main(&q); /* also does the bands of threads that failed to start */
    for (unsigned k = 1; k < nth; k++)
        if (started[k])
            pthread_join(th[k], NULL);
    pthread_mutex_destroy(&q.mu);
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
