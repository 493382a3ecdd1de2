/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The client's data-bin store. A hash table (open addressing, linear probing, backward-shift
 * deletion) maps (folded class, codestream, id) to a bin record holding a growable buffer for
 * the contiguous prefix and a sorted array of out-of-order chunks; an LRU list orders bins for
 * eviction, and one small record per codestream counts its bins so its main header stays.
 */
#include "cache/bin_store.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "common/alloc.h"

/* Key class of a codestream record. Data-bin classes are folded to even values, so this odd
 * value never names a data-bin. */
#define CLS_CODESTREAM 1u

/* One data-bin, or (cls == CLS_CODESTREAM) the record of one codestream. */
struct bin {
    uint64_t hash;
    uint64_t cs, id;
    /* Data-bin: its length once known. Codestream record: how many bins of classes 0, 2 and 4
     * of that codestream the store holds (the record exists only while this is positive). */
    uint64_t length;
    uint64_t held; /* prefix_len plus the chunk lengths */
    uint64_t acct; /* bytes charged to the budget */
    uint8_t *prefix;
    size_t prefix_len, prefix_cap;
    /* Data past the prefix: sorted by offset, disjoint, each starting after prefix_len (a chunk
     * that comes to touch the prefix is copied into it at once). Neighbouring chunks are not
     * merged, so every received byte is copied at most twice in total. */
    struct jpip__bin_chunk *chunks;
    uint32_t nchunks, chunk_cap;
    struct bin *older, *newer; /* LRU list; codestream records are not on it */
    uint8_t cls;
    uint8_t length_known;
};

_Static_assert(sizeof(struct bin) + 2 * sizeof(struct bin *) <= JPIP__BIN_STORE_BIN_OVERHEAD,
               "bin overhead too small");
_Static_assert(sizeof(struct jpip__bin_chunk) + 16 <= JPIP__BIN_STORE_CHUNK_OVERHEAD,
               "chunk overhead too small");

struct jpip__bin_store {
    const struct jpip_allocator *alloc;
    uint64_t max_bytes; /* 0 = unlimited */
    uint64_t seed;      /* hash seed, so that a peer cannot aim ids at one probe chain */
    struct bin **slots; /* cap slots (a power of two, or 0), at most half of them used */
    size_t cap, used;   /* used counts data-bins and codestream records */
    struct bin *oldest, *newest;
    uint64_t nbins, bytes, complete, evictions, adds, duplicate_bytes;
};

#define BIN_FMT "data-bin (class %u, codestream %" PRIu64 ", id %" PRIu64 ")"

/* ---- keys and hashing ---- */

/* Validate a key and fold it: odd (extended) classes name their even base class's bins, and
 * metadata-bins are codestream-independent. */
static int fold_key(unsigned cls, uint64_t *cs, uint64_t id, unsigned *folded)
{
    if (cls > 8 || cls == 3 || cls == 7 || *cs >= JPIP__BIN_STORE_MAX_ID ||
        id >= JPIP__BIN_STORE_MAX_ID)
        return JPIP_EINVAL;
    *folded = cls & ~1u;
    if (*folded == 8)
        *cs = 0;
    return JPIP_OK;
}

/* The splitmix64 finaliser: a bijection that spreads every input bit over the output. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    x ^= x >> 31;
    return x;
}

static uint64_t key_hash(const struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id)
{
    /* cs < 2^53 and cls < 16, so (cs << 4 | cls) is injective. */
    return mix64(mix64(id ^ s->seed) ^ ((cs << 4) | cls));
}

static int is_codestream_class(unsigned cls)
{
    return cls == 0 || cls == 2 || cls == 4;
}

static int is_complete(const struct bin *b)
{
    return b->length_known && b->prefix_len == b->length;
}

static uint64_t chunk_end(const struct jpip__bin_chunk *c)
{
    return c->off + c->len;
}

/* One past the last byte held. */
static uint64_t held_end(const struct bin *b)
{
    return b->nchunks ? chunk_end(&b->chunks[b->nchunks - 1]) : b->prefix_len;
}

static uint64_t charge(uint64_t held, size_t nchunks)
{
    return JPIP__BIN_STORE_BIN_OVERHEAD + held + (uint64_t)nchunks * JPIP__BIN_STORE_CHUNK_OVERHEAD;
}

