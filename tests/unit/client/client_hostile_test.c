/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile or broken server responses fed to the client core: garbage, a body cut inside a
 * message, an over-long VBAS, absurd bin ids, data contradicting what is held, a wrong content
 * type. Each must give a clear error (naming the offset where there is one), leave the cache
 * consistent, and leave the client able to complete the view from an honest server.
 */
#include "server_harness.h"

#include <jpip/client.h>

#include "cache/bin_store.h"
#include "test.h"

static const char *jpp_headers = "Content-Type: image/jpp-stream\r\n";

/* One response: begin, feed all bytes, end. Returns the first error or JPIP_OK. */
static int respond(struct jpip_client *c, const char *headers, const uint8_t *body, size_t len)
{
    const char *path, *query;
    size_t ql;
    int rc = jpip_client_next_request(c, &path, &query, &ql);
    if (rc != JPIP_OK)
        return rc;
    rc = jpip_client_begin_response(c, 200, headers);
    if (rc != JPIP_OK)
        return rc;
    rc = jpip_client_feed(c, body, len);
    int end = jpip_client_end_response(c, 1);
    return rc != JPIP_OK ? rc : end;
}

static int finish_with_honest_server(struct jpip_client *c, const char *file)
{
    struct jpip_server *s = new_server();
    int rc = 0;
    for (int i = 0; i < 50 && !jpip_client_view_complete(c); i++) {
        const char *path, *query;
        size_t ql;
        if (jpip_client_next_request(c, &path, &query, &ql) != JPIP_OK) {
            rc = -1;
            break;
        }
        char p[600];
        /* the hostile rounds left no channel: requests go to the target */
        snprintf(p, sizeof p, "%s", path);
        struct jpip_response *r;
        jpip_server_handle(s, p, strlen(p), query, ql, 0, &r);
        if (jpip_client_begin_response(c, jpip_response_status(r), jpip_response_headers(r))) {
            jpip_response_destroy(r);
            rc = -1;
            break;
        }
        uint8_t buf[4096];
        int done = 0;
        while (!done) {
            size_t n;
            jpip_response_read(r, buf, sizeof buf, &n, &done);
            if (jpip_client_feed(c, buf, n) != JPIP_OK) {
                rc = -1;
                break;
            }
        }
        jpip_response_destroy(r);
        jpip_client_end_response(c, 1);
    }
    jpip_server_destroy(s);
    (void)file;
    return rc == 0 && jpip_client_view_complete(c) ? 0 : -1;
}

static struct jpip_client *new_client(const char *file)
{
    struct jpip_client *c = NULL;
    struct jpip_client_config cfg = {0};
    cfg.stateless = 1; /* no channel: every response stands alone */
    jpip_client_create(&c, file, &cfg, NULL);
    uint32_t fw, fh;
    frame_size(file, 1, &fw, &fh);
    struct jpip_view v = {0};
    v.fx = fw;
    v.fy = fh;
    jpip_client_set_view(c, &v);
    return c;
}

TEST(hostile_responses_give_errors_and_the_client_recovers)
{
    ASSERT_TRUE(make_files() == 0);
    const char *file = files[0].name;
    static const uint8_t main_hdr_start[] = {
        0x70, 0x06, 0x00, 0x00, 0x04,
        0xFF, 0x4F, 0xFF, 0x51}; /* main header, 4 of ? bytes, not last */
    struct {
        const char *name;
        const char *headers;
        uint8_t body[32];
        size_t len;
        const char *expect; /* a word the message must contain */
    } cases[] = {
        {"garbage", NULL, {0x47, 0x45, 0x54, 0x20, 0x2F, 0x20, 0x48}, 7, "offset"},
        {"cut inside a message", NULL, {0x70, 0x06, 0x00, 0x00, 0x10, 0xFF, 0x4F}, 7, "offset"},
        {"vbas overflow",
         NULL,
         {0x70, 0x06, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00},
         15,
         "offset"},
        {"absurd bin id",
         NULL,
         {0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x00, 0x00, 0x01, 0x00},
         14,
         "offset"},
        {"inherits from nothing", NULL, {0x30, 0x00, 0x01, 0xAA}, 4, "first"},
        {"wrong content type", "Content-Type: text/html\r\n", {0x00, 0x02, 0x00}, 3, "text/html"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct jpip_client *c = new_client(file);
        int rc = respond(c, cases[i].headers ? cases[i].headers : jpp_headers, cases[i].body,
                         cases[i].len);
        printf("%s -> %d %s\n", cases[i].name, rc, jpip_client_errmsg(c));
        ASSERT_TRUE(rc < 0);
        ASSERT_STR_CONTAINS(jpip_client_errmsg(c), cases[i].expect);
        ASSERT_TRUE(!jpip_client_view_complete(c));
        ASSERT_EQ_INT(finish_with_honest_server(c, file), 0);
        /* and what it holds decodes exactly like OpenJPEG on the original */
        struct jpip_image *img = NULL, *ref = NULL;
        char err[256] = "";
        ASSERT_OK(jpip_client_decode(c, NULL, 0, 1, &img, err, sizeof err));
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", dir, file);
        size_t olen;
        uint8_t *orig = slurp(path, &olen);
        struct jpip_decode_options o = {0};
        o.reduce = 1;
        ASSERT_OK(jpip_decode(orig, olen, &o, &ref, err, sizeof err));
        ASSERT_TRUE(jpip_image_equal(ref, img, err, sizeof err));
        jpip_image_destroy(img);
        jpip_image_destroy(ref);
        free(orig);
        jpip_client_destroy(c);
    }
    /* Data that contradicts what is held: the same bytes of the main header, different. */
    struct jpip_client *c = new_client(file);
    ASSERT_OK(respond(c, jpp_headers, main_hdr_start, sizeof main_hdr_start));
    uint8_t other[] = {0x70, 0x06, 0x00, 0x00, 0x04, 0xFF, 0x4F, 0xFF, 0x52};
    int rc = respond(c, jpp_headers, other, sizeof other);
    printf("contradiction -> %d %s\n", rc, jpip_client_errmsg(c));
    ASSERT_TRUE(rc < 0);
    jpip_client_destroy(c);
}

RUN_TESTS()
