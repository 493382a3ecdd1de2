/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Cache-model descriptors: the values of the model= and need= request fields (15444-9 Annex C,
 * cache management; grammar as documented in jpip-notes §6.2). This module only parses and
 * formats the descriptor list; applying it to a cache model (which bins, how many bytes) is
 * the server's job, since it needs the codestream geometry.
 *
 *   model-field = 1#( "[" range *( ";" range ) "]" | [ "-" ] bin-descriptor )
 *   range       = n | n "-" m | "*"               (codestream qualifier: applies to what follows)
 *   explicit    = ( "Hm" | "H" id | "P" id | "T" id | "M" id ) [ ":" [ "L" ] n ]
 *   id          = n | n "-" m | "*"
 *   implicit    = [ "t" r ] [ "c" r ] [ "r" r ] [ "p" r ] [ ":L" n ]  (at least one, this order)
 */
#ifndef JPIP_REQUEST_MODEL_H
#define JPIP_REQUEST_MODEL_H

#include "request/field_parse.h"

enum jpip__model_class {
    JPIP__MODEL_MAIN_HEADER = 0, /* Hm */
    JPIP__MODEL_TILE_HEADER = 1, /* H<id> */
    JPIP__MODEL_PRECINCT = 2,    /* P<id>: absolute in-class precinct identifier */
    JPIP__MODEL_TILE = 3,        /* T<id>: tile data-bin (JPT-stream) */
    JPIP__MODEL_METADATA = 4,    /* M<id> */
    JPIP__MODEL_IMPLICIT = 5     /* t..c..r..p..: precincts named by position */
};

enum jpip__model_amount {
    JPIP__MODEL_ALL = 0,   /* no qualifier: the whole bin (additive) / none of it (subtractive) */
    JPIP__MODEL_BYTES = 1, /* ":n" */
    JPIP__MODEL_LAYERS = 2 /* ":Ln" complete quality layers (precincts only) */
};

/* Which field is parsed: need= forbids the "-" prefix (every item is already "lacking"). */
enum jpip__model_field { JPIP__MODEL_FIELD_MODEL = 0, JPIP__MODEL_FIELD_NEED = 1 };

/* An inclusive id range; to == UINT64_MAX is open ("*" is 0..UINT64_MAX). For implicit
 * descriptors the t and p ranges name rectangles (top-left a, bottom-right b), not
 * intervals (jpip-notes §6.2); c and r are intervals. */
struct jpip__model_ids {
    uint64_t from;
    uint64_t to;
};

struct jpip__model_item {
    uint8_t cls;               /* enum jpip__model_class */
    uint8_t amount_kind;       /* enum jpip__model_amount */
    uint8_t subtractive;       /* "-" prefix */
    struct jpip__model_ids id; /* explicit classes; Hm is 0..0 */
    /* Implicit descriptors: an absent letter means every index (0..UINT64_MAX). */
    struct jpip__model_ids t, c, r, p;
    uint64_t amount; /* bytes or layers */
    /* The codestream qualifier in force: quals[qual_first .. +qual_count) of the model;
     * qual_count == 0 when no qualifier preceded the item (the request's codestreams). */
    uint32_t qual_first;
    uint32_t qual_count;
};

struct jpip__model {
    struct jpip__model_item *items;
    uint32_t n;
    struct jpip__range *quals; /* codestream ranges; step is always 1 */
    uint32_t nquals;
    const struct jpip_allocator *alloc;
};

/* Parses a decoded model=/need= value through cursor c (see field_parse.h; c->name labels
 * messages) into m, allocating with a; at most max_items descriptors plus qualifiers.
 * On failure m is left empty.
 * @return JPIP_OK, JPIP_EMALFORMED (message names the offset), JPIP_ELIMIT, JPIP_ENOMEM. */
int jpip__model_parse_cur(struct jpip__model *m, struct jpip__fcur *c, enum jpip__model_field f,
                          uint32_t max_items, const struct jpip_allocator *a);

/* Convenience: parse s[0..len) (already decoded); offsets in messages are relative to s. */
int jpip__model_parse(struct jpip__model *m, const char *s, size_t len, enum jpip__model_field f,
                      uint32_t max_items, const struct jpip_allocator *a, struct jpip__err *err);

/* Appends the canonical text (not percent-encoded) of m to b: qualifiers only where the one
 * in force changes, "*" for open id ranges. JPIP_EINVAL if an unqualified item follows a
 * qualified one (the grammar cannot express that). */
int jpip__model_format(const struct jpip__model *m, struct jpip__buf *b);

/* 1 when a and b say the same thing (each item compared with its qualifier in force). */
int jpip__model_equal(const struct jpip__model *a, const struct jpip__model *b);

/* Frees what parse allocated; m is left empty. Safe on an empty or zeroed model. */
void jpip__model_free(struct jpip__model *m);

#endif