/* ---- hash table ---- */

static struct bin *lookup(const struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id,
                          uint64_t h)
{
    if (s->cap == 0)
        return NULL;
    const size_t mask = s->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct bin *b = s->slots[i];
        if (!b)
            return NULL;
        if (b->hash == h && b->cls == cls && b->cs == cs && b->id == id)
            return b;
    }
}

static void slot_insert(struct bin **slots, size_t cap, struct bin *b)
{
    const size_t mask = cap - 1;
    size_t i = (size_t)b->hash & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = b;
}

/* Make room for extra more entries while keeping the table at most half full. */
static int reserve_slots(struct jpip__bin_store *s, size_t extra)
{
    const size_t need = s->used + extra;
    if (need <= s->cap / 2)
        return JPIP_OK;
    size_t ncap = s->cap ? s->cap : 16;
    while (need > ncap / 2) {
        if (ncap > SIZE_MAX / 2 / sizeof(struct bin *))
            return JPIP_ENOMEM;
        ncap *= 2;
    }
    struct bin **ns = jpip__calloc(s->alloc, ncap, sizeof *ns);
    if (!ns)
        return JPIP_ENOMEM;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i])
            slot_insert(ns, ncap, s->slots[i]);
    jpip__free(s->alloc, s->slots);
    s->slots = ns;
    s->cap = ncap;
    return JPIP_OK;
}

static void table_insert(struct jpip__bin_store *s, struct bin *b)
{
    slot_insert(s->slots, s->cap, b);
    s->used++;
}

/* Remove b, then shift later members of its probe run back so that lookups never meet a
 * hole before their entry (Knuth's algorithm R; no tombstones needed). */
static void table_delete(struct jpip__bin_store *s, const struct bin *b)
{
    const size_t mask = s->cap - 1;
    size_t i = (size_t)b->hash & mask;
    while (s->slots[i] != b)
        i = (i + 1) & mask;
    s->slots[i] = NULL;
    for (size_t j = (i + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
        const size_t home = (size_t)s->slots[j]->hash & mask;
        /* Entry j may move to the hole at i unless its home lies cyclically in (i, j]. */
        const int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            s->slots[i] = s->slots[j];
            s->slots[j] = NULL;
            i = j;
        }
    }
    s->used--;
}

/* ---- LRU list ---- */

static void lru_unlink(struct jpip__bin_store *s, struct bin *b)
{
    if (b->older)
        b->older->newer = b->newer;
    else
        s->oldest = b->newer;
    if (b->newer)
        b->newer->older = b->older;
    else
        s->newest = b->older;
    b->older = b->newer = NULL;
}

static void lru_push_newest(struct jpip__bin_store *s, struct bin *b)
{
    b->older = s->newest;
    b->newer = NULL;
    if (s->newest)
        s->newest->newer = b;
    else
        s->oldest = b;
    s->newest = b;
}

static void lru_touch(struct jpip__bin_store *s, struct bin *b)
{
    if (s->newest != b) {
        lru_unlink(s, b);
        lru_push_newest(s, b);
    }
}

/* ---- bins ---- */

static void free_bin(const struct jpip__bin_store *s, struct bin *b)
{
    for (uint32_t i = 0; i < b->nchunks; i++)
        jpip__free(s->alloc, b->chunks[i].data);
    jpip__free(s->alloc, b->chunks);
    jpip__free(s->alloc, b->prefix);
    jpip__free(s->alloc, b);
}

static struct bin *codestream_record(const struct jpip__bin_store *s, uint64_t cs)
{
    return lookup(s, CLS_CODESTREAM, cs, 0, key_hash(s, CLS_CODESTREAM, cs, 0));
}

static void remove_bin(struct jpip__bin_store *s, struct bin *b)
{
    lru_unlink(s, b);
    table_delete(s, b);
    if (is_codestream_class(b->cls)) {
        struct bin *rec = codestream_record(s, b->cs);
        assert(rec && rec->length > 0);
        if (--rec->length == 0) {
            table_delete(s, rec);
            s->bytes -= rec->acct;
            free_bin(s, rec);
        }
    }
    if (is_complete(b))
        s->complete--;
    s->bytes -= b->acct;
    s->nbins--;
    free_bin(s, b);
}

