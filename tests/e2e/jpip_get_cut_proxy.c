/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper for jpip_get_test.sh: a TCP relay on 127.0.0.1 that breaks the first
 * connection it relays after CUT bytes have gone from the server to the client (the client
 * sees the connection close in the middle of a response body; CUT -1 = never), then relays
 * every later connection whole, optionally no faster than RATE bytes per second (a slow pipe,
 * so a test can kill the server in the middle of a view). It serves one connection at a time,
 * prints "port N" once listening, and exits after 60 s without a connection or on SIGTERM.
 *
 *   jpip_get_cut_proxy UPSTREAM_PORT CUT_BYTES [RATE]
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_net.h"

/* Throttle: sleep until sent bytes since t0 fit the rate. */
static void pace(double t0, long long sent, long long rate)
{
    if (rate <= 0)
        return;
    net_sleep_s(t0 + (double)sent / (double)rate - net_now_s());
}

/* Relay until either side closes; *budget counts down the server-to-client bytes left before
 * the cut (negative: no cut). */
static void relay(int c, int u, long long *budget, long long rate)
{
    char buf[16384];
    double t0 = net_now_s();
    long long sent = 0;
    struct pollfd p[2] = {{c, POLLIN, 0}, {u, POLLIN, 0}};
    for (;;) {
        if (poll(p, 2, 30000) <= 0)
            return;
        if (p[0].revents) {
            ssize_t n = recv(c, buf, sizeof buf, 0);
            if (n <= 0 || net_send_all(u, buf, (size_t)n) < 0)
                return;
        }
        if (p[1].revents) {
            size_t want = sizeof buf;
            if (rate > 0 && (long long)want > rate / 20 + 1)
                want = (size_t)(rate / 20 + 1);
            if (*budget >= 0 && (long long)want > *budget)
                want = (size_t)*budget;
            ssize_t n = want ? recv(u, buf, want, 0) : 0;
            if (n > 0 && net_send_all(c, buf, (size_t)n) < 0)
                return;
            if (n > 0 && *budget >= 0)
                *budget -= n;
            if (n > 0) {
                sent += n;
                pace(t0, sent, rate);
            }
            if (*budget == 0) {
                /* Cut: the body ends early with an orderly close. (A reset would be closer to a
                 * dying server, but a reset makes the kernel drop what the client has not read
                 * yet, so under load the client might see no byte of the response at all and
                 * the test could not count on one broken response. e2e.faults sends resets.) */
                shutdown(c, SHUT_WR);
                *budget = -1;
                return;
            }
            if (n <= 0)
                return;
        }
    }
}

struct relay_args {
    unsigned up;      /* the upstream port */
    long long budget; /* server-to-client bytes left before the cut; negative: no cut */
    long long rate;   /* bytes per second at most; 0: no limit */
};

/* One connection: relayed to a new connection to the upstream port. */
static void serve(int c, void *arg)
{
    struct relay_args *r = arg;
    int u = net_connect_loopback(r->up, 0);
    if (u >= 0) {
        relay(c, u, &r->budget, r->rate);
        close(u);
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
    struct relay_args r = {up, budget, rate};
    return net_serve_loopback(60000, serve, &r);
}
