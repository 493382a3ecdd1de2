/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bad-input robustness of the codestream engine through the public target API (open, index
 * every tile, list packets, rebuild). Real codestreams are made in memory with OpenJPEG's
 * encoder, then truncated at every byte, corrupted, or rewritten: SOT tile numbers and lengths,
 * marker lengths, absurd SIZ, JP2 box lengths, packed headers (PPM/PPT) with wrong chunk
 * counts, PLT garbage (the index must fall back to the packet headers and rebuild the same
 * bytes) and a PLT that lies. Every run goes through a counting allocator: errors must come
 * with a message, nothing may leak, the peak stays under 64 MiB, and an allocation-failure
 * sweep fails each allocation in turn.
 */
#include <openjpeg.h>

#include <jpip/index.h>

#include "cs_builder.h"
#include "test.h"

/* ---- a counting, failing allocator ---------------------------------------------------------- */

struct counter {
    size_t live, peak, count; /* peak counts refused requests too */
    size_t fail_at;           /* 1-based index of the allocation to fail; 0 = none */
    int failed;
};

#define HDR 16
#define PEAK_LIMIT ((size_t)64 << 20)

static void *count_alloc(void *opaque, size_t size)
{
    struct counter *c = opaque;
    c->count++;
    if (c->fail_at && c->count == c->fail_at) {
        c->failed = 1;
        return NULL;
    }
    /* A request that alone passes the limit is refused (the library must cope), but counted
     * in the peak so that the test still sees it. */
    if (c->live + size > c->peak)
        c->peak = c->live + size;
    if (size > PEAK_LIMIT)
        return NULL;
    uint8_t *p = malloc(size + HDR);
    if (!p)
        return NULL;
    memcpy(p, &size, sizeof size);
    c->live += size;
    if (c->live > c->peak)
        c->peak = c->live;
    return p + HDR;
}

static void count_free(void *opaque, void *ptr)
{
    struct counter *c = opaque;
    if (!ptr)
        return;
    uint8_t *p = (uint8_t *)ptr - HDR;
    size_t size;
    memcpy(&size, p, sizeof size);
    c->live -= size;
    free(p);
}

/* ---- the pipeline under test ------------------------------------------------------------------
 */

struct outcome {
    int open_rc;  /* jpip_target_open */
    int worst_rc; /* first failure of any step, or JPIP_OK */
    int tiles_ok; /* tiles indexed */
    int from_plt; /* some tile took PLT */
    uint8_t *out; /* rebuilt codestream 0 (malloc'd copy), or NULL */
    size_t out_len;
    size_t peak;
    char msg[256];
};

/* Known memory issues (found by this test, see the tests at the end of this file): while they
 * are open, those two inputs are only measured, not held to PEAK_LIMIT. Set to 1 once fixed. */
#define ENFORCE_INDEX_MEMORY_BOUNDS 1

static size_t peak_limit = PEAK_LIMIT;

/* Open, index every tile of every codestream (listing each packet), rebuild codestream 0 with
 * prog. Checks the invariants every run must keep and returns what happened. fail_at injects
 * an allocation failure. */
static int pipeline(const uint8_t *data, size_t len, int prog, size_t fail_at, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    struct counter cnt = {0};
    cnt.fail_at = fail_at;
    struct jpip_allocator a = {count_alloc, count_free, &cnt};
    struct jpip_source src;
    jpip_memory_source_init(&src, data, len);
    struct jpip_target *t = NULL;
    int rc = jpip_target_open(&t, &src, &a, NULL);
    o->open_rc = rc;
    o->worst_rc = rc;
    int bad = 0;
    if (rc != JPIP_OK) {
        if (rc >= 0) {
            fprintf(stderr, "open returned %d\n", rc);
            bad = 1;
        }
        if (t && jpip_target_errmsg(t)[0] == '\0' && rc != JPIP_ENOMEM) {
            fprintf(stderr, "open failed (%d) without a message\n", rc);
            bad = 1;
        }
        if (t)
            snprintf(o->msg, sizeof o->msg, "%s", jpip_target_errmsg(t));
    } else {
        for (unsigned cs = 0; cs < jpip_target_codestream_count(t); cs++) {
            struct jpip_codestream_info ci;
            if (jpip_target_codestream_info(t, cs, &ci) != JPIP_OK) {
                bad = 1;
                break;
            }
            for (uint32_t k = 0; k < ci.tiles_x * ci.tiles_y && k < 4096; k++) {
                struct jpip_tile_info ti;
                int trc = jpip_target_tile_info(t, cs, k, &ti);
                if (trc != JPIP_OK) {
                    if (o->worst_rc == JPIP_OK) {
                        o->worst_rc = trc;
                        snprintf(o->msg, sizeof o->msg, "%s", jpip_target_errmsg(t));
                    }
                    if (trc >= 0 || (jpip_target_errmsg(t)[0] == '\0' && trc != JPIP_ENOMEM)) {
                        fprintf(stderr, "tile %u: %d without a message\n", k, trc);
                        bad = 1;
                    }
                    continue;
                }
                o->tiles_ok++;
                o->from_plt |= ti.from_plt;
                for (uint64_t i = 0; i < ti.packets; i++) {
                    struct jpip_packet_info pi;
                    int prc = jpip_target_packet(t, cs, k, i, &pi);
                    if (prc != JPIP_OK) {
                        if (prc != JPIP_ENOMEM) {
                            fprintf(stderr, "packet %llu: %d\n", (unsigned long long)i, prc);
                            bad = 1;
                        } else if (o->worst_rc == JPIP_OK) {
                            o->worst_rc = prc;
                        }
                        break;
                    }
                    if (pi.offset > ci.length || pi.length > ci.length - pi.offset) {
                        fprintf(stderr, "packet %llu outside the codestream\n",
                                (unsigned long long)i);
                        bad = 1;
                    }
                }
            }
        }
        struct jpip_rebuild_options ro = {prog, NULL, NULL};
        uint8_t *out = NULL;
        size_t out_len = 0;
        rc = jpip_target_rebuild(t, 0, &ro, &out, &out_len);
        if (rc == JPIP_OK) {
            o->out = malloc(out_len ? out_len : 1);
            if (!o->out)
                abort();
            memcpy(o->out, out, out_len);
            o->out_len = out_len;
            jpip_target_free(t, out);
        } else {
            if (o->worst_rc == JPIP_OK) {
                o->worst_rc = rc;
                snprintf(o->msg, sizeof o->msg, "%s", jpip_target_errmsg(t));
            }
            if (rc >= 0 || (jpip_target_errmsg(t)[0] == '\0' && rc != JPIP_ENOMEM)) {
                fprintf(stderr, "rebuild: %d without a message\n", rc);
                bad = 1;
            }
        }
    }
    jpip_target_destroy(t);
    o->peak = cnt.peak;
    if (cnt.live != 0) {
        fprintf(stderr, "leak: %zu bytes still allocated\n", cnt.live);
        bad = 1;
    }
    if (cnt.peak > peak_limit) {
        fprintf(stderr, "peak allocation %zu bytes for a %zu-byte input\n", cnt.peak, len);
        bad = 1;
    }
    if (fail_at && !cnt.failed)
        o->worst_rc = 1; /* no allocation was failed: the sweep is over */
    return bad;
}

