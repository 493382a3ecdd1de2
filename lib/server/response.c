/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Producing a response body from its plan, as the caller pulls it: metadata-bins, then per
 * codestream the main header and tile headers, then precinct increments one quality layer at
 * a time and lowest resolution first, so a client that stops reading at any byte holds the
 * best picture that byte count allows; last the EOR message (15444-9 D.3). Small increments
 * of a precinct are merged across layers so tiny packets do not each pay a message header.
 * Every message is self-contained at the start of a response (b = 3), later ones inherit
 * class and codestream where they repeat.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/source.h"
#include "server/server_internal.h"

/* Packets of a precinct are merged into one message while the message stays this small. */
#define MERGE_BYTES 1024

static int read_bin(struct jpip_response *r, const struct plan_bin *b, const struct plan_prec *pp,
                    uint64_t off, uint8_t *dst, size_t len)
{
    struct srv_target *tg = r->tgt;
    struct jpip__err err;
    switch (b->cls) {
    case JPIP__CLS_METADATA:
        return jpip__metabins_read(&tg->mb, jpip__target_source(tg->t), (uint32_t)b->id, off, dst,
                                   len, &err);
    case JPIP__CLS_MAIN_HEADER: memcpy(dst, tg->cs[b->cs].mainhdr + off, len); return JPIP_OK;
    case JPIP__CLS_TILE: {
        struct jpip__codestream *c = jpip__target_codestream(tg->t, b->cs);
        uint32_t first = c->tile_tp[b->id], ntp = c->tile_ntp[b->id];
        uint64_t pos = 0;
        for (uint32_t i = 0; i < ntp && len > 0; i++) {
            const struct jpip__tilepart *tp = &c->tp[first + i];
            uint64_t tplen = tp->data_off + tp->data_len - tp->sot_off;
            if (off < pos + tplen) {
                uint64_t skip = off - pos, take = tplen - skip;
                if (take > len)
                    take = len;
                JPIP_TRY(jpip__src_read(c->src, tp->sot_off + skip, dst, (size_t)take, &err));
                dst += take;
                len -= (size_t)take;
                off += take;
            }
            pos += tplen;
        }
        return len ? JPIP_EINVAL : JPIP_OK;
    }
    case JPIP__CLS_TILE_HEADER: {
        struct jpip__tile_index *ti;
        JPIP_TRY(jpip__cs_tile(jpip__target_codestream(tg->t, b->cs), (uint32_t)b->id, &ti));
        memcpy(dst, ti->hdr + off, len);
        return JPIP_OK;
    }
    default: {
        struct jpip__codestream *c = jpip__target_codestream(tg->t, b->cs);
        struct jpip__tile_index *ti;
        JPIP_TRY(jpip__cs_tile(c, pp->tile, &ti));
        return jpip__precinct_bin_read(c, ti, pp->g, off, dst, len);
    }
    }
}

/* Queue the header of a message covering [from, to) of bin b; its body is copied after it.
 * The model counts the bytes as the client's from here on. Returns 1. */
static int queue_message(struct jpip_response *r, const struct plan_bin *b, struct plan_prec *pp,
                         uint64_t from, uint64_t to)
{
    struct jpip__msg m = {0};
    m.cls = b->cls;
    m.cs = b->cs;
    m.id = b->id;
    m.off = from;
    m.len = to - from;
    m.last = to >= b->total;
    size_t hl;
    if (jpip__msg_header_encode(&r->enc, &m, r->pend, sizeof r->pend, &hl) < 0)
        return JPIP_EINVAL;
    r->pend_len = hl;
    r->pend_pos = 0;
    r->pend_bin = *b;
    r->pend_prec = pp;
    r->pend_body_off = from;
    r->pend_body_left = to - from;
    r->st.messages++;
    r->st.databin_bytes += to - from;
    if (b->cls == JPIP__CLS_PRECINCT)
        r->sent_precinct = 1;
    /* A session's model now counts these bytes as the client's. (A stateless response never
     * returns to a byte range it sent: its plan moves forward only.) */
    if (r->cm && r->sess)
        jpip__cm_add(r->cm, b->cls, b->cs, b->id, m.last ? JPIP__CM_ALL : to);
    return 1;
}

