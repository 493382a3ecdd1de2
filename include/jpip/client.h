/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The JPIP client core, without I/O: it says what request to send next for the current view
 * (path and query), takes the response (status, header lines, body bytes in chunks of any
 * size) into its data-bin cache, and knows when the view is complete. Sessions are used when
 * the server grants a channel; otherwise, or after a channel dies, requests are stateless and
 * declare the cache with model= so nothing is sent twice. lib/transport drives it over HTTP;
 * jpip_client_decode (lib/decode) rebuilds and decodes the view.
 *
 * Typical loop:
 *     jpip_client_set_view(c, &view);
 *     while (!jpip_client_view_complete(c)) {
 *         jpip_client_next_request(c, &path, &query, &qlen);   // send it
 *         jpip_client_begin_response(c, status, header_lines);
 *         jpip_client_feed(c, bytes, n);  ...                 // as they arrive
 *         jpip_client_end_response(c);
 *     }
 *
 * Not thread-safe: one client per thread, or a lock around it.
 */
#ifndef JPIP_CLIENT_H
#define JPIP_CLIENT_H

#include <jpip/jpip.h>

#ifdef __cplusplus
extern "C" {
#endif

struct jpip_client;

/* A view-window (15444-9 C.4): frame size, region in that frame, components, layers. */
struct jpip_view {
    uint32_t fx, fy;         /* frame size; 0,0 = full resolution */
    int round;               /* 0 round-down, 1 round-up, 2 closest */
    uint32_t ox, oy, sx, sy; /* region within the frame; sx or sy 0 = to the frame's edge */
    const uint32_t *comps;   /* borrowed during set_view; NULL = all components */
    unsigned ncomps;
    uint16_t layers; /* 0 = all */
    uint32_t stream; /* codestream index */
};

struct jpip_client_config {
    int stateless;            /* never ask for a channel */
    uint64_t len;             /* byte limit per request (len=); 0 = none */
    uint64_t max_cache_bytes; /* data-bin cache; 0 = unlimited */
    uint32_t max_model_items; /* bins declared with model= per request; default 20000 */
    int jpt;                  /* ask for JPT-streams (tile data-bins) rather than JPP-streams */
    /* Largest codestream jpip_client_codestream builds (a main header from a hostile server
     * can describe an image of billions of empty packets); default 1 GiB (SIZE_MAX / 2 on
     * 32-bit systems); beyond it JPIP_ELIMIT. */
    uint64_t max_rebuild_bytes;
};

/* target: the resource path on the server (e.g. "/images/a.jp2"), retained. */
JPIP_API int jpip_client_create(struct jpip_client **out, const char *target,
                                const struct jpip_client_config *cfg,
                                const struct jpip_allocator *a);
JPIP_API void jpip_client_destroy(struct jpip_client *c);
JPIP_API const char *jpip_client_errmsg(const struct jpip_client *c);

/* Set the view to fetch; the view is complete once the server said so. */
JPIP_API int jpip_client_set_view(struct jpip_client *c, const struct jpip_view *v);
JPIP_API int jpip_client_view_complete(const struct jpip_client *c);

/* The next request: *path and *query (query_len bytes, no '?') are valid until the next call
 * on c. A long query is meant to go as a POST form body (the transport decides). */
JPIP_API int jpip_client_next_request(struct jpip_client *c, const char **path, const char **query,
                                      size_t *query_len);
/* The response to the last request: HTTP status and its header lines ("Name: value\r\n"...).
 * Returns JPIP_OK, or an error for a status that ends the view (JPIP_ENOTFOUND for 404 on
 * the target, JPIP_EPROTOCOL, ...); a dead channel (404 on cid, 503) is handled by falling
 * back to a new channel or stateless requests. */
JPIP_API int jpip_client_begin_response(struct jpip_client *c, int status, const char *headers);
JPIP_API int jpip_client_feed(struct jpip_client *c, const uint8_t *data, size_t len);
/* The body ended (or the connection broke: complete = 0). */
JPIP_API int jpip_client_end_response(struct jpip_client *c, int body_complete);

struct jpip_client_stats {
    uint64_t requests, responses;
    uint64_t body_bytes;      /* response bytes received */
    uint64_t databin_bytes;   /* data-bin bytes among them */
    uint64_t duplicate_bytes; /* data-bin bytes that were already held */
    uint64_t messages;
    uint64_t bins, cache_bytes;
    uint64_t channels_opened;
};
JPIP_API void jpip_client_stats(const struct jpip_client *c, struct jpip_client_stats *st);

/* The target id the server gave ("" until known). */
JPIP_API const char *jpip_client_tid(const struct jpip_client *c);

/* The host the current channel lives on when the server named one in JPIP-cnew (a front
 * server delegating to a back-end), with its port in *port (0: the scheme's default); NULL
 * when there is no channel or it is on the server of the target's URL. The transport sends
 * the channel's requests there. */
JPIP_API const char *jpip_client_channel_host(const struct jpip_client *c, unsigned *port);

/* Persist and restore the cache (with its target id), e.g. to a file. save: *out allocated
 * with the client's allocator (free with jpip_client_free). load: a corrupt or foreign buffer
 * is refused with JPIP_EMALFORMED (message with the byte offset) and the cache is unchanged. */
JPIP_API int jpip_client_cache_save(const struct jpip_client *c, uint8_t **out, size_t *len);
JPIP_API int jpip_client_cache_load(struct jpip_client *c, const uint8_t *data, size_t len);
JPIP_API void jpip_client_free(const struct jpip_client *c, void *p);

/* The view's codestream, rebuilt from the cache (valid J2K for OpenJPEG), with what a decoder
 * must be told: discard levels and the region on the reference grid. */
struct jpip_view_geometry {
    unsigned discard;
    uint32_t x0, y0, x1, y1;
    uint16_t layers;
};
JPIP_API int jpip_client_codestream(struct jpip_client *c, uint8_t **out, size_t *len,
                                    struct jpip_view_geometry *g);

/* The current codestream's main header data-bin as the server sent it (SOC up to the first
 * tile-part; image size, tiles, components, coding), valid until the next call on c:
 * JPIP_AGAIN until it is complete. Unlike jpip_client_codestream's output, which is trimmed
 * to the view, it describes the whole image. */
JPIP_API int jpip_client_main_header(struct jpip_client *c, const uint8_t **data, size_t *len);

/* The view rebuilt as a file that OpenJPEG decodes to the same picture as the original: a JP2
 * file carrying the original's JP2 header (palette, channel definitions, colour) when the
 * target has one in metadata-bin 0 and the view is of codestream 0 (*jp2 = 1), else the
 * codestream of jpip_client_codestream (*jp2 = 0). Free with jpip_client_free. */
JPIP_API int jpip_client_view_file(struct jpip_client *c, uint8_t **out, size_t *len,
                                   struct jpip_view_geometry *g, int *jp2);

#ifdef __cplusplus
}
#endif
#endif
