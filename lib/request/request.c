/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Request parsing (15444-9 Annex C; jpip-notes §2): split the query on '&' and '=', look the
 * name up in the field table, percent-decode the value, run the field's grammar, then check
 * the rules that span fields (roff/rsiz need fsiz). Formatting lives in request_format.c.
 */
#include "request/request.h"

#include <string.h>

#include "common/alloc.h"
#include "request/pct.h"
#include "request/request_fields.h"

typedef int (*field_fn)(struct jpip__request *r, struct jpip__fcur *c,
                        const struct jpip__request_limits *lim);

static int f_target(struct jpip__request *r, struct jpip__fcur *c,
                    const struct jpip__request_limits *lim)
{
    (void)lim;
    /* Any byte but NUL and controls: names may be UTF-8; the server maps them to files. */
    JPIP_TRY(jpip__fcur_check_bytes(c, 0x20, 0xff, "\x7f"));
    r->target = (struct jpip__req_str){c->s, c->len};
    return JPIP_OK;
}

/* An identifier echoed in headers: printable ASCII, no spaces, at most 255 bytes. */
static int take_id(struct jpip__fcur *c, const char *forbid, struct jpip__req_str *out)
{
    JPIP_TRY(jpip__fcur_check_bytes(c, 0x21, 0x7e, forbid));
    if (c->len > JPIP__REQ_ID_MAX)
        return jpip__fcur_fail(c, JPIP_EMALFORMED, "longer than %d bytes", JPIP__REQ_ID_MAX);
    *out = (struct jpip__req_str){c->s, c->len};
    return JPIP_OK;
}

static int f_tid(struct jpip__request *r, struct jpip__fcur *c,
                 const struct jpip__request_limits *lim)
{
    (void)lim;
    return take_id(c, NULL, &r->tid);
}

static int f_cid(struct jpip__request *r, struct jpip__fcur *c,
                 const struct jpip__request_limits *lim)
{
    (void)lim;
    return take_id(c, ",", &r->cid);
}

static int f_qid(struct jpip__request *r, struct jpip__fcur *c,
                 const struct jpip__request_limits *lim)
{
    (void)lim;
    JPIP_TRY(jpip__fcur_u32(c, &r->qid));
    return jpip__fcur_expect_end(c);
}

static int f_fsiz(struct jpip__request *r, struct jpip__fcur *c,
                  const struct jpip__request_limits *lim)
{
    (void)lim;
    JPIP_TRY(jpip__fcur_pair(c, r->fsiz, 1));
    if (jpip__fcur_accept(c, ',')) {
        r->fsiz_round_given = 1;
        if (jpip__fcur_accept_lit(c, "round-down"))
            r->fsiz_round = JPIP__ROUND_DOWN;
        else if (jpip__fcur_accept_lit(c, "round-up"))
            r->fsiz_round = JPIP__ROUND_UP;
        else if (jpip__fcur_accept_lit(c, "closest"))
            r->fsiz_round = JPIP__ROUND_CLOSEST;
        else
            return jpip__fcur_fail(c, JPIP_EMALFORMED, "expected round-down, round-up or closest");
    }
    return jpip__fcur_expect_end(c);
}

static int f_roff(struct jpip__request *r, struct jpip__fcur *c,
                  const struct jpip__request_limits *lim)
{
    (void)lim;
    JPIP_TRY(jpip__fcur_pair(c, r->roff, 0));
    return jpip__fcur_expect_end(c);
}

static int f_rsiz(struct jpip__request *r, struct jpip__fcur *c,
                  const struct jpip__request_limits *lim)
{
    (void)lim;
    JPIP_TRY(jpip__fcur_pair(c, r->rsiz, 1));
    return jpip__fcur_expect_end(c);
}

static int f_comps(struct jpip__request *r, struct jpip__fcur *c,
                   const struct jpip__request_limits *lim)
{
    JPIP_TRY(jpip__fcur_ranges(c, 0, 0, lim->max_list_items, lim->alloc, &r->comps, &r->ncomps));
    return jpip__fcur_expect_end(c);
}

static int f_stream(struct jpip__request *r, struct jpip__fcur *c,
                    const struct jpip__request_limits *lim)
{
    JPIP_TRY(jpip__fcur_ranges(c, 0, 1, lim->max_list_items, lim->alloc, &r->stream, &r->nstream));
    return jpip__fcur_expect_end(c);
}

static int f_roi(struct jpip__request *r, struct jpip__fcur *c,
                 const struct jpip__request_limits *lim)
{
    (void)lim;
    JPIP_TRY(jpip__fcur_check_bytes(c, 0x20, 0x7e, NULL));
    r->roi = (struct jpip__req_str){c->s, c->len};
    return JPIP_OK;
}

