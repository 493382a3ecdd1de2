/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test client for jpipd's operations features (tests/e2e/jpipd_ops_test.sh), plain sockets
 * on 127.0.0.1:
 *
 *   rate PORT N WARMUP_S WINDOW_S PATH [--total R] [--each R] [--min-each R]
 *       N connections each send "GET PATH" at once and read as fast as they can; bytes
 *       received between WARMUP_S and WARMUP_S + WINDOW_S give each connection's rate and
 *       the sum. --total R: the sum within +-10% of R; --each R: every connection within
 *       +-10% of R; --min-each R: none below R. Fails if a response ends inside the window.
 *   stall PORT PATH PAUSE_S
 *       Ask for PATH with a 4 KiB receive buffer, read nothing for PAUSE_S, then read to the
 *       end: succeeds when the server cut the body (no final chunk), fails when it came whole.
 *   metrics FILE
 *       Check FILE against the Prometheus text format (0.0.4): HELP/TYPE comments, metric
 *       and label names, label values, numeric values, TYPE before samples, one TYPE per
 *       name; print "NAME{LABELS} VALUE" lines for the shell to read.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_net.h"

#define MAX_CONNS 64

static int send_get(int fd, const char *path)
{
    char req[4096];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (n < 0 || (size_t)n >= sizeof req)
        return -1;
    return net_send_all(fd, req, (size_t)n);
}

static int within(double v, double want, double tol)
{
    return v >= want * (1 - tol) && v <= want * (1 + tol);
}

static int cmd_rate(int argc, char **argv)
{
    if (argc < 7)
        return 2;
    const int port = atoi(argv[2]), n = atoi(argv[3]);
    const double warm = atof(argv[4]), window = atof(argv[5]);
    const char *path = argv[6];
    double want_total = 0, want_each = 0, min_each = 0;
    for (int i = 7; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--total") == 0)
            want_total = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--each") == 0)
            want_each = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--min-each") == 0)
            min_each = atof(argv[i + 1]);
        else
            return 2;
    }
    if (n < 1 || n > MAX_CONNS)
        return 2;
    struct pollfd pfd[MAX_CONNS];
    int head_done[MAX_CONNS] = {0}, ended[MAX_CONNS] = {0};
    unsigned long long in_window[MAX_CONNS] = {0};
    char tail[MAX_CONNS][4] = {{0}};
    for (int i = 0; i < n; i++) {
        pfd[i].fd = net_connect_loopback((unsigned)port, 0);
        pfd[i].events = POLLIN;
        if (pfd[i].fd < 0 || send_get(pfd[i].fd, path) != 0) {
            fprintf(stderr, "rate: cannot connect or send\n");
            return 1;
        }
    }
    const double t0 = net_now_s(), from = t0 + warm, to = from + window;
    static char buf[1 << 16];
    int bad = 0;
    for (;;) {
        const double t = net_now_s();
        if (t >= to)
            break;
        int rc = poll(pfd, (nfds_t)n, 50);
        if (rc < 0 && errno != EINTR)
            return 1;
        for (int i = 0; i < n; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = read(pfd[i].fd, buf, sizeof buf);
            const double tr = net_now_s();
            if (r <= 0) {
                if (!ended[i] && tr < to) {
                    fprintf(stderr, "rate: connection %d ended %.2f s in, inside the window\n", i,
                            tr - t0);
                    bad = 1;
                }
                ended[i] = 1;
                pfd[i].fd = -pfd[i].fd - 1; /* ignored by poll from now on */
                continue;
            }
            size_t body = (size_t)r;
            if (!head_done[i]) {
                /* Find the end of the response head, across reads. */
                char *p = NULL;
                for (ssize_t k = 0; k < r; k++) {
                    memmove(tail[i], tail[i] + 1, 3);
                    tail[i][3] = buf[k];
                    if (memcmp(tail[i], "\r\n\r\n", 4) == 0) {
                        p = buf + k + 1;
                        break;
                    }
                }
                if (!p)
                    continue;
                if (strncmp(buf, "HTTP/1.1 200", 12) != 0) {
                    fprintf(stderr, "rate: connection %d: %.40s\n", i, buf);
                    return 1;
                }
                head_done[i] = 1;
                body = (size_t)(buf + r - p);
            }
            if (tr >= from && tr < to)
                in_window[i] += body;
        }
    }
    double total = 0, lo = 1e300, hi = 0;
    for (int i = 0; i < n; i++) {
        const double rate = (double)in_window[i] / window;
        total += rate;
        lo = rate < lo ? rate : lo;
        hi = rate > hi ? rate : hi;
        printf("connection %d: %llu bytes in %.1f s = %.0f B/s\n", i, in_window[i], window, rate);
        if (want_each && !within(rate, want_each, 0.10)) {
            fprintf(stderr, "rate: connection %d at %.0f B/s, not within 10%% of %.0f\n", i, rate,
                    want_each);
            bad = 1;
        }
        if (min_each && rate < min_each) {
            fprintf(stderr, "rate: connection %d at %.0f B/s, below %.0f\n", i, rate, min_each);
            bad = 1;
        }
        close(pfd[i].fd < 0 ? -pfd[i].fd - 1 : pfd[i].fd);
    }
    printf("total: %.0f B/s over %d connection%s (lowest %.0f, highest %.0f)\n", total, n,
           n == 1 ? "" : "s", lo, hi);
    if (want_total && !within(total, want_total, 0.10)) {
        fprintf(stderr, "rate: total %.0f B/s, not within 10%% of %.0f\n", total, want_total);
        bad = 1;
    }
    return bad;
}