/* A main header stays while bins of its codestream need it; metadata-bin 0 (the root of the
 * file's box structure) stays while any other bin remains. */
static int is_protected(const struct jpip__bin_store *s, const struct bin *b)
{
    if (b->cls == 6)
        return codestream_record(s, b->cs) != NULL;
    if (b->cls == 8 && b->id == 0)
        return s->nbins > 1;
    return 0;
}

static void evict(struct jpip__bin_store *s, struct bin *keep)
{
    if (s->max_bytes == 0)
        return;
    /* Walk from the oldest end. Protected bins are moved to the newest end, so that later
     * passes do not walk over them again and the walk meets them once more should an eviction
     * free them; it stops after a full round without an eviction. */
    uint64_t skipped = 0;
    struct bin *b = s->oldest;
    while (b && s->bytes > s->max_bytes && skipped < s->nbins) {
        struct bin *next = b->newer;
        if (b == keep || is_protected(s, b)) {
            if (b != keep)
                lru_touch(s, b);
            skipped++;
        } else {
            remove_bin(s, b);
            s->evictions++;
            skipped = 0;
        }
        b = next;
    }
    lru_touch(s, keep);
}

/* Index of the first chunk ending after off. */
static size_t first_chunk_after(const struct bin *b, uint64_t off)
{
    size_t lo = 0, hi = b->nchunks;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (chunk_end(&b->chunks[mid]) <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the first differing byte, or n. */
static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n == 0 || memcmp(a, b, n) == 0)
        return n;
    size_t i = 0;
    while (a[i] == b[i])
        i++;
    return i;
}

static int reserve_prefix(const struct jpip__bin_store *s, struct bin *b, uint64_t need,
                          uint64_t limit)
{
    if (need <= b->prefix_cap)
        return JPIP_OK;
    if (need > SIZE_MAX)
        return JPIP_ENOMEM;
    uint64_t ncap = b->prefix_cap ? b->prefix_cap : 64;
    while (ncap < need)
        ncap *= 2; /* need <= 2^40: no overflow */
    if (ncap > limit)
        ncap = limit; /* the bin's length when known, else the bin size limit */
    if (ncap > SIZE_MAX)
        ncap = SIZE_MAX;
    uint8_t *p = jpip__realloc(s->alloc, b->prefix, b->prefix_len, (size_t)ncap);
    if (!p)
        return JPIP_ENOMEM;
    b->prefix = p;
    b->prefix_cap = (size_t)ncap;
    return JPIP_OK;
}

static int reserve_chunks(const struct jpip__bin_store *s, struct bin *b, size_t need)
{
    if (need <= b->chunk_cap)
        return JPIP_OK;
    size_t ncap = b->chunk_cap ? (size_t)b->chunk_cap * 2 : 4;
    if (ncap > JPIP__BIN_STORE_MAX_CHUNKS)
        ncap = JPIP__BIN_STORE_MAX_CHUNKS;
    struct jpip__bin_chunk *c =
        jpip__realloc(s->alloc, b->chunks, b->nchunks * sizeof *c, ncap * sizeof *c);
    if (!c)
        return JPIP_ENOMEM;
    b->chunks = c;
    b->chunk_cap = (uint32_t)ncap;
    return JPIP_OK;
}

/* A complete bin never grows again: give back the growth slack. */
static void trim_prefix(const struct jpip__bin_store *s, struct bin *b)
{
    if (b->prefix_cap == b->prefix_len)
        return;
    if (b->prefix_len == 0) {
        jpip__free(s->alloc, b->prefix);
        b->prefix = NULL;
        b->prefix_cap = 0;
        return;
    }
    uint8_t *p = jpip__realloc(s->alloc, b->prefix, b->prefix_len, b->prefix_len);
    if (p) { /* on failure the larger block is kept; nothing is lost */
        b->prefix = p;
        b->prefix_cap = b->prefix_len;
    }
}

/* What an add will do to a bin, worked out before anything changes. */
struct add_plan {
    uint64_t dup;    /* bytes of the message already held */
    int extends;     /* the message starts within or right after the prefix */
    uint64_t pend;   /* extends: the prefix end afterwards */
    size_t absorbed; /* extends: leading chunks copied into the prefix */
    uint64_t na, nb; /* !extends: the new chunk [na, nb) (empty when na >= nb) */
    size_t r0, r1;   /* !extends: chunks [r0, r1) lie inside the new chunk and go */
    size_t nchunks;  /* chunk count afterwards */
};

