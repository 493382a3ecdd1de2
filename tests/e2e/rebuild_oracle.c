/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rebuild_oracle: checks the packet index and codestream rebuild against OpenJPEG, through
 * the public API only (jpip/index.h, jpip/decode.h). For every codestream of every file:
 *
 *   keep      rebuild in the file's own order (progression -1), all packets: the decode must
 *             equal the decode of the original codestream bytes;
 *   prog=P    the same, rewritten to each progression order P = LRCP..CPRL;
 *   reduce=r  packets of resolutions above NL(t,c) - r written empty, decoded with reduce r,
 *             against the original decoded with reduce r (r = 1..min(NL, 3));
 *   layers=l  packets of layers >= l written empty, decoded with layers l, against the
 *             original decoded with layers l (at most three values of l);
 *   mixed     reduce 1 and layers 1 together, rewritten to RPCL.
 *
 * The original codestream bytes are the whole file for a raw codestream, and otherwise the
 * contents of the codestream's box (jp2c, or the fragments an ftbl/flst box points at in the
 * same file). When OpenJPEG cannot decode the original, the codestream's checks are skipped.
 *
 *   rebuild_oracle [-v] FILE...
 *   rebuild_oracle [-v] --dir DIR     (every file in DIR/MANIFEST, or every JPEG 2000 file in
 *                                      DIR; exit 77 when DIR does not exist)
 *
 * Prints one line per check and a final "N passed, M failed, K skipped" line; exits 1 when
 * any check failed.
 */
#include <jpip/decode.h>
#include <jpip/index.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_LAYER_CHECKS 3
#define MAX_REDUCE 3

struct totals {
    unsigned passed, failed, skipped;
};

static int verbose;

static const char *const prog_names[5] = {"LRCP", "RLCP", "RPCL", "PCRL", "CPRL"};

