/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Incremental JPP/JPT-stream reader. A message lying wholly inside a fed chunk is delivered
 * from the chunk without copying; one that straddles chunks is assembled in r->pend, header
 * first (at most JPIP__MSG_HEADER_MAX_IN bytes are taken before the header is known), then
 * its body.
 */
#include "stream/stream_reader.h"

#include <string.h>

void jpip__stream_reader_init(struct jpip__stream_reader *r, const struct jpip_allocator *a,
                              size_t max_body, jpip__stream_msg_fn on_msg,
                              jpip__stream_eor_fn on_eor, void *user)
{
    memset(r, 0, sizeof *r);
    if (max_body == 0)
        max_body = JPIP__STREAM_MAX_BODY_DEFAULT;
    if (max_body > SIZE_MAX - JPIP__MSG_HEADER_MAX_IN)
        max_body = SIZE_MAX - JPIP__MSG_HEADER_MAX_IN;
    r->max_body = max_body;
    r->on_msg = on_msg;
    r->on_eor = on_eor;
    r->user = user;
    jpip__buf_init(&r->pend, a, max_body + JPIP__MSG_HEADER_MAX_IN);
    jpip__msg_dec_reset(&r->dec);
    jpip__err_clear(&r->err);
}

void jpip__stream_reader_free(struct jpip__stream_reader *r)
{
    jpip__buf_free(&r->pend);
}

void jpip__stream_reader_reset(struct jpip__stream_reader *r, int keep_prev)
{
    jpip__buf_reset(&r->pend);
    if (!keep_prev)
        jpip__msg_dec_reset(&r->dec);
    r->pos = 0;
    r->need = 0;
    r->hdr_len = 0;
    memset(&r->cur, 0, sizeof r->cur);
    r->cur_is_eor = 0;
    r->cur_reason = 0;
    r->eor_reason = 0;
    r->eor_seen = 0;
    r->status = JPIP_OK;
    jpip__err_clear(&r->err);
}

static int fail(struct jpip__stream_reader *r, int rc)
{
    r->status = rc;
    return rc;
}

/* Decodes the header of the message starting at r->pos from p (len bytes). On JPIP_OK,
 * r->cur, r->hdr_len and r->need describe the message. */
static int header(struct jpip__stream_reader *r, const uint8_t *p, size_t len)
{
    size_t hdr_len = 0;
    int is_eor = 0;
    uint8_t reason = 0;
    struct jpip__msg m;
    const int rc =
        jpip__msg_header_decode(&r->dec, p, len, r->pos, &m, &hdr_len, &is_eor, &reason, &r->err);
    if (rc != JPIP_OK)
        return rc;
    JPIP_FAIL_IF(m.len > r->max_body, &r->err, JPIP_ELIMIT,
                 "%s at offset %llu has a %llu-byte body, over the limit of %zu bytes",
                 is_eor ? "EOR message" : "message", (unsigned long long)r->pos,
                 (unsigned long long)m.len, r->max_body);
    r->cur = m;
    r->cur_is_eor = is_eor;
    r->cur_reason = reason;
    r->hdr_len = hdr_len;
    r->need = hdr_len + (size_t)m.len;
    return JPIP_OK;
}

/* Hands the message at msg (r->need bytes) to its callback and moves past it. */
static int deliver(struct jpip__stream_reader *r, const uint8_t *msg)
{
    const uint8_t *body = msg + r->hdr_len;
    int rc = JPIP_OK;
    if (r->cur_is_eor) {
        if (r->on_eor)
            rc = r->on_eor(r->user, r->cur_reason, body, (size_t)r->cur.len);
    } else if (r->on_msg) {
        rc = r->on_msg(r->user, &r->cur, body);
    }
    JPIP_FAIL_IF(rc < 0, &r->err, rc, "the handler of the %s at offset %llu failed: %s",
                 r->cur_is_eor ? "EOR message" : "message", (unsigned long long)r->pos,
                 jpip_strerror(rc));
    if (r->cur_is_eor) {
        r->eor_seen = 1;
        r->eor_reason = r->cur_reason;
    }
    r->pos += r->need;
    r->need = 0;
    jpip__buf_reset(&r->pend);
    return JPIP_OK;
}