static void outcome_free(struct outcome *o)
{
    free(o->out);
    o->out = NULL;
}

/* ---- codestreams made by OpenJPEG in memory ------------------------------------------------- */

struct membuf {
    uint8_t *d;
    size_t n, cap, pos;
};

static OPJ_SIZE_T mem_write(void *buf, OPJ_SIZE_T n, void *user)
{
    struct membuf *m = user;
    if (m->pos + n > m->cap) {
        size_t ncap = m->cap ? m->cap : 4096;
        while (ncap < m->pos + n)
            ncap *= 2;
        uint8_t *nd = realloc(m->d, ncap);
        if (!nd)
            return (OPJ_SIZE_T)-1;
        m->d = nd;
        m->cap = ncap;
    }
    memcpy(m->d + m->pos, buf, n);
    m->pos += n;
    if (m->pos > m->n)
        m->n = m->pos;
    return n;
}
static OPJ_OFF_T mem_skip(OPJ_OFF_T n, void *user)
{
    struct membuf *m = user;
    m->pos += (size_t)n;
    return n;
}
static OPJ_BOOL mem_seek(OPJ_OFF_T n, void *user)
{
    struct membuf *m = user;
    m->pos = (size_t)n;
    return OPJ_TRUE;
}

struct enc {
    uint32_t w, h, ncomp;
    int tiles;     /* tile size, 0 = one tile */
    int levels;    /* resolutions - 1 */
    int layers;    /* quality layers (rates 40, 20, ... , lossless) */
    int sop_eph;   /* SOP and EPH markers */
    int plt;       /* PLT=YES */
    char tp;       /* tile-part flag: 0, 'R', 'L', 'C' */
    int precincts; /* 16x16 precincts */
    OPJ_PROG_ORDER prog;
    int jp2;
};

static uint8_t *opj_make(const struct enc *e, size_t *len)
{
    opj_cparameters_t p;
    opj_set_default_encoder_parameters(&p);
    p.numresolution = e->levels + 1;
    p.tcp_numlayers = e->layers;
    for (int l = 0; l < e->layers; l++)
        p.tcp_rates[l] = (float)(l + 1 == e->layers ? 0 : 40 >> l);
    p.cp_disto_alloc = 1;
    p.prog_order = e->prog;
    if (e->sop_eph)
        p.csty |= 0x06;
    if (e->tiles) {
        p.tile_size_on = OPJ_TRUE;
        p.cp_tdx = e->tiles;
        p.cp_tdy = e->tiles;
    }
    if (e->tp) {
        p.tp_on = 1;
        p.tp_flag = e->tp;
    }
    if (e->precincts) {
        p.csty |= 0x01;
        p.res_spec = 1;
        p.prcw_init[0] = 16;
        p.prch_init[0] = 16;
    }
    p.cblockw_init = 16;
    p.cblockh_init = 16;
    opj_image_cmptparm_t cp[3];
    memset(cp, 0, sizeof cp);
    for (uint32_t c = 0; c < e->ncomp; c++) {
        cp[c].dx = cp[c].dy = 1;
        cp[c].w = e->w;
        cp[c].h = e->h;
        cp[c].prec = 8;
    }
    opj_image_t *img =
        opj_image_create(e->ncomp, cp, e->ncomp == 3 ? OPJ_CLRSPC_SRGB : OPJ_CLRSPC_GRAY);
    if (!img)
        abort();
    img->x0 = img->y0 = 0;
    img->x1 = e->w;
    img->y1 = e->h;
    uint32_t rng = 1234;
    for (uint32_t c = 0; c < e->ncomp; c++)
        for (uint32_t i = 0; i < e->w * e->h; i++) {
            uint32_t x = i % e->w, y = i / e->w;
            img->comps[c].data[i] =
                (OPJ_INT32)(((x * 7 + y * 3 + c * 50) & 0xFF) ^ (csb_rand(&rng) & 0x1F));
        }
    opj_codec_t *codec = opj_create_compress(e->jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
    struct membuf m = {0};
    int ok = codec && opj_setup_encoder(codec, &p, img);
    if (ok && e->plt) {
        const char *const opts[] = {"PLT=YES", NULL};
        ok = opj_encoder_set_extra_options(codec, opts);
    }
    opj_stream_t *st = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_FALSE);
    if (ok && st) {
        opj_stream_set_write_function(st, mem_write);
        opj_stream_set_skip_function(st, mem_skip);
        opj_stream_set_seek_function(st, mem_seek);
        opj_stream_set_user_data(st, &m, NULL);
        ok = opj_start_compress(codec, img, st) && opj_encode(codec, st) &&
             opj_end_compress(codec, st);
    }
    opj_stream_destroy(st);
    opj_destroy_codec(codec);
    opj_image_destroy(img);
    if (!ok) {
        fprintf(stderr, "opj_make: encoding failed\n");
        abort();
    }
    *len = m.n;
    return m.d;
}

