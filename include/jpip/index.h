/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Targets: a J2K/JP2/JPX file opened through a jpip_source, its box tree, its codestreams, and
 * for each codestream the packet index: where every packet of every precinct lies, found from
 * PLT when present or by walking packet headers (bodies are never read). Tiles are indexed
 * lazily, on first use. A rebuild writes a new codestream from the index.
 *
 * Thread safety: a jpip_target is not thread-safe; callers that share one lock around it.
 */
#ifndef JPIP_INDEX_H
#define JPIP_INDEX_H

#include <jpip/jpip.h>

#ifdef __cplusplus
extern "C" {
#endif

struct jpip_target;

enum jpip_target_kind { JPIP_KIND_J2K = 0, JPIP_KIND_JP2 = 1, JPIP_KIND_JPX = 2 };

/* Limits applied while opening (0 = default). */
struct jpip_target_limits {
    uint32_t max_boxes;        /* default 65536 */
    uint64_t max_header_bytes; /* main header or one tile's headers; default 256 MiB */
    uint64_t max_packets;      /* per tile; default 2^28 */
};

/* Open a target: parse the box tree (if any), every codestream's main header and the list of
 * its tile-parts. src is retained by reference (it must outlive the target); a and limits
 * may be NULL. On failure *out is still set (unless JPIP_ENOMEM/JPIP_EINVAL) so the caller can
 * read jpip_target_errmsg, then must destroy it.
 * @return JPIP_OK, JPIP_EMALFORMED (message names the byte offset), JPIP_EUNSUPPORTED, ... */
JPIP_API int jpip_target_open(struct jpip_target **out, const struct jpip_source *src,
                              const struct jpip_allocator *a,
                              const struct jpip_target_limits *limits);
JPIP_API void jpip_target_destroy(struct jpip_target *t);
/* Last error message ("" if none); valid until the next call on t. */
JPIP_API const char *jpip_target_errmsg(const struct jpip_target *t);

JPIP_API enum jpip_target_kind jpip_target_kind(const struct jpip_target *t);

struct jpip_box_info {
    char type[5];           /* four characters, NUL-terminated */
    uint64_t offset;        /* of the box header in the file */
    uint64_t length;        /* whole box, header included */
    unsigned header_length; /* 8, or 16 with XLBox */
    int parent;             /* index of the enclosing box, -1 at top level */
    unsigned depth;
};
JPIP_API size_t jpip_target_box_count(const struct jpip_target *t);
JPIP_API int jpip_target_box(const struct jpip_target *t, size_t i, struct jpip_box_info *out);

JPIP_API unsigned jpip_target_codestream_count(const struct jpip_target *t);

struct jpip_codestream_info {
    uint64_t length; /* codestream bytes */
    uint16_t rsiz;
    uint32_t width, height; /* Xsiz - XOsiz, Ysiz - YOsiz */
    uint32_t x0, y0;        /* XOsiz, YOsiz */
    uint32_t tile_width, tile_height, tile_x0, tile_y0;
    uint32_t tiles_x, tiles_y;
    uint16_t components;
    uint8_t progression; /* 0 LRCP .. 4 CPRL (main COD) */
    uint16_t layers;
    uint8_t levels;         /* main COD decomposition levels */
    uint8_t cblk_w, cblk_h; /* code-block size in samples (log2) */
    uint8_t cblk_style;
    uint8_t wavelet; /* 0 = 9/7, 1 = 5/3 */
    uint8_t mct;
    uint8_t sop, eph, user_precincts;
    uint8_t qcd_style, guard_bits;
    uint8_t has_plt, has_plm, has_tlm, has_ppm, has_ppt, has_poc, has_cap;
    uint32_t tile_parts;
    uint64_t main_header_length;
};
JPIP_API int jpip_target_codestream_info(const struct jpip_target *t, unsigned cs,
                                         struct jpip_codestream_info *out);

struct jpip_component_info {
    uint8_t depth, is_signed, dx, dy;
    uint32_t width, height; /* at full resolution */
};
JPIP_API int jpip_target_component_info(const struct jpip_target *t, unsigned cs, unsigned c,
                                        struct jpip_component_info *out);

struct jpip_tile_info {
    uint32_t x0, y0, x1, y1; /* on the reference grid */
    uint32_t tile_parts;
    uint16_t layers;
    uint8_t progression;
    uint32_t precincts; /* over all components and resolutions */
    uint64_t packets;
    uint64_t header_bytes; /* tile-part headers, SOT to SOD included */
    uint64_t packet_bytes; /* all packets (headers and bodies) */
    uint8_t from_plt;      /* packet lengths came from PLT */
};
/* Index tile (if not yet) and describe it. */
JPIP_API int jpip_target_tile_info(struct jpip_target *t, unsigned cs, uint32_t tile,
                                   struct jpip_tile_info *out);

struct jpip_packet_info {
    uint16_t component;
    uint8_t resolution;
    uint32_t precinct; /* raster index within (tile, component, resolution) */
    uint16_t layer;
    uint64_t offset;               /* of the packet's first in-band byte, in the codestream */
    uint32_t length;               /* in-band bytes: SOP, header (unless packed), EPH, body */
    uint32_t header_length;        /* in-band header bytes (SOP, header, EPH) */
    uint32_t packed_header_length; /* bytes in PPM/PPT, 0 if none */
    uint64_t databin_id; /* in-class identifier of its precinct data-bin (15444-9 A.3.2.1) */
};
/* The i-th packet of a tile in codestream order (0 <= i < tile_info.packets). */
JPIP_API int jpip_target_packet(struct jpip_target *t, unsigned cs, uint32_t tile, uint64_t i,
                                struct jpip_packet_info *out);

/* Rebuild: write codestream cs anew. The main header keeps every marker segment but TLM, PLM,
 * PLT, PPM and PPT (and POC when the progression is rewritten); each tile becomes one
 * tile-part (SOT, its header segments but PLT/PPT/POC, SOD, packets); packets appear in the
 * requested progression; a packet for which present() returns 0 is written as an empty packet
 * (with SOP and EPH where the coding style has them). present may be NULL (all present). */
typedef int (*jpip_packet_present_fn)(void *user, uint32_t tile, uint16_t component,
                                      uint8_t resolution, uint32_t precinct, uint16_t layer);
struct jpip_rebuild_options {
    int progression;                /* 0..4, or -1 to keep each tile's own order and POC */
    jpip_packet_present_fn present; /* NULL = every packet present */
    void *user;
};
/* The output goes to *out (allocated with the target's allocator, free with jpip_free). */
JPIP_API int jpip_target_rebuild(struct jpip_target *t, unsigned cs,
                                 const struct jpip_rebuild_options *opt, uint8_t **out,
                                 size_t *out_len);
/* Free memory the library returned, with the allocator of the object that made it. */
JPIP_API void jpip_target_free(const struct jpip_target *t, void *p);

/* File-backed source (lib/io): opens path read-only; pread with 64-bit offsets. */
JPIP_API int jpip_file_source_open(struct jpip_source *src, const char *path);
JPIP_API void jpip_file_source_close(struct jpip_source *src);

#ifdef __cplusplus
}
#endif
#endif
