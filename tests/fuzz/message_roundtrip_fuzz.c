/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Round-trip harness for lib/stream/message.c, vbas.c and stream_reader.c. The input drives a
 * small data producer that builds a sequence of data-bin messages (any class 0..255, ids,
 * codestreams, offsets and Aux up to 2^53 - 1, bodies up to 63 bytes), with encoder resets
 * (new responses) in between and an optional final EOR. It checks that the encoder picks
 * b = 1 / 2 / 3 exactly from the previous message, writes minimal VBAS (the predicted length),
 * refuses values >= 2^53 and too-small buffers without side effects; that the decoder returns
 * every message unchanged, needs more input on every strict prefix of a header without
 * changing its state; and that the stream reader, fed the encoded stream in three pieces,
 * delivers the same messages. It also round-trips raw VBAS values, minimal and padded with
 * leading zero groups.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream_reader.h"
#include "stream/vbas.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

#define MAX_MSGS 64
#define MAX_BODY 63

/* Takes bytes from the front of the input; zeros once it is used up. */
struct producer {
    const uint8_t *p;
    size_t len;
};

static uint8_t u8(struct producer *d)
{
    if (d->len == 0)
        return 0;
    d->len--;
    return *d->p++;
}

static uint64_t u64(struct producer *d)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | u8(d);
    return v;
}

/* A value of varied magnitude below 2^53 (or, when wild, any 64-bit value). */
static uint64_t value(struct producer *d, int wild)
{
    const uint8_t mode = u8(d);
    switch (mode & 3) {
    case 0: return mode >> 2;
    case 1: return u8(d) | ((uint64_t)u8(d) << 8);
    case 2: { /* any bit length */
        const uint64_t v = u64(d) >> (mode >> 2);
        return wild ? v : v & (JPIP__MSG_VALUE_LIMIT - 1);
    }
    default: return wild ? u64(d) : u64(d) % JPIP__MSG_VALUE_LIMIT;
    }
}

static size_t predicted_len(const struct jpip__msg *m, unsigned b)
{
    size_t n = 1;
    while (n < 8 && (m->id >> (4 + 7 * (n - 1))) != 0)
        n++;
    if (b >= 2)
        n += jpip__vbas_len(m->cls);
    if (b == 3)
        n += jpip__vbas_len(m->cs);
    n += jpip__vbas_len(m->off) + jpip__vbas_len(m->len);
    if (m->cls & 1)
        n += jpip__vbas_len(m->aux);
    return n;
}

static int same_msg(const struct jpip__msg *a, const struct jpip__msg *b)
{
    return a->cls == b->cls && a->cs == b->cs && a->id == b->id && a->off == b->off &&
           a->len == b->len && a->last == b->last && b->has_aux == (b->cls & 1) &&
           (!b->has_aux || a->aux == b->aux);
}

static int same_state(int have_prev, uint8_t prev_cls, uint64_t prev_cs,
                      const struct jpip__msg_enc *e)
{
    return have_prev == e->have_prev && prev_cls == e->prev_cls && prev_cs == e->prev_cs;
}

static void vbas_round_trips(struct producer *d)
{
    for (int i = 0; i < 4; i++) {
        const uint64_t v = value(d, 1);
        uint8_t buf[JPIP__VBAS_MAX_LEN + 4];
        size_t n = 0, m = 0;
        uint64_t back = 0;
        CHECK(jpip__vbas_encode(buf, sizeof buf, v, &n) == JPIP_OK && n == jpip__vbas_len(v));
        CHECK(n == 1 || buf[0] != 0x80); /* minimal */
        CHECK(jpip__vbas_decode(buf, n, &back, &m) == JPIP_OK && back == v && m == n);
        CHECK(n == 1 || jpip__vbas_encode(buf, n - 1, v, &m) == JPIP_ELIMIT);
        /* Pad with z leading zero groups: accepted while the total stays within 10 bytes. */
        const size_t z = u8(d) % 4;
        memmove(buf + z, buf, n);
        memset(buf, 0x80, z);
        const int rc = jpip__vbas_decode(buf, n + z, &back, &m);
        if (n + z <= JPIP__VBAS_MAX_LEN)
            CHECK(rc == JPIP_OK && back == v && m == n + z);
        else
            CHECK(rc == JPIP_EMALFORMED);
    }
}

struct collect {
    const struct jpip__msg *want;
    const uint8_t *const *bodies;
    size_t n, next;
    int eor_reason;
};

static int on_msg(void *u, const struct jpip__msg *m, const uint8_t *body)
{
    struct collect *c = u;
    CHECK(c->next < c->n && same_msg(&c->want[c->next], m));
    CHECK(memcmp(body, c->bodies[c->next], (size_t)m->len) == 0);
    c->next++;
    return JPIP_OK;
}

