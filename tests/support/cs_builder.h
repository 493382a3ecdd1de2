/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper (header-only): builds JPEG 2000 codestream pieces in memory. A growable byte
 * writer with marker-segment writers (SIZ, COD, COC, QCD, POC, SOT), a packet-header bit writer
 * with bit stuffing, a tag-tree encoder and a packet-header encoder written from 15444-1 B.10
 * independently of lib/codestream, so unit tests can check the decoder against it. Failures
 * here abort: they are bugs in the test, not in the library.
 */
#ifndef JPIP_TEST_CS_BUILDER_H
#define JPIP_TEST_CS_BUILDER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- bytes ------------------------------------------------------------------------------- */

struct csb {
    uint8_t *d;
    size_t n, cap;
};

static inline void csb_put(struct csb *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < b->n + n)
            ncap *= 2;
        uint8_t *nd = realloc(b->d, ncap);
        if (!nd) {
            fprintf(stderr, "cs_builder: out of memory\n");
            abort();
        }
        b->d = nd;
        b->cap = ncap;
    }
    if (n)
        memcpy(b->d + b->n, p, n);
    b->n += n;
}
static inline void csb_u8(struct csb *b, uint8_t v)
{
    csb_put(b, &v, 1);
}
static inline void csb_u16(struct csb *b, uint16_t v)
{
    csb_u8(b, (uint8_t)(v >> 8));
    csb_u8(b, (uint8_t)v);
}
static inline void csb_u32(struct csb *b, uint32_t v)
{
    csb_u16(b, (uint16_t)(v >> 16));
    csb_u16(b, (uint16_t)v);
}
static inline void csb_free(struct csb *b)
{
    free(b->d);
    b->d = NULL;
    b->n = b->cap = 0;
}
static inline void csb_set_u16(struct csb *b, size_t at, uint16_t v)
{
    b->d[at] = (uint8_t)(v >> 8);
    b->d[at + 1] = (uint8_t)v;
}
static inline void csb_set_u32(struct csb *b, size_t at, uint32_t v)
{
    csb_set_u16(b, at, (uint16_t)(v >> 16));
    csb_set_u16(b, at + 2, (uint16_t)v);
}

/* Start a marker segment: writes the code and a length placeholder; returns where the length
 * field is. csb_end fills it (the length counts itself and the body, not the code). */
static inline size_t csb_begin(struct csb *b, uint16_t code)
{
    csb_u16(b, code);
    size_t at = b->n;
    csb_u16(b, 0);
    return at;
}
static inline void csb_end(struct csb *b, size_t at)
{
    csb_set_u16(b, at, (uint16_t)(b->n - at));
}

/* ---- marker segments (15444-1 A.5, A.6, A.7) --------------------------------------------- */

struct csb_siz {
    uint16_t rsiz;
    uint32_t xsiz, ysiz, xosiz, yosiz, xtsiz, ytsiz, xtosiz, ytosiz;
    uint16_t csiz;
    const uint8_t *dx, *dy; /* csiz entries each, or NULL for 1 */
    uint8_t depth;          /* 0 means 8 */
};

static inline void csb_siz(struct csb *b, const struct csb_siz *s)
{
    size_t at = csb_begin(b, 0xFF51);
    csb_u16(b, s->rsiz);
    csb_u32(b, s->xsiz);
    csb_u32(b, s->ysiz);
    csb_u32(b, s->xosiz);
    csb_u32(b, s->yosiz);
    csb_u32(b, s->xtsiz);
    csb_u32(b, s->ytsiz);
    csb_u32(b, s->xtosiz);
    csb_u32(b, s->ytosiz);
    csb_u16(b, s->csiz);
    for (unsigned c = 0; c < s->csiz; c++) {
        csb_u8(b, (uint8_t)((s->depth ? s->depth : 8) - 1));
        csb_u8(b, s->dx ? s->dx[c] : 1);
        csb_u8(b, s->dy ? s->dy[c] : 1);
    }
    csb_end(b, at);
}

