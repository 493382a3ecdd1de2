/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Client benchmark (client core against the server core in one process, no sockets):
 *  1. time to the first decoded 512x512 thumbnail with a cold server (index built on demand)
 *     and an empty client cache: requests, transfer, rebuild and decode;
 *  2. for several views, the time to rebuild the codestream from the cache against the time
 *     OpenJPEG takes to decode it.
 *
 *   client_bench FILE
 */
#include "bench_common.h"
#include <jpip/client.h>
#include <jpip/decode.h>

static int drive(struct jpip_server *s, struct jpip_client *c)
{
    static uint8_t buf[1 << 16];
    for (int round = 0; round < 100 && !jpip_client_view_complete(c); round++) {
        const char *path, *query;
        size_t ql;
        if (jpip_client_next_request(c, &path, &query, &ql) != JPIP_OK)
            return -1;
        struct jpip_response *r;
        if (jpip_server_handle(s, path, strlen(path), query, ql, 0, &r) != JPIP_OK)
            return -1;
        if (jpip_client_begin_response(c, jpip_response_status(r), jpip_response_headers(r)))
            return -1;
        int done = 0;
        while (!done) {
            size_t n;
            jpip_response_read(r, buf, sizeof buf, &n, &done);
            jpip_client_feed(c, buf, n);
        }
        jpip_response_destroy(r);
        jpip_client_end_response(c, 1);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: client_bench FILE\n");
        return 2;
    }
    file_path = argv[1];
    struct jpip_server_hooks h = {.resolve = resolve, .release = release, .random = rnd};
    struct jpip_server *s;
    jpip_server_create(&s, &h, NULL, NULL);
    struct jpip_client *c;
    jpip_client_create(&c, "/f", NULL, NULL);
    double t0 = now();
    struct jpip_view v = {0};
    v.fx = 512;
    v.fy = 512;
    jpip_client_set_view(c, &v);
    if (drive(s, c) != 0) {
        fprintf(stderr, "fetch failed: %s\n", jpip_client_errmsg(c));
        return 1;
    }
    double t1 = now();
    struct jpip_image *img = NULL;
    char err[256];
    if (jpip_client_decode(c, NULL, 0, 2, &img, err, sizeof err) != JPIP_OK) {
        fprintf(stderr, "decode: %s\n", err);
        return 1;
    }
    double t2 = now();
    printf("first 512x512 thumbnail, cold server and cache: %.1f ms (fetch %.1f ms, rebuild + "
           "decode %.1f ms), %ux%u\n",
           (t2 - t0) * 1e3, (t1 - t0) * 1e3, (t2 - t1) * 1e3, img->comp[0].width,
           img->comp[0].height);
    jpip_image_destroy(img);

    struct jpip_source src;
    jpip_file_source_open(&src, file_path);
    struct jpip_target *t;
    jpip_target_open(&t, &src, NULL, NULL);
    struct jpip_codestream_info ci;
    jpip_target_codestream_info(t, 0, &ci);
    jpip_target_destroy(t);
    jpip_file_source_close(&src);
    struct {
        const char *name;
        unsigned d;
        uint32_t ox, oy, sx, sy;
    } views[] = {{"thumbnail 512", 5, 0, 0, 0, 0},
                 {"1024x1024 at 1/4", 2, 1000, 1000, 1024, 1024},
                 {"512x512 at full", 0, 8000, 8000, 512, 512},
                 {"2048x2048 at 1/2", 1, 2000, 2000, 2048, 2048}};
    for (size_t i = 0; i < sizeof views / sizeof *views; i++) {
        uint32_t fw = (ci.width + (1u << views[i].d) - 1) >> views[i].d;
        uint32_t fh = (ci.height + (1u << views[i].d) - 1) >> views[i].d;
        struct jpip_view w = {0};
        w.fx = fw;
        w.fy = fh;
        w.ox = views[i].ox;
        w.oy = views[i].oy;
        w.sx = views[i].sx ? views[i].sx : fw;
        w.sy = views[i].sy ? views[i].sy : fh;
        jpip_client_set_view(c, &w);
        drive(s, c);
        uint8_t *cs;
        size_t len;
        struct jpip_view_geometry g;
        double a = now();
        if (jpip_client_codestream(c, &cs, &len, &g) != JPIP_OK)
            continue;
        double b = now();
        struct jpip_decode_options o = {0};
        o.reduce = g.discard;
        o.x0 = g.x0;
        o.y0 = g.y0;
        o.x1 = g.x1;
        o.y1 = g.y1;
        o.threads = 2;
        struct jpip_image *im = NULL;
        jpip_decode(cs, len, &o, &im, err, sizeof err);
        double e = now();
        printf("%-18s rebuild %7.2f ms (%8zu bytes)  decode %8.2f ms  rebuild/decode %5.1f%%\n",
               views[i].name, (b - a) * 1e3, len, (e - b) * 1e3, 100 * (b - a) / (e - b));
        jpip_image_destroy(im);
        jpip_client_free(c, cs);
    }
    jpip_client_destroy(c);
    jpip_server_destroy(s);
    return 0;
}
