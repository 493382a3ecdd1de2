/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jpip-info --write-index: copy a JP2 file and add the codestream index of 15444-9 Annex I,
 * which servers such as OpenJPEG's OpenJPIP need before they serve a file (opj_compress -jpip
 * 2.5 writes only empty placeholders of these boxes).
 *
 * The output keeps every top-level box of the input in order, except earlier index boxes
 * (iptr, cidx, fidx), which are dropped, and adds:
 *   iptr  Index Finder box, just before jp2c: offset and length of the fidx box (8 + 8 bytes);
 *   cidx  Codestream Index box, after the last box, a superbox holding
 *           cptr  Codestream Finder: DR (2) = 0, CONT (2) = 0, COFF (8), CLEN (8);
 *           manf  Manifest: the headers (LBox, TBox) of the boxes that follow it in cidx;
 *           mhix  Header Index Table of the main header: TLEN (8) = SOC up to the first SOT,
 *                 then per marker segment after SOC: code (2), NR (2, how many more segments
 *                 with this code follow), OFF (8), LEN (2);
 *           tpix  Tile-part Index Table: one faix, a row per tile, an element per tile-part
 *                 (offset of its SOT, Psot);
 *           thix  Tile Header Index Table: a manf, then one mhix per tile for the header of its
 *                 first tile-part (TLEN from SOT to the end of SOD);
 *           ppix  Precinct Packet Index Table: a manf, then one faix per component, a row per
 *                 tile, in each row the packets ordered by resolution, precinct (raster) and
 *                 layer (offset, length), padded with zeros to the longest row;
 *           phix  Packet Header Index Table, same layout with the in-band packet header
 *                 lengths; written only when every tile's header lengths are known (tiles
 *                 indexed by walking packet headers rather than from PLT);
 *   fidx  File Index box, after cidx: one prxy (Proxy) box: OOFF (8) = offset of the jp2c
 *         box, its header (8 or 16 bytes), NI (1) = 1, IOFF (8) = offset of cidx, its header.
 *
 * faix (Fragment Array Index): version (1), NMAX and M (4 bytes each for versions 0 and 2,
 * 8 for 1 and 3), then M rows of NMAX elements (offset, length) of the same width, versions
 * 2 and 3 adding a 4-byte Aux per element. Offsets are from the first byte of the codestream.
 * Marker offsets (OFF) point at the segment's length field Lmar and LEN is Lmar, the
 * convention OpenJPIP reads (it fetches Lsiz at OFF and checks it equals LEN). In tpix, Aux
 * is the number of tile-parts of the tile up to and including this one.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpip/index.h>
#include <jpip/jpip.h>

#include "cli.h"
#include "jpip_info.h"

#define AX_MAX_RES 33 /* 32 decomposition levels + 1 */

/* Growable output buffer; oom latches. */
struct obuf {
    uint8_t *p;
    size_t n, cap;
    int oom;
};

static void ob_put(struct obuf *b, const void *d, size_t len)
{
    if (b->oom)
        return;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + len)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, len);
    b->n += len;
}

