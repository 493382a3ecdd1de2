/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for lib/codestream/progression.c: hand-written packet sequences (LRCP over 2 layers x
 * 2 resolutions x 2 components; a POC list with overlapping volumes), and, over random layouts
 * (tiles, offsets, subsampling, precincts, per-component levels from COC), every order against
 * a reference that follows 15444-1 B.12 literally: position-driven orders step through every
 * sample of the tile and test the divisibility conditions. Each packet must be visited exactly
 * once without POC, at most once with it.
 */
#include "codestream/codestream.h"
#include "codestream/progression.h"
#include "cs_builder.h"
#include "test.h"

struct seq {
    uint32_t *g;
    uint16_t *l;
    size_t n, cap;
};

static int record(void *user, uint32_t g, uint16_t l)
{
    struct seq *s = user;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->g = realloc(s->g, s->cap * sizeof *s->g);
        s->l = realloc(s->l, s->cap * sizeof *s->l);
        if (!s->g || !s->l)
            abort();
    }
    s->g[s->n] = g;
    s->l[s->n] = l;
    s->n++;
    return 0;
}

static void seq_free(struct seq *s)
{
    free(s->g);
    free(s->l);
    memset(s, 0, sizeof *s);
}

/* Parse a main header and lay out tile t (with an optional tile header). */
static int layout(const struct csb *mhb, const struct csb *th, uint32_t t, struct jpip__mainhdr *mh,
                  struct jpip__tile_index *ti)
{
    struct jpip__err err;
    jpip__err_clear(&err);
    int rc = jpip__mainhdr_parse(mh, mhb->d, mhb->n, 0, NULL, &err);
    if (rc == JPIP_OK)
        rc = jpip__tile_layout(ti, mh, t, th ? th->d : NULL, th ? (uint32_t)th->n : 0, NULL, &err);
    if (rc != JPIP_OK)
        fprintf(stderr, "layout: %s\n", err.msg);
    return rc;
}

/* "c r p l" labels of a recorded sequence, space-separated, for readable comparisons. */
static void labels(const struct jpip__tile_index *ti, const struct seq *s, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < s->n && n + 32 < cap; i++) {
        uint16_t c;
        uint8_t r;
        uint32_t p;
        jpip__prec_locate(ti, s->g[i], &c, &r, &p);
        n += (size_t)snprintf(out + n, cap - n, "%sc%ur%up%ul%u", i ? " " : "", c, r, p, s->l[i]);
    }
}

static void two_by_two_header(struct csb *b, uint8_t prog)
{
    csb_u16(b, 0xFF4F);
    struct csb_siz s = {0, 16, 16, 0, 0, 16, 16, 0, 0, 2, NULL, NULL, 8};
    csb_siz(b, &s);
    const struct csb_spco sp = {1, 4, 4, 0, 1, NULL};
    csb_cod(b, 0, prog, 2, 0, &sp);
    csb_qcd(b, 1);
}

TEST(lrcp_hand_sequence)
{
    struct csb b = {0};
    two_by_two_header(&b, JPIP_LRCP);
    struct jpip__mainhdr mh;
    struct jpip__tile_index ti;
    ASSERT_OK(layout(&b, NULL, 0, &mh, &ti));
    struct seq s = {0};
    ASSERT_OK(jpip__progression_walk(&ti, &mh.siz, -1, record, &s, NULL));
    char got[512];
    labels(&ti, &s, got, sizeof got);
    ASSERT_STR_EQ(got, "c0r0p0l0 c1r0p0l0 c0r1p0l0 c1r1p0l0 c0r0p0l1 c1r0p0l1 c0r1p0l1 c1r1p0l1");
    /* Forcing RLCP and CPRL over the same tile. */
    seq_free(&s);
    ASSERT_OK(jpip__progression_walk(&ti, &mh.siz, JPIP_RLCP, record, &s, NULL));
    labels(&ti, &s, got, sizeof got);
    ASSERT_STR_EQ(got, "c0r0p0l0 c1r0p0l0 c0r0p0l1 c1r0p0l1 c0r1p0l0 c1r1p0l0 c0r1p0l1 c1r1p0l1");
    seq_free(&s);
    ASSERT_OK(jpip__progression_walk(&ti, &mh.siz, JPIP_CPRL, record, &s, NULL));
    labels(&ti, &s, got, sizeof got);
    ASSERT_STR_EQ(got, "c0r0p0l0 c0r0p0l1 c0r1p0l0 c0r1p0l1 c1r0p0l0 c1r0p0l1 c1r1p0l0 c1r1p0l1");
    seq_free(&s);
    jpip__tile_index_free(&ti, NULL);
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&b);
}