/* Compare the message with every held byte it overlaps, then plan the merge. */
static int plan_add(const struct bin *b, unsigned cls, uint64_t off, const uint8_t *data,
                    uint64_t end, struct add_plan *pl, struct jpip__err *err)
{
    memset(pl, 0, sizeof *pl);
    if (off < b->prefix_len) {
        const size_t n = (size_t)((end < b->prefix_len ? end : b->prefix_len) - off);
        const size_t at = first_diff(b->prefix + off, data, n);
        if (at < n)
            return jpip__errf(err, JPIP_EPROTOCOL,
                              BIN_FMT ": byte %" PRIu64 " differs from the one held", cls, b->cs,
                              b->id, off + at);
        pl->dup += n;
    }
    const size_t i0 = first_chunk_after(b, off);
    size_t i1 = i0;
    for (; i1 < b->nchunks && b->chunks[i1].off < end; i1++) {
        const struct jpip__bin_chunk *c = &b->chunks[i1];
        const uint64_t lo = off > c->off ? off : c->off;
        const uint64_t hi = end < chunk_end(c) ? end : chunk_end(c);
        const size_t n = (size_t)(hi - lo);
        const size_t at = first_diff(c->data + (lo - c->off), data + (lo - off), n);
        if (at < n)
            return jpip__errf(err, JPIP_EPROTOCOL,
                              BIN_FMT ": byte %" PRIu64 " differs from the one held", cls, b->cs,
                              b->id, lo + at);
        pl->dup += n;
    }

    if (off <= b->prefix_len) {
        /* Extend the prefix, then swallow every chunk it now reaches (chunks all start past
         * the old prefix, so they are the leading ones). */
        pl->extends = 1;
        pl->pend = end > b->prefix_len ? end : b->prefix_len;
        size_t k = 0;
        while (k < b->nchunks && b->chunks[k].off <= pl->pend) {
            if (chunk_end(&b->chunks[k]) > pl->pend)
                pl->pend = chunk_end(&b->chunks[k]);
            k++;
        }
        pl->absorbed = k;
        pl->nchunks = b->nchunks - k;
        return JPIP_OK;
    }
    /* Out of order: keep the bytes not yet held as one new chunk. Only the first and last
     * overlapping chunks can stick out of the message; those trim it, the others lie inside
     * it and are replaced by it. */
    pl->na = off;
    pl->nb = end;
    pl->r0 = i0;
    pl->r1 = i1;
    if (i0 < i1 && b->chunks[i0].off <= off) {
        pl->na = chunk_end(&b->chunks[i0]);
        pl->r0 = i0 + 1;
    }
    if (i0 < i1 && chunk_end(&b->chunks[i1 - 1]) > end) {
        pl->nb = b->chunks[i1 - 1].off;
        pl->r1 = i1 - 1;
    }
    if (pl->na >= pl->nb)
        pl->nchunks = b->nchunks; /* nothing new */
    else
        pl->nchunks = b->nchunks - (pl->r1 - pl->r0) + 1;
    return JPIP_OK;
}

/* Carry out a plan whose memory is already reserved. Cannot fail. */
static void apply_add(const struct jpip__bin_store *s, struct bin *b, const struct add_plan *pl,
                      uint64_t off, const uint8_t *data, uint64_t end, uint8_t *block)
{
    if (pl->extends) {
        if (end > b->prefix_len)
            memcpy(b->prefix + b->prefix_len, data + (b->prefix_len - off),
                   (size_t)(end - b->prefix_len));
        /* Overlaps between absorbed chunks and the message were checked to be equal. */
        for (size_t k = 0; k < pl->absorbed; k++) {
            memcpy(b->prefix + b->chunks[k].off, b->chunks[k].data, b->chunks[k].len);
            jpip__free(s->alloc, b->chunks[k].data);
        }
        if (pl->absorbed && b->nchunks > pl->absorbed)
            memmove(b->chunks, b->chunks + pl->absorbed,
                    (b->nchunks - pl->absorbed) * sizeof *b->chunks);
        b->prefix_len = (size_t)pl->pend;
    } else if (block) {
        memcpy(block, data + (pl->na - off), (size_t)(pl->nb - pl->na));
        for (size_t k = pl->r0; k < pl->r1; k++)
            jpip__free(s->alloc, b->chunks[k].data);
        if (b->nchunks > pl->r1)
            memmove(b->chunks + pl->r0 + 1, b->chunks + pl->r1,
                    (b->nchunks - pl->r1) * sizeof *b->chunks);
        b->chunks[pl->r0].off = pl->na;
        b->chunks[pl->r0].len = (size_t)(pl->nb - pl->na);
        b->chunks[pl->r0].data = block;
    }
    b->nchunks = (uint32_t)pl->nchunks;
}

