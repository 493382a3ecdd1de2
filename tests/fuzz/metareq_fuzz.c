/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz harness for lib/request/metareq.c. The input is a decoded metareq= value. It checks
 * that parsing never crashes or leaks, that a failure leaves the request empty with a message
 * naming an offset inside the input, and that a parsed request formats to text that parses
 * back to an equal request and formats identically (round trip).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request/metareq.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

#define MAX_ITEMS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct jpip__metareq q;
    struct jpip__err err;
    jpip__err_clear(&err);
    const int rc = jpip__metareq_parse(&q, s, size, MAX_ITEMS, NULL, &err);
    if (rc != JPIP_OK) {
        CHECK(rc == JPIP_EMALFORMED || rc == JPIP_ELIMIT);
        CHECK(q.n == 0 && q.items == NULL && q.props == NULL);
        const char *at = strstr(err.msg, " at offset ");
        CHECK(at != NULL && strtoull(at + 11, NULL, 10) <= size);
        return 0;
    }
    CHECK(q.n > 0);
    uint32_t props = 0;
    for (uint32_t i = 0; i < q.n; i++) {
        CHECK(q.items[i].prop_first == props && q.items[i].prop_count > 0);
        props += q.items[i].prop_count;
    }
    CHECK(props == q.nprops);
    struct jpip__buf b1, b2;
    jpip__buf_init(&b1, NULL, (size_t)16 << 20);
    jpip__buf_init(&b2, NULL, (size_t)16 << 20);
    CHECK(jpip__metareq_format(&q, &b1) == JPIP_OK);
    struct jpip__metareq q2;
    CHECK(jpip__metareq_parse(&q2, (const char *)b1.data, b1.len, MAX_ITEMS, NULL, &err) ==
          JPIP_OK);
    CHECK(jpip__metareq_equal(&q, &q2) && jpip__metareq_equal(&q2, &q));
    CHECK(jpip__metareq_format(&q2, &b2) == JPIP_OK);
    CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
    jpip__metareq_free(&q2);
    jpip__metareq_free(&q);
    jpip__buf_free(&b1);
    jpip__buf_free(&b2);
    return 0;
}