TEST(poc_hand_sequence)
{
    /* Volumes: RLCP r [0,2) c [0,2) layers < 1; CPRL r [0,1) c [0,2) layers < 2; LRCP r [1,2)
     * c [1,2) layers < 2. The packet c0 r1 l1 is in no volume: never visited. */
    const struct csb_poc_entry e[3] = {
        {0, 2, JPIP_RLCP, 0, 2, 1}, {0, 1, JPIP_CPRL, 0, 2, 2}, {1, 2, JPIP_LRCP, 1, 2, 2}};
    const char *expected = "c0r0p0l0 c1r0p0l0 c0r1p0l0 c1r1p0l0 c0r0p0l1 c1r0p0l1 c1r1p0l1";
    for (int in_tile = 0; in_tile < 2; in_tile++) {
        struct csb b = {0}, th = {0};
        two_by_two_header(&b, JPIP_LRCP);
        if (in_tile) {
            /* A main POC that the tile's POC replaces. */
            const struct csb_poc_entry m = {0, 2, JPIP_CPRL, 0, 2, 2};
            csb_poc(&b, 2, &m, 1);
            csb_poc(&th, 2, e, 2);
            csb_poc(&th, 2, e + 2, 1);
        } else {
            csb_poc(&b, 2, e, 3);
        }
        struct jpip__mainhdr mh;
        struct jpip__tile_index ti;
        ASSERT_OK(layout(&b, &th, 0, &mh, &ti));
        struct seq s = {0};
        ASSERT_OK(jpip__progression_walk(&ti, &mh.siz, -1, record, &s, NULL));
        char got[512];
        labels(&ti, &s, got, sizeof got);
        ASSERT_STR_EQ(got, expected);
        /* A forced order ignores POC and visits all 8. */
        seq_free(&s);
        ASSERT_OK(jpip__progression_walk(&ti, &mh.siz, JPIP_LRCP, record, &s, NULL));
        ASSERT_EQ_U64(s.n, 8);
        seq_free(&s);
        jpip__tile_index_free(&ti, NULL);
        jpip__mainhdr_free(&mh, NULL);
        csb_free(&b);
        csb_free(&th);
    }
}

TEST(poc_ranges_clamped)
{
    /* Ends past the tile's components, resolutions and layers are clamped; an empty volume
     * (RS >= RE) visits nothing. */
    struct csb b = {0};
    two_by_two_header(&b, JPIP_LRCP);
    const struct csb_poc_entry e[2] = {{1, 0, JPIP_RPCL, 0, 2, 2}, {0, 33, JPIP_PCRL, 0, 0, 9}};
    csb_poc(&b, 2, e, 2);
    struct jpip__mainhdr mh;
    struct jpip__tile_index ti;
    ASSERT_OK(layout(&b, NULL, 0, &mh, &ti));
    struct seq s = {0};
    ASSERT_OK(jpip__progression_walk(&ti, &mh.siz, -1, record, &s, NULL));
    char got[512];
    labels(&ti, &s, got, sizeof got);
    ASSERT_STR_EQ(got, "c0r0p0l0 c0r0p0l1 c0r1p0l0 c0r1p0l1 c1r0p0l0 c1r0p0l1 c1r1p0l0 c1r1p0l1");
    seq_free(&s);
    jpip__tile_index_free(&ti, NULL);
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&b);
}

static int stop_after_three(void *user, uint32_t g, uint16_t l)
{
    (void)g;
    (void)l;
    int *n = user;
    return ++*n == 3 ? JPIP_ELIMIT : 0;
}

