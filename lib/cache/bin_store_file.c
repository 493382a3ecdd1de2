/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Saving the client's data-bin store to a memory buffer and loading it back (the format is
 * described in bin_store.h). Loading trusts nothing: every count and length is checked against
 * the bytes that remain, the CRC-32 covers the whole file, and the bins go into a fresh store
 * that replaces the old contents only once everything has been read.
 */
#include "cache/bin_store.h"

#include <inttypes.h>
#include <string.h>

#include "common/bytes.h"

static const char magic[] = "JPIPCACHE1\n";
#define MAGIC_LEN (sizeof magic - 1)
#define CRC_LEN 4u
/* The smallest saved bin: class, codestream, id, flags and range count. */
#define MIN_BIN_LEN (1u + 8u + 8u + 1u + 4u)
#define RANGE_HEADER_LEN 16u
#define FLAG_LENGTH_KNOWN 1u

/* ---- CRC-32 (ISO-HDLC, as in zlib and PNG): reflected polynomial 0xEDB88320, initial value
 * and final XOR 0xFFFFFFFF. The table is built per call (2 K steps), so no global state. ---- */

static void crc_table(uint32_t t[256])
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[n] = c;
    }
}

static uint32_t crc32_of(const uint32_t t[256], const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = t[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* ---- save ---- */

static int put_u64(struct jpip__buf *out, uint64_t v)
{
    uint8_t t[8];
    jpip__put_be32(t, (uint32_t)(v >> 32));
    jpip__put_be32(t + 4, (uint32_t)v);
    return jpip__buf_append(out, t, sizeof t);
}

static int put_range(struct jpip__buf *out, uint64_t off, const uint8_t *data, size_t len)
{
    JPIP_TRY(put_u64(out, off));
    JPIP_TRY(put_u64(out, len));
    return jpip__buf_append(out, data, len);
}

static int save_bin(void *u, const struct jpip__bin_info *b)
{
    struct jpip__buf *out = u;
    const uint32_t nranges = (b->prefix_len ? 1u : 0u) + (uint32_t)b->nchunks;
    JPIP_TRY(jpip__buf_append_byte(out, (uint8_t)b->cls));
    JPIP_TRY(put_u64(out, b->cs));
    JPIP_TRY(put_u64(out, b->id));
    JPIP_TRY(jpip__buf_append_byte(out, b->length_known ? FLAG_LENGTH_KNOWN : 0));
    if (b->length_known)
        JPIP_TRY(put_u64(out, b->length));
    JPIP_TRY(jpip__buf_append_u32be(out, nranges));
    if (b->prefix_len)
        JPIP_TRY(put_range(out, 0, b->prefix, (size_t)b->prefix_len));
    for (size_t i = 0; i < b->nchunks; i++)
        JPIP_TRY(put_range(out, b->chunks[i].off, b->chunks[i].data, b->chunks[i].len));
    return JPIP_OK;
}

int jpip__bin_store_save(const struct jpip__bin_store *s, const char *tid, struct jpip__buf *out)
{
    if (!s || !out)
        return JPIP_EINVAL;
    size_t tid_len = 0;
    while (tid && tid[tid_len] && tid_len <= JPIP__BIN_STORE_TID_MAX)
        tid_len++;
    if (tid_len > JPIP__BIN_STORE_TID_MAX)
        return JPIP_EINVAL;
    struct jpip__bin_store_stats st;
    jpip__bin_store_stats(s, &st);

    const size_t start = out->len;
    int rc = jpip__buf_append(out, magic, MAGIC_LEN);
    if (rc >= 0)
        rc = jpip__buf_append_byte(out, (uint8_t)tid_len);
    if (rc >= 0)
        rc = jpip__buf_append(out, tid, tid_len);
    if (rc >= 0)
        rc = put_u64(out, st.bins);
    if (rc >= 0)
        rc = jpip__bin_store_visit(s, save_bin, out);
    if (rc >= 0) {
        uint32_t t[256];
        crc_table(t);
        rc = jpip__buf_append_u32be(out, crc32_of(t, out->data + start, out->len - start));
    }
    if (rc < 0)
        out->len = start;
    return rc < 0 ? rc : JPIP_OK;
}

/* ---- load ---- */

/* A bounded reader over the bytes before the CRC. */
struct cursor {
    const uint8_t *p;
    size_t end; /* offset of the CRC */
    size_t pos;
};

static int need(const struct cursor *c, uint64_t n, const char *what, struct jpip__err *err)
{
    if (n > c->end - c->pos)
        return jpip__errf(err, JPIP_EMALFORMED,
                          "cache file: %s at offset %zu needs %" PRIu64
                          " bytes, %zu remain before the CRC",
                          what, c->pos, n, c->end - c->pos);
    return JPIP_OK;
}

static int get_u8(struct cursor *c, const char *what, uint8_t *v, struct jpip__err *err)
{
    JPIP_TRY(need(c, 1, what, err));
    *v = c->p[c->pos++];
    return JPIP_OK;
}

static int get_u32(struct cursor *c, const char *what, uint32_t *v, struct jpip__err *err)
{
    JPIP_TRY(need(c, 4, what, err));
    *v = jpip__be32(c->p + c->pos);
    c->pos += 4;
    return JPIP_OK;
}

static int get_u64(struct cursor *c, const char *what, uint64_t *v, struct jpip__err *err)
{
    JPIP_TRY(need(c, 8, what, err));
    *v = jpip__be64(c->p + c->pos);
    c->pos += 8;
    return JPIP_OK;
}

/* Add to the fresh store; a refusal means the file is inconsistent, except for memory and the
 * budget, which are the reader's limits. */
static int load_add(struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id, uint64_t off,
                    const uint8_t *data, size_t len, int last, size_t at, struct jpip__err *err)
{
    struct jpip__err sub;
    jpip__err_clear(&sub);
    const int rc = jpip__bin_store_add(s, cls, cs, id, off, data, len, last, &sub);
    if (rc >= 0)
        return JPIP_OK;
    return jpip__errf(err, rc == JPIP_ENOMEM || rc == JPIP_ELIMIT ? rc : JPIP_EMALFORMED,
                      "cache file: bin at offset %zu: %s", at, sub.msg);
}

static int load_bin(struct jpip__bin_store *s, struct cursor *c, struct jpip__err *err)
{
    const size_t at = c->pos;
    uint8_t cls, flags;
    uint64_t cs, id, length = 0;
    uint32_t nranges;
    JPIP_TRY(get_u8(c, "bin class", &cls, err));
    JPIP_FAIL_IF(cls > 8 || (cls & 1), err, JPIP_EMALFORMED,
                 "cache file: bin class %u at offset %zu", cls, at);
    JPIP_TRY(get_u64(c, "codestream", &cs, err));
    JPIP_FAIL_IF(cs >= JPIP__BIN_STORE_MAX_ID || (cls == 8 && cs != 0), err, JPIP_EMALFORMED,
                 "cache file: codestream %" PRIu64 " at offset %zu", cs, at + 1);
    JPIP_TRY(get_u64(c, "in-class id", &id, err));
    JPIP_FAIL_IF(id >= JPIP__BIN_STORE_MAX_ID, err, JPIP_EMALFORMED,
                 "cache file: in-class id %" PRIu64 " at offset %zu", id, at + 9);
    JPIP_TRY(get_u8(c, "bin flags", &flags, err));
    JPIP_FAIL_IF(flags & ~FLAG_LENGTH_KNOWN, err, JPIP_EMALFORMED,
                 "cache file: unknown bin flags 0x%02x at offset %zu", flags, c->pos - 1);
    if (flags & FLAG_LENGTH_KNOWN) {
        JPIP_TRY(get_u64(c, "bin length", &length, err));
        JPIP_FAIL_IF(length > JPIP__BIN_STORE_MAX_LEN, err, JPIP_EMALFORMED,
                     "cache file: bin length %" PRIu64 " at offset %zu", length, c->pos - 8);
    }
    JPIP_TRY(get_u32(c, "range count", &nranges, err));
    JPIP_FAIL_IF(nranges > JPIP__BIN_STORE_MAX_CHUNKS + 1 ||
                     nranges > (c->end - c->pos) / RANGE_HEADER_LEN,
                 err, JPIP_EMALFORMED,
                 "cache file: range count %" PRIu32 " at offset %zu exceeds what the file holds",
                 nranges, c->pos - 4);
    JPIP_FAIL_IF(nranges == 0 && !(flags & FLAG_LENGTH_KNOWN), err, JPIP_EMALFORMED,
                 "cache file: bin at offset %zu holds nothing", at);
    struct jpip__bin_info info;
    JPIP_FAIL_IF(jpip__bin_store_info(s, cls, cs, id, &info) == JPIP_OK, err, JPIP_EMALFORMED,
                 "cache file: bin at offset %zu appears twice", at);

    uint64_t prev_end = 0;
    for (uint32_t r = 0; r < nranges; r++) {
        const size_t rat = c->pos;
        uint64_t off, len;
        JPIP_TRY(get_u64(c, "range offset", &off, err));
        JPIP_TRY(get_u64(c, "range length", &len, err));
        JPIP_FAIL_IF(len == 0, err, JPIP_EMALFORMED, "cache file: empty range at offset %zu", rat);
        JPIP_FAIL_IF(r > 0 && off < prev_end, err, JPIP_EMALFORMED,
                     "cache file: range at offset %zu overlaps or precedes the one before", rat);
        JPIP_FAIL_IF(off > JPIP__BIN_STORE_MAX_LEN || len > JPIP__BIN_STORE_MAX_LEN - off ||
                         ((flags & FLAG_LENGTH_KNOWN) && off + len > length),
                     err, JPIP_EMALFORMED,
                     "cache file: range at offset %zu runs past the bin's length", rat);
        JPIP_TRY(need(c, len, "range data", err));
        JPIP_TRY(load_add(s, cls, cs, id, off, c->p + c->pos, (size_t)len, 0, rat, err));
        c->pos += (size_t)len;
        prev_end = off + len;
    }
    if (flags & FLAG_LENGTH_KNOWN)
        JPIP_TRY(load_add(s, cls, cs, id, length, NULL, 0, 1, at, err));
    return JPIP_OK;
}

static int load_all(struct jpip__bin_store *s, const uint8_t *p, size_t len, char *tid_out,
                    size_t tid_cap, struct jpip__err *err)
{
    for (size_t i = 0; i < MAGIC_LEN; i++) {
        JPIP_FAIL_IF(i >= len, err, JPIP_EMALFORMED, "cache file: ends at offset %zu in the magic",
                     len);
        JPIP_FAIL_IF(p[i] != (uint8_t)magic[i], err, JPIP_EMALFORMED,
                     "cache file: bad magic at offset %zu", i);
    }
    JPIP_FAIL_IF(len < MAGIC_LEN + CRC_LEN, err, JPIP_EMALFORMED,
                 "cache file: ends at offset %zu, before its CRC", len);
    struct cursor c = {p, len - CRC_LEN, MAGIC_LEN};

    uint8_t tid_len;
    JPIP_TRY(get_u8(&c, "target id length", &tid_len, err));
    JPIP_TRY(need(&c, tid_len, "target id", err));
    const uint8_t *tid = p + c.pos;
    JPIP_FAIL_IF(memchr(tid, 0, tid_len) != NULL, err, JPIP_EMALFORMED,
                 "cache file: NUL byte in the target id at offset %zu", c.pos);
    JPIP_FAIL_IF(tid_out && tid_cap < (size_t)tid_len + 1, err, JPIP_EINVAL,
                 "cache file: target id of %u bytes does not fit a %zu-byte buffer", tid_len,
                 tid_cap);
    c.pos += tid_len;

    uint64_t count;
    JPIP_TRY(get_u64(&c, "bin count", &count, err));
    JPIP_FAIL_IF(count > (c.end - c.pos) / MIN_BIN_LEN, err, JPIP_EMALFORMED,
                 "cache file: bin count %" PRIu64 " at offset %zu exceeds what the file holds",
                 count, c.pos - 8);
    for (uint64_t i = 0; i < count; i++)
        JPIP_TRY(load_bin(s, &c, err));
    JPIP_FAIL_IF(c.pos != c.end, err, JPIP_EMALFORMED,
                 "cache file: %zu unexpected bytes at offset %zu", c.end - c.pos, c.pos);

    uint32_t t[256];
    crc_table(t);
    const uint32_t want = jpip__be32(p + c.end);
    const uint32_t got = crc32_of(t, p, c.end);
    JPIP_FAIL_IF(want != got, err, JPIP_EMALFORMED,
                 "cache file: CRC-32 at offset %zu is %08" PRIx32 ", the data gives %08" PRIx32,
                 c.end, want, got);
    if (tid_out) {
        memcpy(tid_out, tid, tid_len);
        tid_out[tid_len] = '\0';
    }
    return JPIP_OK;
}

int jpip__bin_store_load(struct jpip__bin_store *s, const uint8_t *p, size_t len, char *tid_out,
                         size_t tid_cap, struct jpip__err *err)
{
    if (!s || (!p && len))
        return jpip__errf(err, JPIP_EINVAL, "cache file: no store or no data");
    struct jpip__bin_store *fresh;
    if (jpip__bin_store_create(&fresh, jpip__bin_store_allocator(s), jpip__bin_store_max_bytes(s)) <
        0)
        return jpip__errf(err, JPIP_ENOMEM, "cache file: out of memory");
    const int rc = load_all(fresh, p ? p : (const uint8_t *)"", len, tid_out, tid_cap, err);
    if (rc >= 0)
        jpip__bin_store_swap(s, fresh);
    jpip__bin_store_destroy(fresh);
    return rc < 0 ? rc : JPIP_OK;
}
