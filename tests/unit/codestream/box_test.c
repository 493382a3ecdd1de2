/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for lib/codestream/box.c: box trees built in memory (32-bit, XLBox, LBox = 0, nested and
 * prefixed superboxes), every malformed header shape, the box and depth limits, fragment tables
 * read through the span source, allocation failures, and the conformance JP2 files on disk.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>

#include "codestream/box.h"
#include "common/bytes.h"
#include "common/source.h"
#include "test.h"

/* ---- an in-memory box writer ---------------------------------------------------------------- */

#define BW_MAX (1u << 16)
struct bw {
    uint8_t d[BW_MAX];
    size_t n;
    size_t open[64]; /* header offsets of unfinished boxes */
    uint8_t xl[64];  /* whether each uses XLBox */
    int sp;
};

static void put(struct bw *w, const void *p, size_t n)
{
    if (w->n + n > BW_MAX) {
        fprintf(stderr, "test box writer overflow\n");
        abort();
    }
    memcpy(w->d + w->n, p, n);
    w->n += n;
}
static void put8(struct bw *w, uint8_t v)
{
    put(w, &v, 1);
}
static void put16(struct bw *w, uint16_t v)
{
    uint8_t b[2];
    jpip__put_be16(b, v);
    put(w, b, 2);
}
static void put32(struct bw *w, uint32_t v)
{
    uint8_t b[4];
    jpip__put_be32(b, v);
    put(w, b, 4);
}
static void put64(struct bw *w, uint64_t v)
{
    put32(w, (uint32_t)(v >> 32));
    put32(w, (uint32_t)v);
}
static void fill(struct bw *w, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        put8(w, v);
}

/* Open a box; its length is patched by end(). */
static void begin(struct bw *w, const char *type)
{
    w->open[w->sp] = w->n;
    w->xl[w->sp++] = 0;
    put32(w, 0);
    put(w, type, 4);
}
static void begin_xl(struct bw *w, const char *type)
{
    w->open[w->sp] = w->n;
    w->xl[w->sp++] = 1;
    put32(w, 1);
    put(w, type, 4);
    put64(w, 0);
}
static void end(struct bw *w)
{
    const size_t at = w->open[--w->sp];
    if (w->xl[w->sp]) {
        const uint64_t len = w->n - at;
        jpip__put_be32(w->d + at + 8, (uint32_t)(len >> 32));
        jpip__put_be32(w->d + at + 12, (uint32_t)len);
    } else {
        jpip__put_be32(w->d + at, (uint32_t)(w->n - at));
    }
}
/* Close a box leaving LBox = 0 ("to the end"). */
static void end_zero(struct bw *w)
{
    w->sp--;
}
static void leaf(struct bw *w, const char *type, size_t body, uint8_t v)
{
    begin(w, type);
    fill(w, body, v);
    end(w);
}