TEST(callback_error_stops_walk)
{
    struct csb b = {0};
    two_by_two_header(&b, JPIP_RPCL);
    struct jpip__mainhdr mh;
    struct jpip__tile_index ti;
    ASSERT_OK(layout(&b, NULL, 0, &mh, &ti));
    for (int prog = -1; prog <= 4; prog++) {
        int n = 0;
        ASSERT_EQ_INT(jpip__progression_walk(&ti, &mh.siz, prog, stop_after_three, &n, NULL),
                      JPIP_ELIMIT);
        ASSERT_EQ_INT(n, 3);
    }
    jpip__tile_index_free(&ti, NULL);
    jpip__mainhdr_free(&mh, NULL);
    csb_free(&b);
}

/* ---- the reference: 15444-1 B.12 loops, literally ------------------------------------------ */

struct ref {
    const struct jpip__tile_index *ti;
    const struct jpip__siz *siz;
    uint8_t *done;
    struct seq *out;
};

static void ref_visit(struct ref *R, uint16_t c, unsigned r, uint32_t p, uint16_t ly1)
{
    uint32_t g = jpip__prec_g(R->ti, c, (uint8_t)r, p);
    for (uint16_t l = 0; l < ly1; l++) {
        uint64_t k = (uint64_t)g * R->ti->nlayers + l;
        if (!R->done[k]) {
            R->done[k] = 1;
            record(R->out, g, l);
        }
    }
}

/* B.12.1.3: is there a precinct of (c, r) starting at sample (x, y)? Its index in *p. */
static int ref_prec_at(const struct ref *R, uint16_t c, unsigned r, uint64_t x, uint64_t y,
                       uint32_t *p)
{
    const struct jpip__tccp *tc = &R->ti->coding.tccp[c];
    const struct jpip__res_layout *rl = &R->ti->comp[c].res[r];
    if (rl->rect.x1 <= rl->rect.x0 || rl->rect.y1 <= rl->rect.y0)
        return 0;
    const unsigned n = tc->nl - r;
    const uint64_t xr = R->siz->comp[c].dx, yr = R->siz->comp[c].dy;
    const uint64_t sx = (uint64_t)1 << (tc->ppx[r] + n), sy = (uint64_t)1 << (tc->ppy[r] + n);
    int xok =
        x % (xr * sx) == 0 || (x == R->ti->rect.x0 && (((uint64_t)rl->rect.x0 << n) % sx) != 0);
    int yok =
        y % (yr * sy) == 0 || (y == R->ti->rect.y0 && (((uint64_t)rl->rect.y0 << n) % sy) != 0);
    if (!xok || !yok)
        return 0;
    uint64_t cx = (x + (xr << n) - 1) / (xr << n), cy = (y + (yr << n) - 1) / (yr << n);
    uint64_t px = (cx >> tc->ppx[r]) - (rl->rect.x0 >> tc->ppx[r]);
    uint64_t py = (cy >> tc->ppy[r]) - (rl->rect.y0 >> tc->ppy[r]);
    *p = (uint32_t)(py * rl->npw + px);
    return 1;
}

