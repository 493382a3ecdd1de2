/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The JP2-family box layer (15444-1 Annex I, 15444-2 Annex M): file-kind detection, the whole
 * box tree of a file, where each codestream lies (one jp2c box, or the fragments an ftbl box
 * lists), and a jpip_source that presents a fragmented codestream as one contiguous range.
 * It only reads box headers and fragment tables; box contents are interpreted elsewhere.
 */
#ifndef JPIP_CODESTREAM_BOX_H
#define JPIP_CODESTREAM_BOX_H

#include <jpip/jpip.h>

#include "common/status.h"

/* A box type (TBox) as the big-endian value of its four characters. */
#define JPIP__4CC(a, b, c, d)                                                                      \
    (((uint32_t)(uint8_t)(a) << 24) | ((uint32_t)(uint8_t)(b) << 16) |                             \
     ((uint32_t)(uint8_t)(c) << 8) | (uint32_t)(uint8_t)(d))

#define JPIP__BOX_JP JPIP__4CC('j', 'P', ' ', ' ') /* signature */
#define JPIP__BOX_FTYP JPIP__4CC('f', 't', 'y', 'p')
#define JPIP__BOX_JP2H JPIP__4CC('j', 'p', '2', 'h')
#define JPIP__BOX_JP2C JPIP__4CC('j', 'p', '2', 'c')
#define JPIP__BOX_FTBL JPIP__4CC('f', 't', 'b', 'l')
#define JPIP__BOX_FLST JPIP__4CC('f', 'l', 's', 't')
#define JPIP__BOX_DTBL JPIP__4CC('d', 't', 'b', 'l')
#define JPIP__BOX_CREF JPIP__4CC('c', 'r', 'e', 'f')
#define JPIP__BOX_URL JPIP__4CC('u', 'r', 'l', ' ')
#define JPIP__BOX_PHLD JPIP__4CC('p', 'h', 'l', 'd')

/* Nesting bound: a box's depth (0 at top level) is at most this. */
#define JPIP__BOX_MAX_DEPTH 32

struct jpip__box {
    uint32_t type;   /* TBox as big-endian 4CC, e.g. 0x6A703263 'jp2c' */
    uint64_t off;    /* offset of the box header in the file */
    uint64_t len;    /* whole box incl. header; LBox=0 resolved to the end of the parent/file */
    uint8_t hdr_len; /* 8, or 16 with XLBox */
    uint8_t to_end;  /* LBox was 0 */
    int32_t parent;  /* index of enclosing superbox in the tree, -1 at top level */
    uint16_t depth;  /* 0 at top level */
};

struct jpip__box_tree {
    struct jpip__box *v;
    uint32_t n, cap;
};

/* Whether boxes of this type hold a box sequence that the tree parser descends into:
 * jp2h, res , uinf, asoc, ftbl, jpch, jplh, cgrp, comp, grp_, and (after a fixed prefix)
 * dtbl (2-byte NDR) and cref (4-byte Tcref). *prefix (may be NULL) receives the number of
 * content bytes before the first sub-box. */
int jpip__box_is_superbox(uint32_t type, uint32_t *prefix);

/* Parse the whole box tree of a JP2-family file, descending into superboxes
 * (jpip__box_is_superbox). Boxes are stored in file order (pre-order), so a box's children
 * follow it directly and parent < own index.
 *
 * t:         overwritten on entry (not freed first); on failure it is freed and left empty, so
 *            the caller need not free it; on success free it with jpip__box_tree_free.
 * src:       borrowed; read through jpip__src_read only.
 * max_boxes: hard cap on the number of boxes; one more is JPIP_ELIMIT.
 * @return JPIP_OK; JPIP_EMALFORMED naming the byte offset for a truncated header, LBox 2..7,
 *         XLBox < 16, a box whose length runs past its parent (or the file), or a superbox too
 *         short for its prefix; JPIP_ELIMIT for too many boxes or nesting deeper than
 *         JPIP__BOX_MAX_DEPTH; JPIP_ENOMEM; a read error from src.
 * Notes: 1. LBox = 0 means "to the end of the enclosing superbox" (or of the file at top
 *           level), so it ends the enclosing box sequence.
 *        2. An empty source gives an empty tree. A raw codestream is not a box file: detect
 *           the kind with jpip__file_kind first. */
