/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for lib/cache/bin_store.c and bin_store_file.c: messages in order, out of order,
 * overlapping and with holes; length rules; LRU eviction and the bins it must keep; foreach;
 * save/load round trips, every truncation and byte flip of a saved buffer; a randomized
 * comparison with a byte-map reference; and an allocation-failure sweep.
 */
#include "cache/bin_store.h"

#include "test.h"

#define OVH JPIP__BIN_STORE_BIN_OVERHEAD

/* An allocator that counts live blocks and fails every allocation after the first `budget`. */
struct counting_alloc {
    long budget; /* allocations still allowed; negative = unlimited */
    long live;
    long failed;
};

static void *counting_alloc_fn(void *opaque, size_t size)
{
    struct counting_alloc *c = opaque;
    if (c->budget == 0) {
        c->failed++;
        return NULL;
    }
    if (c->budget > 0)
        c->budget--;
    void *p = malloc(size);
    if (p)
        c->live++;
    return p;
}

static void counting_free_fn(void *opaque, void *p)
{
    struct counting_alloc *c = opaque;
    if (p)
        c->live--;
    free(p);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t rnd_below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

/* Deterministic content of data-bin (cls, cs, id): byte i. */
static uint8_t content(unsigned cls, uint64_t cs, uint64_t id, uint64_t i)
{
    if (cls == 8)
        cs = 0; /* metadata-bins belong to no codestream */
    return (uint8_t)((i * 131u + id * 7u + cs * 3u + cls + (i >> 8)) & 0xFF);
}

static uint8_t scratch[1 << 16];

/* Add bytes [off, off+len) of the deterministic content. */
static int add_c(struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id, uint64_t off,
                 size_t len, int last)
{
    for (size_t i = 0; i < len; i++)
        scratch[i] = content(cls & ~1u, cs, id, off + i);
    return jpip__bin_store_add(s, cls, cs, id, off, len ? scratch : NULL, len, last, NULL);
}

/* A digest of everything the store holds, in LRU order. */
static int digest_one(void *u, const struct jpip__bin_info *b)
{
    uint64_t *h = u;
    const uint64_t fields[] = {b->cls,     b->cs,           b->id,     b->prefix_len,
                               b->nchunks, b->length_known, b->length, b->held_bytes};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        *h = (*h ^ fields[i]) * 0x100000001b3u;
    for (uint64_t i = 0; i < b->prefix_len; i++)
        *h = (*h ^ b->prefix[i]) * 0x100000001b3u;
    for (size_t k = 0; k < b->nchunks; k++) {
        *h = (*h ^ b->chunks[k].off) * 0x100000001b3u;
        for (size_t i = 0; i < b->chunks[k].len; i++)
            *h = (*h ^ b->chunks[k].data[i]) * 0x100000001b3u;
    }
    return 0;
}

static uint64_t digest(const struct jpip__bin_store *s)
{
    uint64_t h = 0xcbf29ce484222325u;
    jpip__bin_store_visit(s, digest_one, &h);
    struct jpip__bin_store_stats st;
    jpip__bin_store_stats(s, &st);
    return (h ^ st.bytes ^ (st.bins << 32) ^ (st.complete_bins << 48));
}

#define ASSERT_CONSISTENT(s)                                                                       \
    do {                                                                                           \
        struct jpip__err e_;                                                                       \
        jpip__err_clear(&e_);                                                                      \
        if (jpip__bin_store_check((s), &e_) != JPIP_OK)                                            \
            TEST_FAIL_AT("store inconsistent: %s", e_.msg);                                        \
    } while (0)

#define ASSERT_BIN(s, cls, cs, id, want_prefix, want_complete)                                     \
    do {                                                                                           \
        const uint8_t *p_;                                                                         \
        uint64_t n_;                                                                               \
        int c_;                                                                                    \
        ASSERT_OK(jpip__bin_store_get((s), (cls), (cs), (id), &p_, &n_, &c_));                     \
        ASSERT_EQ_U64(n_, (want_prefix));                                                          \
        ASSERT_EQ_INT(c_, (want_complete));                                                        \
        for (uint64_t i_ = 0; i_ < n_; i_++)                                                       \
            if (p_[i_] != content((cls) & ~1u, (cs), (id), i_))                                    \
                TEST_FAIL_AT("byte %" PRIu64 " of the prefix differs", i_);                        \
    } while (0)

static size_t nchunks(const struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id)
{
    struct jpip__bin_info info;
    if (jpip__bin_store_info(s, cls, cs, id, &info) != JPIP_OK)
        return (size_t)-1;
    return info.nchunks;
}

static int has_bin(const struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id)
{
    struct jpip__bin_info info;
    return jpip__bin_store_info(s, cls, cs, id, &info) == JPIP_OK;
}

TEST(in_order_messages_build_the_prefix)
{
    struct jpip__bin_store *s;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 0));
    ASSERT_BIN(s, 0, 0, 5, 0, 0); /* unknown bin */
    ASSERT_OK(add_c(s, 0, 0, 5, 0, 100, 0));
    ASSERT_BIN(s, 0, 0, 5, 100, 0);
    ASSERT_OK(add_c(s, 0, 0, 5, 100, 50, 0));
    ASSERT_OK(add_c(s, 0, 0, 5, 150, 25, 1));
    ASSERT_BIN(s, 0, 0, 5, 175, 1);
    ASSERT_EQ_U64(nchunks(s, 0, 0, 5), 0);
    struct jpip__bin_store_stats st;
    jpip__bin_store_stats(s, &st);
    ASSERT_EQ_U64(st.bins, 1);
    ASSERT_EQ_U64(st.complete_bins, 1);
    ASSERT_EQ_U64(st.adds, 3);
    ASSERT_EQ_U64(st.duplicate_bytes, 0);
    ASSERT_EQ_U64(st.bytes, OVH + 175 + OVH); /* the bin and its codestream's record */
    ASSERT_CONSISTENT(s);
    /* A long run of small in-order messages stays linear. */
    for (uint64_t off = 0; off < 60000; off += 12)
        ASSERT_OK(add_c(s, 8, 0, 9, off, 12, 0));
    ASSERT_BIN(s, 8, 0, 9, 60000, 0);
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);
    jpip__bin_store_destroy(NULL);
}

