/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * model= / need= descriptor lists (15444-9 Annex C cache-model fields; jpip-notes §6.2):
 * parse into a bounded array of items, each carrying the codestream qualifier in force, and
 * format back to canonical text.
 */
#include "request/model.h"

#include <string.h>

#include "common/alloc.h"

#define IDS_ALL ((struct jpip__model_ids){0, UINT64_MAX})

/* id = n | n "-" m | "*" */
static int parse_ids(struct jpip__fcur *c, struct jpip__model_ids *ids)
{
    if (jpip__fcur_accept(c, '*')) {
        *ids = IDS_ALL;
        return JPIP_OK;
    }
    JPIP_TRY(jpip__fcur_u64(c, UINT64_MAX, &ids->from));
    ids->to = ids->from;
    if (!jpip__fcur_accept(c, '-'))
        return JPIP_OK;
    const size_t at = c->pos;
    JPIP_TRY(jpip__fcur_u64(c, UINT64_MAX, &ids->to));
    if (ids->to < ids->from) {
        c->pos = at;
        return jpip__fcur_fail(c, JPIP_EMALFORMED, "range end before its start");
    }
    return JPIP_OK;
}

/* "[" range *( ";" range ) "]" with range = n | n "-" m | "*"; appends to m->quals. */
static int parse_qualifier(struct jpip__fcur *c, struct jpip__model *m, uint32_t cap)
{
    JPIP_TRY(jpip__fcur_expect(c, '['));
    do {
        if (m->nquals == cap)
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "too many codestream ranges");
        struct jpip__range *r = &m->quals[m->nquals];
        r->step = 1;
        if (jpip__fcur_accept(c, '*')) {
            r->from = 0;
            r->to = JPIP__RANGE_OPEN;
        } else {
            JPIP_TRY(jpip__fcur_u32(c, &r->from));
            r->to = r->from;
            if (jpip__fcur_accept(c, '-')) {
                const size_t at = c->pos;
                JPIP_TRY(jpip__fcur_u32(c, &r->to));
                if (r->to < r->from) {
                    c->pos = at;
                    return jpip__fcur_fail(c, JPIP_EMALFORMED, "range end before its start");
                }
            }
        }
        m->nquals++;
    } while (jpip__fcur_accept(c, ';'));
    return jpip__fcur_expect(c, ']');
}

/* Implicit form: [t r][c r][r r][p r], at least one, in this order. */
static int parse_implicit(struct jpip__fcur *c, struct jpip__model_item *it)
{
    static const char letters[4] = {'t', 'c', 'r', 'p'};
    struct jpip__model_ids *dst[4] = {&it->t, &it->c, &it->r, &it->p};
    it->cls = JPIP__MODEL_IMPLICIT;
    int seen = 0;
    for (int k = 0; k < 4; k++) {
        *dst[k] = IDS_ALL;
        if (jpip__fcur_accept(c, letters[k])) {
            JPIP_TRY(parse_ids(c, dst[k]));
            seen = 1;
        }
    }
    if (!seen)
        return jpip__fcur_fail(c, JPIP_EMALFORMED, "expected a bin descriptor");
    return JPIP_OK;
}

static int parse_item(struct jpip__fcur *c, struct jpip__model_item *it, enum jpip__model_field f)
{
    memset(it, 0, sizeof *it);
    it->t = it->c = it->r = it->p = IDS_ALL;
    const size_t start = c->pos;
    if (jpip__fcur_accept(c, '-')) {
        if (f == JPIP__MODEL_FIELD_NEED) {
            c->pos = start;
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "'-' is not allowed in need=");
        }
        it->subtractive = 1;
    }
    const int ch = jpip__fcur_peek(c);
    if (ch == 'H' && c->pos + 1 < c->len && c->s[c->pos + 1] == 'm') {
        c->pos += 2;
        it->cls = JPIP__MODEL_MAIN_HEADER;
    } else if (ch == 'H' || ch == 'P' || ch == 'T' || ch == 'M') {
        c->pos++;
        it->cls = ch == 'H'   ? JPIP__MODEL_TILE_HEADER
                  : ch == 'P' ? JPIP__MODEL_PRECINCT
                  : ch == 'T' ? JPIP__MODEL_TILE
                              : JPIP__MODEL_METADATA;
        JPIP_TRY(parse_ids(c, &it->id));
    } else {
        JPIP_TRY(parse_implicit(c, it));
    }
    if (!jpip__fcur_accept(c, ':'))
        return JPIP_OK;
    if (jpip__fcur_accept(c, 'L')) {
        if (it->cls != JPIP__MODEL_PRECINCT && it->cls != JPIP__MODEL_IMPLICIT)
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "layer counts apply to precincts only");
        uint32_t layers = 0;
        JPIP_TRY(jpip__fcur_u32(c, &layers));
        it->amount_kind = JPIP__MODEL_LAYERS;
        it->amount = layers;
        return JPIP_OK;
    }
    if (it->cls == JPIP__MODEL_IMPLICIT)
        return jpip__fcur_fail(c, JPIP_EMALFORMED, "implicit descriptors take ':L<layers>' only");
    it->amount_kind = JPIP__MODEL_BYTES;
    return jpip__fcur_u64(c, UINT64_MAX, &it->amount);
}

