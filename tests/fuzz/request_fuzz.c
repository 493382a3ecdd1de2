/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz harness for lib/request/request.c (with request_fields.c, request_format.c, model.c,
 * metareq.c, pct.c, field_parse.c). The input is a query string. It checks that parsing never
 * crashes, leaks or over-reads; that a failure leaves the request empty with a message; that a
 * parsed request formats to a query which parses back to an equal request and formats to the
 * same text again (round trip); that the POST-body entry point agrees with the query one; and
 * that tighter limits either give the same request or fail with JPIP_ELIMIT.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request/request.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static void format_text(const struct jpip__request *r, struct jpip__buf *b)
{
    jpip__buf_init(b, NULL, (size_t)16 << 20);
    CHECK(jpip__request_format(r, b) == JPIP_OK);
}

static void check_round_trip(const struct jpip__request *r)
{
    struct jpip__buf b1;
    format_text(r, &b1);
    struct jpip__request_limits big;
    jpip__request_limits_default(&big);
    big.max_query_bytes = (size_t)16 << 20;
    struct jpip__request r2;
    struct jpip__err err;
    jpip__err_clear(&err);
    const char *text = b1.len ? (const char *)b1.data : "";
    CHECK(jpip__request_parse(&r2, text, b1.len, &big, &err) == JPIP_OK);
    CHECK(jpip__request_equal(r, &r2));
    CHECK(jpip__request_equal(&r2, r));
    struct jpip__buf b2;
    format_text(&r2, &b2);
    CHECK(b1.len == b2.len && (b1.len == 0 || memcmp(b1.data, b2.data, b1.len) == 0));
    jpip__buf_free(&b2);
    jpip__request_free(&r2);
    jpip__buf_free(&b1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *q = (const char *)data;
    struct jpip__request r;
    struct jpip__err err;
    jpip__err_clear(&err);
    const int rc = jpip__request_parse(&r, q, size, NULL, &err);
    if (rc != JPIP_OK) {
        CHECK(rc == JPIP_EMALFORMED || rc == JPIP_ELIMIT);
        CHECK(err.msg[0] != '\0' && err.code == rc);
        CHECK(r.present == 0 && r.decoded == NULL && r.model.items == NULL);
    } else {
        CHECK(err.msg[0] == '\0');
        check_round_trip(&r);
    }

    /* The form-body entry point: same answer for a body without a trailing line end. */
    if (size == 0 || (q[size - 1] != '\r' && q[size - 1] != '\n')) {
        struct jpip__request f;
        const int frc = jpip__request_parse_form(&f, q, size, NULL, NULL);
        CHECK(frc == rc);
        if (rc == JPIP_OK)
            CHECK(jpip__request_equal(&r, &f));
        jpip__request_free(&f);
    }

    /* Tight limits: the same request, or a limit error. */
    struct jpip__request_limits tight;
    memset(&tight, 0, sizeof tight);
    tight.max_fields = 6;
    tight.max_list_items = 3;
    tight.max_model_items = 4;
    tight.max_metareq_items = 3;
    struct jpip__request t;
    const int trc = jpip__request_parse(&t, q, size, &tight, NULL);
    if (rc == JPIP_OK)
        CHECK(trc == JPIP_ELIMIT || (trc == JPIP_OK && jpip__request_equal(&r, &t)));
    else
        CHECK(trc != JPIP_OK);
    jpip__request_free(&t);
    jpip__request_free(&r);
    return 0;
}