/* The budget left for message bytes (len=). */
static uint64_t budget_left(const struct jpip_response *r, uint64_t produced)
{
    if (r->budget == UINT64_MAX)
        return UINT64_MAX;
    return produced >= r->budget ? 0 : r->budget - produced;
}

/* Rough header size for budget decisions (the exact one is known after encoding). */
static uint64_t header_estimate(uint64_t id, uint64_t off, uint64_t len)
{
    uint64_t n = 3;
    while (id >>= 7)
        n++;
    while (off >>= 7)
        n++;
    while (len >>= 7)
        n++;
    return n + 4;
}

/* A metadata or header bin: sent whole, or cut to what the byte budget leaves (header bins
 * need not end on any boundary), after which the response ends with EOR 4. */
static int header_message(struct jpip_response *r, const struct plan_bin *b, uint64_t left)
{
    uint64_t from = b->from, to = b->to;
    uint64_t h = header_estimate(b->id, from, to - from);
    if (h + (to - from) <= left)
        return queue_message(r, b, NULL, from, to);
    r->phase = 3;
    r->eor_reason = 4;
    if (left <= h + 1)
        return 0;
    return queue_message(r, b, NULL, from, from + (left - h));
}

/* Choose the next message and queue it; sets phase 3 when nothing is left. */
static int next_message(struct jpip_response *r, uint64_t produced)
{
    for (;;) {
        if (r->preempted) {
            r->phase = 3;
            r->eor_reason = 3; /* window change */
            return 0;
        }
        if (r->stop_reason) {
            r->phase = 3;
            r->eor_reason = r->stop_reason;
            return 0;
        }
        uint64_t left = budget_left(r, produced);
        if (r->phase == 0) {
            if (r->ibin >= r->nmeta) {
                r->phase = 1;
                r->ics = 0;
                r->ibin = 0;
                continue;
            }
            return header_message(r, &r->meta[r->ibin++], left);
        }
        if (r->phase == 1) {
            if (r->ics >= r->npcs) {
                r->phase = 3;
                r->eor_reason = 2; /* window done */
                return 0;
            }
            struct plan_cs *pc = &r->pcs[r->ics];
            if (r->ibin >= pc->nhdr) {
                r->phase = 2;
                r->layer = 0;
                r->iprec = 0;
                continue;
            }
            return header_message(r, &pc->hdr[r->ibin++], left);
        }
        if (r->phase == 2) {
            struct plan_cs *pc = &r->pcs[r->ics];
            if (r->iprec >= pc->nprec && r->layer == 0) {
                /* The first sweep lists each resolution when it gets there. */
                int more = jpip__plan_next_resolution(r, pc);
                if (more < 0)
                    return more;
                if (more)
                    continue;
            }
            if (r->iprec >= pc->nprec) {
                r->iprec = 0;
                r->layer++;
                if (r->layer >= pc->max_layers) {
                    r->phase = 1;
                    r->ics++;
                    r->ibin = 0;
                }
                continue;
            }
            struct plan_prec *pp = &pc->prec[r->iprec++];
            if (pp->next > r->layer || r->layer >= pp->layers)
                continue;
            struct jpip__tile_index *ti;
            int rc = jpip__cs_tile(pc->c, pp->tile, &ti);
            if (rc < 0)
                return rc;
            uint64_t have = jpip__plan_have(r, JPIP__CLS_PRECINCT, pc->cs, pp->id);
            /* One pass over the precinct's packets: where this layer starts, how far to
             * merge small following layers, the bin's total length, and the first layer the
             * client does not already hold. */
            uint64_t base = (uint64_t)pp->g * ti->nlayers, acc = 0, start = 0, end = 0;
            uint64_t total = 0, from = 0, held_to = 0;
            uint16_t l2 = (uint16_t)(r->layer + 1), first_missing = pp->layers;
            int ended = 0;
            for (uint16_t l = 0; l < ti->nlayers; l++) {
                const struct jpip__packet *pk = &ti->pk[base + l];
                if (!jpip__pk_present(pk))
                    break;
                const uint64_t before = acc;
                acc += pk->len + (ti->ph_len ? ti->ph_len[base + l] : 0);
                if (acc > have && l >= r->layer && l < first_missing) {
                    first_missing = l;
                    held_to = before;
                } else if (first_missing == pp->layers && l < pp->layers) {
                    held_to = acc;
                }
                if (l + 1 == r->layer)
                    start = acc;
                if (l == r->layer) {
                    end = acc;
                    from = have > start ? have : start;
                } else if (l > r->layer && l < pp->layers && !ended) {
                    if (acc - from > MERGE_BYTES)
                        ended = 1; /* merge following layers while the message stays small */
                    else {
                        end = acc;
                        l2 = (uint16_t)(l + 1);
                    }
                }
            }
            total = acc;
            if (have == JPIP__CM_ALL || from >= end) {
                /* The layers up to the first gap are held: saved by the model. */
                if (held_to > start)
                    r->st.model_bytes_saved += held_to - start;
                pp->next = first_missing; /* held already: come back at its first gap */
                continue;
            }
            if (from > start)
                r->st.model_bytes_saved += from - start;
            pp->next = l2;
            struct plan_bin b = {JPIP__CLS_PRECINCT, pc->cs, pp->id, from, end, total};
            uint64_t h = header_estimate(pp->id, from, end - from);
            if (h + (end - from) > left) {
                /* Increments end on packet boundaries; only when nothing of any precinct
                 * has gone out yet is a partial packet sent, so every response makes
                 * progress even when len is smaller than one packet. */
                if (!r->sent_precinct && left > h + 16) {
                    queue_message(r, &b, pp, from, from + (left - h));
                    pp->next = r->layer;
                    r->phase = 3;
                    r->eor_reason = 4;
                    return 1;
                }
                pp->next = r->layer;
                r->phase = 3;
                r->eor_reason = 4;
                return 0;
            }
            return queue_message(r, &b, pp, from, end);
        }
        return 0;
    }
}