int jpip__box_tree_parse(struct jpip__box_tree *t, const struct jpip_source *src,
                         uint32_t max_boxes, const struct jpip_allocator *a, struct jpip__err *err);
/* Free the tree's array and leave it empty; safe on an empty or already freed tree. */
void jpip__box_tree_free(struct jpip__box_tree *t, const struct jpip_allocator *a);

enum { JPIP__FILE_J2K = 0, JPIP__FILE_JP2 = 1, JPIP__FILE_JPX = 2 };

/* Detect the file kind from its first bytes: a raw codestream starts with SOC then SIZ
 * (FF4F FF51); a JP2-family file starts with the 12-byte signature box followed by an ftyp box.
 * Brand 'jpx ' is JPX, brand 'jp2 ' is JP2; any other brand is JPX when the compatibility list
 * names 'jpx ' but not 'jp2 ', else JP2 (only the first 256 list entries are looked at).
 * @return JPIP_OK with *kind set; JPIP_EMALFORMED "not a JPEG 2000 file" (or a message naming
 *         the bad ftyp box); a read error from src. */
int jpip__file_kind(const struct jpip_source *src, int *kind, struct jpip__err *err);

/* A byte range of the file. */
struct jpip__span {
    uint64_t off, len;
};

struct jpip__cs_location {
    struct jpip__span *frag; /* fragments in codestream order (file offsets) */
    uint32_t nfrag;
    uint64_t len; /* sum of fragment lengths */
    int32_t box;  /* index of the jp2c or ftbl box, -1 for a raw codestream */
};

/* Every codestream of the file, in the order their jp2c / ftbl boxes appear in the file (any
 * depth). A jp2c box gives one fragment, its contents (none when the contents are empty). An
 * ftbl box gives the fragments its first flst sub-box lists (15444-2 Annex M: NF u16, then NF
 * times OFF u64, LEN u32, DR u16); zero-length fragments are dropped. For kind J2K the tree
 * is ignored (may be NULL) and one location spans the whole file with box = -1.
 *
 * out, n: receive an array of *n locations (NULL and 0 when there are none); the array and each
 *         frag array come from a: free them with jpip__cs_locations_free. Nothing to free on
 *         failure.
 * @return JPIP_OK; JPIP_EUNSUPPORTED "codestream N is stored in another file (data reference
 *         DR), which is not supported" for a fragment with DR != 0; JPIP_EMALFORMED for an
 *         ftbl without flst, an flst too short for NF entries, or a fragment outside the file;
 *         JPIP_ENOMEM; a read error from src. */
int jpip__box_codestreams(const struct jpip__box_tree *t, const struct jpip_source *src, int kind,
                          struct jpip__cs_location **out, uint32_t *n,
                          const struct jpip_allocator *a, struct jpip__err *err);
void jpip__cs_locations_free(struct jpip__cs_location *v, uint32_t n,
                             const struct jpip_allocator *a);

/* A jpip_source presenting a codestream's fragments as one contiguous range [0, len):
 * read_at maps logical offsets to file offsets, splitting reads that cross fragments. The
 * struct must stay at a fixed address while used (src.user points to it). file and frag are
 * borrowed for the life of the span source. Each read scans the fragment list linearly. */
struct jpip__span_source {
    struct jpip_source src;
    const struct jpip_source *file;
    const struct jpip__span *frag;
    uint32_t nfrag;
};
void jpip__span_source_init(struct jpip__span_source *s, const struct jpip_source *file,
                            const struct jpip__span *frag, uint32_t nfrag);

#endif