int jpip__model_parse_cur(struct jpip__model *m, struct jpip__fcur *c, enum jpip__model_field f,
                          uint32_t max_items, const struct jpip_allocator *a)
{
    memset(m, 0, sizeof *m);
    m->alloc = a;
    const char *rest = c->s + c->pos;
    const size_t rest_len = c->len - c->pos;
    const size_t item_cap = jpip__count_byte(rest, rest_len, ',') + 1;
    const size_t qual_cap =
        jpip__count_byte(rest, rest_len, '[') + jpip__count_byte(rest, rest_len, ';');
    if (item_cap > max_items || qual_cap > max_items)
        return jpip__fcur_fail(c, JPIP_ELIMIT, "more than %u descriptors", (unsigned)max_items);
    m->items = jpip__calloc(a, item_cap, sizeof *m->items);
    m->quals = jpip__calloc(a, qual_cap ? qual_cap : 1, sizeof *m->quals);
    int rc = JPIP_OK;
    if (!m->items || !m->quals) {
        rc = jpip__errf(c->err, JPIP_ENOMEM, "%s: out of memory", c->name);
        goto fail;
    }
    uint32_t qfirst = 0, qcount = 0;
    do {
        if (jpip__fcur_peek(c) == '[') {
            qfirst = m->nquals;
            rc = parse_qualifier(c, m, (uint32_t)qual_cap);
            if (rc < 0)
                goto fail;
            qcount = m->nquals - qfirst;
            continue;
        }
        if (m->n == item_cap) { /* unreachable: each item ends at ',' or the end */
            rc = jpip__fcur_fail(c, JPIP_EMALFORMED, "too many descriptors");
            goto fail;
        }
        struct jpip__model_item *it = &m->items[m->n];
        rc = parse_item(c, it, f);
        if (rc < 0)
            goto fail;
        it->qual_first = qfirst;
        it->qual_count = qcount;
        m->n++;
    } while (jpip__fcur_accept(c, ','));
    rc = jpip__fcur_expect_end(c);
    if (rc == JPIP_OK && m->n == 0)
        rc = jpip__fcur_fail(c, JPIP_EMALFORMED, "no bin descriptor");
    if (rc == JPIP_OK)
        return JPIP_OK;
fail:
    jpip__model_free(m);
    return rc;
}

int jpip__model_parse(struct jpip__model *m, const char *s, size_t len, enum jpip__model_field f,
                      uint32_t max_items, const struct jpip_allocator *a, struct jpip__err *err)
{
    struct jpip__fcur c;
    jpip__fcur_init(&c, s, len, f == JPIP__MODEL_FIELD_NEED ? "need" : "model", err);
    return jpip__model_parse_cur(m, &c, f, max_items, a);
}

static int fmt_ids(struct jpip__buf *b, struct jpip__model_ids ids)
{
    if (ids.from == 0 && ids.to == UINT64_MAX)
        return jpip__buf_append_byte(b, '*');
    JPIP_TRY(jpip__fmt_u64(b, ids.from));
    if (ids.to == ids.from)
        return JPIP_OK;
    JPIP_TRY(jpip__buf_append_byte(b, '-'));
    return jpip__fmt_u64(b, ids.to);
}

static int fmt_item(struct jpip__buf *b, const struct jpip__model_item *it)
{
    static const char letter[] = {'H', 'H', 'P', 'T', 'M'};
    if (it->subtractive)
        JPIP_TRY(jpip__buf_append_byte(b, '-'));
    if (it->cls == JPIP__MODEL_MAIN_HEADER) {
        JPIP_TRY(jpip__fmt_lit(b, "Hm"));
    } else if (it->cls < JPIP__MODEL_IMPLICIT) {
        JPIP_TRY(jpip__buf_append_byte(b, (uint8_t)letter[it->cls]));
        JPIP_TRY(fmt_ids(b, it->id));
    } else if (it->cls == JPIP__MODEL_IMPLICIT) {
        const struct jpip__model_ids *ids[4] = {&it->t, &it->c, &it->r, &it->p};
        int wrote = 0;
        for (int k = 0; k < 4; k++) {
            if (ids[k]->from == 0 && ids[k]->to == UINT64_MAX)
                continue;
            JPIP_TRY(jpip__buf_append_byte(b, (uint8_t) "tcrp"[k]));
            JPIP_TRY(fmt_ids(b, *ids[k]));
            wrote = 1;
        }
        if (!wrote)
            JPIP_TRY(jpip__fmt_lit(b, "t*"));
    } else {
        return JPIP_EINVAL;
    }
    if (it->amount_kind == JPIP__MODEL_BYTES) {
        JPIP_TRY(jpip__buf_append_byte(b, ':'));
        JPIP_TRY(jpip__fmt_u64(b, it->amount));
    } else if (it->amount_kind == JPIP__MODEL_LAYERS) {
        JPIP_TRY(jpip__fmt_lit(b, ":L"));
        JPIP_TRY(jpip__fmt_u64(b, it->amount));
    }
    return JPIP_OK;
}