TEST(out_of_order_messages_join_when_the_gap_fills)
{
    struct jpip__bin_store *s;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 0));
    ASSERT_OK(add_c(s, 2, 0, 1, 20, 10, 1));
    ASSERT_BIN(s, 2, 0, 1, 0, 0);
    ASSERT_EQ_U64(nchunks(s, 2, 0, 1), 1);
    ASSERT_OK(add_c(s, 2, 0, 1, 10, 10, 0));
    ASSERT_BIN(s, 2, 0, 1, 0, 0);
    ASSERT_EQ_U64(nchunks(s, 2, 0, 1), 2); /* neighbours are not merged */
    ASSERT_OK(add_c(s, 2, 0, 1, 0, 10, 0));
    ASSERT_BIN(s, 2, 0, 1, 30, 1);
    ASSERT_EQ_U64(nchunks(s, 2, 0, 1), 0);
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);
}

TEST(holes_fill_later)
{
    struct jpip__bin_store *s;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 0));
    ASSERT_OK(add_c(s, 0, 1, 3, 0, 5, 0));
    ASSERT_OK(add_c(s, 0, 1, 3, 10, 5, 0));
    ASSERT_OK(add_c(s, 0, 1, 3, 20, 5, 0));
    ASSERT_BIN(s, 0, 1, 3, 5, 0);
    ASSERT_EQ_U64(nchunks(s, 0, 1, 3), 2);
    ASSERT_OK(add_c(s, 0, 1, 3, 5, 5, 0));
    ASSERT_BIN(s, 0, 1, 3, 15, 0);
    ASSERT_EQ_U64(nchunks(s, 0, 1, 3), 1);
    /* Overlapping both the prefix and the chunk, with equal bytes. */
    ASSERT_OK(add_c(s, 0, 1, 3, 12, 10, 0));
    ASSERT_BIN(s, 0, 1, 3, 25, 0);
    ASSERT_EQ_U64(nchunks(s, 0, 1, 3), 0);
    ASSERT_OK(add_c(s, 0, 1, 3, 25, 0, 1)); /* zero-length "that was all" */
    ASSERT_BIN(s, 0, 1, 3, 25, 1);
    struct jpip__bin_store_stats st;
    jpip__bin_store_stats(s, &st);
    ASSERT_EQ_U64(st.duplicate_bytes, 3 + 2);
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);
}

TEST(one_message_spanning_several_chunks)
{
    struct jpip__bin_store *s;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 0));
    ASSERT_OK(add_c(s, 4, 0, 0, 10, 2, 0));
    ASSERT_OK(add_c(s, 4, 0, 0, 14, 2, 0));
    ASSERT_OK(add_c(s, 4, 0, 0, 18, 2, 0));
    ASSERT_OK(add_c(s, 4, 0, 0, 11, 8, 0)); /* trims at 12 and 18, replaces [14, 16) */
    ASSERT_EQ_U64(nchunks(s, 4, 0, 0), 3);
    struct jpip__bin_info info;
    ASSERT_OK(jpip__bin_store_info(s, 4, 0, 0, &info));
    ASSERT_EQ_U64(info.chunks[1].off, 12);
    ASSERT_EQ_U64(info.chunks[1].len, 6);
    ASSERT_EQ_U64(info.held_bytes, 10);
    ASSERT_OK(add_c(s, 5, 0, 0, 13, 4, 0)); /* class 5 = class 4; all held already */
    ASSERT_EQ_U64(nchunks(s, 4, 0, 0), 3);
    ASSERT_OK(add_c(s, 4, 0, 0, 30, 3, 0));
    ASSERT_OK(add_c(s, 4, 0, 0, 0, 10, 0));
    ASSERT_BIN(s, 4, 0, 0, 20, 0);
    ASSERT_EQ_U64(nchunks(s, 4, 0, 0), 1);
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);
}

TEST(different_bytes_are_rejected_and_change_nothing)
{
    struct jpip__bin_store *s;
    struct jpip__err e;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 0));
    ASSERT_OK(add_c(s, 0, 0, 7, 0, 10, 0));
    ASSERT_OK(add_c(s, 0, 0, 7, 20, 10, 0));
    const uint64_t before = digest(s);
    uint8_t msg[30];
    for (int i = 0; i < 30; i++)
        msg[i] = content(0, 0, 7, (uint64_t)i);
    msg[7] ^= 1;
    ASSERT_EQ_INT(jpip__bin_store_add(s, 0, 0, 7, 0, msg, 30, 1, &e), JPIP_EPROTOCOL);
    ASSERT_STR_CONTAINS(e.msg, "byte 7");
    msg[7] ^= 1;
    msg[25] ^= 0x80;
    ASSERT_EQ_INT(jpip__bin_store_add(s, 0, 0, 7, 0, msg, 30, 1, &e), JPIP_EPROTOCOL);
    ASSERT_STR_CONTAINS(e.msg, "byte 25");
    ASSERT_EQ_U64(digest(s), before);
    msg[25] ^= 0x80;
    ASSERT_OK(jpip__bin_store_add(s, 0, 0, 7, 0, msg, 30, 1, &e));
    ASSERT_BIN(s, 0, 0, 7, 30, 1);
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);
}

TEST(zero_length_bins)
{
    struct jpip__bin_store *s;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 0));
    /* Without the last flag a zero-length message says nothing and creates nothing. */
    ASSERT_OK(add_c(s, 2, 0, 3, 0, 0, 0));
    ASSERT_TRUE(!has_bin(s, 2, 0, 3));
    /* With it, the bin is empty and complete (an empty tile header, metadata-bin 0). */
    ASSERT_OK(add_c(s, 2, 0, 3, 0, 0, 1));
    ASSERT_TRUE(has_bin(s, 2, 0, 3));
    const uint8_t *p = (const uint8_t *)"x";
    uint64_t n = 9;
    int complete = 0;
    ASSERT_OK(jpip__bin_store_get(s, 2, 0, 3, &p, &n, &complete));
    ASSERT_TRUE(p == NULL);
    ASSERT_EQ_U64(n, 0);
    ASSERT_EQ_INT(complete, 1);
    ASSERT_OK(add_c(s, 2, 0, 3, 0, 0, 1)); /* repeating it is fine */
    ASSERT_EQ_INT(add_c(s, 2, 0, 3, 0, 1, 0), JPIP_EPROTOCOL);
    struct jpip__bin_store_stats st;
    jpip__bin_store_stats(s, &st);
    ASSERT_EQ_U64(st.bins, 1);
    ASSERT_EQ_U64(st.complete_bins, 1);
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);
}

