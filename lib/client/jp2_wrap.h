/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A rebuilt codestream wrapped as a JP2 file with the original's JP2 header box (jp2h: ihdr,
 * colr, pclr, cmap, cdef, bpcc, res), so that OpenJPEG's JP2 decoder applies the palette and
 * channel definitions exactly as it does on the original file. The header comes from
 * metadata-bin 0, where servers carry small top-level boxes verbatim.
 */
#ifndef JPIP_CLIENT_JP2_WRAP_H
#define JPIP_CLIENT_JP2_WRAP_H

#include "common/buf.h"

/* Find the complete jp2h box among the top-level boxes in meta0[0..len) (metadata-bin 0).
 * Returns 1 and sets *box and *box_len (the whole box, header included) when found, else 0. */
int jpip__jp2_find_header(const uint8_t *meta0, size_t len, const uint8_t **box, size_t *box_len);

/* Append to out: signature, ftyp 'jp2 ', the jp2h box (ihdr's height and width set to the
 * codestream's image size, which differs when levels were left out), and a jp2c box holding
 * cs[0..cs_len). */
int jpip__jp2_wrap(struct jpip__buf *out, const uint8_t *jp2h, size_t jp2h_len, const uint8_t *cs,
                   size_t cs_len);

#endif
