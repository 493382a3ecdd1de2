/* SPDX-License-Identifier: BSD-2-Clause */
/* JPIP-* response headers (15444-9 Annex D; jpip-notes §3.2): tolerant parse, strict format. */
#include "request/response_headers.h"

#include <string.h>

#include "common/alloc.h"

static const char *const names[JPIP__H_COUNT] = {
    [JPIP__H_TID] = "JPIP-tid",         [JPIP__H_CNEW] = "JPIP-cnew",
    [JPIP__H_QID] = "JPIP-qid",         [JPIP__H_FSIZ] = "JPIP-fsiz",
    [JPIP__H_ROFF] = "JPIP-roff",       [JPIP__H_RSIZ] = "JPIP-rsiz",
    [JPIP__H_COMPS] = "JPIP-comps",     [JPIP__H_LAYERS] = "JPIP-layers",
    [JPIP__H_STREAM] = "JPIP-stream",   [JPIP__H_CONTEXT] = "JPIP-context",
    [JPIP__H_ROI] = "JPIP-roi",         [JPIP__H_LEN] = "JPIP-len",
    [JPIP__H_QUALITY] = "JPIP-quality", [JPIP__H_PREF] = "JPIP-pref",
    [JPIP__H_HANDLED] = "JPIP-handled",
};

void jpip__resp_info_init(struct jpip__resp_info *info, const struct jpip_allocator *a,
                          uint32_t max_list_items)
{
    memset(info, 0, sizeof *info);
    info->alloc = a;
    info->max_list_items = max_list_items ? max_list_items : 1024;
}

const char *jpip__resp_header_name(enum jpip__resp_header h)
{
    return (unsigned)h < JPIP__H_COUNT ? names[h] : NULL;
}

