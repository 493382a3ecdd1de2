/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper for faults_test.sh: N clients on 127.0.0.1:PORT that each send one GET for
 * REQUEST (path and query) and reset the connection (SO_LINGER 0, so close sends RST) in the
 * middle of the response: client i resets after reading a different number of bytes up to
 * MAX_BYTES (client 0 right after sending, before reading anything; the others after at least
 * one byte). All connections are opened first, then each reads its share and resets, so the
 * server has N responses in flight at once. Prints "resets N bytes B" and exits 0 when every
 * client connected and every client meant to read got at least one byte before its reset.
 * Bounded: 20 s (SIGALRM).
 *
 *   faults_client PORT REQUEST N MAX_BYTES
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_net.h"

#define MAX_CLIENTS 256

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: faults_client PORT REQUEST N MAX_BYTES\n");
        return 2;
    }
    const unsigned port = (unsigned)strtoul(argv[1], NULL, 10);
    const char *request = argv[2];
    unsigned n = (unsigned)strtoul(argv[3], NULL, 10);
    const unsigned long max_bytes = strtoul(argv[4], NULL, 10);
    if (n == 0 || n > MAX_CLIENTS || max_bytes == 0 || port == 0 || port > 65535) {
        fprintf(stderr, "faults_client: bad arguments\n");
        return 2;
    }
    alarm(20);
    int fds[MAX_CLIENTS];
    char req[4096];
    const int rl = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", request);
    if (rl < 0 || (size_t)rl >= sizeof req) {
        fprintf(stderr, "faults_client: request too long\n");
        return 2;
    }
    for (unsigned i = 0; i < n; i++) {
        /* A small receive buffer keeps most of the response in the server when we reset. */
        fds[i] = net_connect_loopback(port, 4096);
        if (fds[i] < 0 || net_send_all(fds[i], req, (size_t)rl) != 0) {
            fprintf(stderr, "faults_client: client %u cannot connect or send\n", i);
            return 1;
        }
    }
    unsigned long total = 0;
    int short_read = 0;
    for (unsigned i = 0; i < n; i++) {
        /* Client i stops after about i/n of max_bytes (client 0 reads nothing). */
        const unsigned long want = i == 0 ? 0 : 1 + (max_bytes * i) / n;
        unsigned long got = 0;
        char buf[4096];
        while (got < want) {
            const size_t ask = want - got < sizeof buf ? (size_t)(want - got) : sizeof buf;
            const ssize_t r = read(fds[i], buf, ask);
            if (r <= 0)
                break;
            got += (unsigned long)r;
        }
        if (want && got == 0)
            short_read = 1;
        total += got;
        net_linger_reset(fds[i]);
        close(fds[i]);
    }
    printf("resets %u bytes %lu\n", n, total);
    if (short_read) {
        fprintf(stderr, "faults_client: a client got no byte before its reset\n");
        return 1;
    }
    return 0;
}
