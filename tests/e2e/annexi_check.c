/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * annexi_check IN OUT: checks that OUT, written by `jpip-info --write-index OUT IN`, carries a
 * well-formed 15444-9 Annex I index of IN's codestream, reading it back with our own box parser
 * (lib/codestream/box.h) and comparing it with our packet index of IN:
 *   - OUT keeps IN's boxes and codestream bytes; iptr comes just before jp2c, cidx and fidx
 *     last; iptr points at fidx; fidx holds one prxy naming jp2c and cidx with their headers;
 *   - cidx = cptr (the codestream's offset and length), manf (the exact headers of the boxes
 *     that follow), mhix, tpix, thix, ppix and, optionally, phix;
 *   - every mhix entry points at the length field of a marker segment with that code and that
 *     length, and the main header's segments fill its TLEN; every tpix element is an SOT of
 *     that tile with that Psot; every thix TLEN ends on an SOD;
 *   - the ppix (and phix) elements are exactly the packets of our index, each in the row of
 *     its tile and the faix of its component, ordered by resolution, precinct and layer.
 * Exit 0 when all hold, 1 with a message otherwise.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpip/index.h>

#include "codestream/box.h"

#define CHECK(c, ...)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "annexi_check: line %d: ", __LINE__);                                  \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static uint8_t *file;
static size_t file_len;
static uint64_t cs_off; /* codestream contents in OUT */

static uint64_t be(const uint8_t *p, unsigned w)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < w; i++)
        v = v << 8 | p[i];
    return v;
}

static uint8_t *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    CHECK(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    CHECK(p && fread(p, 1, (size_t)n, f) == (size_t)n, "cannot read %s", path);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* The top-level sequence of boxes in data[0..len), parsed by lib/codestream/box.c. */
static struct jpip__box_tree boxes_in(const uint8_t *data, size_t len)
{
    struct jpip_source src;
    jpip_memory_source_init(&src, data, len);
    struct jpip__box_tree t;
    struct jpip__err err = {0};
    CHECK(jpip__box_tree_parse(&t, &src, 1 << 20, NULL, &err) == JPIP_OK, "box parse: %s", err.msg);
    return t;
}

static uint32_t fourcc(const char *s)
{
    return JPIP__4CC(s[0], s[1], s[2], s[3]);
}

/* The i-th top-level box of type `type` in tree t (depth 0), or -1. */
static long find(const struct jpip__box_tree *t, const char *type)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->v[i].depth == 0 && t->v[i].type == fourcc(type))
            return (long)i;
    return -1;
}

/* The children of box b (at base in file) as a list of top-level boxes of its contents. */
struct kids {
    struct jpip__box_tree t;
    const uint8_t *base; /* contents start */
};

static struct kids children(const uint8_t *base, const struct jpip__box *b)
{
    struct kids k;
    k.base = base + b->off + b->hdr_len;
    k.t = boxes_in(k.base, (size_t)(b->len - b->hdr_len));
    return k;
}

static const uint8_t *content(const struct kids *k, uint32_t i)
{
    return k->base + k->t.v[i].off + k->t.v[i].hdr_len;
}

static uint64_t content_len(const struct kids *k, uint32_t i)
{
    return k->t.v[i].len - k->t.v[i].hdr_len;
}

/* manf at index i lists exactly the boxes after it (depth 0) in k. Returns their count. */
static uint32_t check_manf(const struct kids *k, uint32_t i)
{
    CHECK(k->t.v[i].type == fourcc("manf"), "expected manf");
    const uint8_t *m = content(k, i);
    const uint64_t n = content_len(k, i) / 8;
    CHECK(content_len(k, i) % 8 == 0, "manf length %llu", (unsigned long long)content_len(k, i));
    uint32_t j = i + 1, seen = 0;
    for (; j < k->t.n; j++) {
        if (k->t.v[j].depth != 0)
            continue;
        CHECK(seen < n, "manf lists %llu boxes, more follow", (unsigned long long)n);
        CHECK(be(m + 8 * seen, 4) == k->t.v[j].len && be(m + 8 * seen + 4, 4) == k->t.v[j].type,
              "manf entry %u does not match the box that follows", seen);
        seen++;
    }
    CHECK(seen == n, "manf lists %llu boxes, %u follow", (unsigned long long)n, seen);
    return seen;
}

