/* SPDX-License-Identifier: BSD-2-Clause */
/* JPP/JPT-stream message header and EOR coding (15444-9 Annex A). */
#include "stream/message.h"

#include <string.h>

#include "stream/vbas.h"

#define LIMIT JPIP__MSG_VALUE_LIMIT

void jpip__msg_enc_reset(struct jpip__msg_enc *e)
{
    e->have_prev = 0;
    e->prev_cls = 0;
    e->prev_cs = 0;
}

void jpip__msg_dec_reset(struct jpip__msg_dec *d)
{
    d->have_prev = 0;
    d->prev_cls = 0;
    d->prev_cs = 0;
}

/* ---- Encoding ---------------------------------------------------------------------------- */

/* Appends the minimal VBAS of v at *pos; tmp is JPIP__MSG_HEADER_MAX bytes, enough for any
 * header whose values are below LIMIT, so this cannot fail. */
static void put_vbas(uint8_t *tmp, size_t *pos, uint64_t v)
{
    size_t n = 0;
    (void)jpip__vbas_encode(tmp + *pos, JPIP__MSG_HEADER_MAX - *pos, v, &n);
    *pos += n;
}

int jpip__msg_header_encode(struct jpip__msg_enc *e, const struct jpip__msg *m, uint8_t *dst,
                            size_t cap, size_t *n)
{
    const int odd = m->cls & 1;
    if (m->id >= LIMIT || m->cs >= LIMIT || m->off >= LIMIT || m->len >= LIMIT ||
        (odd && m->aux >= LIMIT))
        return JPIP_EINVAL;

    unsigned b = 3;
    if (e->have_prev && e->prev_cs == m->cs)
        b = e->prev_cls == m->cls ? 1 : 2;

    /* Bin-ID: the top 4 id bits share the first byte with b and c; then 7 bits per byte. */
    unsigned groups = 0;
    while (groups < 8 && (m->id >> (4 + 7 * groups)) != 0)
        groups++;
    uint8_t tmp[JPIP__MSG_HEADER_MAX];
    size_t pos = 0;
    tmp[pos++] = (uint8_t)((groups ? 0x80u : 0u) | (b << 5) | (m->last ? 0x10u : 0u) |
                           ((m->id >> (7 * groups)) & 0x0Fu));
    for (unsigned j = groups; j-- > 0;)
        tmp[pos++] = (uint8_t)((j ? 0x80u : 0u) | ((m->id >> (7 * j)) & 0x7Fu));
    if (b >= 2)
        put_vbas(tmp, &pos, m->cls);
    if (b == 3)
        put_vbas(tmp, &pos, m->cs);
    put_vbas(tmp, &pos, m->off);
    put_vbas(tmp, &pos, m->len);
    if (odd)
        put_vbas(tmp, &pos, m->aux);

    if (pos > cap)
        return JPIP_ELIMIT;
    memcpy(dst, tmp, pos);
    *n = pos;
    e->have_prev = 1;
    e->prev_cls = m->cls;
    e->prev_cs = m->cs;
    return JPIP_OK;
}

int jpip__eor_encode(uint8_t reason, uint8_t *dst, size_t cap, size_t *n)
{
    if (cap < JPIP__EOR_LEN)
        return JPIP_ELIMIT;
    dst[0] = 0x00;
    dst[1] = reason;
    dst[2] = 0x00;
    *n = JPIP__EOR_LEN;
    return JPIP_OK;
}

/* ---- Decoding ---------------------------------------------------------------------------- */

/* A bounded cursor over one header; base is the stream offset of p[0]. */
struct cur {
    const uint8_t *p;
    size_t len;
    size_t pos;
    uint64_t base;
    struct jpip__err *err;
};

/* Reads one VBAS field below LIMIT. */
static int field(struct cur *c, const char *name, uint64_t *v)
{
    const uint64_t at = c->base + c->pos;
    size_t n = 0;
    const int rc = jpip__vbas_decode(c->p + c->pos, c->len - c->pos, v, &n);
    if (rc == JPIP_AGAIN)
        return rc;
    JPIP_FAIL_IF(rc < 0, c->err, JPIP_EMALFORMED,
                 "%s VBAS at offset %llu is longer than %d bytes or overflows 64 bits", name,
                 (unsigned long long)at, JPIP__VBAS_MAX_LEN);
    JPIP_FAIL_IF(*v >= LIMIT, c->err, JPIP_EMALFORMED, "%s at offset %llu is %llu, not below 2^53",
                 name, (unsigned long long)at, (unsigned long long)*v);
    c->pos += n;
    return JPIP_OK;
}

