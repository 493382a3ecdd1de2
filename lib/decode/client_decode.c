/* SPDX-License-Identifier: BSD-2-Clause */
/* Decoding a client's current view: rebuild from its cache (as a JP2 file when the target
 * has a JP2 header, so palettes and channel definitions apply as on the original), then
 * OpenJPEG with the view's discard levels, region and layers. */
#include <stdio.h>

#include <jpip/client.h>
#include <jpip/decode.h>

int jpip_client_decode(struct jpip_client *c, const unsigned *comps, unsigned ncomps,
                       unsigned threads, struct jpip_image **out, char *errbuf, size_t errlen)
{
    uint8_t *cs = NULL;
    size_t len = 0;
    struct jpip_view_geometry g;
    int jp2 = 0;
    int rc = jpip_client_view_file(c, &cs, &len, &g, &jp2);
    if (rc != JPIP_OK) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s", jpip_client_errmsg(c));
        return rc;
    }
    struct jpip_decode_options o = {0};
    o.reduce = g.discard;
    o.layers = g.layers;
    o.x0 = g.x0;
    o.y0 = g.y0;
    o.x1 = g.x1;
    o.y1 = g.y1;
    o.comps = comps;
    o.ncomps = ncomps;
    o.threads = threads;
    o.jp2 = jp2;
    rc = jpip_decode(cs, len, &o, out, errbuf, errlen);
    jpip_client_free(c, cs);
    return rc;
}
