/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * VBAS, the variable-length byte-aligned segment of 15444-9 Annex A: big-endian base-128, seven
 * value bits per byte, bit 7 set on every byte but the last. Encoders write the minimal form;
 * the decoder also accepts leading zero groups, up to JPIP__VBAS_MAX_LEN bytes in all.
 */
#ifndef JPIP_STREAM_VBAS_H
#define JPIP_STREAM_VBAS_H

#include <jpip/jpip.h>

/* Longest VBAS the decoder accepts, in bytes: ten groups hold 70 bits, enough for any 64-bit
 * value (UINT64_MAX needs exactly ten) plus room for a few leading zero groups before smaller
 * values. An eleventh byte is always malformed. */
#define JPIP__VBAS_MAX_LEN 10

/* Number of bytes the minimal encoding of v takes (1..10). */
size_t jpip__vbas_len(uint64_t v);

/* Writes the minimal encoding of v to dst (cap bytes available) and sets *n to its length.
 * Returns JPIP_OK, or JPIP_ELIMIT (nothing written, *n untouched) when cap is too small. */
int jpip__vbas_encode(uint8_t *dst, size_t cap, uint64_t v, size_t *n);

/* Reads one VBAS from p (len bytes available). On JPIP_OK sets *v and *n (bytes consumed).
 * Returns JPIP_AGAIN when all len bytes carry the continuation bit (more input needed), and
 * JPIP_EMALFORMED when the value would overflow 64 bits or the segment is longer than
 * JPIP__VBAS_MAX_LEN bytes. The result only depends on the bytes read so far: a prefix that
 * gives JPIP_AGAIN never contradicts what the full input gives. */
int jpip__vbas_decode(const uint8_t *p, size_t len, uint64_t *v, size_t *n);

#endif
