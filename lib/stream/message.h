/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * JPP-stream and JPT-stream message headers (15444-9 Annex A): the Bin-ID VBAS with its
 * class/codestream indicator b, "last byte" flag c and in-class id, the optional Class and CSn
 * fields, Msg-Offset, Msg-Length and the Aux field of odd (extended) classes; and the EOR
 * message that ends a response. Both stream types share this format. Pure byte coding: the
 * encoder and decoder each carry only the class and codestream of the previous message.
 */
#ifndef JPIP_STREAM_MESSAGE_H
#define JPIP_STREAM_MESSAGE_H

#include "common/status.h"

/* Data-bin classes as numbered on the wire. Odd classes carry an Aux field. Unknown classes
 * (3, 7, 9..255) decode normally so that a client can skip their bodies. */
enum jpip__class {
    JPIP__CLASS_PRECINCT = 0,
    JPIP__CLASS_PRECINCT_EXT = 1, /* Aux = complete packets in [0, Msg-Offset + Msg-Length) */
    JPIP__CLASS_TILE_HEADER = 2,
    JPIP__CLASS_TILE = 4,
    JPIP__CLASS_TILE_EXT = 5,
    JPIP__CLASS_MAIN_HEADER = 6, /* in-class id 0 */
    JPIP__CLASS_METADATA = 8
};

/* EOR reason codes. Any other value is legal on the wire and means "ended, reason unknown". */
enum jpip__eor_reason {
    JPIP__EOR_IMAGE_DONE = 1,     /* everything of the target has been sent */
    JPIP__EOR_WINDOW_DONE = 2,    /* everything relevant to the view-window has been sent */
    JPIP__EOR_WINDOW_CHANGE = 3,  /* pre-empted by a newer request */
    JPIP__EOR_BYTE_LIMIT = 4,     /* the len= budget is spent */
    JPIP__EOR_QUALITY_LIMIT = 5,  /* the quality= limit is reached */
    JPIP__EOR_SESSION_LIMIT = 6,  /* session resources exhausted; its channels are dead */
    JPIP__EOR_RESPONSE_LIMIT = 7, /* e.g. time; the session remains usable */
    JPIP__EOR_UNSPECIFIED = 0xFF
};

/* Every id, codestream, offset, length and Aux value must lie below this bound (2^53), in both
 * directions, so that Msg-Offset + Msg-Length and similar sums never overflow 64 bits. */
#define JPIP__MSG_VALUE_LIMIT ((uint64_t)1 << 53)

/* Longest header the encoder writes: Bin-ID 8, Class 2, CSn 8, Offset 8, Length 8, Aux 8. */
#define JPIP__MSG_HEADER_MAX 42
/* Longest header the decoder accepts: six fields of at most JPIP__VBAS_MAX_LEN bytes (leading
 * zero groups are legal). An EOR header is at most 12 bytes. */
#define JPIP__MSG_HEADER_MAX_IN 60
/* Length of an EOR message as the encoder writes it (empty body). */
#define JPIP__EOR_LEN 3

/* One message header. cls, cs, id, off (Msg-Offset), len (Msg-Length, the body size) and aux
 * are the field values, explicit or inherited; last is the c flag (the message holds the last
 * byte of the data-bin). has_aux is set by the decoder (cls is odd); the encoder ignores it
 * and writes aux iff cls is odd. */
struct jpip__msg {
    uint8_t cls;
    uint64_t cs;
    uint64_t id;
    uint64_t off;
    uint64_t len;
    uint64_t aux;
    int has_aux;
    int last;
};

/* Encoder memory: the class and codestream of the message encoded last. */
struct jpip__msg_enc {
    int have_prev;
    uint8_t prev_cls;
    uint64_t prev_cs;
};

/* Decoder memory, the same for the receiving side. A client keeps one per channel across
 * responses (Kakadu's server relies on it) and resets it for each stateless response. */
struct jpip__msg_dec {
    int have_prev;
    uint8_t prev_cls;
    uint64_t prev_cs;
};

/* Forget the previous message. Call at the start of every response: the first message of a
 * response must be self-contained (b = 3). */
void jpip__msg_enc_reset(struct jpip__msg_enc *e);
void jpip__msg_dec_reset(struct jpip__msg_dec *d);

/* Encodes the header of m into dst (cap bytes) and sets *n to its length (at most
 * JPIP__MSG_HEADER_MAX). The indicator b is 1 when class and codestream repeat those of the
 * previous message, 2 when only the codestream repeats, else 3; every VBAS is minimal. The
 * caller writes the m->len body bytes after the header. Returns JPIP_OK; JPIP_EINVAL when a
 * value is not below JPIP__MSG_VALUE_LIMIT; JPIP_ELIMIT when cap is too small. On failure
 * nothing is written and e is unchanged. */
int jpip__msg_header_encode(struct jpip__msg_enc *e, const struct jpip__msg *m, uint8_t *dst,
                            size_t cap, size_t *n);

/* Writes the EOR message 00 <reason> 00 (empty body) to dst; *n = JPIP__EOR_LEN. Returns
 * JPIP_OK or JPIP_ELIMIT when cap < JPIP__EOR_LEN. */
int jpip__eor_encode(uint8_t reason, uint8_t *dst, size_t cap, size_t *n);

/* Decodes one message header at p (len bytes available). base is the stream offset of p[0],
 * used only in error messages. On JPIP_OK:
 *   - *hdr_len is the header length; the body is the next m->len bytes (not checked here);
 *   - for a data-bin message *is_eor = 0, *m is filled (inherited fields resolved) and st now
 *     remembers its class and codestream;
 *   - for an EOR message *is_eor = 1, *eor_reason is the reason, m is zeroed except m->len,
 *     the EOR body length; st is unchanged.
 * Returns JPIP_AGAIN when the header is incomplete (nothing changed; call again with more
 * bytes from the same p[0]), JPIP_EMALFORMED for a bad header (b = 0 with a first byte other
 * than 0x00, an over-long or overflowing VBAS, a class above 255, a value not below
 * JPIP__MSG_VALUE_LIMIT), JPIP_EPROTOCOL for a b = 1 or 2 message with no previous message
 * to inherit from. Errors are recorded in err (may be NULL) with the byte offset. As with
 * VBAS, the result on a prefix is either JPIP_AGAIN or the result on the whole input. */
int jpip__msg_header_decode(struct jpip__msg_dec *st, const uint8_t *p, size_t len, uint64_t base,
                            struct jpip__msg *m, size_t *hdr_len, int *is_eor, uint8_t *eor_reason,
                            struct jpip__err *err);

#endif
