/* SPDX-License-Identifier: BSD-2-Clause */
/* Cutting a box tree into metadata-bins (see metabins.h). */
#include "databin/metabins.h"

#include <string.h>

#include "common/alloc.h"
#include "common/bytes.h"
#include "common/source.h"

#define MAX_BINS (1u << 20)

static int add_piece(struct jpip__metabins *mb, uint8_t literal, uint64_t src, uint64_t len)
{
    if (len == 0)
        return JPIP_OK;
    if (mb->npieces == mb->cap_pieces) {
        uint32_t ncap = mb->cap_pieces ? mb->cap_pieces * 2 : 32;
        struct jpip__mb_piece *nv =
            jpip__realloc(mb->alloc, mb->piece, mb->cap_pieces * sizeof *nv, ncap * sizeof *nv);
        if (!nv)
            return JPIP_ENOMEM;
        mb->piece = nv;
        mb->cap_pieces = ncap;
    }
    mb->piece[mb->npieces++] = (struct jpip__mb_piece){literal, src, len};
    return JPIP_OK;
}

static int add_literal(struct jpip__metabins *mb, const uint8_t *p, size_t n)
{
    if (mb->lit_len + n > mb->lit_cap) {
        size_t ncap = mb->lit_cap ? mb->lit_cap * 2 : 256;
        while (ncap < mb->lit_len + n)
            ncap *= 2;
        uint8_t *nl = jpip__realloc(mb->alloc, mb->lit, mb->lit_len, ncap);
        if (!nl)
            return JPIP_ENOMEM;
        mb->lit = nl;
        mb->lit_cap = ncap;
    }
    size_t at = mb->lit_len;
    memcpy(mb->lit + at, p, n);
    mb->lit_len += n;
    return add_piece(mb, 1, at, n);
}

static void put64(uint8_t *p, uint64_t v)
{
    jpip__put_be32(p, (uint32_t)(v >> 32));
    jpip__put_be32(p + 4, (uint32_t)v);
}

/* The original box header, as the placeholder's OrigBH field carries it. */
static size_t orig_header(const struct jpip__box *b, uint8_t *h)
{
    if (b->hdr_len == 16) {
        jpip__put_be32(h, 1);
        jpip__put_be32(h + 4, b->type);
        put64(h + 8, b->len);
        return 16;
    }
    jpip__put_be32(h, b->to_end ? 0 : (uint32_t)b->len);
    jpip__put_be32(h + 4, b->type);
    return 8;
}

/* Placeholder box (15444-9 Annex I): flags 1 = contents in bin orig_id; flags 4 = the box is
 * codestream csid. */
static int add_placeholder(struct jpip__metabins *mb, const struct jpip__box *b, uint32_t flags,
                           uint64_t orig_id, uint64_t csid)
{
    uint8_t p[64];
    size_t n = 8;
    jpip__put_be32(p + 4, JPIP__BOX_PHLD);
    jpip__put_be32(p + n, flags);
    n += 4;
    put64(p + n, orig_id);
    n += 8;
    n += orig_header(b, p + n);
    if (flags & 4) {
        put64(p + n, 0); /* EquivID */
        n += 8;
        memset(p + n, 0, 8); /* EquivBH */
        n += 8;
        put64(p + n, csid);
        n += 8;
    }
    jpip__put_be32(p, (uint32_t)n);
    return add_literal(mb, p, n);
}

struct builder {
    struct jpip__metabins *mb;
    const struct jpip__box_tree *t;
    const struct jpip__cs_location *loc;
    uint32_t ncs;
    uint64_t threshold;
    int32_t *first_child, *next_sibling;
    int32_t *queue; /* box per bin (bin 0: -1) */
    uint32_t nqueue, capq;
};

static int64_t codestream_of(const struct builder *b, int32_t box)
{
    for (uint32_t i = 0; i < b->ncs; i++)
        if (b->loc[i].box == box)
            return i;
    return -1;
}

