/* SPDX-License-Identifier: BSD-2-Clause */
/* Data-bin contents from the packet index (see databin.h). */
#include "databin/databin.h"

#include <string.h>

#include "codestream/rebuild.h"

int jpip__main_header_bin(const struct jpip__codestream *cs, struct jpip__buf *out)
{
    JPIP_TRY(jpip__buf_append_u16be(out, JPIP_MK_SOC));
    struct jpip__err err;
    return jpip__rebuild_header_segments(out, cs->mh_buf + 2, cs->mh_len - 2, -1, cs->alloc, &err);
}

static uint32_t packet_bin_len(const struct jpip__tile_index *ti, uint64_t k)
{
    return ti->pk[k].len + (ti->ph_len ? ti->ph_len[k] : 0);
}

uint64_t jpip__precinct_bin_length(const struct jpip__tile_index *ti, uint32_t g, uint16_t layers)
{
    uint16_t n = layers > ti->nlayers ? ti->nlayers : layers;
    uint64_t base = (uint64_t)g * ti->nlayers, len = 0;
    for (uint16_t l = 0; l < n; l++) {
        if (!jpip__pk_present(&ti->pk[base + l]))
            break;
        len += packet_bin_len(ti, base + l);
    }
    return len;
}

uint16_t jpip__precinct_bin_packets(const struct jpip__tile_index *ti, uint32_t g, uint64_t bytes)
{
    uint64_t base = (uint64_t)g * ti->nlayers, end = 0;
    uint16_t l = 0;
    for (; l < ti->nlayers; l++) {
        if (!jpip__pk_present(&ti->pk[base + l]))
            break;
        end += packet_bin_len(ti, base + l);
        if (end > bytes)
            break;
    }
    return l;
}

/* Reads of consecutive in-band pieces that are contiguous in the tile's data are merged, so
 * a precinct whose packets lie together (RPCL, PCRL, CPRL) costs one read. */
struct pending_read {
    uint64_t src;
    uint8_t *dst;
    size_t len;
};

static int flush(struct jpip__codestream *cs, uint32_t tile, struct pending_read *pr)
{
    if (pr->len == 0)
        return JPIP_OK;
    int rc = jpip__cs_read_tile_data(cs, tile, pr->src, pr->dst, pr->len);
    pr->len = 0;
    return rc;
}

int jpip__precinct_bin_read(struct jpip__codestream *cs, const struct jpip__tile_index *ti,
                            uint32_t g, uint64_t off, uint8_t *dst, size_t len)
{
    uint64_t base = (uint64_t)g * ti->nlayers, pos = 0;
    struct pending_read pr = {0, NULL, 0};
    for (uint16_t l = 0; l < ti->nlayers && len > 0; l++) {
        uint64_t k = base + l;
        const struct jpip__packet *pk = &ti->pk[k];
        if (!jpip__pk_present(pk))
            break;
        uint64_t plen = packet_bin_len(ti, k);
        if (off >= pos + plen) {
            pos += plen;
            continue;
        }
        /* The packet's bin bytes are three pieces: in-band prefix (SOP when headers are
         * packed; everything otherwise), the packed header, the in-band rest. */
        uint64_t in_off = jpip__pk_off(pk);
        uint32_t ph = ti->ph_len ? ti->ph_len[k] : 0;
        uint32_t pre = ph ? pk->hlen : pk->len;
        struct {
            int packed;
            uint64_t src;
            uint64_t n;
        } piece[3] = {
            {0, in_off, pre}, {1, ph ? ti->ph_off[k] : 0, ph}, {0, in_off + pre, pk->len - pre}};
        uint64_t p = pos;
        for (int i = 0; i < 3 && len > 0; i++) {
            if (piece[i].n == 0)
                continue;
            if (off < p + piece[i].n) {
                uint64_t skip = off - p;
                uint64_t take = piece[i].n - skip;
                if (take > len)
                    take = len;
                if (piece[i].packed) {
                    memcpy(dst, ti->packed + piece[i].src + skip, (size_t)take);
                } else {
                    uint64_t from = piece[i].src + skip;
                    if (pr.len && pr.src + pr.len == from && pr.dst + pr.len == dst) {
                        pr.len += (size_t)take;
                    } else {
                        JPIP_TRY(flush(cs, ti->tile, &pr));
                        pr.src = from;
                        pr.dst = dst;
                        pr.len = (size_t)take;
                    }
                }
                dst += take;
                len -= (size_t)take;
                off += take;
            }
            p += piece[i].n;
        }
        pos += plen;
    }
    JPIP_TRY(flush(cs, ti->tile, &pr));
    return len == 0 ? JPIP_OK : JPIP_EINVAL;
}