static int f_layers(struct jpip__request *r, struct jpip__fcur *c,
                    const struct jpip__request_limits *lim)
{
    (void)lim;
    JPIP_TRY(jpip__fcur_u32(c, &r->layers));
    return jpip__fcur_expect_end(c);
}

static int f_srate(struct jpip__request *r, struct jpip__fcur *c,
                   const struct jpip__request_limits *lim)
{
    (void)lim;
    r->srate = (struct jpip__req_str){c->s, c->len};
    return jpip__req_parse_decimal(c, &r->srate_value);
}

static int f_drate(struct jpip__request *r, struct jpip__fcur *c,
                   const struct jpip__request_limits *lim)
{
    (void)lim;
    r->drate = (struct jpip__req_str){c->s, c->len};
    return jpip__req_parse_decimal(c, &r->drate_value);
}

static int f_metareq(struct jpip__request *r, struct jpip__fcur *c,
                     const struct jpip__request_limits *lim)
{
    return jpip__metareq_parse_cur(&r->metareq, c, lim->max_metareq_items, lim->alloc);
}

static int f_len(struct jpip__request *r, struct jpip__fcur *c,
                 const struct jpip__request_limits *lim)
{
    (void)lim;
    JPIP_TRY(jpip__fcur_u64(c, UINT64_MAX, &r->len));
    return jpip__fcur_expect_end(c);
}

static int f_quality(struct jpip__request *r, struct jpip__fcur *c,
                     const struct jpip__request_limits *lim)
{
    (void)lim;
    JPIP_TRY(jpip__fcur_u32(c, &r->quality));
    if (r->quality > 100) {
        c->pos = 0;
        return jpip__fcur_fail(c, JPIP_EMALFORMED, "must be 0 to 100");
    }
    return jpip__fcur_expect_end(c);
}

static int yes_no(struct jpip__fcur *c, uint8_t *out)
{
    if (jpip__fcur_accept_lit(c, "yes"))
        *out = 1;
    else if (jpip__fcur_accept_lit(c, "no"))
        *out = 0;
    else
        return jpip__fcur_fail(c, JPIP_EMALFORMED, "expected yes or no");
    return jpip__fcur_expect_end(c);
}

static int f_align(struct jpip__request *r, struct jpip__fcur *c,
                   const struct jpip__request_limits *lim)
{
    (void)lim;
    return yes_no(c, &r->align);
}

static int f_wait(struct jpip__request *r, struct jpip__fcur *c,
                  const struct jpip__request_limits *lim)
{
    (void)lim;
    return yes_no(c, &r->wait);
}

static int f_model(struct jpip__request *r, struct jpip__fcur *c,
                   const struct jpip__request_limits *lim)
{
    return jpip__model_parse_cur(&r->model, c, JPIP__MODEL_FIELD_MODEL, lim->max_model_items,
                                 lim->alloc);
}

static int f_need(struct jpip__request *r, struct jpip__fcur *c,
                  const struct jpip__request_limits *lim)
{
    return jpip__model_parse_cur(&r->need, c, JPIP__MODEL_FIELD_NEED, lim->max_model_items,
                                 lim->alloc);
}

/* Fields kept as printable text; dst is found through the table's offset. */
static int f_text(struct jpip__request *r, struct jpip__fcur *c,
                  const struct jpip__request_limits *lim)
{
    (void)r;
    (void)lim;
    return jpip__fcur_check_bytes(c, 0x20, 0x7e, NULL);
}

static int f_handled(struct jpip__request *r, struct jpip__fcur *c,
                     const struct jpip__request_limits *lim)
{
    (void)r;
    (void)lim;
    return jpip__fcur_expect_end(c);
}

struct field_def {
    const char *name;
    field_fn parse;
    size_t text_off; /* f_text fields: offset of their jpip__req_str in the request */
};