int jpip__bin_store_add(struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id,
                        uint64_t off, const uint8_t *data, size_t len, int last,
                        struct jpip__err *err)
{
    unsigned fc;
    if (!s || (len && !data))
        return jpip__errf(err, JPIP_EINVAL, "bin store: no store or no data");
    if (fold_key(cls, &cs, id, &fc) < 0)
        return jpip__errf(err, JPIP_EINVAL, BIN_FMT ": not a data-bin the store holds", cls, cs,
                          id);
    if (off > JPIP__BIN_STORE_MAX_LEN || len > JPIP__BIN_STORE_MAX_LEN - off)
        return jpip__errf(err, JPIP_ELIMIT,
                          BIN_FMT ": bytes from %" PRIu64 " (%zu of them) pass the %" PRIu64
                                  "-byte bin limit",
                          fc, cs, id, off, len, JPIP__BIN_STORE_MAX_LEN);
    const uint64_t end = off + len;
    const uint64_t h = key_hash(s, fc, cs, id);
    struct bin *b = lookup(s, fc, cs, id, h);
    if (!b && len == 0 && !last) {
        s->adds++;
        return JPIP_OK;
    }

    /* Length rules (jpip-notes 4.2): the length comes from the message with the last byte. */
    struct bin empty;
    memset(&empty, 0, sizeof empty);
    empty.cs = cs;
    empty.id = id;
    const struct bin *cur = b ? b : &empty;
    if (cur->length_known) {
        if (end > cur->length)
            return jpip__errf(err, JPIP_EPROTOCOL,
                              BIN_FMT ": bytes up to %" PRIu64 " pass its length %" PRIu64, fc, cs,
                              id, end, cur->length);
        if (last && end != cur->length)
            return jpip__errf(err, JPIP_EPROTOCOL,
                              BIN_FMT ": last-byte flag at %" PRIu64
                                      " contradicts its known length %" PRIu64,
                              fc, cs, id, end, cur->length);
    } else if (last && held_end(cur) > end) {
        return jpip__errf(err, JPIP_EPROTOCOL,
                          BIN_FMT ": last-byte flag sets its length to %" PRIu64
                                  " but bytes up to %" PRIu64 " are held",
                          fc, cs, id, end, held_end(cur));
    }

    struct add_plan pl;
    JPIP_TRY(plan_add(cur, fc, off, data, end, &pl, err));
    if (pl.nchunks > JPIP__BIN_STORE_MAX_CHUNKS)
        return jpip__errf(err, JPIP_ELIMIT,
                          BIN_FMT ": more than %u out-of-order ranges (at offset %" PRIu64 ")", fc,
                          cs, id, JPIP__BIN_STORE_MAX_CHUNKS, off);
    const uint64_t new_held = cur->held + (len - pl.dup);
    const uint64_t new_acct = charge(new_held, pl.nchunks);
    if (s->max_bytes && new_acct > s->max_bytes)
        return jpip__errf(err, JPIP_ELIMIT,
                          BIN_FMT ": %" PRIu64 " bytes would exceed the store's budget of %" PRIu64
                                  " on their own",
                          fc, cs, id, new_acct, s->max_bytes);