struct faix {
    unsigned version, w;
    uint64_t nmax, m;
    const uint8_t *elem;
};

static struct faix faix_at(const struct kids *k, uint32_t i)
{
    CHECK(k->t.v[i].type == fourcc("faix"), "expected faix");
    const uint8_t *p = content(k, i);
    struct faix f;
    f.version = p[0];
    CHECK(f.version <= 3, "faix version %u", f.version);
    f.w = f.version & 1 ? 8 : 4;
    f.nmax = be(p + 1, f.w);
    f.m = be(p + 1 + f.w, f.w);
    f.elem = p + 1 + 2 * f.w;
    const uint64_t esize = 2 * f.w + (f.version & 2 ? 4 : 0);
    CHECK(1 + 2 * f.w + f.nmax * f.m * esize == content_len(k, i), "faix length");
    return f;
}

static void faix_elem(const struct faix *f, uint64_t row, uint64_t i, uint64_t *off, uint64_t *len)
{
    const uint64_t esize = 2 * f->w + (f->version & 2 ? 4 : 0);
    const uint8_t *e = f->elem + (row * f->nmax + i) * esize;
    *off = be(e, f->w);
    *len = be(e + f->w, f->w);
}

static const uint8_t *cs(uint64_t off)
{
    return file + cs_off + off;
}

static void check_mhix(const struct kids *k, uint32_t i, uint64_t start, int main_header)
{
    CHECK(k->t.v[i].type == fourcc("mhix"), "expected mhix");
    const uint8_t *p = content(k, i);
    const uint64_t n = content_len(k, i);
    const uint64_t tlen = be(p, 8);
    uint64_t covered = main_header ? 2 : 12; /* SOC, or SOT's segment */
    for (uint64_t q = 8; q < n; q += 14) {
        CHECK(q + 14 <= n, "mhix entry cut");
        const unsigned code = (unsigned)be(p + q, 2);
        const uint64_t off = be(p + q + 4, 8);
        const unsigned len = (unsigned)be(p + q + 12, 2);
        CHECK(off >= 2 && be(cs(off - 2), 2) == code && be(cs(off), 2) == len,
              "mhix entry for marker %04X at %llu does not match the codestream", code,
              (unsigned long long)off);
        CHECK(off + len <= start + tlen, "mhix entry past TLEN");
        covered += 2 + len;
    }
    if (main_header)
        CHECK(covered == tlen && be(cs(tlen), 2) == 0xFF90, "main header TLEN %llu",
              (unsigned long long)tlen);
    else if (tlen)
        CHECK(covered + 2 == tlen && be(cs(start + tlen - 2), 2) == 0xFF93, "tile header TLEN %llu",
              (unsigned long long)tlen);
}

struct pkt {
    uint64_t off, len, hlen;
    uint32_t tile, prec;
    uint16_t comp, layer;
    uint8_t res;
    int seen;
};

