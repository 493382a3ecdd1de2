/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * JHelioviewer's request pattern against a real jpipd over one keep-alive connection, with the
 * requests pipelined (written together before any answer is read): open a channel with a tiny
 * len, all metadata, then each frame of a three-codestream JPX by stream= with fsiz ... closest,
 * and cclose. Every frame must rebuild and decode exactly like OpenJPEG on the frame's own
 * file, and no data-bin byte may arrive twice. HTTP parsing (status line, headers, chunked or
 * Content-Length bodies) is done here by hand so that nothing hides how the server frames
 * pipelined answers.
 * Usage: pipeline_test JPIPD   (starts jpipd on 127.0.0.1, port 0; exits 77 without opj_compress)
 */
#define _DEFAULT_SOURCE /* usleep, strncasecmp */
#include <signal.h>
#include <strings.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server_harness.h"
#include "test_net.h"

#define NFRAMES 3

static int fail(const char *what)
{
    fprintf(stderr, "FAIL: %s\n", what);
    return 1;
}

/* ---- jpipd as a child process ---- */

static pid_t start_jpipd(const char *jpipd, int *port)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(jpipd, jpipd, "--root", dir, "--listen", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[512];
    *port = 0;
    alarm(20); /* bounded: a jpipd that never prints its start line ends the test */
    while (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "http://127.0.0.1:");
        if (strncmp(line, "jpipd: serving ", 15) == 0 && p) {
            *port = atoi(p + 17);
            break;
        }
    }
    alarm(0);
    /* keep the pipe open in the parent so jpipd's later writes never hit a closed pipe */
    return *port > 0 ? pid : -1;
}