static void ob_be(struct obuf *b, uint64_t v, unsigned width)
{
    uint8_t t[8];
    for (unsigned i = 0; i < width; i++)
        t[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    ob_put(b, t, width);
}

static void put_be(uint8_t *p, uint64_t v, unsigned width)
{
    for (unsigned i = 0; i < width; i++)
        p[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
}

/* Opens a box whose length is patched by box_end; returns its start. */
static size_t box_begin(struct obuf *b, const char *type)
{
    const size_t at = b->n;
    ob_be(b, 0, 4);
    ob_put(b, type, 4);
    return at;
}

/* Index boxes are kept under 4 GiB (LBox only); returns -1 when one is larger. */
static int box_end(struct obuf *b, size_t at)
{
    if (b->oom)
        return -1;
    const size_t len = b->n - at;
    if (len > UINT32_MAX)
        return -1;
    put_be(b->p + at, len, 4);
    return 0;
}

/* Writes the manf listing the boxes that follow it: count entries of (LBox, TBox), every one
 * of type `type` with the lengths in lens. */
static void put_manf(struct obuf *b, const char *type, const uint64_t *lens, size_t count)
{
    const size_t at = box_begin(b, "manf");
    for (size_t i = 0; i < count; i++) {
        ob_be(b, lens[i], 4);
        ob_put(b, type, 4);
    }
    box_end(b, at);
}

struct ax_marker {
    uint16_t code, len; /* len = Lmar */
    uint64_t off;       /* of Lmar, codestream-relative */
};

struct ax_tilepart {
    uint32_t tile;
    uint8_t tpsot;
    uint64_t off, len;   /* SOT position and Psot (resolved when 0) */
    uint64_t header_len; /* SOT through SOD */
    struct ax_marker *m; /* segments between SOT and SOD */
    size_t nm;
};

/* One packet-index element (offset, length) and, for phix, the header length. */
struct ax_elem {
    uint64_t off, len, hlen;
};

struct ax_ctx {
    struct jpip_target *t;
    const struct jpip_source *src;
    const char *path;
    uint64_t cs_off, cs_len; /* codestream contents in the input file */
    struct jpip_codestream_info ci;
    uint32_t ntiles;
    struct ax_marker *main_m;
    size_t main_nm;
    uint64_t main_len;
    struct ax_tilepart *tp;
    size_t ntp;
    /* packet rows: elems[c] has ntiles * nmax[c] entries */
    struct ax_elem **elems;
    uint64_t *nmax;
    int have_hlen;
};

static int rd(struct ax_ctx *x, uint64_t off, void *dst, size_t len)
{
    if (off > x->cs_len || len > x->cs_len - off)
        return -1;
    return x->src->read_at(x->src->user, x->cs_off + off, dst, len) == 0 ? 0 : -1;
}

static unsigned be16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* Reads marker segments from pos until `stop` (a marker with no segment), each bounded by
 * end. Returns the position after the stop marker, or 0 on a malformed header. */
static uint64_t walk_segments(struct ax_ctx *x, uint64_t pos, uint64_t end, unsigned stop,
                              struct ax_marker **out, size_t *n)
{
    size_t cap = 0;
    for (;;) {
        uint8_t h[4];
        if (pos + 2 > end || rd(x, pos, h, 2) != 0)
            return 0;
        const unsigned code = be16(h);
        if (code == stop)
            return pos + 2;
        if (pos + 4 > end || rd(x, pos + 2, h + 2, 2) != 0 || (code >> 8) != 0xFF)
            return 0;
        const unsigned len = be16(h + 2);
        if (len < 2 || pos + 2 + len > end)
            return 0;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            struct ax_marker *m = realloc(*out, cap * sizeof *m);
            if (!m)
                return 0;
            *out = m;
        }
        (*out)[(*n)++] = (struct ax_marker){(uint16_t)code, (uint16_t)len, pos + 2};
        pos += 2 + len;
    }
}

/* Main header and tile-parts (15444-1 A.4.2: SOT = FF90, Lsot 10, Isot, Psot, TPsot, TNsot). */
static int walk_codestream(struct ax_ctx *x)
{
    uint8_t soc[2];
    if (rd(x, 0, soc, 2) != 0 || be16(soc) != 0xFF4F)
        return -1;
    const uint64_t first_sot = walk_segments(x, 2, x->cs_len, 0xFF90, &x->main_m, &x->main_nm);
    if (!first_sot)
        return -1;
    x->main_len = first_sot - 2;
    uint64_t pos = x->main_len;
    size_t cap = 0;
    while (pos + 2 <= x->cs_len) {
        uint8_t s[12];
        if (rd(x, pos, s, 2) != 0)
            return -1;
        if (be16(s) == 0xFFD9)
            break;
        if (pos + 12 > x->cs_len || rd(x, pos, s, 12) != 0 || be16(s) != 0xFF90 ||
            be16(s + 2) != 10)
            return -1;
        const uint32_t isot = be16(s + 4);
        uint64_t psot = (uint64_t)s[6] << 24 | (uint64_t)s[7] << 16 | (uint64_t)s[8] << 8 | s[9];
        if (psot == 0) {
            /* The last tile-part runs to the EOC marker. */
            uint8_t e[2];
            psot = x->cs_len - pos;
            if (psot >= 14 && rd(x, x->cs_len - 2, e, 2) == 0 && be16(e) == 0xFFD9)
                psot -= 2;
        }
        if (isot >= x->ntiles || psot < 14 || psot > x->cs_len - pos)
            return -1;
        if (x->ntp == cap) {
            cap = cap ? cap * 2 : 64;
            struct ax_tilepart *v = realloc(x->tp, cap * sizeof *v);
            if (!v)
                return -1;
            x->tp = v;
        }
        struct ax_tilepart *tp = &x->tp[x->ntp++];
        memset(tp, 0, sizeof *tp);
        tp->tile = isot;
        tp->tpsot = s[10];
        tp->off = pos;
        tp->len = psot;
        const uint64_t after_sod = walk_segments(x, pos + 12, pos + psot, 0xFF93, &tp->m, &tp->nm);
        if (!after_sod)
            return -1;
        tp->header_len = after_sod - pos;
        pos += psot;
    }
    return 0;
}

/* The packet index as ppix rows: per component, per tile, packets ordered by resolution,
 * precinct and layer. Two passes over each tile's packets: counts, then placement. */
static int gather_packets(struct ax_ctx *x)
{
    const unsigned nc = x->ci.components;
    x->elems = calloc(nc, sizeof *x->elems);
    x->nmax = calloc(nc, sizeof *x->nmax);
    uint32_t *nprec = calloc((size_t)x->ntiles * nc * AX_MAX_RES, sizeof *nprec);
    uint16_t *layers = calloc(x->ntiles, sizeof *layers);
    int rc = -1;
    if (!x->elems || !x->nmax || !nprec || !layers)
        goto fail;
    x->have_hlen = 1;
    for (uint32_t t = 0; t < x->ntiles; t++) {
        struct jpip_tile_info ti;
        if (jpip_target_tile_info(x->t, 0, t, &ti) != JPIP_OK)
            goto fail;
        layers[t] = ti.layers;
        if (ti.from_plt)
            x->have_hlen = 0;
        for (uint64_t i = 0; i < ti.packets; i++) {
            struct jpip_packet_info p;
            if (jpip_target_packet(x->t, 0, t, i, &p) != JPIP_OK || p.component >= nc ||
                p.resolution >= AX_MAX_RES || p.layer >= ti.layers)
                goto fail;
            if (p.packed_header_length)
                x->have_hlen = 0;
            uint32_t *np = &nprec[((size_t)t * nc + p.component) * AX_MAX_RES + p.resolution];
            if (p.precinct >= *np)
                *np = p.precinct + 1;
        }
        for (unsigned c = 0; c < nc; c++) {
            uint64_t count = 0;
            for (unsigned r = 0; r < AX_MAX_RES; r++)
                count += (uint64_t)nprec[((size_t)t * nc + c) * AX_MAX_RES + r] * ti.layers;
            if (count > x->nmax[c])
                x->nmax[c] = count;
        }
    }
    for (unsigned c = 0; c < nc; c++) {
        x->elems[c] = calloc(x->nmax[c] * x->ntiles + 1, sizeof **x->elems);
        if (!x->elems[c])
            goto fail;
    }
    for (uint32_t t = 0; t < x->ntiles; t++) {
        struct jpip_tile_info ti;
        if (jpip_target_tile_info(x->t, 0, t, &ti) != JPIP_OK)
            goto fail;
        for (uint64_t i = 0; i < ti.packets; i++) {
            struct jpip_packet_info p;
            if (jpip_target_packet(x->t, 0, t, i, &p) != JPIP_OK)
                goto fail;
            const uint32_t *np = &nprec[((size_t)t * nc + p.component) * AX_MAX_RES];
            uint64_t base = 0;
            for (unsigned r = 0; r < p.resolution; r++)
                base += (uint64_t)np[r] * layers[t];
            const uint64_t k = base + (uint64_t)p.precinct * layers[t] + p.layer;
            x->elems[p.component][(uint64_t)t * x->nmax[p.component] + k] =
                (struct ax_elem){p.offset, p.length, p.header_length};
        }
    }
    rc = 0;
fail:
    free(nprec);
    free(layers);
    return rc;
}

/* faix with rows of nmax (offset, value) elements; value is the length, or the packet header
 * length when hlen. aux: per element Aux values (NULL for none). */
static void put_faix(struct obuf *b, const struct ax_elem *e, uint64_t nmax, uint64_t m, int hlen,
                     const uint32_t *aux)
{
    int wide = nmax > UINT32_MAX || m > UINT32_MAX;
    for (uint64_t i = 0; i < nmax * m && !wide; i++)
        wide = e[i].off > UINT32_MAX || e[i].len > UINT32_MAX;
    const unsigned w = wide ? 8 : 4;
    const size_t at = box_begin(b, "faix");
    ob_be(b, (wide ? 1u : 0u) | (aux ? 2u : 0u), 1);
    ob_be(b, nmax, w);
    ob_be(b, m, w);
    for (uint64_t i = 0; i < nmax * m; i++) {
        ob_be(b, e[i].off, w);
        ob_be(b, hlen ? e[i].hlen : e[i].len, w);
        if (aux)
            ob_be(b, aux[i], 4);
    }
    box_end(b, at);
}

static void put_mhix(struct obuf *b, uint64_t tlen, const struct ax_marker *m, size_t n)
{
    const size_t at = box_begin(b, "mhix");
    ob_be(b, tlen, 8);
    for (size_t i = 0; i < n; i++) {
        unsigned remaining = 0;
        for (size_t j = i + 1; j < n; j++)
            remaining += m[j].code == m[i].code;
        ob_be(b, m[i].code, 2);
        ob_be(b, remaining > 0xFFFF ? 0xFFFF : remaining, 2);
        ob_be(b, m[i].off, 8);
        ob_be(b, m[i].len, 2);
    }
    box_end(b, at);
}

/* Appends one sub-box built by fn into b and records its length. */
#define SUBBOX(b, lens, k, stmt)                                                                   \
    do {                                                                                           \
        const size_t start_ = (b)->n;                                                              \
        stmt;                                                                                      \
        (lens)[(k)++] = (b)->n - start_;                                                           \
    } while (0)

static int put_tpix(struct ax_ctx *x, struct obuf *b)
{
    uint64_t nmax = 1;
    uint32_t *count = calloc(x->ntiles, sizeof *count);
    if (!count)
        return -1;
    for (size_t i = 0; i < x->ntp; i++)
        if (++count[x->tp[i].tile] > nmax)
            nmax = count[x->tp[i].tile];
    struct ax_elem *e = calloc(nmax * x->ntiles, sizeof *e);
    uint32_t *aux = nmax > 1 ? calloc(nmax * x->ntiles, sizeof *aux) : NULL;
    memset(count, 0, x->ntiles * sizeof *count);
    if (!e || (nmax > 1 && !aux)) {
        free(e);
        free(aux);
        free(count);
        return -1;
    }
    /* Tile-parts of a tile in file order, which 15444-1 requires to be TPsot order. */
    for (size_t i = 0; i < x->ntp; i++) {
        const uint64_t k = (uint64_t)x->tp[i].tile * nmax + count[x->tp[i].tile]++;
        e[k] = (struct ax_elem){x->tp[i].off, x->tp[i].len, 0};
        if (aux)
            aux[k] = count[x->tp[i].tile];
    }
    const size_t at = box_begin(b, "tpix");
    put_faix(b, e, nmax, x->ntiles, 0, aux);
    const int rc = box_end(b, at);
    free(e);
    free(aux);
    free(count);
    return rc;
}

/* Writes an index table box (thix, ppix, phix): a manf listing the n sub-boxes of type child
 * whose lengths are lens, then those sub-boxes (body). Frees body and lens. */
static int put_table(struct obuf *b, const char *type, const char *child, struct obuf *body,
                     uint64_t *lens, size_t n)
{
    const size_t at = box_begin(b, type);
    put_manf(b, child, lens, n);
    if (!body->oom)
        ob_put(b, body->p, body->n);
    const int rc = body->oom ? -1 : box_end(b, at);
    free(body->p);
    free(lens);
    return rc;
}

static int put_thix(struct ax_ctx *x, struct obuf *b)
{
    /* Build the mhix boxes first: manf needs their lengths. */
    struct obuf body = {0};
    uint64_t *lens = calloc(x->ntiles + 1, sizeof *lens);
    if (!lens)
        return -1;
    for (uint32_t t = 0; t < x->ntiles; t++) {
        const struct ax_tilepart *first = NULL;
        for (size_t i = 0; i < x->ntp && !first; i++)
            if (x->tp[i].tile == t && x->tp[i].tpsot == 0)
                first = &x->tp[i];
        const size_t start = body.n;
        if (first)
            put_mhix(&body, first->header_len, first->m, first->nm);
        else
            put_mhix(&body, 0, NULL, 0);
        lens[t] = body.n - start;
    }
    return put_table(b, "thix", "mhix", &body, lens, x->ntiles);
}

static int put_pxix(struct ax_ctx *x, struct obuf *b, const char *type, int hlen)
{
    const unsigned nc = x->ci.components;
    struct obuf body = {0};
    uint64_t *lens = calloc(nc, sizeof *lens);
    if (!lens)
        return -1;
    for (unsigned c = 0; c < nc; c++) {
        const size_t start = body.n;
        put_faix(&body, x->elems[c], x->nmax[c], x->ntiles, hlen, NULL);
        lens[c] = body.n - start;
    }
    return put_table(b, type, "faix", &body, lens, nc);
}

static int build_cidx(struct ax_ctx *x, uint64_t coff, struct obuf *b)
{
    /* The boxes after manf, built apart so that manf can list their lengths. */
    struct obuf rest = {0};
    uint64_t lens[5];
    size_t k = 0;
    int rc = 0;
    SUBBOX(&rest, lens, k, put_mhix(&rest, x->main_len, x->main_m, x->main_nm));
    SUBBOX(&rest, lens, k, rc |= put_tpix(x, &rest));
    SUBBOX(&rest, lens, k, rc |= put_thix(x, &rest));
    SUBBOX(&rest, lens, k, rc |= put_pxix(x, &rest, "ppix", 0));
    if (x->have_hlen)
        SUBBOX(&rest, lens, k, rc |= put_pxix(x, &rest, "phix", 1));
    if (rc != 0 || rest.oom) {
        free(rest.p);
        return -1;
    }
    const size_t at = box_begin(b, "cidx");
    const size_t cptr = box_begin(b, "cptr");
    ob_be(b, 0, 2); /* DR: the codestream is in this file */
    ob_be(b, 0, 2); /* CONT: one contiguous range */
    ob_be(b, coff, 8);
    ob_be(b, x->cs_len, 8);
    box_end(b, cptr);
    const size_t manf = box_begin(b, "manf");
    static const char *const types[] = {"mhix", "tpix", "thix", "ppix", "phix"};
    for (size_t i = 0; i < k; i++) {
        ob_be(b, lens[i], 4);
        ob_put(b, types[i], 4);
    }
    box_end(b, manf);
    ob_put(b, rest.p, rest.n);
    free(rest.p);
    return box_end(b, at);
}

/* A box header with an explicit length (XLBox when it does not fit LBox); returns its size. */
static unsigned header_for(uint64_t content_len, const char *type, uint8_t out[16])
{
    if (content_len + 8 <= UINT32_MAX) {
        put_be(out, content_len + 8, 4);
        memcpy(out + 4, type, 4);
        return 8;
    }
    put_be(out, 1, 4);
    memcpy(out + 4, type, 4);
    put_be(out + 8, content_len + 16, 8);
    return 16;
}

static int copy_range(const struct jpip_source *src, uint64_t off, uint64_t len, FILE *f)
{
    static uint8_t buf[1 << 20];
    while (len) {
        const size_t n = len < sizeof buf ? (size_t)len : sizeof buf;
        if (src->read_at(src->user, off, buf, n) != 0 || fwrite(buf, 1, n, f) != n)
            return -1;
        off += n;
        len -= n;
    }
    return 0;
}

static int is_index_box(const char *type)
{
    return !strcmp(type, "iptr") || !strcmp(type, "cidx") || !strcmp(type, "fidx");
}

static void ctx_free(struct ax_ctx *x)
{
    free(x->main_m);
    for (size_t i = 0; i < x->ntp; i++)
        free(x->tp[i].m);
    free(x->tp);
    if (x->elems)
        for (unsigned c = 0; c < x->ci.components; c++)
            free(x->elems[c]);
    free(x->elems);
    free(x->nmax);
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* Writes the copy with the index boxes. Returns a CLI exit code. */
int info_write_index(struct jpip_target *t, const struct jpip_source *src, const char *path,
                     const char *out_path)
{
    if (jpip_target_kind(t) != JPIP_KIND_JP2 || jpip_target_codestream_count(t) != 1) {
        cli_error(INFO_PROG, "%s: --write-index needs a JP2 file with one codestream", path);
        return CLI_EXIT_DATA;
    }
    if (same_file(path, out_path)) {
        cli_error(INFO_PROG, "--write-index: the output would overwrite the input");
        return CLI_EXIT_USAGE;
    }
    const size_t nbox = jpip_target_box_count(t);
    struct jpip_box_info *top = calloc(nbox ? nbox : 1, sizeof *top);
    if (!top)
        return CLI_EXIT_DATA;
    size_t ntop = 0, jp2c = SIZE_MAX;
    for (size_t i = 0; i < nbox; i++) {
        struct jpip_box_info bi;
        if (jpip_target_box(t, i, &bi) != JPIP_OK) {
            free(top);
            return CLI_EXIT_DATA;
        }
        if (bi.parent != -1 || is_index_box(bi.type))
            continue;
        if (!strcmp(bi.type, "jp2c"))
            jp2c = jp2c == SIZE_MAX ? ntop : SIZE_MAX - 1;
        top[ntop++] = bi;
    }
    if (jp2c >= ntop) {
        cli_error(INFO_PROG, "%s: --write-index needs exactly one top-level jp2c box", path);
        free(top);
        return CLI_EXIT_DATA;
    }

    struct ax_ctx x = {.t = t, .src = src, .path = path};
    int status = CLI_EXIT_DATA;
    struct obuf cidx = {0}, fidx = {0};
    FILE *f = NULL;
    if (jpip_target_codestream_info(t, 0, &x.ci) != JPIP_OK)
        goto done;
    x.cs_off = top[jp2c].offset + top[jp2c].header_length;
    x.cs_len = top[jp2c].length - top[jp2c].header_length;
    x.ntiles = x.ci.tiles_x * x.ci.tiles_y;
    if (walk_codestream(&x) != 0) {
        cli_error(INFO_PROG, "%s: cannot walk the codestream's headers and tile-parts", path);
        goto done;
    }
    if (gather_packets(&x) != 0) {
        cli_error(INFO_PROG, "%s: cannot index the packets: %s", path, jpip_target_errmsg(t));
        goto done;
    }

    /* Layout: the kept boxes with iptr (24 bytes) just before jp2c, then cidx and fidx. */
    uint64_t pos = 0, jp2c_out = 0;
    unsigned jp2c_hdr = 0;
    uint8_t hdr[16];
    for (size_t i = 0; i < ntop; i++) {
        const uint64_t content = top[i].length - top[i].header_length;
        if (i == jp2c) {
            pos += 24;
            jp2c_out = pos;
            jp2c_hdr = header_for(content, "jp2c", hdr);
        }
        pos += header_for(content, top[i].type, hdr) + content;
    }
    const uint64_t cidx_out = pos;
    if (build_cidx(&x, jp2c_out + jp2c_hdr, &cidx) != 0) {
        cli_error(INFO_PROG, "%s: out of memory or index box over 4 GiB", path);
        goto done;
    }
    const uint64_t fidx_out = cidx_out + cidx.n;
    const size_t fat = box_begin(&fidx, "fidx");
    const size_t pat = box_begin(&fidx, "prxy");
    ob_be(&fidx, jp2c_out, 8);
    ob_put(&fidx, hdr, header_for(x.cs_len, "jp2c", hdr));
    ob_be(&fidx, 1, 1);
    ob_be(&fidx, cidx_out, 8);
    ob_put(&fidx, cidx.p, 8); /* cidx's own header (LBox, TBox) */
    box_end(&fidx, pat);
    if (box_end(&fidx, fat) != 0)
        goto done;

    f = fopen(out_path, "wb");
    if (!f) {
        cli_error(INFO_PROG, "%s: cannot create: %s", out_path, strerror(errno));
        status = CLI_EXIT_IO;
        goto done;
    }
    status = CLI_EXIT_IO;
    for (size_t i = 0; i < ntop; i++) {
        const uint64_t content = top[i].length - top[i].header_length;
        if (i == jp2c) {
            uint8_t iptr[24];
            put_be(iptr, 24, 4);
            memcpy(iptr + 4, "iptr", 4);
            put_be(iptr + 8, fidx_out, 8);
            put_be(iptr + 16, fidx.n, 8);
            if (fwrite(iptr, 1, 24, f) != 24)
                goto done;
        }
        const unsigned hl = header_for(content, top[i].type, hdr);
        if (fwrite(hdr, 1, hl, f) != hl ||
            copy_range(src, top[i].offset + top[i].header_length, content, f) != 0)
            goto done;
    }
    if (fwrite(cidx.p, 1, cidx.n, f) != cidx.n || fwrite(fidx.p, 1, fidx.n, f) != fidx.n)
        goto done;
    status = CLI_EXIT_OK;
done:
    if (f && fclose(f) != 0 && status == CLI_EXIT_OK)
        status = CLI_EXIT_IO;
    if (status == CLI_EXIT_IO && f)
        cli_error(INFO_PROG, "%s: write error", out_path);
    free(cidx.p);
    free(fidx.p);
    ctx_free(&x);
    free(top);
    return status;
}