static int new_bin(struct builder *b, int32_t box, uint32_t *id)
{
    if (b->nqueue >= MAX_BINS)
        return JPIP_ELIMIT;
    if (b->nqueue == b->capq) {
        uint32_t ncap = b->capq * 2;
        int32_t *nq =
            jpip__realloc(b->mb->alloc, b->queue, b->capq * sizeof *nq, ncap * sizeof *nq);
        if (!nq)
            return JPIP_ENOMEM;
        b->queue = nq;
        b->capq = ncap;
    }
    *id = b->nqueue;
    b->queue[b->nqueue++] = box;
    return JPIP_OK;
}

/* The 15444-9 Annex I index boxes: a server's index of the file, of no use to a client
 * rendering it (it can still ask for them with metareq). */
static int is_index_box(uint32_t type)
{
    return type == 0x63696478u /* cidx */ || type == 0x66696478u /* fidx */;
}

/* Whether box x goes behind a placeholder, its contents in a bin of their own: when larger than
 * the threshold, and index boxes whenever the placeholder (20 bytes + the original header) is
 * shorter than the box, so bin 0 carries little that clients do not need. */
static int behind_placeholder(const struct builder *b, const struct jpip__box *x)
{
    return x->len > b->threshold || (is_index_box(x->type) && x->len > 20u + x->hdr_len);
}

/* Emit the sequence of boxes starting at child, each verbatim or as a placeholder. */
static int emit_children(struct builder *b, uint32_t bin, int32_t child)
{
    for (int32_t i = child; i >= 0; i = b->next_sibling[i]) {
        const struct jpip__box *x = &b->t->v[i];
        b->mb->box_bin[i] = (int32_t)bin;
        int64_t cs = codestream_of(b, i);
        if (cs >= 0) {
            JPIP_TRY(add_placeholder(b->mb, x, 4, 0, (uint64_t)cs));
        } else if (behind_placeholder(b, x)) {
            uint32_t id;
            JPIP_TRY(new_bin(b, i, &id));
            b->mb->box_content_bin[i] = (int32_t)id;
            JPIP_TRY(add_placeholder(b->mb, x, 1, id, 0));
        } else {
            JPIP_TRY(add_piece(b->mb, 0, x->off, x->len));
            /* Boxes nested in a verbatim box live in the same bin. */
            for (uint32_t k = (uint32_t)i + 1; k < b->t->n && b->t->v[k].off < x->off + x->len; k++)
                b->mb->box_bin[k] = (int32_t)bin;
        }
    }
    return JPIP_OK;
}

