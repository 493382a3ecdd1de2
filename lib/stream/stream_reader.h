/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Incremental reader of one JPP-stream or JPT-stream response body (the client's side). Bytes
 * arrive in chunks of any size, unrelated to message boundaries; the reader hands each
 * complete message (header fields plus body) to a callback, in stream order, and stops at the
 * EOR message. It copies only what straddles a chunk boundary, into a buffer whose size is
 * capped at init. The two stream types share the format; the reader does not tell them apart.
 */
#ifndef JPIP_STREAM_STREAM_READER_H
#define JPIP_STREAM_STREAM_READER_H

#include "common/buf.h"
#include "stream/message.h"

/* Default cap on one message body: 64 MiB. */
#define JPIP__STREAM_MAX_BODY_DEFAULT ((size_t)64 << 20)

/* Called once per data-bin message. body (m->len bytes) is borrowed: valid during the call
 * only. Return JPIP_OK, or a negative status to stop the reader (feed returns that status). */
typedef int (*jpip__stream_msg_fn)(void *user, const struct jpip__msg *m, const uint8_t *body);
/* Called once for the EOR message, with its reason and (normally empty) body, borrowed. */
typedef int (*jpip__stream_eor_fn)(void *user, uint8_t reason, const uint8_t *body, size_t len);

/* Caller-embedded; fields are read-only for the caller except through the functions below. */
struct jpip__stream_reader {
    struct jpip__msg_dec dec; /* class/codestream of the previous message */
    struct jpip__buf pend;    /* the partial message being assembled: header, then body */
    size_t max_body;          /* cap on one message body (EOR bodies included) */
    jpip__stream_msg_fn on_msg;
    jpip__stream_eor_fn on_eor;
    void *user;
    uint64_t pos;   /* stream offset of the current message = bytes of whole messages read */
    size_t need;    /* header + body length of the pending message; 0 until its header is in */
    size_t hdr_len; /* header length of the pending message (valid when need != 0) */
    struct jpip__msg cur; /* its header fields (for an EOR: cur.len = body length) */
    int cur_is_eor;
    uint8_t cur_reason;   /* its EOR reason (when cur_is_eor) */
    uint8_t eor_reason;   /* valid once eor_seen */
    int eor_seen;         /* the EOR message has been delivered */
    int status;           /* JPIP_OK, or the (sticky) error that stopped the reader */
    struct jpip__err err; /* message of that error, with the byte offset */
};

/* Initialises r. a may be NULL (malloc/free). max_body caps each message body (0 = the
 * default); on_msg and on_eor may be NULL to skip those messages. The decoder starts with no
 * previous message. Never fails. */
void jpip__stream_reader_init(struct jpip__stream_reader *r, const struct jpip_allocator *a,
                              size_t max_body, jpip__stream_msg_fn on_msg,
                              jpip__stream_eor_fn on_eor, void *user);
/* Releases the buffer. r may be reused after jpip__stream_reader_init. */
void jpip__stream_reader_free(struct jpip__stream_reader *r);

/* Prepares r for the next response: offsets restart at 0, the partial message, the EOR flag
 * and any error are dropped. keep_prev = 1 keeps the previous message's class and codestream
 * (a channel of a session); 0 forgets them (stateless requests). */
void jpip__stream_reader_reset(struct jpip__stream_reader *r, int keep_prev);

/* Consumes len bytes (p borrowed). Delivers every message completed by them through the
 * callbacks and buffers a trailing partial message. Returns JPIP_OK (even if a message is
 * still partial), or an error, which is sticky until reset: the decoder's JPIP_EMALFORMED or
 * JPIP_EPROTOCOL; JPIP_ELIMIT for a body over max_body; JPIP_EPROTOCOL for any byte after
 * the EOR; JPIP_ENOMEM; or a callback's negative status. Error messages give offsets from
 * the start of the response. The sequence of callbacks and the outcome do not depend on how
 * the bytes are split across calls. */
int jpip__stream_reader_feed(struct jpip__stream_reader *r, const uint8_t *p, size_t len);

/* Declares the end of the response body. Returns the sticky error if any, JPIP_EPROTOCOL if
 * the body ended inside a message, else JPIP_OK. Reaching the end without an EOR is not an
 * error (some servers omit it in stateless responses): check r->eor_seen. */
int jpip__stream_reader_finish(struct jpip__stream_reader *r);

#endif