TEST(last_flag_contradictions)
{
    struct jpip__bin_store *s;
    struct jpip__err e;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 0));
    ASSERT_OK(add_c(s, 0, 0, 1, 5, 5, 1)); /* length 10, bytes 0..4 missing */
    const uint64_t before = digest(s);
    ASSERT_EQ_INT(add_c(s, 0, 0, 1, 10, 2, 1), JPIP_EPROTOCOL); /* another length */
    ASSERT_EQ_INT(add_c(s, 0, 0, 1, 0, 8, 1), JPIP_EPROTOCOL);  /* shorter length */
    ASSERT_EQ_INT(add_c(s, 0, 0, 1, 8, 3, 0), JPIP_EPROTOCOL);  /* data beyond it */
    ASSERT_EQ_INT(jpip__bin_store_add(s, 0, 0, 1, 11, NULL, 0, 0, &e), JPIP_EPROTOCOL);
    ASSERT_STR_CONTAINS(e.msg, "length 10");
    ASSERT_EQ_U64(digest(s), before);
    ASSERT_OK(add_c(s, 0, 0, 1, 0, 10, 1)); /* agreeing length */
    ASSERT_BIN(s, 0, 0, 1, 10, 1);

    /* A last flag that would cut off bytes already held. */
    ASSERT_OK(add_c(s, 0, 0, 2, 0, 4, 0));
    ASSERT_OK(add_c(s, 0, 0, 2, 20, 4, 0));
    ASSERT_EQ_INT(jpip__bin_store_add(s, 0, 0, 2, 4, scratch, 0, 1, &e), JPIP_EPROTOCOL);
    ASSERT_STR_CONTAINS(e.msg, "up to 24");
    ASSERT_OK(add_c(s, 0, 0, 2, 24, 0, 1));
    ASSERT_BIN(s, 0, 0, 2, 4, 0);
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);
}

TEST(keys_classes_and_bounds)
{
    struct jpip__bin_store *s;
    struct jpip__err e;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 0));
    ASSERT_OK(add_c(s, 1, 2, 9, 0, 4, 0)); /* extended precinct = precinct */
    ASSERT_BIN(s, 0, 2, 9, 4, 0);
    ASSERT_BIN(s, 1, 2, 9, 4, 0);
    ASSERT_BIN(s, 0, 3, 9, 0, 0); /* other codestream */
    ASSERT_BIN(s, 2, 2, 9, 0, 0); /* other class */
    ASSERT_OK(add_c(s, 8, 0, 1, 0, 4, 1));
    ASSERT_BIN(s, 8, 77, 1, 4, 1); /* metadata-bins ignore the codestream */
    for (unsigned cls = 3; cls < 20; cls++) {
        if (cls == 4 || cls == 5 || cls == 6 || cls == 8)
            continue;
        ASSERT_EQ_INT(add_c(s, cls, 0, 0, 0, 1, 0), JPIP_EINVAL);
        ASSERT_EQ_INT(jpip__bin_store_get(s, cls, 0, 0, NULL, NULL, NULL), JPIP_EINVAL);
    }
    const uint64_t big = (uint64_t)1 << 53;
    ASSERT_EQ_INT(add_c(s, 0, 0, big, 0, 1, 0), JPIP_EINVAL);
    ASSERT_EQ_INT(add_c(s, 0, big, 0, 0, 1, 0), JPIP_EINVAL);
    ASSERT_OK(add_c(s, 0, big - 1, big - 1, 0, 1, 0));
    ASSERT_EQ_INT(jpip__bin_store_add(s, 0, 0, 0, 0, NULL, 1, 0, NULL), JPIP_EINVAL);
    /* Bins up to 2^40 bytes; chunks far out cost no memory for the gap. */
    const uint64_t lim = JPIP__BIN_STORE_MAX_LEN;
    ASSERT_OK(add_c(s, 6, 4, 0, lim - 3, 3, 1));
    ASSERT_EQ_INT(jpip__bin_store_add(s, 6, 5, 0, lim - 3, scratch, 4, 0, &e), JPIP_ELIMIT);
    ASSERT_STR_CONTAINS(e.msg, "limit");
    ASSERT_EQ_INT(add_c(s, 6, 5, 0, lim + 1, 0, 1), JPIP_ELIMIT);
    ASSERT_EQ_INT(add_c(s, 6, 5, 0, UINT64_MAX, 1, 0), JPIP_ELIMIT);
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);
}

TEST(chunk_count_is_bounded)
{
    struct jpip__bin_store *s;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 0));
    /* Worst order for a sorted array: every chunk goes in at the front. */
    for (uint64_t i = JPIP__BIN_STORE_MAX_CHUNKS; i >= 1; i--)
        ASSERT_OK(add_c(s, 0, 0, 0, i * 4, 2, 0));
    ASSERT_EQ_U64(nchunks(s, 0, 0, 0), JPIP__BIN_STORE_MAX_CHUNKS);
    const uint64_t before = digest(s);
    ASSERT_EQ_INT(add_c(s, 0, 0, 0, 2, 1, 0), JPIP_ELIMIT);
    ASSERT_EQ_U64(digest(s), before);
    /* Reaching the first chunk from byte 0 frees its slot; then all of them go. */
    ASSERT_OK(add_c(s, 0, 0, 0, 0, 4, 0));
    ASSERT_EQ_U64(nchunks(s, 0, 0, 0), JPIP__BIN_STORE_MAX_CHUNKS - 1);
    ASSERT_BIN(s, 0, 0, 0, 6, 0);
    ASSERT_OK(add_c(s, 0, 0, 0, 2, 1, 0));
    ASSERT_OK(add_c(s, 0, 0, 0, 0, 4 * JPIP__BIN_STORE_MAX_CHUNKS + 2, 1));
    ASSERT_BIN(s, 0, 0, 0, 4 * JPIP__BIN_STORE_MAX_CHUNKS + 2, 1);
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);
}

