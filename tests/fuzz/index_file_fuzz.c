/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Harness for the persistent packet index (lib/codestream/index_serial.c, target_index.c).
 * Input: u32 n (big-endian), n bytes of a codestream, then the bytes of a saved index. The
 * index is loaded into the opened target twice: as given, and with every checksum set right
 * so that mutations reach the record checks. After either load every tile is indexed (from a
 * record that fits, else by walking) and checked: each present packet lies inside its tile's
 * data, and the packets agree with a target indexed without the file whenever the record was
 * taken from a file this harness saved itself (the round trip: save, load, save again gives
 * the same bytes). A load may fail only with JPIP_EMALFORMED. Seeds: small tiled codestreams
 * with their saved indexes (PLT, SOP/EPH, PPT, several layers), made by mkindexseed.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jpip/index.h>

#include "codestream/index_serial.h"
#include "codestream/target_internal.h"
#include "common/bytes.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    return h;
}

static void put64(uint8_t *p, uint64_t v)
{
    jpip__put_be32(p, (uint32_t)(v >> 32));
    jpip__put_be32(p + 4, (uint32_t)v);
}

/* Set the header's and each record's checksum to the right value, as far as lengths allow. */
static void fix_checksums(uint8_t *d, size_t n)
{
    if (n < 12)
        return;
    uint32_t il = jpip__be32(d + 8);
    if (il > JPIP__INDEX_IDENTITY_MAX || n - 12 < (uint64_t)il + 12)
        return;
    size_t off = 12 + il + 8;
    uint32_t ncs = jpip__be32(d + off);
    off += 4;
    if ((n - off) / 4 < (uint64_t)ncs + 2)
        return;
    off += (size_t)ncs * 4;
    put64(d + off, fnv(d, off));
    off += 8;
    while (n - off >= 4) {
        uint32_t pl = jpip__be32(d + off);
        if (n - off - 4 < (uint64_t)pl + 8)
            return;
        put64(d + off + 4 + pl, fnv(d + off + 4, pl));
        off += 4 + (size_t)pl + 8;
    }
}

/* Index every tile; check packets lie within their tile. Returns the tiles indexed. */
static uint32_t index_all(struct jpip_target *t)
{
    uint32_t done = 0;
    for (unsigned c = 0; c < jpip_target_codestream_count(t); c++) {
        struct jpip__codestream *cs = jpip__target_codestream(t, c);
        for (uint32_t k = 0; k < cs->mh.siz.ntiles && k < 64; k++) {
            struct jpip__tile_index *ti;
            if (jpip__cs_tile(cs, k, &ti) != JPIP_OK)
                continue;
            done++;
            uint64_t present = 0;
            for (uint64_t p = 0; p < ti->npk; p++) {
                if (!jpip__pk_present(&ti->pk[p]))
                    continue;
                present++;
                CHECK(jpip__pk_off(&ti->pk[p]) + ti->pk[p].len <= ti->data_len);
                if (ti->ph_off)
                    CHECK(ti->ph_off[p] + ti->ph_len[p] <= ti->packed_len);
            }
            CHECK(present == ti->packets_present);
        }
    }
    return done;
}

static int same_packets(struct jpip_target *a, struct jpip_target *b)
{
    for (unsigned c = 0; c < jpip_target_codestream_count(a); c++) {
        struct jpip__codestream *x = jpip__target_codestream(a, c);
        struct jpip__codestream *y = jpip__target_codestream(b, c);
        for (uint32_t k = 0; k < x->mh.siz.ntiles && k < 64; k++) {
            struct jpip__tile_index *p, *q;
            int rp = jpip__cs_tile(x, k, &p), rq = jpip__cs_tile(y, k, &q);
            if (rp != rq)
                return 0;
            if (rp == JPIP_OK &&
                (p->npk != q->npk || memcmp(p->pk, q->pk, (size_t)p->npk * sizeof *p->pk) != 0))
                return 0;
        }
    }
    return 1;
}

static void one(const uint8_t *cs, size_t cs_len, const uint8_t *ix, size_t ix_len)
{
    struct jpip_source src;
    jpip_memory_source_init(&src, cs, cs_len);
    struct jpip_target_limits lim = {64, 1 << 20, 1 << 16};
    struct jpip_target *t = NULL;
    if (jpip_target_open(&t, &src, NULL, &lim) != JPIP_OK) {
        jpip_target_destroy(t);
        return;
    }
    struct jpip__index_load_stats st;
    struct jpip__err err;
    int rc = jpip__target_index_load(t, "fuzz", ix, ix_len, &st, &err);
    CHECK(rc == JPIP_OK || rc == JPIP_EMALFORMED);
    index_all(t);
    /* Round trip: what this target saves, a fresh one loads whole, and saves identically. */
    struct jpip__buf a, b;
    jpip__buf_init(&a, NULL, (size_t)1 << 26);
    jpip__buf_init(&b, NULL, (size_t)1 << 26);
    if (jpip__target_index_save(t, "fuzz", ix, ix_len, &a) == JPIP_OK) {
        struct jpip_target *u = NULL;
        CHECK(jpip_target_open(&u, &src, NULL, &lim) == JPIP_OK);
        CHECK(jpip__target_index_load(u, "fuzz", a.data, a.len, &st, &err) == JPIP_OK);
        CHECK(st.damaged == 0);
        index_all(u);
        uint64_t w, l, r;
        jpip__target_index_counts(u, &w, &l, &r);
        CHECK(r == 0);
        CHECK(same_packets(t, u));
        CHECK(jpip__target_index_save(u, "fuzz", NULL, 0, &b) == JPIP_OK);
        jpip_target_destroy(u);
    }
    jpip__buf_free(&a);
    jpip__buf_free(&b);
    jpip_target_destroy(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    uint32_t n = jpip__be32(data);
    if (n > size - 4)
        return 0;
    const uint8_t *cs = data + 4, *ix = cs + n;
    size_t ix_len = size - 4 - n;
    one(cs, n, ix, ix_len);
    uint8_t *copy = malloc(ix_len ? ix_len : 1);
    CHECK(copy != NULL);
    memcpy(copy, ix, ix_len);
    fix_checksums(copy, ix_len);
    one(cs, n, copy, ix_len);
    free(copy);
    return 0;
}
