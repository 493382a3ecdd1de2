/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jpip-info's report model: what jpip_info.c gathers from a target through the public index
 * API (boxes, codestream and component parameters, per-tile index summaries and per-codestream
 * packet statistics), shared by the text and JSON renderers. Packet lists are not stored; the
 * renderers read them back from the target, whose tiles are already indexed.
 */
#ifndef JPIP_TOOLS_JPIP_INFO_H
#define JPIP_TOOLS_JPIP_INFO_H

#include <stdio.h>

#include <jpip/index.h>

#define INFO_PROG "jpip-info"
#define INFO_MAX_RESOLUTIONS 256 /* packet resolution is a uint8_t */

struct info_options {
    const char *path;
    int json;
    int packets;        /* list every packet */
    int tiles;          /* one line per tile */
    int no_index;       /* headers only */
    int has_codestream; /* --codestream given */
    unsigned codestream;
    const char *write_index; /* --write-index OUT */
};

struct info_tile {
    int rc; /* JPIP_OK, or the error that stopped indexing this tile */
    struct jpip_tile_info info;
};

/* One per-tile failure, in the order met; msg is owned (malloc'd). */
struct info_error {
    uint32_t tile;
    int rc;
    char *msg;
};

/* Packet counts and bytes (in-band length plus packed header bytes) for one bucket. */
struct info_bucket {
    uint64_t packets;
    uint64_t bytes;
};

struct info_codestream {
    unsigned index;
    struct jpip_codestream_info info;
    struct jpip_component_info *comps; /* info.components entries */
    uint32_t ntiles;

    /* Filled only when indexed. */
    int indexed;
    struct info_tile *tiles; /* ntiles entries */
    uint32_t tiles_plt, tiles_walked, tiles_failed;
    uint64_t packets, precincts;
    uint64_t packet_bytes;        /* in-band lengths plus packed header bytes */
    uint64_t packet_header_bytes; /* in-band plus packed header bytes; unknown if tiles_plt */
    uint64_t packed_header_bytes; /* of which in PPM/PPT */
    uint64_t tile_header_bytes;   /* tile-part headers, SOT to SOD */
    unsigned nres;                /* resolutions seen: by_res[0 .. nres-1] */
    struct info_bucket by_res[INFO_MAX_RESOLUTIONS];
    unsigned nlayers; /* by_layer[0 .. nlayers-1] */
    struct info_bucket *by_layer;
    struct info_error *errors;
    size_t nerrors;
};

struct info_report {
    const char *path;
    uint64_t size;
    enum jpip_target_kind kind;
    struct jpip_box_info *boxes;
    size_t nboxes;
    unsigned codestream_count;  /* in the file */
    struct info_codestream *cs; /* the codestreams reported */
    unsigned ncs;
    struct jpip_target *target; /* for reading packets back */
};

const char *info_kind_name(enum jpip_target_kind kind);
const char *info_progression_name(unsigned prog);
const char *info_qcd_style_name(unsigned style);
/* Writes the names of the code-block style bits set in style into out, NULL-terminated;
 * returns how many. out must have room for 9 entries. */
unsigned info_cblk_style_names(unsigned style, const char **out);
/* Which optional markers are present, as names (PLT PLM TLM PPM PPT POC CAP); out has room
 * for 8 entries including the NULL terminator. flags[i] says whether names[i] is present. */
unsigned info_marker_flags(const struct jpip_codestream_info *cs, const char **names, int *flags);
/* Percentage of part in whole, 0 when whole is 0. */
double info_percent(uint64_t part, uint64_t whole);

/* Renderers; each returns the number of packet read failures (normally 0). */
int info_print_text(FILE *f, const struct info_report *r, const struct info_options *o);
int info_print_json(FILE *f, const struct info_report *r, const struct info_options *o);

/* --write-index (jpip_info_annexi.c): copy the JP2 file at path to out_path with the
 * 15444-9 Annex I index boxes (iptr, cidx, fidx). Returns a CLI exit code. */
int info_write_index(struct jpip_target *t, const struct jpip_source *src, const char *path,
                     const char *out_path);

#endif