/* SPcod/SPcoc: nl levels, code-block exponents xcb, ycb (actual, 2..10), style, wavelet, and
 * nl + 1 precinct bytes (low nibble PPx, high PPy) or NULL for the default. */
struct csb_spco {
    uint8_t nl, xcb, ycb, style, wavelet;
    const uint8_t *prec;
};

static inline void csb_spco(struct csb *b, const struct csb_spco *s)
{
    csb_u8(b, s->nl);
    csb_u8(b, (uint8_t)(s->xcb - 2));
    csb_u8(b, (uint8_t)(s->ycb - 2));
    csb_u8(b, s->style);
    csb_u8(b, s->wavelet);
    if (s->prec)
        csb_put(b, s->prec, (size_t)s->nl + 1);
}

/* COD: scod bit 0 is set from spco->prec; pass SOP (2) and EPH (4) in scod. */
static inline void csb_cod(struct csb *b, uint8_t scod, uint8_t prog, uint16_t layers, uint8_t mct,
                           const struct csb_spco *s)
{
    size_t at = csb_begin(b, 0xFF52);
    csb_u8(b, (uint8_t)((scod & ~1u) | (s->prec ? 1u : 0u)));
    csb_u8(b, prog);
    csb_u16(b, layers);
    csb_u8(b, mct);
    csb_spco(b, s);
    csb_end(b, at);
}

static inline void csb_coc(struct csb *b, uint16_t csiz, uint16_t comp, const struct csb_spco *s)
{
    size_t at = csb_begin(b, 0xFF53);
    if (csiz < 257)
        csb_u8(b, (uint8_t)comp);
    else
        csb_u16(b, comp);
    csb_u8(b, s->prec ? 1 : 0);
    csb_spco(b, s);
    csb_end(b, at);
}

/* QCD without quantisation for nl levels (one exponent byte per subband). */
static inline void csb_qcd(struct csb *b, uint8_t nl)
{
    size_t at = csb_begin(b, 0xFF5C);
    csb_u8(b, 0x40); /* 2 guard bits, no quantisation */
    for (unsigned i = 0; i < 3u * nl + 1; i++)
        csb_u8(b, (uint8_t)(9u << 3));
    csb_end(b, at);
}

struct csb_poc_entry {
    uint8_t rs, re, prog;
    uint16_t cs, ce, lye;
};

static inline void csb_poc(struct csb *b, uint16_t csiz, const struct csb_poc_entry *e, unsigned n)
{
    size_t at = csb_begin(b, 0xFF5F);
    for (unsigned i = 0; i < n; i++) {
        csb_u8(b, e[i].rs);
        if (csiz < 257)
            csb_u8(b, (uint8_t)e[i].cs);
        else
            csb_u16(b, e[i].cs);
        csb_u16(b, e[i].lye);
        csb_u8(b, e[i].re);
        if (csiz < 257)
            csb_u8(b, (uint8_t)e[i].ce);
        else
            csb_u16(b, e[i].ce);
        csb_u8(b, e[i].prog);
    }
    csb_end(b, at);
}

/* SOT; returns the position of the SOT marker (Psot is at +6). */
static inline size_t csb_sot(struct csb *b, uint16_t isot, uint32_t psot, uint8_t tpsot,
                             uint8_t tnsot)
{
    size_t at = b->n;
    csb_u16(b, 0xFF90);
    csb_u16(b, 10);
    csb_u16(b, isot);
    csb_u32(b, psot);
    csb_u8(b, tpsot);
    csb_u8(b, tnsot);
    return at;
}

/* ---- packet-header bits (15444-1 B.10.1) -------------------------------------------------- */

/* MSB first; a byte after 0xFF carries only 7 bits (its MSB is a stuffed 0). */
struct csb_bits {
    struct csb *out;
    unsigned acc, used, cap;
    int last_ff;
};

static inline void csb_bits_init(struct csb_bits *w, struct csb *out)
{
    w->out = out;
    w->acc = w->used = 0;
    w->cap = 8;
    w->last_ff = 0;
}