static void signature(struct bw *w, const char *brand)
{
    static const uint8_t sig[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
    put(w, sig, 12);
    begin(w, "ftyp");
    put(w, brand, 4);
    put32(w, 0);
    put(w, brand, 4);
    end(w);
}

/* A tiny fake codestream: SOC, SIZ marker code, then a counting byte pattern. */
static void codestream(struct bw *w, size_t n, uint8_t seed)
{
    static const uint8_t head[4] = {0xFF, 0x4F, 0xFF, 0x51};
    put(w, head, n < 4 ? n : 4);
    for (size_t i = 4; i < n; i++)
        put8(w, (uint8_t)(seed + i));
}

static int parse(struct jpip__box_tree *t, const struct bw *w, uint32_t max, struct jpip__err *e)
{
    struct jpip_source src;
    jpip_memory_source_init(&src, w->d, w->n);
    jpip__err_clear(e);
    return jpip__box_tree_parse(t, &src, max, NULL, e);
}

/* ---- box tree ------------------------------------------------------------------------------- */

TEST(plain_jp2_tree)
{
    static struct bw w;
    memset(&w, 0, sizeof w);
    signature(&w, "jp2 ");
    begin(&w, "jp2h");
    leaf(&w, "ihdr", 14, 0);
    leaf(&w, "colr", 7, 1);
    begin(&w, "res ");
    leaf(&w, "resc", 10, 2);
    end(&w);
    end(&w);
    begin(&w, "jp2c");
    codestream(&w, 40, 0);
    end(&w);

    struct jpip__box_tree t;
    struct jpip__err e;
    ASSERT_OK(parse(&t, &w, 100, &e));
    ASSERT_EQ_U64(t.n, 8);
    const uint32_t types[8] = {JPIP__BOX_JP,
                               JPIP__BOX_FTYP,
                               JPIP__BOX_JP2H,
                               JPIP__4CC('i', 'h', 'd', 'r'),
                               JPIP__4CC('c', 'o', 'l', 'r'),
                               JPIP__4CC('r', 'e', 's', ' '),
                               JPIP__4CC('r', 'e', 's', 'c'),
                               JPIP__BOX_JP2C};
    const int32_t parents[8] = {-1, -1, -1, 2, 2, 2, 5, -1};
    const uint16_t depths[8] = {0, 0, 0, 1, 1, 1, 2, 0};
    for (int i = 0; i < 8; i++) {
        ASSERT_EQ_U64(t.v[i].type, types[i]);
        ASSERT_EQ_INT(t.v[i].parent, parents[i]);
        ASSERT_EQ_INT(t.v[i].depth, depths[i]);
        ASSERT_EQ_INT(t.v[i].hdr_len, 8);
        ASSERT_EQ_INT(t.v[i].to_end, 0);
    }
    ASSERT_EQ_U64(t.v[0].off, 0);
    ASSERT_EQ_U64(t.v[0].len, 12);
    ASSERT_EQ_U64(t.v[1].off, 12);
    ASSERT_EQ_U64(t.v[1].len, 20);
    ASSERT_EQ_U64(t.v[2].off, 32);
    ASSERT_EQ_U64(t.v[3].off, 40);
    ASSERT_EQ_U64(t.v[3].len, 22);
    ASSERT_EQ_U64(t.v[7].off + t.v[7].len, w.n);

    /* The same tree detects as JP2 and yields one codestream: the jp2c contents. */
    struct jpip_source src;
    jpip_memory_source_init(&src, w.d, w.n);
    int kind = -1;
    ASSERT_OK(jpip__file_kind(&src, &kind, &e));
    ASSERT_EQ_INT(kind, JPIP__FILE_JP2);
    struct jpip__cs_location *loc;
    uint32_t n;
    ASSERT_OK(jpip__box_codestreams(&t, &src, kind, &loc, &n, NULL, &e));
    ASSERT_EQ_U64(n, 1);
    ASSERT_EQ_INT(loc[0].box, 7);
    ASSERT_EQ_U64(loc[0].nfrag, 1);
    ASSERT_EQ_U64(loc[0].frag[0].off, t.v[7].off + 8);
    ASSERT_EQ_U64(loc[0].len, 40);
    ASSERT_EQ_U64(w.d[loc[0].frag[0].off], 0xFF);
    jpip__cs_locations_free(loc, n, NULL);
    jpip__box_tree_free(&t, NULL);
    jpip__box_tree_free(&t, NULL); /* idempotent */
    ASSERT_TRUE(t.v == NULL && t.n == 0);
}

TEST(xlbox_and_lbox_zero_last)
{
    static struct bw w;
    memset(&w, 0, sizeof w);
    signature(&w, "jp2 ");
    begin_xl(&w, "xml ");
    fill(&w, 5, 'x');
    end(&w);
    begin(&w, "jp2c");
    codestream(&w, 30, 7);
    end_zero(&w);

    struct jpip__box_tree t;
    struct jpip__err e;
    ASSERT_OK(parse(&t, &w, 100, &e));
    ASSERT_EQ_U64(t.n, 4);
    ASSERT_EQ_INT(t.v[2].hdr_len, 16);
    ASSERT_EQ_U64(t.v[2].len, 21);
    ASSERT_EQ_INT(t.v[3].to_end, 1);
    ASSERT_EQ_U64(t.v[3].len, 38);
    ASSERT_EQ_U64(t.v[3].off + t.v[3].len, w.n);
    jpip__box_tree_free(&t, NULL);

    /* An XLBox jp2c: contents start 16 bytes in. */
    memset(&w, 0, sizeof w);
    signature(&w, "jp2 ");
    begin_xl(&w, "jp2c");
    codestream(&w, 25, 1);
    end(&w);
    ASSERT_OK(parse(&t, &w, 100, &e));
    struct jpip_source src;
    jpip_memory_source_init(&src, w.d, w.n);
    struct jpip__cs_location *loc;
    uint32_t n;
    ASSERT_OK(jpip__box_codestreams(&t, &src, JPIP__FILE_JP2, &loc, &n, NULL, &e));
    ASSERT_EQ_U64(n, 1);
    ASSERT_EQ_U64(loc[0].frag[0].off, 32 + 16);
    ASSERT_EQ_U64(loc[0].len, 25);
    jpip__cs_locations_free(loc, n, NULL);
    jpip__box_tree_free(&t, NULL);
}

/* LBox = 0 inside a superbox ends at the superbox's end, even when more bytes follow it inside
 * the superbox: those bytes become part of the box, and the next top-level box still parses. */
TEST(lbox_zero_inside_superbox)
{
    static struct bw w;
    memset(&w, 0, sizeof w);
    signature(&w, "jp2 ");
    begin(&w, "jp2h");
    leaf(&w, "ihdr", 14, 0);
    begin(&w, "colr");
    fill(&w, 3, 1);
    end_zero(&w);
    leaf(&w, "cdef", 8, 2); /* swallowed by the colr box */
    end(&w);
    leaf(&w, "jp2c", 10, 0xFF);

    struct jpip__box_tree t;
    struct jpip__err e;
    ASSERT_OK(parse(&t, &w, 100, &e));
    ASSERT_EQ_U64(t.n, 6);
    ASSERT_EQ_U64(t.v[4].type, JPIP__4CC('c', 'o', 'l', 'r'));
    ASSERT_EQ_INT(t.v[4].to_end, 1);
    ASSERT_EQ_U64(t.v[4].off + t.v[4].len, t.v[2].off + t.v[2].len);
    ASSERT_EQ_U64(t.v[4].len, 8 + 3 + 16);
    ASSERT_EQ_U64(t.v[5].type, JPIP__BOX_JP2C);
    ASSERT_EQ_INT(t.v[5].parent, -1);
    jpip__box_tree_free(&t, NULL);
}

TEST(prefixed_superboxes_and_empty_superbox)
{
    static struct bw w;
    memset(&w, 0, sizeof w);
    signature(&w, "jpx ");
    begin(&w, "dtbl");
    put16(&w, 1);
    begin(&w, "url ");
    put32(&w, 0);
    put(&w, "x.j2c", 6);
    end(&w);
    end(&w);
    begin(&w, "cref");
    put(&w, "xml ", 4);
    begin(&w, "flst");
    put16(&w, 0);
    end(&w);
    end(&w);
    begin(&w, "asoc");
    end(&w);

    struct jpip__box_tree t;
    struct jpip__err e;
    ASSERT_OK(parse(&t, &w, 100, &e));
    ASSERT_EQ_U64(t.n, 7);
    ASSERT_EQ_U64(t.v[3].type, JPIP__BOX_URL);
    ASSERT_EQ_INT(t.v[3].parent, 2);
    ASSERT_EQ_U64(t.v[3].off, t.v[2].off + 8 + 2);
    ASSERT_EQ_U64(t.v[5].type, JPIP__BOX_FLST);
    ASSERT_EQ_INT(t.v[5].parent, 4);
    ASSERT_EQ_U64(t.v[5].off, t.v[4].off + 8 + 4);
    ASSERT_EQ_U64(t.v[6].len, 8);
    jpip__box_tree_free(&t, NULL);

    /* A dtbl too short for NDR. */
    memset(&w, 0, sizeof w);
    begin(&w, "dtbl");
    put8(&w, 0);
    end(&w);
    ASSERT_EQ_INT(parse(&t, &w, 100, &e), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "superbox 'dtbl' at offset 0 is too short");
}

TEST(empty_source_gives_empty_tree)
{
    static struct bw w;
    memset(&w, 0, sizeof w);
    struct jpip__box_tree t;
    struct jpip__err e;
    ASSERT_OK(parse(&t, &w, 10, &e));
    ASSERT_EQ_U64(t.n, 0);
    jpip__box_tree_free(&t, NULL);
}

/* A free box, then a box with XLBox and no contents; cut inside the second header. */
TEST(truncated_header_at_every_length)
{
    static struct bw w;
    memset(&w, 0, sizeof w);
    leaf(&w, "free", 0, 0);
    begin_xl(&w, "skip");
    end(&w);
    ASSERT_EQ_U64(w.n, 24);
    struct bw *cut = malloc(sizeof *cut);
    ASSERT_TRUE(cut != NULL);
    for (size_t len = 0; len <= w.n; len++) {
        memcpy(cut, &w, sizeof w);
        cut->n = len;
        struct jpip__box_tree t;
        struct jpip__err e;
        const int rc = parse(&t, cut, 10, &e);
        if (len == 0 || len == 8 || len == 24) {
            if (rc != JPIP_OK) {
                free(cut);
                TEST_FAIL_AT("length %zu: %s", len, e.msg);
            }
            ASSERT_EQ_U64(t.n, len / 8 - (len == 24));
            jpip__box_tree_free(&t, NULL);
            continue;
        }
        if (rc != JPIP_EMALFORMED) {
            free(cut);
            TEST_FAIL_AT("length %zu: rc %d", len, rc);
        }
        ASSERT_TRUE(t.v == NULL && t.n == 0);
        char want[64];
        snprintf(want, sizeof want, "truncated box header at offset %d", len < 8 ? 0 : 8);
        ASSERT_STR_CONTAINS(e.msg, want);
    }
    free(cut);
}

TEST(box_longer_than_parent_or_file)
{
    static struct bw w;
    struct jpip__box_tree t;
    struct jpip__err e;
    memset(&w, 0, sizeof w);
    begin(&w, "jp2h");
    leaf(&w, "ihdr", 14, 0);
    end(&w);
    jpip__put_be32(w.d + 8, 23); /* ihdr claims one byte more than jp2h holds */
    ASSERT_EQ_INT(parse(&t, &w, 10, &e), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "box 'ihdr' at offset 8 has length 23, which runs past the end "
                               "of its parent 'jp2h' at offset 0");

    memset(&w, 0, sizeof w);
    leaf(&w, "free", 4, 0);
    leaf(&w, "xml ", 4, 0);
    jpip__put_be32(w.d + 12, 13);
    ASSERT_EQ_INT(parse(&t, &w, 10, &e), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "box 'xml ' at offset 12 has length 13, which runs past the end "
                               "of the file (24 bytes)");

    /* XLBox too large for the file. */
    memset(&w, 0, sizeof w);
    begin_xl(&w, "jp2c");
    end(&w);
    jpip__put_be32(w.d + 8, 0x80000000u);
    ASSERT_EQ_INT(parse(&t, &w, 10, &e), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "runs past the end of the file");
}

TEST(bad_lbox_and_xlbox)
{
    static struct bw w;
    struct jpip__box_tree t;
    struct jpip__err e;
    for (uint32_t lbox = 2; lbox <= 7; lbox++) {
        memset(&w, 0, sizeof w);
        leaf(&w, "free", 0, 0);
        leaf(&w, "abcd", 8, 0);
        jpip__put_be32(w.d + 8, lbox);
        ASSERT_EQ_INT(parse(&t, &w, 10, &e), JPIP_EMALFORMED);
        char want[80];
        snprintf(want, sizeof want, "box 'abcd' at offset 8 has LBox = %u", lbox);
        ASSERT_STR_CONTAINS(e.msg, want);
    }
    for (uint64_t xl = 0; xl < 16; xl++) {
        memset(&w, 0, sizeof w);
        begin_xl(&w, "jp2c");
        fill(&w, 8, 0);
        end(&w);
        jpip__put_be32(w.d + 12, (uint32_t)xl);
        ASSERT_EQ_INT(parse(&t, &w, 10, &e), JPIP_EMALFORMED);
        ASSERT_STR_CONTAINS(e.msg, "has XLBox =");
        ASSERT_STR_CONTAINS(e.msg, "at offset 0");
    }
    /* A non-printable type is shown with '?'. */
    memset(&w, 0, sizeof w);
    leaf(&w, "\x01\x02zz", 0, 0);
    jpip__put_be32(w.d, 3);
    ASSERT_EQ_INT(parse(&t, &w, 10, &e), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "box '??zz'");
}

TEST(max_boxes_limit)
{
    static struct bw w;
    memset(&w, 0, sizeof w);
    for (int i = 0; i < 1000; i++)
        leaf(&w, "free", 0, 0);
    struct jpip__box_tree t;
    struct jpip__err e;
    ASSERT_OK(parse(&t, &w, 1000, &e));
    ASSERT_EQ_U64(t.n, 1000);
    jpip__box_tree_free(&t, NULL);
    ASSERT_EQ_INT(parse(&t, &w, 999, &e), JPIP_ELIMIT);
    ASSERT_STR_CONTAINS(e.msg, "box at offset 7992 exceeds the limit of 999 boxes");
    ASSERT_TRUE(t.v == NULL);
    ASSERT_EQ_INT(parse(&t, &w, 0, &e), JPIP_ELIMIT);
}

static void nest(struct bw *w, int levels)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < levels; i++)
        begin(w, "asoc");
    leaf(w, "lbl ", 2, 'a');
    for (int i = 0; i < levels; i++)
        end(w);
}