static int by_off(const void *a, const void *b)
{
    const struct pkt *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

static struct pkt *lookup(struct pkt *v, size_t n, uint64_t off)
{
    struct pkt key = {.off = off};
    return bsearch(&key, v, n, sizeof *v, by_off);
}

/* ppix / phix: every packet once, in its tile's row of its component's faix, in order. */
static void check_packets(const struct kids *k, uint32_t i, struct pkt *v, size_t n, unsigned comps,
                          uint32_t tiles, int headers)
{
    struct kids t = children(k->base, &k->t.v[i]);
    CHECK(t.t.n && check_manf(&t, 0) == comps, "one faix per component");
    for (size_t p = 0; p < n; p++)
        v[p].seen = 0;
    uint32_t fi = 1;
    for (unsigned c = 0; c < comps; c++, fi++) {
        const struct faix f = faix_at(&t, fi);
        CHECK(f.m == tiles, "faix rows %llu != tiles %u", (unsigned long long)f.m, tiles);
        for (uint32_t row = 0; row < tiles; row++) {
            const struct pkt *prev = NULL;
            for (uint64_t e = 0; e < f.nmax; e++) {
                uint64_t off, len;
                faix_elem(&f, row, e, &off, &len);
                if (!off && !len)
                    continue; /* padding */
                struct pkt *p = lookup(v, n, off);
                CHECK(p && !p->seen, "element at %llu is not a packet (or listed twice)",
                      (unsigned long long)off);
                CHECK(p->tile == row && p->comp == c, "packet in the wrong row or component");
                CHECK(len == (headers ? p->hlen : p->len), "packet at %llu: length %llu",
                      (unsigned long long)off, (unsigned long long)len);
                if (prev) {
                    const int order =
                        prev->res < p->res ||
                        (prev->res == p->res && (prev->prec < p->prec || (prev->prec == p->prec &&
                                                                          prev->layer < p->layer)));
                    CHECK(order, "packets of a row not ordered by resolution, precinct, layer");
                }
                p->seen = 1;
                prev = p;
            }
        }
    }
    for (size_t p = 0; p < n; p++)
        CHECK(v[p].seen, "packet at %llu missing from the index", (unsigned long long)v[p].off);
    jpip__box_tree_free(&t.t, NULL);
}

int main(int argc, char **argv)
{
    CHECK(argc == 3, "usage: annexi_check IN OUT");
    size_t in_len;
    uint8_t *in = load(argv[1], &in_len);
    file = load(argv[2], &file_len);

    /* Our index of IN: every packet. */
    struct jpip_source src;
    jpip_memory_source_init(&src, in, in_len);
    struct jpip_target *tg;
    CHECK(jpip_target_open(&tg, &src, NULL, NULL) == JPIP_OK, "open IN");
    struct jpip_codestream_info ci;
    CHECK(jpip_target_codestream_info(tg, 0, &ci) == JPIP_OK, "IN codestream");
    const uint32_t tiles = ci.tiles_x * ci.tiles_y;
    size_t n = 0, cap = 1024;
    struct pkt *v = malloc(cap * sizeof *v);
    int all_walked = 1;
    for (uint32_t t = 0; t < tiles; t++) {
        struct jpip_tile_info ti;
        CHECK(jpip_target_tile_info(tg, 0, t, &ti) == JPIP_OK, "tile %u", t);
        all_walked &= !ti.from_plt;
        for (uint64_t i = 0; i < ti.packets; i++) {
            struct jpip_packet_info p;
            CHECK(jpip_target_packet(tg, 0, t, i, &p) == JPIP_OK, "packet");
            if (n == cap)
                v = realloc(v, (cap *= 2) * sizeof *v);
            v[n++] = (struct pkt){p.offset,    p.length, p.header_length, t, p.precinct,
                                  p.component, p.layer,  p.resolution,    0};
        }
    }
    qsort(v, n, sizeof *v, by_off);

    /* Top level of OUT. */
    struct jpip__box_tree top = boxes_in(file, file_len);
    const long iptr = find(&top, "iptr"), jp2c = find(&top, "jp2c");
    const long cidx = find(&top, "cidx"), fidx = find(&top, "fidx");
    CHECK(iptr >= 0 && jp2c >= 0 && cidx >= 0 && fidx >= 0, "iptr, jp2c, cidx, fidx present");
    long prev = -1;
    for (uint32_t i = 0; i < top.n; i++)
        if (top.v[i].depth == 0) {
            if ((long)i == jp2c)
                CHECK(prev == iptr, "iptr just before jp2c");
            prev = (long)i;
        }
    CHECK(prev == fidx && top.v[fidx].off == top.v[cidx].off + top.v[cidx].len,
          "cidx then fidx last");
    const struct jpip__box *jb = &top.v[jp2c];
    cs_off = jb->off + jb->hdr_len;
    const uint64_t cs_len = jb->len - jb->hdr_len;
    CHECK(cs_len == ci.length, "codestream length");
    /* The codestream bytes are IN's (IN's jp2c contents are its last ci.length bytes before
     * any trailing boxes; compare through our index's view of IN). */
    int same = 0;
    for (uint64_t o = 0; o + cs_len <= in_len && !same; o++)
        same = memcmp(in + o, file + cs_off, (size_t)cs_len) == 0;
    CHECK(same, "codestream bytes changed");

    /* iptr -> fidx; fidx = prxy -> jp2c, cidx. */
    const uint8_t *ip = file + top.v[iptr].off + top.v[iptr].hdr_len;
    CHECK(top.v[iptr].len - top.v[iptr].hdr_len == 16, "iptr length");
    CHECK(be(ip, 8) == top.v[fidx].off && be(ip + 8, 8) == top.v[fidx].len, "iptr -> fidx");
    struct kids fk = children(file, &top.v[fidx]);
    CHECK(fk.t.n == 1 && fk.t.v[0].type == fourcc("prxy"), "fidx holds one prxy");
    const uint8_t *px = content(&fk, 0);
    CHECK(be(px, 8) == jb->off && be(px + 8, 4) == (jb->hdr_len == 8 ? jb->len : 1) &&
              be(px + 12, 4) == fourcc("jp2c"),
          "prxy names jp2c");
    const uint8_t *ib = px + 8 + jb->hdr_len;
    CHECK(ib[0] == 1 && be(ib + 1, 8) == top.v[cidx].off && be(ib + 9, 4) == top.v[cidx].len &&
              be(ib + 13, 4) == fourcc("cidx"),
          "prxy names cidx");

    /* cidx */
    struct kids ck = children(file, &top.v[cidx]);
    CHECK(ck.t.n >= 2 && ck.t.v[0].type == fourcc("cptr"), "cidx starts with cptr");
    const uint8_t *cp = content(&ck, 0);
    CHECK(content_len(&ck, 0) == 20 && be(cp, 4) == 0 && be(cp + 4, 8) == cs_off &&
              be(cp + 12, 8) == cs_len,
          "cptr");
    const uint32_t nsub = check_manf(&ck, 1);
    CHECK(nsub == 4 || nsub == 5, "cidx has %u index tables", nsub);
    const uint32_t mh = 2, tp = 3, th = 4, pp = 5, ph = 6;
    CHECK(ck.t.v[tp].type == fourcc("tpix") && ck.t.v[th].type == fourcc("thix") &&
              ck.t.v[pp].type == fourcc("ppix"),
          "mhix, tpix, thix, ppix in order");
    check_mhix(&ck, mh, 0, 1);

    /* tpix: every element an SOT of its tile with its Psot; first tile-parts for thix. */
    struct kids tk = children(ck.base, &ck.t.v[tp]);
    const struct faix tf = faix_at(&tk, 0);
    CHECK(tf.m == tiles, "tpix rows");
    uint64_t *first = calloc(tiles, sizeof *first);
    for (uint32_t row = 0; row < tiles; row++)
        for (uint64_t e = 0; e < tf.nmax; e++) {
            uint64_t off, len;
            faix_elem(&tf, row, e, &off, &len);
            if (!off && !len)
                continue;
            const uint8_t *s = cs(off);
            CHECK(be(s, 2) == 0xFF90 && be(s + 4, 2) == row && s[10] == e &&
                      (be(s + 6, 4) == len || be(s + 6, 4) == 0),
                  "tpix element %u/%llu", row, (unsigned long long)e);
            if (e == 0)
                first[row] = off;
        }
    struct kids hk = children(ck.base, &ck.t.v[th]);
    CHECK(hk.t.n && check_manf(&hk, 0) == tiles, "thix: one mhix per tile");
    for (uint32_t t = 0, j = 1; t < tiles; t++, j++)
        check_mhix(&hk, j, first[t], 0);

    check_packets(&ck, pp, v, n, ci.components, tiles, 0);
    if (nsub == 5) {
        CHECK(ck.t.v[ph].type == fourcc("phix") && all_walked, "phix only with walked headers");
        check_packets(&ck, ph, v, n, ci.components, tiles, 1);
    }
    printf("annexi_check: %s: %zu packets in %u tiles, %u components%s: ok\n", argv[2], n, tiles,
           ci.components, nsub == 5 ? ", with phix" : "");
    jpip__box_tree_free(&hk.t, NULL);
    jpip__box_tree_free(&tk.t, NULL);
    jpip__box_tree_free(&ck.t, NULL);
    jpip__box_tree_free(&fk.t, NULL);
    jpip__box_tree_free(&top, NULL);
    jpip_target_destroy(tg);
    free(first);
    free(v);
    free(in);
    free(file);
    return 0;
}