void jpip__resp_info_free(struct jpip__resp_info *info)
{
    if (info->owns_lists) {
        jpip__free(info->alloc, info->comps);
        jpip__free(info->alloc, info->stream);
    }
    jpip__resp_info_init(info, info->alloc, info->max_list_items);
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int eq_nocase(const char *s, size_t n, const char *lit)
{
    if (strlen(lit) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != lower(lit[i]))
            return 0;
    return 1;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

int jpip__starts_with_nocase(const char *s, const char *lower_lit)
{
    for (; *lower_lit; s++, lower_lit++)
        if (lower(*s) != *lower_lit)
            return 0;
    return 1;
}

const char *jpip__header_value(const char *headers, const char *lower_name)
{
    const size_t n = strlen(lower_name);
    for (const char *h = headers; h && *h;) {
        if (jpip__starts_with_nocase(h, lower_name) && h[n] == ':') {
            h += n + 1;
            while (is_ows(*h))
                h++;
            return h;
        }
        const char *e = strchr(h, '\n');
        h = e ? e + 1 : NULL;
    }
    return NULL;
}

static struct jpip__req_str trim(const char *s, size_t n)
{
    while (n && is_ows(*s))
        s++, n--;
    while (n && is_ows(s[n - 1]))
        n--;
    return (struct jpip__req_str){s, n};
}

/* Printable text (spaces allowed inside, no controls). */
static int take_text(struct jpip__fcur *c, struct jpip__req_str *out)
{
    JPIP_TRY(jpip__fcur_check_bytes(c, 0x20, 0x7e, NULL));
    *out = (struct jpip__req_str){c->s, c->len};
    c->pos = c->len;
    return JPIP_OK;
}

/* One "key=value" of JPIP-cnew, item at s[b..e). */
static int cnew_param(struct jpip__fcur *c, size_t b, size_t e, struct jpip__resp_cnew *cn)
{
    const char *eq = memchr(c->s + b, '=', e - b);
    if (!eq)
        return JPIP_OK; /* tolerated: not a parameter */
    const struct jpip__req_str key = trim(c->s + b, (size_t)(eq - (c->s + b)));
    const size_t vb = (size_t)(eq - c->s) + 1;
    const struct jpip__req_str val = trim(c->s + vb, e - vb);
    struct jpip__fcur v = *c;
    v.pos = (size_t)(val.ptr - c->s);
    v.len = v.pos + val.len;
    if (eq_nocase(key.ptr, key.len, "port") || eq_nocase(key.ptr, key.len, "auxport")) {
        uint32_t *dst = lower(key.ptr[0]) == 'p' ? &cn->port : &cn->auxport;
        uint64_t port = 0;
        JPIP_TRY(jpip__fcur_u64(&v, 65535, &port));
        JPIP_TRY(jpip__fcur_expect_end(&v));
        if (port == 0)
            return jpip__fcur_fail(&v, JPIP_EMALFORMED, "port 0");
        *dst = (uint32_t)port;
        return JPIP_OK;
    }
    struct jpip__req_str *dst = eq_nocase(key.ptr, key.len, "cid")         ? &cn->cid
                                : eq_nocase(key.ptr, key.len, "path")      ? &cn->path
                                : eq_nocase(key.ptr, key.len, "transport") ? &cn->transport
                                : eq_nocase(key.ptr, key.len, "host")      ? &cn->host
                                                                           : NULL;
    if (!dst)
        return JPIP_OK; /* unknown parameter */
    JPIP_TRY(jpip__fcur_check_bytes(&v, 0x21, 0x7e, ","));
    *dst = val;
    return JPIP_OK;
}

static int parse_cnew(struct jpip__fcur *c, struct jpip__resp_cnew *cn)
{
    memset(cn, 0, sizeof *cn);
    size_t b = c->pos;
    while (b <= c->len) {
        const char *comma = memchr(c->s + b, ',', c->len - b);
        const size_t e = comma ? (size_t)(comma - c->s) : c->len;
        JPIP_TRY(cnew_param(c, b, e, cn));
        b = e + 1;
    }
    c->pos = c->len;
    if (cn->cid.len == 0)
        return jpip__fcur_fail(c, JPIP_EMALFORMED, "no cid");
    if (cn->cid.len > 255)
        return jpip__fcur_fail(c, JPIP_EMALFORMED, "cid longer than 255 bytes");
    return JPIP_OK;
}

/* JPIP-stream items: ranges, each optionally prefixed by a translation tag "<...>". */
static int parse_stream(struct jpip__fcur *c, struct jpip__resp_info *info)
{
    const size_t cap = jpip__count_byte(c->s, c->len, ',') + 1;
    if (cap > info->max_list_items)
        return jpip__fcur_fail(c, JPIP_ELIMIT, "more than %u ranges",
                               (unsigned)info->max_list_items);
    struct jpip__range *v = jpip__calloc(info->alloc, cap, sizeof *v);
    if (!v)
        return jpip__errf(c->err, JPIP_ENOMEM, "%s: out of memory", c->name);
    uint32_t n = 0;
    int rc = JPIP_OK;
    do {
        if (jpip__fcur_peek(c) == '<') {
            int depth = 0;
            while (c->pos < c->len) {
                depth += (c->s[c->pos] == '<') - (c->s[c->pos] == '>');
                c->pos++;
                if (depth == 0)
                    break;
            }
            if (depth != 0) {
                rc = jpip__fcur_fail(c, JPIP_EMALFORMED, "unbalanced '<'");
                break;
            }
        }
        if (n == cap) {
            rc = jpip__fcur_fail(c, JPIP_EMALFORMED, "too many ranges");
            break;
        }
        rc = jpip__fcur_range(c, 1, &v[n]);
        if (rc < 0)
            break;
        n++;
    } while (jpip__fcur_accept(c, ','));
    if (rc < 0) {
        jpip__free(info->alloc, v);
        return rc;
    }
    info->stream = v;
    info->nstream = n;
    return JPIP_OK;
}

static int parse_value(struct jpip__resp_info *info, enum jpip__resp_header h, struct jpip__fcur *c)
{
    switch (h) {
    case JPIP__H_TID:
        JPIP_TRY(jpip__fcur_check_bytes(c, 0x21, 0x7e, NULL));
        if (c->len > 255)
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "longer than 255 bytes");
        info->tid = (struct jpip__req_str){c->s, c->len};
        c->pos = c->len;
        return JPIP_OK;
    case JPIP__H_CNEW: return parse_cnew(c, &info->cnew);
    case JPIP__H_QID: return jpip__fcur_u32(c, &info->qid);
    case JPIP__H_FSIZ: return jpip__fcur_pair(c, info->fsiz, 0);
    case JPIP__H_ROFF: return jpip__fcur_pair(c, info->roff, 0);
    case JPIP__H_RSIZ: return jpip__fcur_pair(c, info->rsiz, 0);
    case JPIP__H_COMPS:
        return jpip__fcur_ranges(c, 0, 0, info->max_list_items, info->alloc, &info->comps,
                                 &info->ncomps);
    case JPIP__H_LAYERS: return jpip__fcur_u32(c, &info->layers);
    case JPIP__H_STREAM: return parse_stream(c, info);
    case JPIP__H_CONTEXT: return take_text(c, &info->context);
    case JPIP__H_ROI: return take_text(c, &info->roi);
    case JPIP__H_LEN: return jpip__fcur_u64(c, UINT64_MAX, &info->len);
    case JPIP__H_QUALITY: {
        uint32_t q = 0;
        if (jpip__fcur_accept(c, '-')) {
            JPIP_TRY(jpip__fcur_expect(c, '1'));
            info->quality = -1;
            return JPIP_OK;
        }
        JPIP_TRY(jpip__fcur_u32(c, &q));
        if (q > 100)
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "quality above 100");
        info->quality = (int32_t)q;
        return JPIP_OK;
    }
    case JPIP__H_PREF: return take_text(c, &info->pref);
    case JPIP__H_HANDLED: return take_text(c, &info->handled);
    case JPIP__H_COUNT: break;
    }
    return JPIP_OK;
}