static const struct enc small_sop = {24, 20, 3, 0, 2, 2, 1, 0, 0, 0, OPJ_LRCP, 0};

/* ---- helpers on codestream bytes ----------------------------------------------------------- */

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* Offset of the first marker `code` found by walking marker segments from the main header,
 * then tile-part by tile-part through SOT lengths (searching the tile-part headers). */
static size_t find_marker(const uint8_t *d, size_t n, uint16_t code, size_t from)
{
    size_t pos = from ? from : 2;
    while (pos + 4 <= n) {
        uint16_t m = be16(d + pos);
        if (m == code)
            return pos;
        if (m == 0xFF93) /* SOD: skip to the next tile-part via the last SOT's Psot */
            return SIZE_MAX;
        if (m == 0xFF90 && code != 0xFF90) {
            size_t psot = ((size_t)be16(d + pos + 6) << 16) | be16(d + pos + 8);
            size_t h = pos + 12;
            while (h + 4 <= n && be16(d + h) != 0xFF93) {
                if (be16(d + h) == code)
                    return h;
                h += 2u + be16(d + h + 2);
            }
            if (!psot)
                return SIZE_MAX;
            pos += psot;
            continue;
        }
        pos += 2u + be16(d + pos + 2);
    }
    return SIZE_MAX;
}

/* ---- truncation --------------------------------------------------------------------------- */

static void truncate_all(const uint8_t *d, size_t n, size_t step, uint32_t seed)
{
    uint32_t rng = seed;
    size_t ok = 0, errors = 0;
    for (size_t cut = 0; cut < n; cut += step) {
        size_t at = step == 1 ? cut : csb_rand(&rng) % n;
        uint8_t *copy = malloc(at ? at : 1); /* exact size: over-reads are caught by ASan */
        if (!copy)
            abort();
        memcpy(copy, d, at);
        struct outcome o;
        if (pipeline(copy, at, cut % 2 ? -1 : (int)(cut % 5), 0, &o))
            TEST_FAIL_AT("cut at %zu of %zu", at, n);
        if (o.worst_rc == JPIP_OK)
            ok++;
        else
            errors++;
        outcome_free(&o);
        free(copy);
    }
    fprintf(stderr, "truncations: %zu ok, %zu errors\n", ok, errors);
    ASSERT_TRUE(errors > 0);
}

TEST(truncate_small_j2k_at_every_byte)
{
    size_t n;
    uint8_t *d = opj_make(&small_sop, &n);
    ASSERT_TRUE(n < 3072);
    struct outcome o;
    ASSERT_EQ_INT(pipeline(d, n, -1, 0, &o), 0);
    ASSERT_EQ_INT(o.worst_rc, JPIP_OK);
    outcome_free(&o);
    truncate_all(d, n, 1, 1);
    free(d);
}

TEST(truncate_small_jp2_at_every_byte)
{
    struct enc e = small_sop;
    e.jp2 = 1;
    e.tiles = 12;
    e.tp = 'R';
    size_t n;
    uint8_t *d = opj_make(&e, &n);
    if (n >= 4096)
        TEST_FAIL_AT("JP2 of %zu bytes", n);
    truncate_all(d, n, 1, 2);
    free(d);
}

TEST(truncate_bigger_at_random_offsets)
{
    const struct enc e = {200, 150, 3, 64, 4, 3, 1, 1, 'R', 1, OPJ_RPCL, 0};
    size_t n;
    uint8_t *d = opj_make(&e, &n);
    struct outcome o;
    ASSERT_EQ_INT(pipeline(d, n, -1, 0, &o), 0);
    ASSERT_EQ_INT(o.worst_rc, JPIP_OK);
    ASSERT_EQ_INT(o.from_plt, 1);
    outcome_free(&o);
    truncate_all(d, n, n / 150, 3);
    free(d);
}

