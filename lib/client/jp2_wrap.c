/* SPDX-License-Identifier: BSD-2-Clause */
/* Wrapping a rebuilt codestream as a JP2 file (see jp2_wrap.h). */
#include "client/jp2_wrap.h"

#include <string.h>

#include "common/bytes.h"
#include "common/status.h"

/* One box at p of the len bytes left: its header size and total size (0 when it does not fit
 * or is malformed; a box "to the end" takes what is left). */
static int box_at(const uint8_t *p, size_t len, size_t *hdr, size_t *total)
{
    if (len < 8)
        return 0;
    uint64_t lbox = jpip__be32(p);
    *hdr = 8;
    if (lbox == 1) {
        if (len < 16)
            return 0;
        lbox = jpip__be64(p + 8);
        *hdr = 16;
    } else if (lbox == 0) {
        lbox = len;
    }
    if (lbox < *hdr || lbox > len)
        return 0;
    *total = (size_t)lbox;
    return 1;
}

int jpip__jp2_find_header(const uint8_t *meta0, size_t len, const uint8_t **box, size_t *box_len)
{
    size_t p = 0, hdr, total;
    while (p < len && box_at(meta0 + p, len - p, &hdr, &total)) {
        if (memcmp(meta0 + p + 4, "jp2h", 4) == 0) {
            *box = meta0 + p;
            *box_len = total;
            return 1;
        }
        p += total;
    }
    return 0;
}

/* The image size from the codestream's SIZ: Xsiz - XOsiz, Ysiz - YOsiz. */
static int cs_size(const uint8_t *cs, size_t len, uint32_t *w, uint32_t *h)
{
    if (len < 4 + 38 || jpip__be16(cs) != 0xFF4F || jpip__be16(cs + 2) != 0xFF51)
        return 0;
    const uint8_t *s = cs + 2;
    uint32_t x = jpip__be32(s + 6), y = jpip__be32(s + 10);
    uint32_t xo = jpip__be32(s + 14), yo = jpip__be32(s + 18);
    if (x <= xo || y <= yo)
        return 0;
    *w = x - xo;
    *h = y - yo;
    return 1;
}

int jpip__jp2_wrap(struct jpip__buf *out, const uint8_t *jp2h, size_t jp2h_len, const uint8_t *cs,
                   size_t cs_len)
{
    static const uint8_t head[] = {0,    0,   0, 12, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87,
                                   0x0A, 0,   0, 0,  20,  'f', 't', 'y', 'p',  'j',  'p',
                                   '2',  ' ', 0, 0,  0,   0,   'j', 'p', '2',  ' '};
    JPIP_TRY(jpip__buf_append(out, head, sizeof head));
    size_t at = out->len;
    JPIP_TRY(jpip__buf_append(out, jp2h, jp2h_len));
    /* ihdr (the first box inside jp2h): height and width follow its 8-byte header. */
    size_t hdr, total, sub_hdr, sub_total;
    uint32_t w, h;
    if (box_at(out->data + at, jp2h_len, &hdr, &total) &&
        box_at(out->data + at + hdr, total - hdr, &sub_hdr, &sub_total) && sub_total >= 16 &&
        memcmp(out->data + at + hdr + 4, "ihdr", 4) == 0 && cs_size(cs, cs_len, &w, &h)) {
        jpip__put_be32(out->data + at + hdr + sub_hdr, h);
        jpip__put_be32(out->data + at + hdr + sub_hdr + 4, w);
    }
    if (cs_len > UINT32_MAX - 8) {
        uint8_t b[16] = {0, 0, 0, 1, 'j', 'p', '2', 'c'};
        uint64_t l = (uint64_t)cs_len + 16;
        for (int i = 0; i < 8; i++)
            b[8 + i] = (uint8_t)(l >> (56 - 8 * i));
        JPIP_TRY(jpip__buf_append(out, b, sizeof b));
    } else {
        uint8_t b[8] = {0, 0, 0, 0, 'j', 'p', '2', 'c'};
        jpip__put_be32(b, (uint32_t)(cs_len + 8));
        JPIP_TRY(jpip__buf_append(out, b, sizeof b));
    }
    return jpip__buf_append(out, cs, cs_len);
}
