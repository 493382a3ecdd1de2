/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Canonical request formatting (what the client sends) and semantic equality of two parsed
 * requests (what the round-trip fuzzer and the tests check). Field order is the enum order;
 * values are percent-encoded with pct.h's rule.
 */
#include "request/request.h"

#include <string.h>

#include "request/pct.h"

static int fmt_str(struct jpip__buf *b, struct jpip__req_str s)
{
    return jpip__pct_encode_append(b, s.ptr, s.len);
}

static int fmt_pair(struct jpip__buf *b, const uint32_t v[2])
{
    JPIP_TRY(jpip__fmt_u64(b, v[0]));
    JPIP_TRY(jpip__buf_append_byte(b, ','));
    return jpip__fmt_u64(b, v[1]);
}

/* Structured values are formatted into a scratch buffer, then percent-encoded. */
static int fmt_encoded(struct jpip__buf *b, const struct jpip__request *r, enum jpip__req_field f)
{
    struct jpip__buf tmp;
    jpip__buf_init(&tmp, b->alloc, b->max);
    int rc = JPIP_EINVAL;
    if (f == JPIP__F_METAREQ)
        rc = jpip__metareq_format(&r->metareq, &tmp);
    else if (f == JPIP__F_MODEL)
        rc = jpip__model_format(&r->model, &tmp);
    else if (f == JPIP__F_NEED)
        rc = jpip__model_format(&r->need, &tmp);
    if (rc == JPIP_OK)
        rc = jpip__pct_encode_append(b, (const char *)tmp.data, tmp.len);
    jpip__buf_free(&tmp);
    return rc;
}

static int fmt_list(struct jpip__buf *b, const struct jpip__request *r, enum jpip__req_field f)
{
    uint32_t n = f == JPIP__F_CNEW     ? r->ncnew
                 : f == JPIP__F_CCLOSE ? r->ncclose
                 : f == JPIP__F_TYPE   ? r->ntype
                 : f == JPIP__F_PREF   ? r->npref
                                       : r->ncontext;
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            JPIP_TRY(jpip__buf_append_byte(b, ','));
        switch (f) {
        case JPIP__F_CNEW: JPIP_TRY(fmt_str(b, r->cnew[i].text)); break;
        case JPIP__F_CCLOSE: JPIP_TRY(fmt_str(b, r->cclose[i])); break;
        case JPIP__F_TYPE: JPIP_TRY(fmt_str(b, r->type[i].text)); break;
        case JPIP__F_PREF:
            JPIP_TRY(fmt_str(b, r->pref[i].text));
            if (r->pref[i].required)
                JPIP_TRY(jpip__fmt_lit(b, "/r"));
            break;
        default: JPIP_TRY(fmt_str(b, r->context[i].text)); break;
        }
    }
    return JPIP_OK;
}

