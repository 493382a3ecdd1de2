/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The small grammars shared by request fields, cache-model strings, metareq and the JPIP-*
 * response headers: a bounded cursor over one (already percent-decoded) value, decimal
 * numbers with overflow checks, "a,b" pairs, range lists (15444-9 Annex C: "a", "a-b",
 * "a-b:step", "a-"), and their formatting. Errors name the field and the byte offset in the
 * text the peer sent, mapping decoded positions back through the percent-encoding.
 */
#ifndef JPIP_REQUEST_FIELD_PARSE_H
#define JPIP_REQUEST_FIELD_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/status.h"

/* A view into someone else's bytes (not NUL-terminated). */
struct jpip__req_str {
    const char *ptr;
    size_t len;
};

/* An inclusive range of indices with a sampling step. to == JPIP__RANGE_OPEN means "a-"
 * (open-ended; also what an explicit 4294967295 means). step is 1 unless "a-b:step". */
#define JPIP__RANGE_OPEN UINT32_MAX
struct jpip__range {
    uint32_t from;
    uint32_t to;
    uint32_t step;
};

/* A parsing cursor over one value. */
struct jpip__fcur {
    const char *s; /* the (decoded) value */
    size_t len;
    size_t pos;
    const char *raw;  /* the text s was decoded from; == s when it needed no decoding */
    size_t raw_len;   /* length of raw */
    size_t raw_base;  /* offset of raw in the whole query or header line, for messages */
    const char *name; /* field or header name, for messages */
    struct jpip__err *err;
    int lenient_ws; /* skip spaces and tabs around tokens (response headers only) */
};

/* A cursor over s[0..len) named name, reporting offsets relative to s. */
void jpip__fcur_init(struct jpip__fcur *c, const char *s, size_t len, const char *name,
                     struct jpip__err *err);

/* Records "<name>: <message> at offset N" (N = where the cursor stands, in the peer's text)
 * and returns code. */
int jpip__fcur_fail(const struct jpip__fcur *c, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The next byte (0..255), or -1 at the end. Skips leading whitespace when lenient. */
int jpip__fcur_peek(struct jpip__fcur *c);
int jpip__fcur_at_end(struct jpip__fcur *c);
/* Consumes ch if it is next: returns 1, else 0. */
int jpip__fcur_accept(struct jpip__fcur *c, char ch);
/* Consumes the literal lit if it comes next: returns 1, else 0 (nothing consumed). */
int jpip__fcur_accept_lit(struct jpip__fcur *c, const char *lit);
/* Consumes ch or fails with JPIP_EMALFORMED "expected 'ch'". */
int jpip__fcur_expect(struct jpip__fcur *c, char ch);
/* Fails unless the whole value has been consumed. */
int jpip__fcur_expect_end(struct jpip__fcur *c);

/* 1*DIGIT with value <= max; "expected a number" / "number larger than max" otherwise. A sign,
 * a space or a decimal point is not a digit. */
int jpip__fcur_u64(struct jpip__fcur *c, uint64_t max, uint64_t *out);
int jpip__fcur_u32(struct jpip__fcur *c, uint32_t *out);

/* "a,b" as two 32-bit numbers; with nonzero set, 0 in either is an error. */
int jpip__fcur_pair(struct jpip__fcur *c, uint32_t v[2], int nonzero);

/* One range "a", "a-b", "a-" or (with_step) "a-b:step". */
int jpip__fcur_range(struct jpip__fcur *c, int with_step, struct jpip__range *r);

/* A comma-separated list of ranges up to the end of the value or the first byte equal to
 * stop (stop = 0: the end). with_step allows "a-b:step" (step >= 1). b < a is an error. At
 * most max_items ranges (JPIP_ELIMIT beyond). *out is allocated with a (free with
 * jpip__free); an empty list is an error. */
int jpip__fcur_ranges(struct jpip__fcur *c, char stop, int with_step, uint32_t max_items,
                      const struct jpip_allocator *a, struct jpip__range **out, uint32_t *n);

/* Fails unless every byte of the value is within [lo, hi] and not in forbid (may be NULL).
 * The cursor is left unchanged. */
int jpip__fcur_check_bytes(struct jpip__fcur *c, unsigned char lo, unsigned char hi,
                           const char *forbid);

/* Number of times ch occurs in s[0..len). */
size_t jpip__count_byte(const char *s, size_t len, char ch);

/* Formatting helpers appending to b. */
int jpip__fmt_u64(struct jpip__buf *b, uint64_t v);
int jpip__fmt_lit(struct jpip__buf *b, const char *lit);
/* "a", "a-b", "a-b:s" or "a-", comma-separated; "a-" only when to is open and step is 1. */
int jpip__fmt_ranges(struct jpip__buf *b, const struct jpip__range *v, uint32_t n);

int jpip__req_str_eq(struct jpip__req_str a, struct jpip__req_str b);
int jpip__ranges_eq(const struct jpip__range *a, uint32_t na, const struct jpip__range *b,
                    uint32_t nb);

#endif