static int cmd_stall(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    const int port = atoi(argv[2]);
    const double pause = atof(argv[4]);
    int fd = net_connect_loopback((unsigned)port, 4096);
    if (fd < 0 || send_get(fd, argv[3]) != 0) {
        fprintf(stderr, "stall: cannot connect or send\n");
        return 2;
    }
    net_sleep_s(pause);
    /* Now read everything: a server that gave up has closed the connection mid-body. */
    static char buf[1 << 16];
    char last[5] = {0};
    unsigned long long got = 0;
    const double end = net_now_s() + 20;
    int reset = 0;
    while (net_now_s() < end) {
        ssize_t r = net_recv_within(fd, buf, sizeof buf, 1000);
        if (r == -2)
            continue;
        if (r < 0) {
            reset = 1;
            break;
        }
        if (r == 0)
            break;
        got += (unsigned long long)r;
        for (ssize_t k = 0; k < r; k++) {
            memmove(last, last + 1, 3);
            last[3] = buf[k];
        }
    }
    close(fd);
    /* A whole chunked body ends with "0\r\n\r\n". */
    const int complete = !reset && memcmp(last, "\n\r\n", 3) == 0 && got > 5;
    printf("stall: received %llu bytes after a %.1f s pause; body %s\n", got, pause,
           complete ? "complete" : (reset ? "cut (reset)" : "cut"));
    return complete ? 1 : 0;
}

static int name_ok(const char *s, size_t n, int allow_colon)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || (allow_colon && s[0] == ':')))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || (allow_colon && s[i] == ':')))
            return 0;
    return 1;
}

static int value_ok(const char *s)
{
    if (strcmp(s, "NaN") == 0 || strcmp(s, "+Inf") == 0 || strcmp(s, "-Inf") == 0)
        return 1;
    char *end;
    errno = 0;
    strtod(s, &end);
    return end != s && *end == '\0' && errno == 0;
}

