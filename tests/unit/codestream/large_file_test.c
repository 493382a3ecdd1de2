/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Files over 4 GiB: a JP2 whose codestream starts 5 GiB into the file (after a sparse `free`
 * box using XLBox) must index and rebuild exactly like the bare codestream, with 64-bit
 * offsets reported for its packets.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpip/index.h>

#include "test.h"

/* A minimal valid codestream: 16x16, 1 component, 8-bit, 1 decomposition level, 2 layers,
 * 2x2 tiles of 8x8, every packet empty. */
static size_t make_codestream(uint8_t *b)
{
    size_t n = 0;
    const uint8_t soc_siz[] = {0xFF, 0x4F, 0xFF, 0x51, 0x00, 0x29, 0x00, 0x00, 0, 0, 0, 16,
                               0,    0,    0,    16,   0,    0,    0,    0,    0, 0, 0, 0,
                               0,    0,    0,    8,    0,    0,    0,    8,    0, 0, 0, 0,
                               0,    0,    0,    0,    0,    1,    0x07, 1,    1};
    memcpy(b + n, soc_siz, sizeof soc_siz);
    n += sizeof soc_siz;
    const uint8_t cod[] = {0xFF, 0x52, 0x00, 0x0C, 0x00, 0x00, 0x00,
                           0x02, 0x00, 0x01, 0x04, 0x04, 0x00, 0x01};
    memcpy(b + n, cod, sizeof cod);
    n += sizeof cod;
    const uint8_t qcd[] = {0xFF, 0x5C, 0x00, 0x07, 0x40, 0x48, 0x50, 0x50, 0x58};
    memcpy(b + n, qcd, sizeof qcd);
    n += sizeof qcd;
    for (int t = 0; t < 4; t++) {
        /* 2 resolutions x 2 layers = 4 empty packets of one byte each */
        const uint8_t sot[] = {0xFF,       0x90, 0x00, 0x0A, 0x00, (uint8_t)t, 0x00, 0x00, 0x00,
                               12 + 2 + 4, 0x00, 0x01, 0xFF, 0x93, 0x00,       0x00, 0x00, 0x00};
        memcpy(b + n, sot, sizeof sot);
        n += sizeof sot;
    }
    b[n++] = 0xFF;
    b[n++] = 0xD9;
    return n;
}

static void put32(FILE *f, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    fwrite(b, 1, 4, f);
}

TEST(codestream_after_5gib_of_sparse_box)
{
    uint8_t cs[512];
    size_t cslen = make_codestream(cs);
    char path[] = "/tmp/jpip_large_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    const uint8_t sig[] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
    fwrite(sig, 1, sizeof sig, f);
    put32(f, 20);
    fwrite("ftypjp2 \0\0\0\0jp2 ", 1, 16, f);
    /* free box with XLBox: 16-byte header + 5 GiB of (sparse) contents */
    uint64_t free_len = 16 + (UINT64_C(5) << 30);
    put32(f, 1);
    fwrite("free", 1, 4, f);
    put32(f, (uint32_t)(free_len >> 32));
    put32(f, (uint32_t)free_len);
    long long at = 12 + 20 + (long long)free_len;
    fflush(f);
    ASSERT_TRUE(fseeko(f, (off_t)at, SEEK_SET) == 0);
    put32(f, (uint32_t)(8 + cslen));
    fwrite("jp2c", 1, 4, f);
    fwrite(cs, 1, cslen, f);
    fclose(f);

    struct jpip_source big, small;
    ASSERT_OK(jpip_file_source_open(&big, path));
    jpip_memory_source_init(&small, cs, cslen);
    struct jpip_target *tb, *ts;
    int rc = jpip_target_open(&tb, &big, NULL, NULL);
    if (rc)
        fprintf(stderr, "%s\n", jpip_target_errmsg(tb));
    ASSERT_OK(rc);
    ASSERT_OK(jpip_target_open(&ts, &small, NULL, NULL));
    ASSERT_EQ_INT(jpip_target_kind(tb), JPIP_KIND_JP2);
    struct jpip_tile_info ti;
    ASSERT_OK(jpip_target_tile_info(tb, 0, 3, &ti));
    ASSERT_EQ_U64(ti.packets, 4);
    struct jpip_packet_info pi;
    ASSERT_OK(jpip_target_packet(tb, 0, 3, 0, &pi));
    /* offsets are within the codestream */
    struct jpip_packet_info ps;
    ASSERT_OK(jpip_target_packet(ts, 0, 3, 0, &ps));
    ASSERT_EQ_U64(pi.offset, ps.offset);
    uint8_t *ob, *os;
    size_t nb, ns;
    struct jpip_rebuild_options o = {2, NULL, NULL};
    ASSERT_OK(jpip_target_rebuild(tb, 0, &o, &ob, &nb));
    ASSERT_OK(jpip_target_rebuild(ts, 0, &o, &os, &ns));
    ASSERT_EQ_U64(nb, ns);
    ASSERT_MEM_EQ(ob, os, nb);
    struct jpip_box_info bi;
    ASSERT_OK(jpip_target_box(tb, 3, &bi));
    ASSERT_STR_EQ(bi.type, "jp2c");
    ASSERT_EQ_U64(bi.offset, (uint64_t)at);
    jpip_target_free(tb, ob);
    jpip_target_free(ts, os);
    jpip_target_destroy(tb);
    jpip_target_destroy(ts);
    jpip_file_source_close(&big);
    unlink(path);
}

/* A 65536x65536 single-tile codestream with 4x4 code-blocks and maximal precincts claims 2^26
 * code-blocks in each of its 4 precincts; the first packet is not empty, so its header would
 * need that state: indexing must refuse it before allocating for them. */
TEST(absurd_precinct_is_refused_before_allocation)
{
    uint8_t b[256];
    size_t n = 0;
    const uint8_t soc_siz[] = {0xFF, 0x4F, 0xFF, 0x51, 0x00, 0x29, 0x00, 0x00, 0, 1, 0, 0,
                               0,    1,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0,
                               0,    1,    0,    0,    0,    1,    0,    0,    0, 0, 0, 0,
                               0,    0,    0,    0,    0,    1,    0x07, 1,    1};
    memcpy(b + n, soc_siz, sizeof soc_siz);
    n += sizeof soc_siz;
    const uint8_t cod[] = {0xFF, 0x52, 0x00, 0x0C, 0x00, 0x00, 0x00,
                           0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
    memcpy(b + n, cod, sizeof cod);
    n += sizeof cod;
    const uint8_t qcd[] = {0xFF, 0x5C, 0x00, 0x04, 0x40, 0x48};
    memcpy(b + n, qcd, sizeof qcd);
    n += sizeof qcd;
    const uint8_t sot[] = {0xFF, 0x90, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x00,
                           18,   0x00, 0x01, 0xFF, 0x93, 0x80, 0,    0,    0};
    memcpy(b + n, sot, sizeof sot);
    n += sizeof sot;
    b[n++] = 0xFF;
    b[n++] = 0xD9;
    struct jpip_source src;
    jpip_memory_source_init(&src, b, n);
    struct jpip_target *t;
    int rc = jpip_target_open(&t, &src, NULL, NULL);
    if (rc)
        fprintf(stderr, "%s\n", jpip_target_errmsg(t));
    ASSERT_OK(rc);
    struct jpip_tile_info ti;
    ASSERT_EQ_INT(jpip_target_tile_info(t, 0, 0, &ti), JPIP_ELIMIT);
    ASSERT_STR_CONTAINS(jpip_target_errmsg(t), "code-blocks");
    jpip_target_destroy(t);
}

RUN_TESTS()
