/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Structured request-field values (15444-9 Annex C; jpip-notes §2.2): comma lists of
 * transports, channel ids, return types, preferences and codestream contexts, the subtarget
 * byte range and the decimal rates.
 */
#include "request/request_fields.h"

#include <string.h>

#include "common/alloc.h"

/* Allocates room for the items of the rest of the value: commas + 1, at most max. */
static int list_alloc(struct jpip__fcur *c, uint32_t max, size_t elem,
                      const struct jpip_allocator *a, void **out, size_t *cap)
{
    const size_t n = jpip__count_byte(c->s + c->pos, c->len - c->pos, ',') + 1;
    if (n > max)
        return jpip__fcur_fail(c, JPIP_ELIMIT, "more than %u list items", (unsigned)max);
    *out = jpip__calloc(a, n, elem);
    if (!*out)
        return jpip__errf(c->err, JPIP_ENOMEM, "%s: out of memory", c->name);
    *cap = n;
    return JPIP_OK;
}

/* The next comma-separated item [*b, *e), consuming the comma after it. With nested set,
 * commas inside <...> and [...] do not split. Empty items are errors. */
static int next_item(struct jpip__fcur *c, int nested, size_t *b, size_t *e)
{
    size_t i = c->pos;
    int angle = 0, square = 0;
    for (; i < c->len; i++) {
        const char ch = c->s[i];
        if (nested) {
            angle += (ch == '<') - (ch == '>');
            square += (ch == '[') - (ch == ']');
            if (angle < 0 || square < 0)
                break;
        }
        if (ch == ',' && angle == 0 && square == 0)
            break;
    }
    if (angle != 0 || square != 0) {
        c->pos = i;
        return jpip__fcur_fail(c, JPIP_EMALFORMED, "unbalanced brackets");
    }
    if (i == c->pos)
        return jpip__fcur_fail(c, JPIP_EMALFORMED, "empty list item");
    *b = c->pos;
    *e = i;
    c->pos = i;
    if (i < c->len) {
        c->pos++;
        if (c->pos == c->len)
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "empty list item");
    }
    return JPIP_OK;
}

/* A cursor over c->s[b..e) that keeps c's offsets for messages. */
static struct jpip__fcur sub_cursor(const struct jpip__fcur *c, size_t b, size_t e)
{
    struct jpip__fcur s = *c;
    s.pos = b;
    s.len = e;
    return s;
}

static int text_is(const struct jpip__fcur *c, size_t b, size_t e, const char *lit)
{
    const size_t n = strlen(lit);
    return e - b == n && memcmp(c->s + b, lit, n) == 0;
}

static struct jpip__req_str view(const struct jpip__fcur *c, size_t b, size_t e)
{
    return (struct jpip__req_str){c->s + b, e - b};
}

int jpip__req_parse_subtarget(struct jpip__request *r, struct jpip__fcur *c,
                              const struct jpip__request_limits *lim)
{
    (void)lim;
    JPIP_TRY(jpip__fcur_check_bytes(c, 0x21, 0x7e, NULL));
    r->subtarget = view(c, c->pos, c->len);
    /* A byte range "a-b" is parsed; any other form is kept as text for the server. */
    struct jpip__fcur t = *c;
    t.err = NULL;
    uint64_t from = 0, to = 0;
    if (jpip__fcur_u64(&t, UINT64_MAX, &from) == JPIP_OK && jpip__fcur_accept(&t, '-') &&
        jpip__fcur_u64(&t, UINT64_MAX, &to) == JPIP_OK && jpip__fcur_at_end(&t) && to >= from) {
        r->subtarget_is_range = 1;
        r->subtarget_from = from;
        r->subtarget_to = to;
    }
    c->pos = c->len;
    return JPIP_OK;
}

int jpip__req_parse_cnew(struct jpip__request *r, struct jpip__fcur *c,
                         const struct jpip__request_limits *lim)
{
    JPIP_TRY(jpip__fcur_check_bytes(c, 0x21, 0x7e, NULL));
    size_t cap = 0;
    void *mem = NULL;
    JPIP_TRY(list_alloc(c, lim->max_list_items, sizeof *r->cnew, lim->alloc, &mem, &cap));
    r->cnew = mem;
    while (c->pos < c->len) {
        size_t b = 0, e = 0;
        JPIP_TRY(next_item(c, 0, &b, &e));
        struct jpip__req_cnew *t = &r->cnew[r->ncnew++];
        t->text = view(c, b, e);
        t->transport = text_is(c, b, e, "http")       ? JPIP__TRANSPORT_HTTP
                       : text_is(c, b, e, "http-tcp") ? JPIP__TRANSPORT_HTTP_TCP
                       : text_is(c, b, e, "http-udp") ? JPIP__TRANSPORT_HTTP_UDP
                                                      : JPIP__TRANSPORT_OTHER;
    }
    return JPIP_OK;
}

