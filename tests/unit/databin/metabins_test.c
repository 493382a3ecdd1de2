/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Metadata-bins: bin 0 holds the top-level boxes, codestream boxes become codestream
 * placeholders (flags 4, their codestream index), boxes over the threshold become placeholders
 * whose contents form further bins, small boxes stay verbatim; the Annex I index boxes go
 * behind a placeholder whenever it is shorter; reads reproduce the bytes.
 */
#include <string.h>

#include "codestream/box.h"
#include "common/bytes.h"
#include "databin/metabins.h"
#include "test.h"

static size_t put_box(uint8_t *p, const char *type, const uint8_t *body, size_t n)
{
    jpip__put_be32(p, (uint32_t)(8 + n));
    memcpy(p + 4, type, 4);
    if (n)
        memcpy(p + 8, body, n);
    return 8 + n;
}

/* A JPX-like file: signature, ftyp, small xml, big xml, jp2c, jp2c. */
static size_t make_file(uint8_t *f)
{
    size_t n = 0;
    static const uint8_t sig[] = {0x0D, 0x0A, 0x87, 0x0A};
    n += put_box(f + n, "jP  ", sig, 4);
    n += put_box(f + n, "ftyp", (const uint8_t *)"jpx \0\0\0\0jpx ", 12);
    n += put_box(f + n, "xml ", (const uint8_t *)"<a/>", 4);
    static uint8_t big[6000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)('a' + i % 26);
    n += put_box(f + n, "xml ", big, sizeof big);
    static const uint8_t cs[] = {0xFF, 0x4F, 0xFF, 0x51, 0, 0};
    n += put_box(f + n, "jp2c", cs, sizeof cs);
    n += put_box(f + n, "jp2c", cs, sizeof cs);
    return n;
}

TEST(placeholders_and_bins)
{
    static uint8_t file[8192];
    size_t len = make_file(file);
    struct jpip_source src;
    jpip_memory_source_init(&src, file, len);
    struct jpip__err err = {{0}, 0};
    struct jpip__box_tree t = {0};
    ASSERT_OK(jpip__box_tree_parse(&t, &src, 100, NULL, &err));
    struct jpip__cs_location *loc;
    uint32_t ncs;
    ASSERT_OK(jpip__box_codestreams(&t, &src, JPIP__FILE_JPX, &loc, &ncs, NULL, &err));
    ASSERT_EQ_INT(ncs, 2);
    struct jpip__metabins mb;
    ASSERT_OK(jpip__metabins_build(&mb, &t, loc, ncs, 4096, NULL, &err));
    ASSERT_EQ_INT(mb.nbins, 2);
    /* bin 0: jP (12) + ftyp (20) + small xml (12) + phld for big xml (28) + 2 x 52 */
    ASSERT_EQ_U64(mb.bin[0].len, 12 + 20 + 12 + 28 + 52 + 52);
    uint8_t b0[256];
    ASSERT_OK(jpip__metabins_read(&mb, &src, 0, 0, b0, (size_t)mb.bin[0].len, &err));
    ASSERT_MEM_EQ(b0, file, 44); /* the first three boxes verbatim */
    const uint8_t *ph = b0 + 44;
    ASSERT_EQ_U64(jpip__be32(ph), 28);
    ASSERT_MEM_EQ(ph + 4, "phld", 4);
    ASSERT_EQ_U64(jpip__be32(ph + 8), 1);     /* flags: contents in a bin */
    ASSERT_EQ_U64(jpip__be64(ph + 12), 1);    /* OrigID */
    ASSERT_EQ_U64(jpip__be32(ph + 20), 6008); /* OrigBH: LBox */
    ASSERT_MEM_EQ(ph + 24, "xml ", 4);
    for (int k = 0; k < 2; k++) {
        const uint8_t *cp = b0 + 72 + 52 * k;
        ASSERT_EQ_U64(jpip__be32(cp), 52);
        ASSERT_EQ_U64(jpip__be32(cp + 8), 4); /* codestream placeholder */
        ASSERT_MEM_EQ(cp + 24, "jp2c", 4);
        ASSERT_EQ_U64(jpip__be64(cp + 44), (uint64_t)k); /* CSID */
    }
    /* bin 1: the big xml's contents, readable in pieces */
    ASSERT_EQ_U64(mb.bin[1].len, 6000);
    uint8_t piece[100];
    ASSERT_OK(jpip__metabins_read(&mb, &src, 1, 2600, piece, sizeof piece, &err));
    ASSERT_MEM_EQ(piece, file + 44 + 8 + 2600, sizeof piece);
    ASSERT_TRUE(jpip__metabins_read(&mb, &src, 1, 5950, piece, 100, &err) != JPIP_OK);
    ASSERT_TRUE(jpip__metabins_read(&mb, &src, 2, 0, piece, 1, &err) != JPIP_OK);
    jpip__metabins_free(&mb);
    jpip__cs_locations_free(loc, ncs, NULL);
    jpip__box_tree_free(&t, NULL);
}

