/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The client core against the server core, both in process: the client says what to send,
 * the server answers, the body goes back in odd-sized pieces. Checks: every view decodes
 * exactly like OpenJPEG on the original; nothing is received twice across a walk of views,
 * across a server restart (the channel dies, the client opens another and declares its cache),
 * across a response cut in the middle, in stateless mode, and after the cache is saved and
 * loaded into a new client (then the same view transfers no data-bin byte at all).
 */
#include "server_harness.h"

#include <jpip/client.h>

#include "test.h"

/* When set, drive() plays esajpip's quirks in front of the server: a request without len= or
 * stream= is served as if it said len=0 (no data, only the EOR "byte limit reached"), and the
 * channel dies with a 500 every third request, as when the TCP connection that carried it
 * closes. esajpip_query() returns the query to serve, or NULL after answering 500 itself. */
static int esajpip;
static unsigned esajpip_requests;
static char esajpip_q[1 << 16];

static const char *esajpip_query(struct jpip_client *c, const char *query, int *failed)
{
    *failed = 0;
    if (!strstr(query, "len=") || !strstr(query, "stream=")) {
        snprintf(esajpip_q, sizeof esajpip_q, "%s&len=0", query);
        return esajpip_q;
    }
    if (!strstr(query, "cid=") || ++esajpip_requests % 3 != 0)
        return query;
    *failed = jpip_client_begin_response(c, 500, "") != JPIP_OK ||
              jpip_client_end_response(c, 1) != JPIP_OK;
    return NULL;
}

/* Run the client until its view is complete. cut_after > 0 breaks the first response after
 * that many body bytes (a lost connection). */
static int drive(struct jpip_server *s, struct jpip_client *c, size_t cut_after)
{
    for (int round = 0; round < 200 && !jpip_client_view_complete(c); round++) {
        const char *path, *query;
        size_t ql;
        if (jpip_client_next_request(c, &path, &query, &ql) != JPIP_OK)
            return -1;
        if (esajpip) {
            int failed;
            query = esajpip_query(c, query, &failed);
            if (failed) {
                fprintf(stderr, "esajpip emulation: %s\n", jpip_client_errmsg(c));
                return -1;
            }
            if (!query)
                continue;
            ql = strlen(query);
        }
        struct jpip_response *r;
        if (jpip_server_handle(s, path, strlen(path), query, ql, 0, &r) != JPIP_OK)
            return -1;
        int rc = jpip_client_begin_response(c, jpip_response_status(r), jpip_response_headers(r));
        if (rc != JPIP_OK) {
            fprintf(stderr, "%d %s: %s\n", jpip_response_status(r), jpip_response_reason(r),
                    jpip_client_errmsg(c));
            jpip_response_destroy(r);
            return -1;
        }
        uint8_t buf[4096];
        size_t piece = 97, got = 0;
        int done = 0, broken = 0;
        while (!done && jpip_response_status(r) == 200) {
            size_t n;
            jpip_response_read(r, buf, piece, &n, &done);
            if (cut_after && got + n > cut_after) {
                jpip_client_feed(c, buf, cut_after - got);
                broken = 1;
                cut_after = 0;
                break;
            }
            got += n;
            if (jpip_client_feed(c, buf, n) != JPIP_OK) {
                fprintf(stderr, "feed: %s\n", jpip_client_errmsg(c));
                jpip_response_destroy(r);
                return -1;
            }
            piece = piece * 13 % 3000 + 64;
        }
        jpip_response_destroy(r);
        if (jpip_client_end_response(c, !broken) != JPIP_OK)
            return -1;
    }
    return jpip_client_view_complete(c) ? 0 : -1;
}

