/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for lib/codestream/tagtree.c and bitreader.h: the bit reader's stuffing, alignment and
 * overrun rules on hand-made bytes; tag trees decoded from hand-computed bit strings and from
 * the independent encoder in tests/support/cs_builder.h, over 1x1 to 16x16 grids with
 * thresholds rising layer by layer as in packet headers.
 */
#include "codestream/bitreader.h"
#include "codestream/tagtree.h"
#include "cs_builder.h"
#include "test.h"

/* ---- bit reader ---------------------------------------------------------------------------- */

TEST(bits_msb_first)
{
    const uint8_t d[] = {0xA5, 0x3C};
    struct jpip__bits b;
    jpip__bits_init(&b, d, sizeof d);
    ASSERT_EQ_U64(jpip__bits_read(&b, 4), 0xA);
    ASSERT_EQ_U64(jpip__bits_read(&b, 8), 0x53);
    ASSERT_EQ_U64(jpip__bits_read(&b, 4), 0xC);
    ASSERT_EQ_INT(b.overrun, 0);
    ASSERT_EQ_U64(jpip__bits_consumed(&b), 2);
}

TEST(bits_stuffing_after_ff)
{
    /* After 0xFF the next byte gives 7 bits: 0x7F -> 1111111, so 8 + 7 + 8 = 23 bits. */
    const uint8_t d[] = {0xFF, 0x55, 0x80};
    struct jpip__bits b;
    jpip__bits_init(&b, d, sizeof d);
    ASSERT_EQ_U64(jpip__bits_read(&b, 8), 0xFF);
    ASSERT_EQ_U64(jpip__bits_read(&b, 7), 0x55);
    ASSERT_EQ_U64(jpip__bits_read(&b, 1), 1);
    ASSERT_EQ_INT(b.overrun, 0);
    /* 0x7F after 0xFF gives 7 bits; the byte after it gives 8 bits again. */
    const uint8_t e[] = {0xFF, 0x7F, 0x01};
    jpip__bits_init(&b, e, sizeof e);
    ASSERT_EQ_U64(jpip__bits_read(&b, 8), 0xFF);
    ASSERT_EQ_U64(jpip__bits_read(&b, 7), 0x7F);
    ASSERT_EQ_U64(jpip__bits_read(&b, 8), 0x01);
    ASSERT_EQ_INT(b.overrun, 0);
}

TEST(bits_align_after_final_ff)
{
    /* A header whose last byte is 0xFF is followed by one more (stuffed) byte. */
    const uint8_t d[] = {0xFF, 0x00, 0xAB};
    struct jpip__bits b;
    jpip__bits_init(&b, d, sizeof d);
    ASSERT_EQ_U64(jpip__bits_read(&b, 3), 7);
    jpip__bits_align(&b);
    ASSERT_EQ_U64(jpip__bits_consumed(&b), 2);
    ASSERT_EQ_INT(b.overrun, 0);
    ASSERT_EQ_U64(jpip__bits_read(&b, 8), 0xAB);
    /* Without 0xFF, alignment consumes nothing more. */
    const uint8_t e[] = {0xFE, 0xAB};
    jpip__bits_init(&b, e, sizeof e);
    ASSERT_EQ_U64(jpip__bits_read(&b, 3), 7);
    jpip__bits_align(&b);
    ASSERT_EQ_U64(jpip__bits_consumed(&b), 1);
    /* Aligned exactly after 0xFF: the stuffed byte still follows. */
    jpip__bits_init(&b, d, sizeof d);
    ASSERT_EQ_U64(jpip__bits_read(&b, 8), 0xFF);
    jpip__bits_align(&b);
    ASSERT_EQ_U64(jpip__bits_consumed(&b), 2);
    /* A final 0xFF at the end of the buffer: aligning overruns. */
    const uint8_t f[] = {0xFF};
    jpip__bits_init(&b, f, sizeof f);
    ASSERT_EQ_U64(jpip__bits_read(&b, 1), 1);
    jpip__bits_align(&b);
    ASSERT_EQ_INT(b.overrun, 1);
}

TEST(bits_overrun_flag)
{
    const uint8_t d[] = {0x80};
    struct jpip__bits b;
    jpip__bits_init(&b, d, 1);
    ASSERT_EQ_U64(jpip__bits_read(&b, 8), 0x80);
    ASSERT_EQ_INT(b.overrun, 0);
    ASSERT_EQ_U64(jpip__bits_read(&b, 8), 0); /* zeros past the end */
    ASSERT_EQ_INT(b.overrun, 1);
    ASSERT_EQ_U64(jpip__bits_consumed(&b), 1);
    jpip__bits_init(&b, d, 0);
    ASSERT_EQ_U64(jpip__bits_get(&b), 0);
    ASSERT_EQ_INT(b.overrun, 1);
}

