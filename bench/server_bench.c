/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Server core benchmark (in process, no sockets):
 *  1. thumbnail efficiency: bytes jpipd sends for a 512x512 thumbnail (stateless, fresh
 *     client) against the bytes of precinct data that view needs, and what the rest is;
 *  2. per-request server time for 512x512 views at random positions and resolutions on a warm
 *     image (p50, p99), body fully produced.
 *
 *   server_bench FILE [requests]
 *   (bench/make_large.sh makes suitable 16384x16384 files)
 */
#include "bench_common.h"
#include "stream/stream_reader.h"

struct tally {
    uint64_t msgs, bin_bytes[16];
};

static int on_msg(void *u, const struct jpip__msg *m, const uint8_t *body)
{
    (void)body;
    struct tally *t = u;
    t->msgs++;
    t->bin_bytes[m->cls & 15] += m->len;
    return 0;
}

static uint64_t run(struct jpip_server *s, const char *q, struct tally *t)
{
    struct jpip_response *r;
    if (jpip_server_handle(s, "/f", 2, q, strlen(q), 0, &r) != JPIP_OK)
        return 0;
    if (jpip_response_status(r) != 200) {
        fprintf(stderr, "%d %s\n", jpip_response_status(r), jpip_response_reason(r));
        exit(1);
    }
    static uint8_t buf[1 << 16];
    struct jpip__stream_reader rd;
    jpip__stream_reader_init(&rd, NULL, 0, on_msg, NULL, t);
    uint64_t total = 0;
    int done = 0;
    while (!done) {
        size_t n;
        jpip_response_read(r, buf, sizeof buf, &n, &done);
        if (t)
            jpip__stream_reader_feed(&rd, buf, n);
        total += n;
    }
    jpip__stream_reader_free(&rd);
    jpip_response_destroy(r);
    return total;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: server_bench FILE [requests]\n");
        return 2;
    }
    file_path = argv[1];
    int nreq = argc > 2 ? atoi(argv[2]) : 2000;
    struct jpip_server_hooks h = {.resolve = resolve, .release = release, .random = rnd};
    struct jpip_server *s;
    jpip_server_create(&s, &h, NULL, NULL);
    struct jpip_source src;
    jpip_file_source_open(&src, file_path);
    struct jpip_target *t;
    jpip_target_open(&t, &src, NULL, NULL);
    struct jpip_codestream_info ci;
    jpip_target_codestream_info(t, 0, &ci);
    jpip_target_destroy(t);
    jpip_file_source_close(&src);
    printf("file %s: %ux%u, %u tiles, %u layers, %u levels\n", file_path, ci.width, ci.height,
           ci.tiles_x * ci.tiles_y, ci.layers, ci.levels);

    /* 1. thumbnail */
    struct tally tt = {0};
    double t0 = now();
    uint64_t body = run(s, "fsiz=512,512", &tt);
    double cold = now() - t0;
    uint64_t need = tt.bin_bytes[0];
    uint64_t rest = body - need;
    printf("thumbnail fsiz=512,512 (cold, includes indexing): %.1f ms\n", cold * 1e3);
    printf("  body %llu bytes = precinct data %llu + main header %llu + tile headers %llu + "
           "metadata %llu + message headers/EOR %llu\n",
           (unsigned long long)body, (unsigned long long)need, (unsigned long long)tt.bin_bytes[6],
           (unsigned long long)tt.bin_bytes[2], (unsigned long long)tt.bin_bytes[8],
           (unsigned long long)(rest - tt.bin_bytes[6] - tt.bin_bytes[2] - tt.bin_bytes[8]));
    printf("  on top of the precinct data: %.2f%% (%llu messages)\n", 100.0 * rest / need,
           (unsigned long long)tt.msgs);

    /* 2. random 512x512 views, warm */
    double *lat = malloc(sizeof *lat * (size_t)nreq);
    uint64_t bytes = 0;
    srand(1);
    double start = now();
    for (int i = 0; i < nreq; i++) {
        unsigned d = (unsigned)(rand() % (ci.levels + 1));
        uint32_t fw = ci.width >> d, fh = ci.height >> d;
        uint32_t ox = fw > 512 ? (uint32_t)rand() % (fw - 512) : 0;
        uint32_t oy = fh > 512 ? (uint32_t)rand() % (fh - 512) : 0;
        char q[160];
        snprintf(q, sizeof q, "fsiz=%u,%u&roff=%u,%u&rsiz=512,512", fw ? fw : 1, fh ? fh : 1, ox,
                 oy);
        double a = now();
        bytes += run(s, q, NULL);
        lat[i] = now() - a;
    }
    double el = now() - start;
    qsort(lat, (size_t)nreq, sizeof *lat, cmp_d);
    printf("%d random 512x512 views (stateless, whole body produced): p50 %.3f ms, p99 %.3f "
           "ms, %.0f requests/s on one core, %.1f MB/s of body\n",
           nreq, lat[nreq / 2] * 1e3, lat[nreq * 99 / 100] * 1e3, nreq / el, bytes / el / 1e6);
    free(lat);
    jpip_server_destroy(s);
    return 0;
}