/* A JP2 with index boxes: a 40-byte cidx and a 49-byte fidx go behind placeholders (28 bytes),
 * a 28-byte fidx stays (its placeholder is no shorter), and the 24-byte iptr is not an index
 * box (verbatim). */
TEST(index_boxes_behind_placeholders)
{
    static uint8_t file[512];
    size_t n = 0;
    static const uint8_t sig[] = {0x0D, 0x0A, 0x87, 0x0A};
    static uint8_t body[41];
    n += put_box(file + n, "jP  ", sig, 4);
    n += put_box(file + n, "ftyp", (const uint8_t *)"jp2 \0\0\0\0jp2 ", 12);
    n += put_box(file + n, "iptr", body, 16);
    static const uint8_t cs[] = {0xFF, 0x4F, 0xFF, 0x51, 0, 0};
    n += put_box(file + n, "jp2c", cs, sizeof cs);
    const size_t cidx_at = n;
    n += put_box(file + n, "cidx", body, 32);
    n += put_box(file + n, "fidx", body, 20);
    const size_t fidx2_at = n;
    n += put_box(file + n, "fidx", body, 41);
    struct jpip_source src;
    jpip_memory_source_init(&src, file, n);
    struct jpip__err err = {{0}, 0};
    struct jpip__box_tree t = {0};
    ASSERT_OK(jpip__box_tree_parse(&t, &src, 100, NULL, &err));
    struct jpip__cs_location *loc;
    uint32_t ncs;
    ASSERT_OK(jpip__box_codestreams(&t, &src, JPIP__FILE_JP2, &loc, &ncs, NULL, &err));
    struct jpip__metabins mb;
    ASSERT_OK(jpip__metabins_build(&mb, &t, loc, ncs, 4096, NULL, &err));
    /* jP 12 + ftyp 20 + iptr 24 + jp2c phld 52 + cidx phld 28 + fidx 28 + fidx phld 28 */
    ASSERT_EQ_INT(mb.nbins, 3);
    ASSERT_EQ_U64(mb.bin[0].len, 12 + 20 + 24 + 52 + 28 + 28 + 28);
    uint8_t b0[256];
    ASSERT_OK(jpip__metabins_read(&mb, &src, 0, 0, b0, (size_t)mb.bin[0].len, &err));
    ASSERT_MEM_EQ(b0, file, 56);
    ASSERT_MEM_EQ(b0 + 108, "\0\0\0\x1cphld", 8);
    ASSERT_MEM_EQ(b0 + 128, file + cidx_at, 8);       /* OrigBH: the cidx header */
    ASSERT_MEM_EQ(b0 + 136, file + cidx_at + 40, 28); /* the short fidx verbatim */
    ASSERT_MEM_EQ(b0 + 164, "\0\0\0\x1cphld", 8);
    ASSERT_MEM_EQ(b0 + 184, file + fidx2_at, 8);
    ASSERT_EQ_U64(mb.bin[1].len, 32);
    ASSERT_EQ_U64(mb.bin[2].len, 41);
    jpip__metabins_free(&mb);
    jpip__cs_locations_free(loc, ncs, NULL);
    jpip__box_tree_free(&t, NULL);
}

RUN_TESTS()
