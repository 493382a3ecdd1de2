/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for lib/stream/stream_reader.c: any chunking of a stream yields the same messages,
 * prefixes, zero-copy delivery, limits, EOR handling, and errors with their offsets. */
#include "stream/stream_reader.h"

#include "test.h"

/* ---- A stream builder that also writes the log the reader should produce ------------------ */

struct builder {
    uint8_t data[16384];
    size_t len;
    char log[16384];
    size_t log_len;
    size_t bounds[256]; /* offsets where a message ends (and the next starts) */
    int nbounds;
    struct jpip__msg_enc enc;
};

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

static void log_msg(char *log, size_t *len, size_t cap, const struct jpip__msg *m,
                    const uint8_t *body)
{
    const int n = snprintf(
        log + *len, cap - *len, "M c%u s%llu i%llu o%llu l%llu a%llu/%d L%d h%016llx\n", m->cls,
        (unsigned long long)m->cs, (unsigned long long)m->id, (unsigned long long)m->off,
        (unsigned long long)m->len, (unsigned long long)(m->has_aux ? m->aux : 0), m->has_aux,
        m->last, (unsigned long long)fnv(body, (size_t)m->len));
    if (n > 0 && (size_t)n < cap - *len)
        *len += (size_t)n;
}

static void log_eor(char *log, size_t *len, size_t cap, uint8_t reason, const uint8_t *body,
                    size_t blen)
{
    const int n = snprintf(log + *len, cap - *len, "E r%u l%zu h%016llx\n", reason, blen,
                           (unsigned long long)fnv(body, blen));
    if (n > 0 && (size_t)n < cap - *len)
        *len += (size_t)n;
}

static void b_init(struct builder *b)
{
    memset(b, 0, sizeof *b);
    jpip__msg_enc_reset(&b->enc);
}

static void b_msg(struct builder *b, uint8_t cls, uint64_t cs, uint64_t id, uint64_t off,
                  uint64_t len, int last, uint64_t aux)
{
    struct jpip__msg m = {cls, cs, id, off, len, aux, cls & 1, last};
    size_t n = 0;
    if (jpip__msg_header_encode(&b->enc, &m, b->data + b->len, sizeof b->data - b->len, &n))
        abort();
    b->len += n;
    uint8_t *body = b->data + b->len;
    for (uint64_t i = 0; i < len; i++)
        body[i] = (uint8_t)(id * 31 + off + i * 7);
    b->len += (size_t)len;
    log_msg(b->log, &b->log_len, sizeof b->log, &m, body);
    b->bounds[b->nbounds++] = b->len;
}

static void b_eor(struct builder *b, uint8_t reason)
{
    size_t n = 0;
    if (jpip__eor_encode(reason, b->data + b->len, sizeof b->data - b->len, &n))
        abort();
    b->len += n;
    log_eor(b->log, &b->log_len, sizeof b->log, reason, NULL, 0);
    b->bounds[b->nbounds++] = b->len;
}

/* A typical response: metadata, main header, tile headers, precincts of two codestreams,
 * extended precincts, a 2000-byte precinct, zero-length bins, then EOR window done. */
static void b_typical(struct builder *b)
{
    b_init(b);
    b_msg(b, JPIP__CLASS_METADATA, 0, 0, 0, 12, 1, 0);
    b_msg(b, JPIP__CLASS_MAIN_HEADER, 0, 0, 0, 300, 1, 0);
    b_msg(b, JPIP__CLASS_TILE_HEADER, 0, 0, 0, 0, 1, 0);
    b_msg(b, JPIP__CLASS_TILE_HEADER, 0, 1, 0, 14, 1, 0);
    b_msg(b, JPIP__CLASS_PRECINCT, 0, 0, 0, 40, 0, 0);
    b_msg(b, JPIP__CLASS_PRECINCT, 0, 5, 120, 40, 0, 0);
    b_msg(b, JPIP__CLASS_PRECINCT, 0, 200, 0, 1, 1, 0);
    b_msg(b, JPIP__CLASS_PRECINCT, 3, 70000, 99999, 2000, 0, 0);
    b_msg(b, JPIP__CLASS_PRECINCT_EXT, 3, 2, 0, 25, 0, 2);
    b_msg(b, JPIP__CLASS_PRECINCT_EXT, 3, 2, 25, 30, 1, 5);
    b_msg(b, JPIP__CLASS_TILE_EXT, 3, 1, 0, 3, 0, 1);
    b_msg(b, 7, 3, 1, 0, 2, 0, 9); /* unknown class: decoded, Aux because odd */
    b_msg(b, JPIP__CLASS_METADATA, 0, 1, 0, 0, 1, 0);
    b_eor(b, JPIP__EOR_WINDOW_DONE);
}

