/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared value grammars: cursor, numbers, pairs, range lists and their formatting. */
#include "request/field_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "request/pct.h"

void jpip__fcur_init(struct jpip__fcur *c, const char *s, size_t len, const char *name,
                     struct jpip__err *err)
{
    c->s = s;
    c->len = len;
    c->pos = 0;
    c->raw = s;
    c->raw_len = len;
    c->raw_base = 0;
    c->name = name;
    c->err = err;
    c->lenient_ws = 0;
}

int jpip__fcur_fail(const struct jpip__fcur *c, int code, const char *fmt, ...)
{
    if (!c->err)
        return code;
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    size_t off = c->pos;
    if (c->raw != c->s)
        off = jpip__pct_raw_offset(c->raw, c->raw_len, c->pos);
    return jpip__errf(c->err, code, "%s: %s at offset %zu", c->name, what, c->raw_base + off);
}

static void skip_ws(struct jpip__fcur *c)
{
    if (!c->lenient_ws)
        return;
    while (c->pos < c->len && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t'))
        c->pos++;
}

int jpip__fcur_peek(struct jpip__fcur *c)
{
    skip_ws(c);
    return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

int jpip__fcur_at_end(struct jpip__fcur *c)
{
    return jpip__fcur_peek(c) < 0;
}

int jpip__fcur_accept(struct jpip__fcur *c, char ch)
{
    if (jpip__fcur_peek(c) != (unsigned char)ch)
        return 0;
    c->pos++;
    return 1;
}

int jpip__fcur_accept_lit(struct jpip__fcur *c, const char *lit)
{
    skip_ws(c);
    const size_t n = strlen(lit);
    if (c->len - c->pos < n || memcmp(c->s + c->pos, lit, n) != 0)
        return 0;
    c->pos += n;
    return 1;
}

/* "'c'" for a printable byte, "0xHH" otherwise, "the end" for -1. */
static const char *byte_name(int ch, char tmp[8])
{
    static const char hex[] = "0123456789ABCDEF";
    if (ch < 0)
        return "the end";
    if (ch > 0x20 && ch < 0x7f) {
        tmp[0] = '\'';
        tmp[1] = (char)ch;
        tmp[2] = '\'';
        tmp[3] = '\0';
    } else {
        tmp[0] = '0';
        tmp[1] = 'x';
        tmp[2] = hex[(ch >> 4) & 15];
        tmp[3] = hex[ch & 15];
        tmp[4] = '\0';
    }
    return tmp;
}

int jpip__fcur_expect(struct jpip__fcur *c, char ch)
{
    if (jpip__fcur_accept(c, ch))
        return JPIP_OK;
    char tmp[8];
    return jpip__fcur_fail(c, JPIP_EMALFORMED, "expected '%c', found %s", ch,
                           byte_name(jpip__fcur_peek(c), tmp));
}

int jpip__fcur_expect_end(struct jpip__fcur *c)
{
    const int ch = jpip__fcur_peek(c);
    if (ch < 0)
        return JPIP_OK;
    char tmp[8];
    return jpip__fcur_fail(c, JPIP_EMALFORMED, "unexpected %s", byte_name(ch, tmp));
}

int jpip__fcur_u64(struct jpip__fcur *c, uint64_t max, uint64_t *out)
{
    const int ch = jpip__fcur_peek(c);
    if (ch < '0' || ch > '9') {
        char tmp[8];
        return jpip__fcur_fail(c, JPIP_EMALFORMED, "expected a number, found %s",
                               byte_name(ch, tmp));
    }
    const size_t start = c->pos;
    uint64_t v = 0;
    while (c->pos < c->len && c->s[c->pos] >= '0' && c->s[c->pos] <= '9') {
        const unsigned d = (unsigned)(c->s[c->pos] - '0');
        if (d > max || v > (max - d) / 10) {
            c->pos = start;
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "number larger than %llu",
                                   (unsigned long long)max);
        }
        v = v * 10 + d;
        c->pos++;
    }
    skip_ws(c);
    *out = v;
    return JPIP_OK;
}

int jpip__fcur_u32(struct jpip__fcur *c, uint32_t *out)
{
    uint64_t v = 0;
    JPIP_TRY(jpip__fcur_u64(c, UINT32_MAX, &v));
    *out = (uint32_t)v;
    return JPIP_OK;
}

int jpip__fcur_pair(struct jpip__fcur *c, uint32_t v[2], int nonzero)
{
    for (int i = 0; i < 2; i++) {
        if (i == 1)
            JPIP_TRY(jpip__fcur_expect(c, ','));
        const size_t at = c->pos;
        JPIP_TRY(jpip__fcur_u32(c, &v[i]));
        if (nonzero && v[i] == 0) {
            c->pos = at;
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "must be greater than 0");
        }
    }
    return JPIP_OK;
}