static int fmt_value(struct jpip__buf *b, const struct jpip__request *r, enum jpip__req_field f)
{
    static const char *const rounds[] = {"round-down", "round-up", "closest"};
    switch (f) {
    case JPIP__F_TARGET: return fmt_str(b, r->target);
    case JPIP__F_SUBTARGET: return fmt_str(b, r->subtarget);
    case JPIP__F_TID: return fmt_str(b, r->tid);
    case JPIP__F_CID: return fmt_str(b, r->cid);
    case JPIP__F_CCLOSE:
        if (r->cclose_all)
            return jpip__buf_append_byte(b, '*');
        return fmt_list(b, r, f);
    case JPIP__F_CNEW:
    case JPIP__F_TYPE:
    case JPIP__F_PREF:
    case JPIP__F_CONTEXT: return fmt_list(b, r, f);
    case JPIP__F_QID: return jpip__fmt_u64(b, r->qid);
    case JPIP__F_FSIZ:
        JPIP_TRY(fmt_pair(b, r->fsiz));
        if (!r->fsiz_round_given && r->fsiz_round == JPIP__ROUND_DOWN)
            return JPIP_OK;
        if (r->fsiz_round > JPIP__ROUND_CLOSEST)
            return JPIP_EINVAL;
        JPIP_TRY(jpip__buf_append_byte(b, ','));
        return jpip__fmt_lit(b, rounds[r->fsiz_round]);
    case JPIP__F_ROFF: return fmt_pair(b, r->roff);
    case JPIP__F_RSIZ: return fmt_pair(b, r->rsiz);
    case JPIP__F_COMPS: return jpip__fmt_ranges(b, r->comps, r->ncomps);
    case JPIP__F_STREAM: return jpip__fmt_ranges(b, r->stream, r->nstream);
    case JPIP__F_ROI: return fmt_str(b, r->roi);
    case JPIP__F_LAYERS: return jpip__fmt_u64(b, r->layers);
    case JPIP__F_SRATE: return fmt_str(b, r->srate);
    case JPIP__F_DRATE: return fmt_str(b, r->drate);
    case JPIP__F_METAREQ:
    case JPIP__F_MODEL:
    case JPIP__F_NEED: return fmt_encoded(b, r, f);
    case JPIP__F_LEN: return jpip__fmt_u64(b, r->len);
    case JPIP__F_QUALITY: return jpip__fmt_u64(b, r->quality);
    case JPIP__F_ALIGN: return jpip__fmt_lit(b, r->align ? "yes" : "no");
    case JPIP__F_WAIT: return jpip__fmt_lit(b, r->wait ? "yes" : "no");
    case JPIP__F_TPMODEL: return fmt_str(b, r->tpmodel);
    case JPIP__F_TPNEED: return fmt_str(b, r->tpneed);
    case JPIP__F_MSET: return fmt_str(b, r->mset);
    case JPIP__F_CAP: return fmt_str(b, r->cap);
    case JPIP__F_CSF: return fmt_str(b, r->csf);
    case JPIP__F_UPLOAD: return fmt_str(b, r->upload);
    case JPIP__F_HANDLED:
    case JPIP__F_COUNT: break;
    }
    return JPIP_OK;
}

int jpip__request_format(const struct jpip__request *r, struct jpip__buf *out)
{
    int first = 1;
    for (int f = 0; f < JPIP__F_COUNT; f++) {
        if (!jpip__request_has(r, (enum jpip__req_field)f))
            continue;
        if (!first)
            JPIP_TRY(jpip__buf_append_byte(out, '&'));
        first = 0;
        JPIP_TRY(jpip__fmt_lit(out, jpip__request_field_name((enum jpip__req_field)f)));
        if (f == JPIP__F_HANDLED)
            continue;
        JPIP_TRY(jpip__buf_append_byte(out, '='));
        JPIP_TRY(fmt_value(out, r, (enum jpip__req_field)f));
    }
    return JPIP_OK;
}

static int strs_eq(const struct jpip__req_str *a, const struct jpip__req_str *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!jpip__req_str_eq(a[i], b[i]))
            return 0;
    return 1;
}

static int lists_eq(const struct jpip__request *a, const struct jpip__request *b)
{
    if (a->ncnew != b->ncnew || a->ncclose != b->ncclose || a->ntype != b->ntype ||
        a->npref != b->npref || a->ncontext != b->ncontext || a->cclose_all != b->cclose_all)
        return 0;
    for (uint32_t i = 0; i < a->ncnew; i++)
        if (!jpip__req_str_eq(a->cnew[i].text, b->cnew[i].text) ||
            a->cnew[i].transport != b->cnew[i].transport)
            return 0;
    for (uint32_t i = 0; i < a->ntype; i++)
        if (!jpip__req_str_eq(a->type[i].text, b->type[i].text) ||
            a->type[i].kind != b->type[i].kind || a->type[i].ext != b->type[i].ext ||
            a->type[i].image_prefix != b->type[i].image_prefix)
            return 0;
    for (uint32_t i = 0; i < a->npref; i++)
        if (!jpip__req_str_eq(a->pref[i].text, b->pref[i].text) ||
            a->pref[i].required != b->pref[i].required)
            return 0;
    for (uint32_t i = 0; i < a->ncontext; i++) {
        const struct jpip__req_context *x = &a->context[i], *y = &b->context[i];
        if (!jpip__req_str_eq(x->text, y->text) || x->kind != y->kind ||
            !jpip__req_str_eq(x->instr, y->instr) ||
            !jpip__ranges_eq(x->ranges, x->nranges, y->ranges, y->nranges))
            return 0;
    }
    return strs_eq(a->cclose, b->cclose, a->ncclose);
}