    /* Acquire every resource before changing anything, so failure leaves the store as it was.
     * A grown table or buffer with unchanged contents is harmless. */
    const int is_new = b == NULL;
    struct bin *rec = NULL;
    int new_rec = 0;
    uint8_t *block = NULL;
    if (is_new) {
        b = jpip__calloc(s->alloc, 1, sizeof *b);
        if (!b)
            goto nomem;
        b->hash = h;
        b->cls = (uint8_t)fc;
        b->cs = cs;
        b->id = id;
        if (is_codestream_class(fc)) {
            rec = codestream_record(s, cs);
            if (!rec) {
                rec = jpip__calloc(s->alloc, 1, sizeof *rec);
                if (!rec)
                    goto nomem;
                new_rec = 1;
                rec->cls = CLS_CODESTREAM;
                rec->cs = cs;
                rec->hash = key_hash(s, CLS_CODESTREAM, cs, 0);
                rec->acct = JPIP__BIN_STORE_BIN_OVERHEAD;
            }
        }
        if (reserve_slots(s, new_rec ? 2 : 1) < 0)
            goto nomem;
    }
    const int knows_length = b->length_known || last;
    const uint64_t limit = b->length_known ? b->length : last ? end : JPIP__BIN_STORE_MAX_LEN;
    if (pl.extends && pl.pend > b->prefix_len) {
        if (reserve_prefix(s, b, pl.pend, limit) < 0)
            goto nomem;
    } else if (!pl.extends && pl.na < pl.nb) {
        if (reserve_chunks(s, b, pl.nchunks) < 0)
            goto nomem;
        block = jpip__alloc(s->alloc, (size_t)(pl.nb - pl.na));
        if (!block)
            goto nomem;
    }

    /* Commit. */
    const int was_complete = is_complete(b);
    if (is_new) {
        table_insert(s, b);
        lru_push_newest(s, b);
        s->nbins++;
        if (rec) {
            if (new_rec) {
                table_insert(s, rec);
                s->bytes += rec->acct;
            }
            rec->length++;
        }
    }
    apply_add(s, b, &pl, off, data, end, block);
    b->held = new_held;
    if (knows_length) {
        b->length_known = 1;
        b->length = limit;
    }
    if (!was_complete && is_complete(b)) {
        s->complete++;
        trim_prefix(s, b);
    }
    s->bytes = s->bytes - b->acct + new_acct;
    b->acct = new_acct;
    s->adds++;
    s->duplicate_bytes += pl.dup;
    lru_touch(s, b);
    evict(s, b);
    return JPIP_OK;

nomem:
    if (is_new && b)
        free_bin(s, b);
    if (new_rec)
        free_bin(s, rec);
    return jpip__errf(err, JPIP_ENOMEM, BIN_FMT ": out of memory adding %zu bytes at %" PRIu64, fc,
                      cs, id, len, off);
}

/* ---- life cycle ---- */

int jpip__bin_store_create(struct jpip__bin_store **out, const struct jpip_allocator *a,
                           uint64_t max_bytes)
{
    if (!out)
        return JPIP_EINVAL;
    *out = NULL;
    struct jpip__bin_store *s = jpip__calloc(a, 1, sizeof *s);
    if (!s)
        return JPIP_ENOMEM;
    s->alloc = a;
    s->max_bytes = max_bytes;
    s->seed = mix64((uint64_t)(uintptr_t)s ^ 0x6a09e667f3bcc908u);
    *out = s;
    return JPIP_OK;
}

void jpip__bin_store_clear(struct jpip__bin_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i])
            free_bin(s, s->slots[i]);
    jpip__free(s->alloc, s->slots);
    s->slots = NULL;
    s->cap = s->used = 0;
    s->oldest = s->newest = NULL;
    s->nbins = s->bytes = s->complete = 0;
}

void jpip__bin_store_destroy(struct jpip__bin_store *s)
{
    if (!s)
        return;
    jpip__bin_store_clear(s);
    jpip__free(s->alloc, s);
}

/* ---- queries ---- */

static struct bin *find(const struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id,
                        int *rc)
{
    unsigned fc;
    *rc = s ? fold_key(cls, &cs, id, &fc) : JPIP_EINVAL;
    if (*rc < 0)
        return NULL;
    return lookup(s, fc, cs, id, key_hash(s, fc, cs, id));
}

int jpip__bin_store_get(const struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id,
                        const uint8_t **prefix, uint64_t *prefix_len, int *complete)
{
    int rc;
    const struct bin *b = find(s, cls, cs, id, &rc);
    if (prefix)
        *prefix = b && b->prefix_len ? b->prefix : NULL;
    if (prefix_len)
        *prefix_len = b ? b->prefix_len : 0;
    if (complete)
        *complete = b ? is_complete(b) : 0;
    return rc;
}

