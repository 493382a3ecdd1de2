/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The persistent packet index's byte format (see index_serial.h): header and tile records,
 * written from built tile indexes and read back with every length bounded by the bytes at
 * hand and every packet checked against the tile's layout before it is trusted.
 */
#include <string.h>

#include "codestream/index_serial.h"
#include "common/bytes.h"

#define MAGIC_LEN 8u
#define PACKET_BYTES 12u
#define PACKED_BYTES 12u
#define SUM_BYTES 8u

/* FNV-1a, 64 bits: detects the torn writes and flipped bytes a file can suffer. */
static uint64_t checksum(const uint8_t *p, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    return h;
}

static int put_u64(struct jpip__buf *b, uint64_t v)
{
    JPIP_TRY(jpip__buf_append_u32be(b, (uint32_t)(v >> 32)));
    return jpip__buf_append_u32be(b, (uint32_t)v);
}

int jpip__index_header_encode(struct jpip__buf *out, const char *identity, uint64_t source_size,
                              uint32_t ncs, const uint32_t *ntiles)
{
    size_t il = strlen(identity);
    if (il > JPIP__INDEX_IDENTITY_MAX)
        return JPIP_EINVAL;
    size_t start = out->len;
    JPIP_TRY(jpip__buf_append(out, JPIP__INDEX_MAGIC, MAGIC_LEN));
    JPIP_TRY(jpip__buf_append_u32be(out, (uint32_t)il));
    JPIP_TRY(jpip__buf_append(out, identity, il));
    JPIP_TRY(put_u64(out, source_size));
    JPIP_TRY(jpip__buf_append_u32be(out, ncs));
    for (uint32_t i = 0; i < ncs; i++)
        JPIP_TRY(jpip__buf_append_u32be(out, ntiles[i]));
    return put_u64(out, checksum(out->data + start, out->len - start));
}

int jpip__index_header_parse(const uint8_t *data, size_t len, struct jpip__index_header *h,
                             int (*shape)(void *user, uint32_t ncs, uint32_t i, uint32_t ntiles),
                             void *user, struct jpip__err *err)
{
    memset(h, 0, sizeof *h);
    JPIP_FAIL_IF(len < MAGIC_LEN + 4 || memcmp(data, JPIP__INDEX_MAGIC, MAGIC_LEN) != 0, err,
                 JPIP_EMALFORMED, "not a jpip index file (bad magic at offset 0)");
    size_t off = MAGIC_LEN;
    uint32_t il = jpip__be32(data + off);
    off += 4;
    JPIP_FAIL_IF(il > JPIP__INDEX_IDENTITY_MAX || len - off < (size_t)il + 12, err, JPIP_EMALFORMED,
                 "index identity length %u at offset %u is out of bounds", il, MAGIC_LEN);
    h->identity = data + off;
    h->identity_len = il;
    off += il;
    h->source_size = jpip__be64(data + off);
    off += 8;
    h->ncs = jpip__be32(data + off);
    off += 4;
    JPIP_FAIL_IF((len - off) / 4 < (uint64_t)h->ncs + 2, err, JPIP_EMALFORMED,
                 "index codestream count %u at offset %zu runs past the end", h->ncs, off - 4);
    size_t tiles_off = off;
    off += (size_t)h->ncs * 4;
    JPIP_FAIL_IF(len - off < SUM_BYTES, err, JPIP_EMALFORMED,
                 "index header checksum at offset %zu is cut", off);
    JPIP_FAIL_IF(jpip__be64(data + off) != checksum(data, off), err, JPIP_EMALFORMED,
                 "index header checksum at offset %zu does not match", off);
    for (uint32_t i = 0; shape && i < h->ncs; i++)
        JPIP_FAIL_IF(shape(user, h->ncs, i, jpip__be32(data + tiles_off + 4 * (size_t)i)) != 0, err,
                     JPIP_EMALFORMED,
                     "index header at offset %zu describes another codestream layout",
                     tiles_off + 4 * (size_t)i);
    h->records_off = off + SUM_BYTES;
    return JPIP_OK;
}

int jpip__index_record_encode(struct jpip__buf *out, uint32_t cs, const struct jpip__tile_index *ti)
{
    int packed = ti->ph_off != NULL;
    uint64_t per = PACKET_BYTES + (packed ? PACKED_BYTES : 0);
    if (ti->npk > (UINT32_MAX - JPIP__INDEX_RECORD_FIXED) / per)
        return JPIP_ELIMIT;
    uint32_t plen = (uint32_t)(JPIP__INDEX_RECORD_FIXED + ti->npk * per);
    JPIP_TRY(jpip__buf_append_u32be(out, plen));
    size_t start = out->len;
    JPIP_TRY(jpip__buf_append_u32be(out, cs));
    JPIP_TRY(jpip__buf_append_u32be(out, ti->tile));
    JPIP_TRY(put_u64(out, ti->npk));
    JPIP_TRY(put_u64(out, ti->data_len));
    JPIP_TRY(put_u64(out, ti->packed_len));
    JPIP_TRY(jpip__buf_append_byte(out, (uint8_t)((ti->from_plt ? 1 : 0) | (packed ? 2 : 0))));
    JPIP_TRY(jpip__buf_reserve(out, (size_t)(ti->npk * per) + SUM_BYTES));
    for (uint64_t k = 0; k < ti->npk; k++) {
        uint8_t *p = out->data + out->len;
        const struct jpip__packet *pk = &ti->pk[k];
        jpip__put_be16(p, pk->off_hi);
        jpip__put_be32(p + 2, pk->off_lo);
        jpip__put_be16(p + 6, pk->hlen);
        jpip__put_be32(p + 8, pk->len);
        out->len += PACKET_BYTES;
    }
    for (uint64_t k = 0; packed && k < ti->npk; k++) {
        uint8_t *p = out->data + out->len;
        jpip__put_be32(p, (uint32_t)(ti->ph_off[k] >> 32));
        jpip__put_be32(p + 4, (uint32_t)ti->ph_off[k]);
        jpip__put_be32(p + 8, ti->ph_len[k]);
        out->len += PACKED_BYTES;
    }
    return put_u64(out, checksum(out->data + start, out->len - start));
}