TEST(random_byte_corruption)
{
    /* Flip a few bytes of a tiled, layered, SOP/EPH codestream many times. */
    const struct enc e = {40, 36, 3, 16, 2, 2, 1, 0, 'L', 1, OPJ_PCRL, 0};
    size_t n;
    uint8_t *d = opj_make(&e, &n);
    uint8_t *copy = malloc(n);
    if (!copy)
        abort();
    uint32_t rng = 4;
    for (int round = 0; round < 1500; round++) {
        memcpy(copy, d, n);
        int flips = 1 + (int)(csb_rand(&rng) % 4);
        for (int k = 0; k < flips; k++) {
            uint32_t r = csb_rand(&rng);
            /* Mostly in the headers, where the parsers are. */
            size_t at = (r & 1) ? (r >> 8) % (n < 400 ? n : 400) : (r >> 8) % n;
            copy[at] = (r & 2) ? (uint8_t)(r >> 20) : (uint8_t)(copy[at] ^ (1u << ((r >> 4) & 7)));
        }
        struct outcome o;
        if (pipeline(copy, n, (int)(round % 6) - 1, 0, &o))
            TEST_FAIL_AT("round %d", round);
        outcome_free(&o);
    }
    free(copy);
    free(d);
}

/* ---- specific corruptions ------------------------------------------------------------------- */

static void expect_error(const uint8_t *d, size_t n, const char *needle)
{
    struct outcome o;
    ASSERT_EQ_INT(pipeline(d, n, -1, 0, &o), 0);
    if (o.worst_rc >= 0)
        TEST_FAIL_AT("expected an error containing \"%s\"", needle);
    ASSERT_STR_CONTAINS(o.msg, needle);
    outcome_free(&o);
}

TEST(sot_tile_index_out_of_range)
{
    const struct enc e = {24, 20, 1, 8, 1, 1, 0, 0, 0, 0, OPJ_LRCP, 0};
    size_t n;
    uint8_t *d = opj_make(&e, &n); /* 3 x 3 tiles */
    size_t sot = find_marker(d, n, 0xFF90, 0);
    ASSERT_TRUE(sot != SIZE_MAX);
    d[sot + 4] = 0;
    d[sot + 5] = 9;
    expect_error(d, n, "names tile 9 of 9");
    d[sot + 4] = 0xFF;
    d[sot + 5] = 0xFF;
    expect_error(d, n, "offset");
    free(d);
}

TEST(psot_past_end_and_too_small)
{
    size_t n;
    uint8_t *d = opj_make(&small_sop, &n);
    size_t sot = find_marker(d, n, 0xFF90, 0);
    ASSERT_TRUE(sot != SIZE_MAX);
    uint8_t saved[4];
    memcpy(saved, d + sot + 6, 4);
    const uint32_t bad[] = {(uint32_t)n, UINT32_MAX, 13, 1};
    for (unsigned i = 0; i < 4; i++) {
        d[sot + 6] = (uint8_t)(bad[i] >> 24);
        d[sot + 7] = (uint8_t)(bad[i] >> 16);
        d[sot + 8] = (uint8_t)(bad[i] >> 8);
        d[sot + 9] = (uint8_t)bad[i];
        expect_error(d, n, "offset");
    }
    /* Psot = 0 (to the end): fine for the last tile-part. */
    memset(d + sot + 6, 0, 4);
    struct outcome o;
    ASSERT_EQ_INT(pipeline(d, n, -1, 0, &o), 0);
    ASSERT_EQ_INT(o.worst_rc, JPIP_OK);
    outcome_free(&o);
    memcpy(d + sot + 6, saved, 4);
    free(d);
}

TEST(marker_lengths_past_the_end)
{
    size_t n;
    uint8_t *d = opj_make(&small_sop, &n);
    /* Each main-header segment in turn gets a length running past the end or below 2. */
    size_t pos = 2;
    int tried = 0;
    while (pos + 4 <= n && be16(d + pos) != 0xFF90) {
        const uint16_t len = be16(d + pos + 2);
        const uint16_t bad[] = {0xFFFF, (uint16_t)(n - pos), 1, 0};
        for (unsigned i = 0; i < 4; i++) {
            d[pos + 2] = (uint8_t)(bad[i] >> 8);
            d[pos + 3] = (uint8_t)bad[i];
            struct outcome o;
            ASSERT_EQ_INT(pipeline(d, n, -1, 0, &o), 0);
            ASSERT_TRUE(o.worst_rc < 0);
            ASSERT_STR_CONTAINS(o.msg, "offset");
            outcome_free(&o);
            tried++;
        }
        d[pos + 2] = (uint8_t)(len >> 8);
        d[pos + 3] = (uint8_t)len;
        pos += 2u + len;
    }
    ASSERT_TRUE(tried >= 16);
    free(d);
}

/* A codestream of 1x1 tiles or many components, made by hand: SOC SIZ COD QCD, then one
 * tile-part per listed tile holding npk empty packets (0x00). */
