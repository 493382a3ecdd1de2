/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mkjpx: assembles a JPX file (15444-2 Annex M) holding several codestreams, for the test
 * corpus. Each input is a JP2 file (its first jp2c is taken) or a raw codestream. The output
 * is: signature box, ftyp (brand 'jpx ', compatible 'jpx ' and 'jp2 '), optional rreq, the
 * first input's jp2h (synthesised from SIZ when the first input is a raw codestream), then one
 * contiguous codestream box (jp2c) per input. Options vary how a codestream is stored:
 *
 *   --frag I    store codestream I as a fragment table (ftbl holding flst, DR = 0) whose three
 *               fragments lie in a free box right after the ftbl and, in reverse order, in an
 *               mdat box at the end of the file
 *   --xlbox I   write codestream I's jp2c with LBox = 1 and an 8-byte XLBox
 *   --lbox0     write the last box of the file (a jp2c) with LBox = 0 ("to end of file")
 *   --rreq      add a reader requirements box
 *
 *   mkjpx [options] OUT.jpx IN1 IN2 ...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUTS 64
#define NFRAG 3

struct bytes {
    uint8_t *data;
    size_t len;
};

struct out {
    FILE *f;
    uint64_t pos;
};

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "mkjpx: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(1);
}

static struct bytes read_file(const char *path)
{
    struct bytes b = {NULL, 0};
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open", path);
    size_t cap = 1 << 16;
    b.data = malloc(cap);
    if (!b.data)
        die("out of memory", NULL);
    for (;;) {
        if (b.len == cap) {
            cap *= 2;
            b.data = realloc(b.data, cap);
            if (!b.data)
                die("out of memory", NULL);
        }
        size_t n = fread(b.data + b.len, 1, cap - b.len, f);
        if (n == 0)
            break;
        b.len += n;
    }
    if (ferror(f))
        die("read error", path);
    fclose(f);
    return b;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put(struct out *o, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, o->f) != n)
        die("write error", NULL);
    o->pos += n;
}

static void put8(struct out *o, unsigned v)
{
    uint8_t b = (uint8_t)v;
    put(o, &b, 1);
}

static void put16(struct out *o, unsigned v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(o, b, 2);
}

static void put32(struct out *o, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(o, b, 4);
}

static void put64(struct out *o, uint64_t v)
{
    put32(o, (uint32_t)(v >> 32));
    put32(o, (uint32_t)v);
}

static void box_header(struct out *o, uint64_t content_len, const char *type)
{
    if (content_len + 8 > UINT32_MAX)
        die("box too large", type);
    put32(o, (uint32_t)(content_len + 8));
    put(o, type, 4);
}

/* Find the first top-level box of the given type in a JP2 file; returns its offset or -1.
 * *content and *content_len describe its contents. */
static long find_box(const struct bytes *b, const char *type, size_t *content, size_t *content_len)
{
    size_t pos = 0;
    while (pos + 8 <= b->len) {
        uint64_t lbox = be32(b->data + pos);
        size_t hdr = 8;
        if (lbox == 1) {
            if (pos + 16 > b->len)
                return -1;
            lbox = (uint64_t)be32(b->data + pos + 8) << 32 | be32(b->data + pos + 12);
            hdr = 16;
        } else if (lbox == 0) {
            lbox = b->len - pos;
        }
        if (lbox < hdr || lbox > b->len - pos)
            return -1;
        if (memcmp(b->data + pos + 4, type, 4) == 0) {
            *content = pos + hdr;
            *content_len = (size_t)lbox - hdr;
            return (long)pos;
        }
        pos += (size_t)lbox;
    }
    return -1;
}