static void result(struct totals *tot, const char *file, unsigned cs, const char *check, int status,
                   const char *detail)
{
    static const char *const word[3] = {"PASS", "FAIL", "SKIP"};
    printf("%s %s cs=%u %s%s%s\n", word[status], file, cs, check, detail && *detail ? ": " : "",
           detail ? detail : "");
    if (status == 0)
        tot->passed++;
    else if (status == 1)
        tot->failed++;
    else
        tot->skipped++;
    fflush(stdout);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

static uint64_t be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* The bytes of codestream cs as stored in the file: a malloc'd copy in *out. Box positions
 * come from the index's box list; an ftbl's flst is parsed here (DR = 0 only). */
static int extract_codestream(const struct jpip_target *t, const uint8_t *file, size_t file_len,
                              unsigned cs, uint8_t **out, size_t *out_len, char *msg, size_t msglen)
{
    if (jpip_target_kind(t) == JPIP_KIND_J2K) {
        if (cs != 0) {
            snprintf(msg, msglen, "raw codestream has no codestream %u", cs);
            return -1;
        }
        *out = malloc(file_len ? file_len : 1);
        if (!*out)
            return -1;
        memcpy(*out, file, file_len);
        *out_len = file_len;
        return 0;
    }
    size_t nbox = jpip_target_box_count(t);
    unsigned seen = 0;
    for (size_t i = 0; i < nbox; i++) {
        struct jpip_box_info b;
        if (jpip_target_box(t, i, &b) != JPIP_OK) {
            snprintf(msg, msglen, "jpip_target_box(%zu) failed", i);
            return -1;
        }
        if (b.parent != -1)
            continue;
        int is_jp2c = memcmp(b.type, "jp2c", 4) == 0;
        int is_ftbl = memcmp(b.type, "ftbl", 4) == 0;
        if (!is_jp2c && !is_ftbl)
            continue;
        if (seen++ != cs)
            continue;
        if (b.offset > file_len || b.length > file_len - b.offset || b.length < b.header_length) {
            snprintf(msg, msglen, "box %zu (%s) at %llu length %llu lies outside the file", i,
                     b.type, (unsigned long long)b.offset, (unsigned long long)b.length);
            return -1;
        }
        const uint8_t *content = file + b.offset + b.header_length;
        size_t clen = (size_t)(b.length - b.header_length);
        if (is_jp2c) {
            *out = malloc(clen ? clen : 1);
            if (!*out)
                return -1;
            memcpy(*out, content, clen);
            *out_len = clen;
            return 0;
        }
        /* ftbl holds one flst: NF, then NF x (OFF u64, LEN u32, DR u16) (15444-2 M.11.3). */
        if (clen < 10 || memcmp(content + 4, "flst", 4) != 0) {
            snprintf(msg, msglen, "ftbl at %llu does not start with flst",
                     (unsigned long long)b.offset);
            return -1;
        }
        uint64_t flen = be(content, 4);
        unsigned nf = (unsigned)be(content + 8, 2);
        if (flen < 10 + 14ull * nf || flen > clen) {
            snprintf(msg, msglen, "bad flst at %llu", (unsigned long long)b.offset + 8);
            return -1;
        }
        size_t total = 0;
        for (unsigned k = 0; k < nf; k++)
            total += (size_t)be(content + 10 + 14 * k + 8, 4);
        uint8_t *buf = malloc(total ? total : 1);
        if (!buf)
            return -1;
        size_t pos = 0;
        for (unsigned k = 0; k < nf; k++) {
            const uint8_t *e = content + 10 + 14 * k;
            uint64_t off = be(e, 8), len = be(e + 8, 4), dr = be(e + 12, 2);
            if (dr != 0 || off > file_len || len > file_len - off) {
                snprintf(msg, msglen, "fragment %u (off %llu len %llu dr %llu) not in this file", k,
                         (unsigned long long)off, (unsigned long long)len, (unsigned long long)dr);
                free(buf);
                return -1;
            }
            memcpy(buf + pos, file + off, (size_t)len);
            pos += (size_t)len;
        }
        *out = buf;
        *out_len = total;
        return 0;
    }
    snprintf(msg, msglen, "only %u codestream boxes (jp2c/ftbl) at top level, need index %u", seen,
             cs);
    return -1;
}

/* Present-callback state: the highest resolution kept per (tile, component) and the number
 * of layers kept. */
struct keep {
    uint32_t ncomps;
    const uint8_t *levels; /* NL of (tile, component), [tile * ncomps + c] */
    uint32_t ntiles;
    unsigned reduce; /* drop resolutions > NL - reduce */
    unsigned layers; /* 0 = all, else drop layers >= layers */
};

static int keep_packet(void *user, uint32_t tile, uint16_t component, uint8_t resolution,
                       uint32_t precinct, uint16_t layer)
{
    const struct keep *k = user;
    (void)precinct;
    if (k->layers && layer >= k->layers)
        return 0;
    if (k->reduce) {
        if (tile >= k->ntiles || component >= k->ncomps)
            return 1;
        unsigned nl = k->levels[(size_t)tile * k->ncomps + component];
        if ((unsigned)resolution + k->reduce > nl)
            return 0;
    }
    return 1;
}

struct cs_state {
    struct jpip_target *t;
    unsigned cs;
    const char *file;
    const uint8_t *orig;
    size_t orig_len;
    struct totals *tot;
};

/* Decode the original codestream with the options; NULL on failure (msg says why). */
static struct jpip_image *decode_bytes(const uint8_t *data, size_t len, unsigned reduce,
                                       unsigned layers, char *msg, size_t msglen)
{
    struct jpip_decode_options o;
    memset(&o, 0, sizeof o);
    o.reduce = reduce;
    o.layers = layers;
    struct jpip_image *img = NULL;
    int rc = jpip_decode(data, len, &o, &img, msg, msglen);
    if (rc != JPIP_OK) {
        if (!msg[0])
            snprintf(msg, msglen, "%s", jpip_strerror(rc));
        return NULL;
    }
    return img;
}

/* One check: rebuild with progression prog and the keep rules, decode with reduce/layers,
 * and compare with ref. */
static void check_rebuild(struct cs_state *s, const char *name, int prog, struct keep *k,
                          const struct jpip_image *ref)
{
    struct jpip_rebuild_options ro;
    memset(&ro, 0, sizeof ro);
    ro.progression = prog;
    if (k && (k->reduce || k->layers)) {
        ro.present = keep_packet;
        ro.user = k;
    }
    uint8_t *out = NULL;
    size_t out_len = 0;
    char msg[512] = "";
    int rc = jpip_target_rebuild(s->t, s->cs, &ro, &out, &out_len);
    if (rc != JPIP_OK) {
        snprintf(msg, sizeof msg, "jpip_target_rebuild: %s: %s", jpip_strerror(rc),
                 jpip_target_errmsg(s->t));
        result(s->tot, s->file, s->cs, name, 1, msg);
        return;
    }
    char dmsg[300] = "";
    struct jpip_image *img =
        decode_bytes(out, out_len, k ? k->reduce : 0, k ? k->layers : 0, dmsg, sizeof dmsg);
    if (!img) {
        snprintf(msg, sizeof msg, "rebuilt codestream (%zu bytes) does not decode: %s", out_len,
                 dmsg);
        result(s->tot, s->file, s->cs, name, 1, msg);
    } else if (!jpip_image_equal(ref, img, dmsg, sizeof dmsg)) {
        snprintf(msg, sizeof msg, "decode differs from the original's: %s", dmsg);
        result(s->tot, s->file, s->cs, name, 1, msg);
    } else {
        if (verbose)
            snprintf(msg, sizeof msg, "%zu bytes", out_len);
        result(s->tot, s->file, s->cs, name, 0, msg);
    }
    jpip_image_destroy(img);
    jpip_target_free(s->t, out);
}

/* Per-(tile, component) decomposition levels, learnt from the packet index (the highest
 * resolution of any packet), since tile COD/COC may override the main header's value. */
static int learn_levels(struct cs_state *s, const struct jpip_codestream_info *ci,
                        uint8_t **levels_out, unsigned *min_levels, unsigned *min_layers, char *msg,
                        size_t msglen)
{
    uint32_t ntiles = ci->tiles_x * ci->tiles_y;
    uint8_t *levels = calloc((size_t)ntiles * ci->components + 1, 1);
    if (!levels)
        return -1;
    unsigned mn = 255, ml = 65535;
    for (uint32_t tile = 0; tile < ntiles; tile++) {
        struct jpip_tile_info ti;
        int rc = jpip_target_tile_info(s->t, s->cs, tile, &ti);
        if (rc != JPIP_OK) {
            snprintf(msg, msglen, "jpip_target_tile_info(%u): %s: %s", tile, jpip_strerror(rc),
                     jpip_target_errmsg(s->t));
            free(levels);
            return -1;
        }
        if (ti.layers < ml)
            ml = ti.layers;
        for (uint64_t i = 0; i < ti.packets; i++) {
            struct jpip_packet_info p;
            rc = jpip_target_packet(s->t, s->cs, tile, i, &p);
            if (rc != JPIP_OK) {
                snprintf(msg, msglen, "jpip_target_packet(%u, %llu): %s: %s", tile,
                         (unsigned long long)i, jpip_strerror(rc), jpip_target_errmsg(s->t));
                free(levels);
                return -1;
            }
            if (p.component >= ci->components) {
                snprintf(msg, msglen, "tile %u packet %llu names component %u of %u", tile,
                         (unsigned long long)i, p.component, ci->components);
                free(levels);
                return -1;
            }
            uint8_t *l = &levels[(size_t)tile * ci->components + p.component];
            if (p.resolution > *l)
                *l = p.resolution;
        }
        for (unsigned c = 0; c < ci->components; c++) {
            unsigned l = levels[(size_t)tile * ci->components + c];
            if (l < mn)
                mn = l;
        }
    }
    *levels_out = levels;
    *min_levels = mn == 255 ? 0 : mn;
    *min_layers = ml == 65535 ? ci->layers : ml;
    return 0;
}

static void check_codestream(struct jpip_target *t, unsigned cs, const char *file,
                             const uint8_t *filebytes, size_t file_len, struct totals *tot)
{
    char msg[512] = "";
    struct jpip_codestream_info ci;
    int rc = jpip_target_codestream_info(t, cs, &ci);
    if (rc != JPIP_OK) {
        snprintf(msg, sizeof msg, "%s: %s", jpip_strerror(rc), jpip_target_errmsg(t));
        result(tot, file, cs, "info", 1, msg);
        return;
    }
    uint8_t *orig = NULL;
    size_t orig_len = 0;
    if (extract_codestream(t, filebytes, file_len, cs, &orig, &orig_len, msg, sizeof msg) != 0) {
        result(tot, file, cs, "extract", 1, msg);
        return;
    }
    struct cs_state s = {t, cs, file, orig, orig_len, tot};
    if (ci.length != orig_len) {
        snprintf(msg, sizeof msg, "codestream_info.length %llu, box holds %zu bytes",
                 (unsigned long long)ci.length, orig_len);
        result(tot, file, cs, "length", 1, msg);
    }

    struct jpip_image *ref = decode_bytes(orig, orig_len, 0, 0, msg, sizeof msg);
    if (!ref) {
        char m2[600];
        snprintf(m2, sizeof m2, "skip (OpenJPEG cannot decode the original: %s)", msg);
        result(tot, file, cs, "all", 2, m2);
        free(orig);
        return;
    }

    check_rebuild(&s, "keep", -1, NULL, ref);
    for (int p = 0; p < 5; p++) {
        char name[32];
        snprintf(name, sizeof name, "prog=%s", prog_names[p]);
        check_rebuild(&s, name, p, NULL, ref);
    }
    jpip_image_destroy(ref);

    uint8_t *levels = NULL;
    unsigned min_levels = 0, min_layers = 0;
    msg[0] = '\0';
    if (learn_levels(&s, &ci, &levels, &min_levels, &min_layers, msg, sizeof msg) != 0) {
        result(tot, file, cs, "packet-index", 1, msg);
        free(orig);
        return;
    }
    struct keep k = {ci.components, levels, ci.tiles_x * ci.tiles_y, 0, 0};

    unsigned max_r = min_levels < MAX_REDUCE ? min_levels : MAX_REDUCE;
    for (unsigned r = 1; r <= max_r; r++) {
        char name[32];
        snprintf(name, sizeof name, "reduce=%u", r);
        msg[0] = '\0';
        struct jpip_image *rref = decode_bytes(orig, orig_len, r, 0, msg, sizeof msg);
        if (!rref) {
            char m2[600];
            snprintf(m2, sizeof m2, "skip (OpenJPEG cannot decode the original: %s)", msg);
            result(tot, file, cs, name, 2, m2);
            continue;
        }
        k.reduce = r;
        k.layers = 0;
        check_rebuild(&s, name, -1, &k, rref);
        jpip_image_destroy(rref);
    }

    unsigned lv[MAX_LAYER_CHECKS], nlv = 0;
    if (min_layers >= 2) {
        lv[nlv++] = 1;
        if (min_layers >= 4)
            lv[nlv++] = min_layers / 2;
        if (min_layers >= 3)
            lv[nlv++] = min_layers - 1;
    }
    for (unsigned i = 0; i < nlv; i++) {
        char name[32];
        snprintf(name, sizeof name, "layers=%u", lv[i]);
        msg[0] = '\0';
        struct jpip_image *lref = decode_bytes(orig, orig_len, 0, lv[i], msg, sizeof msg);
        if (!lref) {
            char m2[600];
            snprintf(m2, sizeof m2, "skip (OpenJPEG cannot decode the original: %s)", msg);
            result(tot, file, cs, name, 2, m2);
            continue;
        }
        k.reduce = 0;
        k.layers = lv[i];
        check_rebuild(&s, name, -1, &k, lref);
        jpip_image_destroy(lref);
    }

    if (min_levels >= 1 && min_layers >= 2) {
        msg[0] = '\0';
        struct jpip_image *mref = decode_bytes(orig, orig_len, 1, 1, msg, sizeof msg);
        if (mref) {
            k.reduce = 1;
            k.layers = 1;
            check_rebuild(&s, "mixed(reduce=1,layers=1,RPCL)", 2, &k, mref);
            jpip_image_destroy(mref);
        }
    }
    free(levels);
    free(orig);
}

static void check_file(const char *path, struct totals *tot)
{
    const char *file = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    if (!bytes) {
        result(tot, file, 0, "read", 1, strerror(errno));
        return;
    }
    struct jpip_source src;
    int rc = jpip_file_source_open(&src, path);
    if (rc != JPIP_OK) {
        result(tot, file, 0, "open", 1, jpip_strerror(rc));
        free(bytes);
        return;
    }
    struct jpip_target *t = NULL;
    clock_t t0 = clock();
    rc = jpip_target_open(&t, &src, NULL, NULL);
    if (rc != JPIP_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "jpip_target_open: %s: %s", jpip_strerror(rc),
                 t ? jpip_target_errmsg(t) : "");
        result(tot, file, 0, "open", 1, msg);
    } else {
        unsigned n = jpip_target_codestream_count(t);
        if (n == 0)
            result(tot, file, 0, "open", 1, "no codestream");
        for (unsigned cs = 0; cs < n; cs++)
            check_codestream(t, cs, file, bytes, len, tot);
    }
    if (verbose)
        printf("     %s: %.2f s\n", file, (double)(clock() - t0) / CLOCKS_PER_SEC);
    jpip_target_destroy(t);
    jpip_file_source_close(&src);
    free(bytes);
}