int jpip__index_records_scan(const uint8_t *data, size_t len, size_t off, jpip__index_record_fn fn,
                             void *user, struct jpip__err *err)
{
    int skipped = 0;
    while (off < len) {
        JPIP_FAIL_IF(len - off < 4, err, JPIP_EMALFORMED, "index record at offset %zu is cut", off);
        uint32_t plen = jpip__be32(data + off);
        JPIP_FAIL_IF(plen < JPIP__INDEX_RECORD_FIXED || len - off - 4 < (uint64_t)plen + SUM_BYTES,
                     err, JPIP_EMALFORMED, "index record length %u at offset %zu is out of bounds",
                     plen, off);
        const uint8_t *p = data + off + 4;
        size_t whole = 4 + (size_t)plen + SUM_BYTES;
        if (jpip__be64(p + plen) != checksum(p, plen)) {
            skipped++;
        } else {
            int rc = fn(user, jpip__be32(p), jpip__be32(p + 4), data + off, whole);
            if (rc < 0)
                return rc;
        }
        off += whole;
    }
    return skipped;
}

static int reject(struct jpip__tile_index *ti, struct jpip__err *err, const char *what)
{
    for (uint64_t k = 0; k < ti->npk; k++)
        jpip__pk_clear(&ti->pk[k]);
    ti->packets_present = 0;
    ti->from_plt = 0;
    return jpip__errf(err, JPIP_EMALFORMED, "saved index of tile %u: %s", ti->tile, what);
}

int jpip__index_record_apply(const uint8_t *rec, size_t rec_len, struct jpip__tile_index *ti,
                             struct jpip__err *err)
{
    if (rec_len < 4 + JPIP__INDEX_RECORD_FIXED + SUM_BYTES)
        return reject(ti, err, "record too short");
    const uint8_t *p = rec + 4;
    size_t plen = rec_len - 4 - SUM_BYTES;
    if (jpip__be32(rec) != plen)
        return reject(ti, err, "record length does not match");
    uint64_t npk = jpip__be64(p + 8), data_len = jpip__be64(p + 16);
    uint64_t packed_len = jpip__be64(p + 24);
    uint8_t flags = p[32];
    int packed = (flags & 2) != 0;
    if (jpip__be32(p + 4) != ti->tile || npk != ti->npk || data_len != ti->data_len ||
        packed != (ti->ph_off != NULL) || (packed && packed_len != ti->packed_len) ||
        (flags & ~3u) != 0)
        return reject(ti, err, "tile shape differs");
    uint64_t per = PACKET_BYTES + (packed ? PACKED_BYTES : 0);
    if ((plen - JPIP__INDEX_RECORD_FIXED) / per != npk || (plen - JPIP__INDEX_RECORD_FIXED) % per)
        return reject(ti, err, "packet count does not match the record length");
    const uint8_t *q = p + JPIP__INDEX_RECORD_FIXED;
    uint64_t present = 0;
    for (uint64_t k = 0; k < npk; k++, q += PACKET_BYTES) {
        struct jpip__packet *pk = &ti->pk[k];
        pk->off_hi = jpip__be16(q);
        pk->off_lo = jpip__be32(q + 2);
        pk->hlen = jpip__be16(q + 6);
        pk->len = jpip__be32(q + 8);
        if (!jpip__pk_present(pk)) {
            if (pk->len || pk->hlen)
                return reject(ti, err, "absent packet with a length");
            continue;
        }
        uint64_t off = jpip__pk_off(pk);
        if (off > JPIP_PACKET_MAX_OFF || off > data_len || pk->len > data_len - off ||
            pk->hlen > pk->len)
            return reject(ti, err, "packet outside the tile's data");
        present++;
    }
    for (uint64_t k = 0; packed && k < npk; k++, q += PACKED_BYTES) {
        uint64_t po = jpip__be64(q);
        uint32_t pl = jpip__be32(q + 8);
        if (po > packed_len || pl > packed_len - po)
            return reject(ti, err, "packed header outside the packed-header bytes");
        ti->ph_off[k] = po;
        ti->ph_len[k] = pl;
    }
    ti->packets_present = present;
    ti->from_plt = flags & 1;
    return JPIP_OK;
}