void jpip__bin_store_touch(struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id)
{
    int rc;
    struct bin *b = find(s, cls, cs, id, &rc);
    if (b)
        lru_touch(s, b);
}

static void describe(const struct bin *b, struct jpip__bin_info *info)
{
    info->cls = b->cls;
    info->cs = b->cs;
    info->id = b->id;
    info->prefix = b->prefix_len ? b->prefix : NULL;
    info->prefix_len = b->prefix_len;
    info->chunks = b->chunks;
    info->nchunks = b->nchunks;
    info->length_known = b->length_known;
    info->length = b->length_known ? b->length : 0;
    info->complete = is_complete(b);
    info->held_bytes = b->held;
}

int jpip__bin_store_info(const struct jpip__bin_store *s, unsigned cls, uint64_t cs, uint64_t id,
                         struct jpip__bin_info *info)
{
    int rc;
    const struct bin *b = find(s, cls, cs, id, &rc);
    if (rc < 0)
        return rc;
    if (!b)
        return JPIP_ENOTFOUND;
    describe(b, info);
    return JPIP_OK;
}

int jpip__bin_store_visit(const struct jpip__bin_store *s,
                          int (*fn)(void *u, const struct jpip__bin_info *info), void *u)
{
    if (!s || !fn)
        return JPIP_EINVAL;
    for (const struct bin *b = s->oldest; b; b = b->newer) {
        struct jpip__bin_info info;
        describe(b, &info);
        const int rc = fn(u, &info);
        if (rc)
            return rc;
    }
    return JPIP_OK;
}

struct foreach_adapter {
    int (*fn)(void *u, unsigned cls, uint64_t cs, uint64_t id, uint64_t prefix_len, int complete);
    void *u;
};

static int foreach_one(void *u, const struct jpip__bin_info *info)
{
    const struct foreach_adapter *a = u;
    return a->fn(a->u, info->cls, info->cs, info->id, info->prefix_len, info->complete);
}

int jpip__bin_store_foreach(const struct jpip__bin_store *s,
                            int (*fn)(void *u, unsigned cls, uint64_t cs, uint64_t id,
                                      uint64_t prefix_len, int complete),
                            void *u)
{
    if (!fn)
        return JPIP_EINVAL;
    struct foreach_adapter a = {fn, u};
    return jpip__bin_store_visit(s, foreach_one, &a);
}

void jpip__bin_store_stats(const struct jpip__bin_store *s, struct jpip__bin_store_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!s)
        return;
    st->bins = s->nbins;
    st->bytes = s->bytes;
    st->complete_bins = s->complete;
    st->evictions = s->evictions;
    st->adds = s->adds;
    st->duplicate_bytes = s->duplicate_bytes;
}

const struct jpip_allocator *jpip__bin_store_allocator(const struct jpip__bin_store *s)
{
    return s->alloc;
}

uint64_t jpip__bin_store_max_bytes(const struct jpip__bin_store *s)
{
    return s->max_bytes;
}

void jpip__bin_store_swap(struct jpip__bin_store *a, struct jpip__bin_store *b)
{
    const struct jpip__bin_store t = *a;
    *a = *b;
    *b = t;
}

/* ---- invariants ---- */

