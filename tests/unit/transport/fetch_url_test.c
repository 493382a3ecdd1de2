/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The transport without a server: URL parsing into base, target and view (every accepted field,
 * percent-escapes, comps ranges sorted and deduplicated, ports and IPv6 hosts) and the refusals
 * with their messages (fields the client sets itself, unsupported fields, bad values, bad
 * hosts); jpip_fetch_create's error path and log message; a run against a closed port ending
 * in JPIP_EIO after the configured retries; and the cache file's round trip and refusals
 * (missing, foreign key, corrupt, truncated) with the client left usable.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jpip/fetch.h>

#include "test.h"
#include "transport/fetch_internal.h"

static int parse(const char *url, struct jpip__fetch_url *u, struct jpip__err *e)
{
    memset(e, 0, sizeof *e);
    return jpip__fetch_url_parse(url, NULL, u, e);
}

TEST(view_fields)
{
    struct jpip__fetch_url u;
    struct jpip__err e;
    ASSERT_OK(parse("http://Host.example:8080/images/a%20b.jp2?fsiz=640,480,closest&roff=10,"
                    "20&rsiz=100,50&comps=3,0-2,1&layers=4&stream=2&len=5000&type=jpp-stream#x",
                    &u, &e));
    ASSERT_STR_EQ(u.base, "http://Host.example:8080");
    ASSERT_STR_EQ(u.target, "/images/a%20b.jp2");
    ASSERT_EQ_U64(u.view.fx, 640);
    ASSERT_EQ_U64(u.view.fy, 480);
    ASSERT_EQ_INT(u.view.round, 2);
    ASSERT_EQ_U64(u.view.ox, 10);
    ASSERT_EQ_U64(u.view.oy, 20);
    ASSERT_EQ_U64(u.view.sx, 100);
    ASSERT_EQ_U64(u.view.sy, 50);
    ASSERT_EQ_U64(u.view.ncomps, 4);
    for (unsigned i = 0; i < 4; i++)
        ASSERT_EQ_U64(u.view.comps[i], i);
    ASSERT_EQ_U64(u.view.layers, 4);
    ASSERT_EQ_U64(u.view.stream, 2);
    ASSERT_EQ_U64(u.len, 5000);
    ASSERT_EQ_INT(u.https, 0);
    jpip__fetch_url_free(&u, NULL);

    /* Percent-escaped values, round-up, an IPv6 host, https, no query. */
    ASSERT_OK(parse("HTTPS://[::1]:443/x.j2k?fsiz=64%2C48%2Cround-up&type=jpt-stream,jpp-stream",
                    &u, &e));
    ASSERT_STR_EQ(u.base, "https://[::1]:443");
    ASSERT_EQ_INT(u.https, 1);
    ASSERT_EQ_INT(u.view.round, 1);
    ASSERT_EQ_U64(u.view.fx, 64);
    ASSERT_EQ_INT(u.jpt, 1); /* the first of the types listed */
    jpip__fetch_url_free(&u, NULL);
    ASSERT_OK(parse("http://h/x.jp2", &u, &e));
    ASSERT_EQ_U64(u.view.fx, 0);
    ASSERT_EQ_U64(u.view.ncomps, 0);
    ASSERT_STR_EQ(u.base, "http://h");
    jpip__fetch_url_free(&u, NULL);
}