#define TEXT(m) offsetof(struct jpip__request, m)
static const struct field_def fields[JPIP__F_COUNT] = {
    [JPIP__F_TARGET] = {"target", f_target, 0},
    [JPIP__F_SUBTARGET] = {"subtarget", jpip__req_parse_subtarget, 0},
    [JPIP__F_TID] = {"tid", f_tid, 0},
    [JPIP__F_CID] = {"cid", f_cid, 0},
    [JPIP__F_CNEW] = {"cnew", jpip__req_parse_cnew, 0},
    [JPIP__F_CCLOSE] = {"cclose", jpip__req_parse_cclose, 0},
    [JPIP__F_QID] = {"qid", f_qid, 0},
    [JPIP__F_FSIZ] = {"fsiz", f_fsiz, 0},
    [JPIP__F_ROFF] = {"roff", f_roff, 0},
    [JPIP__F_RSIZ] = {"rsiz", f_rsiz, 0},
    [JPIP__F_COMPS] = {"comps", f_comps, 0},
    [JPIP__F_STREAM] = {"stream", f_stream, 0},
    [JPIP__F_CONTEXT] = {"context", jpip__req_parse_context, 0},
    [JPIP__F_ROI] = {"roi", f_roi, 0},
    [JPIP__F_LAYERS] = {"layers", f_layers, 0},
    [JPIP__F_SRATE] = {"srate", f_srate, 0},
    [JPIP__F_METAREQ] = {"metareq", f_metareq, 0},
    [JPIP__F_LEN] = {"len", f_len, 0},
    [JPIP__F_QUALITY] = {"quality", f_quality, 0},
    [JPIP__F_ALIGN] = {"align", f_align, 0},
    [JPIP__F_WAIT] = {"wait", f_wait, 0},
    [JPIP__F_TYPE] = {"type", jpip__req_parse_type, 0},
    [JPIP__F_DRATE] = {"drate", f_drate, 0},
    [JPIP__F_MODEL] = {"model", f_model, 0},
    [JPIP__F_TPMODEL] = {"tpmodel", f_text, TEXT(tpmodel)},
    [JPIP__F_NEED] = {"need", f_need, 0},
    [JPIP__F_TPNEED] = {"tpneed", f_text, TEXT(tpneed)},
    [JPIP__F_MSET] = {"mset", f_text, TEXT(mset)},
    [JPIP__F_CAP] = {"cap", f_text, TEXT(cap)},
    [JPIP__F_PREF] = {"pref", jpip__req_parse_pref, 0},
    [JPIP__F_CSF] = {"csf", f_text, TEXT(csf)},
    [JPIP__F_HANDLED] = {"handled", f_handled, 0},
    [JPIP__F_UPLOAD] = {"upload", f_text, TEXT(upload)},
};
#undef TEXT

const char *jpip__request_field_name(enum jpip__req_field f)
{
    return (unsigned)f < JPIP__F_COUNT ? fields[f].name : NULL;
}

void jpip__request_limits_default(struct jpip__request_limits *lim)
{
    lim->max_query_bytes = 65536;
    lim->max_fields = 64;
    lim->max_list_items = 1024;
    lim->max_model_items = 32768;
    lim->max_metareq_items = 1024;
    lim->alloc = NULL;
}

static void resolve_limits(const struct jpip__request_limits *in, struct jpip__request_limits *out)
{
    jpip__request_limits_default(out);
    if (!in)
        return;
    out->alloc = in->alloc;
    if (in->max_query_bytes)
        out->max_query_bytes = in->max_query_bytes;
    if (in->max_fields)
        out->max_fields = in->max_fields;
    if (in->max_list_items)
        out->max_list_items = in->max_list_items;
    if (in->max_model_items)
        out->max_model_items = in->max_model_items;
    if (in->max_metareq_items)
        out->max_metareq_items = in->max_metareq_items;
}

void jpip__request_init(struct jpip__request *r)
{
    memset(r, 0, sizeof *r);
}

void jpip__request_free(struct jpip__request *r)
{
    if (r->owns_memory) {
        jpip__req_free_lists(r);
        jpip__metareq_free(&r->metareq);
        jpip__model_free(&r->model);
        jpip__model_free(&r->need);
        jpip__free(r->alloc, r->decoded);
    }
    memset(r, 0, sizeof *r);
}

/* The name for a message: up to 32 bytes, non-printable bytes shown as '?'. */
static void printable_name(const char *s, size_t n, char out[40])
{
    size_t k = 0;
    for (; k < n && k < 32; k++)
        out[k] = s[k] >= 0x20 && s[k] < 0x7f ? s[k] : '?';
    if (n > 32) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

/* 1 when s[0..n) spells the NUL-terminated lit (never reads lit past its end). */
static int name_is(const char *lit, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lit[i] == '\0' || lit[i] != s[i])
            return 0;
    return lit[n] == '\0';
}

static int lookup(const char *name, size_t n)
{
    for (int f = 0; f < JPIP__F_COUNT; f++)
        if (name_is(fields[f].name, name, n))
            return f;
    return -1;
}