static int check_bin(const struct jpip__bin_store *s, const struct bin *b, struct jpip__err *err)
{
    uint64_t held = b->prefix_len;
    JPIP_FAIL_IF(b->prefix_len > b->prefix_cap || (b->prefix_cap && !b->prefix), err, JPIP_EINVAL,
                 "bin %" PRIu64 ": prefix buffer", b->id);
    JPIP_FAIL_IF(b->nchunks > b->chunk_cap || b->nchunks > JPIP__BIN_STORE_MAX_CHUNKS, err,
                 JPIP_EINVAL, "bin %" PRIu64 ": chunk count", b->id);
    uint64_t prev_end = b->prefix_len;
    for (uint32_t i = 0; i < b->nchunks; i++) {
        const struct jpip__bin_chunk *c = &b->chunks[i];
        JPIP_FAIL_IF(c->len == 0 || !c->data, err, JPIP_EINVAL, "bin %" PRIu64 ": empty chunk",
                     b->id);
        JPIP_FAIL_IF(c->off <= prev_end && !(i > 0 && c->off == prev_end), err, JPIP_EINVAL,
                     "bin %" PRIu64 ": chunk %u at %" PRIu64 " overlaps or touches the prefix",
                     b->id, i, c->off);
        prev_end = chunk_end(c);
        held += c->len;
    }
    JPIP_FAIL_IF(held != b->held, err, JPIP_EINVAL, "bin %" PRIu64 ": held count", b->id);
    JPIP_FAIL_IF(prev_end > JPIP__BIN_STORE_MAX_LEN, err, JPIP_EINVAL, "bin %" PRIu64 ": too long",
                 b->id);
    JPIP_FAIL_IF(b->length_known && prev_end > b->length, err, JPIP_EINVAL,
                 "bin %" PRIu64 ": data past its length", b->id);
    JPIP_FAIL_IF(b->acct != charge(b->held, b->nchunks), err, JPIP_EINVAL,
                 "bin %" PRIu64 ": accounting", b->id);
    JPIP_FAIL_IF(b->cls > 8 || (b->cls & 1) || (b->cls == 8 && b->cs), err, JPIP_EINVAL,
                 "bin %" PRIu64 ": key", b->id);
    JPIP_FAIL_IF(lookup(s, b->cls, b->cs, b->id, b->hash) != b ||
                     b->hash != key_hash(s, b->cls, b->cs, b->id),
                 err, JPIP_EINVAL, "bin %" PRIu64 ": not found in the table", b->id);
    return JPIP_OK;
}

int jpip__bin_store_check(const struct jpip__bin_store *s, struct jpip__err *err)
{
    JPIP_FAIL_IF(!s, err, JPIP_EINVAL, "no store");
    size_t used = 0, records = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < s->cap; i++) {
        const struct bin *e = s->slots[i];
        if (!e)
            continue;
        used++;
        if (e->cls == CLS_CODESTREAM) {
            records++;
            bytes += e->acct;
            JPIP_FAIL_IF(e->length == 0, err, JPIP_EINVAL, "empty codestream record");
            /* Quadratic in codestreams; fine for tests. */
            uint64_t n = 0;
            for (const struct bin *b = s->oldest; b; b = b->newer)
                n += is_codestream_class(b->cls) && b->cs == e->cs;
            JPIP_FAIL_IF(n != e->length, err, JPIP_EINVAL,
                         "codestream %" PRIu64 ": record counts %" PRIu64 " bins, %" PRIu64 " held",
                         e->cs, e->length, n);
            JPIP_FAIL_IF(lookup(s, e->cls, e->cs, e->id, e->hash) != e, err, JPIP_EINVAL,
                         "codestream record not found in the table");
        }
    }
    JPIP_FAIL_IF(used != s->used || (s->cap && used > s->cap / 2), err, JPIP_EINVAL,
                 "table holds %zu entries, counted %zu", used, s->used);
    uint64_t nbins = 0, complete = 0;
    const struct bin *prev = NULL;
    for (const struct bin *b = s->oldest; b; b = b->newer) {
        JPIP_FAIL_IF(b->older != prev, err, JPIP_EINVAL, "LRU list links");
        JPIP_TRY(check_bin(s, b, err));
        nbins++;
        complete += is_complete(b) ? 1u : 0u;
        bytes += b->acct;
        prev = b;
        JPIP_FAIL_IF(nbins > s->used, err, JPIP_EINVAL, "LRU list loops");
    }
    JPIP_FAIL_IF(prev != s->newest, err, JPIP_EINVAL, "LRU list tail");
    JPIP_FAIL_IF(nbins != s->nbins || nbins + records != used, err, JPIP_EINVAL,
                 "%" PRIu64 " bins listed, %" PRIu64 " counted, %zu table entries", nbins, s->nbins,
                 used);
    JPIP_FAIL_IF(complete != s->complete, err, JPIP_EINVAL, "complete count");
    JPIP_FAIL_IF(bytes != s->bytes, err, JPIP_EINVAL,
                 "accounted %" PRIu64 " bytes, counted %" PRIu64, bytes, s->bytes);
    return JPIP_OK;
}