static int is_jp2(const struct bytes *b)
{
    static const uint8_t sig[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
    return b->len >= 12 && memcmp(b->data, sig, 12) == 0;
}

/* Write a jp2h built from the codestream's SIZ: ihdr, bpcc when depths differ, and an
 * enumerated colr (sRGB for 3 or more components, greyscale otherwise). */
static void synth_jp2h(struct out *o, const struct bytes *cs)
{
    if (cs->len < 42 || be16(cs->data) != 0xFF4F || be16(cs->data + 2) != 0xFF51)
        die("first input is neither JP2 nor a codestream starting with SOC SIZ", NULL);
    const uint8_t *siz = cs->data + 4;
    uint16_t lsiz = be16(siz);
    uint32_t xsiz = be32(siz + 4), ysiz = be32(siz + 8);
    uint32_t xo = be32(siz + 12), yo = be32(siz + 16);
    uint16_t nc = be16(siz + 36);
    if (nc == 0 || (size_t)lsiz != 38u + 3u * nc || cs->len < 4u + lsiz)
        die("bad SIZ in first codestream", NULL);
    const uint8_t *ssiz = siz + 38;
    int same = 1;
    for (unsigned c = 1; c < nc; c++)
        same &= ssiz[3 * c] == ssiz[0];
    uint64_t ihdr_len = 8 + 14, bpcc_len = same ? 0 : 8 + (uint64_t)nc, colr_len = 8 + 7;
    box_header(o, ihdr_len + bpcc_len + colr_len, "jp2h");
    box_header(o, 14, "ihdr");
    put32(o, ysiz - yo);
    put32(o, xsiz - xo);
    put16(o, nc);
    put8(o, same ? ssiz[0] : 255);
    put8(o, 7); /* C: JPEG 2000 */
    put8(o, 0); /* UnkC: colour space known */
    put8(o, 0); /* IPR: none */
    if (!same) {
        box_header(o, nc, "bpcc");
        for (unsigned c = 0; c < nc; c++)
            put8(o, ssiz[3 * c]);
    }
    box_header(o, 7, "colr");
    put8(o, 1); /* METH: enumerated */
    put8(o, 0);
    put8(o, 0);
    put32(o, nc >= 3 ? 16 : 17);
}

static int parse_index(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 0 || v >= MAX_INPUTS)
        die("bad codestream index", s);
    return (int)v;
}

