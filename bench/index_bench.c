/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Indexing benchmark: opens each file given, indexes every tile of every codestream, and
 * prints the time, codestream MB/s, packets/s and the index's memory per packet (live bytes
 * held by the target after indexing, counted by a wrapping allocator).
 *
 *   index_bench [--repeat N] FILE...
 *   bench/make_large.sh DIR   # makes the 16384x16384 RGB files (with and without PLT)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jpip/index.h>

struct counting {
    size_t live, peak;
};

struct hdr {
    size_t size;
    size_t pad;
};

static void *c_alloc(void *opaque, size_t n)
{
    struct counting *c = opaque;
    struct hdr *h = malloc(sizeof *h + n);
    if (!h)
        return NULL;
    h->size = n;
    c->live += n;
    if (c->live > c->peak)
        c->peak = c->live;
    return h + 1;
}

static void c_free(void *opaque, void *p)
{
    struct counting *c = opaque;
    if (!p)
        return;
    struct hdr *h = (struct hdr *)p - 1;
    c->live -= h->size;
    free(h);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int repeat = 3, first = 1;
    if (argc > 2 && strcmp(argv[1], "--repeat") == 0) {
        repeat = atoi(argv[2]);
        first = 3;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: index_bench [--repeat N] FILE...\n");
        return 2;
    }
    printf("%-40s %10s %8s %10s %12s %10s %8s %6s\n", "file", "MB", "ms", "MB/s", "packets/s",
           "packets", "B/pkt", "path");
    for (int i = first; i < argc; i++) {
        double best = 1e30;
        unsigned long long packets = 0;
        double mb = 0, bpp = 0;
        int plt = 0;
        for (int rep = 0; rep < repeat; rep++) {
            struct counting cnt = {0, 0};
            struct jpip_allocator al = {c_alloc, c_free, &cnt};
            struct jpip_source src;
            if (jpip_file_source_open(&src, argv[i]) != JPIP_OK) {
                fprintf(stderr, "cannot open %s\n", argv[i]);
                return 1;
            }
            double t0 = now();
            struct jpip_target *t;
            int rc = jpip_target_open(&t, &src, &al, NULL);
            size_t base = cnt.live;
            packets = 0;
            plt = 1;
            mb = 0;
            for (unsigned cs = 0; rc == JPIP_OK && cs < jpip_target_codestream_count(t); cs++) {
                struct jpip_codestream_info ci;
                jpip_target_codestream_info(t, cs, &ci);
                mb += ci.length / 1e6;
                for (uint32_t k = 0; rc == JPIP_OK && k < ci.tiles_x * ci.tiles_y; k++) {
                    struct jpip_tile_info ti;
                    rc = jpip_target_tile_info(t, cs, k, &ti);
                    packets += ti.packets;
                    plt &= ti.from_plt;
                }
            }
            double dt = now() - t0;
            if (rc != JPIP_OK) {
                fprintf(stderr, "%s: %s\n", argv[i], jpip_target_errmsg(t));
                return 1;
            }
            if (dt < best)
                best = dt;
            bpp = packets ? (double)(cnt.live - base) / packets : 0;
            jpip_target_destroy(t);
            jpip_file_source_close(&src);
        }
        const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
        printf("%-40s %10.1f %8.2f %10.0f %12.0f %10llu %8.1f %6s\n", name, mb, best * 1e3,
               mb / best, packets / best, packets, bpp, plt ? "PLT" : "walk");
    }
    printf("(best of %d runs; B/pkt = bytes the index holds per packet after indexing)\n", repeat);
    return 0;
}
