/* SPDX-License-Identifier: BSD-2-Clause */
/* metareq= parsing and formatting (15444-9 Annex C metadata request; jpip-notes §2.5). */
#include "request/metareq.h"

#include <string.h>

#include "common/alloc.h"

/* One unit of a box type: "\ddd", '_' (space), or a printable byte other than '\' and the
 * delimiters "[];,". */
static int parse_type_unit(struct jpip__fcur *c, uint32_t *out)
{
    if (c->pos >= c->len)
        return jpip__fcur_fail(c, JPIP_EMALFORMED, "box type shorter than four characters");
    const unsigned char ch = (unsigned char)c->s[c->pos];
    if (ch == '\\') {
        uint32_t v = 0;
        for (size_t k = 1; k <= 3; k++) {
            const char d = c->pos + k < c->len ? c->s[c->pos + k] : 0;
            if (d < '0' || d > '7')
                return jpip__fcur_fail(c, JPIP_EMALFORMED,
                                       "'\\' must be followed by three "
                                       "octal digits");
            v = v * 8 + (uint32_t)(d - '0');
        }
        if (v > 255)
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "octal escape above \\377");
        c->pos += 4;
        *out = v;
        return JPIP_OK;
    }
    /* Delimiters of the grammar must be escaped, so that "[xml]" is an error, not a type. */
    if (ch < 0x21 || ch > 0x7e || strchr("[];,", ch))
        return jpip__fcur_fail(c, JPIP_EMALFORMED, "byte 0x%02X not allowed in a box type",
                               (unsigned)ch);
    c->pos++;
    *out = ch == '_' ? 0x20 : ch;
    return JPIP_OK;
}

static int parse_prop(struct jpip__fcur *c, struct jpip__metareq_prop *p)
{
    memset(p, 0, sizeof *p);
    const char next = c->pos + 1 < c->len ? c->s[c->pos + 1] : ']';
    if (c->pos < c->len && c->s[c->pos] == '*' && next && strchr(":/!;]", next)) {
        c->pos++;
        p->wildcard = 1;
    } else {
        for (int k = 0; k < 4; k++) {
            uint32_t u = 0;
            JPIP_TRY(parse_type_unit(c, &u));
            p->box_type = (p->box_type << 8) | u;
        }
    }
    if (jpip__fcur_accept(c, ':')) {
        if (jpip__fcur_accept(c, 'r')) {
            p->limit_kind = JPIP__METAREQ_RECURSE;
        } else {
            p->limit_kind = JPIP__METAREQ_BYTES;
            JPIP_TRY(jpip__fcur_u64(c, UINT64_MAX, &p->limit_bytes));
        }
    }
    if (jpip__fcur_accept(c, '/')) {
        int any = 0;
        for (;;) {
            const int ch = jpip__fcur_peek(c);
            const uint8_t bit = ch == 'w'   ? JPIP__METAREQ_CTX_W
                                : ch == 's' ? JPIP__METAREQ_CTX_S
                                : ch == 'g' ? JPIP__METAREQ_CTX_G
                                : ch == 'a' ? JPIP__METAREQ_CTX_A
                                            : 0;
            if (!bit)
                break;
            p->ctx_flags |= bit;
            c->pos++;
            any = 1;
        }
        if (!any)
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "expected context flags w, s, g or a");
    }
    p->priority = (uint8_t)jpip__fcur_accept(c, '!');
    return JPIP_OK;
}

static int parse_item(struct jpip__fcur *c, struct jpip__metareq *q, uint32_t prop_cap,
                      struct jpip__metareq_item *it)
{
    memset(it, 0, sizeof *it);
    it->max_depth = UINT32_MAX;
    JPIP_TRY(jpip__fcur_expect(c, '['));
    it->prop_first = q->nprops;
    do {
        if (q->nprops == prop_cap) /* unreachable: the count bounds '[' plus ';' */
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "too many box properties");
        JPIP_TRY(parse_prop(c, &q->props[q->nprops]));
        q->nprops++;
    } while (jpip__fcur_accept(c, ';'));
    JPIP_TRY(jpip__fcur_expect(c, ']'));
    it->prop_count = q->nprops - it->prop_first;
    if (jpip__fcur_accept(c, 'R')) {
        it->has_root = 1;
        JPIP_TRY(jpip__fcur_u64(c, UINT64_MAX, &it->root_bin));
    }
    if (jpip__fcur_accept(c, 'D')) {
        it->has_depth = 1;
        JPIP_TRY(jpip__fcur_u32(c, &it->max_depth));
    }
    return JPIP_OK;
}

int jpip__metareq_parse_cur(struct jpip__metareq *q, struct jpip__fcur *c, uint32_t max_items,
                            const struct jpip_allocator *a)
{
    memset(q, 0, sizeof *q);
    q->alloc = a;
    const char *rest = c->s + c->pos;
    const size_t rest_len = c->len - c->pos;
    const size_t item_cap = jpip__count_byte(rest, rest_len, '[');
    const size_t prop_cap = item_cap + jpip__count_byte(rest, rest_len, ';');
    if (item_cap == 0)
        return jpip__fcur_expect(c, '[');
    if (prop_cap > max_items)
        return jpip__fcur_fail(c, JPIP_ELIMIT, "more than %u box properties", (unsigned)max_items);
    q->items = jpip__calloc(a, item_cap, sizeof *q->items);
    q->props = jpip__calloc(a, prop_cap, sizeof *q->props);
    int rc = JPIP_OK;
    if (!q->items || !q->props) {
        rc = jpip__errf(c->err, JPIP_ENOMEM, "%s: out of memory", c->name);
        goto fail;
    }
    do {
        if (q->n == item_cap) { /* every '[' used up: report what is there instead */
            rc = jpip__fcur_expect(c, '[');
            goto fail;
        }
        rc = parse_item(c, q, (uint32_t)prop_cap, &q->items[q->n]);
        if (rc < 0)
            goto fail;
        q->n++;
    } while (jpip__fcur_accept(c, ','));
    q->metadata_only = (uint8_t)jpip__fcur_accept_lit(c, "!!");
    rc = jpip__fcur_expect_end(c);
    if (rc == JPIP_OK)
        return JPIP_OK;
fail:
    jpip__metareq_free(q);
    return rc;
}

