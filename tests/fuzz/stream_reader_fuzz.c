/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz harness for lib/stream/stream_reader.c (with message.c and vbas.c beneath it).
 *
 * Input layout: byte 0 = options (bits 0-1: body cap 64 MiB / 16 / 1000 / 65536 bytes; bit 2:
 * the decoder starts with a previous message of class byte 1 and codestream 0, as on a
 * channel; bit 3: the n-th callback fails, n = byte 1 % 8 + 1), byte 1 = parameter, byte 2 =
 * number of cut points k (% 32), then k 16-bit big-endian cut points, then the stream.
 *
 * It checks that the reader never crashes or reads outside the bytes it is given, that every
 * delivered message has bounded fields and a readable body, and that feeding the stream
 * whole, cut at the given points, and one byte at a time all give the same callbacks, the same
 * final status and the same error message. Without a failing callback it also checks the
 * reader against a plain loop over jpip__msg_header_decode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream_reader.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

/* What a run saw: a digest of every callback, their count, and how it ended. */
struct trace {
    uint64_t digest;
    unsigned calls;
    unsigned fail_at;
    int rc;
    uint64_t pos;
    int eor_seen;
    uint8_t eor_reason;
    char msg[JPIP_ERRMSG_MAX];
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        h = (h ^ ((v >> (8 * i)) & 0xFF)) * 0x100000001b3u;
    return h;
}