/* One "name[=value]" segment at q[off .. off+seg_len). */
static int parse_segment(struct jpip__request *r, const char *q, size_t off, size_t seg_len,
                         const struct jpip__request_limits *lim, struct jpip__err *err)
{
    const char *seg = q + off;
    const char *eq = memchr(seg, '=', seg_len);
    const size_t name_len = eq ? (size_t)(eq - seg) : seg_len;
    const int f = lookup(seg, name_len);
    char shown[40];
    if (f < 0) {
        printable_name(seg, name_len, shown);
        return jpip__errf(err, JPIP_EMALFORMED, "unrecognised request field '%s' at offset %zu",
                          shown, off);
    }
    if (jpip__request_has(r, (enum jpip__req_field)f))
        return jpip__errf(err, JPIP_EMALFORMED, "field '%s' repeated at offset %zu", fields[f].name,
                          off);
    if (!eq && f != JPIP__F_HANDLED)
        return jpip__errf(err, JPIP_EMALFORMED, "field '%s' needs a value at offset %zu",
                          fields[f].name, off);
    const size_t voff = off + name_len + (eq ? 1 : 0);
    const char *raw = q + voff;
    const size_t raw_len = seg_len - (size_t)(raw - seg);
    const char *val = raw;
    size_t val_len = raw_len;
    if (jpip__pct_has_escape(raw, raw_len)) {
        if (!r->decoded) {
            r->decoded = jpip__alloc(r->alloc, r->decoded_cap);
            if (!r->decoded)
                return jpip__errf(err, JPIP_ENOMEM, "out of memory decoding the query");
        }
        char *dst = r->decoded + r->decoded_len;
        size_t bad = 0;
        if (jpip__pct_decode(raw, raw_len, dst, &val_len, &bad) < 0)
            return jpip__errf(err, JPIP_EMALFORMED,
                              "%s: bad percent-escape (or %%00) at offset %zu", fields[f].name,
                              voff + bad);
        r->decoded_len += val_len;
        val = dst;
    }
    if (val_len == 0 && f != JPIP__F_HANDLED)
        return jpip__errf(err, JPIP_EMALFORMED, "%s: empty value at offset %zu", fields[f].name,
                          voff);
    struct jpip__fcur c;
    jpip__fcur_init(&c, val, val_len, fields[f].name, err);
    c.raw = raw;
    c.raw_len = raw_len;
    c.raw_base = voff;
    JPIP_TRY(fields[f].parse(r, &c, lim));
    if (fields[f].text_off) {
        struct jpip__req_str *dst = (struct jpip__req_str *)((char *)r + fields[f].text_off);
        *dst = (struct jpip__req_str){val, val_len};
    }
    r->present |= (uint64_t)1 << f;
    r->field_off[f] = off;
    return JPIP_OK;
}

static int check_fields(const struct jpip__request *r, struct jpip__err *err)
{
    /* 15444-9 Annex C; Kakadu answers 400 (jpip-notes §11 pitfall 23). */
    static const enum jpip__req_field need_fsiz[2] = {JPIP__F_ROFF, JPIP__F_RSIZ};
    for (int i = 0; i < 2; i++)
        if (jpip__request_has(r, need_fsiz[i]) && !jpip__request_has(r, JPIP__F_FSIZ))
            return jpip__errf(err, JPIP_EMALFORMED, "%s without fsiz at offset %zu",
                              fields[need_fsiz[i]].name, r->field_off[need_fsiz[i]]);
    return JPIP_OK;
}

int jpip__request_parse(struct jpip__request *r, const char *query, size_t len,
                        const struct jpip__request_limits *lim, struct jpip__err *err)
{
    struct jpip__request_limits L;
    resolve_limits(lim, &L);
    jpip__request_init(r);
    r->alloc = L.alloc;
    r->owns_memory = 1;
    r->decoded_cap = len;
    if (!query && len)
        return jpip__errf(err, JPIP_EINVAL, "NULL query");
    if (len > L.max_query_bytes)
        return jpip__errf(err, JPIP_ELIMIT, "query of %zu bytes exceeds the limit of %zu", len,
                          L.max_query_bytes);
    uint32_t nfields = 0;
    int rc = JPIP_OK;
    size_t pos = 0;
    while (pos < len && rc == JPIP_OK) {
        const char *amp = memchr(query + pos, '&', len - pos);
        const size_t end = amp ? (size_t)(amp - query) : len;
        if (end > pos) {
            if (++nfields > L.max_fields)
                rc = jpip__errf(err, JPIP_ELIMIT, "more than %u fields at offset %zu",
                                (unsigned)L.max_fields, pos);
            else
                rc = parse_segment(r, query, pos, end - pos, &L, err);
        }
        pos = end + 1;
    }
    if (rc == JPIP_OK)
        rc = check_fields(r, err);
    if (rc < 0)
        jpip__request_free(r);
    return rc;
}

int jpip__request_parse_form(struct jpip__request *r, const char *body, size_t len,
                             const struct jpip__request_limits *lim, struct jpip__err *err)
{
    while (len > 0 && (body[len - 1] == '\r' || body[len - 1] == '\n'))
        len--;
    return jpip__request_parse(r, body, len, lim, err);
}