int jpip__metareq_parse(struct jpip__metareq *q, const char *s, size_t len, uint32_t max_items,
                        const struct jpip_allocator *a, struct jpip__err *err)
{
    struct jpip__fcur c;
    jpip__fcur_init(&c, s, len, "metareq", err);
    return jpip__metareq_parse_cur(q, &c, max_items, a);
}

static int fmt_type(struct jpip__buf *b, uint32_t t)
{
    for (int k = 3; k >= 0; k--) {
        const unsigned ch = (t >> (8 * k)) & 0xffu;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            JPIP_TRY(jpip__buf_append_byte(b, (uint8_t)ch));
        } else if (ch == ' ') {
            JPIP_TRY(jpip__buf_append_byte(b, '_'));
        } else {
            const char esc[4] = {'\\', (char)('0' + (ch >> 6)), (char)('0' + ((ch >> 3) & 7)),
                                 (char)('0' + (ch & 7))};
            JPIP_TRY(jpip__buf_append(b, esc, 4));
        }
    }
    return JPIP_OK;
}

static int fmt_prop(struct jpip__buf *b, const struct jpip__metareq_prop *p)
{
    if (p->wildcard)
        JPIP_TRY(jpip__buf_append_byte(b, '*'));
    else
        JPIP_TRY(fmt_type(b, p->box_type));
    if (p->limit_kind == JPIP__METAREQ_RECURSE) {
        JPIP_TRY(jpip__fmt_lit(b, ":r"));
    } else if (p->limit_kind == JPIP__METAREQ_BYTES) {
        JPIP_TRY(jpip__buf_append_byte(b, ':'));
        JPIP_TRY(jpip__fmt_u64(b, p->limit_bytes));
    }
    if (p->ctx_flags) {
        JPIP_TRY(jpip__buf_append_byte(b, '/'));
        static const char letters[4] = {'w', 's', 'g', 'a'};
        for (unsigned k = 0; k < 4; k++)
            if (p->ctx_flags & (1u << k))
                JPIP_TRY(jpip__buf_append_byte(b, (uint8_t)letters[k]));
    }
    if (p->priority)
        JPIP_TRY(jpip__buf_append_byte(b, '!'));
    return JPIP_OK;
}

int jpip__metareq_format(const struct jpip__metareq *q, struct jpip__buf *b)
{
    for (uint32_t i = 0; i < q->n; i++) {
        const struct jpip__metareq_item *it = &q->items[i];
        if (it->prop_count == 0 || it->prop_count > q->nprops ||
            it->prop_first > q->nprops - it->prop_count)
            return JPIP_EINVAL;
        if (i)
            JPIP_TRY(jpip__buf_append_byte(b, ','));
        JPIP_TRY(jpip__buf_append_byte(b, '['));
        for (uint32_t k = 0; k < it->prop_count; k++) {
            if (k)
                JPIP_TRY(jpip__buf_append_byte(b, ';'));
            JPIP_TRY(fmt_prop(b, &q->props[it->prop_first + k]));
        }
        JPIP_TRY(jpip__buf_append_byte(b, ']'));
        if (it->has_root) {
            JPIP_TRY(jpip__buf_append_byte(b, 'R'));
            JPIP_TRY(jpip__fmt_u64(b, it->root_bin));
        }
        if (it->has_depth) {
            JPIP_TRY(jpip__buf_append_byte(b, 'D'));
            JPIP_TRY(jpip__fmt_u64(b, it->max_depth));
        }
    }
    if (q->metadata_only)
        JPIP_TRY(jpip__fmt_lit(b, "!!"));
    return JPIP_OK;
}

static int prop_eq(const struct jpip__metareq_prop *x, const struct jpip__metareq_prop *y)
{
    if (x->wildcard != y->wildcard || (!x->wildcard && x->box_type != y->box_type))
        return 0;
    if (x->limit_kind != y->limit_kind || x->ctx_flags != y->ctx_flags ||
        x->priority != y->priority)
        return 0;
    return x->limit_kind != JPIP__METAREQ_BYTES || x->limit_bytes == y->limit_bytes;
}

int jpip__metareq_equal(const struct jpip__metareq *a, const struct jpip__metareq *b)
{
    if (a->n != b->n || a->metadata_only != b->metadata_only)
        return 0;
    for (uint32_t i = 0; i < a->n; i++) {
        const struct jpip__metareq_item *x = &a->items[i], *y = &b->items[i];
        if (x->prop_count != y->prop_count || x->has_root != y->has_root ||
            x->has_depth != y->has_depth)
            return 0;
        if ((x->has_root && x->root_bin != y->root_bin) ||
            (x->has_depth && x->max_depth != y->max_depth))
            return 0;
        for (uint32_t k = 0; k < x->prop_count; k++)
            if (!prop_eq(&a->props[x->prop_first + k], &b->props[y->prop_first + k]))
                return 0;
    }
    return 1;
}

void jpip__metareq_free(struct jpip__metareq *q)
{
    jpip__free(q->alloc, q->items);
    jpip__free(q->alloc, q->props);
    const struct jpip_allocator *a = q->alloc;
    memset(q, 0, sizeof *q);
    q->alloc = a;
}