TEST(refusals_name_the_problem)
{
    static const struct {
        const char *url, *msg;
    } cases[] = {
        {"ftp://h/a.jp2", "http:// or https://"},
        {"http:///a.jp2", "no host"},
        {"http://h", "no target"},
        {"http://h/", "no target"},
        {"http://h:0/a", "port 0"},
        {"http://h:99999/a", "port"},
        {"http://h:8x/a", "bad port"},
        {"http://[::1/a", "IPv6"},
        {"http://h/a b", "space"},
        {"http://h/a?tid=123", "'tid' is not allowed"},
        {"http://h/a?cnew=http", "'cnew' is not allowed"},
        {"http://h/a?model=Hm", "'model' is not allowed"},
        {"http://h/a?metareq=[*]", "'metareq' is not supported"},
        {"http://h/a?frobnicate=1", "unknown field 'frobnicate'"},
        {"http://h/a?fsiz=10", "bad value for fsiz"},
        {"http://h/a?fsiz=0,10", "bad value for fsiz"},
        {"http://h/a?fsiz=10,10,sideways", "bad value for fsiz"},
        {"http://h/a?fsiz=10,10&fsiz=5,5", "appears twice"},
        {"http://h/a?roff=1,1", "need fsiz"},
        {"http://h/a?fsiz=9,9&rsiz=0,3", "bad value for rsiz"},
        {"http://h/a?comps=2-1", "comps=2-1"},
        {"http://h/a?comps=0-99999", "more than"},
        {"http://h/a?comps=1,", "comps=1,"},
        {"http://h/a?layers=0", "bad value for layers"},
        {"http://h/a?layers=70000", "bad value for layers"},
        {"http://h/a?stream=0-3", "one codestream"},
        {"http://h/a?len=-1", "bad value for len"},
        {"http://h/a?type=raw", "jpp-stream and jpt-stream only"},
        {"http://h/a?fsiz=1%2", "percent-escape"},
        {"http://h/a?fsiz=1%00,2", "percent-escape"},
        {"http://h/a?fsiz", "not name=value"},
        {"http://h/a?fsiz=99999999999,1", "bad value for fsiz"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct jpip__fetch_url u;
        struct jpip__err e;
        int rc = parse(cases[i].url, &u, &e);
        if (rc != JPIP_EINVAL)
            TEST_FAIL_AT("%s: got %d, message '%s'", cases[i].url, rc, e.msg);
        ASSERT_STR_CONTAINS(e.msg, cases[i].msg);
        ASSERT_TRUE(u.base == NULL && u.target == NULL && u.comps == NULL);
    }
}

static char last_log[512];
static void keep_log(void *user, enum jpip_log_level level, const char *msg)
{
    (void)user;
    (void)level;
    snprintf(last_log, sizeof last_log, "%s", msg);
}

TEST(create_refuses_a_bad_url_through_the_log)
{
    struct jpip_fetch_config cfg;
    jpip_fetch_config_default(&cfg);
    cfg.log = keep_log;
    struct jpip_fetch *f = (struct jpip_fetch *)1;
    last_log[0] = '\0';
    ASSERT_EQ_INT(jpip_fetch_create(&f, "http://h/a?cid=1", &cfg), JPIP_EINVAL);
    ASSERT_TRUE(f == NULL);
    ASSERT_STR_CONTAINS(last_log, "cid");
    ASSERT_EQ_INT(jpip_fetch_create(&f, NULL, NULL), JPIP_EINVAL);
    jpip_fetch_destroy(NULL);
}

/* A port nobody listens on: bind one, note it, close it. */
static unsigned closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &al);
    close(s);
    return ntohs(a.sin_port);
}

