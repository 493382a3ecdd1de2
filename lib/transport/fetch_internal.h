/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The JPIP URL parser of the libcurl transport (fetch_url.c), which needs no libcurl. Only
 * fetch.c talks to libcurl; the cache file's I/O is lib/io/cache_file.c.
 */
#ifndef JPIP_TRANSPORT_FETCH_INTERNAL_H
#define JPIP_TRANSPORT_FETCH_INTERNAL_H

#include <jpip/client.h>

#include "common/status.h"

/* Longest URL accepted, and most components a comps= list may expand to. */
#define JPIP__FETCH_URL_MAX 8192
#define JPIP__FETCH_COMPS_MAX 16384

/* A parsed JPIP URL. Strings and comps are owned (allocator given to parse). */
struct jpip__fetch_url {
    char *base;   /* "scheme://authority", scheme lowercased */
    char *target; /* "/path", still percent-encoded as in the URL */
    struct jpip_view view;
    uint32_t *comps; /* view.comps points here; sorted, without duplicates */
    uint64_t len;    /* len= field; 0 when absent */
    int jpt;         /* type=jpt-stream */
    int https;
};

/* Parse url. On failure err names the field or the byte offset that is wrong. */
int jpip__fetch_url_parse(const char *url, const struct jpip_allocator *a,
                          struct jpip__fetch_url *u, struct jpip__err *err);
void jpip__fetch_url_free(struct jpip__fetch_url *u, const struct jpip_allocator *a);

#endif