static int decode_eor(struct cur *c, struct jpip__msg *m, uint8_t *eor_reason)
{
    if (c->len < 2)
        return JPIP_AGAIN;
    c->pos = 2;
    uint64_t body = 0;
    const int rc = field(c, "EOR body length", &body);
    if (rc != JPIP_OK)
        return rc;
    memset(m, 0, sizeof *m);
    m->len = body;
    *eor_reason = c->p[1];
    return JPIP_OK;
}

/* Bin-ID: b and c from the first byte, then the in-class id (4 + 7k bits). */
static int decode_bin_id(struct cur *c, const struct jpip__msg_dec *st, unsigned *b,
                         struct jpip__msg *m)
{
    const uint8_t b0 = c->p[0];
    *b = (b0 >> 5) & 3u;
    JPIP_FAIL_IF(*b == 0, c->err, JPIP_EMALFORMED,
                 "message at offset %llu starts with 0x%02x: class/codestream indicator 0 is "
                 "reserved (only an EOR, byte 0x00, may use it)",
                 (unsigned long long)c->base, b0);
    JPIP_FAIL_IF(*b != 3 && !st->have_prev, c->err, JPIP_EPROTOCOL,
                 "message at offset %llu inherits its %s but is the first message",
                 (unsigned long long)c->base, *b == 1 ? "class and codestream" : "codestream");
    m->last = (b0 >> 4) & 1;
    uint64_t id = b0 & 0x0Fu;
    int more = b0 & 0x80;
    c->pos = 1;
    while (more) {
        if (c->pos == c->len)
            return JPIP_AGAIN;
        const uint8_t x = c->p[c->pos++];
        id = (id << 7) | (x & 0x7Fu);
        more = x & 0x80;
        JPIP_FAIL_IF(id >= LIMIT, c->err, JPIP_EMALFORMED,
                     "in-class id of the message at offset %llu is not below 2^53",
                     (unsigned long long)c->base);
        JPIP_FAIL_IF(more && c->pos == JPIP__VBAS_MAX_LEN, c->err, JPIP_EMALFORMED,
                     "Bin-ID VBAS at offset %llu is longer than %d bytes",
                     (unsigned long long)c->base, JPIP__VBAS_MAX_LEN);
    }
    m->id = id;
    return JPIP_OK;
}

static int decode_msg(struct cur *c, struct jpip__msg_dec *st, struct jpip__msg *out)
{
    struct jpip__msg m;
    memset(&m, 0, sizeof m);
    unsigned b = 0;
    int rc = decode_bin_id(c, st, &b, &m);
    if (rc != JPIP_OK)
        return rc;

    m.cls = st->prev_cls;
    m.cs = st->prev_cs;
    if (b >= 2) {
        const uint64_t at = c->base + c->pos;
        uint64_t cls = 0;
        rc = field(c, "Class", &cls);
        if (rc != JPIP_OK)
            return rc;
        JPIP_FAIL_IF(cls > 255, c->err, JPIP_EMALFORMED,
                     "Class at offset %llu is %llu, not a data-bin class", (unsigned long long)at,
                     (unsigned long long)cls);
        m.cls = (uint8_t)cls;
    }
    if (b == 3) {
        rc = field(c, "CSn", &m.cs);
        if (rc != JPIP_OK)
            return rc;
    }
    rc = field(c, "Msg-Offset", &m.off);
    if (rc != JPIP_OK)
        return rc;
    rc = field(c, "Msg-Length", &m.len);
    if (rc != JPIP_OK)
        return rc;
    m.has_aux = m.cls & 1;
    if (m.has_aux) {
        rc = field(c, "Aux", &m.aux);
        if (rc != JPIP_OK)
            return rc;
    }
    st->have_prev = 1;
    st->prev_cls = m.cls;
    st->prev_cs = m.cs;
    *out = m;
    return JPIP_OK;
}

int jpip__msg_header_decode(struct jpip__msg_dec *st, const uint8_t *p, size_t len, uint64_t base,
                            struct jpip__msg *m, size_t *hdr_len, int *is_eor, uint8_t *eor_reason,
                            struct jpip__err *err)
{
    if (len == 0)
        return JPIP_AGAIN;
    struct cur c = {p, len, 0, base, err};
    const int eor = p[0] == 0x00;
    const int rc = eor ? decode_eor(&c, m, eor_reason) : decode_msg(&c, st, m);
    if (rc != JPIP_OK)
        return rc;
    *is_eor = eor;
    *hdr_len = c.pos;
    return JPIP_OK;
}