static inline void csb_bits_emit(struct csb_bits *w)
{
    uint8_t byte = (uint8_t)w->acc;
    csb_u8(w->out, byte);
    w->last_ff = byte == 0xFF;
    w->cap = w->last_ff ? 7 : 8;
    w->acc = w->used = 0;
}

static inline void csb_bits_put(struct csb_bits *w, unsigned bit)
{
    w->acc = (w->acc << 1) | (bit & 1u);
    if (++w->used == w->cap)
        csb_bits_emit(w);
}

static inline void csb_bits_putn(struct csb_bits *w, uint32_t v, unsigned n)
{
    while (n--)
        csb_bits_put(w, (v >> n) & 1u);
}

/* End of a header: pad to a byte with zeros; after a final 0xFF write the stuffed byte. */
static inline void csb_bits_flush(struct csb_bits *w)
{
    if (w->used) {
        w->acc <<= w->cap - w->used;
        csb_bits_emit(w);
    }
    if (w->last_ff)
        csb_bits_emit(w); /* acc is 0: a 0x00 byte */
}

/* ---- tag trees (15444-1 B.10.2) ---------------------------------------------------------- */

struct csb_tgt_node {
    uint32_t value, low, parent;
    int known;
};

struct csb_tgt {
    uint32_t w, h, n;
    struct csb_tgt_node *v; /* leaves (raster) first, then each coarser level */
};

static inline void csb_tgt_init(struct csb_tgt *t, uint32_t w, uint32_t h)
{
    uint32_t n = 0, lw = w, lh = h;
    for (;;) {
        n += lw * lh;
        if (lw <= 1 && lh <= 1)
            break;
        lw = (lw + 1) / 2;
        lh = (lh + 1) / 2;
    }
    t->w = w;
    t->h = h;
    t->n = n;
    t->v = calloc(n ? n : 1, sizeof *t->v);
    if (!t->v)
        abort();
    uint32_t base = 0;
    lw = w;
    lh = h;
    for (;;) {
        uint32_t pw = (lw + 1) / 2, ph = (lh + 1) / 2, next = base + lw * lh;
        int root = lw <= 1 && lh <= 1;
        for (uint32_t y = 0; y < lh; y++)
            for (uint32_t x = 0; x < lw; x++)
                t->v[base + y * lw + x].parent = root ? UINT32_MAX : next + (y / 2) * pw + x / 2;
        if (root)
            break;
        base = next;
        lw = pw;
        lh = ph;
    }
}

static inline void csb_tgt_free(struct csb_tgt *t)
{
    free(t->v);
    t->v = NULL;
}

/* Set leaf values (w*h, raster); every parent becomes the minimum of its children. */
static inline void csb_tgt_set(struct csb_tgt *t, const uint32_t *leaves)
{
    for (uint32_t i = 0; i < t->n; i++) {
        t->v[i].value = UINT32_MAX;
        t->v[i].low = 0;
        t->v[i].known = 0;
    }
    for (uint32_t i = 0; i < t->w * t->h; i++)
        t->v[i].value = leaves[i];
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t p = t->v[i].parent;
        if (p != UINT32_MAX && t->v[i].value < t->v[p].value)
            t->v[p].value = t->v[i].value;
    }
}

/* Emit what a decoder needs to tell whether leaf's value is below threshold: from the root
 * down, 0 bits raise a node's lower bound, a 1 bit says the bound is the value. */
static inline void csb_tgt_encode(struct csb_tgt *t, struct csb_bits *w, uint32_t leaf,
                                  uint32_t threshold)
{
    uint32_t path[64];
    unsigned depth = 0;
    for (uint32_t k = leaf; k != UINT32_MAX; k = t->v[k].parent)
        path[depth++] = k;
    uint32_t low = 0;
    while (depth) {
        struct csb_tgt_node *nd = &t->v[path[--depth]];
        if (nd->low < low)
            nd->low = low;
        low = nd->low;
        while (low < threshold) {
            if (low >= nd->value) {
                if (!nd->known) {
                    csb_bits_put(w, 1);
                    nd->known = 1;
                }
                break;
            }
            csb_bits_put(w, 0);
            low++;
        }
        nd->low = low;
    }
}