TEST(depth_limit)
{
    static struct bw w;
    struct jpip__box_tree t;
    struct jpip__err e;
    nest(&w, JPIP__BOX_MAX_DEPTH); /* the label sits at depth 32 */
    ASSERT_OK(parse(&t, &w, 100, &e));
    ASSERT_EQ_U64(t.n, JPIP__BOX_MAX_DEPTH + 1);
    ASSERT_EQ_INT(t.v[t.n - 1].depth, JPIP__BOX_MAX_DEPTH);
    ASSERT_EQ_INT(t.v[t.n - 1].parent, JPIP__BOX_MAX_DEPTH - 1);
    jpip__box_tree_free(&t, NULL);
    nest(&w, JPIP__BOX_MAX_DEPTH + 1);
    ASSERT_EQ_INT(parse(&t, &w, 100, &e), JPIP_ELIMIT);
    ASSERT_STR_CONTAINS(e.msg, "box 'lbl ' at offset 264 is nested deeper than 32");
    nest(&w, 60);
    ASSERT_EQ_INT(parse(&t, &w, 1000, &e), JPIP_ELIMIT);
}

/* ---- file kind ------------------------------------------------------------------------------ */

static int kind_of(const struct bw *w, int *kind, struct jpip__err *e)
{
    struct jpip_source src;
    jpip_memory_source_init(&src, w->d, w->n);
    jpip__err_clear(e);
    *kind = -1;
    return jpip__file_kind(&src, kind, e);
}

