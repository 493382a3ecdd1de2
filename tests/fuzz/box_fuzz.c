/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz harness for lib/codestream/box.c. The input is a whole file. It checks that file-kind
 * detection, the box-tree parser and the codestream locator never crash or leak, that a parsed
 * tree tiles the file exactly (every box sequence, including each superbox's contents after
 * its prefix, is covered by its boxes with no gap or overlap; parents precede children;
 * depths and header lengths are consistent), that a lower box limit fails with JPIP_ELIMIT
 * or gives the same tree, that every fragment lies inside the file and sums to the
 * codestream length, and that the span source returns the same bytes as direct reads,
 * including reads that cross fragment boundaries.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codestream/box.h"
#include "common/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

#define MAX_BOXES 4096
#define SMALL_MAX_BOXES 8

static void check_tree(const struct jpip__box_tree *t, uint64_t file_size)
{
    /* cursor[i]: where the next child of box i must start; top for the top level. */
    uint64_t *cursor = calloc(t->n ? t->n : 1, sizeof *cursor);
    CHECK(cursor != NULL);
    uint64_t top = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        const struct jpip__box *b = &t->v[i];
        CHECK(b->hdr_len == 8 || b->hdr_len == 16);
        CHECK(b->len >= b->hdr_len);
        CHECK(b->depth <= JPIP__BOX_MAX_DEPTH);
        uint64_t *cur = &top;
        uint64_t end = file_size;
        if (b->parent < 0) {
            CHECK(b->depth == 0);
        } else {
            const struct jpip__box *p = &t->v[b->parent];
            CHECK((uint32_t)b->parent < i);
            CHECK(b->depth == p->depth + 1);
            CHECK(jpip__box_is_superbox(p->type, NULL));
            cur = &cursor[b->parent];
            end = p->off + p->len;
        }
        CHECK(b->off == *cur);
        CHECK(b->len <= end - b->off);
        CHECK(!b->to_end || b->off + b->len == end);
        *cur += b->len;
        uint32_t prefix = 0;
        if (jpip__box_is_superbox(b->type, &prefix)) {
            CHECK(prefix <= b->len - b->hdr_len);
            cursor[i] = b->off + b->hdr_len + prefix;
        }
    }
    CHECK(top == file_size);
    for (uint32_t i = 0; i < t->n; i++)
        if (jpip__box_is_superbox(t->v[i].type, NULL))
            CHECK(cursor[i] == t->v[i].off + t->v[i].len);
    free(cursor);
}

static void check_span(const struct jpip_source *file, const uint8_t *data,
                       const struct jpip__cs_location *loc)
{
    struct jpip__span_source ss;
    jpip__span_source_init(&ss, file, loc->frag, loc->nfrag);
    CHECK(ss.src.size == loc->len);
    uint8_t got[64];
    uint64_t base = 0;
    for (uint32_t i = 0; i < loc->nfrag && i < 64; i++) {
        const struct jpip__span *f = &loc->frag[i];
        /* The start of each fragment. */
        size_t n = f->len < 32 ? (size_t)f->len : 32;
        CHECK(jpip__src_read(&ss.src, base, got, n, NULL) == JPIP_OK);
        CHECK(memcmp(got, data + f->off, n) == 0);
        /* A read straddling the boundary with the next fragment. */
        if (i + 1 < loc->nfrag) {
            const struct jpip__span *g = &loc->frag[i + 1];
            const size_t tail = f->len < 16 ? (size_t)f->len : 16;
            const size_t head = g->len < 16 ? (size_t)g->len : 16;
            CHECK(jpip__src_read(&ss.src, base + f->len - tail, got, tail + head, NULL) == JPIP_OK);
            CHECK(memcmp(got, data + f->off + f->len - tail, tail) == 0);
            CHECK(memcmp(got + tail, data + g->off, head) == 0);
        }
        base += f->len;
    }
    /* One byte past the end is refused. */
    CHECK(jpip__src_read(&ss.src, loc->len, got, 1, NULL) == JPIP_EMALFORMED);
}