static uint8_t *hand_codestream(const struct csb_siz *s, uint8_t nl, uint32_t tiles,
                                uint32_t empty_packets, size_t *len)
{
    struct csb b = {0};
    csb_u16(&b, 0xFF4F);
    csb_siz(&b, s);
    const struct csb_spco sp = {nl, 4, 4, 0, 1, NULL};
    csb_cod(&b, 0, 0, 1, 0, &sp);
    csb_qcd(&b, nl);
    for (uint32_t t = 0; t < tiles; t++) {
        size_t sot = csb_sot(&b, (uint16_t)t, 0, 0, 1);
        csb_u16(&b, 0xFF93);
        for (uint32_t k = 0; k < empty_packets; k++)
            csb_u8(&b, 0);
        csb_set_u32(&b, sot + 6, (uint32_t)(b.n - sot));
    }
    csb_u16(&b, 0xFFD9);
    *len = b.n;
    return b.d;
}

TEST(absurd_siz)
{
    /* 2^32 - 1 wide with 1x1 tiles: refused for its tile count before any allocation. */
    struct csb_siz s = {0, UINT32_MAX, 1, 0, 0, 1, 1, 0, 0, 1, NULL, NULL, 8};
    size_t n;
    uint8_t *d = hand_codestream(&s, 0, 1, 1, &n);
    struct outcome o;
    ASSERT_EQ_INT(pipeline(d, n, -1, 0, &o), 0);
    ASSERT_EQ_INT(o.open_rc, JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(o.msg, "tiles");
    ASSERT_TRUE(o.peak < 4096);
    outcome_free(&o);
    free(d);

    /* 16384 components of one sample, one layer, no decomposition: 16384 one-byte packets. */
    struct csb_siz c = {0, 1, 1, 0, 0, 1, 1, 0, 0, 16384, NULL, NULL, 8};
    d = hand_codestream(&c, 0, 1, 16384, &n);
    ASSERT_EQ_INT(pipeline(d, n, -1, 0, &o), 0);
    ASSERT_EQ_INT(o.worst_rc, JPIP_OK);
    ASSERT_EQ_U64(o.tiles_ok, 1);
    ASSERT_TRUE(o.out_len > 16384);
    outcome_free(&o);
    /* ... and with one packet missing: an error, not a hang. */
    ASSERT_EQ_INT(pipeline(d, n - 3, -1, 0, &o), 0);
    ASSERT_TRUE(o.worst_rc < 0);
    outcome_free(&o);
    free(d);
}

/* A big image whose only tile-part is tiny must not make the index allocate for the image:
 * here 3 one-byte packets of precincts holding 2^22 code-blocks each (~600 MB of precinct
 * state today), and 2^27 one-sample precincts (a packet table of over 1.5 GB). */
static void memory_bound_case(const uint8_t *d, size_t n, const char *what)
{
    peak_limit = ENFORCE_INDEX_MEMORY_BOUNDS ? PEAK_LIMIT : SIZE_MAX;
    struct outcome o;
    int bad = pipeline(d, n, -1, 0, &o);
    peak_limit = PEAK_LIMIT;
    outcome_free(&o);
    ASSERT_EQ_INT(bad, 0);
    ASSERT_TRUE(o.worst_rc < 0);
    if (o.peak > PEAK_LIMIT)
        fprintf(stderr, "KNOWN ISSUE: %s: peak allocation %zu bytes for a %zu-byte file\n", what,
                o.peak, n);
}

TEST(index_memory_bounded_by_input)
{
    struct csb_siz big = {0, 1u << 20, 1u << 20, 0, 0, 1u << 20, 1u << 20, 0, 0, 3, NULL, NULL, 8};
    size_t n;
    uint8_t *d = hand_codestream(&big, 5, 1, 3, &n);
    memory_bound_case(d, n, "precinct state");
    free(d);

    struct csb b = {0};
    csb_u16(&b, 0xFF4F);
    struct csb_siz s = {0, 16384, 8192, 0, 0, 16384, 8192, 0, 0, 1, NULL, NULL, 8};
    csb_siz(&b, &s);
    const uint8_t prec[1] = {0x00};
    const struct csb_spco sp = {0, 2, 2, 0, 1, prec};
    csb_cod(&b, 0, 0, 1, 0, &sp);
    csb_qcd(&b, 0);
    size_t sot = csb_sot(&b, 0, 0, 0, 1);
    csb_u16(&b, 0xFF93);
    csb_u8(&b, 0);
    csb_set_u32(&b, sot + 6, (uint32_t)(b.n - sot));
    csb_u16(&b, 0xFFD9);
    memory_bound_case(b.d, b.n, "packet table");
    csb_free(&b);
}

/* JP2: box lengths of 0 (to the end) where they do not belong, below the header size, or
 * nested boxes longer than their parent. */
TEST(jp2_box_lengths)
{
    struct enc e = small_sop;
    e.jp2 = 1;
    size_t n;
    uint8_t *d = opj_make(&e, &n);
    struct outcome o;
    ASSERT_EQ_INT(pipeline(d, n, -1, 0, &o), 0);
    ASSERT_EQ_INT(o.worst_rc, JPIP_OK);
    outcome_free(&o);
    /* Every top-level box header, and the ones inside jp2h, gets each bad length. */
    uint8_t *copy = malloc(n);
    if (!copy)
        abort();
    const uint32_t bad[] = {0, 1, 2, 7, 8, 9, UINT32_MAX, 0x7FFFFFFF};
    int tried = 0;
    for (size_t pos = 0; pos + 8 <= n; pos++) {
        /* A box header: four printable type characters after the length. */
        int is_box = 1;
        for (int k = 4; k < 8; k++)
            is_box &= (d[pos + k] >= 'a' && d[pos + k] <= 'z') || d[pos + k] == ' ' ||
                      (d[pos + k] >= '0' && d[pos + k] <= '9') || d[pos + k] == 'P';
        if (!is_box || pos > 200)
            continue;
        for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            memcpy(copy, d, n);
            copy[pos] = (uint8_t)(bad[i] >> 24);
            copy[pos + 1] = (uint8_t)(bad[i] >> 16);
            copy[pos + 2] = (uint8_t)(bad[i] >> 8);
            copy[pos + 3] = (uint8_t)bad[i];
            if (pipeline(copy, n, -1, 0, &o))
                TEST_FAIL_AT("box at %zu length %u", pos, bad[i]);
            outcome_free(&o);
            tried++;
        }
    }
    ASSERT_TRUE(tried >= 40);
    free(copy);
    free(d);
}