int jpip__fcur_range(struct jpip__fcur *c, int with_step, struct jpip__range *r)
{
    JPIP_TRY(jpip__fcur_u32(c, &r->from));
    r->to = r->from;
    r->step = 1;
    if (!jpip__fcur_accept(c, '-'))
        return JPIP_OK;
    const int ch = jpip__fcur_peek(c);
    if (ch < '0' || ch > '9') {
        r->to = JPIP__RANGE_OPEN;
        return JPIP_OK;
    }
    const size_t at = c->pos;
    JPIP_TRY(jpip__fcur_u32(c, &r->to));
    if (r->to < r->from) {
        c->pos = at;
        return jpip__fcur_fail(c, JPIP_EMALFORMED, "range end %u before its start %u",
                               (unsigned)r->to, (unsigned)r->from);
    }
    if (with_step && jpip__fcur_accept(c, ':')) {
        const size_t sat = c->pos;
        JPIP_TRY(jpip__fcur_u32(c, &r->step));
        if (r->step == 0) {
            c->pos = sat;
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "range step must be at least 1");
        }
    }
    return JPIP_OK;
}

int jpip__fcur_ranges(struct jpip__fcur *c, char stop, int with_step, uint32_t max_items,
                      const struct jpip_allocator *a, struct jpip__range **out, uint32_t *n)
{
    *out = NULL;
    *n = 0;
    /* Upper bound on the item count: commas before the stop byte, plus one. */
    size_t end = c->len;
    if (stop) {
        const char *p = memchr(c->s + c->pos, stop, c->len - c->pos);
        if (p)
            end = (size_t)(p - c->s);
    }
    const size_t cap = jpip__count_byte(c->s + c->pos, end - c->pos, ',') + 1;
    if (cap > max_items)
        return jpip__fcur_fail(c, JPIP_ELIMIT, "more than %u ranges", (unsigned)max_items);
    struct jpip__range *v = jpip__calloc(a, cap, sizeof *v);
    if (!v)
        return jpip__errf(c->err, JPIP_ENOMEM, "%s: out of memory", c->name);
    uint32_t k = 0;
    int rc = JPIP_OK;
    do {
        if (k == cap) { /* cannot happen: every range is followed by ',' or the end */
            rc = jpip__fcur_fail(c, JPIP_EMALFORMED, "too many ranges");
            break;
        }
        rc = jpip__fcur_range(c, with_step, &v[k]);
        if (rc < 0)
            break;
        k++;
    } while (jpip__fcur_accept(c, ','));
    if (rc < 0) {
        jpip__free(a, v);
        return rc;
    }
    *out = v;
    *n = k;
    return JPIP_OK;
}

int jpip__fcur_check_bytes(struct jpip__fcur *c, unsigned char lo, unsigned char hi,
                           const char *forbid)
{
    for (size_t i = c->pos; i < c->len; i++) {
        const unsigned char ch = (unsigned char)c->s[i];
        if (ch < lo || ch > hi || (forbid && ch && strchr(forbid, ch))) {
            const size_t keep = c->pos;
            c->pos = i;
            char tmp[8];
            const int rc =
                jpip__fcur_fail(c, JPIP_EMALFORMED, "byte %s not allowed", byte_name(ch, tmp));
            c->pos = keep;
            return rc;
        }
    }
    return JPIP_OK;
}

size_t jpip__count_byte(const char *s, size_t len, char ch)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == ch;
    return n;
}

int jpip__fmt_u64(struct jpip__buf *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return jpip__buf_append(b, tmp + i, sizeof tmp - i);
}

int jpip__fmt_lit(struct jpip__buf *b, const char *lit)
{
    return jpip__buf_append(b, lit, strlen(lit));
}

int jpip__fmt_ranges(struct jpip__buf *b, const struct jpip__range *v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            JPIP_TRY(jpip__buf_append_byte(b, ','));
        JPIP_TRY(jpip__fmt_u64(b, v[i].from));
        if (v[i].to == JPIP__RANGE_OPEN && v[i].step <= 1 && v[i].from != v[i].to) {
            JPIP_TRY(jpip__buf_append_byte(b, '-'));
            continue;
        }
        if (v[i].to != v[i].from || v[i].step > 1) {
            JPIP_TRY(jpip__buf_append_byte(b, '-'));
            JPIP_TRY(jpip__fmt_u64(b, v[i].to));
        }
        if (v[i].step > 1) {
            JPIP_TRY(jpip__buf_append_byte(b, ':'));
            JPIP_TRY(jpip__fmt_u64(b, v[i].step));
        }
    }
    return JPIP_OK;
}

int jpip__req_str_eq(struct jpip__req_str a, struct jpip__req_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

int jpip__ranges_eq(const struct jpip__range *a, uint32_t na, const struct jpip__range *b,
                    uint32_t nb)
{
    if (na != nb)
        return 0;
    for (uint32_t i = 0; i < na; i++)
        if (a[i].from != b[i].from || a[i].to != b[i].to || a[i].step != b[i].step)
            return 0;
    return 1;
}