static int is_jpeg2000(const char *path)
{
    static const uint8_t sig[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
    uint8_t head[12];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n >= 4 && head[0] == 0xFF && head[1] == 0x4F && head[2] == 0xFF && head[3] == 0x51)
        return 1;
    return n == 12 && memcmp(head, sig, 12) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of a directory: those MANIFEST lists if there is one, else every regular file that
 * starts like a codestream or a JP2-family file, in name order. */
static int run_dir(const char *dir, struct totals *tot)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("SKIP: directory %s not found\n", dir);
        return 77;
    }
    size_t cap = 64, n = 0;
    char **names = malloc(cap * sizeof *names);
    char path[4096];
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    FILE *mf = fopen(path, "r");
    if (mf) {
        char line[1024];
        while (fgets(line, sizeof line, mf)) {
            line[strcspn(line, "\r\n")] = '\0';
            if (!line[0])
                continue;
            if (n == cap)
                names = realloc(names, (cap *= 2) * sizeof *names);
            names[n++] = strdup(line);
        }
        fclose(mf);
    } else {
        DIR *d = opendir(dir);
        if (!d) {
            printf("SKIP: cannot read directory %s\n", dir);
            free(names);
            return 77;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !is_jpeg2000(path))
                continue;
            if (n == cap)
                names = realloc(names, (cap *= 2) * sizeof *names);
            names[n++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof *names, cmp_str);
    }
    if (n == 0) {
        printf("SKIP: no JPEG 2000 files in %s\n", dir);
        free(names);
        return 77;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        check_file(path, tot);
        free(names[i]);
    }
    free(names);
    return 0;
}

int main(int argc, char **argv)
{
    struct totals tot = {0, 0, 0};
    int nfiles = 0;
    clock_t t0 = clock();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            int rc = run_dir(argv[++i], &tot);
            if (rc == 77 && nfiles == 0 && i == argc - 1 && tot.passed + tot.failed == 0)
                return 77;
            nfiles++;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: rebuild_oracle [-v] FILE... | --dir DIR\n");
            return 2;
        } else {
            check_file(argv[i], &tot);
            nfiles++;
        }
    }
    if (nfiles == 0) {
        fprintf(stderr, "usage: rebuild_oracle [-v] FILE... | --dir DIR\n");
        return 2;
    }
    printf("%u passed, %u failed, %u skipped (%.1f s CPU)\n", tot.passed, tot.failed, tot.skipped,
           (double)(clock() - t0) / CLOCKS_PER_SEC);
    return tot.failed ? 1 : 0;
}