/* A channel id: printable ASCII without ',' and at most JPIP__REQ_ID_MAX bytes. */
static int check_cid(struct jpip__fcur *c, size_t b, size_t e)
{
    struct jpip__fcur s = sub_cursor(c, b, e);
    JPIP_TRY(jpip__fcur_check_bytes(&s, 0x21, 0x7e, ","));
    if (e - b > JPIP__REQ_ID_MAX)
        return jpip__fcur_fail(&s, JPIP_EMALFORMED, "channel id longer than %d bytes",
                               JPIP__REQ_ID_MAX);
    return JPIP_OK;
}

int jpip__req_parse_cclose(struct jpip__request *r, struct jpip__fcur *c,
                           const struct jpip__request_limits *lim)
{
    if (text_is(c, c->pos, c->len, "*")) {
        r->cclose_all = 1;
        c->pos = c->len;
        return JPIP_OK;
    }
    size_t cap = 0;
    void *mem = NULL;
    JPIP_TRY(list_alloc(c, lim->max_list_items, sizeof *r->cclose, lim->alloc, &mem, &cap));
    r->cclose = mem;
    while (c->pos < c->len) {
        size_t b = 0, e = 0;
        JPIP_TRY(next_item(c, 0, &b, &e));
        if (text_is(c, b, e, "*")) {
            c->pos = b;
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "'*' must stand alone");
        }
        JPIP_TRY(check_cid(c, b, e));
        r->cclose[r->ncclose++] = view(c, b, e);
    }
    return JPIP_OK;
}

/* One return type: [ "image/" ] name *( ";" param ). */
static int parse_type_item(struct jpip__fcur *c, size_t b, size_t e, struct jpip__req_type *t)
{
    struct jpip__fcur s = sub_cursor(c, b, e);
    t->text = view(c, b, e);
    t->image_prefix = (uint8_t)jpip__fcur_accept_lit(&s, "image/");
    const size_t nb = s.pos;
    const char *semi = memchr(s.s + nb, ';', e - nb);
    const size_t ne = semi ? (size_t)(semi - s.s) : e;
    if (ne == nb)
        return jpip__fcur_fail(&s, JPIP_EMALFORMED, "empty media type");
    t->kind = text_is(&s, nb, ne, "jpp-stream")   ? JPIP__TYPE_JPP
              : text_is(&s, nb, ne, "jpt-stream") ? JPIP__TYPE_JPT
              : text_is(&s, nb, ne, "raw")        ? JPIP__TYPE_RAW
              : text_is(&s, nb, ne, "*")          ? JPIP__TYPE_ANY
                                                  : JPIP__TYPE_OTHER;
    /* Parameters: ptype=ext / ttype=ext are understood, others are kept in text only. */
    size_t p = ne;
    while (p < e) {
        const size_t pb = p + 1;
        const char *next = memchr(s.s + pb, ';', e - pb);
        const size_t pe = next ? (size_t)(next - s.s) : e;
        if (text_is(&s, pb, pe, "ptype=ext") || text_is(&s, pb, pe, "ttype=ext"))
            t->ext = 1;
        p = pe;
    }
    return JPIP_OK;
}

int jpip__req_parse_type(struct jpip__request *r, struct jpip__fcur *c,
                         const struct jpip__request_limits *lim)
{
    JPIP_TRY(jpip__fcur_check_bytes(c, 0x21, 0x7e, NULL));
    size_t cap = 0;
    void *mem = NULL;
    JPIP_TRY(list_alloc(c, lim->max_list_items, sizeof *r->type, lim->alloc, &mem, &cap));
    r->type = mem;
    while (c->pos < c->len) {
        size_t b = 0, e = 0;
        JPIP_TRY(next_item(c, 0, &b, &e));
        JPIP_TRY(parse_type_item(c, b, e, &r->type[r->ntype]));
        r->ntype++;
    }
    return JPIP_OK;
}