static int field_eq(const struct jpip__request *a, const struct jpip__request *b,
                    enum jpip__req_field f)
{
    switch (f) {
    case JPIP__F_TARGET: return jpip__req_str_eq(a->target, b->target);
    case JPIP__F_SUBTARGET:
        return jpip__req_str_eq(a->subtarget, b->subtarget) &&
               a->subtarget_is_range == b->subtarget_is_range &&
               a->subtarget_from == b->subtarget_from && a->subtarget_to == b->subtarget_to;
    case JPIP__F_TID: return jpip__req_str_eq(a->tid, b->tid);
    case JPIP__F_CID: return jpip__req_str_eq(a->cid, b->cid);
    case JPIP__F_QID: return a->qid == b->qid;
    case JPIP__F_FSIZ:
        return a->fsiz[0] == b->fsiz[0] && a->fsiz[1] == b->fsiz[1] &&
               a->fsiz_round == b->fsiz_round && a->fsiz_round_given == b->fsiz_round_given;
    case JPIP__F_ROFF: return a->roff[0] == b->roff[0] && a->roff[1] == b->roff[1];
    case JPIP__F_RSIZ: return a->rsiz[0] == b->rsiz[0] && a->rsiz[1] == b->rsiz[1];
    case JPIP__F_COMPS: return jpip__ranges_eq(a->comps, a->ncomps, b->comps, b->ncomps);
    case JPIP__F_STREAM: return jpip__ranges_eq(a->stream, a->nstream, b->stream, b->nstream);
    case JPIP__F_CONTEXT: return jpip__req_str_eq(a->context_text, b->context_text);
    case JPIP__F_ROI: return jpip__req_str_eq(a->roi, b->roi);
    case JPIP__F_LAYERS: return a->layers == b->layers;
    case JPIP__F_SRATE:
        return jpip__req_str_eq(a->srate, b->srate) && a->srate_value == b->srate_value;
    case JPIP__F_DRATE:
        return jpip__req_str_eq(a->drate, b->drate) && a->drate_value == b->drate_value;
    case JPIP__F_METAREQ: return jpip__metareq_equal(&a->metareq, &b->metareq);
    case JPIP__F_LEN: return a->len == b->len;
    case JPIP__F_QUALITY: return a->quality == b->quality;
    case JPIP__F_ALIGN: return a->align == b->align;
    case JPIP__F_WAIT: return a->wait == b->wait;
    case JPIP__F_MODEL: return jpip__model_equal(&a->model, &b->model);
    case JPIP__F_NEED: return jpip__model_equal(&a->need, &b->need);
    case JPIP__F_TPMODEL: return jpip__req_str_eq(a->tpmodel, b->tpmodel);
    case JPIP__F_TPNEED: return jpip__req_str_eq(a->tpneed, b->tpneed);
    case JPIP__F_MSET: return jpip__req_str_eq(a->mset, b->mset);
    case JPIP__F_CAP: return jpip__req_str_eq(a->cap, b->cap);
    case JPIP__F_CSF: return jpip__req_str_eq(a->csf, b->csf);
    case JPIP__F_UPLOAD: return jpip__req_str_eq(a->upload, b->upload);
    case JPIP__F_CNEW:
    case JPIP__F_CCLOSE:
    case JPIP__F_TYPE:
    case JPIP__F_PREF:
    case JPIP__F_HANDLED:
    case JPIP__F_COUNT: break;
    }
    return 1;
}

int jpip__request_equal(const struct jpip__request *a, const struct jpip__request *b)
{
    if (a->present != b->present || !lists_eq(a, b))
        return 0;
    for (int f = 0; f < JPIP__F_COUNT; f++)
        if (jpip__request_has(a, (enum jpip__req_field)f) &&
            !field_eq(a, b, (enum jpip__req_field)f))
            return 0;
    return 1;
}
