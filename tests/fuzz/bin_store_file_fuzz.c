/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Harness for lib/cache/bin_store_file.c (loading a saved data-bin store). The input is loaded
 * as a cache file twice: as given, and with its last four bytes replaced by the right CRC-32 so
 * that mutations get past the checksum. Each load goes into a store that already holds one
 * bin. A failed load must return JPIP_EMALFORMED with a message naming a byte offset and leave
 * that bin in place; a successful one must leave a consistent store whose save, load and save
 * again are byte-identical, and whose bins all survive a reload. Every input is also loaded into
 * a store with a small byte budget, which evicts while loading and may refuse (JPIP_ELIMIT) a
 * bin larger than the budget. Seeds: files saved by jpip__bin_store_save from small stores
 * (empty; prefix, out-of-order ranges, known lengths with holes, empty complete bins, several
 * codestreams, metadata-bins; a 255-byte target id).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/bin_store.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

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

static int count_bins(void *u, const struct jpip__bin_info *b)
{
    uint64_t *n = u;
    (void)b;
    ++*n;
    return 0;
}

static void round_trip(const struct jpip__bin_store *s, const char *tid)
{
    struct jpip__buf a, b;
    jpip__buf_init(&a, NULL, (size_t)1 << 26);
    jpip__buf_init(&b, NULL, (size_t)1 << 26);
    CHECK(jpip__bin_store_save(s, tid, &a) == JPIP_OK);
    struct jpip__bin_store *t;
    CHECK(jpip__bin_store_create(&t, NULL, 0) == JPIP_OK);
    char tid2[JPIP__BIN_STORE_TID_MAX + 1];
    struct jpip__err err;
    CHECK(jpip__bin_store_load(t, a.data, a.len, tid2, sizeof tid2, &err) == JPIP_OK);
    CHECK(strcmp(tid, tid2) == 0);
    CHECK(jpip__bin_store_check(t, &err) == JPIP_OK);
    CHECK(jpip__bin_store_save(t, tid2, &b) == JPIP_OK);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    uint64_t n1 = 0, n2 = 0;
    jpip__bin_store_visit(s, count_bins, &n1);
    jpip__bin_store_visit(t, count_bins, &n2);
    CHECK(n1 == n2);
    jpip__bin_store_destroy(t);
    jpip__buf_free(&a);
    jpip__buf_free(&b);
}

static void load_one(const uint8_t *p, size_t n)
{
    struct jpip__bin_store *s;
    struct jpip__err err;
    CHECK(jpip__bin_store_create(&s, NULL, 0) == JPIP_OK);
    CHECK(jpip__bin_store_add(s, 0, 0, 0, 0, (const uint8_t *)"abc", 3, 0, NULL) == JPIP_OK);
    char tid[JPIP__BIN_STORE_TID_MAX + 1];
    jpip__err_clear(&err);
    const int rc = jpip__bin_store_load(s, p, n, tid, sizeof tid, &err);
    CHECK(jpip__bin_store_check(s, &err) == JPIP_OK);
    if (rc == JPIP_OK) {
        round_trip(s, tid);
    } else {
        CHECK(rc == JPIP_EMALFORMED);
        CHECK(strstr(err.msg, "offset") != NULL);
        uint64_t len = 0;
        CHECK(jpip__bin_store_get(s, 0, 0, 0, NULL, &len, NULL) == JPIP_OK && len == 3);
    }
    jpip__bin_store_destroy(s);

    CHECK(jpip__bin_store_create(&s, NULL, 2000) == JPIP_OK);
    const int rc2 = jpip__bin_store_load(s, p, n, NULL, 0, &err);
    CHECK(rc2 == JPIP_OK || rc2 == JPIP_EMALFORMED || rc2 == JPIP_ELIMIT);
    CHECK(jpip__bin_store_check(s, &err) == JPIP_OK);
    jpip__bin_store_destroy(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_one(data, size);
    if (size >= 4) {
        uint8_t *copy = malloc(size);
        CHECK(copy != NULL);
        memcpy(copy, data, size);
        const uint32_t c = crc32_bitwise(copy, size - 4);
        copy[size - 4] = (uint8_t)(c >> 24);
        copy[size - 3] = (uint8_t)(c >> 16);
        copy[size - 2] = (uint8_t)(c >> 8);
        copy[size - 1] = (uint8_t)c;
        load_one(copy, size);
        free(copy);
    }
    return 0;
}