int jpip__req_parse_pref(struct jpip__request *r, struct jpip__fcur *c,
                         const struct jpip__request_limits *lim)
{
    JPIP_TRY(jpip__fcur_check_bytes(c, 0x21, 0x7e, NULL));
    size_t cap = 0;
    void *mem = NULL;
    JPIP_TRY(list_alloc(c, lim->max_list_items, sizeof *r->pref, lim->alloc, &mem, &cap));
    r->pref = mem;
    while (c->pos < c->len) {
        size_t b = 0, e = 0;
        JPIP_TRY(next_item(c, 0, &b, &e));
        struct jpip__req_pref *p = &r->pref[r->npref++];
        if (e - b >= 2 && c->s[e - 2] == '/' && c->s[e - 1] == 'r') {
            p->required = 1;
            e -= 2;
        }
        if (e == b) {
            c->pos = b;
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "empty preference");
        }
        p->text = view(c, b, e);
    }
    return JPIP_OK;
}

/* "[...]" closing the item at e, or nothing; sets *instr to the inside. */
static int parse_instr(struct jpip__fcur *s, size_t e, struct jpip__req_str *instr)
{
    if (s->pos == e)
        return JPIP_OK;
    if (s->s[s->pos] != '[' || s->s[e - 1] != ']' || e - s->pos < 2)
        return jpip__fcur_fail(s, JPIP_EMALFORMED, "expected '[...]' or the end of the item");
    *instr = view(s, s->pos + 1, e - 1);
    s->pos = e;
    return JPIP_OK;
}

static int parse_context_item(struct jpip__fcur *c, size_t b, size_t e,
                              const struct jpip__request_limits *lim, struct jpip__req_context *x)
{
    struct jpip__fcur s = sub_cursor(c, b, e);
    x->text = view(c, b, e);
    if (jpip__fcur_accept_lit(&s, "jpxl<")) {
        x->kind = JPIP__CONTEXT_JPXL;
        JPIP_TRY(jpip__fcur_ranges(&s, '>', 1, lim->max_list_items, lim->alloc, &x->ranges,
                                   &x->nranges));
        JPIP_TRY(jpip__fcur_expect(&s, '>'));
        return parse_instr(&s, e, &x->instr);
    }
    if (jpip__fcur_accept_lit(&s, "mj2t<")) {
        x->kind = JPIP__CONTEXT_MJ2T;
        uint32_t track = 0;
        JPIP_TRY(jpip__fcur_u32(&s, &track));
        JPIP_TRY(jpip__fcur_expect(&s, '>'));
        return parse_instr(&s, e, &x->instr);
    }
    x->kind = JPIP__CONTEXT_OTHER;
    return JPIP_OK;
}

int jpip__req_parse_context(struct jpip__request *r, struct jpip__fcur *c,
                            const struct jpip__request_limits *lim)
{
    JPIP_TRY(jpip__fcur_check_bytes(c, 0x21, 0x7e, NULL));
    r->context_text = view(c, c->pos, c->len);
    size_t cap = 0;
    void *mem = NULL;
    JPIP_TRY(list_alloc(c, lim->max_list_items, sizeof *r->context, lim->alloc, &mem, &cap));
    r->context = mem;
    while (c->pos < c->len) {
        size_t b = 0, e = 0;
        JPIP_TRY(next_item(c, 1, &b, &e));
        struct jpip__req_context *x = &r->context[r->ncontext++];
        JPIP_TRY(parse_context_item(c, b, e, lim, x));
    }
    return JPIP_OK;
}

int jpip__req_parse_decimal(struct jpip__fcur *c, double *value)
{
    uint64_t ip = 0;
    JPIP_TRY(jpip__fcur_u64(c, 999999999999999999ull, &ip));
    double v = (double)ip;
    if (jpip__fcur_accept(c, '.')) {
        const int ch = jpip__fcur_peek(c);
        if (ch < '0' || ch > '9')
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "expected a digit after '.'");
        double scale = 0.1;
        while (c->pos < c->len && c->s[c->pos] >= '0' && c->s[c->pos] <= '9') {
            v += scale * (c->s[c->pos] - '0');
            scale /= 10;
            c->pos++;
        }
    }
    *value = v;
    return jpip__fcur_expect_end(c);
}

void jpip__req_free_lists(struct jpip__request *r)
{
    const struct jpip_allocator *a = r->alloc;
    jpip__free(a, r->cnew);
    jpip__free(a, r->cclose);
    jpip__free(a, r->type);
    jpip__free(a, r->pref);
    for (uint32_t i = 0; r->context && i < r->ncontext; i++)
        jpip__free(a, r->context[i].ranges);
    jpip__free(a, r->context);
    jpip__free(a, r->comps);
    jpip__free(a, r->stream);
    r->cnew = NULL;
    r->cclose = NULL;
    r->type = NULL;
    r->pref = NULL;
    r->context = NULL;
    r->comps = NULL;
    r->stream = NULL;
}