/* ---- packed headers: rewrite a codestream with PPT or PPM --------------------------------- */

/* From a codestream with SOP+EPH, one tile-part per tile and no PLT: move each packet header
 * (and its EPH) into PPT segments of its tile-part (mode 1) or into PPM in the main header
 * (mode 2), leaving [SOP] body in-band. Returns the new codestream. */
static uint8_t *pack_headers(const uint8_t *d, size_t n, int mode, size_t *out_len)
{
    struct jpip_source src;
    jpip_memory_source_init(&src, d, n);
    struct jpip_target *t = NULL;
    if (jpip_target_open(&t, &src, NULL, NULL) != JPIP_OK)
        abort();
    struct jpip_codestream_info ci;
    jpip_target_codestream_info(t, 0, &ci);
    uint32_t ntiles = ci.tiles_x * ci.tiles_y;
    struct csb *hdrs = calloc(ntiles, sizeof *hdrs), *bodies = calloc(ntiles, sizeof *bodies);
    if (!hdrs || !bodies)
        abort();
    for (uint32_t k = 0; k < ntiles; k++) {
        struct jpip_tile_info ti;
        if (jpip_target_tile_info(t, 0, k, &ti) != JPIP_OK || ti.tile_parts != 1)
            abort();
        for (uint64_t i = 0; i < ti.packets; i++) {
            struct jpip_packet_info pi;
            jpip_target_packet(t, 0, k, i, &pi);
            const uint8_t *p = d + pi.offset;
            size_t sop = be16(p) == 0xFF91 ? 6 : 0;
            csb_put(&bodies[k], p, sop);
            csb_put(&hdrs[k], p + sop, pi.header_length - sop);
            csb_put(&bodies[k], p + pi.header_length, pi.length - pi.header_length);
        }
    }
    jpip_target_destroy(t);
    struct csb b = {0};
    size_t first_sot = find_marker(d, n, 0xFF90, 0);
    csb_put(&b, d, first_sot);
    if (mode == 2) {
        /* PPM: Nppm + headers per tile-part, in segments of at most 60000 bytes. */
        struct csb all = {0};
        for (uint32_t k = 0; k < ntiles; k++) {
            csb_u32(&all, (uint32_t)hdrs[k].n);
            csb_put(&all, hdrs[k].d, hdrs[k].n);
        }
        uint8_t z = 0;
        for (size_t off = 0; off < all.n; off += 60000) {
            size_t take = all.n - off < 60000 ? all.n - off : 60000;
            size_t at = csb_begin(&b, 0xFF60);
            csb_u8(&b, z++);
            csb_put(&b, all.d + off, take);
            csb_end(&b, at);
        }
        csb_free(&all);
    }
    /* Tile-parts in tile order (the source has one per tile). */
    size_t pos = first_sot;
    for (uint32_t k = 0; k < ntiles; k++) {
        size_t psot = ((size_t)be16(d + pos + 6) << 16) | be16(d + pos + 8);
        size_t sot = csb_sot(&b, be16(d + pos + 4), 0, 0, 1);
        size_t h = pos + 12;
        while (be16(d + h) != 0xFF93) {
            csb_put(&b, d + h, 2u + be16(d + h + 2));
            h += 2u + be16(d + h + 2);
        }
        uint16_t tile = be16(d + pos + 4);
        if (mode == 1) {
            uint8_t z = 0;
            for (size_t off = 0; off < hdrs[tile].n || off == 0; off += 60000) {
                size_t take = hdrs[tile].n - off < 60000 ? hdrs[tile].n - off : 60000;
                size_t at = csb_begin(&b, 0xFF61);
                csb_u8(&b, z++);
                csb_put(&b, hdrs[tile].d + off, take);
                csb_end(&b, at);
                if (take == 0)
                    break;
            }
        }
        csb_u16(&b, 0xFF93);
        csb_put(&b, bodies[tile].d, bodies[tile].n);
        csb_set_u32(&b, sot + 6, (uint32_t)(b.n - sot));
        pos += psot;
    }
    csb_u16(&b, 0xFFD9);
    for (uint32_t k = 0; k < ntiles; k++) {
        csb_free(&hdrs[k]);
        csb_free(&bodies[k]);
    }
    free(hdrs);
    free(bodies);
    *out_len = b.n;
    return b.d;
}

static const struct enc packed_src = {40, 36, 3, 16, 2, 3, 1, 0, 0, 1, OPJ_RPCL, 0};