static void ftyp_file(struct bw *w, const char *brand, const char *compat)
{
    static const uint8_t sig[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
    memset(w, 0, sizeof *w);
    put(w, sig, 12);
    begin(w, "ftyp");
    put(w, brand, 4);
    put32(w, 0);
    put(w, compat, strlen(compat));
    end(w);
}

TEST(file_kind_detection)
{
    static struct bw w;
    struct jpip__err e;
    int kind;
    memset(&w, 0, sizeof w);
    codestream(&w, 20, 0);
    ASSERT_OK(kind_of(&w, &kind, &e));
    ASSERT_EQ_INT(kind, JPIP__FILE_J2K);

    ftyp_file(&w, "jp2 ", "jp2 ");
    ASSERT_OK(kind_of(&w, &kind, &e));
    ASSERT_EQ_INT(kind, JPIP__FILE_JP2);
    ftyp_file(&w, "jpx ", "jp2 jpx jpxb");
    ASSERT_OK(kind_of(&w, &kind, &e));
    ASSERT_EQ_INT(kind, JPIP__FILE_JPX);
    ftyp_file(&w, "jpm ", "jpmbjpx ");
    ASSERT_OK(kind_of(&w, &kind, &e));
    ASSERT_EQ_INT(kind, JPIP__FILE_JPX);
    ftyp_file(&w, "jpm ", "jpx jp2 ");
    ASSERT_OK(kind_of(&w, &kind, &e));
    ASSERT_EQ_INT(kind, JPIP__FILE_JP2);
    ftyp_file(&w, "jph ", "jph ");
    ASSERT_OK(kind_of(&w, &kind, &e));
    ASSERT_EQ_INT(kind, JPIP__FILE_JP2);
    ftyp_file(&w, "jp2 ", ""); /* empty compatibility list: still JP2 by brand */
    ASSERT_OK(kind_of(&w, &kind, &e));
    ASSERT_EQ_INT(kind, JPIP__FILE_JP2);

    /* ftyp with XLBox and LBox = 0. */
    ftyp_file(&w, "jpx ", "jpx ");
    jpip__put_be32(w.d + 12, 0);
    ASSERT_OK(kind_of(&w, &kind, &e));
    ASSERT_EQ_INT(kind, JPIP__FILE_JPX);
    memset(&w, 0, sizeof w);
    ftyp_file(&w, "jp2 ", "");
    w.n = 12;
    begin_xl(&w, "ftyp");
    put(&w, "abcd", 4);
    put32(&w, 0);
    put(&w, "jpx ", 4);
    end(&w);
    ASSERT_OK(kind_of(&w, &kind, &e));
    ASSERT_EQ_INT(kind, JPIP__FILE_JPX);

    /* Rejections. */
    memset(&w, 0, sizeof w);
    ASSERT_EQ_INT(kind_of(&w, &kind, &e), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "not a JPEG 2000 file");
    put(&w, "GIF89a, certainly not", 21);
    ASSERT_EQ_INT(kind_of(&w, &kind, &e), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "not a JPEG 2000 file");
    ftyp_file(&w, "jp2 ", "");
    w.n = 12;
    ASSERT_EQ_INT(kind_of(&w, &kind, &e), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "no ftyp box");
    ftyp_file(&w, "jp2 ", "");
    memcpy(w.d + 16, "jp2h", 4);
    ASSERT_EQ_INT(kind_of(&w, &kind, &e), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "box 'jp2h' at offset 12 where ftyp is required");
    ftyp_file(&w, "jp2 ", "");
    jpip__put_be32(w.d + 12, 12);
    ASSERT_EQ_INT(kind_of(&w, &kind, &e), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "ftyp box at offset 12 has bad length 12");
    ftyp_file(&w, "jp2 ", "");
    jpip__put_be32(w.d + 12, 99);
    ASSERT_EQ_INT(kind_of(&w, &kind, &e), JPIP_EMALFORMED);
}

/* ---- codestreams and fragments -------------------------------------------------------------- */

/* The type field of the first flst box in w. */
static uint8_t *find_flst(struct bw *w)
{
    for (size_t i = 0; i + 4 <= w->n; i++)
        if (memcmp(w->d + i, "flst", 4) == 0)
            return w->d + i;
    return NULL;
}

struct frag_file {
    struct bw w;
    uint8_t expect[256]; /* codestream 0 as the fragments concatenate */
    size_t expect_len;
};

/* JPX with codestream 0 split over three fragments held in free boxes (one of them before
 * the ftbl, one listed twice out of order, one zero-length entry), then codestream 1 in a
 * jp2c nested in an asoc. dr is the DR of the second entry. */
static void make_frag_file(struct frag_file *f, uint16_t dr)
{
    struct bw *w = &f->w;
    memset(f, 0, sizeof *f);
    signature(w, "jpx ");
    begin(w, "free");
    const size_t a_off = w->n;
    codestream(w, 30, 0);
    end(w);
    begin(w, "free");
    const size_t b_off = w->n;
    fill(w, 17, 0xB0);
    end(w);
    begin(w, "ftbl");
    begin(w, "flst");
    put16(w, 4);
    /* OFF, LEN, DR: A[0..30), B[5..17), zero-length, A[3..10) */
    put64(w, a_off);
    put32(w, 30);
    put16(w, 0);
    put64(w, b_off + 5);
    put32(w, 12);
    put16(w, dr);
    put64(w, 0);
    put32(w, 0);
    put16(w, 0);
    put64(w, a_off + 3);
    put32(w, 7);
    put16(w, 0);
    end(w);
    end(w);
    if (dr) {
        begin(w, "dtbl");
        put16(w, 1);
        begin(w, "url ");
        put32(w, 0);
        put(w, "file:///elsewhere.j2c", 22);
        end(w);
        end(w);
    }
    begin(w, "asoc");
    leaf(w, "lbl ", 3, 'L');
    begin(w, "jp2c");
    codestream(w, 9, 0x40);
    end(w);
    end(w);
    memcpy(f->expect, w->d + a_off, 30);
    memcpy(f->expect + 30, w->d + b_off + 5, 12);
    memcpy(f->expect + 42, w->d + a_off + 3, 7);
    f->expect_len = 49;
}

TEST(ftbl_fragments_and_span_source)
{
    static struct frag_file f;
    make_frag_file(&f, 0);
    struct jpip_source src;
    jpip_memory_source_init(&src, f.w.d, f.w.n);
    struct jpip__box_tree t;
    struct jpip__err e;
    int kind;
    ASSERT_OK(jpip__file_kind(&src, &kind, &e));
    ASSERT_EQ_INT(kind, JPIP__FILE_JPX);
    ASSERT_OK(jpip__box_tree_parse(&t, &src, 100, NULL, &e));
    struct jpip__cs_location *loc;
    uint32_t n;
    ASSERT_OK(jpip__box_codestreams(&t, &src, kind, &loc, &n, NULL, &e));
    ASSERT_EQ_U64(n, 2);
    ASSERT_EQ_U64(t.v[loc[0].box].type, JPIP__BOX_FTBL);
    ASSERT_EQ_U64(loc[0].nfrag, 3); /* the zero-length entry is dropped */
    ASSERT_EQ_U64(loc[0].len, f.expect_len);
    ASSERT_EQ_U64(t.v[loc[1].box].type, JPIP__BOX_JP2C);
    ASSERT_EQ_INT(t.v[loc[1].box].depth, 1);
    ASSERT_EQ_U64(loc[1].len, 9);

    /* Every (offset, length) read through the span source matches the concatenation. */
    struct jpip__span_source ss;
    jpip__span_source_init(&ss, &src, loc[0].frag, loc[0].nfrag);
    ASSERT_EQ_U64(ss.src.size, f.expect_len);
    ASSERT_TRUE(ss.src.user == &ss);
    uint8_t got[256];
    for (size_t off = 0; off <= f.expect_len; off++) {
        for (size_t len = 0; off + len <= f.expect_len; len++) {
            memset(got, 0xEE, sizeof got);
            if (jpip__src_read(&ss.src, off, got, len, &e) != JPIP_OK)
                TEST_FAIL_AT("read %zu at %zu: %s", len, off, e.msg);
            if (memcmp(got, f.expect + off, len) != 0)
                TEST_FAIL_AT("read %zu at %zu differs", len, off);
        }
    }
    ASSERT_EQ_INT(jpip__src_read(&ss.src, 40, got, 10, &e), JPIP_EMALFORMED);
    ASSERT_EQ_INT(ss.src.read_at(ss.src.user, 40, got, 10), JPIP_EMALFORMED);
    ASSERT_EQ_INT(ss.src.read_at(ss.src.user, UINT64_MAX, got, 1), JPIP_EMALFORMED);

    /* The jp2c codestream through a one-fragment span source. */
    jpip__span_source_init(&ss, &src, loc[1].frag, loc[1].nfrag);
    ASSERT_OK(jpip__src_read(&ss.src, 0, got, 9, &e));
    ASSERT_EQ_U64(jpip__be32(got), 0xFF4FFF51u);
    ASSERT_EQ_U64(got[8], 0x48);
    jpip__cs_locations_free(loc, n, NULL);
    jpip__box_tree_free(&t, NULL);

    /* A span source with no fragments is empty. */
    jpip__span_source_init(&ss, &src, NULL, 0);
    ASSERT_EQ_U64(ss.src.size, 0);
    ASSERT_OK(jpip__src_read(&ss.src, 0, got, 0, &e));
}

TEST(data_reference_is_unsupported)
{
    static struct frag_file f;
    make_frag_file(&f, 1);
    struct jpip_source src;
    jpip_memory_source_init(&src, f.w.d, f.w.n);
    struct jpip__box_tree t;
    struct jpip__err e;
    ASSERT_OK(jpip__box_tree_parse(&t, &src, 100, NULL, &e));
    struct jpip__cs_location *loc = (void *)&e;
    uint32_t n = 77;
    ASSERT_EQ_INT(jpip__box_codestreams(&t, &src, JPIP__FILE_JPX, &loc, &n, NULL, &e),
                  JPIP_EUNSUPPORTED);
    ASSERT_STR_CONTAINS(e.msg, "codestream 0 is stored in another file (data reference 1), "
                               "which is not supported");
    ASSERT_TRUE(loc == NULL && n == 0);
    jpip__box_tree_free(&t, NULL);
}

TEST(bad_fragment_tables)
{
    static struct frag_file f;
    struct jpip_source src;
    struct jpip__box_tree t;
    struct jpip__err e;
    struct jpip__cs_location *loc;
    uint32_t n;

    /* A fragment running past the end of the file. */
    make_frag_file(&f, 0);
    uint8_t *flst = find_flst(&f.w);
    ASSERT_TRUE(flst != NULL);
    jpip__put_be32(flst + 6 + 14 + 8, 0xFFFFFFF0u); /* LEN of the second entry */
    jpip_memory_source_init(&src, f.w.d, f.w.n);
    ASSERT_OK(jpip__box_tree_parse(&t, &src, 100, NULL, &e));
    ASSERT_EQ_INT(jpip__box_codestreams(&t, &src, JPIP__FILE_JPX, &loc, &n, NULL, &e),
                  JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "fragment 1 of codestream 0");
    ASSERT_STR_CONTAINS(e.msg, "lies outside the file");
    jpip__box_tree_free(&t, NULL);

    /* An offset so large that OFF + LEN would wrap. */
    make_frag_file(&f, 0);
    flst = find_flst(&f.w);
    memset(flst + 6, 0xFF, 8);
    jpip_memory_source_init(&src, f.w.d, f.w.n);
    ASSERT_OK(jpip__box_tree_parse(&t, &src, 100, NULL, &e));
    ASSERT_EQ_INT(jpip__box_codestreams(&t, &src, JPIP__FILE_JPX, &loc, &n, NULL, &e),
                  JPIP_EMALFORMED);
    jpip__box_tree_free(&t, NULL);

    /* NF larger than the box holds. */
    make_frag_file(&f, 0);
    flst = find_flst(&f.w);
    jpip__put_be16(flst + 4, 5);
    jpip_memory_source_init(&src, f.w.d, f.w.n);
    ASSERT_OK(jpip__box_tree_parse(&t, &src, 100, NULL, &e));
    ASSERT_EQ_INT(jpip__box_codestreams(&t, &src, JPIP__FILE_JPX, &loc, &n, NULL, &e),
                  JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "lists 5 fragments but holds only 58 bytes");
    jpip__box_tree_free(&t, NULL);

    /* An ftbl without flst, an flst without NF, and an empty fragment list. */
    static struct bw w;
    memset(&w, 0, sizeof w);
    signature(&w, "jpx ");
    begin(&w, "ftbl");
    leaf(&w, "free", 0, 0);
    end(&w);
    jpip_memory_source_init(&src, w.d, w.n);
    ASSERT_OK(jpip__box_tree_parse(&t, &src, 100, NULL, &e));
    ASSERT_EQ_INT(jpip__box_codestreams(&t, &src, JPIP__FILE_JPX, &loc, &n, NULL, &e),
                  JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "fragment table box at offset 32 (codestream 0) has no flst");
    jpip__box_tree_free(&t, NULL);

    memset(&w, 0, sizeof w);
    signature(&w, "jpx ");
    begin(&w, "ftbl");
    leaf(&w, "flst", 1, 0);
    end(&w);
    jpip_memory_source_init(&src, w.d, w.n);
    ASSERT_OK(jpip__box_tree_parse(&t, &src, 100, NULL, &e));
    ASSERT_EQ_INT(jpip__box_codestreams(&t, &src, JPIP__FILE_JPX, &loc, &n, NULL, &e),
                  JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(e.msg, "too short for its NF field");
    jpip__box_tree_free(&t, NULL);

    memset(&w, 0, sizeof w);
    signature(&w, "jpx ");
    begin(&w, "ftbl");
    leaf(&w, "flst", 2, 0);
    end(&w);
    leaf(&w, "jp2c", 0, 0);
    jpip_memory_source_init(&src, w.d, w.n);
    ASSERT_OK(jpip__box_tree_parse(&t, &src, 100, NULL, &e));
    ASSERT_OK(jpip__box_codestreams(&t, &src, JPIP__FILE_JPX, &loc, &n, NULL, &e));
    ASSERT_EQ_U64(n, 2);
    ASSERT_TRUE(loc[0].nfrag == 0 && loc[0].len == 0 && loc[0].frag == NULL);
    ASSERT_TRUE(loc[1].nfrag == 0 && loc[1].len == 0 && loc[1].frag == NULL);
    jpip__cs_locations_free(loc, n, NULL);
    jpip__box_tree_free(&t, NULL);

    /* No codestream at all is not an error here. */
    memset(&w, 0, sizeof w);
    signature(&w, "jp2 ");
    jpip_memory_source_init(&src, w.d, w.n);
    ASSERT_OK(jpip__box_tree_parse(&t, &src, 100, NULL, &e));
    ASSERT_OK(jpip__box_codestreams(&t, &src, JPIP__FILE_JP2, &loc, &n, NULL, &e));
    ASSERT_TRUE(n == 0 && loc == NULL);
    jpip__box_tree_free(&t, NULL);
}

TEST(raw_codestream_location)
{
    static struct bw w;
    memset(&w, 0, sizeof w);
    codestream(&w, 100, 3);
    struct jpip_source src;
    jpip_memory_source_init(&src, w.d, w.n);
    struct jpip__cs_location *loc;
    uint32_t n;
    struct jpip__err e;
    ASSERT_OK(jpip__box_codestreams(NULL, &src, JPIP__FILE_J2K, &loc, &n, NULL, &e));
    ASSERT_EQ_U64(n, 1);
    ASSERT_EQ_INT(loc[0].box, -1);
    ASSERT_EQ_U64(loc[0].nfrag, 1);
    ASSERT_EQ_U64(loc[0].frag[0].off, 0);
    ASSERT_EQ_U64(loc[0].frag[0].len, 100);
    ASSERT_EQ_U64(loc[0].len, 100);
    jpip__cs_locations_free(loc, n, NULL);
}

/* ---- allocation failures -------------------------------------------------------------------- */

struct failing {
    int left; /* allocations that still succeed */
    int live; /* outstanding blocks */
};
static void *failing_alloc(void *opaque, size_t size)
{
    struct failing *f = opaque;
    if (f->left-- <= 0)
        return NULL;
    f->live++;
    return malloc(size);
}
static void failing_free(void *opaque, void *p)
{
    struct failing *f = opaque;
    f->live--;
    free(p);
}

TEST(allocation_failure_sweep)
{
    static struct frag_file f;
    make_frag_file(&f, 0);
    for (int i = 0; i < 40; i++) { /* more boxes so the tree array grows */
        begin(&f.w, "lbl ");
        end(&f.w);
    }
    struct jpip_source src;
    jpip_memory_source_init(&src, f.w.d, f.w.n);
    int done = 0;
    for (int budget = 0; budget < 100 && !done; budget++) {
        struct failing fs = {budget, 0};
        const struct jpip_allocator a = {failing_alloc, failing_free, &fs};
        struct jpip__box_tree t;
        struct jpip__err e;
        int rc = jpip__box_tree_parse(&t, &src, 1000, &a, &e);
        if (rc == JPIP_OK) {
            struct jpip__cs_location *loc;
            uint32_t n;
            rc = jpip__box_codestreams(&t, &src, JPIP__FILE_JPX, &loc, &n, &a, &e);
            if (rc == JPIP_OK) {
                ASSERT_EQ_U64(n, 2);
                jpip__cs_locations_free(loc, n, &a);
                done = 1;
            }
            jpip__box_tree_free(&t, &a);
        }
        if (!done)
            ASSERT_EQ_INT(rc, JPIP_ENOMEM);
        ASSERT_EQ_INT(fs.live, 0);
    }
    ASSERT_TRUE(done);
}

/* ---- real files ----------------------------------------------------------------------------- */

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    uint8_t *d = NULL;
    if (fseek(fp, 0, SEEK_END) == 0) {
        const long sz = ftell(fp);
        if (sz >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
            d = malloc((size_t)sz + 1);
            if (d && fread(d, 1, (size_t)sz, fp) != (size_t)sz) {
                free(d);
                d = NULL;
            }
            *len = (size_t)sz;
        }
    }
    fclose(fp);
    return d;
}

static int has_suffix(const char *s, const char *suf)
{
    const size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

TEST(conformance_files)
{
    const char *dir = getenv("JPIP_CONFORMANCE_DIR");
    if (!dir)
        dir = "/work/shared/conformance";
    DIR *d = opendir(dir);
    if (!d) {
        printf("skip conformance_files: %s is absent\n", dir);
        return;
    }
    int jp2_files = 0, raw_files = 0;
    const struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const int is_jp2 = has_suffix(de->d_name, ".jp2");
        const int is_raw = has_suffix(de->d_name, ".j2k") || has_suffix(de->d_name, ".j2c");
        if (!is_jp2 && !is_raw)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len = 0;
        uint8_t *data = slurp(path, &len);
        if (!data) {
            closedir(d);
            TEST_FAIL_AT("cannot read %s", path);
        }
        struct jpip_source src;
        jpip_memory_source_init(&src, data, len);
        struct jpip__err e;
        jpip__err_clear(&e);
        int kind = -1, rc;
        struct jpip__box_tree t = {0};
        struct jpip__cs_location *loc = NULL;
        uint32_t n = 0;
        rc = jpip__file_kind(&src, &kind, &e);
        if (rc == JPIP_OK && is_jp2)
            rc = jpip__box_tree_parse(&t, &src, 65536, NULL, &e);
        if (rc == JPIP_OK)
            rc = jpip__box_codestreams(&t, &src, kind, &loc, &n, NULL, &e);
        uint8_t head[4] = {0};
        if (rc == JPIP_OK && n == 1) {
            struct jpip__span_source ss;
            jpip__span_source_init(&ss, &src, loc[0].frag, loc[0].nfrag);
            rc = jpip__src_read(&ss.src, 0, head, 4, &e);
        }
        const int ok = rc == JPIP_OK && n == 1 && jpip__be32(head) == 0xFF4FFF51u &&
                       (is_jp2 ? kind != JPIP__FILE_J2K : kind == JPIP__FILE_J2K);
        if (!ok)
            fprintf(stderr, "%s: rc %d kind %d codestreams %u head %08x: %s\n", de->d_name, rc,
                    kind, n, (unsigned)jpip__be32(head), e.msg);
        jpip__cs_locations_free(loc, n, NULL);
        jpip__box_tree_free(&t, NULL);
        free(data);
        if (!ok) {
            closedir(d);
            TEST_FAIL_AT("conformance file %s", de->d_name);
        }
        jp2_files += is_jp2;
        raw_files += is_raw;
    }
    closedir(d);
    printf("conformance_files: %d JP2 and %d raw codestream files checked in %s\n", jp2_files,
           raw_files, dir);
}

RUN_TESTS()