static int cmd_metrics(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    FILE *f = fopen(argv[2], "r");
    if (!f)
        return 2;
    char line[4096];
    char typed[256][128];
    int ntyped = 0, samples = 0, lineno = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {
            fprintf(stderr, "metrics:%d: line without newline\n", lineno);
            bad = 1;
            break;
        }
        line[--len] = '\0';
        if (len == 0)
            continue;
        if (line[0] == '#') {
            char kw[8], name[128];
            if (sscanf(line, "# %7s %127s", kw, name) == 2 &&
                (strcmp(kw, "HELP") == 0 || strcmp(kw, "TYPE") == 0)) {
                if (!name_ok(name, strlen(name), 1)) {
                    fprintf(stderr, "metrics:%d: bad metric name '%s'\n", lineno, name);
                    bad = 1;
                }
                if (strcmp(kw, "TYPE") == 0) {
                    const char *t = line + 7 + strlen(name);
                    while (*t == ' ')
                        t++;
                    if (strcmp(t, "counter") != 0 && strcmp(t, "gauge") != 0 &&
                        strcmp(t, "histogram") != 0 && strcmp(t, "summary") != 0 &&
                        strcmp(t, "untyped") != 0) {
                        fprintf(stderr, "metrics:%d: bad type '%s'\n", lineno, t);
                        bad = 1;
                    }
                    for (int i = 0; i < ntyped; i++)
                        if (strcmp(typed[i], name) == 0) {
                            fprintf(stderr, "metrics:%d: second TYPE for %s\n", lineno, name);
                            bad = 1;
                        }
                    if (ntyped < 256)
                        snprintf(typed[ntyped++], sizeof typed[0], "%s", name);
                }
            }
            continue; /* other comments are allowed */
        }
        /* name [{labels}] value [timestamp] */
        const char *p = line;
        size_t nl = strcspn(p, "{ ");
        if (!name_ok(p, nl, 1)) {
            fprintf(stderr, "metrics:%d: bad sample name\n", lineno);
            bad = 1;
            continue;
        }
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)nl, p);
        int declared = 0;
        for (int i = 0; i < ntyped; i++)
            declared |= strcmp(typed[i], name) == 0;
        if (!declared) {
            fprintf(stderr, "metrics:%d: sample of %s before its TYPE\n", lineno, name);
            bad = 1;
        }
        p += nl;
        if (*p == '{') {
            p++;
            while (*p != '}') {
                size_t ln = strcspn(p, "=");
                if (!name_ok(p, ln, 0) || p[ln] != '=' || p[ln + 1] != '"') {
                    fprintf(stderr, "metrics:%d: bad label\n", lineno);
                    bad = 1;
                    break;
                }
                p += ln + 2;
                while (*p && *p != '"') {
                    if (*p == '\\') {
                        if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                            break;
                        p++;
                    }
                    p++;
                }
                if (*p != '"') {
                    fprintf(stderr, "metrics:%d: unterminated label value\n", lineno);
                    bad = 1;
                    break;
                }
                p++;
                if (*p == ',')
                    p++;
                else if (*p != '}') {
                    fprintf(stderr, "metrics:%d: expected , or }\n", lineno);
                    bad = 1;
                    break;
                }
            }
            if (*p != '}')
                continue;
            p++;
        }
        if (*p != ' ') {
            fprintf(stderr, "metrics:%d: expected a space before the value\n", lineno);
            bad = 1;
            continue;
        }
        p++;
        char value[64];
        size_t vl = strcspn(p, " ");
        snprintf(value, sizeof value, "%.*s", (int)vl, p);
        if (!value_ok(value) || (p[vl] == ' ' && !value_ok(p + vl + 1))) {
            fprintf(stderr, "metrics:%d: bad value '%s'\n", lineno, p);
            bad = 1;
            continue;
        }
        printf("%.*s %s\n", (int)(p - 1 - line), line, value);
        samples++;
    }
    fclose(f);
    if (samples == 0) {
        fprintf(stderr, "metrics: no samples\n");
        bad = 1;
    }
    return bad;
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc >= 2 && strcmp(argv[1], "rate") == 0)
        rc = cmd_rate(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "stall") == 0)
        rc = cmd_stall(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "metrics") == 0)
        rc = cmd_metrics(argc, argv);
    if (rc == 2)
        fprintf(stderr, "usage: see the comment at the top of jpipd_ops_client.c\n");
    return rc;
}
