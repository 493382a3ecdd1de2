/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The client's data-bin store (jpip-notes 4.2, 6.1): for each data-bin, the bytes received so
 * far as a contiguous prefix from byte 0 plus a few out-of-order ranges, and the bin's length
 * once a message with the last-byte flag has arrived. Bins are evicted least recently used
 * first under an optional byte budget, and the whole store serialises to and from a memory
 * buffer (bin_store_file.c) so a client can keep its cache across sessions (jpip-notes 6.4).
 */
#ifndef JPIP_CACHE_BIN_STORE_H
#define JPIP_CACHE_BIN_STORE_H

#include "common/buf.h"
#include "common/status.h"

/* Bounds. Bins longer than JPIP__BIN_STORE_MAX_LEN bytes and in-class ids or codestream
 * numbers not below JPIP__BIN_STORE_MAX_ID are refused (the message decoder never produces
 * values >= 2^53). A bin holds at most JPIP__BIN_STORE_MAX_CHUNKS out-of-order ranges beyond
 * its contiguous prefix; servers send increments in order, so a peer that scatters one bin
 * into more pieces than that gets JPIP_ELIMIT instead of quadratic insertion costs. */
#define JPIP__BIN_STORE_MAX_LEN ((uint64_t)1 << 40)
#define JPIP__BIN_STORE_MAX_ID ((uint64_t)1 << 53)
#define JPIP__BIN_STORE_MAX_CHUNKS 1024u

/* Memory accounting: every bin (and every codestream that has bins) is charged this many
 * bytes on top of its data, every out-of-order range JPIP__BIN_STORE_CHUNK_OVERHEAD more.
 * These are fixed figures (at least the real record sizes, checked at compile time) so that
 * eviction decisions are the same on every platform. */
#define JPIP__BIN_STORE_BIN_OVERHEAD 160u
#define JPIP__BIN_STORE_CHUNK_OVERHEAD 48u

/* The longest target id a saved store records. */
#define JPIP__BIN_STORE_TID_MAX 255u

struct jpip__bin_store;

/* Create an empty store. a (retained: must outlive the store; NULL = malloc/free) serves every
 * allocation. max_bytes is the budget for held data plus the per-bin overheads above; 0 means
 * unlimited, which only a caller that bounds its input otherwise should choose.
 * Returns JPIP_OK, JPIP_EINVAL (out is NULL) or JPIP_ENOMEM. */
int jpip__bin_store_create(struct jpip__bin_store **out, const struct jpip_allocator *a,
                           uint64_t max_bytes);

/* Free the store and everything it holds. NULL is a no-op. */
void jpip__bin_store_destroy(struct jpip__bin_store *s);

/* Drop every bin, e.g. when the server reports a new target id (JPIP-tid). The cumulative
 * counters of jpip__bin_store_stats (evictions, adds, duplicate_bytes) are kept. */
void jpip__bin_store_clear(struct jpip__bin_store *s);

/* Add bytes [off, off+len) of data-bin (cls, cs, id); last says that this message holds the
 * bin's last byte, so the bin's length is off+len (a zero-length message with last set is how a
 * server says that a bin is empty or complete). cls is the wire class: 1 (extended precinct)
 * names the same bins as 0, and 5 the same as 4; metadata-bins (8) do not belong to a
 * codestream, so their cs is ignored (stored as 0). Classes 3, 7 and 9 and above are not
 * data-bins this store holds: callers skip their messages (JPIP_EINVAL here).
 * data is borrowed (NULL only when len is 0); the store keeps its own copy.
 *
 * Messages may arrive in any order, overlap and leave holes (jpip-notes 4.2). Errors leave the
 * store exactly as it was, and record a message in err (may be NULL):
 *   JPIP_EPROTOCOL  bytes overlapping held data differ; a last flag contradicts the known
 *                   length or data already held beyond it; data beyond a known length;
 *   JPIP_ELIMIT     the bin would pass JPIP__BIN_STORE_MAX_LEN bytes or
 *                   JPIP__BIN_STORE_MAX_CHUNKS ranges, or alone exceed max_bytes;
 *   JPIP_EINVAL     bad class, cs or id >= JPIP__BIN_STORE_MAX_ID, NULL data with len > 0;
 *   JPIP_ENOMEM.
 * A successful add marks the bin used (LRU), then evicts least recently used bins, never the
 * one just added, until the store is within max_bytes. A main header bin (class 6) is not
 * evicted while bins of class 0, 2 or 4 of its codestream remain, nor metadata-bin 0 while any
 * other bin remains; if only such bins are left the store stays over budget until they become
 * evictable. Eviction passes over protected bins by moving them to the most recently used end.
 * A zero-length message without the last flag adds nothing and creates no bin. */
int jpip__bin_store_add(struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id,
                        uint64_t off, const uint8_t *data, size_t len, int last,
                        struct jpip__err *err);

/* The contiguous bytes held from byte 0 of a bin and whether the bin is complete (its length
 * is known and every byte is held). *prefix is valid until the next add, evict, clear, load or
 * destroy on this store, and NULL when *prefix_len is 0. An unknown bin gives prefix_len 0,
 * complete 0 and JPIP_OK. Does not mark the bin used, so a reader (the codestream
 * reconstructor, whose jpip__bin_source.get this matches once wrapped) leaves the LRU order
 * alone. JPIP_EINVAL for a bad class, cs or id. prefix and complete may be NULL. */
