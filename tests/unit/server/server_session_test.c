/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Sessions, stateless requests with model=, byte limits, pre-emption and bad requests, all
 * in process. The rule under test: over a channel (or with an honest model=), a walk through
 * overlapping views — pan, zoom in, zoom out, back — never delivers a data-bin byte twice,
 * and every view still decodes exactly.
 */
#include "server_harness.h"
#include "test.h"

struct view {
    unsigned d;
    uint32_t ox, oy, sx, sy; /* in the frame at d; sx = 0 means the whole frame */
};

static const struct view walk[] = {
    {2, 0, 0, 0, 0},     /* thumbnail */
    {1, 10, 10, 40, 30}, /* zoom in */
    {0, 30, 30, 60, 50}, /* zoom in more */
    {0, 60, 40, 60, 50}, /* pan right and down */
    {0, 20, 80, 70, 60}, /* pan */
    {1, 0, 0, 0, 0},     /* zoom out */
    {0, 30, 30, 60, 50}, /* back */
    {0, 0, 0, 0, 0},     /* everything */
};

static void view_query(const char *file, const struct view *v, char *q, size_t ql)
{
    uint32_t fw, fh;
    frame_size(file, v->d, &fw, &fh);
    uint32_t sx = v->sx ? v->sx : fw, sy = v->sy ? v->sy : fh;
    snprintf(q, ql, "fsiz=%u,%u&roff=%u,%u&rsiz=%u,%u", fw, fh, v->ox, v->oy, sx, sy);
}

static int view_exact(const char *file, struct tstore *st, const struct view *v, char *why,
                      size_t wl)
{
    uint32_t fw, fh;
    frame_size(file, v->d, &fw, &fh);
    struct jpip__rect cv;
    view_canvas(file, v->d, v->ox, v->oy, v->sx ? v->sx : fw, v->sy ? v->sy : fh, &cv);
    return check_view(file, st, v->d, &cv, 0, 0, NULL, why, wl);
}