static uint64_t mix_bytes(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

static void note_msg(struct trace *t, const struct jpip__msg *m, const uint8_t *body)
{
    CHECK(m->id < JPIP__MSG_VALUE_LIMIT && m->cs < JPIP__MSG_VALUE_LIMIT);
    CHECK(m->off < JPIP__MSG_VALUE_LIMIT && m->len < JPIP__MSG_VALUE_LIMIT);
    CHECK(m->has_aux == (m->cls & 1) && (!m->has_aux || m->aux < JPIP__MSG_VALUE_LIMIT));
    CHECK(m->last == 0 || m->last == 1);
    uint64_t h = mix(t->digest, 'M');
    h = mix(h, m->cls);
    h = mix(h, m->cs);
    h = mix(h, m->id);
    h = mix(h, m->off);
    h = mix(h, m->len);
    h = mix(h, m->has_aux ? m->aux : 0);
    h = mix(h, (uint64_t)m->last);
    t->digest = mix_bytes(h, body, (size_t)m->len);
}

static void note_eor(struct trace *t, uint8_t reason, const uint8_t *body, size_t len)
{
    uint64_t h = mix(t->digest, 'E');
    h = mix(h, reason);
    h = mix(h, len);
    t->digest = mix_bytes(h, body, len);
}

static int on_msg(void *u, const struct jpip__msg *m, const uint8_t *body)
{
    struct trace *t = u;
    if (++t->calls == t->fail_at)
        return JPIP_EUNSUPPORTED;
    note_msg(t, m, body);
    return JPIP_OK;
}

static int on_eor(void *u, uint8_t reason, const uint8_t *body, size_t len)
{
    struct trace *t = u;
    if (++t->calls == t->fail_at)
        return JPIP_EUNSUPPORTED;
    note_eor(t, reason, body, len);
    return JPIP_OK;
}

struct opts {
    size_t max_body;
    int preset;
    uint8_t preset_cls;
    unsigned fail_at;
};

/* Feeds p in pieces ending at cuts[0..n) (sorted, each <= len) and then at len; step = 1
 * feeds one byte at a time instead. Each piece is a heap copy of exactly its size so that ASan
 * catches a read past it. */
static void run(struct trace *t, const struct opts *o, const uint8_t *p, size_t len,
                const size_t *cuts, unsigned n, int step)
{
    memset(t, 0, sizeof *t);
    t->fail_at = o->fail_at;
    struct jpip__stream_reader r;
    jpip__stream_reader_init(&r, NULL, o->max_body, on_msg, on_eor, t);
    if (o->preset) {
        r.dec.have_prev = 1;
        r.dec.prev_cls = o->preset_cls;
    }
    int rc = JPIP_OK;
    size_t at = 0;
    for (unsigned i = 0; rc == JPIP_OK && at < len; i++) {
        size_t end = step ? at + 1 : (i < n ? cuts[i] : len);
        if (end < at)
            end = at;
        uint8_t *piece = malloc(end - at ? end - at : 1);
        CHECK(piece != NULL);
        memcpy(piece, p + at, end - at);
        rc = jpip__stream_reader_feed(&r, piece, end - at);
        free(piece);
        at = end;
    }
    if (rc == JPIP_OK)
        rc = jpip__stream_reader_finish(&r);
    CHECK(rc == JPIP_OK || rc == JPIP_EMALFORMED || rc == JPIP_EPROTOCOL || rc == JPIP_ELIMIT ||
          rc == JPIP_EUNSUPPORTED);
    CHECK(rc == JPIP_OK || r.err.msg[0] != '\0');
    CHECK(r.pos <= len);
    t->rc = rc;
    t->pos = r.pos;
    t->eor_seen = r.eor_seen;
    t->eor_reason = r.eor_reason;
    memcpy(t->msg, r.err.msg, sizeof t->msg);
    jpip__stream_reader_free(&r);
}

/* The same stream walked with the header decoder alone. */
static void reference(struct trace *t, const struct opts *o, const uint8_t *p, size_t len)
{
    memset(t, 0, sizeof *t);
    struct jpip__msg_dec d;
    jpip__msg_dec_reset(&d);
    if (o->preset) {
        d.have_prev = 1;
        d.prev_cls = o->preset_cls;
    }
    const size_t max_body = o->max_body ? o->max_body : JPIP__STREAM_MAX_BODY_DEFAULT;
    size_t pos = 0;
    int rc = JPIP_OK;
    while (pos < len) {
        if (t->eor_seen) {
            rc = JPIP_EPROTOCOL;
            break;
        }
        struct jpip__msg m;
        size_t hl = 0;
        int eor = 0;
        uint8_t reason = 0;
        rc = jpip__msg_header_decode(&d, p + pos, len - pos, pos, &m, &hl, &eor, &reason, NULL);
        if (rc == JPIP_AGAIN) {
            CHECK(len - pos < JPIP__MSG_HEADER_MAX_IN);
            rc = JPIP_EPROTOCOL;
        }
        if (rc != JPIP_OK)
            break;
        CHECK(hl >= 1 && hl <= JPIP__MSG_HEADER_MAX_IN && (!eor || hl <= 12));
        if (m.len > max_body) {
            rc = JPIP_ELIMIT;
            break;
        }
        if (m.len > len - pos - hl) {
            rc = JPIP_EPROTOCOL;
            break;
        }
        if (eor) {
            t->eor_seen = 1;
            t->eor_reason = reason;
            note_eor(t, reason, p + pos + hl, (size_t)m.len);
        } else {
            note_msg(t, &m, p + pos + hl);
        }
        t->calls++;
        pos += hl + (size_t)m.len;
    }
    t->rc = rc;
}

static void same(const struct trace *a, const struct trace *b)
{
    CHECK(a->digest == b->digest && a->calls == b->calls && a->rc == b->rc);
    CHECK(a->pos == b->pos && a->eor_seen == b->eor_seen && a->eor_reason == b->eor_reason);
    CHECK(strcmp(a->msg, b->msg) == 0);
}

static int cmp_size(const void *a, const void *b)
{
    const size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    static const size_t caps[4] = {0, 16, 1000, 65536};
    struct opts o;
    o.max_body = caps[data[0] & 3];
    o.preset = (data[0] >> 2) & 1;
    o.preset_cls = data[1];
    o.fail_at = (data[0] & 8) ? (unsigned)(data[1] % 8) + 1 : 0;
    unsigned k = data[2] % 32;
    size_t head = 3 + 2 * (size_t)k;
    if (head > size) {
        k = (unsigned)((size - 3) / 2);
        head = 3 + 2 * (size_t)k;
    }
    const uint8_t *p = data + head;
    const size_t len = size - head;
    size_t cuts[32];
    for (unsigned i = 0; i < k; i++)
        cuts[i] = (((size_t)data[3 + 2 * i] << 8) | data[4 + 2 * i]) % (len + 1);
    qsort(cuts, k, sizeof cuts[0], cmp_size);

    static struct trace whole, split, bytes, ref;
    run(&whole, &o, p, len, NULL, 0, 0);
    run(&split, &o, p, len, cuts, k, 0);
    same(&whole, &split);
    if (len <= 4096) {
        run(&bytes, &o, p, len, NULL, 0, 1);
        same(&whole, &bytes);
    }
    if (!o.fail_at) {
        reference(&ref, &o, p, len);
        CHECK(ref.digest == whole.digest && ref.calls == whole.calls && ref.rc == whole.rc);
        CHECK(ref.eor_seen == whole.eor_seen && ref.eor_reason == whole.eor_reason);
    }
    return 0;
}
