/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for lib/codestream/packet_header.c: packets built by the independent reference encoder
 * in tests/support/cs_builder.h (tag trees, pass counts, Lblock, segment lengths, bit stuffing)
 * for random code-block contributions over several layers, in the default, BYPASS, TERMALL,
 * BYPASS|TERMALL and HT code-block styles. The decoder must report the encoded header and body
 * lengths, and every truncated header must give JPIP_AGAIN with the state left unchanged.
 */
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

RUN_TESTS()