/* Appends n bytes to the partial message buffer, recording a failure. */
static int buffer(struct jpip__stream_reader *r, const uint8_t *p, size_t n)
{
    const int rc = jpip__buf_append(&r->pend, p, n);
    JPIP_FAIL_IF(rc < 0, &r->err, rc, "cannot buffer the message at offset %llu: %s",
                 (unsigned long long)r->pos, jpip_strerror(rc));
    return JPIP_OK;
}

/* Adds up to len bytes of p to the partial message; returns the number taken, or an error. */
static int take_pending(struct jpip__stream_reader *r, const uint8_t *p, size_t len, size_t *taken)
{
    struct jpip__buf *b = &r->pend;
    if (r->need != 0) {
        const size_t n = len < r->need - b->len ? len : r->need - b->len;
        JPIP_TRY(buffer(r, p, n));
        *taken = n;
        return JPIP_OK;
    }
    /* Header still incomplete: take what could belong to it, then try again. */
    const size_t room = JPIP__MSG_HEADER_MAX_IN - b->len;
    const size_t n = len < room ? len : room;
    JPIP_TRY(buffer(r, p, n));
    const int rc = header(r, b->data, b->len);
    if (rc == JPIP_AGAIN) {
        *taken = n;
        return JPIP_OK;
    }
    if (rc < 0)
        return rc;
    /* Give back the bytes past the end of a message shorter than what was taken. */
    size_t back = 0;
    if (r->need < b->len) {
        back = b->len - r->need;
        b->len = r->need;
    }
    *taken = n - back;
    return JPIP_OK;
}

int jpip__stream_reader_feed(struct jpip__stream_reader *r, const uint8_t *p, size_t len)
{
    if (r->status < 0)
        return r->status;
    while (len > 0) {
        if (r->eor_seen)
            return fail(r, jpip__errf(&r->err, JPIP_EPROTOCOL,
                                      "data follows the EOR message, at offset %llu",
                                      (unsigned long long)r->pos));
        int rc;
        if (r->pend.len == 0) {
            /* Fast path: the message starts at p. */
            rc = header(r, p, len);
            if (rc < 0)
                return fail(r, rc);
            if (rc == JPIP_OK && r->need <= len) {
                const size_t n = r->need;
                rc = deliver(r, p);
                if (rc < 0)
                    return fail(r, rc);
                p += n;
                len -= n;
                continue;
            }
            /* Partial header (shorter than JPIP__MSG_HEADER_MAX_IN) or partial body. */
            rc = buffer(r, p, len);
            return rc < 0 ? fail(r, rc) : JPIP_OK;
        }
        size_t taken = 0;
        rc = take_pending(r, p, len, &taken);
        if (rc < 0)
            return fail(r, rc);
        p += taken;
        len -= taken;
        if (r->need != 0 && r->pend.len == r->need) {
            rc = deliver(r, r->pend.data);
            if (rc < 0)
                return fail(r, rc);
        }
    }
    return JPIP_OK;
}

int jpip__stream_reader_finish(struct jpip__stream_reader *r)
{
    if (r->status < 0)
        return r->status;
    if (r->pend.len == 0)
        return JPIP_OK;
    if (r->need == 0)
        return fail(r, jpip__errf(&r->err, JPIP_EPROTOCOL,
                                  "the response ended inside the header of the message at offset "
                                  "%llu (%zu byte(s) of it received)",
                                  (unsigned long long)r->pos, r->pend.len));
    return fail(r, jpip__errf(&r->err, JPIP_EPROTOCOL,
                              "the response ended inside the %s at offset %llu (%zu of %zu bytes "
                              "received)",
                              r->cur_is_eor ? "EOR message" : "message", (unsigned long long)r->pos,
                              r->pend.len, r->need));
}
