/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for lib/common/buf.c: appends, big-endian helpers, take, the hard cap, failing allocs. */
#include "common/buf.h"

#include "test.h"

/* An allocator that counts live blocks and fails every allocation after the first `budget`. */
struct counting_alloc {
    int budget; /* allocations still allowed; negative = unlimited */
    int live;
    int calls;
};

static void *counting_alloc_fn(void *opaque, size_t size)
{
    struct counting_alloc *c = opaque;
    c->calls++;
    if (c->budget == 0)
        return NULL;
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

TEST(append_and_read_back)
{
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 1024);
    ASSERT_EQ_U64(b.len, 0);
    ASSERT_OK(jpip__buf_append(&b, "abc", 3));
    ASSERT_OK(jpip__buf_append_byte(&b, 'd'));
    ASSERT_OK(jpip__buf_append(&b, NULL, 0));
    ASSERT_EQ_U64(b.len, 4);
    ASSERT_MEM_EQ(b.data, "abcd", 4);
    jpip__buf_free(&b);
    ASSERT_TRUE(b.data == NULL);
    ASSERT_EQ_U64(b.len, 0);
    /* Freeing twice (or an untouched buffer) is harmless. */
    jpip__buf_free(&b);
}

TEST(big_endian_appends)
{
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 64);
    ASSERT_OK(jpip__buf_append_u16be(&b, 0xff4f));
    ASSERT_OK(jpip__buf_append_u32be(&b, 0x0a0b0c0du));
    const uint8_t want[] = {0xff, 0x4f, 0x0a, 0x0b, 0x0c, 0x0d};
    ASSERT_EQ_U64(b.len, sizeof want);
    ASSERT_MEM_EQ(b.data, want, sizeof want);
    jpip__buf_free(&b);
}

TEST(growth_keeps_contents)
{
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 1 << 20);
    for (unsigned i = 0; i < 100000; i++)
        ASSERT_OK(jpip__buf_append_byte(&b, (uint8_t)(i * 7)));
    ASSERT_EQ_U64(b.len, 100000);
    ASSERT_TRUE(b.cap >= b.len);
    ASSERT_TRUE(b.cap <= b.max);
    for (unsigned i = 0; i < 100000; i++) {
        if (b.data[i] != (uint8_t)(i * 7))
            TEST_FAIL_AT("byte %u is %u", i, b.data[i]);
    }
    jpip__buf_free(&b);
}

TEST(reset_keeps_capacity)
{
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 4096);
    ASSERT_OK(jpip__buf_append(&b, "0123456789", 10));
    const size_t cap = b.cap;
    jpip__buf_reset(&b);
    ASSERT_EQ_U64(b.len, 0);
    ASSERT_EQ_U64(b.cap, cap);
    ASSERT_OK(jpip__buf_append(&b, "xy", 2));
    ASSERT_MEM_EQ(b.data, "xy", 2);
    jpip__buf_free(&b);
}

TEST(take_empties_the_buffer)
{
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 64);
    ASSERT_OK(jpip__buf_append(&b, "hello", 5));
    size_t len = 0;
    uint8_t *p = jpip__buf_take(&b, &len);
    ASSERT_TRUE(p != NULL);
    ASSERT_EQ_U64(len, 5);
    ASSERT_MEM_EQ(p, "hello", 5);
    ASSERT_TRUE(b.data == NULL);
    ASSERT_EQ_U64(b.len, 0);
    ASSERT_EQ_U64(b.cap, 0);
    free(p);
    /* The emptied buffer is still usable and keeps its cap. */
    ASSERT_OK(jpip__buf_append(&b, "again", 5));
    ASSERT_MEM_EQ(b.data, "again", 5);
    jpip__buf_free(&b);
}

TEST(hard_cap_is_enforced)
{
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 10);
    ASSERT_OK(jpip__buf_append(&b, "0123456789", 10));
    ASSERT_EQ_INT(jpip__buf_append_byte(&b, 'x'), JPIP_ELIMIT);
    ASSERT_EQ_INT(jpip__buf_append_u16be(&b, 1), JPIP_ELIMIT);
    ASSERT_EQ_U64(b.len, 10);
    ASSERT_MEM_EQ(b.data, "0123456789", 10);
    ASSERT_TRUE(b.cap <= 10);
    /* A failed append leaves the contents alone; a fitting one after reset works. */
    jpip__buf_reset(&b);
    ASSERT_OK(jpip__buf_append(&b, "abcdefghij", 10));
    jpip__buf_free(&b);
}

