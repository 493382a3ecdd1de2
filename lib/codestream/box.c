/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * JP2-family boxes (15444-1 Annex I, 15444-2 Annex M): the bounded box-tree parser, file-kind
 * detection, and finding each codestream's bytes (jp2c contents or ftbl/flst fragments). It
 * reads only box headers, ftyp and flst; every other box's contents are left to its consumer.
 */
#include "codestream/box.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/bytes.h"
#include "common/source.h"

typedef unsigned long long ull; /* for printf of uint64_t without <inttypes.h> macros */

/* A box type as text for messages; bytes outside printable ASCII become '?'. */
struct fourcc_text {
    char s[5];
};
static struct fourcc_text fourcc(uint32_t type)
{
    struct fourcc_text t;
    for (int i = 0; i < 4; i++) {
        const unsigned char ch = (unsigned char)(type >> (24 - 8 * i));
        t.s[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    t.s[4] = '\0';
    return t;
}

/* The superboxes: boxes whose contents are a box sequence, after a fixed-size field for dtbl
 * (NDR, 2 bytes) and cref (Tcref, 4 bytes). 15444-1 Annex I (jp2h, res , uinf) and 15444-2
 * Annex M (the rest). */
static const struct {
    uint32_t type;
    uint32_t prefix;
} superboxes[] = {
    {JPIP__4CC('j', 'p', '2', 'h'), 0}, /* JP2 header */
    {JPIP__4CC('r', 'e', 's', ' '), 0}, /* resolution */
    {JPIP__4CC('u', 'i', 'n', 'f'), 0}, /* UUID info */
    {JPIP__4CC('a', 's', 'o', 'c'), 0}, /* association */
    {JPIP__4CC('f', 't', 'b', 'l'), 0}, /* fragment table */
    {JPIP__4CC('j', 'p', 'c', 'h'), 0}, /* codestream header */
    {JPIP__4CC('j', 'p', 'l', 'h'), 0}, /* compositing layer header */
    {JPIP__4CC('c', 'g', 'r', 'p'), 0}, /* colour group */
    {JPIP__4CC('c', 'o', 'm', 'p'), 0}, /* composition */
    {JPIP__4CC('g', 'r', 'p', '_'), 0}, /* group */
    {JPIP__4CC('d', 't', 'b', 'l'), 2}, /* data reference: NDR, then url boxes */
    {JPIP__4CC('c', 'r', 'e', 'f'), 4}, /* cross-reference: Tcref, then flst */
};

int jpip__box_is_superbox(uint32_t type, uint32_t *prefix)
{
    for (size_t i = 0; i < sizeof superboxes / sizeof superboxes[0]; i++) {
        if (superboxes[i].type == type) {
            if (prefix)
                *prefix = superboxes[i].prefix;
            return 1;
        }
    }
    return 0;
}

/* ---- box tree ------------------------------------------------------------------------------ */

struct tree_parse {
    struct jpip__box_tree *t;
    const struct jpip_source *src;
    uint32_t max_boxes;
    const struct jpip_allocator *a;
    struct jpip__err *err;
};

/* Name the end of a box sequence for error messages: "its parent 'jp2h' at offset 40" or
 * "the file (1234 bytes)". */
struct end_text {
    char s[64];
};
static struct end_text seq_end(const struct tree_parse *p, int32_t parent)
{
    struct end_text e;
    if (parent < 0) {
        snprintf(e.s, sizeof e.s, "the file (%llu bytes)", (ull)p->src->size);
    } else {
        const struct jpip__box *b = &p->t->v[parent];
        snprintf(e.s, sizeof e.s, "its parent '%s' at offset %llu", fourcc(b->type).s, (ull)b->off);
    }
    return e;
}

static int push_box(struct tree_parse *p, const struct jpip__box *b)
{
    struct jpip__box_tree *t = p->t;
    if (t->n >= p->max_boxes)
        return jpip__errf(p->err, JPIP_ELIMIT,
                          "box at offset %llu exceeds the limit of %u boxes per file", (ull)b->off,
                          p->max_boxes);
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 16;
        if (cap > p->max_boxes || cap < t->cap)
            cap = p->max_boxes;
        if ((uint64_t)cap * sizeof *t->v > SIZE_MAX) /* 32-bit hosts */
            return jpip__errf(p->err, JPIP_ENOMEM, "out of memory for %u boxes", cap);
        struct jpip__box *v =
            jpip__realloc(p->a, t->v, (size_t)t->cap * sizeof *v, (size_t)cap * sizeof *v);
        if (!v)
            return jpip__errf(p->err, JPIP_ENOMEM, "out of memory for %u boxes", cap);
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = *b;
    return JPIP_OK;
}

/* Parse the box sequence filling [start, end) of the file (15444-1 Annex I box layout: LBox,
 * TBox, XLBox when LBox = 1), descending into superboxes. Every box is at least 8 bytes long, so
 * the loop always advances; recursion depth is bounded by JPIP__BOX_MAX_DEPTH. */
static int parse_seq(struct tree_parse *p, uint64_t start, uint64_t end, int32_t parent,
                     uint16_t depth)
{
    uint64_t pos = start;
    while (pos < end) {
        uint8_t h[16];
        struct jpip__box b;
        memset(&b, 0, sizeof b);
        if (end - pos < 8)
            return jpip__errf(p->err, JPIP_EMALFORMED,
                              "truncated box header at offset %llu: only %llu bytes left before "
                              "the end of %s",
                              (ull)pos, (ull)(end - pos), seq_end(p, parent).s);
        JPIP_TRY(jpip__src_read(p->src, pos, h, 8, p->err));
        const uint32_t lbox = jpip__be32(h);
        b.type = jpip__be32(h + 4);
        b.off = pos;
        b.hdr_len = 8;
        b.parent = parent;
        b.depth = depth;
        if (lbox == 1) {
            if (end - pos < 16)
                return jpip__errf(p->err, JPIP_EMALFORMED,
                                  "truncated box header at offset %llu: box '%s' has LBox = 1 but "
                                  "only %llu bytes are left for the XLBox field before the end "
                                  "of %s",
                                  (ull)pos, fourcc(b.type).s, (ull)(end - pos),
                                  seq_end(p, parent).s);
            JPIP_TRY(jpip__src_read(p->src, pos + 8, h + 8, 8, p->err));
            b.hdr_len = 16;
            b.len = jpip__be64(h + 8);
            if (b.len < 16)
                return jpip__errf(p->err, JPIP_EMALFORMED,
                                  "box '%s' at offset %llu has XLBox = %llu, less than its "
                                  "16-byte header",
                                  fourcc(b.type).s, (ull)pos, (ull)b.len);
        } else if (lbox == 0) {
            b.len = end - pos; /* to the end of the parent or file */
            b.to_end = 1;
        } else if (lbox < 8) {
            return jpip__errf(p->err, JPIP_EMALFORMED,
                              "box '%s' at offset %llu has LBox = %u (values 2..7 are reserved)",
                              fourcc(b.type).s, (ull)pos, lbox);
        } else {
            b.len = lbox;
        }
        if (b.len > end - pos)
            return jpip__errf(p->err, JPIP_EMALFORMED,
                              "box '%s' at offset %llu has length %llu, which runs past the end "
                              "of %s at offset %llu",
                              fourcc(b.type).s, (ull)pos, (ull)b.len, seq_end(p, parent).s,
                              (ull)end);
        if (depth > JPIP__BOX_MAX_DEPTH)
            return jpip__errf(p->err, JPIP_ELIMIT,
                              "box '%s' at offset %llu is nested deeper than %d superboxes",
                              fourcc(b.type).s, (ull)pos, JPIP__BOX_MAX_DEPTH);
        const int32_t self = (int32_t)p->t->n;
        JPIP_TRY(push_box(p, &b));
        uint32_t prefix;
        if (jpip__box_is_superbox(b.type, &prefix)) {
            if (b.len - b.hdr_len < prefix)
                return jpip__errf(p->err, JPIP_EMALFORMED,
                                  "superbox '%s' at offset %llu is too short (%llu bytes) for its "
                                  "%u-byte field before the sub-boxes",
                                  fourcc(b.type).s, (ull)pos, (ull)b.len, prefix);
            JPIP_TRY(
                parse_seq(p, pos + b.hdr_len + prefix, pos + b.len, self, (uint16_t)(depth + 1)));
        }
        pos += b.len;
    }
    return JPIP_OK;
}

int jpip__box_tree_parse(struct jpip__box_tree *t, const struct jpip_source *src,
                         uint32_t max_boxes, const struct jpip_allocator *a, struct jpip__err *err)
{
    if (!t || !src)
        return jpip__errf(err, JPIP_EINVAL, "box tree parse: NULL argument");
    memset(t, 0, sizeof *t);
    if (max_boxes > INT32_MAX) /* parent indices are int32_t */
        max_boxes = INT32_MAX;
    struct tree_parse p = {t, src, max_boxes, a, err};
    const int rc = parse_seq(&p, 0, src->size, -1, 0);
    if (rc < 0)
        jpip__box_tree_free(t, a);
    return rc;
}

void jpip__box_tree_free(struct jpip__box_tree *t, const struct jpip_allocator *a)
{
    if (!t)
        return;
    jpip__free(a, t->v);
    memset(t, 0, sizeof *t);
}

/* ---- file kind ----------------------------------------------------------------------------- */

/* How many ftyp compatibility-list entries are examined (a real list holds a handful). */
#define FTYP_MAX_CL 256

int jpip__file_kind(const struct jpip_source *src, int *kind, struct jpip__err *err)
{
    /* 15444-1 Annex I: the signature box is exactly these 12 bytes. */
    static const uint8_t sig[12] = {0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50,
                                    0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A};
    static const uint8_t soc_siz[4] = {0xFF, 0x4F, 0xFF, 0x51};
    uint8_t h[16];
    if (!src || !kind)
        return jpip__errf(err, JPIP_EINVAL, "file kind: NULL argument");
    const size_t head = src->size < 12 ? (size_t)src->size : 12;
    JPIP_TRY(jpip__src_read(src, 0, h, head, err));
    if (head >= 4 && memcmp(h, soc_siz, 4) == 0) {
        *kind = JPIP__FILE_J2K;
        return JPIP_OK;
    }
    if (head < 12 || memcmp(h, sig, 12) != 0)
        return jpip__errf(err, JPIP_EMALFORMED,
                          "not a JPEG 2000 file: offset 0 holds neither a codestream (SOC, SIZ) "
                          "nor the JP2 signature box");

    /* 15444-1 Annex I: the File Type box follows directly: BR, MinV, then CL entries. */
    const uint64_t at = 12, left = src->size - 12;
    if (left < 8)
        return jpip__errf(err, JPIP_EMALFORMED,
                          "not a JPEG 2000 file: no ftyp box after the signature (offset 12)");
    JPIP_TRY(jpip__src_read(src, at, h, 8, err));
    if (jpip__be32(h + 4) != JPIP__BOX_FTYP)
        return jpip__errf(err, JPIP_EMALFORMED,
                          "not a JPEG 2000 file: box '%s' at offset 12 where ftyp is required",
                          fourcc(jpip__be32(h + 4)).s);
    uint64_t len = jpip__be32(h), hdr = 8;
    if (len == 1) {
        if (left < 16)
            return jpip__errf(err, JPIP_EMALFORMED, "truncated ftyp box header at offset 12");
        JPIP_TRY(jpip__src_read(src, at + 8, h + 8, 8, err));
        len = jpip__be64(h + 8);
        hdr = 16;
    } else if (len == 0) {
        len = left;
    }
    if (len < hdr + 8 || len > left)
        return jpip__errf(err, JPIP_EMALFORMED,
                          "ftyp box at offset 12 has bad length %llu (needs %llu..%llu bytes)",
                          (ull)len, (ull)(hdr + 8), (ull)left);
    uint8_t br[4];
    JPIP_TRY(jpip__src_read(src, at + hdr, br, 4, err));
    const uint32_t brand = jpip__be32(br);
    if (brand == JPIP__4CC('j', 'p', 'x', ' ') || brand == JPIP__4CC('j', 'p', '2', ' ')) {
        *kind = brand == JPIP__4CC('j', 'p', '2', ' ') ? JPIP__FILE_JP2 : JPIP__FILE_JPX;
        return JPIP_OK;
    }
    /* Another brand (e.g. 'jph ', 'jpm '): JPX if the list names jpx but not jp2. */
    uint64_t ncl = (len - hdr - 8) / 4;
    if (ncl > FTYP_MAX_CL)
        ncl = FTYP_MAX_CL;
    uint8_t cl[FTYP_MAX_CL * 4];
    JPIP_TRY(jpip__src_read(src, at + hdr + 8, cl, (size_t)ncl * 4, err));
    int has_jp2 = 0, has_jpx = 0;
    for (uint64_t i = 0; i < ncl; i++) {
        const uint32_t c = jpip__be32(cl + 4 * i);
        has_jp2 |= c == JPIP__4CC('j', 'p', '2', ' ');
        has_jpx |= c == JPIP__4CC('j', 'p', 'x', ' ');
    }
    *kind = (has_jpx && !has_jp2) ? JPIP__FILE_JPX : JPIP__FILE_JP2;
    return JPIP_OK;
}

/* ---- codestream locations ------------------------------------------------------------------ */

/* Fragment list entries read per source call: NF x [OFF u64, LEN u32, DR u16]. */
#define FLST_ENTRY 14
#define FLST_CHUNK 64

/* Fill loc from the first flst box directly inside the ftbl box at index ftbl (15444-2
 * Annex M, fragment table and fragment list boxes). cs is the codestream's index, for messages. */
static int read_flst(const struct jpip__box_tree *t, uint32_t ftbl, const struct jpip_source *src,
                     uint32_t cs, struct jpip__cs_location *loc, const struct jpip_allocator *a,
                     struct jpip__err *err)
{
    const struct jpip__box *fb = &t->v[ftbl];
    const struct jpip__box *fl = NULL;
    /* Pre-order: the descendants of ftbl are the boxes that follow it with greater depth. */
    for (uint32_t j = ftbl + 1; j < t->n && t->v[j].depth > fb->depth; j++) {
        if (t->v[j].parent == (int32_t)ftbl && t->v[j].type == JPIP__BOX_FLST) {
            fl = &t->v[j];
            break;
        }
    }
    if (!fl)
        return jpip__errf(err, JPIP_EMALFORMED,
                          "fragment table box at offset %llu (codestream %u) has no flst box",
                          (ull)fb->off, cs);
    const uint64_t coff = fl->off + fl->hdr_len, clen = fl->len - fl->hdr_len;
    uint8_t buf[FLST_ENTRY * FLST_CHUNK];
    if (clen < 2)
        return jpip__errf(err, JPIP_EMALFORMED,
                          "fragment list box at offset %llu is too short for its NF field",
                          (ull)fl->off);
    JPIP_TRY(jpip__src_read(src, coff, buf, 2, err));
    const uint32_t nf = jpip__be16(buf);
    if ((clen - 2) / FLST_ENTRY < nf)
        return jpip__errf(err, JPIP_EMALFORMED,
                          "fragment list box at offset %llu lists %u fragments but holds only "
                          "%llu bytes",
                          (ull)fl->off, nf, (ull)clen);
    if (nf == 0)
        return JPIP_OK;
    loc->frag = jpip__calloc(a, nf, sizeof *loc->frag);
    if (!loc->frag)
        return jpip__errf(err, JPIP_ENOMEM, "out of memory for %u fragments", nf);
    for (uint32_t i = 0; i < nf; i += FLST_CHUNK) {
        const uint32_t k = nf - i < FLST_CHUNK ? nf - i : FLST_CHUNK;
        JPIP_TRY(jpip__src_read(src, coff + 2 + (uint64_t)i * FLST_ENTRY, buf,
                                (size_t)k * FLST_ENTRY, err));
        for (uint32_t e = 0; e < k; e++) {
            const uint8_t *q = buf + e * FLST_ENTRY;
            const uint64_t off = jpip__be64(q);
            const uint32_t len = jpip__be32(q + 8);
            const uint16_t dr = jpip__be16(q + 12);
            if (dr != 0)
                return jpip__errf(err, JPIP_EUNSUPPORTED,
                                  "codestream %u is stored in another file (data reference %u), "
                                  "which is not supported (fragment list at offset %llu)",
                                  cs, dr, (ull)fl->off);
            if (len == 0)
                continue;
            if (off > src->size || len > src->size - off)
                return jpip__errf(err, JPIP_EMALFORMED,
                                  "fragment %u of codestream %u (offset %llu, length %u, listed at "
                                  "offset %llu) lies outside the file (%llu bytes)",
                                  i + e, cs, (ull)off, len, (ull)fl->off, (ull)src->size);
            loc->frag[loc->nfrag].off = off;
            loc->frag[loc->nfrag].len = len;
            loc->nfrag++;
            loc->len += len; /* at most 65535 x (2^32 - 1): cannot overflow */
        }
    }
    return JPIP_OK;
}

int jpip__box_codestreams(const struct jpip__box_tree *t, const struct jpip_source *src, int kind,
                          struct jpip__cs_location **out, uint32_t *n,
                          const struct jpip_allocator *a, struct jpip__err *err)
{
    if (!src || !out || !n || (kind != JPIP__FILE_J2K && !t))
        return jpip__errf(err, JPIP_EINVAL, "box codestreams: NULL argument");
    *out = NULL;
    *n = 0;
    uint32_t count = 0;
    if (kind == JPIP__FILE_J2K) {
        count = 1;
    } else {
        for (uint32_t i = 0; i < t->n; i++)
            count += t->v[i].type == JPIP__BOX_JP2C || t->v[i].type == JPIP__BOX_FTBL;
        if (count == 0)
            return JPIP_OK;
    }
    struct jpip__cs_location *v = jpip__calloc(a, count, sizeof *v);
    if (!v)
        return jpip__errf(err, JPIP_ENOMEM, "out of memory for %u codestream locations", count);
    int rc = JPIP_OK;
    if (kind == JPIP__FILE_J2K) {
        v[0].box = -1;
        v[0].frag = jpip__alloc(a, sizeof *v[0].frag);
        if (!v[0].frag) {
            rc = jpip__errf(err, JPIP_ENOMEM, "out of memory for a codestream location");
            goto fail;
        }
        v[0].frag[0].off = 0;
        v[0].frag[0].len = src->size;
        v[0].nfrag = 1;
        v[0].len = src->size;
    } else {
        uint32_t k = 0;
        for (uint32_t i = 0; i < t->n; i++) {
            const struct jpip__box *b = &t->v[i];
            struct jpip__cs_location *loc = &v[k];
            if (b->type == JPIP__BOX_JP2C) {
                loc->box = (int32_t)i;
                k++;
                if (b->len == b->hdr_len)
                    continue; /* empty contents: a codestream of no bytes */
                loc->frag = jpip__alloc(a, sizeof *loc->frag);
                if (!loc->frag) {
                    rc = jpip__errf(err, JPIP_ENOMEM, "out of memory for a codestream location");
                    goto fail;
                }
                loc->frag[0].off = b->off + b->hdr_len;
                loc->frag[0].len = b->len - b->hdr_len;
                loc->nfrag = 1;
                loc->len = loc->frag[0].len;
            } else if (b->type == JPIP__BOX_FTBL) {
                loc->box = (int32_t)i;
                k++;
                rc = read_flst(t, i, src, k - 1, loc, a, err);
                if (rc < 0)
                    goto fail;
            }
        }
    }
    *out = v;
    *n = count;
    return JPIP_OK;
fail:
    jpip__cs_locations_free(v, count, a);
    return rc;
}

void jpip__cs_locations_free(struct jpip__cs_location *v, uint32_t n,
                             const struct jpip_allocator *a)
{
    if (!v)
        return;
    for (uint32_t i = 0; i < n; i++)
        jpip__free(a, v[i].frag);
    jpip__free(a, v);
}

/* ---- fragmented codestream as one source --------------------------------------------------- */

/* Copy [off, off+len) of the logical range: walk the fragments, reading the part of each that
 * overlaps the request. */
static int span_read(void *user, uint64_t off, void *dst, size_t len)
{
    const struct jpip__span_source *s = user;
    uint8_t *d = dst;
    if (off > s->src.size || len > s->src.size - off)
        return JPIP_EMALFORMED;
    uint64_t base = 0; /* logical offset of fragment i */
    for (uint32_t i = 0; i < s->nfrag && len > 0; i++) {
        const struct jpip__span *f = &s->frag[i];
        if (off - base >= f->len) {
            base += f->len;
            continue;
        }
        const uint64_t in = off - base;
        const size_t take = f->len - in < len ? (size_t)(f->len - in) : len;
        const int rc = jpip__src_read(s->file, f->off + in, d, take, NULL);
        if (rc < 0)
            return rc;
        d += take;
        len -= take;
        off += take;
        base += f->len;
    }
    return len == 0 ? JPIP_OK : JPIP_EMALFORMED;
}

void jpip__span_source_init(struct jpip__span_source *s, const struct jpip_source *file,
                            const struct jpip__span *frag, uint32_t nfrag)
{
    uint64_t total = 0;
    uint32_t used = 0;
    /* Stop at the first fragment whose length would overflow the total (never the case for
     * fragments from jpip__box_codestreams), so every logical offset maps to a fragment. */
    while (used < nfrag && frag[used].len <= UINT64_MAX - total)
        total += frag[used++].len;
    s->src.read_at = span_read;
    s->src.size = total;
    s->src.user = s;
    s->file = file;
    s->frag = frag;
    s->nfrag = used;
}
