/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The persistent packet index as bytes (no I/O): a header naming the file version it
 * describes and the shape of its codestreams, then one record per indexed tile with every
 * packet's position (and packed-header position). Every part carries a checksum and every
 * length is checked against what the bytes can hold; a record is applied to a tile only
 * after its layout (from the tile-part headers) is built and every packet is checked to lie
 * inside the tile's data, so a damaged or forged file can cost a re-walk but never a wrong
 * read. lib/io stores the bytes; lib/server decides when.
 *
 * Layout (big-endian):
 *   "JPIPIDX1", u32 identity length (<= JPIP__INDEX_IDENTITY_MAX), identity, u64 source size,
 *   u32 ncs, ncs x u32 tiles, u64 checksum of everything before it;
 *   records to the end: u32 payload length, payload, u64 checksum of the payload.
 *   payload: u32 codestream, u32 tile, u64 packets, u64 tile data length, u64 packed-header
 *   length, u8 flags (1 = from PLT, 2 = packed headers), packets x (u16 offset high, u32
 *   offset low, u16 header length, u32 length), then with packed headers packets x (u64
 *   offset, u32 length).
 */
#ifndef JPIP_CODESTREAM_INDEX_SERIAL_H
#define JPIP_CODESTREAM_INDEX_SERIAL_H

#include <jpip/index.h>

#include "codestream/codestream.h"
#include "common/buf.h"

#define JPIP__INDEX_IDENTITY_MAX 1024u
#define JPIP__INDEX_MAGIC "JPIPIDX1"
#define JPIP__INDEX_RECORD_FIXED 33u /* payload bytes before the packets */

/* What a file's header says. */
struct jpip__index_header {
    const uint8_t *identity; /* points into the scanned bytes */
    uint32_t identity_len;
    uint64_t source_size;
    uint32_t ncs;
    size_t records_off; /* where the records start */
};

/* Write the header for a target of ncs codestreams with ntiles[i] tiles each. */
int jpip__index_header_encode(struct jpip__buf *out, const char *identity, uint64_t source_size,
                              uint32_t ncs, const uint32_t *ntiles);

/* Parse and check a header. ntiles_at(i) is read through the callback so the caller can compare
 * the shape with its own target; shape(user, ncs, i, ntiles) returns 0 when it matches.
 * @return JPIP_OK, JPIP_EMALFORMED (message names the byte offset). */
int jpip__index_header_parse(const uint8_t *data, size_t len, struct jpip__index_header *h,
                             int (*shape)(void *user, uint32_t ncs, uint32_t i, uint32_t ntiles),
                             void *user, struct jpip__err *err);

/* Append the record of tile ti (fully built) of codestream cs. */
int jpip__index_record_encode(struct jpip__buf *out, uint32_t cs,
                              const struct jpip__tile_index *ti);

/* Visit the records after the header: fn(user, cs, tile, record, record_len) for each whose
 * checksum holds, record being the whole record (length, payload, checksum) so it can be
 * copied as is. Returns the number of records skipped as damaged, or JPIP_EMALFORMED when a
 * length runs past the end (records up to there were visited). A negative return of fn
 * stops the walk and is returned. */
typedef int (*jpip__index_record_fn)(void *user, uint32_t cs, uint32_t tile, const uint8_t *rec,
                                     size_t rec_len);
int jpip__index_records_scan(const uint8_t *data, size_t len, size_t off, jpip__index_record_fn fn,
                             void *user, struct jpip__err *err);

/* Fill the packets of ti from a whole record (as visited by the scan). ti must have its layout
 * and packed headers built, its packets cleared and packets_present 0. On failure ti's
 * packets are cleared again and the message says what did not match.
 * @return JPIP_OK, JPIP_EMALFORMED. */
int jpip__index_record_apply(const uint8_t *rec, size_t rec_len, struct jpip__tile_index *ti,
                             struct jpip__err *err);

#endif