/* 100 data bytes in a metadata-bin (unprotected for id > 0, no codestream record): 260. */
#define META100 (OVH + 100)

TEST(eviction_is_least_recently_used_first)
{
    struct jpip__bin_store *s;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 3 * META100 + 50));
    for (uint64_t id = 1; id <= 3; id++)
        ASSERT_OK(add_c(s, 8, 0, id, 0, 100, 0));
    /* get does not count as use, touch does. */
    ASSERT_BIN(s, 8, 0, 1, 100, 0);
    jpip__bin_store_touch(s, 8, 0, 2);
    jpip__bin_store_touch(s, 8, 0, 99); /* unknown: ignored */
    ASSERT_OK(add_c(s, 8, 0, 4, 0, 100, 1));
    ASSERT_TRUE(!has_bin(s, 8, 0, 1));
    ASSERT_OK(add_c(s, 8, 0, 5, 0, 100, 1));
    ASSERT_TRUE(!has_bin(s, 8, 0, 3));
    ASSERT_TRUE(has_bin(s, 8, 0, 2));
    /* Adding to a bin marks it used, and one bin growing evicts several. */
    ASSERT_OK(add_c(s, 8, 0, 2, 100, 10, 0));
    ASSERT_OK(add_c(s, 8, 0, 6, 0, 150, 0));
    ASSERT_TRUE(!has_bin(s, 8, 0, 4));
    ASSERT_TRUE(!has_bin(s, 8, 0, 5));
    ASSERT_TRUE(has_bin(s, 8, 0, 2));
    struct jpip__bin_store_stats st;
    jpip__bin_store_stats(s, &st);
    ASSERT_EQ_U64(st.evictions, 4);
    ASSERT_EQ_U64(st.bins, 2);
    ASSERT_TRUE(st.bytes <= 3 * META100 + 50);
    /* A bin that could never fit is refused outright. */
    struct jpip__err e;
    ASSERT_EQ_INT(jpip__bin_store_add(s, 8, 0, 7, 0, scratch, 3 * META100, 0, &e), JPIP_ELIMIT);
    ASSERT_STR_CONTAINS(e.msg, "budget");
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);
}

TEST(main_header_and_metadata_bin_0_are_kept)
{
    struct jpip__bin_store *s;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 2000));
    ASSERT_OK(add_c(s, 8, 0, 0, 0, 100, 1)); /* 260 */
    ASSERT_OK(add_c(s, 6, 0, 0, 0, 100, 1)); /* 260 */
    ASSERT_OK(add_c(s, 6, 1, 0, 0, 100, 1)); /* 260, codestream 1 has nothing else */
    for (uint64_t id = 0; id < 10; id++)
        ASSERT_OK(add_c(s, 0, 0, id, 0, 100, 0)); /* 260 each + one 160 record */
    ASSERT_TRUE(has_bin(s, 8, 0, 0));
    ASSERT_TRUE(has_bin(s, 6, 0, 0));
    ASSERT_TRUE(!has_bin(s, 6, 1, 0));
    ASSERT_TRUE(!has_bin(s, 0, 0, 0));
    ASSERT_TRUE(has_bin(s, 0, 0, 9));
    struct jpip__bin_store_stats st;
    jpip__bin_store_stats(s, &st);
    ASSERT_TRUE(st.bytes <= 2000);
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);

    /* When only kept bins remain the store stays over budget rather than drop them... */
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 700));
    ASSERT_OK(add_c(s, 6, 0, 0, 0, 100, 1));
    ASSERT_OK(add_c(s, 0, 0, 1, 0, 100, 0));
    ASSERT_OK(add_c(s, 2, 0, 1, 0, 100, 0));
    jpip__bin_store_stats(s, &st);
    ASSERT_EQ_U64(st.bins, 2);
    ASSERT_TRUE(has_bin(s, 6, 0, 0));
    ASSERT_TRUE(has_bin(s, 2, 0, 1));
    ASSERT_EQ_U64(st.bytes, 3 * OVH + 200);
    /* ...and the main header goes once its codestream has no other bins. */
    ASSERT_OK(add_c(s, 8, 0, 3, 0, 300, 0));
    ASSERT_TRUE(!has_bin(s, 2, 0, 1));
    ASSERT_TRUE(!has_bin(s, 6, 0, 0));
    jpip__bin_store_stats(s, &st);
    ASSERT_EQ_U64(st.bins, 1);
    ASSERT_EQ_U64(st.bytes, OVH + 300);
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);
}

struct seen {
    unsigned cls[8];
    uint64_t id[8], prefix[8];
    int complete[8];
    int n;
};

static int collect(void *u, unsigned cls, uint64_t cs, uint64_t id, uint64_t prefix_len,
                   int complete)
{
    struct seen *v = u;
    (void)cs;
    v->cls[v->n] = cls;
    v->id[v->n] = id;
    v->prefix[v->n] = prefix_len;
    v->complete[v->n] = complete;
    return ++v->n == 3 ? 42 : 0;
}

TEST(foreach_visits_least_recent_first_and_can_stop)
{
    struct jpip__bin_store *s;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 0));
    ASSERT_OK(add_c(s, 1, 0, 10, 0, 5, 0));
    ASSERT_OK(add_c(s, 6, 0, 0, 0, 7, 1));
    ASSERT_OK(add_c(s, 8, 0, 3, 4, 7, 1));
    ASSERT_OK(add_c(s, 2, 0, 1, 0, 0, 1));
    jpip__bin_store_touch(s, 0, 0, 10);
    struct seen v;
    memset(&v, 0, sizeof v);
    ASSERT_EQ_INT(jpip__bin_store_foreach(s, collect, &v), 42);
    ASSERT_EQ_INT(v.n, 3);
    ASSERT_EQ_U64(v.cls[0], 6);
    ASSERT_EQ_U64(v.prefix[0], 7);
    ASSERT_EQ_INT(v.complete[0], 1);
    ASSERT_EQ_U64(v.cls[1], 8);
    ASSERT_EQ_U64(v.prefix[1], 0);
    ASSERT_EQ_INT(v.complete[1], 0);
    ASSERT_EQ_U64(v.cls[2], 2);
    ASSERT_EQ_INT(v.complete[2], 1);
    jpip__bin_store_clear(s);
    memset(&v, 0, sizeof v);
    ASSERT_OK(jpip__bin_store_foreach(s, collect, &v));
    ASSERT_EQ_INT(v.n, 0);
    struct jpip__bin_store_stats st;
    jpip__bin_store_stats(s, &st);
    ASSERT_EQ_U64(st.bins, 0);
    ASSERT_EQ_U64(st.bytes, 0);
    ASSERT_EQ_U64(st.adds, 4); /* cumulative counters survive clear */
    ASSERT_CONSISTENT(s);
    ASSERT_OK(add_c(s, 0, 0, 10, 0, 5, 0));
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);
}