int jpip__resp_header_parse(struct jpip__resp_info *info, const char *name, size_t name_len,
                            const char *value, size_t value_len, struct jpip__err *err)
{
    const struct jpip__req_str nm = trim(name, name_len);
    int h = -1;
    for (int i = 0; i < JPIP__H_COUNT && h < 0; i++)
        if (eq_nocase(nm.ptr, nm.len, names[i]))
            h = i;
    if (h < 0)
        return JPIP_OK;
    /* A repeated header replaces the earlier one. */
    if (h == JPIP__H_COMPS || h == JPIP__H_STREAM) {
        struct jpip__range **list = h == JPIP__H_COMPS ? &info->comps : &info->stream;
        if (info->owns_lists)
            jpip__free(info->alloc, *list);
        *list = NULL;
        *(h == JPIP__H_COMPS ? &info->ncomps : &info->nstream) = 0;
        info->owns_lists = 1;
    }
    info->present &= ~(1u << h);
    const struct jpip__req_str v = trim(value, value_len);
    struct jpip__fcur c;
    jpip__fcur_init(&c, v.ptr, v.len, names[h], err);
    c.raw_base = (size_t)(v.ptr - value);
    c.lenient_ws = 1;
    if (v.len == 0)
        return jpip__fcur_fail(&c, JPIP_EMALFORMED, "empty value");
    JPIP_TRY(parse_value(info, (enum jpip__resp_header)h, &c));
    JPIP_TRY(jpip__fcur_expect_end(&c));
    info->present |= 1u << h;
    return JPIP_OK;
}

/* Appends s after checking that it holds no control byte (header injection). */
static int fmt_text(struct jpip__buf *b, struct jpip__req_str s)
{
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.ptr[i] < 0x20 || s.ptr[i] == 0x7f)
            return JPIP_EINVAL;
    return jpip__buf_append(b, s.ptr, s.len);
}

static int fmt_pair(struct jpip__buf *b, const uint32_t v[2])
{
    JPIP_TRY(jpip__fmt_u64(b, v[0]));
    JPIP_TRY(jpip__buf_append_byte(b, ','));
    return jpip__fmt_u64(b, v[1]);
}

static int fmt_cnew(struct jpip__buf *b, const struct jpip__resp_cnew *cn)
{
    if (cn->cid.len == 0)
        return JPIP_EINVAL;
    static const char *const keys[4] = {"cid=", ",path=", ",transport=", ",host="};
    const struct jpip__req_str *vals[4] = {&cn->cid, &cn->path, &cn->transport, &cn->host};
    for (int k = 0; k < 4; k++) {
        if (vals[k]->len == 0)
            continue;
        for (size_t i = 0; i < vals[k]->len; i++)
            if (vals[k]->ptr[i] == ',' || vals[k]->ptr[i] == ' ')
                return JPIP_EINVAL;
        JPIP_TRY(jpip__fmt_lit(b, keys[k]));
        JPIP_TRY(fmt_text(b, *vals[k]));
    }
    if (cn->port) {
        JPIP_TRY(jpip__fmt_lit(b, ",port="));
        JPIP_TRY(jpip__fmt_u64(b, cn->port));
    }
    if (cn->auxport) {
        JPIP_TRY(jpip__fmt_lit(b, ",auxport="));
        JPIP_TRY(jpip__fmt_u64(b, cn->auxport));
    }
    return JPIP_OK;
}

static int fmt_value(struct jpip__buf *b, const struct jpip__resp_info *info,
                     enum jpip__resp_header h)
{
    switch (h) {
    case JPIP__H_TID: return fmt_text(b, info->tid);
    case JPIP__H_CNEW: return fmt_cnew(b, &info->cnew);
    case JPIP__H_QID: return jpip__fmt_u64(b, info->qid);
    case JPIP__H_FSIZ: return fmt_pair(b, info->fsiz);
    case JPIP__H_ROFF: return fmt_pair(b, info->roff);
    case JPIP__H_RSIZ: return fmt_pair(b, info->rsiz);
    case JPIP__H_COMPS: return jpip__fmt_ranges(b, info->comps, info->ncomps);
    case JPIP__H_LAYERS: return jpip__fmt_u64(b, info->layers);
    case JPIP__H_STREAM: return jpip__fmt_ranges(b, info->stream, info->nstream);
    case JPIP__H_CONTEXT: return fmt_text(b, info->context);
    case JPIP__H_ROI: return fmt_text(b, info->roi);
    case JPIP__H_LEN: return jpip__fmt_u64(b, info->len);
    case JPIP__H_QUALITY:
        if (info->quality < 0)
            return jpip__fmt_lit(b, "-1");
        return jpip__fmt_u64(b, (uint64_t)info->quality);
    case JPIP__H_PREF: return fmt_text(b, info->pref);
    case JPIP__H_HANDLED: return fmt_text(b, info->handled);
    case JPIP__H_COUNT: break;
    }
    return JPIP_EINVAL;
}

int jpip__resp_headers_format(const struct jpip__resp_info *info, struct jpip__buf *out)
{
    for (int h = 0; h < JPIP__H_COUNT; h++) {
        if (!(info->present & (1u << h)))
            continue;
        JPIP_TRY(jpip__fmt_lit(out, names[h]));
        JPIP_TRY(jpip__fmt_lit(out, ": "));
        JPIP_TRY(fmt_value(out, info, (enum jpip__resp_header)h));
        JPIP_TRY(jpip__fmt_lit(out, "\r\n"));
    }
    return JPIP_OK;
}