/* ---- A reader that logs what it receives --------------------------------------------------- */

struct sink {
    char log[16384];
    size_t log_len;
    const uint8_t *lo, *hi; /* the caller's stream, to count zero-copy deliveries */
    int in_place;
    int copied;
    int fail_at; /* return JPIP_ENOMEM from the n-th callback (1-based), 0 = never */
    int calls;
};

static int on_msg(void *u, const struct jpip__msg *m, const uint8_t *body)
{
    struct sink *s = u;
    if (++s->calls == s->fail_at)
        return JPIP_ENOMEM;
    if (m->len) {
        if (body >= s->lo && body < s->hi)
            s->in_place++;
        else
            s->copied++;
    }
    log_msg(s->log, &s->log_len, sizeof s->log, m, body);
    return JPIP_OK;
}

static int on_eor(void *u, uint8_t reason, const uint8_t *body, size_t len)
{
    struct sink *s = u;
    if (++s->calls == s->fail_at)
        return JPIP_ENOMEM;
    log_eor(s->log, &s->log_len, sizeof s->log, reason, body, len);
    return JPIP_OK;
}

/* Feeds data cut at the sorted positions cuts[0..ncuts), then finishes; returns the first
 * failure or the result of finish. */
static int run(struct jpip__stream_reader *r, struct sink *s, const uint8_t *data, size_t len,
               const size_t *cuts, int ncuts)
{
    s->lo = data;
    s->hi = data + len;
    size_t at = 0;
    for (int i = 0; i <= ncuts; i++) {
        const size_t end = i < ncuts ? cuts[i] : len;
        const int rc = jpip__stream_reader_feed(r, data + at, end - at);
        if (rc != JPIP_OK)
            return rc;
        at = end;
    }
    return jpip__stream_reader_finish(r);
}

static int run_fresh(struct sink *s, const uint8_t *data, size_t len, const size_t *cuts, int ncuts,
                     size_t max_body, char *errmsg, size_t errcap)
{
    struct jpip__stream_reader r;
    memset(s, 0, sizeof *s);
    jpip__stream_reader_init(&r, NULL, max_body, on_msg, on_eor, s);
    const int rc = run(&r, s, data, len, cuts, ncuts);
    if (errmsg)
        snprintf(errmsg, errcap, "%s", r.err.msg);
    jpip__stream_reader_free(&r);
    return rc;
}

TEST(whole_stream)
{
    static struct builder b;
    b_typical(&b);
    struct sink s;
    struct jpip__stream_reader r;
    memset(&s, 0, sizeof s);
    jpip__stream_reader_init(&r, NULL, 0, on_msg, on_eor, &s);
    ASSERT_OK(run(&r, &s, b.data, b.len, NULL, 0));
    ASSERT_STR_EQ(s.log, b.log);
    ASSERT_EQ_INT(r.eor_seen, 1);
    ASSERT_EQ_INT(r.eor_reason, JPIP__EOR_WINDOW_DONE);
    ASSERT_EQ_U64(r.pos, b.len);
    ASSERT_EQ_INT(s.copied, 0); /* everything delivered from the caller's bytes */
    ASSERT_EQ_INT(s.in_place, 11);
    ASSERT_TRUE(r.pend.data == NULL); /* nothing was ever buffered */
    jpip__stream_reader_free(&r);
}

TEST(every_two_way_split)
{
    static struct builder b;
    b_typical(&b);
    for (size_t k = 0; k <= b.len; k++) {
        struct sink s;
        ASSERT_OK(run_fresh(&s, b.data, b.len, &k, 1, 0, NULL, 0));
        ASSERT_STR_EQ(s.log, b.log);
    }
}