/* A store with one of everything: prefix, chunks, known length with holes, empty complete
 * bins, several codestreams, metadata. */
static void fill_sample(struct jpip__bin_store *s)
{
    add_c(s, 8, 0, 0, 0, 0, 1);
    add_c(s, 6, 0, 0, 0, 40, 1);
    add_c(s, 2, 0, 0, 0, 0, 1);
    add_c(s, 0, 0, 3, 0, 30, 0);
    add_c(s, 0, 0, 3, 40, 5, 0);
    add_c(s, 0, 0, 3, 50, 5, 1);
    add_c(s, 1, 2, 8, 10, 20, 0);
    add_c(s, 8, 0, 4, 0, 300, 1);
    add_c(s, 4, 7, 1, 0, 64, 0);
    jpip__bin_store_touch(s, 6, 0, 0);
}

static uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

TEST(save_and_load_round_trip)
{
    ASSERT_EQ_U64(crc32_bitwise((const uint8_t *)"123456789", 9), 0xCBF43926u);
    struct jpip__bin_store *s, *t;
    struct jpip__err e;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 0));
    fill_sample(s);
    struct jpip__buf a, b;
    jpip__buf_init(&a, NULL, 1 << 20);
    jpip__buf_init(&b, NULL, 1 << 20);
    ASSERT_OK(jpip__buf_append(&a, "xy", 2)); /* save appends */
    ASSERT_OK(jpip__bin_store_save(s, "tid-42", &a));
    ASSERT_MEM_EQ(a.data + 2, "JPIPCACHE1\n\x06tid-42", 18);
    const uint8_t *file = a.data + 2;
    const size_t flen = a.len - 2;
    const uint32_t crc = (uint32_t)file[flen - 4] << 24 | (uint32_t)file[flen - 3] << 16 |
                         (uint32_t)file[flen - 2] << 8 | file[flen - 1];
    ASSERT_EQ_U64(crc, crc32_bitwise(file, flen - 4));

    ASSERT_OK(jpip__bin_store_create(&t, NULL, 0));
    ASSERT_OK(add_c(t, 0, 9, 9, 0, 9, 0)); /* replaced by the load */
    char tid[256];
    ASSERT_OK(jpip__bin_store_load(t, file, flen, tid, sizeof tid, &e));
    ASSERT_STR_EQ(tid, "tid-42");
    ASSERT_EQ_U64(digest(t), digest(s));
    ASSERT_TRUE(!has_bin(t, 0, 9, 9));
    ASSERT_CONSISTENT(t);
    ASSERT_OK(jpip__bin_store_save(t, "tid-42", &b));
    ASSERT_EQ_U64(b.len, flen);
    ASSERT_MEM_EQ(b.data, file, flen);

    /* An empty store, no tid; a tid buffer too small; a tid too long to save. */
    jpip__bin_store_clear(t);
    jpip__buf_reset(&b);
    ASSERT_OK(jpip__bin_store_save(t, NULL, &b));
    ASSERT_EQ_U64(b.len, 11 + 1 + 8 + 4);
    ASSERT_OK(jpip__bin_store_load(s, b.data, b.len, tid, 1, &e));
    ASSERT_STR_EQ(tid, "");
    ASSERT_OK(jpip__bin_store_load(s, file, flen, NULL, 0, &e));
    ASSERT_EQ_INT(jpip__bin_store_load(t, file, flen, tid, 6, &e), JPIP_EINVAL);
    char longtid[300];
    memset(longtid, 'a', sizeof longtid - 1);
    longtid[sizeof longtid - 1] = '\0';
    const size_t keep = b.len;
    ASSERT_EQ_INT(jpip__bin_store_save(s, longtid, &b), JPIP_EINVAL);
    longtid[255] = '\0';
    ASSERT_OK(jpip__bin_store_save(s, longtid, &b));
    ASSERT_OK(jpip__bin_store_load(t, b.data + keep, b.len - keep, tid, sizeof tid, &e));
    ASSERT_EQ_U64(strlen(tid), 255);
    /* A full output buffer leaves it as it was. */
    struct jpip__buf small;
    jpip__buf_init(&small, NULL, 100);
    ASSERT_OK(jpip__buf_append(&small, "ab", 2));
    ASSERT_EQ_INT(jpip__bin_store_save(s, "t", &small), JPIP_ELIMIT);
    ASSERT_EQ_U64(small.len, 2);
    jpip__buf_free(&small);
    jpip__buf_free(&a);
    jpip__buf_free(&b);
    jpip__bin_store_destroy(s);
    jpip__bin_store_destroy(t);
}

TEST(loading_into_a_smaller_budget_keeps_the_most_recent)
{
    struct jpip__bin_store *s, *t;
    struct jpip__err e;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 0));
    for (uint64_t id = 1; id <= 10; id++)
        ASSERT_OK(add_c(s, 8, 0, id, 0, 100, 1));
    struct jpip__buf a;
    jpip__buf_init(&a, NULL, 1 << 20);
    ASSERT_OK(jpip__bin_store_save(s, "x", &a));
    ASSERT_OK(jpip__bin_store_create(&t, NULL, 3 * META100));
    ASSERT_OK(jpip__bin_store_load(t, a.data, a.len, NULL, 0, &e));
    ASSERT_TRUE(has_bin(t, 8, 0, 10) && has_bin(t, 8, 0, 9) && has_bin(t, 8, 0, 8));
    ASSERT_TRUE(!has_bin(t, 8, 0, 7));
    jpip__bin_store_destroy(t);
    /* A saved bin larger than the whole budget cannot be loaded. */
    ASSERT_OK(jpip__bin_store_create(&t, NULL, META100 - 1));
    ASSERT_EQ_INT(jpip__bin_store_load(t, a.data, a.len, NULL, 0, &e), JPIP_ELIMIT);
    jpip__bin_store_destroy(t);
    jpip__buf_free(&a);
    jpip__bin_store_destroy(s);
}