TEST(closed_port_gives_eio_after_retries)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/a.jp2?fsiz=64,48", closed_port());
    struct jpip_fetch_config cfg;
    jpip_fetch_config_default(&cfg);
    cfg.max_retries = 2;
    cfg.retry_delay_ms = 10;
    struct jpip_fetch *f;
    ASSERT_OK(jpip_fetch_create(&f, url, &cfg));
    ASSERT_STR_EQ(jpip_fetch_target(f), "/a.jp2");
    ASSERT_EQ_U64(jpip_fetch_view(f)->fx, 64);
    ASSERT_TRUE(jpip_fetch_cache_path(f) == NULL);
    /* With credentials in the URL and a cache folder: the key leaves the credentials out. */
    struct jpip_fetch *g;
    char url2[160], key[128], name[33], want[192];
    unsigned port = closed_port();
    snprintf(url2, sizeof url2, "http://user:secret@127.0.0.1:%u/a.jp2", port);
    snprintf(key, sizeof key, "http://127.0.0.1:%u/a.jp2", port);
    jpip_cache_file_name(key, name);
    snprintf(want, sizeof want, "/nonexistent-dir/%s.jpipcache", name);
    cfg.cache_dir = "/nonexistent-dir";
    ASSERT_OK(jpip_fetch_create(&g, url2, &cfg));
    ASSERT_STR_EQ(jpip_fetch_cache_path(g), want);
    ASSERT_TRUE(strncmp(jpip_fetch_base(g), "http://user:secret@127.0.0.1:", 29) == 0);
    jpip_fetch_destroy(g);
    cfg.cache_dir = NULL;
    ASSERT_EQ_INT(jpip_fetch_run(f, NULL, NULL), JPIP_EIO);
    ASSERT_STR_CONTAINS(jpip_fetch_errmsg(f), "after 2 retries");
    struct jpip_fetch_stats st;
    jpip_fetch_stats(f, &st);
    ASSERT_EQ_U64(st.requests, 3);
    ASSERT_EQ_U64(st.retries, 2);
    ASSERT_EQ_INT(jpip_fetch_http_status(f), 0);
    ASSERT_TRUE(!jpip_client_view_complete(jpip_fetch_client(f)));
    jpip_fetch_destroy(f);
}

TEST(cache_file_round_trip_and_refusals)
{
    char dir[] = "/tmp/jpip_cache_test.XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char sub[128], path[192], err[256];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    char name[33];
    jpip_cache_file_name("http://h:1/a.jp2", name);
    ASSERT_EQ_U64(strlen(name), 32);
    char other[33];
    jpip_cache_file_name("http://h:1/b.jp2", other);
    ASSERT_TRUE(strcmp(name, other) != 0);
    snprintf(path, sizeof path, "%s/%s.jpipcache", sub, name);

    struct jpip_client *c;
    ASSERT_OK(jpip_client_create(&c, "/a.jp2", NULL, NULL));
    ASSERT_EQ_INT(jpip_cache_file_load(c, path, "k", err, sizeof err), JPIP_ENOTFOUND);
    ASSERT_OK(jpip_cache_file_save(c, path, "http://h:1/a.jp2", err, sizeof err)); /* mkdir */
    ASSERT_OK(jpip_cache_file_load(c, path, "http://h:1/a.jp2", err, sizeof err));
    ASSERT_EQ_INT(jpip_cache_file_load(c, path, "http://h:1/b.jp2", err, sizeof err),
                  JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err, "another URL");

    /* Flip a byte of the client's part: refused, message names the file. */
    FILE *f = fopen(path, "r+b");
    ASSERT_TRUE(f != NULL);
    fseek(f, -1, SEEK_END);
    int ch = fgetc(f);
    fseek(f, -1, SEEK_END);
    fputc(ch ^ 0x5a, f);
    fclose(f);
    ASSERT_EQ_INT(jpip_cache_file_load(c, path, "http://h:1/a.jp2", err, sizeof err),
                  JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err, path);
    /* Not a cache file at all. */
    f = fopen(path, "wb");
    fputs("JPIP", f);
    fclose(f);
    ASSERT_EQ_INT(jpip_cache_file_load(c, path, "http://h:1/a.jp2", err, sizeof err),
                  JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err, "not a jpip cache file");
    /* The client is still usable: save again over the bad file. */
    ASSERT_OK(jpip_cache_file_save(c, path, "http://h:1/a.jp2", err, sizeof err));
    ASSERT_OK(jpip_cache_file_load(c, path, "http://h:1/a.jp2", err, sizeof err));
    /* A folder that cannot be made. */
    ASSERT_EQ_INT(jpip_cache_file_save(c, "/proc/nonexistent/x/y.jpipcache", "k", err, sizeof err),
                  JPIP_EIO);
    jpip_client_destroy(c);
    unlink(path);
    rmdir(sub);
    rmdir(dir);
}

RUN_TESTS()