TEST(bits_writer_roundtrip)
{
    /* The test's own bit writer against the reader: random widths, many 0xFF bytes. */
    uint32_t rng = 99;
    for (int round = 0; round < 200; round++) {
        struct csb out = {0};
        struct csb_bits w;
        csb_bits_init(&w, &out);
        uint32_t vals[64];
        unsigned widths[64];
        for (int i = 0; i < 64; i++) {
            widths[i] = 1 + csb_rand(&rng) % 32;
            vals[i] = (csb_rand(&rng) & 1) ? UINT32_MAX : csb_rand(&rng);
            if (widths[i] < 32)
                vals[i] &= (1u << widths[i]) - 1;
            csb_bits_putn(&w, vals[i], widths[i]);
        }
        csb_bits_flush(&w);
        struct jpip__bits b;
        jpip__bits_init(&b, out.d, out.n);
        for (int i = 0; i < 64; i++)
            ASSERT_EQ_U64(jpip__bits_read(&b, widths[i]), vals[i]);
        jpip__bits_align(&b);
        ASSERT_EQ_INT(b.overrun, 0);
        ASSERT_EQ_U64(jpip__bits_consumed(&b), out.n);
        csb_free(&out);
    }
}

/* ---- tag trees ------------------------------------------------------------------------------ */

TEST(tgt_sizes)
{
    ASSERT_EQ_U64(jpip__tgt_size(0, 5), 0);
    ASSERT_EQ_U64(jpip__tgt_size(1, 1), 1);
    ASSERT_EQ_U64(jpip__tgt_size(1, 5), 5 + 3 + 2 + 1);
    ASSERT_EQ_U64(jpip__tgt_size(5, 1), 5 + 3 + 2 + 1);
    ASSERT_EQ_U64(jpip__tgt_size(3, 5), 15 + 6 + 2 + 1);
    ASSERT_EQ_U64(jpip__tgt_size(16, 16), 256 + 64 + 16 + 4 + 1);
}

TEST(tgt_hand_bits_1x1)
{
    /* One node with value 3: thresholds 1..4 read 0,0,0,1 (15444-1 B.10.2). */
    const uint8_t d[] = {0x10}; /* 0001 0000 */
    struct jpip__tgt_node nodes[1];
    struct jpip__tgt t;
    jpip__tgt_init(&t, 1, 1, nodes);
    struct jpip__bits b;
    jpip__bits_init(&b, d, 1);
    ASSERT_EQ_INT(jpip__tgt_decode(&t, &b, 0, 1), 0);
    ASSERT_EQ_INT(jpip__tgt_decode(&t, &b, 0, 2), 0);
    ASSERT_EQ_INT(jpip__tgt_decode(&t, &b, 0, 3), 0);
    ASSERT_EQ_INT(jpip__tgt_decode(&t, &b, 0, 4), 1);
    ASSERT_EQ_U64(nodes[0].value, 3);
    /* Known: no more bits are read. */
    ASSERT_EQ_INT(jpip__tgt_decode(&t, &b, 0, 9), 1);
    ASSERT_EQ_U64(jpip__bits_consumed(&b), 1);
    ASSERT_EQ_U64(b.ct, 4);
}

TEST(tgt_hand_bits_2x1)
{
    /* Leaves {1, 2}: root = 1. Leaf 0 to threshold 2: root 0,1 (=1); leaf 0 starts at 1:
     * 1 -> value 1. Leaf 1 to threshold 3: root known; leaf 1 starts at 1: 0 (>1), 1 (=2).
     * Bits: 0 1 1 0 1 -> 0110 1000 = 0x68. */
    const uint8_t d[] = {0x68};
    struct jpip__tgt_node nodes[3];
    struct jpip__tgt t;
    jpip__tgt_init(&t, 2, 1, nodes);
    struct jpip__bits b;
    jpip__bits_init(&b, d, 1);
    ASSERT_EQ_U64(jpip__tgt_decode_value(&t, &b, 0, 100), 1);
    ASSERT_EQ_U64(jpip__tgt_decode_value(&t, &b, 1, 100), 2);
    ASSERT_EQ_U64(b.ct, 3);
    ASSERT_EQ_INT(b.overrun, 0);
}

TEST(tgt_decode_value_limit)
{
    /* All zeros: the value is never found; the search stops at the limit. */
    const uint8_t d[64] = {0};
    struct jpip__tgt_node nodes[1];
    struct jpip__tgt t;
    jpip__tgt_init(&t, 1, 1, nodes);
    struct jpip__bits b;
    jpip__bits_init(&b, d, sizeof d);
    ASSERT_EQ_U64(jpip__tgt_decode_value(&t, &b, 0, 20), JPIP_TGT_UNKNOWN);
    ASSERT_EQ_INT(b.overrun, 0);
    /* Overrun also stops it. */
    jpip__tgt_init(&t, 1, 1, nodes);
    jpip__bits_init(&b, d, 2);
    ASSERT_EQ_U64(jpip__tgt_decode_value(&t, &b, 0, 1000), JPIP_TGT_UNKNOWN);
    ASSERT_EQ_INT(b.overrun, 1);
}

/* Encode values with the reference encoder, leaf by leaf, thresholds rising by layer: the way
 * inclusion information is sent (each leaf visited once per layer until included), then the
 * full-value way (zero bit-planes). Decode the same sequence and compare. */