static void check_codestreams(const struct jpip__box_tree *t, const struct jpip_source *src,
                              const uint8_t *data, size_t size, int kind)
{
    struct jpip__cs_location *loc = NULL;
    uint32_t n = 0;
    struct jpip__err err;
    jpip__err_clear(&err);
    const int rc = jpip__box_codestreams(t, src, kind, &loc, &n, NULL, &err);
    if (rc != JPIP_OK) {
        CHECK(rc == JPIP_EMALFORMED || rc == JPIP_EUNSUPPORTED);
        CHECK(loc == NULL && n == 0 && err.msg[0] != '\0');
        return;
    }
    CHECK((n == 0) == (loc == NULL));
    for (uint32_t i = 0; i < n; i++) {
        uint64_t sum = 0;
        for (uint32_t j = 0; j < loc[i].nfrag; j++) {
            CHECK(loc[i].frag[j].len > 0);
            CHECK(loc[i].frag[j].off <= size && loc[i].frag[j].len <= size - loc[i].frag[j].off);
            sum += loc[i].frag[j].len;
        }
        CHECK(sum == loc[i].len);
        if (kind == JPIP__FILE_J2K) {
            CHECK(n == 1 && loc[i].box == -1 && loc[i].len == size);
        } else {
            CHECK(loc[i].box >= 0 && (uint32_t)loc[i].box < t->n);
            const uint32_t type = t->v[loc[i].box].type;
            CHECK(type == JPIP__BOX_JP2C || type == JPIP__BOX_FTBL);
            CHECK(i == 0 || loc[i].box > loc[i - 1].box);
        }
        if (i < 16)
            check_span(src, data, &loc[i]);
    }
    jpip__cs_locations_free(loc, n, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jpip_source src;
    jpip_memory_source_init(&src, data, size);
    struct jpip__err err;
    jpip__err_clear(&err);

    int kind = -1;
    const int kind_rc = jpip__file_kind(&src, &kind, &err);
    CHECK(kind_rc == JPIP_OK || kind_rc == JPIP_EMALFORMED);
    if (kind_rc == JPIP_OK)
        CHECK(kind == JPIP__FILE_J2K || kind == JPIP__FILE_JP2 || kind == JPIP__FILE_JPX);

    /* The tree parser runs on every input, box file or not. */
    struct jpip__box_tree t;
    const int rc = jpip__box_tree_parse(&t, &src, MAX_BOXES, NULL, &err);
    if (rc != JPIP_OK) {
        CHECK(rc == JPIP_EMALFORMED || rc == JPIP_ELIMIT);
        CHECK(t.v == NULL && t.n == 0 && err.msg[0] != '\0');
    } else {
        check_tree(&t, size);
        struct jpip__box_tree small;
        const int rc2 = jpip__box_tree_parse(&small, &src, SMALL_MAX_BOXES, NULL, NULL);
        if (t.n > SMALL_MAX_BOXES) {
            CHECK(rc2 == JPIP_ELIMIT);
        } else {
            CHECK(rc2 == JPIP_OK && small.n == t.n);
            for (uint32_t i = 0; i < t.n; i++) {
                const struct jpip__box *x = &t.v[i], *y = &small.v[i];
                CHECK(x->type == y->type && x->off == y->off && x->len == y->len);
                CHECK(x->hdr_len == y->hdr_len && x->to_end == y->to_end);
                CHECK(x->parent == y->parent && x->depth == y->depth);
            }
            jpip__box_tree_free(&small, NULL);
        }
    }

    if (kind_rc == JPIP_OK && kind == JPIP__FILE_J2K)
        check_codestreams(NULL, &src, data, size, kind);
    else if (kind_rc == JPIP_OK && rc == JPIP_OK)
        check_codestreams(&t, &src, data, size, kind);
    jpip__box_tree_free(&t, NULL);
    return 0;
}