TEST(random_multi_splits)
{
    static struct builder b;
    b_typical(&b);
    uint64_t x = 12345;
    for (int iter = 0; iter < 1000; iter++) {
        size_t cuts[64];
        int n = 0;
        size_t at = 0;
        x = x * 6364136223846793005u + 1442695040888963407u;
        const unsigned span = (unsigned)(x >> 60) + 1; /* mean cut distance, varied */
        while (n < 64) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            at += (size_t)((x >> 33) % (span * span * 8 + 1));
            if (at > b.len)
                break;
            cuts[n++] = at;
        }
        struct sink s;
        ASSERT_OK(run_fresh(&s, b.data, b.len, cuts, n, 0, NULL, 0));
        ASSERT_STR_EQ(s.log, b.log);
    }
}

TEST(byte_at_a_time)
{
    static struct builder b;
    b_typical(&b);
    struct sink s;
    struct jpip__stream_reader r;
    memset(&s, 0, sizeof s);
    jpip__stream_reader_init(&r, NULL, 0, on_msg, on_eor, &s);
    for (size_t i = 0; i < b.len; i++)
        ASSERT_OK(jpip__stream_reader_feed(&r, b.data + i, 1));
    ASSERT_OK(jpip__stream_reader_finish(&r));
    ASSERT_STR_EQ(s.log, b.log);
    ASSERT_EQ_INT(s.in_place, 0);
    ASSERT_EQ_INT(s.copied, 11);
    jpip__stream_reader_free(&r);
}

TEST(every_prefix)
{
    static struct builder b;
    b_typical(&b);
    int next_bound = 0;
    size_t last_bound = 0;
    for (size_t k = 0; k <= b.len; k++) {
        struct sink s;
        char msg[JPIP_ERRMSG_MAX];
        const int rc = run_fresh(&s, b.data, k, NULL, 0, 0, msg, sizeof msg);
        const int at_bound = k == 0 || (next_bound < b.nbounds && k == b.bounds[next_bound]);
        if (at_bound && k != 0) {
            last_bound = k;
            next_bound++;
        }
        /* What arrived so far is a prefix of the whole log. */
        ASSERT_TRUE(s.log_len <= b.log_len);
        ASSERT_MEM_EQ(s.log, b.log, s.log_len);
        if (at_bound) {
            ASSERT_OK(rc);
        } else {
            ASSERT_EQ_INT(rc, JPIP_EPROTOCOL);
            char want[64];
            snprintf(want, sizeof want, "at offset %zu", last_bound);
            ASSERT_STR_CONTAINS(msg, "the response ended inside");
            ASSERT_STR_CONTAINS(msg, want);
        }
    }
    ASSERT_EQ_INT(next_bound, b.nbounds);
}

TEST(no_eor)
{
    static struct builder b;
    b_init(&b);
    b_msg(&b, JPIP__CLASS_MAIN_HEADER, 0, 0, 0, 30, 1, 0);
    struct sink s;
    struct jpip__stream_reader r;
    memset(&s, 0, sizeof s);
    jpip__stream_reader_init(&r, NULL, 0, on_msg, on_eor, &s);
    ASSERT_OK(run(&r, &s, b.data, b.len, NULL, 0));
    ASSERT_EQ_INT(r.eor_seen, 0);
    ASSERT_STR_EQ(s.log, b.log);
    jpip__stream_reader_free(&r);
}

TEST(eor_with_body)
{
    static const uint8_t d[] = {0x00, 0xFF, 0x04, 'w', 'h', 'y', '?'};
    for (size_t k = 0; k <= sizeof d; k++) {
        struct sink s;
        ASSERT_OK(run_fresh(&s, d, sizeof d, &k, 1, 0, NULL, 0));
        char want[128];
        size_t n = 0;
        log_eor(want, &n, sizeof want, 0xFF, d + 3, 4);
        ASSERT_STR_EQ(s.log, want);
    }
}