TEST(every_truncation_and_byte_flip_is_refused_with_an_offset)
{
    struct jpip__bin_store *s, *t;
    struct jpip__err e;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 0));
    fill_sample(s);
    struct jpip__buf a;
    jpip__buf_init(&a, NULL, 1 << 20);
    ASSERT_OK(jpip__bin_store_save(s, "tid", &a));
    ASSERT_OK(jpip__bin_store_create(&t, NULL, 0));
    ASSERT_OK(add_c(t, 0, 0, 1, 0, 10, 0));
    const uint64_t before = digest(t);
    char tid[8] = "keep";
    uint8_t *copy = malloc(a.len);
    ASSERT_TRUE(copy != NULL);
    for (size_t n = 0; n < a.len; n++) {
        memcpy(copy, a.data, n); /* exactly n bytes: ASan sees any over-read */
        jpip__err_clear(&e);
        const int rc = jpip__bin_store_load(t, n ? copy : NULL, n, tid, sizeof tid, &e);
        if (rc != JPIP_EMALFORMED || !strstr(e.msg, "offset"))
            TEST_FAIL_AT("truncation to %zu bytes: %d \"%s\"", n, rc, e.msg);
    }
    for (size_t i = 0; i < a.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(copy, a.data, a.len);
            copy[i] ^= (uint8_t)(1u << bit);
            jpip__err_clear(&e);
            const int rc = jpip__bin_store_load(t, copy, a.len, tid, sizeof tid, &e);
            if (rc != JPIP_EMALFORMED || !strstr(e.msg, "offset"))
                TEST_FAIL_AT("flip of bit %d at %zu: %d \"%s\"", bit, i, rc, e.msg);
        }
    }
    /* Random garbage after a good magic, and a duplicated bin with a valid CRC. */
    for (int round = 0; round < 2000; round++) {
        const size_t n = 11 + (size_t)rnd_below(80);
        memcpy(copy, "JPIPCACHE1\n", 11);
        for (size_t i = 11; i < n; i++)
            copy[i] = (uint8_t)(rnd_below(4) ? rnd_below(4) : rnd());
        ASSERT_TRUE(jpip__bin_store_load(t, copy, n, tid, sizeof tid, &e) < 0);
    }
    ASSERT_STR_EQ(tid, "keep");
    ASSERT_EQ_U64(digest(t), before);
    ASSERT_CONSISTENT(t);
    free(copy);
    jpip__buf_free(&a);
    jpip__bin_store_destroy(s);
    jpip__bin_store_destroy(t);
}

/* Hand-built files: each is valid except for one field. */
static size_t put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
    return 8;
}

static size_t seal(uint8_t *f, size_t n)
{
    const uint32_t c = crc32_bitwise(f, n);
    f[n] = (uint8_t)(c >> 24);
    f[n + 1] = (uint8_t)(c >> 16);
    f[n + 2] = (uint8_t)(c >> 8);
    f[n + 3] = (uint8_t)c;
    return n + 4;
}

/* One bin: class, cs, id, flags, length, then ranges given as (off, len) pairs. */
static size_t build(uint8_t *f, unsigned cls, uint64_t cs, uint64_t id, unsigned flags,
                    uint64_t length, unsigned nbins, const uint64_t *ranges, unsigned nranges)
{
    size_t n = 0;
    memcpy(f, "JPIPCACHE1\n\0", 12);
    n = 12;
    n += put64(f + n, nbins);
    for (unsigned k = 0; k < nbins; k++) {
        f[n++] = (uint8_t)cls;
        n += put64(f + n, cs);
        n += put64(f + n, id);
        f[n++] = (uint8_t)flags;
        if (flags & 1)
            n += put64(f + n, length);
        f[n++] = 0;
        f[n++] = 0;
        f[n++] = 0;
        f[n++] = (uint8_t)nranges;
        for (unsigned r = 0; r < nranges; r++) {
            n += put64(f + n, ranges[2 * r]);
            n += put64(f + n, ranges[2 * r + 1]);
            for (uint64_t i = 0; i < ranges[2 * r + 1]; i++)
                f[n++] = content(cls, cs, id, ranges[2 * r] + i);
        }
    }
    return seal(f, n);
}

