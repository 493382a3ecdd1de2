/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The metareq= request field (15444-9 Annex C metadata request; grammar as documented in
 * jpip-notes §2.5):
 *
 *   metareq  = 1#( "[" box-prop *( ";" box-prop ) "]" [ "R" root-bin ] [ "D" depth ] ) [ "!!" ]
 *   box-prop = ( box-type | "*" ) [ ":" ( limit | "r" ) ] [ "/" 1*( "w" | "s" | "g" | "a" ) ] [ "!"
 * ]
 *
 * A box type is four units, each a printable character, '_' for a space or "\ddd" (three
 * octal digits) for any byte. Parsing and formatting only: choosing the metadata-bins to send
 * is the server's job.
 */
#ifndef JPIP_REQUEST_METAREQ_H
#define JPIP_REQUEST_METAREQ_H

#include "request/field_parse.h"

enum jpip__metareq_limit {
    JPIP__METAREQ_WHOLE = 0,  /* no ":" qualifier: the whole box */
    JPIP__METAREQ_BYTES = 1,  /* ":n": at most n bytes of the box contents */
    JPIP__METAREQ_RECURSE = 2 /* ":r": header of the box, and recurse into its sub-boxes */
};

/* Context flags ("/wsga"); 0 = none given (the default, which means w, s and g). */
#define JPIP__METAREQ_CTX_W 0x1u /* boxes tied to a region intersecting the view-window */
#define JPIP__METAREQ_CTX_S 0x2u /* boxes tied to the requested codestreams, no region */
#define JPIP__METAREQ_CTX_G 0x4u /* other boxes relevant to the window */
#define JPIP__METAREQ_CTX_A 0x8u /* every box of the file */

struct jpip__metareq_prop {
    uint32_t box_type;  /* big-endian four-character code; 0 when wildcard */
    uint8_t wildcard;   /* "*" */
    uint8_t limit_kind; /* enum jpip__metareq_limit */
    uint8_t ctx_flags;  /* JPIP__METAREQ_CTX_* bits */
    uint8_t priority;   /* "!": deliver before image data */
    uint64_t limit_bytes;
};

struct jpip__metareq_item {
    uint32_t prop_first; /* props[prop_first .. +prop_count) */
    uint32_t prop_count;
    uint8_t has_root;
    uint8_t has_depth;
    uint64_t root_bin;  /* "R<n>": metadata-bin to start from; 0 when absent */
    uint32_t max_depth; /* "D<n>"; UINT32_MAX (unlimited) when absent */
};

struct jpip__metareq {
    struct jpip__metareq_item *items;
    uint32_t n;
    struct jpip__metareq_prop *props;
    uint32_t nprops;
    uint8_t metadata_only; /* trailing "!!" */
    const struct jpip_allocator *alloc;
};

/* Parses a decoded metareq value through cursor c into q, allocating with a; at most
 * max_items box-props in all. On failure q is left empty.
 * @return JPIP_OK, JPIP_EMALFORMED (message names the offset), JPIP_ELIMIT, JPIP_ENOMEM. */
int jpip__metareq_parse_cur(struct jpip__metareq *q, struct jpip__fcur *c, uint32_t max_items,
                            const struct jpip_allocator *a);
/* Convenience: parse s[0..len); offsets in messages are relative to s. */
int jpip__metareq_parse(struct jpip__metareq *q, const char *s, size_t len, uint32_t max_items,
                        const struct jpip_allocator *a, struct jpip__err *err);

/* Appends the canonical text (not percent-encoded) of q to b. */
int jpip__metareq_format(const struct jpip__metareq *q, struct jpip__buf *b);
int jpip__metareq_equal(const struct jpip__metareq *a, const struct jpip__metareq *b);
void jpip__metareq_free(struct jpip__metareq *q);

#endif