static int fmt_qualifier(struct jpip__buf *b, const struct jpip__range *q, uint32_t n)
{
    JPIP_TRY(jpip__buf_append_byte(b, '['));
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            JPIP_TRY(jpip__buf_append_byte(b, ';'));
        if (q[i].from == 0 && q[i].to == JPIP__RANGE_OPEN) {
            JPIP_TRY(jpip__buf_append_byte(b, '*'));
            continue;
        }
        JPIP_TRY(jpip__fmt_u64(b, q[i].from));
        if (q[i].to != q[i].from) {
            JPIP_TRY(jpip__buf_append_byte(b, '-'));
            JPIP_TRY(jpip__fmt_u64(b, q[i].to));
        }
    }
    return jpip__buf_append_byte(b, ']');
}

static int quals_eq(const struct jpip__range *a, uint32_t na, const struct jpip__range *b,
                    uint32_t nb)
{
    if (na != nb)
        return 0;
    for (uint32_t i = 0; i < na; i++)
        if (a[i].from != b[i].from || a[i].to != b[i].to)
            return 0;
    return 1;
}

int jpip__model_format(const struct jpip__model *m, struct jpip__buf *b)
{
    const struct jpip__range *cur = NULL;
    uint32_t ncur = 0;
    for (uint32_t i = 0; i < m->n; i++) {
        const struct jpip__model_item *it = &m->items[i];
        if (it->qual_count > m->nquals || it->qual_first > m->nquals - it->qual_count)
            return JPIP_EINVAL;
        const struct jpip__range *q = it->qual_count ? m->quals + it->qual_first : NULL;
        if (i)
            JPIP_TRY(jpip__buf_append_byte(b, ','));
        if (!quals_eq(cur, ncur, q, it->qual_count)) {
            if (it->qual_count == 0)
                return JPIP_EINVAL;
            JPIP_TRY(fmt_qualifier(b, q, it->qual_count));
            JPIP_TRY(jpip__buf_append_byte(b, ','));
            cur = q;
            ncur = it->qual_count;
        }
        JPIP_TRY(fmt_item(b, it));
    }
    return JPIP_OK;
}

static int ids_eq(struct jpip__model_ids a, struct jpip__model_ids b)
{
    return a.from == b.from && a.to == b.to;
}

int jpip__model_equal(const struct jpip__model *a, const struct jpip__model *b)
{
    if (a->n != b->n)
        return 0;
    for (uint32_t i = 0; i < a->n; i++) {
        const struct jpip__model_item *x = &a->items[i], *y = &b->items[i];
        if (x->cls != y->cls || x->amount_kind != y->amount_kind ||
            x->subtractive != y->subtractive)
            return 0;
        if (x->amount_kind != JPIP__MODEL_ALL && x->amount != y->amount)
            return 0;
        if (x->cls == JPIP__MODEL_IMPLICIT) {
            if (!ids_eq(x->t, y->t) || !ids_eq(x->c, y->c) || !ids_eq(x->r, y->r) ||
                !ids_eq(x->p, y->p))
                return 0;
        } else if (x->cls != JPIP__MODEL_MAIN_HEADER && !ids_eq(x->id, y->id)) {
            return 0;
        }
        const struct jpip__range *qx = x->qual_count ? a->quals + x->qual_first : NULL;
        const struct jpip__range *qy = y->qual_count ? b->quals + y->qual_first : NULL;
        if (!quals_eq(qx, x->qual_count, qy, y->qual_count))
            return 0;
    }
    return 1;
}

void jpip__model_free(struct jpip__model *m)
{
    jpip__free(m->alloc, m->items);
    jpip__free(m->alloc, m->quals);
    const struct jpip_allocator *a = m->alloc;
    memset(m, 0, sizeof *m);
    m->alloc = a;
}