/* Extract a header's value from the header block. */
static int header_value(const char *hdrs, const char *name, char *out, size_t cap)
{
    const char *p = strstr(hdrs, name);
    if (!p)
        return 0;
    p += strlen(name);
    size_t n = strcspn(p, "\r\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

TEST(session_walk_sends_nothing_twice)
{
    ASSERT_TRUE(make_files() == 0);
    struct jpip_server *s = new_server();
    for (size_t f = 0; f < 4; f++) {
        const char *file = files[f].name;
        char path[128], q[512], hdrs[4096], cnew[256], cid[64] = "";
        snprintf(path, sizeof path, "/%s", file);
        struct tstore st = {0};
        for (size_t i = 0; i < sizeof walk / sizeof *walk; i++) {
            char vq[256];
            view_query(file, &walk[i], vq, sizeof vq);
            if (i == 0)
                snprintf(q, sizeof q, "cnew=http&type=jpp-stream&tid=0&%s", vq);
            else
                snprintf(q, sizeof q, "cid=%s&%s", cid, vq);
            uint8_t eor = 0;
            int status = fetch(s, i == 0 ? path : "/jpip", q, &st, hdrs, sizeof hdrs, &eor);
            ASSERT_EQ_INT(status, 200);
            ASSERT_EQ_INT(eor, 2);
            if (i == 0) {
                ASSERT_TRUE(header_value(hdrs, "JPIP-cnew: cid=", cnew, sizeof cnew));
                ASSERT_TRUE(strchr(cnew, ','));
                snprintf(cid, sizeof cid, "%.*s", (int)strcspn(cnew, ","), cnew);
                ASSERT_EQ_INT(strlen(cid), 32);
                ASSERT_STR_CONTAINS(hdrs, "JPIP-tid: ");
            }
            char why[512] = "";
            int ok = view_exact(file, &st, &walk[i], why, sizeof why);
            if (ok == 0)
                printf("FAIL %s view %zu: %s\n", file, i, why);
            ASSERT_TRUE(ok != 0);
        }
        printf("%s: %llu data-bin bytes in %llu messages, %llu received twice\n", file,
               (unsigned long long)st.bytes, (unsigned long long)st.msgs,
               (unsigned long long)st.dup_bytes);
        ASSERT_EQ_U64(st.dup_bytes, 0);
        ASSERT_TRUE(!st.bad);
        /* The same view again costs only the EOR. */
        uint64_t before = st.bytes;
        char vq[256];
        view_query(file, &walk[2], vq, sizeof vq);
        snprintf(q, sizeof q, "cid=%s&%s", cid, vq);
        uint8_t eor = 0;
        ASSERT_EQ_INT(fetch(s, "/jpip", q, &st, NULL, 0, &eor), 200);
        ASSERT_EQ_U64(st.bytes, before);
        ASSERT_EQ_INT(eor, 2);
        snprintf(q, sizeof q, "cclose=%s&cid=%s", cid, cid);
        ASSERT_EQ_INT(fetch(s, "/jpip", q, &st, NULL, 0, NULL), 200);
        snprintf(q, sizeof q, "cid=%s&fsiz=10,10", cid);
        ASSERT_EQ_INT(fetch(s, "/jpip", q, &st, NULL, 0, NULL), 404);
        tfree(&st);
    }
    jpip_server_destroy(s);
}

/* model= text for everything in the store (complete bins whole, partial ones by bytes). */
static void model_of(const struct tstore *st, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < st->n && n + 64 < cap; i++) {
        const struct tbin *b = &st->v[i];
        const char *sep = n ? "," : "";
        char amount[32] = "";
        if (!b->complete)
            snprintf(amount, sizeof amount, ":%llu", (unsigned long long)b->len);
        if (!b->complete && b->len == 0)
            continue;
        switch (b->cls) {
        case 6: n += (size_t)snprintf(out + n, cap - n, "%sHm%s", sep, amount); break;
        case 2:
            n += (size_t)snprintf(out + n, cap - n, "%sH%llu%s", sep, (unsigned long long)b->id,
                                  amount);
            break;
        case 0:
            n += (size_t)snprintf(out + n, cap - n, "%sP%llu%s", sep, (unsigned long long)b->id,
                                  amount);
            break;
        case 8:
            n += (size_t)snprintf(out + n, cap - n, "%sM%llu%s", sep, (unsigned long long)b->id,
                                  amount);
            break;
        default: break;
        }
    }
}

TEST(stateless_model_sends_nothing_twice)
{
    ASSERT_TRUE(make_files() == 0);
    struct jpip_server *s = new_server();
    static char q[60000], model[56000];
    for (size_t f = 0; f < 4; f++) {
        const char *file = files[f].name;
        char path[128];
        snprintf(path, sizeof path, "/%s", file);
        struct tstore st = {0};
        for (size_t i = 0; i < sizeof walk / sizeof *walk; i++) {
            char vq[256];
            view_query(file, &walk[i], vq, sizeof vq);
            model_of(&st, model, sizeof model);
            snprintf(q, sizeof q, "%s%s%s", vq, model[0] ? "&model=" : "", model);
            uint8_t eor = 0;
            ASSERT_EQ_INT(fetch(s, path, q, &st, NULL, 0, &eor), 200);
            ASSERT_EQ_INT(eor, 2);
            char why[512] = "";
            int ok = view_exact(file, &st, &walk[i], why, sizeof why);
            if (ok == 0)
                printf("FAIL %s view %zu: %s\n", file, i, why);
            ASSERT_TRUE(ok != 0);
        }
        printf("%s stateless: %llu bytes, %llu received twice\n", file,
               (unsigned long long)st.bytes, (unsigned long long)st.dup_bytes);
        ASSERT_EQ_U64(st.dup_bytes, 0);
        tfree(&st);
    }
    jpip_server_destroy(s);
}

/* Implicit descriptors name precincts by tile, component, resolution and position: after a
 * whole-image thumbnail at reduce 2, "r0-R" (R = levels - 2) declares everything it brought,
 * and ":L1" the first layer of a view, so neither is sent again. */
TEST(stateless_implicit_model_sends_nothing_twice)
{
    ASSERT_TRUE(make_files() == 0);
    struct jpip_server *s = new_server();
    static const unsigned levels[] = {5, 5, 5, 3}; /* files[0..3] */
    for (size_t f = 0; f < 4; f++) {
        const char *file = files[f].name;
        char path[128], q[1024], vq[256];
        snprintf(path, sizeof path, "/%s", file);
        struct tstore st = {0};
        const struct view thumb = {2, 0, 0, 0, 0}, mid = {1, 10, 10, 40, 30};
        view_query(file, &thumb, vq, sizeof vq);
        ASSERT_EQ_INT(fetch(s, path, vq, &st, NULL, 0, NULL), 200);
        uint64_t before = st.bytes;
        snprintf(q, sizeof q, "%s&model=Hm,H*,t*c*r0-%up*", vq, levels[f] - 2);
        uint8_t eor = 0;
        ASSERT_EQ_INT(fetch(s, path, q, &st, NULL, 0, &eor), 200);
        ASSERT_EQ_INT(eor, 2);
        ASSERT_EQ_U64(st.bytes, before);
        /* A subtractive item takes resolution 0 of component 0 back: it is sent again. */
        snprintf(q, sizeof q, "%s&model=Hm,H*,r0-%u,-c0r0", vq, levels[f] - 2);
        ASSERT_EQ_INT(fetch(s, path, q, &st, NULL, 0, NULL), 200);
        ASSERT_TRUE(st.dup_bytes > 0);
        tfree(&st);

        /* First layer of a mid-resolution region, then all layers declaring ":L1". */
        struct tstore lay = {0};
        view_query(file, &mid, vq, sizeof vq);
        snprintf(q, sizeof q, "%s&layers=1", vq);
        ASSERT_EQ_INT(fetch(s, path, q, &lay, NULL, 0, NULL), 200);
        snprintf(q, sizeof q, "%s&model=Hm,H*,r0-%u:L1", vq, levels[f] - 1);
        ASSERT_EQ_INT(fetch(s, path, q, &lay, NULL, 0, &eor), 200);
        ASSERT_EQ_INT(eor, 2);
        ASSERT_EQ_U64(lay.dup_bytes, 0);
        char why[512] = "";
        int ok = view_exact(file, &lay, &mid, why, sizeof why);
        if (!ok)
            printf("FAIL %s: %s\n", file, why);
        ASSERT_TRUE(ok != 0);
        tfree(&lay);
    }
    jpip_server_destroy(s);
}

/* Limits answer 503 with Retry-After, and the next session fits once one is closed. */
TEST(session_limit_gives_503_with_retry_after)
{
    ASSERT_TRUE(make_files() == 0);
    struct jpip_server_hooks h = {.resolve = resolve, .release = release, .random = rnd};
    struct jpip_server_config cfg = {0};
    cfg.max_sessions = 1;
    struct jpip_server *s = NULL;
    ASSERT_OK(jpip_server_create(&s, &h, &cfg, NULL));
    char path[128], hdrs[4096], cnew[256], cid[64], q[256];
    snprintf(path, sizeof path, "/%s", files[0].name);
    struct tstore st = {0};
    ASSERT_EQ_INT(fetch(s, path, "cnew=http&fsiz=10,10", &st, hdrs, sizeof hdrs, NULL), 200);
    ASSERT_TRUE(header_value(hdrs, "JPIP-cnew: cid=", cnew, sizeof cnew));
    snprintf(cid, sizeof cid, "%.*s", (int)strcspn(cnew, ","), cnew);
    ASSERT_EQ_INT(fetch(s, path, "cnew=http&fsiz=10,10", &st, hdrs, sizeof hdrs, NULL), 503);
    ASSERT_STR_CONTAINS(hdrs, "Retry-After: ");
    snprintf(q, sizeof q, "cclose=%s&cid=%s", cid, cid);
    ASSERT_EQ_INT(fetch(s, "/jpip", q, &st, NULL, 0, NULL), 200);
    ASSERT_EQ_INT(fetch(s, path, "cnew=http&fsiz=10,10", &st, hdrs, sizeof hdrs, NULL), 200);
    tfree(&st);
    jpip_server_destroy(s);
}

TEST(len_increments_complete_the_view)
{
    ASSERT_TRUE(make_files() == 0);
    struct jpip_server *s = new_server();
    const char *file = files[0].name;
    char path[128], q[512], hdrs[4096], cnew[256], cid[64];
    snprintf(path, sizeof path, "/%s", file);
    struct tstore whole = {0}, inc = {0};
    ASSERT_EQ_INT(fetch(s, path, "fsiz=203,157", &whole, NULL, 0, NULL), 200);
    uint8_t eor = 0;
    ASSERT_EQ_INT(fetch(s, path, "cnew=http&fsiz=203,157&len=2000", &inc, hdrs, sizeof hdrs, &eor),
                  200);
    ASSERT_TRUE(header_value(hdrs, "JPIP-cnew: cid=", cnew, sizeof cnew));
    snprintf(cid, sizeof cid, "%.*s", (int)strcspn(cnew, ","), cnew);
    int rounds = 1;
    while (eor == 4 && rounds < 1000) {
        snprintf(q, sizeof q, "cid=%s&fsiz=203,157&len=2000", cid);
        uint64_t before = inc.bytes;
        ASSERT_EQ_INT(fetch(s, "/jpip", q, &inc, NULL, 0, &eor), 200);
        ASSERT_TRUE(inc.bytes > before); /* every round makes progress */
        rounds++;
    }
    ASSERT_EQ_INT(eor, 2);
    ASSERT_EQ_U64(inc.bytes, whole.bytes);
    ASSERT_EQ_U64(inc.dup_bytes, 0);
    struct view v = {0, 0, 0, 0, 0};
    char why[256];
    ASSERT_EQ_INT(view_exact(file, &inc, &v, why, sizeof why), 1);
    printf("%d rounds of len=2000 for %llu bytes\n", rounds, (unsigned long long)inc.bytes);
    tfree(&whole);
    tfree(&inc);
    jpip_server_destroy(s);
}

TEST(new_request_preempts_the_unfinished_one)
{
    ASSERT_TRUE(make_files() == 0);
    struct jpip_server *s = new_server();
    char path[128], q[256], cid[64];
    snprintf(path, sizeof path, "/%s", files[0].name);
    struct jpip_response *r1, *r2;
    ASSERT_OK(jpip_server_handle(s, path, strlen(path), "cnew=http&fsiz=203,157", 22, 0, &r1));
    const char *h = strstr(jpip_response_headers(r1), "cid=");
    ASSERT_TRUE(h != NULL);
    snprintf(cid, sizeof cid, "%.32s", h + 4);
    uint8_t buf[256];
    size_t n;
    int done;
    ASSERT_OK(jpip_response_read(r1, buf, sizeof buf, &n, &done));
    ASSERT_TRUE(!done);
    snprintf(q, sizeof q, "cid=%s&fsiz=51,40", cid);
    ASSERT_OK(jpip_server_handle(s, "/jpip", 5, q, strlen(q), 0, &r2));
    /* r1 finishes its current message, then ends with EOR 3 (window change). */
    uint8_t last[3] = {0};
    size_t total = 0;
    while (!done) {
        ASSERT_OK(jpip_response_read(r1, buf, sizeof buf, &n, &done));
        total += n;
        if (n >= 3)
            memcpy(last, buf + n - 3, 3);
    }
    ASSERT_TRUE(total < 20000);
    ASSERT_EQ_INT(last[0], 0);
    ASSERT_EQ_INT(last[1], 3);
    struct jpip_response_stats rs;
    jpip_response_stats(r1, &rs);
    ASSERT_EQ_INT(rs.eor_reason, 3);
    jpip_response_destroy(r1);
    jpip_response_destroy(r2);
    jpip_server_destroy(s);
}

TEST(bad_requests_get_clear_errors)
{
    ASSERT_TRUE(make_files() == 0);
    struct jpip_server *s = new_server();
    char path[128];
    snprintf(path, sizeof path, "/%s", files[0].name);
    struct {
        const char *path, *query;
        int status;
    } cases[] = {
        {path, "fsiz=10,10&bogus=1", 400},
        {path, "roff=1,1", 400},
        {path, "fsiz=-5,10", 400},
        {path, "fsiz=99999999999,1", 400},
        {path, "fsiz=0,0", 400},
        {"/jpip", "cid=00000000000000000000000000000000&fsiz=10,10", 404},
        {"/nope.j2k", "fsiz=10,10", 404},
        {"/../etc/passwd", "fsiz=10,10", 403},
        {path, "type=raw", 415},
        {path, "upload=jpp-stream", 501},
        {path, "pref=fullwindow/r", 501},
        {"/jpip", "fsiz=10,10", 400},
        {path, "fsiz=10,10&fsiz=10,10", 400},
        {path, "stream=7", 404},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct jpip_response *r;
        ASSERT_OK(jpip_server_handle(s, cases[i].path, strlen(cases[i].path), cases[i].query,
                                     strlen(cases[i].query), 0, &r));
        printf("%s?%s -> %d %s\n", cases[i].path, cases[i].query, jpip_response_status(r),
               jpip_response_reason(r));
        ASSERT_EQ_INT(jpip_response_status(r), cases[i].status);
        ASSERT_TRUE(strlen(jpip_response_reason(r)) > 3);
        ASSERT_TRUE(strchr(jpip_response_reason(r), '\n') == NULL);
        jpip_response_destroy(r);
    }
    /* and it still serves */
    struct tstore st = {0};
    ASSERT_EQ_INT(fetch(s, path, "fsiz=51,40", &st, NULL, 0, NULL), 200);
    tfree(&st);
    jpip_server_destroy(s);
}

TEST(stale_tid_gets_new_tid_and_model_is_ignored)
{
    ASSERT_TRUE(make_files() == 0);
    struct jpip_server *s = new_server();
    char path[128], hdrs[2048];
    snprintf(path, sizeof path, "/%s", files[0].name);
    struct tstore a = {0}, b = {0};
    ASSERT_EQ_INT(fetch(s, path, "fsiz=51,40&tid=0", &a, hdrs, sizeof hdrs, NULL), 200);
    ASSERT_STR_CONTAINS(hdrs, "JPIP-tid: ");
    /* A client claiming everything under a wrong tid still gets the data. */
    ASSERT_EQ_INT(
        fetch(s, path, "fsiz=51,40&tid=deadbeef&model=Hm,H*,P*", &b, hdrs, sizeof hdrs, NULL), 200);
    ASSERT_STR_CONTAINS(hdrs, "JPIP-tid: ");
    ASSERT_EQ_U64(a.bytes, b.bytes);
    tfree(&a);
    tfree(&b);
    jpip_server_destroy(s);
}

TEST(jpt_stream_views_decode_exactly)
{
    ASSERT_TRUE(make_files() == 0);
    struct jpip_server *s = new_server();
    harness_jpt = 1;
    for (size_t f = 0; f < 4; f++) {
        const char *file = files[f].name;
        char path[128], q[512], hdrs[2048];
        snprintf(path, sizeof path, "/%s", file);
        const struct view views[] = {{1, 0, 0, 0, 0}, {0, 30, 30, 60, 50}, {0, 0, 0, 0, 0}};
        struct tstore st = {0};
        for (size_t i = 0; i < 3; i++) {
            char vq[256];
            view_query(file, &views[i], vq, sizeof vq);
            snprintf(q, sizeof q, "type=jpt-stream&%s", vq);
            uint8_t eor = 0;
            ASSERT_EQ_INT(fetch(s, path, q, &st, hdrs, sizeof hdrs, &eor), 200);
            ASSERT_STR_CONTAINS(hdrs, "image/jpt-stream");
            char why[512] = "";
            int ok = view_exact(file, &st, &views[i], why, sizeof why);
            if (ok == 0)
                printf("FAIL jpt %s view %zu: %s\n", file, i, why);
            ASSERT_TRUE(ok != 0);
            tfree(&st);
        }
    }
    harness_jpt = 0;
    jpip_server_destroy(s);
}

/* JHelioviewer's request pattern (the largest open JPIP client population): open a channel
 * with a tiny len, fetch all metadata, then each frame by stream= with fsiz ... closest and a
 * 2 MiB len, re-requesting while the server stops at the byte limit; close the channel. */
TEST(jhelioviewer_pattern_gets_every_frame_exact)
{
    ASSERT_TRUE(make_files() == 0);
    ASSERT_TRUE(make_jpx("movie.jpx", 3) == 0);
    struct jpip_server *s = new_server();
    char hdrs[4096], cnew[256], cid[64], q[512];
    struct tstore st = {0};
    uint8_t eor = 0;
    ASSERT_EQ_INT(fetch(s, "/movie.jpx", "cnew=http&type=jpp-stream&tid=0&len=512", &st, hdrs,
                        sizeof hdrs, &eor),
                  200);
    ASSERT_TRUE(header_value(hdrs, "JPIP-cnew: cid=", cnew, sizeof cnew));
    snprintf(cid, sizeof cid, "%.*s", (int)strcspn(cnew, ","), cnew);
    ASSERT_STR_CONTAINS(hdrs, "JPIP-tid: ");
    snprintf(q, sizeof q, "cid=%s&stream=0&metareq=[*]!!&len=2000000", cid);
    ASSERT_EQ_INT(fetch(s, "/jpip", q, &st, NULL, 0, &eor), 200);
    struct tbin *meta0 = tfind(&st, 8, 0, 0, 0);
    ASSERT_TRUE(meta0 != NULL && meta0->complete);
    for (int frame = 0; frame < 3; frame++) {
        int rounds = 0;
        do {
            snprintf(q, sizeof q,
                     "cid=%s&stream=%d&fsiz=102,79,closest&rsiz=102,79&roff=0,0&len=2097152", cid,
                     frame);
            ASSERT_EQ_INT(fetch(s, "/jpip", q, &st, NULL, 0, &eor), 200);
        } while (eor == 4 && ++rounds < 100);
        ASSERT_EQ_INT(eor, 2);
        /* Rebuild codestream `frame` and compare with OpenJPEG on the frame's own file. */
        char name[64], why[256] = "";
        snprintf(name, sizeof name, "frame%d.j2k", frame);
        struct jpip__rect cv = {0, 0, 203, 157};
        int same =
            check_stream_view(name, (uint64_t)frame, &st, 1, &cv, 0, 0, NULL, why, sizeof why);
        if (same != 1)
            printf("frame %d: %s\n", frame, why);
        ASSERT_EQ_INT(same, 1);
    }
    ASSERT_EQ_U64(st.dup_bytes, 0);
    snprintf(q, sizeof q, "cclose=%s&cid=%s", cid, cid);
    ASSERT_EQ_INT(fetch(s, "/jpip", q, &st, NULL, 0, NULL), 200);
    tfree(&st);
    jpip_server_destroy(s);
}

RUN_TESTS()
