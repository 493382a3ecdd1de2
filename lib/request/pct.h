/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Percent-encoding of JPIP request values (RFC 3986 section 2.1 "%" HEXDIG HEXDIG). Each field
 * value is decoded separately after the query is split on '&' and '=' (15444-9 Annex C
 * values such as metareq, model and context are sent hex-encoded by Kakadu). '+' is a literal
 * plus sign, never a space: libcurl's curl_easy_unescape decodes only %XX too, and no JPIP
 * value uses spaces (metareq writes a space in a box type as '_'). POST bodies use the same
 * rule. The encoder escapes '+' so servers that do map '+' to space still read our requests.
 */
#ifndef JPIP_REQUEST_PCT_H
#define JPIP_REQUEST_PCT_H

#include <stddef.h>

#include "common/buf.h"

/* Decodes in[0..len) into out (room for len bytes; decoding never grows). *out_len gets the
 * decoded length. A '%' not followed by two hex digits, or one that decodes to NUL, fails with
 * JPIP_EMALFORMED and *bad_pos = its offset in in. out may equal in (decoding in place). */
int jpip__pct_decode(const char *in, size_t len, char *out, size_t *out_len, size_t *bad_pos);

/* 1 if in[0..len) holds a '%' (and so needs decoding), else 0. */
int jpip__pct_has_escape(const char *in, size_t len);

/* Offset in the encoded text enc[0..len) of the byte that decodes to position dec_pos (or len
 * when dec_pos is past the end). Used to report errors at the offset the peer sent. */
size_t jpip__pct_raw_offset(const char *enc, size_t len, size_t dec_pos);

/* Appends s[0..len) to b, escaping every byte outside ALPHA / DIGIT / "-._~,:*!/" as %XX
 * (upper-case hex). JPIP_ELIMIT / JPIP_ENOMEM from the buffer. */
int jpip__pct_encode_append(struct jpip__buf *b, const char *s, size_t len);

#endif