TEST(inconsistent_files_are_refused)
{
    static uint8_t f[4096];
    struct jpip__bin_store *t;
    struct jpip__err e;
    ASSERT_OK(jpip__bin_store_create(&t, NULL, 0));
    const uint64_t ok[] = {0, 10, 20, 5};
    ASSERT_OK(jpip__bin_store_load(t, f, build(f, 0, 1, 2, 1, 25, 1, ok, 2), NULL, 0, &e));
    ASSERT_BIN(t, 0, 1, 2, 10, 0);
    const uint64_t overlap[] = {0, 10, 5, 10}, empty[] = {0, 0}, unsorted[] = {20, 5, 0, 10};
    const uint64_t far[] = {JPIP__BIN_STORE_MAX_LEN, 1};
    const struct {
        unsigned cls;
        uint64_t id;
        unsigned flags;
        uint64_t length;
        unsigned nbins;
        const uint64_t *ranges;
        unsigned nranges;
        const char *what;
    } bad[] = {
        {0, 2, 1, 25, 2, ok, 2, "twice"},
        {3, 2, 1, 25, 1, ok, 2, "class"},
        {8, 2, 1, 25, 1, ok, 2, "codestream"}, /* metadata-bins have none */
        {0, (uint64_t)1 << 53, 0, 0, 1, ok, 2, "id"},
        {0, 2, 3, 25, 1, ok, 2, "flags"},
        {0, 2, 1, 24, 1, ok, 2, "length"},
        {0, 2, 0, 0, 1, overlap, 2, "overlaps"},
        {0, 2, 0, 0, 1, unsorted, 2, "overlaps"},
        {0, 2, 0, 0, 1, empty, 1, "empty"},
        {0, 2, 0, 0, 1, NULL, 0, "nothing"},
        {0, 2, 0, 0, 1, far, 1, "length"},
        {0, 2, 1, JPIP__BIN_STORE_MAX_LEN + 1, 1, NULL, 0, "length"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const size_t n = build(f, bad[i].cls, 1, bad[i].id, bad[i].flags, bad[i].length,
                               bad[i].nbins, bad[i].ranges, bad[i].nranges);
        jpip__err_clear(&e);
        const int rc = jpip__bin_store_load(t, f, n, NULL, 0, &e);
        if (rc != JPIP_EMALFORMED || !strstr(e.msg, bad[i].what) || !strstr(e.msg, "offset"))
            TEST_FAIL_AT("case %zu: %d \"%s\" (wanted \"%s\")", i, rc, e.msg, bad[i].what);
    }
    /* Trailing bytes before the CRC; a bin count larger than the file could hold. */
    size_t n = build(f, 0, 1, 2, 1, 25, 1, ok, 2) - 4;
    f[n++] = 0;
    ASSERT_EQ_INT(jpip__bin_store_load(t, f, seal(f, n), NULL, 0, &e), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "unexpected");
    n = build(f, 0, 1, 2, 1, 25, 1, ok, 2) - 4;
    put64(f + 12, UINT64_MAX);
    ASSERT_EQ_INT(jpip__bin_store_load(t, f, seal(f, n), NULL, 0, &e), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "bin count");
    ASSERT_BIN(t, 0, 1, 2, 10, 0); /* still the first good load */
    ASSERT_CONSISTENT(t);
    jpip__bin_store_destroy(t);
}

/* A byte-map model of one bin, to compare the store against. */
#define REF_MAX 300
struct ref_bin {
    uint8_t bytes[REF_MAX + 64];
    uint8_t held[REF_MAX + 64];
    int exists, length_known;
    uint64_t length;
};

TEST(randomized_against_a_byte_map)
{
    enum { NBINS = 6, OPS = 30000 };
    static struct ref_bin ref[NBINS];
    memset(ref, 0, sizeof ref);
    struct jpip__bin_store *s;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, 0));
    uint64_t dup_total = 0;
    for (int op = 0; op < OPS; op++) {
        const int k = (int)rnd_below(NBINS);
        struct ref_bin *r = &ref[k];
        const uint64_t id = 100 + (uint64_t)k;
        /* Messages cluster: most start near the held prefix, as servers send them. */
        uint64_t off = rnd_below(REF_MAX);
        const size_t len = (size_t)rnd_below(rnd_below(4) ? 12 : 60);
        const int last = rnd_below(16) == 0;
        uint8_t msg[64];
        for (size_t i = 0; i < len; i++)
            msg[i] = content(8, 0, id, off + i);
        if (len && rnd_below(40) == 0)
            msg[rnd_below(len)] ^= 0x5A;
        const uint64_t end = off + len;
        /* What the rules of jpip-notes 4.2 say. */
        uint64_t held_end = 0, dup = 0;
        int mismatch = 0;
        for (uint64_t i = 0; i < REF_MAX + 64; i++)
            if (r->held[i])
                held_end = i + 1;
        for (uint64_t i = off; i < end; i++)
            if (r->held[i]) {
                dup++;
                mismatch |= r->bytes[i] != msg[i - off];
            }
        int want = JPIP_OK;
        if (r->length_known && (end > r->length || (last && end != r->length)))
            want = JPIP_EPROTOCOL;
        if (!r->length_known && last && held_end > end)
            want = JPIP_EPROTOCOL;
        if (mismatch)
            want = JPIP_EPROTOCOL;
        const int rc = jpip__bin_store_add(s, 8, 0, id, off, len ? msg : NULL, len, last, NULL);
        if (rc != want)
            TEST_FAIL_AT("op %d: add(%" PRIu64 ", %zu, %d) = %d, wanted %d", op, off, len, last, rc,
                         want);
        if (rc == JPIP_OK) {
            for (uint64_t i = off; i < end; i++) {
                r->held[i] = 1;
                r->bytes[i] = msg[i - off];
            }
            if (len || last)
                r->exists = 1;
            if (last) {
                r->length_known = 1;
                r->length = end;
            }
            dup_total += dup;
        }
        /* Compare the bin. */
        struct jpip__bin_info info;
        const int found = jpip__bin_store_info(s, 8, 0, id, &info) == JPIP_OK;
        ASSERT_EQ_INT(found, r->exists);
        if (!found)
            continue;
        uint64_t prefix = 0, held = 0;
        while (r->held[prefix])
            prefix++;
        for (uint64_t i = 0; i < REF_MAX + 64; i++)
            held += r->held[i];
        ASSERT_EQ_U64(info.prefix_len, prefix);
        ASSERT_EQ_U64(info.held_bytes, held);
        ASSERT_EQ_INT(info.length_known, r->length_known);
        ASSERT_EQ_INT(info.complete, r->length_known && prefix == r->length);
        if (prefix)
            ASSERT_MEM_EQ(info.prefix, r->bytes, prefix);
        for (size_t c = 0; c < info.nchunks; c++) {
            for (size_t i = 0; i < info.chunks[c].len; i++) {
                ASSERT_TRUE(r->held[info.chunks[c].off + i]);
                ASSERT_EQ_U64(info.chunks[c].data[i], r->bytes[info.chunks[c].off + i]);
            }
        }
        if (op % 64 == 0)
            ASSERT_CONSISTENT(s);
    }
    struct jpip__bin_store_stats st;
    jpip__bin_store_stats(s, &st);
    ASSERT_EQ_U64(st.duplicate_bytes, dup_total);
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);
}

struct bin_list {
    struct jpip__bin_info v[256];
    int n;
};

static int list_bins(void *u, const struct jpip__bin_info *b)
{
    struct bin_list *l = u;
    if (l->n < 256)
        l->v[l->n++] = *b;
    return 0;
}

/* Whether eviction must pass over bin i (the rule of jpip__bin_store_add). */
static int kept(const struct bin_list *l, int i)
{
    if (l->v[i].cls == 8 && l->v[i].id == 0)
        return l->n > 1;
    if (l->v[i].cls != 6)
        return 0;
    for (int j = 0; j < l->n; j++)
        if (l->v[j].cs == l->v[i].cs && (l->v[j].cls == 0 || l->v[j].cls == 2 || l->v[j].cls == 4))
            return 1;
    return 0;
}

