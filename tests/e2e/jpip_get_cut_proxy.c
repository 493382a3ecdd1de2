/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper for jpip_get_test.sh: a TCP relay on 127.0.0.1 that breaks the first
 * connection it relays after CUT bytes have gone from the server to the client (the client
 * sees a reset in the middle of a response body; CUT -1 = never), then relays every later
 * connection whole, optionally no faster than RATE bytes per second (a slow pipe, so a test
 * can kill the server in the middle of a view). It serves one connection at a time, prints
 * "port N" once listening, and exits after 60 s without a connection or on SIGTERM.
 *
 *   jpip_get_cut_proxy UPSTREAM_PORT CUT_BYTES [RATE]
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int connect_upstream(unsigned port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        close(s);
        return -1;
    }
    return s;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Throttle: sleep until sent bytes since t0 fit the rate. */
static void pace(double t0, long long sent, long long rate)
{
    if (rate <= 0)
        return;
    double due = t0 + (double)sent / (double)rate - now_s();
    if (due > 0) {
        struct timespec ts = {(time_t)due, (long)((due - (double)(time_t)due) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* Relay until either side closes; *budget counts down the server-to-client bytes left before
 * the cut (negative: no cut). */
static void relay(int c, int u, long long *budget, long long rate)
{
    char buf[16384];
    double t0 = now_s();
    long long sent = 0;
    struct pollfd p[2] = {{c, POLLIN, 0}, {u, POLLIN, 0}};
    for (;;) {
        if (poll(p, 2, 30000) <= 0)
            return;
        if (p[0].revents) {
            ssize_t n = recv(c, buf, sizeof buf, 0);
            if (n <= 0 || send_all(u, buf, (size_t)n) < 0)
                return;
        }
        if (p[1].revents) {
            size_t want = sizeof buf;
            if (rate > 0 && (long long)want > rate / 20 + 1)
                want = (size_t)(rate / 20 + 1);
            if (*budget >= 0 && (long long)want > *budget)
                want = (size_t)*budget;
            ssize_t n = want ? recv(u, buf, want, 0) : 0;
            if (n > 0 && send_all(c, buf, (size_t)n) < 0)
                return;
            if (n > 0 && *budget >= 0)
                *budget -= n;
            if (n > 0) {
                sent += n;
                pace(t0, sent, rate);
            }
            if (*budget == 0) {
                /* Cut: a reset rather than an orderly close, as when a server dies. */
                struct linger lg = {1, 0};
                setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                *budget = -1;
                return;
            }
            if (n <= 0)
                return;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s UPSTREAM_PORT CUT_BYTES [RATE]\n", argv[0]);
        return 2;
    }
    unsigned up = (unsigned)strtoul(argv[1], NULL, 10);
    long long budget = strtoll(argv[2], NULL, 10);
    long long rate = argc == 4 ? strtoll(argv[3], NULL, 10) : 0;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 8) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &al) != 0) {
        perror("listen");
        return 1;
    }
    printf("port %u\n", (unsigned)ntohs(a.sin_port));
    fflush(stdout);
    for (;;) {
        struct pollfd p = {l, POLLIN, 0};
        if (poll(&p, 1, 60000) <= 0)
            return 0;
        int c = accept(l, NULL, NULL);
        if (c < 0)
            continue;
        int u = connect_upstream(up);
        if (u >= 0) {
            relay(c, u, &budget, rate);
            close(u);
        }
        close(c);
    }
}