TEST(ppt_and_ppm_rebuild_like_in_band)
{
    size_t n;
    uint8_t *d = opj_make(&packed_src, &n);
    struct outcome ref;
    ASSERT_EQ_INT(pipeline(d, n, -1, 0, &ref), 0);
    ASSERT_EQ_INT(ref.worst_rc, JPIP_OK);
    for (int mode = 1; mode <= 2; mode++) {
        size_t m;
        uint8_t *p = pack_headers(d, n, mode, &m);
        struct outcome o;
        ASSERT_EQ_INT(pipeline(p, m, -1, 0, &o), 0);
        if (o.worst_rc != JPIP_OK)
            TEST_FAIL_AT("mode %d: %d %s", mode, o.worst_rc, o.msg);
        /* Packed headers re-joined with their bodies: the same codestream as in-band. */
        ASSERT_EQ_U64(o.out_len, ref.out_len);
        ASSERT_MEM_EQ(o.out, ref.out, ref.out_len);
        outcome_free(&o);
        truncate_all(p, m, m / 120, 10u + (uint32_t)mode);
        free(p);
    }
    outcome_free(&ref);
    free(d);
}

TEST(ppm_chunk_counts_wrong)
{
    size_t n;
    uint8_t *d = opj_make(&packed_src, &n);
    size_t m;
    uint8_t *p = pack_headers(d, n, 2, &m);
    size_t ppm = find_marker(p, m, 0xFF60, 0);
    ASSERT_TRUE(ppm != SIZE_MAX);
    const size_t nppm = ppm + 5; /* first Nppm */
    uint8_t saved[4];
    memcpy(saved, p + nppm, 4);
    /* First chunk longer than the PPM data; much longer; zero (headers then run short). */
    const uint32_t bad[] = {0x00FFFFFF, UINT32_MAX, 0, 1};
    for (unsigned i = 0; i < 4; i++) {
        p[nppm] = (uint8_t)(bad[i] >> 24);
        p[nppm + 1] = (uint8_t)(bad[i] >> 16);
        p[nppm + 2] = (uint8_t)(bad[i] >> 8);
        p[nppm + 3] = (uint8_t)bad[i];
        struct outcome o;
        ASSERT_EQ_INT(pipeline(p, m, -1, 0, &o), 0);
        ASSERT_TRUE(o.worst_rc < 0);
        outcome_free(&o);
    }
    memcpy(p + nppm, saved, 4);
    /* Fewer chunks than tile-parts: drop the last chunk by shortening the PPM segment. */
    uint32_t last = 0;
    {
        /* Walk the chunks to find where the last one starts. */
        size_t q = nppm, end = ppm + 2 + be16(p + ppm + 2);
        size_t prev = q;
        while (q + 4 <= end) {
            prev = q;
            uint32_t len = ((uint32_t)be16(p + q) << 16) | be16(p + q + 2);
            q += 4 + len;
        }
        last = (uint32_t)(end - prev);
    }
    uint8_t *cut = malloc(m);
    if (!cut)
        abort();
    size_t seg_end = ppm + 2 + be16(p + ppm + 2);
    memcpy(cut, p, seg_end - last);
    memcpy(cut + seg_end - last, p + seg_end, m - seg_end);
    const uint16_t lppm = (uint16_t)(be16(p + ppm + 2) - last);
    cut[ppm + 2] = (uint8_t)(lppm >> 8);
    cut[ppm + 3] = (uint8_t)lppm;
    expect_error(cut, m - last, "fewer chunks");
    free(cut);
    free(p);
    free(d);
}

/* ---- PLT: garbage and lies --------------------------------------------------------------- */

static const struct enc plt_src = {40, 36, 3, 0, 3, 3, 0, 1, 0, 1, OPJ_LRCP, 0};

TEST(plt_garbage_falls_back_to_headers)
{
    size_t n;
    uint8_t *d = opj_make(&plt_src, &n);
    struct outcome ref;
    ASSERT_EQ_INT(pipeline(d, n, -1, 0, &ref), 0);
    ASSERT_EQ_INT(ref.worst_rc, JPIP_OK);
    ASSERT_EQ_INT(ref.from_plt, 1);
    size_t plt = find_marker(d, n, 0xFF58, 0);
    ASSERT_TRUE(plt != SIZE_MAX);
    const size_t body = plt + 5, blen = be16(d + plt + 2) - 3u;
    uint8_t *copy = malloc(n);
    if (!copy)
        abort();
    uint32_t rng = 8;
    for (int kind = 0; kind < 6; kind++) {
        memcpy(copy, d, n);
        for (size_t i = 0; i < blen; i++) {
            switch (kind) {
            case 0: copy[body + i] = 0x80; break; /* never-ending length */
            case 1: copy[body + i] = 0x00; break; /* all packets empty */
            case 2: copy[body + i] = (uint8_t)csb_rand(&rng); break;
            case 3: copy[body + i] = 0xFF; break; /* > 32 bits */
            case 4: copy[body + i] = i == blen - 1 ? 0x7F : copy[body + i]; break;
            default: copy[body + i] = (uint8_t)(i % 2 ? 0x01 : 0x8F); break;
            }
        }
        struct outcome o;
        ASSERT_EQ_INT(pipeline(copy, n, -1, 0, &o), 0);
        if (o.worst_rc != JPIP_OK)
            TEST_FAIL_AT("kind %d: %d %s", kind, o.worst_rc, o.msg);
        ASSERT_EQ_INT(o.from_plt, 0);
        ASSERT_EQ_U64(o.out_len, ref.out_len);
        ASSERT_MEM_EQ(o.out, ref.out, ref.out_len);
        outcome_free(&o);
    }
    /* The last length changed: the lengths no longer add up to the tile's data. */
    memcpy(copy, d, n);
    copy[body + blen - 1] = 0x00;
    struct outcome o;
    ASSERT_EQ_INT(pipeline(copy, n, -1, 0, &o), 0);
    ASSERT_EQ_INT(o.worst_rc, JPIP_OK);
    ASSERT_MEM_EQ(o.out, ref.out, ref.out_len);
    outcome_free(&o);
    free(copy);
    outcome_free(&ref);
    free(d);
}