static void ref_volume(struct ref *R, const struct jpip__poc *v)
{
    const struct jpip__tile_index *ti = R->ti;
    uint16_t ce = v->ce < ti->ncomp ? v->ce : ti->ncomp;
    uint16_t ly1 = v->lye < ti->nlayers ? v->lye : ti->nlayers;
    unsigned re = v->re;
    const struct jpip__rect *t = &ti->rect;
    uint32_t p;
    switch (v->prog) {
    case JPIP_LRCP:
        for (uint16_t l = 0; l < ly1; l++)
            for (unsigned r = v->rs; r < re && r <= JPIP_MAX_LEVELS; r++)
                for (uint16_t c = v->cs; c < ce; c++)
                    if (r < ti->comp[c].nres)
                        for (uint32_t k = 0; k < ti->comp[c].res[r].npw * ti->comp[c].res[r].nph;
                             k++) {
                            uint32_t g = jpip__prec_g(ti, c, (uint8_t)r, k);
                            uint64_t key = (uint64_t)g * ti->nlayers + l;
                            if (!R->done[key]) {
                                R->done[key] = 1;
                                record(R->out, g, l);
                            }
                        }
        break;
    case JPIP_RLCP:
        for (unsigned r = v->rs; r < re && r <= JPIP_MAX_LEVELS; r++)
            for (uint16_t l = 0; l < ly1; l++)
                for (uint16_t c = v->cs; c < ce; c++)
                    if (r < ti->comp[c].nres)
                        for (uint32_t k = 0; k < ti->comp[c].res[r].npw * ti->comp[c].res[r].nph;
                             k++) {
                            uint32_t g = jpip__prec_g(ti, c, (uint8_t)r, k);
                            uint64_t key = (uint64_t)g * ti->nlayers + l;
                            if (!R->done[key]) {
                                R->done[key] = 1;
                                record(R->out, g, l);
                            }
                        }
        break;
    case JPIP_RPCL:
        for (unsigned r = v->rs; r < re && r <= JPIP_MAX_LEVELS; r++)
            for (uint64_t y = t->y0; y < t->y1; y++)
                for (uint64_t x = t->x0; x < t->x1; x++)
                    for (uint16_t c = v->cs; c < ce; c++)
                        if (r < ti->comp[c].nres && ref_prec_at(R, c, r, x, y, &p))
                            ref_visit(R, c, r, p, ly1);
        break;
    case JPIP_PCRL:
        for (uint64_t y = t->y0; y < t->y1; y++)
            for (uint64_t x = t->x0; x < t->x1; x++)
                for (uint16_t c = v->cs; c < ce; c++)
                    for (unsigned r = v->rs; r < re && r < ti->comp[c].nres; r++)
                        if (ref_prec_at(R, c, r, x, y, &p))
                            ref_visit(R, c, r, p, ly1);
        break;
    default:
        for (uint16_t c = v->cs; c < ce; c++)
            for (uint64_t y = t->y0; y < t->y1; y++)
                for (uint64_t x = t->x0; x < t->x1; x++)
                    for (unsigned r = v->rs; r < re && r < ti->comp[c].nres; r++)
                        if (ref_prec_at(R, c, r, x, y, &p))
                            ref_visit(R, c, r, p, ly1);
        break;
    }
}

static void ref_walk(const struct jpip__tile_index *ti, const struct jpip__siz *siz, int prog,
                     struct seq *out)
{
    struct ref R = {ti, siz, calloc((size_t)ti->npk + 1, 1), out};
    if (!R.done)
        abort();
    if (prog < 0 && ti->coding.npoc) {
        for (uint16_t i = 0; i < ti->coding.npoc; i++)
            ref_volume(&R, &ti->coding.poc[i]);
    } else {
        struct jpip__poc all = {0,           JPIP_MAX_LEVELS + 1,
                                0,           ti->ncomp,
                                ti->nlayers, (uint8_t)(prog >= 0 ? prog : ti->coding.prog)};
        ref_volume(&R, &all);
    }
    free(R.done);
}

/* A random small codestream header: up to 3 components with subsampling, offsets, tiles,
 * precincts per resolution, COC with other levels, sometimes a POC list. */
