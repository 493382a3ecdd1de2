/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Harness for the client's rebuild (lib/client/reconstruct.c, codestream/shrink.c,
 * client/jp2_wrap.c): everything a server sends ends up there. The input is 8 parameter
 * bytes and a response body: the body goes into a fresh client as one JPP-stream (or, when
 * the first parameter byte is odd, a JPT-stream) response, and the view named by the
 * parameters (frame size from the main header's image size divided by 2^d, a region, a layer
 * cap) is rebuilt with jpip_client_view_file, which rebuilds without the discarded levels
 * where it can, and wraps JP2 headers from metadata-bin 0. The rebuild must either fail with
 * a message or give a buffer that starts with SOC (or a JP2 signature) and ends with EOC.
 * Nothing is decoded: OpenJPEG is not under test. Seeds: bodies jpipd sent for small
 * generated files (J2K and JP2, tiled and not, SOP/EPH, PPM, several layers), each with a
 * few parameter sets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jpip/client.h>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    const uint8_t *prm = data;
    data += 8;
    size -= 8;
    struct jpip_client_config cfg = {0};
    cfg.stateless = 1;
    cfg.jpt = prm[0] & 1;
    cfg.max_rebuild_bytes = 1 << 18; /* hostile headers describing huge images stop here */
    struct jpip_client *c;
    if (jpip_client_create(&c, "/f", &cfg, NULL) != JPIP_OK)
        return 0;
    CHECK(jpip_client_begin_response(c, 200,
                                     cfg.jpt ? "Content-Type: image/jpt-stream\r\n"
                                             : "Content-Type: image/jpp-stream\r\n") == JPIP_OK);
    /* The body in two pieces, split where the parameters say. */
    size_t cut = size ? ((size_t)prm[1] << 8 | prm[2]) % (size + 1) : 0;
    int rc = jpip_client_feed(c, data, cut);
    if (rc == JPIP_OK)
        rc = jpip_client_feed(c, data + cut, size - cut);
    jpip_client_end_response(c, rc == JPIP_OK);
    for (int pass = 0; pass < 2; pass++) {
        struct jpip_view v = {0};
        unsigned d = prm[3] & 7;
        if (d || pass) {
            /* A frame of the full size >> d (the server's rounding decides the rest); the
             * region from the parameters, in that frame. */
            v.fx = 1u << (16 - d);
            v.fy = 1u << (16 - d);
            v.round = 2;
            v.ox = prm[4] * (pass ? 3u : 1u);
            v.oy = prm[5];
            v.sx = prm[6] ? prm[6] * 4u : 0;
            v.sy = prm[6] ? prm[6] * 3u : 0;
        }
        v.layers = (uint16_t)(prm[7] & 3);
        CHECK(jpip_client_set_view(c, &v) == JPIP_OK);
        uint8_t *out = NULL;
        size_t len = 0;
        struct jpip_view_geometry g;
        int jp2 = 0;
        if (jpip_client_view_file(c, &out, &len, &g, &jp2) == JPIP_OK) {
            CHECK(len >= 4);
            if (jp2)
                CHECK(memcmp(out + 4, "jP  ", 4) == 0);
            else
                CHECK(out[0] == 0xFF && out[1] == 0x4F);
            CHECK(out[len - 2] == 0xFF && out[len - 1] == 0xD9);
            CHECK(g.x0 <= g.x1 && g.y0 <= g.y1);
            jpip_client_free(c, out);
        } else {
            CHECK(jpip_client_errmsg(c)[0] != '\0');
        }
    }
    jpip_client_destroy(c);
    return 0;
}