static int view_matches(struct jpip_client *c, const char *file, unsigned d, uint32_t ox,
                        uint32_t oy, uint32_t sx, uint32_t sy)
{
    struct jpip_image *img = NULL;
    char err[256] = "";
    if (jpip_client_decode(c, NULL, 0, 1, &img, err, sizeof err) != JPIP_OK) {
        printf("decode: %s\n", err);
        return 0;
    }
    struct jpip__rect cv;
    view_canvas(file, d, ox, oy, sx, sy, &cv);
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    size_t olen;
    uint8_t *orig = slurp(path, &olen);
    struct jpip_decode_options o = {0};
    o.reduce = d;
    o.x0 = cv.x0;
    o.y0 = cv.y0;
    o.x1 = cv.x1;
    o.y1 = cv.y1;
    o.jp2 = strstr(file, ".jp2") != NULL;
    struct jpip_image *ref = NULL;
    int ok = jpip_decode(orig, olen, &o, &ref, err, sizeof err) == JPIP_OK &&
             jpip_image_equal(ref, img, err, sizeof err);
    if (!ok)
        printf("%s d=%u %u,%u %ux%u: %s\n", file, d, ox, oy, sx, sy, err);
    jpip_image_destroy(img);
    jpip_image_destroy(ref);
    free(orig);
    return ok;
}

struct v {
    unsigned d;
    uint32_t ox, oy, sx, sy;
};
static const struct v walk[] = {{2, 0, 0, 0, 0},     {1, 10, 10, 40, 30}, {0, 30, 30, 60, 50},
                                {0, 60, 40, 60, 50}, {1, 0, 0, 0, 0},     {0, 0, 0, 0, 0}};

static void set_view(struct jpip_client *c, const char *file, const struct v *w)
{
    uint32_t fw, fh;
    frame_size(file, w->d, &fw, &fh);
    struct jpip_view view = {0};
    view.fx = fw;
    view.fy = fh;
    view.ox = w->ox;
    view.oy = w->oy;
    view.sx = w->sx ? w->sx : fw;
    view.sy = w->sy ? w->sy : fh;
    jpip_client_set_view(c, &view);
}

static int walk_jpt; /* run_walk asks for JPT-streams */

static void run_walk(int stateless, int restart_at, size_t cut_at_view2)
{
    for (size_t f = 0; f < 4; f++) {
        const char *file = files[f].name;
        struct jpip_server *s = new_server();
        struct jpip_client *c;
        struct jpip_client_config cfg = {0};
        cfg.stateless = stateless;
        cfg.jpt = walk_jpt;
        ASSERT_OK(jpip_client_create(&c, file, &cfg, NULL));
        for (size_t i = 0; i < sizeof walk / sizeof *walk; i++) {
            if ((int)i == restart_at) { /* the server restarts: every channel is gone */
                jpip_server_destroy(s);
                s = new_server();
            }
            set_view(c, file, &walk[i]);
            ASSERT_EQ_INT(drive(s, c, i == 2 ? cut_at_view2 : 0), 0);
            uint32_t fw, fh;
            frame_size(file, walk[i].d, &fw, &fh);
            ASSERT_TRUE(view_matches(c, file, walk[i].d, walk[i].ox, walk[i].oy,
                                     walk[i].sx ? walk[i].sx : fw, walk[i].sy ? walk[i].sy : fh));
        }
        struct jpip_client_stats st;
        jpip_client_stats(c, &st);
        printf("%s%s%s%s: %llu requests, %llu data-bin bytes, %llu twice, %llu channels\n", file,
               stateless ? " stateless" : "", restart_at >= 0 ? " restart" : "",
               cut_at_view2 ? " cut" : "", (unsigned long long)st.requests,
               (unsigned long long)st.databin_bytes, (unsigned long long)st.duplicate_bytes,
               (unsigned long long)st.channels_opened);
        ASSERT_EQ_U64(st.duplicate_bytes, 0);
        jpip_client_destroy(c);
        jpip_server_destroy(s);
    }
}

TEST(session_walk)
{
    ASSERT_TRUE(make_files() == 0);
    run_walk(0, -1, 0);
}

TEST(stateless_walk)
{
    ASSERT_TRUE(make_files() == 0);
    run_walk(1, -1, 0);
}

TEST(server_restart_mid_walk)
{
    ASSERT_TRUE(make_files() == 0);
    run_walk(0, 3, 0);
}