static void random_header(struct csb *b, uint32_t *rng, int with_poc)
{
    csb_u16(b, 0xFF4F);
    uint16_t csiz = (uint16_t)(1 + csb_rand(rng) % 3);
    uint8_t dx[3], dy[3];
    for (int c = 0; c < 3; c++) {
        dx[c] = (uint8_t)(1 + csb_rand(rng) % 3);
        dy[c] = (uint8_t)(1 + csb_rand(rng) % 3);
    }
    uint32_t xo = csb_rand(rng) % 20, yo = csb_rand(rng) % 20;
    uint32_t xto = csb_rand(rng) % (xo + 1), yto = csb_rand(rng) % (yo + 1);
    uint32_t xt = xo - xto + 1 + csb_rand(rng) % 40, yt = yo - yto + 1 + csb_rand(rng) % 40;
    struct csb_siz s = {0,
                        xo + 1 + csb_rand(rng) % 60,
                        yo + 1 + csb_rand(rng) % 60,
                        xo,
                        yo,
                        xt,
                        yt,
                        xto,
                        yto,
                        csiz,
                        dx,
                        dy,
                        8};
    csb_siz(b, &s);
    uint8_t prec[3][6];
    struct csb_spco sp[3];
    for (int c = 0; c < 3; c++) {
        sp[c].nl = (uint8_t)(csb_rand(rng) % 5);
        sp[c].xcb = (uint8_t)(2 + csb_rand(rng) % 3);
        sp[c].ycb = (uint8_t)(2 + csb_rand(rng) % 3);
        sp[c].style = 0;
        sp[c].wavelet = 1;
        sp[c].prec = NULL;
        if (csb_rand(rng) % 4) {
            for (unsigned r = 0; r <= sp[c].nl; r++) {
                unsigned px = (r ? 1 : 0) + csb_rand(rng) % 4, py = (r ? 1 : 0) + csb_rand(rng) % 4;
                prec[c][r] = (uint8_t)(px | (py << 4));
            }
            sp[c].prec = prec[c];
        }
    }
    uint16_t layers = (uint16_t)(1 + csb_rand(rng) % 3);
    csb_cod(b, 0, (uint8_t)(csb_rand(rng) % 5), layers, 0, &sp[0]);
    for (uint16_t c = 1; c < csiz; c++)
        if (csb_rand(rng) % 2)
            csb_coc(b, csiz, c, &sp[c]);
    csb_qcd(b, 4);
    if (with_poc) {
        struct csb_poc_entry e[4];
        unsigned n = 1 + csb_rand(rng) % 4;
        for (unsigned i = 0; i < n; i++) {
            e[i].rs = (uint8_t)(csb_rand(rng) % 3);
            e[i].re = (uint8_t)(e[i].rs + 1 + csb_rand(rng) % 5);
            e[i].cs = (uint16_t)(csb_rand(rng) % csiz);
            e[i].ce = (uint16_t)(e[i].cs + 1 + csb_rand(rng) % 3);
            e[i].lye = (uint16_t)(1 + csb_rand(rng) % 3);
            e[i].prog = (uint8_t)(csb_rand(rng) % 5);
        }
        csb_poc(b, csiz, e, n);
    }
}

TEST(random_layouts_against_reference)
{
    uint32_t rng = 77;
    int compared = 0;
    for (int round = 0; round < 250; round++) {
        struct csb b = {0};
        const int with_poc = round % 3 == 0;
        random_header(&b, &rng, with_poc);
        struct jpip__mainhdr mh;
        struct jpip__err err;
        if (jpip__mainhdr_parse(&mh, b.d, b.n, 0, NULL, &err) != JPIP_OK)
            TEST_FAIL_AT("round %d: header: %s", round, err.msg);
        for (uint32_t t = 0; t < mh.siz.ntiles && t < 4; t++) {
            struct jpip__tile_index ti;
            ASSERT_OK(jpip__tile_layout(&ti, &mh, t, NULL, 0, NULL, &err));
            for (int prog = -1; prog <= 4; prog++) {
                struct seq got = {0}, want = {0};
                ASSERT_OK(jpip__progression_walk(&ti, &mh.siz, prog, record, &got, NULL));
                ref_walk(&ti, &mh.siz, prog, &want);
                int same = got.n == want.n;
                for (size_t i = 0; same && i < got.n; i++)
                    same = got.g[i] == want.g[i] && got.l[i] == want.l[i];
                /* Without POC every packet exactly once (the reference dedups itself). */
                if (prog >= 0 || !with_poc)
                    same = same && got.n == ti.npk;
                if (!same) {
                    char a[4096], w[4096];
                    labels(&ti, &got, a, sizeof a);
                    labels(&ti, &want, w, sizeof w);
                    fprintf(stderr, "round %d tile %u prog %d (npk %llu)\n got: %s\nwant: %s\n",
                            round, t, prog, (unsigned long long)ti.npk, a, w);
                    jpip_test_failed = 1;
                }
                seq_free(&got);
                seq_free(&want);
                compared++;
            }
            jpip__tile_index_free(&ti, NULL);
            if (jpip_test_failed)
                break;
        }
        jpip__mainhdr_free(&mh, NULL);
        csb_free(&b);
        if (jpip_test_failed)
            return;
    }
    ASSERT_TRUE(compared > 1000);
}

RUN_TESTS()
