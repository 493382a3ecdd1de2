/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for lib/codestream/packet_header.c: packets built by the independent reference encoder
 * in tests/support/cs_builder.h (tag trees, pass counts, Lblock, segment lengths, bit stuffing)
 * for random code-block contributions over several layers, in the default, BYPASS, TERMALL,
 * BYPASS|TERMALL and HT code-block styles. The decoder must report the encoded header and body
 * lengths, and every truncated header must give JPIP_AGAIN with the state left unchanged. Then
 * whole codestreams of such packets (SOP, EPH, PLT, PPT, several tile-parts, headers larger
 * than the index's 16 KiB read window) go through the public index API, which must find every
 * packet where the encoder put it.
 */
#include <jpip/index.h>

#include "codestream/cs.h"
#include "codestream/packet_header.h"
#include "cs_builder.h"
#include "test.h"

/* Random contributions: each code-block gets a first layer (or none), a zero bit-plane count
 * and pass counts for its layers, keeping the total within maxpass. */
static void random_contributions(struct csb_prec *p, unsigned layers, uint32_t *rng,
                                 unsigned maxpass)
{
    for (unsigned b = 0; b < p->nbands; b++)
        for (uint32_t k = 0; k < p->cw[b] * p->ch[b]; k++) {
            struct csb_cblk *cb = &p->cb[b][k];
            uint32_t r = csb_rand(rng);
            cb->first_layer = (r % 5 == 0) ? UINT32_MAX : (r >> 4) % (layers + 1);
            if (cb->first_layer >= layers)
                cb->first_layer = UINT32_MAX;
            cb->zbp = (r >> 12) % 3 == 0 ? (r >> 16) % 40 : (r >> 16) % 4;
            unsigned total = 0;
            for (unsigned l = 0; l < layers; l++) {
                cb->passes[l] = 0;
                if (cb->first_layer == UINT32_MAX || l < cb->first_layer || total >= maxpass)
                    continue;
                uint32_t q = csb_rand(rng);
                unsigned np = (q % 7 == 0) ? 1 + (q >> 3) % 164 : 1 + (q >> 3) % 6;
                if (l > cb->first_layer && q % 3 == 0)
                    np = 0; /* skip this layer */
                if (np > maxpass - total)
                    np = maxpass - total;
                if (l == cb->first_layer && np == 0)
                    np = 1;
                cb->passes[l] = (uint8_t)np;
                total += np;
            }
        }
    csb_prec_ready(p);
}

struct state_mem {
    void *mem;
    size_t size;
    struct jpip__prec_state *st;
};

static void state_new(struct state_mem *s, unsigned nb, const uint32_t *cw, const uint32_t *ch,
                      uint8_t style)
{
    s->size = jpip__prec_state_size(nb, cw, ch);
    s->mem = malloc(s->size);
    if (!s->mem)
        abort();
    s->st = jpip__prec_state_init(s->mem, nb, cw, ch, style);
}

/* Encode `layers` packets of one precinct and decode them in sequence; for each, every
 * truncation must give JPIP_AGAIN and leave the state as it was. Returns 0 on success. */
static int run_precinct(unsigned nb, const uint32_t *cw, const uint32_t *ch, uint8_t style,
                        unsigned layers, uint32_t seed, int check_truncation)
{
    uint32_t rng = seed;
    struct csb_prec enc;
    csb_prec_init(&enc, nb, cw, ch, style);
    random_contributions(&enc, layers, &rng,
                         (style & (CSB_BYPASS | CSB_TERMALL | CSB_HT)) ? 164 : 109);
    struct state_mem dec;
    state_new(&dec, nb, cw, ch, style);
    uint8_t *saved = malloc(dec.size);
    if (!saved)
        abort();
    int fail = 0;
    for (unsigned l = 0; l < layers && !fail; l++) {
        struct csb out = {0};
        uint64_t body = csb_packet_header(&enc, l, &out, &rng);
        /* Trailing bytes after the header must not matter. */
        csb_u8(&out, 0xA5);
        csb_u8(&out, 0xFF);
        const size_t hdr = out.n - 2;
        memcpy(saved, dec.mem, dec.size);
        if (check_truncation) {
            /* Every cut of short headers; about 150 cuts of long ones. */
            const size_t step = hdr > 300 ? hdr / 150 : 1;
            for (size_t cut = 0; cut < hdr && !fail; cut += (cut + step < hdr ? step : 1)) {
                uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees over-reads */
                if (!copy)
                    abort();
                memcpy(copy, out.d, cut);
                size_t hl = 0;
                uint64_t bl = 0;
                struct jpip__err err;
                jpip__err_clear(&err);
                int rc = jpip__packet_header_decode(dec.st, l, copy, cut, &hl, &bl, 0, &err);
                free(copy);
                if (rc != JPIP_AGAIN) {
                    fprintf(stderr, "style %x layer %u: cut at %zu of %zu gave %d (%s)\n", style, l,
                            cut, hdr, rc, err.msg);
                    fail = 1;
                }
                memcpy(dec.mem, saved, dec.size); /* the caller's retry protocol */
            }
        }
        size_t hl = 0;
        uint64_t bl = 0;
        struct jpip__err err;
        jpip__err_clear(&err);
        int rc = jpip__packet_header_decode(dec.st, l, out.d, out.n, &hl, &bl, 1234, &err);
        if (!fail && (rc != JPIP_OK || hl != hdr || bl != body)) {
            fprintf(stderr,
                    "style %x layer %u seed %u: rc %d (%s), header %zu (expected %zu), body %llu "
                    "(expected %llu)\n",
                    style, l, seed, rc, err.msg, hl, hdr, (unsigned long long)bl,
                    (unsigned long long)body);
            fail = 1;
        }
        csb_free(&out);
    }
    free(saved);
    free(dec.mem);
    csb_prec_free(&enc);
    return fail;
}

static void run_style(uint8_t style, unsigned max_layers, int rounds)
{
    uint32_t rng = 0xC0FFEE ^ style;
    for (int i = 0; i < rounds; i++) {
        uint32_t r = csb_rand(&rng);
        unsigned nb = (r & 1) ? 3 : 1;
        uint32_t cw[3], ch[3];
        for (unsigned b = 0; b < nb; b++) {
            uint32_t q = csb_rand(&rng);
            cw[b] = q % 9 == 0 ? 0 : 1 + q % 5;
            ch[b] = q % 11 == 0 ? 0 : 1 + (q >> 8) % 4;
            if (q % 17 == 0) {
                cw[b] = 16;
                ch[b] = 16;
            }
        }
        unsigned layers = 1 + (r >> 4) % max_layers;
        if (run_precinct(nb, cw, ch, style, layers, r, i % 4 == 0)) {
            jpip_test_failed = 1;
            return;
        }
    }
}

TEST(default_style)
{
    run_style(0, 8, 300);
}

TEST(bypass)
{
    run_style(JPIP_CBLK_BYPASS, 8, 300);
}

TEST(termall)
{
    run_style(JPIP_CBLK_TERMALL, 6, 200);
}

TEST(bypass_termall)
{
    run_style(JPIP_CBLK_BYPASS | JPIP_CBLK_TERMALL | JPIP_CBLK_RESET, 6, 200);
}

TEST(ht)
{
    run_style(JPIP_CBLK_HT, 4, 200);
}

TEST(other_style_bits_are_default)
{
    /* RESET, VCAUSAL, PTERM, SEGSYM do not change segment boundaries. */
    run_style(JPIP_CBLK_RESET | JPIP_CBLK_VCAUSAL | JPIP_CBLK_PTERM | JPIP_CBLK_SEGSYM, 6, 100);
}

TEST(empty_packet)
{
    const uint32_t cw[1] = {2}, ch[1] = {2};
    struct state_mem s;
    state_new(&s, 1, cw, ch, 0);
    const uint8_t zero[1] = {0x00};
    size_t hl = 9;
    uint64_t bl = 9;
    ASSERT_EQ_INT(jpip__packet_header_decode(s.st, 0, zero, 1, &hl, &bl, 0, NULL), JPIP_OK);
    ASSERT_EQ_U64(hl, 1);
    ASSERT_EQ_U64(bl, 0);
    ASSERT_EQ_INT(jpip__packet_header_decode(s.st, 1, zero, 0, &hl, &bl, 0, NULL), JPIP_AGAIN);
    free(s.mem);
}

TEST(single_block_hand_encoded)
{
    /* One code-block, layer 0: 1 (non-empty), inclusion tree 1 (value 0 < 1), zero bit-planes
     * tree 1 (0), passes "0" (1 pass), Lblock "0" (stays 3), length 3 bits = 101 (5).
     * Bits: 1 1 1 0 0 1 0 1 = 0xE5. */
    const uint32_t cw[1] = {1}, ch[1] = {1};
    struct state_mem s;
    state_new(&s, 1, cw, ch, 0);
    const uint8_t d[] = {0xE5};
    size_t hl = 0;
    uint64_t bl = 0;
    ASSERT_EQ_INT(jpip__packet_header_decode(s.st, 0, d, 1, &hl, &bl, 0, NULL), JPIP_OK);
    ASSERT_EQ_U64(hl, 1);
    ASSERT_EQ_U64(bl, 5);
    /* Layer 1: 1, included 1, passes "10" (2), Lblock "10" (+1 = 4), length 4 + 1 = 5 bits:
     * 11111 (31). Bits: 1 1 10 10 11111 + pad = 1110 1011 111(0 0000) = 0xEB 0xE0. */
    const uint8_t e[] = {0xEB, 0xE0};
    ASSERT_EQ_INT(jpip__packet_header_decode(s.st, 1, e, 2, &hl, &bl, 0, NULL), JPIP_OK);
    ASSERT_EQ_U64(hl, 2);
    ASSERT_EQ_U64(bl, 31);
    free(s.mem);
}

TEST(malformed_lblock)
{
    /* Lblock increment of 64 ones: rejected, not an overflow. */
    const uint32_t cw[1] = {1}, ch[1] = {1};
    struct state_mem s;
    state_new(&s, 1, cw, ch, 0);
    /* All ones (each 0xFF after 0xFF gives 7): non-empty, included, 0 zero bit-planes, 164
     * passes, then 94 Lblock increments. */
    uint8_t d[16];
    memset(d, 0xFF, sizeof d);
    struct jpip__err err;
    jpip__err_clear(&err);
    size_t hl = 0;
    uint64_t bl = 0;
    int rc = jpip__packet_header_decode(s.st, 0, d, sizeof d, &hl, &bl, 777, &err);
    free(s.mem);
    ASSERT_EQ_INT(rc, JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "offset 777");
}

/* ---- whole codestreams through the index ------------------------------------------------- */

struct gen_opts {
    uint8_t style;
    int sop, eph, plt, ppt;
    unsigned tileparts, layers, cb_exp;
    int big; /* every code-block in layer 0 with 120 passes: headers of tens of KiB */
    uint32_t seed;
};

struct gen_truth {
    uint32_t len[CSB_MAX_LAYERS];    /* in-band bytes of each packet */
    uint32_t hlen[CSB_MAX_LAYERS];   /* in-band bytes before the body */
    uint32_t packed[CSB_MAX_LAYERS]; /* header bytes in PPT */
    uint32_t full[CSB_MAX_LAYERS];   /* SOP + header + EPH + body */
};

static void plt_put(struct csb *b, uint32_t v)
{
    uint8_t tmp[5];
    int n = 0;
    do {
        tmp[n++] = (uint8_t)(v & 0x7F);
        v >>= 7;
    } while (v);
    while (n--)
        csb_u8(b, (uint8_t)(tmp[n] | (n ? 0x80 : 0)));
}

/* A 64x64 one-component image, one tile, no decomposition, one 64x64 precinct of
 * 2^cb_exp-sample code-blocks: in LRCP the packets are layers 0, 1, ... in order. */
static uint8_t *gen_codestream(const struct gen_opts *o, size_t *len, struct gen_truth *tr)
{
    uint32_t rng = o->seed;
    struct csb b = {0};
    csb_u16(&b, 0xFF4F);
    const struct csb_siz s = {0, 64, 64, 0, 0, 64, 64, 0, 0, 1, NULL, NULL, 8};
    csb_siz(&b, &s);
    const uint8_t prec[1] = {0x66};
    const struct csb_spco sp = {0, (uint8_t)o->cb_exp, (uint8_t)o->cb_exp, o->style, 1, prec};
    csb_cod(&b, (uint8_t)((o->sop ? 2 : 0) | (o->eph ? 4 : 0)), 0, (uint16_t)o->layers, 0, &sp);
    csb_qcd(&b, 0);
    const uint32_t n = 64u >> o->cb_exp;
    struct csb_prec p;
    csb_prec_init(&p, 1, &n, &n, o->style);
    p.max_seg_len = 40;
    if (o->big) {
        for (uint32_t k = 0; k < n * n; k++) {
            p.cb[0][k].first_layer = 0;
            p.cb[0][k].zbp = k % 5;
            memset(p.cb[0][k].passes, 0, sizeof p.cb[0][k].passes);
            p.cb[0][k].passes[0] = 120;
        }
        csb_prec_ready(&p);
    } else {
        random_contributions(&p, o->layers, &rng, (o->style & CSB_TERMALL) ? 164 : 100);
    }
    struct csb inband = {0}, packed = {0};
    size_t starts[CSB_MAX_LAYERS + 1];
    for (unsigned l = 0; l < o->layers; l++) {
        starts[l] = inband.n;
        struct csb hdr = {0};
        uint64_t body = csb_packet_header(&p, l, &hdr, &rng);
        if (o->eph) {
            csb_u16(&hdr, 0xFF92);
        }
        const size_t before = inband.n;
        if (o->sop) {
            csb_u16(&inband, 0xFF91);
            csb_u16(&inband, 4);
            csb_u16(&inband, (uint16_t)l);
        }
        if (o->ppt)
            csb_put(&packed, hdr.d, hdr.n);
        else
            csb_put(&inband, hdr.d, hdr.n);
        tr->hlen[l] = (uint32_t)(inband.n - before);
        tr->packed[l] = o->ppt ? (uint32_t)hdr.n : 0;
        for (uint64_t k = 0; k < body; k++)
            csb_u8(&inband, (uint8_t)(csb_rand(&rng) & 0x7F));
        tr->len[l] = (uint32_t)(inband.n - before);
        tr->full[l] = tr->len[l] + tr->packed[l];
        csb_free(&hdr);
    }
    starts[o->layers] = inband.n;
    /* Tile-parts of consecutive packets; the first holds the PPT segments. */
    unsigned per = (o->layers + o->tileparts - 1) / o->tileparts;
    for (unsigned tp = 0; tp < o->tileparts; tp++) {
        unsigned l0 = tp * per, l1 = l0 + per < o->layers ? l0 + per : o->layers;
        if (l0 >= l1)
            l0 = l1 = o->layers; /* an empty tile-part */
        size_t sot = csb_sot(&b, 0, 0, (uint8_t)tp, (uint8_t)o->tileparts);
        if (o->plt && l1 > l0) {
            size_t at = csb_begin(&b, 0xFF58);
            csb_u8(&b, 0);
            for (unsigned l = l0; l < l1; l++)
                plt_put(&b, tr->len[l]);
            csb_end(&b, at);
        }
        if (o->ppt && tp == 0) {
            uint8_t z = 0;
            for (size_t off = 0; off < packed.n; off += 30000) {
                size_t take = packed.n - off < 30000 ? packed.n - off : 30000;
                size_t at = csb_begin(&b, 0xFF61);
                csb_u8(&b, z++);
                csb_put(&b, packed.d + off, take);
                csb_end(&b, at);
            }
        }
        csb_u16(&b, 0xFF93);
        csb_put(&b, inband.d + starts[l0], starts[l1] - starts[l0]);
        csb_set_u32(&b, sot + 6, (uint32_t)(b.n - sot));
    }
    csb_u16(&b, 0xFFD9);
    csb_free(&inband);
    csb_free(&packed);
    csb_prec_free(&p);
    *len = b.n;
    return b.d;
}

/* Index the codestream; compare every packet with the truth; rebuild and index that too. */
static int check_index(const struct gen_opts *o)
{
    struct gen_truth tr;
    size_t n;
    uint8_t *d = gen_codestream(o, &n, &tr);
    int fail = 0;
    struct jpip_source src;
    jpip_memory_source_init(&src, d, n);
    struct jpip_target *t = NULL;
    int rc = jpip_target_open(&t, &src, NULL, NULL);
    struct jpip_tile_info ti;
    if (rc == JPIP_OK)
        rc = jpip_target_tile_info(t, 0, 0, &ti);
    if (rc != JPIP_OK) {
        fprintf(stderr, "style %x seed %u: %d %s\n", o->style, o->seed, rc, jpip_target_errmsg(t));
        fail = 1;
    } else if (ti.packets != o->layers || ti.tile_parts != o->tileparts ||
               ti.from_plt != (o->plt && !o->ppt)) {
        fprintf(stderr, "style %x seed %u: %llu packets, %u tile-parts, from_plt %u\n", o->style,
                o->seed, (unsigned long long)ti.packets, ti.tile_parts, ti.from_plt);
        fail = 1;
    }
    for (unsigned l = 0; !fail && l < o->layers; l++) {
        struct jpip_packet_info pi;
        rc = jpip_target_packet(t, 0, 0, l, &pi);
        const uint32_t want_h = ti.from_plt ? 0 : tr.hlen[l];
        if (rc != JPIP_OK || pi.layer != l || pi.length != tr.len[l] ||
            pi.header_length != want_h || pi.packed_header_length != tr.packed[l]) {
            fprintf(stderr,
                    "style %x seed %u layer %u: rc %d layer %u length %u/%u header %u/%u "
                    "packed %u/%u\n",
                    o->style, o->seed, l, rc, pi.layer, pi.length, tr.len[l], pi.header_length,
                    want_h, pi.packed_header_length, tr.packed[l]);
            fail = 1;
        }
    }
    uint8_t *out = NULL;
    size_t out_len = 0;
    if (!fail && jpip_target_rebuild(t, 0, NULL, &out, &out_len) != JPIP_OK) {
        fprintf(stderr, "rebuild: %s\n", jpip_target_errmsg(t));
        fail = 1;
    }
    if (!fail) {
        /* The rebuild: one tile-part, no PLT/PPT, whole packets in-band. */
        struct jpip_source s2;
        jpip_memory_source_init(&s2, out, out_len);
        struct jpip_target *t2 = NULL;
        rc = jpip_target_open(&t2, &s2, NULL, NULL);
        if (rc == JPIP_OK)
            rc = jpip_target_tile_info(t2, 0, 0, &ti);
        fail = rc != JPIP_OK || ti.packets != o->layers || ti.tile_parts != 1 || ti.from_plt;
        for (unsigned l = 0; !fail && l < o->layers; l++) {
            struct jpip_packet_info pi;
            fail = jpip_target_packet(t2, 0, 0, l, &pi) != JPIP_OK || pi.length != tr.full[l] ||
                   pi.packed_header_length != 0;
        }
        if (fail)
            fprintf(stderr, "style %x seed %u: rebuilt codestream differs\n", o->style, o->seed);
        jpip_target_destroy(t2);
    }
    jpip_target_free(t, out);
    jpip_target_destroy(t);
    free(d);
    return fail;
}

TEST(index_finds_encoded_packets)
{
    static const uint8_t styles[] = {0, JPIP_CBLK_BYPASS, JPIP_CBLK_TERMALL,
                                     JPIP_CBLK_BYPASS | JPIP_CBLK_TERMALL, JPIP_CBLK_HT};
    uint32_t rng = 31337;
    int runs = 0;
    for (unsigned si = 0; si < sizeof styles; si++)
        for (int round = 0; round < 40; round++) {
            uint32_t r = csb_rand(&rng);
            struct gen_opts o;
            memset(&o, 0, sizeof o);
            o.style = styles[si];
            o.sop = r & 1;
            o.eph = (r >> 1) & 1;
            o.plt = ((r >> 2) & 3) == 0;
            o.ppt = ((r >> 4) & 3) == 0;
            o.layers = 1 + (r >> 6) % (styles[si] == JPIP_CBLK_HT ? 3 : 8);
            o.tileparts = 1 + (r >> 9) % o.layers;
            o.cb_exp = 2 + (r >> 12) % 4;
            o.seed = r;
            if (check_index(&o)) {
                jpip_test_failed = 1;
                return;
            }
            runs++;
        }
    ASSERT_EQ_INT(runs, 200);
}

TEST(index_headers_larger_than_read_window)
{
    /* 256 code-blocks x 120 terminated passes: headers of over 16 KiB, so the index must grow
     * its read window and retry from the saved precinct state. */
    for (int v = 0; v < 8; v++) {
        struct gen_opts o;
        memset(&o, 0, sizeof o);
        o.style = JPIP_CBLK_TERMALL;
        o.cb_exp = 2;
        o.big = 1;
        o.layers = 1 + (v & 1);
        o.tileparts = 1;
        o.sop = (v >> 1) & 1;
        o.eph = (v >> 2) & 1;
        o.plt = 0;
        o.seed = 1000u + (uint32_t)v;
        struct gen_truth tr;
        size_t n;
        free(gen_codestream(&o, &n, &tr));
        ASSERT_TRUE(tr.hlen[0] > 20000);
        ASSERT_EQ_INT(check_index(&o), 0);
    }
}

RUN_TESTS()
