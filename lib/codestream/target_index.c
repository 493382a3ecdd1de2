/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A target's persistent packet index: loading a saved index (header checked against the
 * file's identity, size and codestream layout; each tile record handed to its codestream to
 * be checked when the tile is first used) and saving the tiles indexed so far, merged with
 * the records another process saved. Bytes only: lib/io reads and writes the files.
 */
#include <string.h>

#include "codestream/index_serial.h"
#include "codestream/target_internal.h"
#include "common/alloc.h"

struct load_ctx {
    struct jpip_target *t;
    const uint8_t *base; /* the scanned bytes */
    const uint8_t *copy; /* the target's copy of them */
    uint32_t taken;
};

static int shape_matches(void *user, uint32_t ncs, uint32_t i, uint32_t ntiles)
{
    struct jpip_target *t = user;
    if (ncs != jpip_target_codestream_count(t))
        return -1;
    return jpip__target_codestream(t, i)->mh.siz.ntiles == ntiles ? 0 : -1;
}

static int same_identity(const struct jpip__index_header *h, const char *identity)
{
    size_t il = strlen(identity);
    return h->identity_len == il && memcmp(h->identity, identity, il) == 0;
}

static int take_record(void *user, uint32_t cs, uint32_t tile, const uint8_t *rec, size_t len)
{
    struct load_ctx *x = user;
    struct jpip__codestream *c = jpip__target_codestream(x->t, cs);
    if (!c || tile >= c->mh.siz.ntiles)
        return 0; /* a record for nothing we have: ignored */
    const struct jpip_allocator *a = jpip__target_alloc(x->t);
    if (!c->saved_rec) {
        c->saved_rec = jpip__calloc(a, c->mh.siz.ntiles, sizeof *c->saved_rec);
        c->saved_len = jpip__calloc(a, c->mh.siz.ntiles, sizeof *c->saved_len);
        if (!c->saved_rec || !c->saved_len)
            return JPIP_ENOMEM;
    }
    c->saved_rec[tile] = x->copy + (rec - x->base);
    c->saved_len[tile] = len;
    x->taken++;
    return 0;
}

static void forget_saved(struct jpip_target *t)
{
    for (unsigned i = 0; i < jpip_target_codestream_count(t); i++) {
        struct jpip__codestream *c = jpip__target_codestream(t, i);
        if (c->saved_rec)
            memset(c->saved_rec, 0, c->mh.siz.ntiles * sizeof *c->saved_rec);
    }
    jpip__target_adopt_index(t, NULL);
}

int jpip__target_index_load(struct jpip_target *t, const char *identity, const uint8_t *data,
                            size_t len, struct jpip__index_load_stats *st, struct jpip__err *err)
{
    memset(st, 0, sizeof *st);
    struct jpip__index_header h;
    JPIP_TRY(jpip__index_header_parse(data, len, &h, shape_matches, t, err));
    JPIP_FAIL_IF(!same_identity(&h, identity), err, JPIP_EMALFORMED,
                 "index describes another version of the file (identity at offset 12)");
    JPIP_FAIL_IF(h.source_size != jpip__target_source(t)->size, err, JPIP_EMALFORMED,
                 "index describes a file of %llu bytes, not %llu",
                 (unsigned long long)h.source_size,
                 (unsigned long long)jpip__target_source(t)->size);
    uint8_t *copy = jpip__alloc(jpip__target_alloc(t), len);
    if (!copy)
        return jpip__errf(err, JPIP_ENOMEM, "out of memory for the saved index");
    memcpy(copy, data, len);
    forget_saved(t);
    jpip__target_adopt_index(t, copy);
    struct load_ctx x = {t, data, copy, 0};
    int rc = jpip__index_records_scan(data, len, h.records_off, take_record, &x, err);
    if (rc < 0) {
        /* A cut tail (a torn write): keep the records before it. Out of memory: none. */
        if (rc == JPIP_ENOMEM) {
            forget_saved(t);
            return jpip__errf(err, JPIP_ENOMEM, "out of memory for the saved index");
        }
        st->damaged++;
        rc = 0;
    }
    st->records = x.taken;
    st->damaged += (uint32_t)rc;
    return JPIP_OK;
}

struct save_ctx {
    struct jpip_target *t;
    struct jpip__buf *out;
};

static int keep_old(void *user, uint32_t cs, uint32_t tile, const uint8_t *rec, size_t len)
{
    struct save_ctx *x = user;
    struct jpip__codestream *c = jpip__target_codestream(x->t, cs);
    if (!c || tile >= c->mh.siz.ntiles || c->tile_status[tile] != 0)
        return 0; /* indexed here (or found broken here): ours is at least as good */
    return jpip__buf_append(x->out, rec, len);
}

int jpip__target_index_save(struct jpip_target *t, const char *identity, const uint8_t *old,
                            size_t old_len, struct jpip__buf *out)
{
    unsigned ncs = jpip_target_codestream_count(t);
    const struct jpip_allocator *a = jpip__target_alloc(t);
    uint32_t *ntiles = jpip__calloc(a, ncs ? ncs : 1, sizeof *ntiles);
    if (!ntiles)
        return JPIP_ENOMEM;
    for (unsigned i = 0; i < ncs; i++)
        ntiles[i] = jpip__target_codestream(t, i)->mh.siz.ntiles;
    int rc = jpip__index_header_encode(out, identity, jpip__target_source(t)->size, ncs, ntiles);
    jpip__free(a, ntiles);
    JPIP_TRY(rc);
    for (unsigned i = 0; i < ncs; i++) {
        struct jpip__codestream *c = jpip__target_codestream(t, i);
        for (uint32_t k = 0; k < c->mh.siz.ntiles; k++)
            if (c->tile_status[k] == 1)
                JPIP_TRY(jpip__index_record_encode(out, i, c->tiles[k]));
    }
    if (old && old_len) {
        struct jpip__index_header h;
        struct jpip__err ignored;
        if (jpip__index_header_parse(old, old_len, &h, shape_matches, t, &ignored) == JPIP_OK &&
            same_identity(&h, identity) && h.source_size == jpip__target_source(t)->size) {
            struct save_ctx x = {t, out};
            rc = jpip__index_records_scan(old, old_len, h.records_off, keep_old, &x, &ignored);
            if (rc == JPIP_ENOMEM || rc == JPIP_ELIMIT)
                return rc;
        }
    }
    return JPIP_OK;
}

void jpip__target_index_counts(struct jpip_target *t, uint64_t *walked, uint64_t *loaded,
                               uint64_t *rejected)
{
    *walked = *loaded = *rejected = 0;
    for (unsigned i = 0; i < jpip_target_codestream_count(t); i++) {
        const struct jpip__codestream *c = jpip__target_codestream(t, i);
        *walked += c->tiles_walked;
        *loaded += c->tiles_loaded;
        *rejected += c->tiles_rejected;
    }
}