/* ---- packet headers (15444-1 B.10.3 to B.10.7) ------------------------------------------- */

#define CSB_MAX_LAYERS 32

enum { CSB_BYPASS = 0x01, CSB_TERMALL = 0x04, CSB_HT = 0x40 };

struct csb_cblk {
    uint32_t first_layer; /* UINT32_MAX: never included */
    uint32_t zbp;         /* missing most significant bit-planes */
    uint8_t passes[CSB_MAX_LAYERS];
    /* encoder state */
    unsigned lblock, total_passes;
};

struct csb_prec {
    unsigned nbands;
    uint32_t cw[3], ch[3];
    uint8_t style;
    struct csb_cblk *cb[3];
    struct csb_tgt incl[3], imsb[3];
    uint32_t max_seg_len; /* 0: lengths as drawn; else each length is reduced modulo this + 1 */
};

static inline void csb_prec_init(struct csb_prec *p, unsigned nbands, const uint32_t *cw,
                                 const uint32_t *ch, uint8_t style)
{
    memset(p, 0, sizeof *p);
    p->nbands = nbands;
    p->style = style;
    for (unsigned b = 0; b < nbands; b++) {
        p->cw[b] = cw[b];
        p->ch[b] = ch[b];
        p->cb[b] = calloc((size_t)cw[b] * ch[b] + 1, sizeof *p->cb[b]);
        if (!p->cb[b])
            abort();
        for (uint32_t k = 0; k < cw[b] * ch[b]; k++) {
            p->cb[b][k].first_layer = UINT32_MAX;
            p->cb[b][k].lblock = 3;
        }
        csb_tgt_init(&p->incl[b], cw[b], ch[b]);
        csb_tgt_init(&p->imsb[b], cw[b], ch[b]);
    }
}

/* Call once the code-blocks' first_layer and zbp are set, before the first packet. */
static inline void csb_prec_ready(struct csb_prec *p)
{
    for (unsigned b = 0; b < p->nbands; b++) {
        uint32_t n = p->cw[b] * p->ch[b];
        uint32_t *fl = calloc(n + 1, sizeof *fl), *zb = calloc(n + 1, sizeof *zb);
        if (!fl || !zb)
            abort();
        for (uint32_t k = 0; k < n; k++) {
            fl[k] = p->cb[b][k].first_layer;
            zb[k] = p->cb[b][k].zbp;
        }
        csb_tgt_set(&p->incl[b], fl);
        csb_tgt_set(&p->imsb[b], zb);
        free(fl);
        free(zb);
    }
}

static inline void csb_prec_free(struct csb_prec *p)
{
    for (unsigned b = 0; b < p->nbands; b++) {
        free(p->cb[b]);
        csb_tgt_free(&p->incl[b]);
        csb_tgt_free(&p->imsb[b]);
    }
}

/* Number of passes in the codeword segment that begins after `done` passes of a code-block
 * (Annex D.4.1 and 15444-15): one segment of everything by default; with termination on
 * every pass, one pass each; with bypass, the first 10 passes, then raw segments of 2
 * passes alternating with MQ segments of 1; HT: the cleanup pass, then up to 2 refinement
 * passes, repeating. Returns the segment's end as a pass count. */
static inline unsigned csb_seg_end(uint8_t style, unsigned done)
{
    if (style & CSB_HT)
        return (done % 3 == 0) ? done + 1 : (done / 3) * 3 + 3;
    if (style & CSB_TERMALL)
        return done + 1;
    if (style & CSB_BYPASS) {
        if (done < 10)
            return 10;
        /* 10, 12, 13, 15, 16, ...: after 10, segment ends at 10 + 3k + {2, 3} */
        unsigned k = (done - 10) / 3, r = (done - 10) % 3;
        return 10 + 3 * k + (r < 2 ? 2 : 3);
    }
    return 1000000;
}

static inline unsigned csb_floorlog2(unsigned v)
{
    unsigned l = 0;
    while (v >>= 1)
        l++;
    return l;
}

