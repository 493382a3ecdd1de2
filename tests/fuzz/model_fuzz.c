/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz harness for lib/request/model.c. The input is a decoded model= value; the first byte
 * picks need= rules when odd. It checks that parsing never crashes or leaks, that a failure
 * leaves the model empty with a message naming an offset inside the input, and that a parsed
 * model formats to text that parses back to an equal model and formats identically (round
 * trip), and that need= accepts a subset of what model= accepts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request/model.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

#define MAX_ITEMS 4096

static void check_round_trip(const struct jpip__model *m, enum jpip__model_field f)
{
    struct jpip__buf b1, b2;
    jpip__buf_init(&b1, NULL, (size_t)16 << 20);
    jpip__buf_init(&b2, NULL, (size_t)16 << 20);
    CHECK(jpip__model_format(m, &b1) == JPIP_OK);
    struct jpip__model m2;
    struct jpip__err err;
    CHECK(jpip__model_parse(&m2, (const char *)b1.data, b1.len, f, MAX_ITEMS, NULL, &err) ==
          JPIP_OK);
    CHECK(jpip__model_equal(m, &m2) && jpip__model_equal(&m2, m));
    CHECK(jpip__model_format(&m2, &b2) == JPIP_OK);
    CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
    jpip__model_free(&m2);
    jpip__buf_free(&b1);
    jpip__buf_free(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const enum jpip__model_field f =
        (data[0] & 1) ? JPIP__MODEL_FIELD_NEED : JPIP__MODEL_FIELD_MODEL;
    const char *s = (const char *)data + 1;
    const size_t len = size - 1;
    struct jpip__model m;
    struct jpip__err err;
    jpip__err_clear(&err);
    const int rc = jpip__model_parse(&m, s, len, f, MAX_ITEMS, NULL, &err);
    if (rc != JPIP_OK) {
        CHECK(rc == JPIP_EMALFORMED || rc == JPIP_ELIMIT);
        CHECK(m.n == 0 && m.items == NULL && m.quals == NULL);
        const char *at = strstr(err.msg, " at offset ");
        CHECK(at != NULL);
        CHECK(strtoull(at + 11, NULL, 10) <= len);
        return 0;
    }
    CHECK(m.n > 0);
    for (uint32_t i = 0; i < m.n; i++) {
        const struct jpip__model_item *it = &m.items[i];
        CHECK(it->cls <= JPIP__MODEL_IMPLICIT && it->amount_kind <= JPIP__MODEL_LAYERS);
        CHECK(it->qual_first + it->qual_count <= m.nquals);
        CHECK(f == JPIP__MODEL_FIELD_MODEL || !it->subtractive);
        CHECK(it->id.from <= it->id.to);
    }
    check_round_trip(&m, f);
    if (f == JPIP__MODEL_FIELD_NEED) {
        struct jpip__model as_model;
        CHECK(jpip__model_parse(&as_model, s, len, JPIP__MODEL_FIELD_MODEL, MAX_ITEMS, NULL,
                                NULL) == JPIP_OK);
        CHECK(jpip__model_equal(&m, &as_model));
        jpip__model_free(&as_model);
    }
    jpip__model_free(&m);
    return 0;
}