TEST(cap_check_does_not_overflow)
{
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 100);
    ASSERT_OK(jpip__buf_append(&b, "abc", 3));
    ASSERT_EQ_INT(jpip__buf_reserve(&b, SIZE_MAX), JPIP_ELIMIT);
    ASSERT_EQ_INT(jpip__buf_reserve(&b, SIZE_MAX - 1), JPIP_ELIMIT);
    ASSERT_EQ_INT(jpip__buf_reserve(&b, 98), JPIP_ELIMIT);
    ASSERT_OK(jpip__buf_reserve(&b, 97));
    ASSERT_EQ_U64(b.len, 3);
    jpip__buf_free(&b);
}

TEST(zero_cap_refuses_everything)
{
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 0);
    ASSERT_OK(jpip__buf_append(&b, "", 0));
    ASSERT_EQ_INT(jpip__buf_append_byte(&b, 1), JPIP_ELIMIT);
    ASSERT_TRUE(b.data == NULL);
    jpip__buf_free(&b);
}

TEST(custom_allocator_is_used_and_balanced)
{
    struct counting_alloc c = {-1, 0, 0};
    const struct jpip_allocator a = {counting_alloc_fn, counting_free_fn, &c};
    struct jpip__buf b;
    jpip__buf_init(&b, &a, 1 << 16);
    for (unsigned i = 0; i < 5000; i++)
        ASSERT_OK(jpip__buf_append_u32be(&b, i));
    ASSERT_TRUE(c.calls > 1); /* it grew through the allocator */
    ASSERT_EQ_INT(c.live, 1);
    for (unsigned i = 0; i < 5000; i++) {
        const uint8_t *p = b.data + 4 * i;
        const uint32_t v =
            ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
        if (v != i)
            TEST_FAIL_AT("word %u is %u", i, (unsigned)v);
    }
    jpip__buf_free(&b);
    ASSERT_EQ_INT(c.live, 0);
}

TEST(first_allocation_fails)
{
    struct counting_alloc c = {0, 0, 0};
    const struct jpip_allocator a = {counting_alloc_fn, counting_free_fn, &c};
    struct jpip__buf b;
    jpip__buf_init(&b, &a, 1024);
    ASSERT_EQ_INT(jpip__buf_append(&b, "abc", 3), JPIP_ENOMEM);
    ASSERT_EQ_U64(b.len, 0);
    ASSERT_TRUE(b.data == NULL);
    jpip__buf_free(&b);
    ASSERT_EQ_INT(c.live, 0);
}

TEST(failed_growth_keeps_old_contents)
{
    struct counting_alloc c = {1, 0, 0};
    const struct jpip_allocator a = {counting_alloc_fn, counting_free_fn, &c};
    struct jpip__buf b;
    jpip__buf_init(&b, &a, 1 << 20);
    uint8_t block[200];
    memset(block, 0x5a, sizeof block);
    ASSERT_OK(jpip__buf_append(&b, block, sizeof block));
    const size_t cap = b.cap;
    const uint8_t *data = b.data;
    /* The next growth needs a second allocation, which the allocator refuses. */
    for (size_t used = b.len; used <= cap; used += sizeof block) {
        const int rc = jpip__buf_append(&b, block, sizeof block);
        if (rc != JPIP_OK) {
            ASSERT_EQ_INT(rc, JPIP_ENOMEM);
            break;
        }
    }
    ASSERT_TRUE(b.data == data);
    ASSERT_EQ_U64(b.cap, cap);
    ASSERT_TRUE(b.len <= cap);
    for (size_t i = 0; i < b.len; i++) {
        if (b.data[i] != 0x5a)
            TEST_FAIL_AT("byte %zu changed", i);
    }
    ASSERT_EQ_INT(c.live, 1);
    jpip__buf_free(&b);
    ASSERT_EQ_INT(c.live, 0);
}

TEST(every_allocation_failure_is_clean)
{
    /* Allocation-failure sweep over a growth pattern: fail the Nth allocation for each N until a
     * run completes, checking that each failure is ENOMEM and nothing leaks. */
    for (int n = 0; n < 64; n++) {
        struct counting_alloc c = {n, 0, 0};
        const struct jpip_allocator a = {counting_alloc_fn, counting_free_fn, &c};
        struct jpip__buf b;
        jpip__buf_init(&b, &a, 1 << 20);
        int rc = JPIP_OK;
        for (unsigned i = 0; i < 20000 && rc == JPIP_OK; i++)
            rc = jpip__buf_append_byte(&b, (uint8_t)i);
        if (rc != JPIP_OK)
            ASSERT_EQ_INT(rc, JPIP_ENOMEM);
        jpip__buf_free(&b);
        ASSERT_EQ_INT(c.live, 0);
        if (rc == JPIP_OK)
            return;
    }
    TEST_FAIL_AT("growth needed more than 64 allocations");
}

RUN_TESTS()
