/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper for jpip_get_hostile_test.sh: an HTTP server on 127.0.0.1 that answers every
 * request with one kind of broken response, after a valid start (one complete JPP-stream
 * message, the main header data-bin), so the client has something to cache before the
 * framing breaks. It prints "port N" once listening and exits after 30 s without a
 * connection or on SIGTERM.
 *
 *   hostile_httpd MODE
 *
 * MODE: badsize (a chunk-size line that is no hex number), shortchunk (a chunk announced
 * longer than what comes before the close), hugechunk (a chunk size beyond 64 bits),
 * shortclen (Content-Length larger than the body), longheader (a 256 KiB header line),
 * badstatus (a status line without a number), wrongtype (text/html), silence (no answer).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_net.h"

/* Read the request head (up to the blank line), at most 64 KiB; 0 on success. */
static int read_request(int fd)
{
    char buf[65536];
    size_t n = 0;
    while (n < sizeof buf) {
        ssize_t k = net_recv_within(fd, buf + n, sizeof buf - n, 10000);
        if (k <= 0)
            return -1;
        n += (size_t)k;
        for (size_t i = 3; i < n; i++)
            if (memcmp(buf + i - 3, "\r\n\r\n", 4) == 0)
                return 0;
    }
    return -1;
}

/* One complete message: main header data-bin (class 6, codestream 0, complete), 12 bytes at
 * offset 0. */
static const unsigned char msg[] = {0x70, 0x06, 0x00, 0x00, 0x0C, 0xFF, 0x4F, 0xFF, 0x51,
                                    0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

#define OK_JPP "HTTP/1.1 200 OK\r\nContent-Type: image/jpp-stream\r\nCache-Control: no-cache\r\n"

static void answer(int fd, const char *mode)
{
    char line[64];
    snprintf(line, sizeof line, "%zx\r\n", sizeof msg);
    if (strcmp(mode, "badsize") == 0) {
        net_send_str(fd, OK_JPP "Transfer-Encoding: chunked\r\n\r\n");
        net_send_str(fd, line);
        net_send_all(fd, msg, sizeof msg);
        net_send_str(fd, "\r\nzz\r\nnot a chunk\r\n");
    } else if (strcmp(mode, "shortchunk") == 0) {
        net_send_str(fd, OK_JPP "Transfer-Encoding: chunked\r\n\r\n1000\r\n");
        net_send_all(fd, msg, sizeof msg);
    } else if (strcmp(mode, "hugechunk") == 0) {
        net_send_str(fd, OK_JPP "Transfer-Encoding: chunked\r\n\r\n");
        net_send_str(fd, line);
        net_send_all(fd, msg, sizeof msg);
        net_send_str(fd, "\r\nfffffffffffffffffffff\r\n");
        net_send_all(fd, msg, sizeof msg);
    } else if (strcmp(mode, "shortclen") == 0) {
        net_send_str(fd, OK_JPP "Content-Length: 5000\r\n\r\n");
        net_send_all(fd, msg, sizeof msg);
    } else if (strcmp(mode, "longheader") == 0) {
        net_send_str(fd, OK_JPP "X-Padding: ");
        static char pad[256 * 1024];
        memset(pad, 'a', sizeof pad);
        net_send_all(fd, pad, sizeof pad);
        net_send_str(fd, "\r\nContent-Length: 17\r\n\r\n");
        net_send_all(fd, msg, sizeof msg);
    } else if (strcmp(mode, "badstatus") == 0) {
        net_send_str(
            fd, "HTTP/1.1 2x0 OK\r\nContent-Type: image/jpp-stream\r\nContent-Length: 17\r\n\r\n");
        net_send_all(fd, msg, sizeof msg);
    } else if (strcmp(mode, "wrongtype") == 0) {
        net_send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n"
                         "<html></html>");
    } else if (strcmp(mode, "silence") == 0) {
        net_wait_readable(fd, 20000); /* until the client gives up */
    }
}

/* One connection: the request head, then the broken answer. */
static void serve(int fd, void *mode)
{
    if (read_request(fd) == 0)
        answer(fd, mode);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODE\n", argv[0]);
        return 2;
    }
    return net_serve_loopback(30000, serve, argv[1]);
}