TEST(garbage_errors_with_offsets)
{
    static struct builder b;
    b_typical(&b);
    /* At the very start. */
    static const uint8_t g[] = {0x05, 0x01, 0x02};
    struct sink s;
    char msg[JPIP_ERRMSG_MAX];
    ASSERT_EQ_INT(run_fresh(&s, g, sizeof g, NULL, 0, 0, msg, sizeof msg), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(msg, "offset 0 starts with 0x05");
    /* After the fourth message: b = 0 with a continuation bit; same error for every split. */
    static uint8_t d[sizeof b.data];
    const size_t at = b.bounds[3];
    memcpy(d, b.data, at);
    d[at] = 0x80;
    d[at + 1] = 0x01;
    char want[64];
    snprintf(want, sizeof want, "offset %zu starts with 0x80", at);
    for (size_t k = 0; k <= at + 2; k++) {
        ASSERT_EQ_INT(run_fresh(&s, d, at + 2, &k, 1, 0, msg, sizeof msg), JPIP_EMALFORMED);
        ASSERT_STR_CONTAINS(msg, want);
        ASSERT_EQ_INT(s.calls, 4);
    }
    /* An over-long Msg-Length inside the fifth message's header. */
    d[at] = 0x20; /* b = 1 */
    d[at + 1] = 0x00;
    memset(d + at + 2, 0xFF, 12);
    snprintf(want, sizeof want, "Msg-Length VBAS at offset %zu", at + 2);
    for (size_t k = 0; k <= at + 14; k++) {
        ASSERT_EQ_INT(run_fresh(&s, d, at + 14, &k, 1, 0, msg, sizeof msg), JPIP_EMALFORMED);
        ASSERT_STR_CONTAINS(msg, want);
    }
}

TEST(sticky_error)
{
    static const uint8_t g[] = {0x05, 0x01, 0x02};
    static const uint8_t ok[] = {0x70, 0x06, 0x00, 0x00, 0x00};
    struct sink s;
    memset(&s, 0, sizeof s);
    struct jpip__stream_reader r;
    jpip__stream_reader_init(&r, NULL, 0, on_msg, on_eor, &s);
    ASSERT_EQ_INT(jpip__stream_reader_feed(&r, g, sizeof g), JPIP_EMALFORMED);
    ASSERT_EQ_INT(jpip__stream_reader_feed(&r, ok, sizeof ok), JPIP_EMALFORMED);
    ASSERT_EQ_INT(jpip__stream_reader_finish(&r), JPIP_EMALFORMED);
    ASSERT_EQ_INT(s.calls, 0);
    jpip__stream_reader_reset(&r, 0);
    ASSERT_OK(jpip__stream_reader_feed(&r, ok, sizeof ok));
    ASSERT_OK(jpip__stream_reader_finish(&r));
    ASSERT_EQ_INT(s.calls, 1);
    jpip__stream_reader_free(&r);
}

TEST(inherit_first)
{
    static const uint8_t d[] = {0x25, 0x78, 0x28};
    struct sink s;
    char msg[JPIP_ERRMSG_MAX];
    ASSERT_EQ_INT(run_fresh(&s, d, sizeof d, NULL, 0, 0, msg, sizeof msg), JPIP_EPROTOCOL);
    ASSERT_STR_CONTAINS(msg, "message at offset 0 inherits its class and codestream");
}

TEST(body_limit)
{
    /* Msg-Length 2^40 against the default 64 MiB cap, whatever the split. */
    static const uint8_t huge[] = {0x60, 0x00, 0x00, 0x00, 0xA0, 0x80, 0x80, 0x80, 0x80, 0x00};
    struct sink s;
    char msg[JPIP_ERRMSG_MAX];
    for (size_t k = 0; k <= sizeof huge; k++) {
        ASSERT_EQ_INT(run_fresh(&s, huge, sizeof huge, &k, 1, 0, msg, sizeof msg), JPIP_ELIMIT);
        ASSERT_STR_CONTAINS(msg, "message at offset 0 has a 1099511627776-byte body");
    }
    /* A 16-byte cap: 16 passes, 17 does not, also for an EOR body. */
    static struct builder b;
    b_init(&b);
    b_msg(&b, JPIP__CLASS_PRECINCT, 0, 1, 0, 16, 0, 0);
    const size_t first = b.len;
    b_msg(&b, JPIP__CLASS_PRECINCT, 0, 1, 16, 17, 1, 0);
    size_t k = 20;
    ASSERT_EQ_INT(run_fresh(&s, b.data, b.len, &k, 1, 16, msg, sizeof msg), JPIP_ELIMIT);
    ASSERT_EQ_INT(s.calls, 1);
    char want[64];
    snprintf(want, sizeof want, "message at offset %zu has a 17-byte body", first);
    ASSERT_STR_CONTAINS(msg, want);
    static const uint8_t eor[] = {0x00, 0x02, 0x11};
    ASSERT_EQ_INT(run_fresh(&s, eor, sizeof eor, NULL, 0, 16, msg, sizeof msg), JPIP_ELIMIT);
    ASSERT_STR_CONTAINS(msg, "EOR message at offset 0 has a 17-byte body");
}

TEST(bytes_after_eor)
{
    static struct builder b;
    b_typical(&b);
    b.data[b.len] = 0x70;
    struct sink s;
    char msg[JPIP_ERRMSG_MAX];
    char want[64];
    snprintf(want, sizeof want, "data follows the EOR message, at offset %zu", b.len);
    for (size_t k = b.len - 3; k <= b.len + 1; k++) {
        ASSERT_EQ_INT(run_fresh(&s, b.data, b.len + 1, &k, 1, 0, msg, sizeof msg), JPIP_EPROTOCOL);
        ASSERT_STR_CONTAINS(msg, want);
        ASSERT_STR_EQ(s.log, b.log); /* everything up to the EOR was delivered */
    }
}

TEST(reset_keeps_or_forgets_previous)
{
    static struct builder b1, b2;
    b_init(&b1);
    b_msg(&b1, JPIP__CLASS_PRECINCT, 2, 4, 0, 10, 0, 0);
    b_eor(&b1, JPIP__EOR_BYTE_LIMIT);
    /* The next response continues with b = 1, as Kakadu's server does on a channel. */
    b_init(&b2);
    b2.enc = b1.enc;
    b_msg(&b2, JPIP__CLASS_PRECINCT, 2, 4, 10, 10, 1, 0);
    b_eor(&b2, JPIP__EOR_WINDOW_DONE);
    ASSERT_EQ_INT((b2.data[0] >> 5) & 3, 1);

    struct sink s;
    memset(&s, 0, sizeof s);
    struct jpip__stream_reader r;
    jpip__stream_reader_init(&r, NULL, 0, on_msg, on_eor, &s);
    ASSERT_OK(run(&r, &s, b1.data, b1.len, NULL, 0));
    jpip__stream_reader_reset(&r, 1);
    ASSERT_EQ_U64(r.pos, 0);
    ASSERT_OK(run(&r, &s, b2.data, b2.len, NULL, 0));
    ASSERT_EQ_INT(r.eor_reason, JPIP__EOR_WINDOW_DONE);
    char want[2 * sizeof b1.log];
    snprintf(want, sizeof want, "%s%s", b1.log, b2.log);
    ASSERT_STR_EQ(s.log, want);

    jpip__stream_reader_reset(&r, 0);
    ASSERT_EQ_INT(jpip__stream_reader_feed(&r, b2.data, b2.len), JPIP_EPROTOCOL);
    jpip__stream_reader_free(&r);
}

TEST(callback_failure)
{
    static struct builder b;
    b_typical(&b);
    struct sink s;
    memset(&s, 0, sizeof s);
    s.fail_at = 2;
    struct jpip__stream_reader r;
    jpip__stream_reader_init(&r, NULL, 0, on_msg, on_eor, &s);
    ASSERT_EQ_INT(jpip__stream_reader_feed(&r, b.data, b.len), JPIP_ENOMEM);
    char want[64];
    snprintf(want, sizeof want, "handler of the message at offset %zu failed", b.bounds[0]);
    ASSERT_STR_CONTAINS(r.err.msg, want);
    ASSERT_EQ_INT(jpip__stream_reader_finish(&r), JPIP_ENOMEM);
    ASSERT_EQ_INT(s.calls, 2);
    jpip__stream_reader_free(&r);
}

static void *fail_alloc(void *opaque, size_t size)
{
    (void)opaque;
    (void)size;
    return NULL;
}

static void no_free(void *opaque, void *p)
{
    (void)opaque;
    (void)p;
}

TEST(out_of_memory)
{
    static struct builder b;
    b_typical(&b);
    const struct jpip_allocator a = {fail_alloc, no_free, NULL};
    struct sink s;
    memset(&s, 0, sizeof s);
    struct jpip__stream_reader r;
    jpip__stream_reader_init(&r, &a, 0, on_msg, on_eor, &s);
    /* Whole messages need no memory at all. */
    ASSERT_OK(jpip__stream_reader_feed(&r, b.data, b.bounds[2]));
    ASSERT_EQ_INT(jpip__stream_reader_feed(&r, b.data + b.bounds[2], 5), JPIP_ENOMEM);
    char want[64];
    snprintf(want, sizeof want, "cannot buffer the message at offset %zu", b.bounds[2]);
    ASSERT_STR_CONTAINS(r.err.msg, want);
    jpip__stream_reader_free(&r);
}

RUN_TESTS()
