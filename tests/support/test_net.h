/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper (header-only) for the end-to-end test programs that speak TCP on 127.0.0.1: a
 * listening socket on a free port, a connection to a port, whole sends, reads and accepts
 * bounded by a timeout, and the monotonic clock the programs measure deadlines with. POSIX
 * sockets only. Define _POSIX_C_SOURCE 200809L (or _DEFAULT_SOURCE) before any include.
 */
#ifndef JPIP_TEST_NET_H
#define JPIP_TEST_NET_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* The address 127.0.0.1:port (port 0: any free port, for bind). */
static inline struct sockaddr_in net_loopback(unsigned port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* A socket listening on 127.0.0.1 (backlog 8) at a port the system picks, stored in *port.
 * Returns the socket, or -1 with errno set. */
static inline int net_listen_loopback(unsigned *port)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0)
        return -1;
    struct sockaddr_in a = net_loopback(0);
    socklen_t al = sizeof a;
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 8) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &al) != 0) {
        const int e = errno;
        close(l);
        errno = e;
        return -1;
    }
    *port = ntohs(a.sin_port);
    return l;
}

/* Waits at most ms milliseconds for fd to have something to read (data, end or error).
 * Returns > 0 when it has, 0 when the time ran out, < 0 when poll failed (EINTR too). */
static inline int net_wait_readable(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms);
}

/* A TCP connection to 127.0.0.1:port. rcvbuf > 0 sets SO_RCVBUF before connecting (a small
 * receive buffer keeps most of a response in the server); 0 keeps the system's. Returns the
 * socket, or -1. */
static inline int net_connect_loopback(unsigned port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = net_loopback(port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A one-connection-at-a-time server for a test script: listens on 127.0.0.1 at a free port,
 * prints "port N" on stdout (flushed at once) for the script to read, then calls
 * serve(connection, arg) for each connection in turn and closes it. Returns the program's exit
 * code: 0 once no connection came for idle_ms milliseconds (or the wait was interrupted), 1
 * when it could not listen (after perror("listen")). */
static inline int net_serve_loopback(int idle_ms, void (*serve)(int fd, void *arg), void *arg)
{
    unsigned port;
    int l = net_listen_loopback(&port);
    if (l < 0) {
        perror("listen");
        return 1;
    }
    printf("port %u\n", port);
    fflush(stdout);
    for (;;) {
        if (net_wait_readable(l, idle_ms) <= 0) {
            close(l);
            return 0;
        }
        int c = accept(l, NULL, NULL);
        if (c < 0)
            continue;
        serve(c, arg);
        close(c);
    }
}

/* Sends all n bytes of p, again after EINTR. MSG_NOSIGNAL: a peer that has gone gives -1, not
 * SIGPIPE. Returns 0, or -1 when the connection failed. */
static inline int net_send_all(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* net_send_all of the string s without its terminating NUL. */
static inline int net_send_str(int fd, const char *s)
{
    return net_send_all(fd, s, strlen(s));
}

/* One recv of at most cap bytes into buf, after waiting at most ms milliseconds for them.
 * Returns the byte count, 0 at the end of the stream, -1 when recv failed (a reset), -2 when
 * nothing came in time or the wait failed. */
static inline ssize_t net_recv_within(int fd, void *buf, size_t cap, int ms)
{
    if (net_wait_readable(fd, ms) <= 0)
        return -2;
    ssize_t r = recv(fd, buf, cap, 0);
    return r < 0 ? -1 : r;
}

/* SO_LINGER 0: the next close of fd resets the connection (RST) instead of ending it in order,
 * as when the peer dies. */
static inline void net_linger_reset(int fd)
{
    const struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

/* Seconds on the monotonic clock, for deadlines and rates. */
static inline double net_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps s seconds, fractions included (nothing when s <= 0). */
static inline void net_sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

#endif