static void stop_jpipd(pid_t pid)
{
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(100000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* ---- a minimal HTTP/1.1 response reader over a blocking socket ---- */

struct conn {
    int fd;
    uint8_t buf[65536];
    size_t at, len;
};

static int fill(struct conn *c)
{
    if (c->at > 0) {
        memmove(c->buf, c->buf + c->at, c->len - c->at);
        c->len -= c->at;
        c->at = 0;
    }
    if (c->len == sizeof c->buf)
        return -1;
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n <= 0)
        return -1;
    c->len += (size_t)n;
    return 0;
}

/* One line up to CRLF into out (without it). */
static int read_line(struct conn *c, char *out, size_t cap)
{
    for (;;) {
        for (size_t i = c->at; i + 1 < c->len; i++)
            if (c->buf[i] == '\r' && c->buf[i + 1] == '\n') {
                size_t n = i - c->at;
                if (n >= cap)
                    return -1;
                memcpy(out, c->buf + c->at, n);
                out[n] = '\0';
                c->at = i + 2;
                return 0;
            }
        if (fill(c) != 0)
            return -1;
    }
}

/* n body bytes into the stream reader. */
static int read_body(struct conn *c, uint64_t n, struct jpip__stream_reader *rd)
{
    while (n > 0) {
        if (c->at == c->len && fill(c) != 0)
            return -1;
        size_t k = c->len - c->at;
        if (k > n)
            k = (size_t)n;
        if (jpip__stream_reader_feed(rd, c->buf + c->at, k) != JPIP_OK) {
            fprintf(stderr, "stream error: %s\n", rd->err.msg);
            return -1;
        }
        c->at += k;
        n -= k;
    }
    return 0;
}

/* One response: status, headers into hdrs, body messages into st; *eor the EOR reason. */
static int read_response(struct conn *c, struct tstore *st, char *hdrs, size_t hcap, uint8_t *eor)
{
    char line[8192];
    if (read_line(c, line, sizeof line) != 0 || strncmp(line, "HTTP/1.1 ", 9) != 0)
        return -1;
    int status = atoi(line + 9);
    int chunked = 0;
    uint64_t clen = 0;
    size_t hn = 0;
    hdrs[0] = '\0';
    for (;;) {
        if (read_line(c, line, sizeof line) != 0)
            return -1;
        if (!line[0])
            break;
        if (strncasecmp(line, "Transfer-Encoding: chunked", 26) == 0)
            chunked = 1;
        if (strncasecmp(line, "Content-Length: ", 16) == 0)
            clen = strtoull(line + 16, NULL, 10);
        hn += (size_t)snprintf(hdrs + hn, hn < hcap ? hcap - hn : 0, "%s\r\n", line);
    }
    struct jpip__stream_reader rd;
    jpip__stream_reader_init(&rd, NULL, 0, on_msg, NULL, st);
    int rc = 0;
    if (!chunked) {
        rc = read_body(c, clen, &rd);
    } else {
        for (;;) {
            if (read_line(c, line, sizeof line) != 0) {
                rc = -1;
                break;
            }
            uint64_t n = strtoull(line, NULL, 16);
            if (n == 0) {
                while (read_line(c, line, sizeof line) == 0 && line[0]) /* trailers */
                    ;
                break;
            }
            if (read_body(c, n, &rd) != 0 || read_line(c, line, sizeof line) != 0 || line[0]) {
                rc = -1;
                break;
            }
        }
    }
    *eor = rd.eor_seen ? rd.eor_reason : 0;
    jpip__stream_reader_free(&rd);
    return rc == 0 ? status : -1;
}

static int run(int port)
{
    struct conn *c = calloc(1, sizeof *c);
    c->fd = net_connect_loopback((unsigned)port, 0);
    if (c->fd < 0)
        return fail("connect");
    struct timeval tv = {30, 0}; /* bounded: a stalled answer ends the test */
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const char *host = "Host: 127.0.0.1\r\n\r\n";
    char req[16384], hdrs[8192], cid[64] = "";
    struct tstore st = {0};
    uint8_t eor = 0;

    /* 1. The channel: its cid is needed by every later request. */
    snprintf(req, sizeof req,
             "GET /movie.jpx?cnew=http&type=jpp-stream&tid=0&len=512 HTTP/1.1\r\n%s", host);
    if (net_send_str(c->fd, req) != 0 || read_response(c, &st, hdrs, sizeof hdrs, &eor) != 200)
        return fail("cnew request");
    const char *p = strstr(hdrs, "JPIP-cnew: cid=");
    if (!p)
        return fail("no JPIP-cnew");
    p += 15;
    snprintf(cid, sizeof cid, "%.*s", (int)strcspn(p, ",\r"), p);

    /* 2. Everything else in one write: metadata, each frame, cclose. */
    size_t n = (size_t)snprintf(
        req, sizeof req, "GET /jpip?cid=%s&stream=0&metareq=[*]!!&len=2000000 HTTP/1.1\r\n%s", cid,
        host);
    for (int f = 0; f < NFRAMES; f++)
        n += (size_t)snprintf(req + n, sizeof req - n,
                              "GET /jpip?cid=%s&stream=%d&fsiz=102,79,closest&rsiz=102,79&"
                              "roff=0,0&len=2097152 HTTP/1.1\r\n%s",
                              cid, f, host);
    n += (size_t)snprintf(req + n, sizeof req - n, "GET /jpip?cclose=%s&cid=%s HTTP/1.1\r\n%s", cid,
                          cid, host);
    if (net_send_str(c->fd, req) != 0)
        return fail("pipelined write");
    int bad = 0;
    for (int i = 0; i < NFRAMES + 2; i++) {
        int status = read_response(c, &st, hdrs, sizeof hdrs, &eor);
        printf("response %d: status %d, EOR %u\n", i, status, eor);
        if (status != 200)
            bad |= fail("pipelined response status");
        if (i >= 1 && i <= NFRAMES && eor != 2)
            bad |= fail("frame view not complete (EOR 2 expected)");
    }
    struct tbin *meta0 = tfind(&st, 8, 0, 0, 0);
    if (!meta0 || !meta0->complete)
        bad |= fail("metadata-bin 0 incomplete");
    for (int f = 0; f < NFRAMES; f++) {
        char name[64], why[256] = "";
        snprintf(name, sizeof name, "frame%d.j2k", f);
        struct jpip__rect cv = {0, 0, 203, 157};
        int same = check_stream_view(name, (uint64_t)f, &st, 1, &cv, 0, 0, NULL, why, sizeof why);
        printf("frame %d: %s\n", f, same == 1 ? "exact" : why);
        if (same != 1)
            bad |= fail("frame not exact");
    }
    printf("%llu data-bin bytes, %llu received twice\n", (unsigned long long)st.bytes,
           (unsigned long long)st.dup_bytes);
    if (st.dup_bytes != 0 || st.bad)
        bad |= fail("bytes received twice or a bad message");
    tfree(&st);
    close(c->fd);
    free(c);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pipeline_test JPIPD\n");
        return 2;
    }
    if (sh("command -v opj_compress") != 0) {
        printf("skip: opj_compress not found\n");
        return 77;
    }
    if (make_files() != 0 || make_jpx("movie.jpx", NFRAMES) != 0)
        return fail("test files");
    int port;
    pid_t pid = start_jpipd(argv[1], &port);
    if (pid < 0)
        return fail("jpipd did not start");
    int rc = run(port);
    stop_jpipd(pid);
    printf("%s\n", rc ? "FAILED" : "passed");
    return rc;
}