static int on_eor(void *u, uint8_t reason, const uint8_t *body, size_t len)
{
    struct collect *c = u;
    (void)body;
    CHECK(len == 0 && c->eor_reason < 0);
    c->eor_reason = reason;
    return JPIP_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct producer d = {data, size};
    vbas_round_trips(&d);

    static struct jpip__msg msgs[MAX_MSGS];
    static const uint8_t *bodies[MAX_MSGS];
    static uint8_t stream[MAX_MSGS * (JPIP__MSG_HEADER_MAX + MAX_BODY) + JPIP__EOR_LEN];
    static size_t hdr_at[MAX_MSGS], hdr_len[MAX_MSGS];
    static const uint8_t classes[] = {0, 1, 2, 4, 5, 6, 8};
    size_t len = 0, n = 0;
    struct jpip__msg_enc e;
    jpip__msg_enc_reset(&e);
    const size_t count = u8(&d) % (MAX_MSGS + 1);
    for (size_t i = 0; i < count; i++) {
        const uint8_t op = u8(&d);
        if ((op & 7) == 0)
            jpip__msg_enc_reset(&e); /* a new response; the decoder keeps its state */
        struct jpip__msg m;
        memset(&m, 0, sizeof m);
        const uint8_t sel = u8(&d);
        m.cls = sel < 224 ? classes[sel % sizeof classes] : u8(&d);
        m.cs = (op & 8) ? value(&d, 0) : (uint64_t)(op >> 6);
        m.id = value(&d, op == 0xFF);
        m.off = value(&d, op == 0xFE);
        m.len = u8(&d) % (MAX_BODY + 1);
        m.aux = value(&d, op == 0xFD);
        m.last = (op >> 4) & 1;
        m.has_aux = u8(&d) & 1; /* ignored by the encoder */

        const struct jpip__msg_enc before = e;
        uint8_t *dst = stream + len;
        size_t hn = 0;
        if (m.id >= JPIP__MSG_VALUE_LIMIT || m.off >= JPIP__MSG_VALUE_LIMIT ||
            ((m.cls & 1) && m.aux >= JPIP__MSG_VALUE_LIMIT)) {
            CHECK(jpip__msg_header_encode(&e, &m, dst, JPIP__MSG_HEADER_MAX, &hn) == JPIP_EINVAL);
            CHECK(same_state(before.have_prev, before.prev_cls, before.prev_cs, &e));
            continue;
        }
        unsigned b = 3;
        if (e.have_prev && e.prev_cs == m.cs)
            b = e.prev_cls == m.cls ? 1 : 2;
        const size_t want = predicted_len(&m, b);
        CHECK(want <= JPIP__MSG_HEADER_MAX);
        CHECK(jpip__msg_header_encode(&e, &m, dst, want - 1, &hn) == JPIP_ELIMIT);
        CHECK(same_state(before.have_prev, before.prev_cls, before.prev_cs, &e));
        CHECK(jpip__msg_header_encode(&e, &m, dst, JPIP__MSG_HEADER_MAX, &hn) == JPIP_OK);
        CHECK(hn == want && ((dst[0] >> 5) & 3u) == b && ((dst[0] >> 4) & 1) == m.last);
        hdr_at[n] = len;
        hdr_len[n] = hn;
        len += hn;
        for (size_t j = 0; j < m.len; j++)
            stream[len + j] = u8(&d);
        bodies[n] = stream + len;
        len += (size_t)m.len;
        m.has_aux = m.cls & 1;
        msgs[n++] = m;
    }
    int eor = -1;
    if (u8(&d) & 1) {
        eor = u8(&d);
        size_t en = 0;
        CHECK(jpip__eor_encode((uint8_t)eor, stream + len, JPIP__EOR_LEN, &en) == JPIP_OK);
        len += en;
    }

    /* Header by header, with every strict prefix. */
    struct jpip__msg_dec dec;
    jpip__msg_dec_reset(&dec);
    for (size_t i = 0; i < n; i++) {
        struct jpip__msg got;
        size_t hl = 0;
        int is_eor = -1;
        uint8_t reason = 0;
        const uint8_t *h = stream + hdr_at[i];
        for (size_t k = 0; k < hdr_len[i]; k++) {
            const struct jpip__msg_dec before = dec;
            CHECK(jpip__msg_header_decode(&dec, h, k, 0, &got, &hl, &is_eor, &reason, NULL) ==
                  JPIP_AGAIN);
            CHECK(before.have_prev == dec.have_prev && before.prev_cls == dec.prev_cls &&
                  before.prev_cs == dec.prev_cs);
        }
        CHECK(jpip__msg_header_decode(&dec, h, hdr_len[i] + (size_t)msgs[i].len, hdr_at[i], &got,
                                      &hl, &is_eor, &reason, NULL) == JPIP_OK);
        CHECK(hl == hdr_len[i] && is_eor == 0 && same_msg(&msgs[i], &got));
    }

    /* The whole stream through the reader, in three pieces. */
    struct collect c = {msgs, bodies, n, 0, -1};
    struct jpip__stream_reader r;
    jpip__stream_reader_init(&r, NULL, 0, on_msg, on_eor, &c);
    const size_t a = len ? u8(&d) % (len + 1) : 0;
    const size_t b2 = a + (len - a ? u8(&d) % (len - a + 1) : 0);
    CHECK(jpip__stream_reader_feed(&r, stream, a) == JPIP_OK);
    CHECK(jpip__stream_reader_feed(&r, stream + a, b2 - a) == JPIP_OK);
    CHECK(jpip__stream_reader_feed(&r, stream + b2, len - b2) == JPIP_OK);
    CHECK(jpip__stream_reader_finish(&r) == JPIP_OK);
    CHECK(c.next == n && c.eor_reason == eor && r.eor_seen == (eor >= 0) && r.pos == len);
    jpip__stream_reader_free(&r);
    return 0;
}