int jpip__response_produce(struct jpip_response *r, uint8_t *buf, size_t cap, size_t *n)
{
    size_t pos = 0;
    if (r->st.messages == 0 && r->pend_len == 0 && r->phase == 0)
        jpip__msg_enc_reset(&r->enc);
    while (pos < cap) {
        /* Flush the pending message: header, then body. */
        if (r->pend_pos < r->pend_len) {
            size_t k = r->pend_len - r->pend_pos;
            if (k > cap - pos)
                k = cap - pos;
            memcpy(buf + pos, r->pend + r->pend_pos, k);
            r->pend_pos += k;
            pos += k;
            continue;
        }
        if (r->pend_body_left) {
            uint64_t k = r->pend_body_left;
            if (k > cap - pos)
                k = cap - pos;
            int rc =
                read_bin(r, &r->pend_bin, r->pend_prec, r->pend_body_off, buf + pos, (size_t)k);
            if (rc < 0)
                return rc;
            r->pend_body_off += k;
            r->pend_body_left -= k;
            pos += (size_t)k;
            continue;
        }
        r->pend_len = r->pend_pos = 0;
        if (r->phase == 3) {
            if (cap - pos < 3)
                break;
            buf[pos++] = 0x00;
            buf[pos++] = r->eor_reason ? r->eor_reason : 0xFF;
            buf[pos++] = 0x00;
            r->phase = 4;
            break;
        }
        if (r->phase >= 4)
            break;
        int rc = next_message(r, r->st.body_bytes + pos);
        if (rc < 0)
            return rc;
    }
    *n = pos;
    return JPIP_OK;
}
