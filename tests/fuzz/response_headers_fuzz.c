/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz harness for lib/request/response_headers.c (the client's side). The input is one
 * header line "Name: value" (the name ends at the first ':'; without one the whole input is
 * the value of a header picked by the first byte). It checks that parsing never crashes,
 * leaks or over-reads, that a failure carries a message, and that a parsed header formats
 * (no control bytes can slip through) to a line that parses back to the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request/response_headers.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static int str_eq(struct jpip__req_str a, struct jpip__req_str b)
{
    return jpip__req_str_eq(a, b);
}

static void check_same(const struct jpip__resp_info *a, const struct jpip__resp_info *b)
{
    CHECK(a->present == b->present);
    CHECK(str_eq(a->tid, b->tid) && str_eq(a->cnew.cid, b->cnew.cid));
    CHECK(str_eq(a->cnew.path, b->cnew.path) && str_eq(a->cnew.transport, b->cnew.transport));
    CHECK(str_eq(a->cnew.host, b->cnew.host));
    CHECK(a->cnew.port == b->cnew.port && a->cnew.auxport == b->cnew.auxport);
    CHECK(a->qid == b->qid && a->layers == b->layers && a->len == b->len);
    CHECK(a->quality == b->quality);
    CHECK(memcmp(a->fsiz, b->fsiz, sizeof a->fsiz) == 0);
    CHECK(memcmp(a->roff, b->roff, sizeof a->roff) == 0);
    CHECK(memcmp(a->rsiz, b->rsiz, sizeof a->rsiz) == 0);
    CHECK(jpip__ranges_eq(a->comps, a->ncomps, b->comps, b->ncomps));
    CHECK(jpip__ranges_eq(a->stream, a->nstream, b->stream, b->nstream));
    CHECK(str_eq(a->context, b->context) && str_eq(a->roi, b->roi));
    CHECK(str_eq(a->pref, b->pref) && str_eq(a->handled, b->handled));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *colon = size ? memchr(s, ':', size) : NULL;
    const char *name, *value;
    size_t name_len, value_len;
    if (colon) {
        name = s;
        name_len = (size_t)(colon - s);
        value = colon + 1;
        value_len = size - name_len - 1;
    } else {
        if (size == 0)
            return 0;
        name = jpip__resp_header_name((enum jpip__resp_header)(data[0] % JPIP__H_COUNT));
        name_len = strlen(name);
        value = s + 1;
        value_len = size - 1;
    }
    struct jpip__resp_info info;
    jpip__resp_info_init(&info, NULL, 64);
    struct jpip__err err;
    jpip__err_clear(&err);
    const int rc = jpip__resp_header_parse(&info, name, name_len, value, value_len, &err);
    if (rc != JPIP_OK) {
        CHECK(rc == JPIP_EMALFORMED || rc == JPIP_ELIMIT);
        CHECK(err.msg[0] != '\0' && info.present == 0);
        jpip__resp_info_free(&info);
        return 0;
    }
    if (info.present) {
        struct jpip__buf b;
        jpip__buf_init(&b, NULL, (size_t)1 << 20);
        CHECK(jpip__resp_headers_format(&info, &b) == JPIP_OK);
        CHECK(b.len >= 2 && b.data[b.len - 2] == '\r' && b.data[b.len - 1] == '\n');
        const char *line = (const char *)b.data;
        const char *c2 = memchr(line, ':', b.len);
        CHECK(c2 != NULL);
        for (size_t i = 0; i + 2 < b.len; i++)
            CHECK(b.data[i] != '\r' && b.data[i] != '\n');
        struct jpip__resp_info back;
        jpip__resp_info_init(&back, NULL, 64);
        CHECK(jpip__resp_header_parse(&back, line, (size_t)(c2 - line), c2 + 1,
                                      b.len - 2 - (size_t)(c2 + 1 - line), NULL) == JPIP_OK);
        check_same(&info, &back);
        jpip__resp_info_free(&back);
        jpip__buf_free(&b);
    }
    jpip__resp_info_free(&info);
    return 0;
}
