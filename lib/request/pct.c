/* SPDX-License-Identifier: BSD-2-Clause */
/* Percent-decoding and -encoding of request values; see pct.h for the '+' rule. */
#include "request/pct.h"

#include <string.h>

#include "common/status.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int jpip__pct_decode(const char *in, size_t len, char *out, size_t *out_len, size_t *bad_pos)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] != '%') {
            out[o++] = in[i];
            continue;
        }
        const int hi = i + 1 < len ? hex_value(in[i + 1]) : -1;
        const int lo = i + 2 < len ? hex_value(in[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            *bad_pos = i;
            return JPIP_EMALFORMED;
        }
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    *out_len = o;
    return JPIP_OK;
}

int jpip__pct_has_escape(const char *in, size_t len)
{
    return len > 0 && memchr(in, '%', len) != NULL;
}

size_t jpip__pct_raw_offset(const char *enc, size_t len, size_t dec_pos)
{
    size_t i = 0;
    for (size_t d = 0; d < dec_pos && i < len; d++)
        i += enc[i] == '%' && len - i >= 3 ? 3 : 1;
    return i < len ? i : len;
}

static int is_plain(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("-._~,:*!/", c) != NULL;
}

int jpip__pct_encode_append(struct jpip__buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0; /* start of the current run of plain bytes */
    for (size_t i = 0; i < len; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (is_plain(c))
            continue;
        JPIP_TRY(jpip__buf_append(b, s + run, i - run));
        const char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
        JPIP_TRY(jpip__buf_append(b, esc, 3));
        run = i + 1;
    }
    return jpip__buf_append(b, s + run, len - run);
}