int jpip__metabins_build(struct jpip__metabins *mb, const struct jpip__box_tree *t,
                         const struct jpip__cs_location *loc, uint32_t ncs, uint64_t threshold,
                         const struct jpip_allocator *a, struct jpip__err *err)
{
    memset(mb, 0, sizeof *mb);
    mb->alloc = a;
    struct builder b = {mb, t, loc, ncs, threshold ? threshold : 4096, NULL, NULL, NULL, 0, 16};
    uint32_t n = t->n;
    int rc = JPIP_ENOMEM;
    b.first_child = jpip__alloc(a, (n + 1) * sizeof *b.first_child);
    b.next_sibling = jpip__alloc(a, (n + 1) * sizeof *b.next_sibling);
    int32_t *last = jpip__alloc(a, (n + 1) * sizeof *last);
    b.queue = jpip__alloc(a, b.capq * sizeof *b.queue);
    mb->box_bin = jpip__alloc(a, (n + 1) * sizeof *mb->box_bin);
    mb->box_content_bin = jpip__alloc(a, (n + 1) * sizeof *mb->box_content_bin);
    if (!b.first_child || !b.next_sibling || !last || !b.queue || !mb->box_bin ||
        !mb->box_content_bin)
        goto out;
    /* Child lists; index n stands for the top level. */
    for (uint32_t i = 0; i <= n; i++) {
        b.first_child[i] = b.next_sibling[i] = last[i] = -1;
        mb->box_bin[i] = mb->box_content_bin[i] = -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = t->v[i].parent < 0 ? n : (uint32_t)t->v[i].parent;
        if (last[p] < 0)
            b.first_child[p] = (int32_t)i;
        else
            b.next_sibling[last[p]] = (int32_t)i;
        last[p] = (int32_t)i;
    }
    uint32_t id;
    if ((rc = new_bin(&b, -1, &id)) < 0)
        goto out;
    /* Breadth-first: bin k's contents are produced after bins 0..k-1. */
    mb->bin = NULL;
    for (uint32_t k = 0; k < b.nqueue; k++) {
        struct jpip__metabin *nb = jpip__realloc(a, mb->bin, k * sizeof *nb, (k + 1) * sizeof *nb);
        if (!nb) {
            rc = JPIP_ENOMEM;
            goto out;
        }
        mb->bin = nb;
        mb->nbins = k + 1;
        int32_t box = b.queue[k];
        struct jpip__metabin *m = &mb->bin[k];
        m->box = box;
        m->first_piece = mb->npieces;
        if (box < 0) {
            rc = emit_children(&b, k, b.first_child[n]);
        } else if (b.first_child[box] >= 0 && jpip__box_is_superbox(t->v[box].type, NULL)) {
            /* A superbox's contents: any fixed prefix before its sub-boxes, then them. */
            const struct jpip__box *x = &t->v[box];
            uint64_t start = x->off + x->hdr_len;
            uint64_t first = t->v[b.first_child[box]].off;
            rc = add_piece(mb, 0, start, first - start);
            if (rc >= 0)
                rc = emit_children(&b, k, b.first_child[box]);
        } else {
            const struct jpip__box *x = &t->v[box];
            rc = add_piece(mb, 0, x->off + x->hdr_len, x->len - x->hdr_len);
        }
        if (rc < 0)
            goto out;
        m = &mb->bin[k];
        m->npieces = mb->npieces - m->first_piece;
        m->len = 0;
        for (uint32_t p = 0; p < m->npieces; p++)
            m->len += mb->piece[m->first_piece + p].len;
    }
    rc = JPIP_OK;
out:
    jpip__free(a, b.first_child);
    jpip__free(a, b.next_sibling);
    jpip__free(a, last);
    jpip__free(a, b.queue);
    if (rc < 0) {
        jpip__metabins_free(mb);
        return jpip__errf(err, rc, "metadata-bins: %s", jpip_strerror(rc));
    }
    return JPIP_OK;
}

void jpip__metabins_free(struct jpip__metabins *mb)
{
    const struct jpip_allocator *a = mb->alloc;
    jpip__free(a, mb->bin);
    jpip__free(a, mb->piece);
    jpip__free(a, mb->lit);
    jpip__free(a, mb->box_bin);
    jpip__free(a, mb->box_content_bin);
    memset(mb, 0, sizeof *mb);
    mb->alloc = a;
}

int jpip__metabins_read(const struct jpip__metabins *mb, const struct jpip_source *src,
                        uint32_t bin, uint64_t off, uint8_t *dst, size_t len, struct jpip__err *err)
{
    JPIP_FAIL_IF(bin >= mb->nbins, err, JPIP_EINVAL, "metadata-bin %u does not exist", bin);
    const struct jpip__metabin *m = &mb->bin[bin];
    JPIP_FAIL_IF(off > m->len || len > m->len - off, err, JPIP_EINVAL,
                 "read past the end of metadata-bin %u", bin);
    uint64_t pos = 0;
    for (uint32_t i = 0; i < m->npieces && len > 0; i++) {
        const struct jpip__mb_piece *p = &mb->piece[m->first_piece + i];
        if (off >= pos + p->len) {
            pos += p->len;
            continue;
        }
        uint64_t skip = off - pos, take = p->len - skip;
        if (take > len)
            take = len;
        if (p->literal)
            memcpy(dst, mb->lit + p->src + skip, (size_t)take);
        else
            JPIP_TRY(jpip__src_read(src, p->src + skip, dst, (size_t)take, err));
        dst += take;
        len -= (size_t)take;
        off += take;
        pos += p->len;
    }
    return JPIP_OK;
}