int main(int argc, char **argv)
{
    int frag = -1, xlbox = -1, lbox0 = 0, rreq = 0;
    const char *outpath = NULL;
    const char *inputs[MAX_INPUTS];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--frag") == 0 && i + 1 < argc) {
            frag = parse_index(argv[++i]);
        } else if (strcmp(argv[i], "--xlbox") == 0 && i + 1 < argc) {
            xlbox = parse_index(argv[++i]);
        } else if (strcmp(argv[i], "--lbox0") == 0) {
            lbox0 = 1;
        } else if (strcmp(argv[i], "--rreq") == 0) {
            rreq = 1;
        } else if (argv[i][0] == '-') {
            die("unknown option", argv[i]);
        } else if (!outpath) {
            outpath = argv[i];
        } else {
            if (n == MAX_INPUTS)
                die("too many inputs", NULL);
            inputs[n++] = argv[i];
        }
    }
    if (!outpath || n == 0) {
        fprintf(stderr, "usage: mkjpx [--frag I] [--xlbox I] [--lbox0] [--rreq] OUT IN...\n");
        return 2;
    }
    if (frag >= n || xlbox >= n)
        die("codestream index out of range", NULL);
    if (lbox0 && frag >= 0)
        die("--lbox0 needs the last box to be a jp2c (no --frag)", NULL);

    struct bytes files[MAX_INPUTS];
    struct bytes cs[MAX_INPUTS]; /* views into files[] */
    for (int i = 0; i < n; i++) {
        files[i] = read_file(inputs[i]);
        if (is_jp2(&files[i])) {
            size_t off, len;
            if (find_box(&files[i], "jp2c", &off, &len) < 0)
                die("no jp2c box", inputs[i]);
            cs[i].data = files[i].data + off;
            cs[i].len = len;
        } else {
            cs[i] = files[i];
        }
        if (cs[i].len < 4 || be16(cs[i].data) != 0xFF4F)
            die("codestream does not start with SOC", inputs[i]);
    }

    struct out o = {fopen(outpath, "wb"), 0};
    if (!o.f)
        die("cannot create", outpath);
    static const uint8_t sig[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
    put(&o, sig, sizeof sig);
    box_header(&o, 16, "ftyp");
    put(&o, "jpx ", 4);
    put32(&o, 0);
    put(&o, "jpx ", 4);
    put(&o, "jp2 ", 4);
    if (rreq) {
        /* 15444-2 M.11.1: mask length 1; standard features 1 (no extensions) and 5
         * (unrestricted Part 1 codestream), both needed to decode completely. */
        box_header(&o, 1 + 1 + 1 + 2 + 2 * 3 + 2, "rreq");
        put8(&o, 1);
        put8(&o, 0x80); /* FUAM */
        put8(&o, 0x80); /* DCM */
        put16(&o, 2);   /* NSF */
        put16(&o, 1);
        put8(&o, 0x80);
        put16(&o, 5);
        put8(&o, 0x80);
        put16(&o, 0); /* NVF */
    }
    if (is_jp2(&files[0])) {
        size_t off, len;
        long at = find_box(&files[0], "jp2h", &off, &len);
        if (at < 0)
            die("first input has no jp2h", inputs[0]);
        put(&o, files[0].data + at, off - (size_t)at + len);
    } else {
        synth_jp2h(&o, &cs[0]);
    }

    /* Fragment boundaries of the fragmented codestream (uneven on purpose). */
    size_t cut[NFRAG + 1] = {0};
    uint64_t frag_off[NFRAG] = {0};
    uint64_t ftbl_start = 0;
    if (frag >= 0) {
        size_t len = cs[frag].len;
        if (len < 3 * NFRAG)
            die("codestream too short to fragment", NULL);
        cut[1] = len / 3 + 1;
        cut[2] = 2 * len / 3 + 3;
        cut[3] = len;
    }
    for (int i = 0; i < n; i++) {
        if (i == frag) {
            uint64_t flst_len = 8 + 2 + 14 * NFRAG;
            ftbl_start = o.pos;
            box_header(&o, flst_len, "ftbl");
            box_header(&o, flst_len - 8, "flst");
            put16(&o, NFRAG);
            /* Fragment 0 goes in the free box just after this ftbl; fragments 1.. go in the
             * mdat at the end, in reverse order, each followed by 3 padding bytes. */
            uint64_t after_ftbl = o.pos + 14 * NFRAG;
            frag_off[0] = after_ftbl + 8;
            for (int k = 0; k < NFRAG; k++) {
                put64(&o, frag_off[k]); /* placeholder for k > 0, patched below */
                put32(&o, (uint32_t)(cut[k + 1] - cut[k]));
                put16(&o, 0); /* DR: this file */
            }
            box_header(&o, cut[1] - cut[0], "free");
            put(&o, cs[i].data, cut[1]);
            continue;
        }
        const struct bytes *c = &cs[i];
        if (i == xlbox) {
            put32(&o, 1);
            put(&o, "jp2c", 4);
            put64(&o, (uint64_t)c->len + 16);
        } else if (lbox0 && i == n - 1) {
            put32(&o, 0);
            put(&o, "jp2c", 4);
        } else {
            box_header(&o, c->len, "jp2c");
        }
        put(&o, c->data, c->len);
    }
    if (frag >= 0) {
        uint64_t mdat_len = 0;
        for (int k = NFRAG - 1; k >= 1; k--)
            mdat_len += cut[k + 1] - cut[k] + 3;
        box_header(&o, mdat_len, "mdat");
        for (int k = NFRAG - 1; k >= 1; k--) {
            frag_off[k] = o.pos;
            put(&o, cs[frag].data + cut[k], cut[k + 1] - cut[k]);
            put(&o, "\xEE\xEE\xEE", 3);
        }
        /* Patch the flst offsets now that the mdat layout is known: entry k starts at
         * ftbl + 8 (ftbl header) + 8 (flst header) + 2 (NF) + 14 k. */
        for (int k = 1; k < NFRAG; k++) {
            if (fseek(o.f, (long)(ftbl_start + 8 + 8 + 2 + 14 * (uint64_t)k), SEEK_SET) != 0)
                die("seek error", NULL);
            uint64_t v = frag_off[k];
            uint8_t b[8];
            for (int j = 0; j < 8; j++)
                b[j] = (uint8_t)(v >> (56 - 8 * j));
            if (fwrite(b, 1, 8, o.f) != 8)
                die("write error", NULL);
        }
    }
    if (fclose(o.f) != 0)
        die("write error", outpath);
    for (int i = 0; i < n; i++)
        free(files[i].data);
    return 0;
}