TEST(randomized_eviction_keeps_only_what_it_must)
{
    struct jpip__bin_store *s;
    const uint64_t budget = 6000;
    static struct bin_list l;
    ASSERT_OK(jpip__bin_store_create(&s, NULL, budget));
    for (int op = 0; op < 20000; op++) {
        static const unsigned classes[] = {0, 1, 2, 4, 5, 6, 8};
        const unsigned cls = classes[rnd_below(7)];
        const uint64_t cs = cls == 8 ? 0 : rnd_below(3);
        const uint64_t id = cls == 6 ? 0 : rnd_below(cls == 8 ? 4 : 40);
        const uint64_t off = rnd_below(3) ? 0 : rnd_below(400);
        int had[4];
        for (uint64_t c = 0; c < 3; c++)
            had[c] = has_bin(s, 6, c, 0);
        had[3] = has_bin(s, 8, 0, 0);
        const int rc = add_c(s, cls, cs, id, off, (size_t)rnd_below(300), rnd_below(8) == 0);
        ASSERT_TRUE(rc == JPIP_OK || rc == JPIP_EPROTOCOL);
        /* A main header or metadata-bin 0 that went must not have been needed. */
        l.n = 0;
        jpip__bin_store_visit(s, list_bins, &l);
        for (int i = 0; i < l.n; i++) {
            const struct jpip__bin_info *b = &l.v[i];
            if (b->cls == 0 || b->cls == 2 || b->cls == 4)
                ASSERT_TRUE(!had[b->cs] || has_bin(s, 6, b->cs, 0));
        }
        ASSERT_TRUE(!had[3] || l.n <= 1 || has_bin(s, 8, 0, 0));
        if (op % 97 == 0)
            ASSERT_CONSISTENT(s);
        struct jpip__bin_store_stats st;
        jpip__bin_store_stats(s, &st);
        if (rc == JPIP_OK && st.bytes > budget) {
            /* Over budget only when everything but the bin just added must stay. */
            l.n = 0;
            jpip__bin_store_visit(s, list_bins, &l);
            for (int i = 0; i < l.n; i++) {
                const int is_added =
                    l.v[i].cls == (cls & ~1u) && l.v[i].cs == cs && l.v[i].id == id;
                if (!is_added && !kept(&l, i))
                    TEST_FAIL_AT("op %d: over budget (%" PRIu64 ") with class %u id %" PRIu64
                                 " evictable",
                                 op, st.bytes, l.v[i].cls, l.v[i].id);
            }
        }
        if (rnd_below(4) == 0)
            jpip__bin_store_touch(s, classes[rnd_below(7)], rnd_below(3), rnd_below(40));
    }
    struct jpip__bin_store_stats st;
    jpip__bin_store_stats(s, &st);
    ASSERT_TRUE(st.evictions > 1000);
    ASSERT_CONSISTENT(s);
    jpip__bin_store_destroy(s);
}

/* One run of the allocation-failure sweep: every step either succeeds or fails with
 * JPIP_ENOMEM and leaves the store exactly as it was. */
static void sweep_run(struct counting_alloc *c, const struct jpip_allocator *a, int *completed)
{
    struct jpip__bin_store *s = NULL, *t = NULL;
    struct jpip__buf out;
    jpip__buf_init(&out, a, 1 << 20);
    *completed = 0;
    int rc = jpip__bin_store_create(&s, a, 4000);
    if (rc == JPIP_ENOMEM)
        goto done;
    ASSERT_OK(rc);
    for (int i = 0; i < 60; i++) {
        const unsigned cls = (unsigned)(i % 5 == 0 ? 6 : i % 3 == 0 ? 8 : i % 7 == 0 ? 2 : 0);
        const uint64_t cs = (uint64_t)(i % 4);
        const uint64_t id = cls == 6 ? 0 : (uint64_t)(i % 11);
        const uint64_t off = (uint64_t)((i * 37) % 3 == 0 ? 0 : (i * 13) % 90);
        const uint64_t before = digest(s);
        rc = add_c(s, cls, cs, id, off, (size_t)(10 + i * 7 % 80), i % 9 == 0);
        if (rc == JPIP_ENOMEM) {
            ASSERT_EQ_U64(digest(s), before);
            ASSERT_CONSISTENT(s);
        } else if (rc != JPIP_EPROTOCOL) {
            ASSERT_OK(rc);
        }
    }
    ASSERT_CONSISTENT(s);
    rc = jpip__bin_store_save(s, "t", &out);
    if (rc == JPIP_ENOMEM) {
        ASSERT_EQ_U64(out.len, 0);
        goto done;
    }
    ASSERT_OK(rc);
    rc = jpip__bin_store_create(&t, a, 0);
    if (rc == JPIP_ENOMEM)
        goto done;
    add_c(t, 0, 0, 0, 0, 10, 0);
    const uint64_t before = digest(t);
    rc = jpip__bin_store_load(t, out.data, out.len, NULL, 0, NULL);
    if (rc == JPIP_ENOMEM) {
        ASSERT_EQ_U64(digest(t), before);
        ASSERT_CONSISTENT(t);
        goto done;
    }
    ASSERT_OK(rc);
    ASSERT_EQ_U64(digest(t), digest(s));
    *completed = c->failed == 0;
done:
    jpip__buf_free(&out);
    jpip__bin_store_destroy(s);
    jpip__bin_store_destroy(t);
}

TEST(allocation_failure_sweep)
{
    int completed = 0;
    long n;
    for (n = 0; n < 100000 && !completed; n++) {
        struct counting_alloc c = {n, 0, 0};
        const struct jpip_allocator a = {counting_alloc_fn, counting_free_fn, &c};
        sweep_run(&c, &a, &completed);
        if (jpip_test_failed)
            TEST_FAIL_AT("failing allocation %ld", n + 1);
        if (c.live != 0)
            TEST_FAIL_AT("failing allocation %ld: %ld blocks leaked", n + 1, c.live);
    }
    ASSERT_TRUE(completed);
    ASSERT_TRUE(n > 20);
}

RUN_TESTS()