static inline unsigned csb_bitlen(uint32_t v)
{
    unsigned n = 0;
    while (v) {
        n++;
        v >>= 1;
    }
    return n;
}

/* Number of coding passes (Table B.4). */
static inline void csb_put_npasses(struct csb_bits *w, unsigned n)
{
    if (n == 1)
        csb_bits_put(w, 0);
    else if (n == 2)
        csb_bits_putn(w, 2, 2);
    else if (n <= 5)
        csb_bits_putn(w, 0xC | (n - 3), 4);
    else if (n <= 36)
        csb_bits_putn(w, (0xFu << 5) | (n - 6), 9);
    else
        csb_bits_putn(w, (0x1FFu << 7) | (n - 37), 16);
}

/* Random source for segment lengths: xorshift32. */
static inline uint32_t csb_rand(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x12345678u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* A segment length: mostly small, sometimes up to 16 bits, rarely up to 22 bits. */
static inline uint32_t csb_rand_len(uint32_t *s)
{
    uint32_t r = csb_rand(s);
    switch (r & 15) {
    case 0: return (r >> 8) & 0x3FFFFF;
    case 1:
    case 2: return (r >> 8) & 0xFFFF;
    case 3: return 0;
    default: return (r >> 8) % 300;
    }
}

/* Encode the header of the packet of this precinct for layer: writes the header bytes to out
 * (no SOP/EPH) and returns the body length (sum of the segment lengths, drawn from rng). */
static inline uint64_t csb_packet_header(struct csb_prec *p, unsigned layer, struct csb *out,
                                         uint32_t *rng)
{
    struct csb_bits w;
    csb_bits_init(&w, out);
    int any = 0;
    for (unsigned b = 0; b < p->nbands; b++)
        for (uint32_t k = 0; k < p->cw[b] * p->ch[b]; k++)
            any |= p->cb[b][k].passes[layer] != 0;
    if (!any) {
        csb_bits_put(&w, 0);
        csb_bits_flush(&w);
        return 0;
    }
    csb_bits_put(&w, 1);
    uint64_t body = 0;
    for (unsigned b = 0; b < p->nbands; b++) {
        for (uint32_t k = 0; k < p->cw[b] * p->ch[b]; k++) {
            struct csb_cblk *cb = &p->cb[b][k];
            unsigned np = cb->passes[layer];
            int first = cb->first_layer == layer;
            if (cb->first_layer >= layer) /* not yet included before this layer */
                csb_tgt_encode(&p->incl[b], &w, k, layer + 1);
            else
                csb_bits_put(&w, np != 0);
            if (np == 0)
                continue;
            if (first)
                for (uint32_t thr = 1;; thr++) {
                    csb_tgt_encode(&p->imsb[b], &w, k, thr);
                    if (cb->zbp < thr)
                        break;
                }
            csb_put_npasses(&w, np);
            /* Split the new passes at segment ends and draw a length for each piece. */
            unsigned piece[200], npiece = 0, done = cb->total_passes, left = np;
            uint32_t len[200];
            unsigned need = cb->lblock;
            while (left) {
                unsigned end = csb_seg_end(p->style, done);
                unsigned take = end - done < left ? end - done : left;
                piece[npiece] = take;
                len[npiece] = csb_rand_len(rng);
                if (p->max_seg_len)
                    len[npiece] %= p->max_seg_len + 1;
                unsigned bits = csb_bitlen(len[npiece]);
                unsigned have = csb_floorlog2(take);
                if (bits > have && bits - have > need)
                    need = bits - have;
                npiece++;
                done += take;
                left -= take;
            }
            for (unsigned i = cb->lblock; i < need; i++)
                csb_bits_put(&w, 1);
            csb_bits_put(&w, 0);
            cb->lblock = need;
            for (unsigned i = 0; i < npiece; i++) {
                csb_bits_putn(&w, len[i], cb->lblock + csb_floorlog2(piece[i]));
                body += len[i];
            }
            cb->total_passes += np;
        }
    }
    csb_bits_flush(&w);
    return body;
}

#endif