TEST(plt_that_lies)
{
    /* Same count and sum, wrong split: two lengths swapped. The index cannot tell; it must
     * not crash, and the rebuild in the original order still emits the same bytes. */
    size_t n;
    uint8_t *d = opj_make(&plt_src, &n);
    struct outcome ref;
    ASSERT_EQ_INT(pipeline(d, n, -1, 0, &ref), 0);
    size_t plt = find_marker(d, n, 0xFF58, 0);
    ASSERT_TRUE(plt != SIZE_MAX);
    const size_t body = plt + 5, blen = be16(d + plt + 2) - 3u;
    /* Find two single-byte lengths that differ and swap them. */
    size_t i1 = SIZE_MAX, i2 = SIZE_MAX;
    for (size_t i = 0; i < blen; i++) {
        int single = !(d[body + i] & 0x80) && (i == 0 || !(d[body + i - 1] & 0x80));
        if (!single)
            continue;
        if (i1 == SIZE_MAX)
            i1 = i;
        else if (d[body + i] != d[body + i1]) {
            i2 = i;
            break;
        }
    }
    ASSERT_TRUE(i2 != SIZE_MAX);
    uint8_t *copy = malloc(n);
    if (!copy)
        abort();
    memcpy(copy, d, n);
    copy[body + i1] = d[body + i2];
    copy[body + i2] = d[body + i1];
    struct outcome o;
    ASSERT_EQ_INT(pipeline(copy, n, -1, 0, &o), 0);
    ASSERT_EQ_INT(o.worst_rc, JPIP_OK);
    ASSERT_EQ_INT(o.from_plt, 1);
    ASSERT_EQ_U64(o.out_len, ref.out_len);
    ASSERT_MEM_EQ(o.out, ref.out, ref.out_len);
    outcome_free(&o);
    for (int prog = 0; prog <= 4; prog++) {
        ASSERT_EQ_INT(pipeline(copy, n, prog, 0, &o), 0);
        outcome_free(&o);
    }
    /* A lying PLT whose lengths add up to more than the data: rejected, headers used. */
    memcpy(copy, d, n);
    copy[body + i1] = 0x7F;
    ASSERT_EQ_INT(pipeline(copy, n, -1, 0, &o), 0);
    ASSERT_EQ_INT(o.worst_rc, JPIP_OK);
    ASSERT_EQ_INT(o.from_plt, 0);
    ASSERT_MEM_EQ(o.out, ref.out, ref.out_len);
    outcome_free(&o);
    free(copy);
    outcome_free(&ref);
    free(d);
}

/* ---- allocation failures ------------------------------------------------------------------- */

static void sweep(const uint8_t *d, size_t n, int prog)
{
    struct outcome ref;
    ASSERT_EQ_INT(pipeline(d, n, prog, 0, &ref), 0);
    ASSERT_EQ_INT(ref.worst_rc, JPIP_OK);
    size_t fail_at = 1;
    for (;; fail_at++) {
        struct outcome o;
        if (pipeline(d, n, prog, fail_at, &o))
            TEST_FAIL_AT("failing allocation %zu", fail_at);
        const int rc = o.worst_rc;
        const int same = o.out_len == ref.out_len && o.out && !memcmp(o.out, ref.out, ref.out_len);
        outcome_free(&o);
        if (rc == 1) /* no allocation left to fail */
            break;
        /* A failed allocation surfaces as an error, or is absorbed without changing the
         * result (e.g. a PLT that cannot be decoded falls back to the headers). */
        if (rc == JPIP_OK && !same)
            TEST_FAIL_AT("failing allocation %zu changed the result", fail_at);
        if (rc != JPIP_OK && rc != JPIP_ENOMEM && rc != JPIP_ELIMIT)
            TEST_FAIL_AT("failing allocation %zu gave %d", fail_at, rc);
        if (fail_at > 100000)
            TEST_FAIL_AT("sweep does not end");
    }
    fprintf(stderr, "allocation sweep: %zu allocations\n", fail_at - 1);
    outcome_free(&ref);
}

TEST(allocation_failure_sweep)
{
    size_t n;
    uint8_t *d = opj_make(&small_sop, &n);
    sweep(d, n, -1);
    sweep(d, n, 4); /* CPRL */
    free(d);
    struct enc e = plt_src;
    e.jp2 = 1;
    e.tiles = 16;
    e.tp = 'R';
    d = opj_make(&e, &n);
    sweep(d, n, -1);
    free(d);
    d = opj_make(&packed_src, &n);
    size_t m;
    uint8_t *p = pack_headers(d, n, 2, &m);
    sweep(p, m, 0); /* LRCP */
    free(p);
    free(d);
}

RUN_TESTS()