int jpip__bin_store_get(const struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id,
                        const uint8_t **prefix, uint64_t *prefix_len, int *complete);

/* Mark a bin used: it becomes the last candidate for eviction. Unknown bins are ignored. */
void jpip__bin_store_touch(struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id);

/* Call fn for every bin, least recently used first, with the folded class (0, 2, 4, 6 or 8),
 * the contiguous prefix length and completeness (for building model= declarations). fn must
 * not change the store. A non-zero return from fn stops the walk and is returned. */
int jpip__bin_store_foreach(const struct jpip__bin_store *s,
                            int (*fn)(void *u, unsigned cls, uint64_t cs, uint64_t id,
                                      uint64_t prefix_len, int complete),
                            void *u);

struct jpip__bin_store_stats {
    uint64_t bins;            /* data-bins held */
    uint64_t bytes;           /* accounted bytes: data plus overheads (what max_bytes bounds) */
    uint64_t complete_bins;   /* bins whose length is known and fully held */
    uint64_t evictions;       /* bins evicted so far (cumulative) */
    uint64_t adds;            /* successful jpip__bin_store_add calls (cumulative) */
    uint64_t duplicate_bytes; /* added bytes that were already held (cumulative) */
};

void jpip__bin_store_stats(const struct jpip__bin_store *s, struct jpip__bin_store_stats *st);

/* ---- Detailed inspection (serialisation, tests, diagnostics) ---- */

/* One out-of-order range: bytes [off, off+len) of the bin, not touching the prefix. */
struct jpip__bin_chunk {
    uint64_t off;
    size_t len;
    uint8_t *data;
};

/* Everything held for one bin. Pointers are valid until the store next changes. */
struct jpip__bin_info {
    unsigned cls; /* folded: 0, 2, 4, 6 or 8 */
    uint64_t cs, id;
    const uint8_t *prefix; /* bytes [0, prefix_len) */
    uint64_t prefix_len;
    const struct jpip__bin_chunk *chunks; /* sorted by offset, disjoint, all past prefix_len */
    size_t nchunks;
    int length_known;
    uint64_t length; /* valid when length_known */
    int complete;
    uint64_t held_bytes; /* prefix_len plus the chunk lengths */
};

/* Fill *info for one bin; JPIP_ENOTFOUND if the store does not hold it, JPIP_EINVAL for a
 * bad class, cs or id. */
int jpip__bin_store_info(const struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id,
                         struct jpip__bin_info *info);

/* Like foreach, with the full description of each bin. */
int jpip__bin_store_visit(const struct jpip__bin_store *s,
                          int (*fn)(void *u, const struct jpip__bin_info *info), void *u);

/* Check every internal invariant (hash table, LRU list, ranges, counters). JPIP_OK or
 * JPIP_EINVAL naming the first broken one in err. For tests and fuzzers: O(total size). */
int jpip__bin_store_check(const struct jpip__bin_store *s, struct jpip__err *err);

/* The allocator and budget given at creation (for building a sibling store). */
const struct jpip_allocator *jpip__bin_store_allocator(const struct jpip__bin_store *s);
uint64_t jpip__bin_store_max_bytes(const struct jpip__bin_store *s);

/* Exchange the complete contents (bins, counters, allocator, budget) of two stores. */
void jpip__bin_store_swap(struct jpip__bin_store *a, struct jpip__bin_store *b);

/* ---- Serialisation (bin_store_file.c); memory buffers only, the file I/O lives elsewhere ----
 *
 * Format, all integers big-endian:
 *   "JPIPCACHE1\n"                      magic, 11 bytes
 *   u8 tid_len, tid_len bytes           target id (JPIP-tid) the bins belong to, no NUL
 *   u64 bin_count
 *   bin_count times, least recently used first:
 *     u8 class (0, 2, 4, 6, 8)  u64 codestream (0 for class 8)  u64 in-class id
 *     u8 flags (bit 0: length known; other bits zero)  [u64 length, if known]
 *     u32 range_count, then range_count times: u64 offset, u64 length (> 0), the bytes
 *       (sorted by offset, disjoint)
 *   u32 CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320) of every byte before it. */

/* Append the store's contents and tid (borrowed NUL-terminated text of at most
 * JPIP__BIN_STORE_TID_MAX bytes; NULL = empty) to out. On failure out is left as it was.
 * JPIP_EINVAL (tid too long), JPIP_ELIMIT (out's cap), JPIP_ENOMEM. */
int jpip__bin_store_save(const struct jpip__bin_store *s, const char *tid, struct jpip__buf *out);

/* Replace the store's contents with those saved in p[0..len) (borrowed), restoring the LRU
 * order; the budget of s applies (least recently used bins are evicted if the saved ones do not
 * fit). The target id is written NUL-terminated to tid_out (if not NULL; tid_cap >=
 * JPIP__BIN_STORE_TID_MAX + 1 always suffices). The input is loaded into a fresh store that
 * replaces the old contents only on success: on any error s is unchanged.
 * JPIP_EMALFORMED (bad magic, a field out of range or running past the end, a duplicate or empty
 * bin, overlapping ranges, trailing bytes, CRC mismatch; err names the byte offset),
 * JPIP_EINVAL (tid_cap too small for the saved tid), JPIP_ELIMIT (a saved bin alone exceeds the
 * budget), JPIP_ENOMEM. */
int jpip__bin_store_load(struct jpip__bin_store *s, const uint8_t *p, size_t len, char *tid_out,
                         size_t tid_cap, struct jpip__err *err);

#endif