TEST(response_cut_mid_body)
{
    ASSERT_TRUE(make_files() == 0);
    run_walk(0, -1, 1500);
}

/* JPT-streams: tile data-bins, the same walk, the same exactness, nothing twice; also after
 * a server restart (the new channel is told the tiles held with T items). */
TEST(jpt_walk)
{
    ASSERT_TRUE(make_files() == 0);
    walk_jpt = 1;
    run_walk(0, -1, 0);
    run_walk(0, 3, 0);
    run_walk(1, -1, 0);
    walk_jpt = 0;
}

/* esajpip: nothing without len= and stream=, channels lost with their connection (500). */
TEST(esajpip_quirks_walk)
{
    ASSERT_TRUE(make_files() == 0);
    esajpip = 1;
    run_walk(0, -1, 0);
    esajpip = 0;
}

/* A server that never sends anything ends the view with an error, not an endless loop. */
TEST(server_without_progress_is_an_error)
{
    ASSERT_TRUE(make_files() == 0);
    struct jpip_client *c;
    ASSERT_OK(jpip_client_create(&c, files[0].name, NULL, NULL));
    set_view(c, files[0].name, &walk[0]);
    int rc = JPIP_OK, rounds = 0;
    static const uint8_t eor4[] = {0, 4, 0};
    while (rc == JPIP_OK && rounds++ < 50) {
        const char *path, *query;
        size_t ql;
        ASSERT_OK(jpip_client_next_request(c, &path, &query, &ql));
        if (rounds > 1)
            ASSERT_TRUE(strstr(query, "len=") != NULL); /* adopted after the first */
        ASSERT_OK(jpip_client_begin_response(c, 200, "Content-Type: image/jpp-stream\r\n"));
        ASSERT_OK(jpip_client_feed(c, eor4, sizeof eor4));
        rc = jpip_client_end_response(c, 1);
    }
    ASSERT_TRUE(rc == JPIP_EPROTOCOL);
    ASSERT_TRUE(rounds < 10);
    printf("no progress: %s after %d responses\n", jpip_client_errmsg(c), rounds);
    jpip_client_destroy(c);
}

TEST(saved_cache_serves_the_view_again)
{
    ASSERT_TRUE(make_files() == 0);
    const char *file = files[0].name;
    struct jpip_server *s = new_server();
    struct jpip_client *a, *b;
    ASSERT_OK(jpip_client_create(&a, file, NULL, NULL));
    set_view(a, file, &walk[2]);
    ASSERT_EQ_INT(drive(s, a, 0), 0);
    uint8_t *saved;
    size_t n;
    ASSERT_OK(jpip_client_cache_save(a, &saved, &n));
    ASSERT_OK(jpip_client_create(&b, file, NULL, NULL));
    ASSERT_OK(jpip_client_cache_load(b, saved, n));
    ASSERT_STR_EQ(jpip_client_tid(b), jpip_client_tid(a));
    set_view(b, file, &walk[2]);
    ASSERT_EQ_INT(drive(s, b, 0), 0);
    struct jpip_client_stats st;
    jpip_client_stats(b, &st);
    ASSERT_EQ_U64(st.databin_bytes, 0);
    uint32_t fw, fh;
    frame_size(file, 0, &fw, &fh);
    ASSERT_TRUE(view_matches(b, file, 0, 30, 30, 60, 50));
    /* A corrupt cache is refused and leaves the client usable. */
    saved[n / 2] ^= 0x5A;
    struct jpip_client *d;
    ASSERT_OK(jpip_client_create(&d, file, NULL, NULL));
    ASSERT_TRUE(jpip_client_cache_load(d, saved, n) != JPIP_OK);
    ASSERT_TRUE(strlen(jpip_client_errmsg(d)) > 0);
    jpip_client_free(a, saved);
    jpip_client_destroy(a);
    jpip_client_destroy(b);
    jpip_client_destroy(d);
    jpip_server_destroy(s);
}

RUN_TESTS()