static void tgt_roundtrip(uint32_t w, uint32_t h, uint32_t maxval, uint32_t seed)
{
    uint32_t n = w * h;
    uint32_t *vals = calloc(n, sizeof *vals);
    if (!vals)
        abort();
    uint32_t rng = seed;
    for (uint32_t i = 0; i < n; i++)
        vals[i] = csb_rand(&rng) % (maxval + 1);
    struct csb out = {0};
    struct csb_bits bw;
    csb_bits_init(&bw, &out);
    struct csb_tgt enc;
    csb_tgt_init(&enc, w, h);
    csb_tgt_set(&enc, vals);
    ASSERT_EQ_U64(enc.n, jpip__tgt_size(w, h));
    const uint32_t layers = maxval + 2;
    for (uint32_t l = 0; l < layers; l++)
        for (uint32_t i = 0; i < n; i++)
            if (vals[i] >= l) /* still being sent: not included before layer l */
                csb_tgt_encode(&enc, &bw, i, l + 1);
    /* A second tree coded to its full values, interleaved per leaf. */
    struct csb_tgt enc2;
    csb_tgt_init(&enc2, w, h);
    csb_tgt_set(&enc2, vals);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t thr = 1;; thr++) {
            csb_tgt_encode(&enc2, &bw, i, thr);
            if (vals[i] < thr)
                break;
        }
    csb_bits_flush(&bw);

    struct jpip__tgt_node *nodes = calloc(jpip__tgt_size(w, h), sizeof *nodes);
    struct jpip__tgt_node *nodes2 = calloc(jpip__tgt_size(w, h), sizeof *nodes2);
    if (!nodes || !nodes2)
        abort();
    struct jpip__tgt t, t2;
    jpip__tgt_init(&t, w, h, nodes);
    jpip__tgt_init(&t2, w, h, nodes2);
    struct jpip__bits b;
    jpip__bits_init(&b, out.d, out.n);
    int ok = 1;
    for (uint32_t l = 0; l < layers && ok; l++)
        for (uint32_t i = 0; i < n && ok; i++)
            if (vals[i] >= l) {
                int below = jpip__tgt_decode(&t, &b, i, l + 1);
                if (below != (vals[i] < l + 1)) {
                    fprintf(stderr, "%ux%u leaf %u layer %u: got %d\n", w, h, i, l, below);
                    ok = 0;
                }
            }
    for (uint32_t i = 0; i < n && ok; i++) {
        uint32_t v = jpip__tgt_decode_value(&t2, &b, i, maxval + 5);
        if (v != vals[i]) {
            fprintf(stderr, "%ux%u leaf %u: value %u, expected %u\n", w, h, i, v, vals[i]);
            ok = 0;
        }
    }
    jpip__bits_align(&b);
    if (ok && (b.overrun || jpip__bits_consumed(&b) != out.n)) {
        fprintf(stderr, "%ux%u: consumed %zu of %zu bytes\n", w, h, jpip__bits_consumed(&b), out.n);
        ok = 0;
    }
    free(nodes);
    free(nodes2);
    free(vals);
    csb_tgt_free(&enc);
    csb_tgt_free(&enc2);
    csb_free(&out);
    ASSERT_TRUE(ok);
}

TEST(tgt_roundtrip_shapes)
{
    static const uint32_t shapes[][2] = {{1, 1}, {1, 7},   {7, 1},  {3, 5},  {5, 3},
                                         {2, 2}, {16, 16}, {1, 16}, {16, 1}, {9, 13}};
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (uint32_t seed = 1; seed <= 20; seed++) {
            tgt_roundtrip(shapes[s][0], shapes[s][1], seed % 4 == 0 ? 40 : 5, seed * 7919 + s);
            if (jpip_test_failed)
                return;
        }
}

TEST(tgt_truncated_sets_overrun)
{
    /* Every prefix of an encoding runs out and flags overrun, never reads past it. */
    uint32_t vals[15];
    uint32_t rng = 5;
    for (int i = 0; i < 15; i++)
        vals[i] = csb_rand(&rng) % 9;
    struct csb out = {0};
    struct csb_bits bw;
    csb_bits_init(&bw, &out);
    struct csb_tgt enc;
    csb_tgt_init(&enc, 3, 5);
    csb_tgt_set(&enc, vals);
    for (uint32_t i = 0; i < 15; i++)
        for (uint32_t thr = 1;; thr++) {
            csb_tgt_encode(&enc, &bw, i, thr);
            if (vals[i] < thr)
                break;
        }
    csb_bits_flush(&bw);
    for (size_t cut = 0; cut < out.n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        if (!copy)
            abort();
        memcpy(copy, out.d, cut);
        struct jpip__tgt_node nodes[24];
        struct jpip__tgt t;
        jpip__tgt_init(&t, 3, 5, nodes);
        struct jpip__bits b;
        jpip__bits_init(&b, copy, cut);
        for (uint32_t i = 0; i < 15 && !b.overrun; i++)
            (void)jpip__tgt_decode_value(&t, &b, i, 100);
        free(copy);
        ASSERT_EQ_INT(b.overrun, 1);
    }
    csb_tgt_free(&enc);
    csb_free(&out);
}

RUN_TESTS()
