/* SPDX-License-Identifier: BSD-2-Clause */
/* Writing a codestream anew from the packet index (see rebuild.h). */
#include "codestream/rebuild.h"

#include <string.h>

#include "codestream/progression.h"
#include "common/alloc.h"
#include "common/bytes.h"

int jpip__rebuild_header_segments(struct jpip__buf *out, const uint8_t *hdr, size_t len, int prog,
                                  const struct jpip_allocator *a, struct jpip__err *err)
{
    struct jpip__marker_list ml = {0};
    int rc = jpip__markers_split(&ml, hdr, len, 0, a, err);
    for (uint32_t i = 0; rc >= 0 && i < ml.n; i++) {
        const struct jpip__marker *m = &ml.v[i];
        switch (m->code) {
        case JPIP_MK_TLM:
        case JPIP_MK_PLM:
        case JPIP_MK_PLT:
        case JPIP_MK_PPM:
        case JPIP_MK_PPT: continue;
        case JPIP_MK_POC:
            if (prog >= 0)
                continue;
            break;
        default: break;
        }
        size_t at = out->len;
        rc = jpip__buf_append(out, hdr + m->off, m->len);
        if (rc >= 0 && m->code == JPIP_MK_COD && prog >= 0 && m->len > 5)
            out->data[at + 5] = (uint8_t)prog; /* FF52 Lcod Scod SGcod: order is byte 5 */
    }
    jpip__markers_free(&ml, a);
    return rc;
}

int jpip__rebuild_empty_packet(struct jpip__buf *out, uint8_t scod, uint16_t nsop)
{
    uint8_t b[9];
    size_t n = 0;
    if (scod & 2) {
        b[n++] = 0xFF;
        b[n++] = 0x91;
        b[n++] = 0x00;
        b[n++] = 0x04;
        b[n++] = (uint8_t)(nsop >> 8);
        b[n++] = (uint8_t)nsop;
    }
    b[n++] = 0x00;
    if (scod & 4) {
        b[n++] = 0xFF;
        b[n++] = 0x92;
    }
    return jpip__buf_append(out, b, n);
}

struct emit {
    struct jpip__codestream *cs;
    struct jpip__tile_index *ti;
    jpip_packet_present_fn present;
    void *user;
    struct jpip__buf *out;
    uint16_t nsop;
};

static int on_packet(void *user, uint32_t g, uint16_t l)
{
    struct emit *e = user;
    struct jpip__tile_index *ti = e->ti;
    const struct jpip__packet *pk = &ti->pk[(uint64_t)g * ti->nlayers + l];
    int have = jpip__pk_present(pk);
    if (have && e->present) {
        uint16_t c;
        uint8_t r;
        uint32_t p;
        jpip__prec_locate(ti, g, &c, &r, &p);
        have = e->present(e->user, ti->tile, c, r, p, l) != 0;
    }
    uint16_t nsop = e->nsop++;
    if (!have)
        return jpip__rebuild_empty_packet(e->out, ti->coding.scod, nsop);
    uint64_t k = (uint64_t)g * ti->nlayers + l;
    uint32_t ph = ti->packed ? ti->ph_len[k] : 0;
    JPIP_TRY(jpip__buf_reserve(e->out, (size_t)pk->len + ph));
    uint8_t *dst = e->out->data + e->out->len;
    if (ti->packed) {
        /* In-band: [SOP] body; packed: header [EPH]. Re-join as [SOP] header [EPH] body. */
        uint32_t sop = pk->hlen; /* the SOP segment, 0 or 6 bytes */
        JPIP_TRY(jpip__cs_read_tile_data(e->cs, ti->tile, jpip__pk_off(pk), dst, sop));
        memcpy(dst + sop, ti->packed + ti->ph_off[k], ph);
        JPIP_TRY(jpip__cs_read_tile_data(e->cs, ti->tile, jpip__pk_off(pk) + sop, dst + sop + ph,
                                         pk->len - sop));
    } else {
        JPIP_TRY(jpip__cs_read_tile_data(e->cs, ti->tile, jpip__pk_off(pk), dst, pk->len));
    }
    e->out->len += (size_t)pk->len + ph;
    return 0;
}

int jpip__rebuild(struct jpip__codestream *cs, int prog, jpip_packet_present_fn present, void *user,
                  struct jpip__buf *out)
{
    const struct jpip_allocator *a = cs->alloc;
    struct jpip__err *err = &cs->err;
    int rc;
    JPIP_FAIL_IF(prog > 4, err, JPIP_EINVAL, "progression order %d out of range", prog);
    if ((rc = jpip__buf_append_u16be(out, JPIP_MK_SOC)) < 0)
        goto nomem;
    JPIP_TRY(jpip__rebuild_header_segments(out, cs->mh_buf + 2, cs->mh_len - 2, prog, a, err));
    for (uint32_t t = 0; t < cs->mh.siz.ntiles; t++) {
        struct jpip__tile_index *ti;
        if (cs->tile_ntp[t] == 0)
            continue; /* a tile the codestream leaves out stays out */
        JPIP_TRY(jpip__cs_tile(cs, t, &ti));
        size_t sot_at = out->len;
        const uint8_t sot[12] = {0xFF, 0x90, 0x00, 0x0A, (uint8_t)(t >> 8), (uint8_t)t, 0, 0,
                                 0,    0,    0x00, 0x01};
        if ((rc = jpip__buf_append(out, sot, sizeof sot)) < 0)
            goto nomem;
        JPIP_TRY(jpip__rebuild_header_segments(out, ti->hdr, ti->hdr_len, prog, a, err));
        if ((rc = jpip__buf_append_u16be(out, JPIP_MK_SOD)) < 0)
            goto nomem;
        struct emit e = {cs, ti, present, user, out, 0};
        rc = jpip__progression_walk(ti, &cs->mh.siz, prog, on_packet, &e, a);
        if (rc < 0) {
            if (rc == JPIP_ENOMEM || rc == JPIP_ELIMIT)
                goto nomem;
            return rc;
        }
        uint64_t psot = out->len - sot_at;
        JPIP_FAIL_IF(psot > UINT32_MAX, err, JPIP_EUNSUPPORTED,
                     "rebuilt tile %u is larger than 4 GiB", t);
        jpip__put_be32(out->data + sot_at + 6, (uint32_t)psot);
    }
    if ((rc = jpip__buf_append_u16be(out, JPIP_MK_EOC)) < 0)
        goto nomem;
    return JPIP_OK;
nomem:
    return jpip__errf(err, rc, "rebuild: output buffer: %s", jpip_strerror(rc));
}
