/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The packet index of one tile: its layout (tile-components, resolutions, precinct grids),
 * its coding parameters after tile-part headers, and the position and length of every packet.
 * Packet positions come from PLT when present and consistent with the layout; otherwise from
 * decoding every packet header in progression order and skipping the bodies. Packed headers
 * (PPM, PPT) are decoded from their own stream.
 */
#include <stdlib.h>
#include <string.h>

#include "codestream/codestream.h"
#include "codestream/index_serial.h"
#include "codestream/packet_header.h"
#include "codestream/progression.h"
#include "common/alloc.h"
#include "common/bytes.h"
#include "common/source.h"

/* Packet-header state (tag trees, code-block states) alive at once during a tile walk. */
#define MAX_LIVE_STATE_BYTES ((uint64_t)256 << 20)
#define WINDOW_BYTES (16u << 10) /* minimum read: most packet headers are far smaller */

void jpip__tile_index_free(struct jpip__tile_index *ti, const struct jpip_allocator *a)
{
    if (!ti)
        return;
    jpip__coding_free(&ti->coding, a);
    jpip__free(a, ti->comp);
    jpip__free(a, ti->res_all);
    jpip__free(a, ti->pk);
    jpip__free(a, ti->ph_off);
    jpip__free(a, ti->ph_len);
    jpip__free(a, ti->packed);
    jpip__free(a, ti->hdr);
    memset(ti, 0, sizeof *ti);
}

void jpip__prec_locate(const struct jpip__tile_index *ti, uint32_t g, uint16_t *c, uint8_t *r,
                       uint32_t *p)
{
    uint16_t lo = 0, hi = ti->ncomp;
    while (hi - lo > 1) { /* last component whose prec_base <= g */
        uint16_t mid = (uint16_t)((lo + hi) / 2);
        if (ti->comp[mid].prec_base <= g)
            lo = mid;
        else
            hi = mid;
    }
    const struct jpip__comp_layout *cl = &ti->comp[lo];
    uint32_t s = g - cl->prec_base;
    uint8_t rr = 0;
    while (rr + 1 < cl->nres && cl->res[rr + 1].s_base <= s)
        rr++;
    *c = lo;
    *r = rr;
    *p = s - cl->res[rr].s_base;
}

/* Layout from ti->coding (already set). */
static int layout_build(struct jpip__tile_index *ti, const struct jpip__siz *siz, uint32_t t,
                        uint64_t max_packets, const struct jpip_allocator *a, struct jpip__err *err)
{
    ti->tile = t;
    jpip__tile_rect(siz, t, &ti->rect);
    ti->ncomp = siz->csiz;
    ti->nlayers = ti->coding.layers;
    uint64_t nres_total = 0;
    for (uint16_t c = 0; c < siz->csiz; c++)
        nres_total += ti->coding.tccp[c].nl + 1u;
    ti->comp = jpip__calloc(a, siz->csiz, sizeof *ti->comp);
    ti->res_all = jpip__calloc(a, (size_t)nres_total, sizeof *ti->res_all);
    if (!ti->comp || !ti->res_all)
        return jpip__errf(err, JPIP_ENOMEM, "out of memory for the layout of tile %u", t);
    uint64_t g = 0, k = 0;
    for (uint16_t c = 0; c < siz->csiz; c++) {
        struct jpip__comp_layout *cl = &ti->comp[c];
        const struct jpip__tccp *tc = &ti->coding.tccp[c];
        jpip__tilecomp_rect(siz, &ti->rect, c, &cl->rect);
        cl->nres = (uint8_t)(tc->nl + 1);
        cl->res = &ti->res_all[k];
        k += cl->nres;
        cl->prec_base = (uint32_t)g;
        uint64_t s = 0;
        for (unsigned r = 0; r < cl->nres; r++) {
            struct jpip__res_layout *rl = &cl->res[r];
            jpip__res_rect(&cl->rect, tc->nl, r, &rl->rect);
            jpip__prec_count(&rl->rect, tc->ppx[r], tc->ppy[r], &rl->npw, &rl->nph);
            rl->s_base = (uint32_t)s;
            s += (uint64_t)rl->npw * rl->nph;
            if (s * ti->nlayers > max_packets || g + s > UINT32_MAX)
                return jpip__errf(err, JPIP_ELIMIT,
                                  "tile %u has more packets than the limit of %llu", t,
                                  (unsigned long long)max_packets);
        }
        cl->nprec = (uint32_t)s;
        g += s;
        if (g * ti->nlayers > max_packets)
            return jpip__errf(err, JPIP_ELIMIT, "tile %u has more packets than the limit of %llu",
                              t, (unsigned long long)max_packets);
    }
    ti->nprec = (uint32_t)g;
    ti->npk = g * ti->nlayers;
    return JPIP_OK;
}

int jpip__tile_layout(struct jpip__tile_index *ti, const struct jpip__mainhdr *mh, uint32_t t,
                      const uint8_t *hdr, uint32_t hdr_len, const struct jpip_allocator *a,
                      struct jpip__err *err)
{
    memset(ti, 0, sizeof *ti);
    if (t >= mh->siz.ntiles)
        return jpip__errf(err, JPIP_EINVAL, "tile %u out of range (%u tiles)", t, mh->siz.ntiles);
    if (jpip__coding_copy(&ti->coding, &mh->cod, mh->siz.csiz, a) < 0)
        return jpip__errf(err, JPIP_ENOMEM, "out of memory");
    if (hdr_len)
        JPIP_TRY(jpip__tilehdr_apply(&ti->coding, &ti->has_tile_poc, &mh->siz, hdr, hdr_len, 0, 1,
                                     a, err));
    return layout_build(ti, &mh->siz, t, UINT64_MAX, a, err);
}

/* ---- Building the index from the codestream ---- */

struct walker {
    struct jpip__codestream *cs;
    struct jpip__tile_index *ti;
    struct jpip__err *err;
    const struct jpip_allocator *a;
    /* read window over the tile data */
    uint8_t *win;
    size_t win_cap, win_len;
    uint64_t win_start;
    uint64_t pos;  /* next in-band byte */
    uint64_t ppos; /* next packed-header byte */
    /* precinct states */
    struct jpip__prec_state **st;
    size_t *st_size;
    uint8_t *snap;
    size_t snap_cap;
    uint64_t live_bytes; /* precinct state currently allocated */
    /* PLT lengths */
    const uint32_t *plt;
    uint64_t nplt, iplt;
};

static int win_ensure(struct walker *w, uint64_t pos, size_t need)
{
    uint64_t avail_total = w->ti->data_len - pos;
    if (need > avail_total)
        need = (size_t)avail_total;
    if (pos >= w->win_start && pos + need <= w->win_start + w->win_len)
        return JPIP_OK;
    size_t want = need > WINDOW_BYTES ? need : WINDOW_BYTES;
    if (want > avail_total)
        want = (size_t)avail_total;
    if (want > w->win_cap) {
        uint8_t *nb = jpip__realloc(w->a, w->win, 0, want);
        if (!nb)
            return jpip__errf(w->err, JPIP_ENOMEM, "out of memory for a read window");
        w->win = nb;
        w->win_cap = want;
    }
    w->win_start = pos;
    w->win_len = 0;
    int rc = jpip__cs_read_tile_data(w->cs, w->ti->tile, pos, w->win, want);
    if (rc < 0) {
        *w->err = w->cs->err;
        return rc;
    }
    w->win_len = want;
    return JPIP_OK;
}

static struct jpip__prec_state *prec_state(struct walker *w, uint32_t g, int *rc)
{
    *rc = JPIP_ENOMEM;
    if (w->st[g])
        return w->st[g];
    const struct jpip__tile_index *ti = w->ti;
    const struct jpip__siz *siz = &w->cs->mh.siz;
    uint16_t c;
    uint8_t r;
    uint32_t p;
    jpip__prec_locate(ti, g, &c, &r, &p);
    const struct jpip__tccp *tc = &ti->coding.tccp[c];
    const struct jpip__res_layout *rl = &ti->comp[c].res[r];
    uint32_t px = p % rl->npw, py = p / rl->npw;
    uint32_t cw[3] = {0}, ch[3] = {0};
    unsigned nb = r == 0 ? 1 : 3;
    for (unsigned b = 0; b < nb; b++) {
        struct jpip__rect br;
        struct jpip__cblk_span sp;
        jpip__band_rect(&ti->comp[c].rect, tc->nl, r, r == 0 ? 0 : b + 1, &br);
        if (br.x1 <= br.x0 || br.y1 <= br.y0)
            continue;
        jpip__prec_cblks(&rl->rect, &br, r, tc->ppx[r], tc->ppy[r], tc->xcb, tc->ycb, px, py, &sp);
        cw[b] = sp.cw;
        ch[b] = sp.ch;
    }
    (void)siz;
    size_t sz = jpip__prec_state_size(nb, cw, ch);
    if (sz == 0) {
        *rc = jpip__errf(w->err, JPIP_ELIMIT,
                         "tile %u: precinct %u of component %u, resolution %u has more than %u "
                         "code-blocks",
                         ti->tile, p, c, r, JPIP_MAX_PRECINCT_CBLKS);
        return NULL;
    }
    if (w->live_bytes + sz > MAX_LIVE_STATE_BYTES) {
        *rc = jpip__errf(w->err, JPIP_ELIMIT,
                         "tile %u: packet-header state would exceed %u MiB (precincts with "
                         "too many code-blocks)",
                         ti->tile, (unsigned)(MAX_LIVE_STATE_BYTES >> 20));
        return NULL;
    }
    void *mem = jpip__alloc(w->a, sz);
    if (!mem)
        return NULL;
    w->st[g] = jpip__prec_state_init(mem, nb, cw, ch, tc->cblk_style);
    w->st_size[g] = sz;
    w->live_bytes += sz;
    return w->st[g];
}

/* An upper bound of a packet header's size, so a window that large never runs short. */
static uint64_t header_bound(const struct jpip__prec_state *st, unsigned layer)
{
    return 64 + (uint64_t)st->ncblk * (800 + (layer + 64) / 7);
}

static int on_packet_walk(void *user, uint32_t g, uint16_t l)
{
    struct walker *w = user;
    struct jpip__tile_index *ti = w->ti;
    uint64_t k = (uint64_t)g * ti->nlayers + l;
    uint64_t start = w->pos;
    uint8_t scod = ti->coding.scod;
    int packed = ti->packed != NULL;
    /* SOP (A.8.1): optional even when allowed. */
    if ((scod & 2) && ti->data_len - w->pos >= 6) {
        JPIP_TRY(win_ensure(w, w->pos, 6));
        const uint8_t *q = w->win + (w->pos - w->win_start);
        if (jpip__be16(q) == JPIP_MK_SOP)
            w->pos += 6;
    }
    size_t hlen;
    uint64_t blen;
    /* An empty packet (first header bit 0) reads no code-block state: while a precinct has
     * only had empty packets, it needs none, however many code-blocks it claims. */
    struct jpip__prec_state *st = w->st[g];
    if (!st) {
        int empty = 0;
        if (packed)
            empty = w->ppos < ti->packed_len && !(ti->packed[w->ppos] & 0x80);
        else if (w->pos < ti->data_len) {
            JPIP_TRY(win_ensure(w, w->pos, 1));
            empty = !(w->win[w->pos - w->win_start] & 0x80);
        }
        if (empty) {
            if (packed) {
                ti->ph_off[k] = w->ppos;
                w->ppos += 1;
            } else {
                w->pos += 1;
            }
            hlen = 1;
            blen = 0;
            goto eph;
        }
        int prc;
        st = prec_state(w, g, &prc);
        if (!st)
            return prc == JPIP_ELIMIT
                       ? JPIP_ELIMIT
                       : jpip__errf(w->err, JPIP_ENOMEM, "out of memory for precinct state");
    }
    if (packed) {
        uint64_t avail = ti->packed_len - w->ppos;
        int rc = jpip__packet_header_decode(st, l, ti->packed + w->ppos, (size_t)avail, &hlen,
                                            &blen, w->ppos, w->err);
        if (rc == JPIP_AGAIN)
            return jpip__errf(w->err, JPIP_EMALFORMED,
                              "tile %u: packed packet headers end in the middle of a header "
                              "(packet %u/%u)",
                              ti->tile, g, l);
        JPIP_TRY(rc);
        ti->ph_off[k] = w->ppos;
        w->ppos += hlen;
    } else {
        size_t want = 64; /* refill only when fewer bytes remain; grown on JPIP_AGAIN */
        for (;;) {
            JPIP_TRY(win_ensure(w, w->pos, want));
            size_t off_in = (size_t)(w->pos - w->win_start);
            size_t avail = w->win_len - off_in;
            int at_end = w->pos + avail >= ti->data_len;
            int snap = !at_end && avail < header_bound(st, l);
            if (snap) {
                if (w->st_size[g] > w->snap_cap) {
                    uint8_t *ns = jpip__realloc(w->a, w->snap, 0, w->st_size[g]);
                    if (!ns)
                        return jpip__errf(w->err, JPIP_ENOMEM, "out of memory");
                    w->snap = ns;
                    w->snap_cap = w->st_size[g];
                }
                memcpy(w->snap, st, w->st_size[g]);
            }
            /* No window at all when the tile's data is exhausted: decode from nothing. */
            const uint8_t *hp = w->win ? w->win + off_in : (const uint8_t *)"";
            int rc = jpip__packet_header_decode(st, l, hp, avail, &hlen, &blen, w->pos, w->err);
            if (rc != JPIP_AGAIN) {
                JPIP_TRY(rc);
                break;
            }
            if (at_end || !snap)
                return jpip__errf(w->err, JPIP_EMALFORMED,
                                  "tile %u: packet header at tile data offset %llu runs past "
                                  "the end of the tile's data (truncated codestream?)",
                                  ti->tile, (unsigned long long)w->pos);
            /* Restore the state, fix up the internal pointers, retry with a larger window. */
            memcpy(st, w->snap, w->st_size[g]); /* its pointers point into st itself */
            want = avail * 2 + 64;
        }
        w->pos += hlen;
    }
eph:
    /* EPH (A.8.2): when the coding style says so, every packet header ends with one
     * (OpenJPEG refuses a packet without it). */
    if (scod & 4) {
        int ok = 0;
        if (packed) {
            ok = ti->packed_len - w->ppos >= 2 && jpip__be16(ti->packed + w->ppos) == JPIP_MK_EPH;
            if (ok)
                w->ppos += 2;
        } else if (ti->data_len - w->pos >= 2) {
            JPIP_TRY(win_ensure(w, w->pos, 2));
            ok = jpip__be16(w->win + (w->pos - w->win_start)) == JPIP_MK_EPH;
            if (ok)
                w->pos += 2;
        }
        if (!ok)
            return jpip__errf(w->err, JPIP_EMALFORMED,
                              "tile %u: no EPH marker after the packet header at %s offset %llu",
                              ti->tile, packed ? "packed-header" : "tile data",
                              (unsigned long long)(packed ? w->ppos : w->pos));
    }
    if (packed)
        ti->ph_len[k] = (uint32_t)(w->ppos - ti->ph_off[k]);
    /* A precinct's last layer comes last in every order: its state is no longer needed. */
    if (l + 1 == ti->nlayers && w->st[g]) {
        w->live_bytes -= w->st_size[g];
        jpip__free(w->a, w->st[g]);
        w->st[g] = NULL;
    }
    uint64_t hl = w->pos - start;
    if (blen > ti->data_len - w->pos)
        return jpip__errf(w->err, JPIP_EMALFORMED,
                          "tile %u: packet body of %llu bytes at tile data offset %llu runs "
                          "past the end of the tile's data (%llu bytes)",
                          ti->tile, (unsigned long long)blen, (unsigned long long)w->pos,
                          (unsigned long long)ti->data_len);
    w->pos += blen;
    if (w->pos - start > UINT32_MAX)
        return jpip__errf(w->err, JPIP_EUNSUPPORTED, "tile %u: packet larger than 4 GiB", ti->tile);
    if (start > JPIP_PACKET_MAX_OFF)
        return jpip__errf(w->err, JPIP_EUNSUPPORTED, "tile %u: tile data beyond 2^48 bytes",
                          ti->tile);
    jpip__pk_set(&ti->pk[k], start, (uint32_t)(w->pos - start), hl);
    ti->packets_present++;
    return 0;
}

static int on_packet_plt(void *user, uint32_t g, uint16_t l)
{
    struct walker *w = user;
    struct jpip__tile_index *ti = w->ti;
    if (w->iplt >= w->nplt)
        return JPIP_EMALFORMED;
    uint64_t k = (uint64_t)g * ti->nlayers + l;
    uint32_t len = w->plt[w->iplt++];
    if (len > ti->data_len - w->pos)
        return JPIP_EMALFORMED;
    if (w->pos > JPIP_PACKET_MAX_OFF)
        return JPIP_EUNSUPPORTED;
    jpip__pk_set(&ti->pk[k], w->pos, len, 0);
    w->pos += len;
    ti->packets_present++;
    return 0;
}

/* Decode the lengths of PLT bodies (Iplt: 7 bits a byte, MSB first, bit 7 = more). */
static int plt_decode(const uint8_t *d, size_t n, uint32_t **out, uint64_t *count,
                      const struct jpip_allocator *a)
{
    uint64_t cnt = 0;
    for (size_t i = 0; i < n; i++)
        if (!(d[i] & 0x80))
            cnt++;
    uint32_t *v = jpip__calloc(a, (size_t)(cnt ? cnt : 1), sizeof *v);
    if (!v)
        return JPIP_ENOMEM;
    uint64_t acc = 0, k = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 7) | (d[i] & 0x7F);
        if (acc > UINT32_MAX) {
            jpip__free(a, v);
            return JPIP_EMALFORMED;
        }
        if (!(d[i] & 0x80)) {
            v[k++] = (uint32_t)acc;
            acc = 0;
        }
    }
    *out = v;
    *count = cnt;
    return JPIP_OK;
}

struct zseg {
    uint64_t key;
    uint32_t seq;
    uint32_t len;
    int is_ppt;
    const uint8_t *ptr;
};

static int cmp_zseg(const void *x, const void *y)
{
    const struct zseg *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int build_index(struct jpip__codestream *cs, uint32_t t, struct jpip__tile_index *ti)
{
    const struct jpip_allocator *a = cs->alloc;
    struct jpip__err *err = &cs->err;
    const struct jpip__mainhdr *mh = &cs->mh;
    uint32_t first = cs->tile_tp[t], ntp = cs->tile_ntp[t];
    memset(ti, 0, sizeof *ti);
    ti->tile = t;
    if (jpip__coding_copy(&ti->coding, &mh->cod, mh->siz.csiz, a) < 0)
        return jpip__errf(err, JPIP_ENOMEM, "out of memory");
    /* Tile-part headers: coding parameters, the header data-bin, PLT and PPT bodies. */
    uint64_t hdr_total = 0;
    for (uint32_t i = 0; i < ntp; i++)
        hdr_total += cs->tp[first + i].hdr_len;
    JPIP_FAIL_IF(hdr_total > cs->limits.max_header_bytes, err, JPIP_ELIMIT,
                 "tile %u headers exceed the limit", t);
    uint8_t *raw = jpip__alloc(a, (size_t)hdr_total);
    ti->hdr = jpip__alloc(a, (size_t)hdr_total);
    uint8_t *plt = jpip__alloc(a, (size_t)hdr_total);
    uint8_t *ppt = jpip__alloc(a, (size_t)hdr_total);
    int rc = JPIP_OK;
    size_t plt_len = 0, ppt_len = 0;
    if (!raw || !ti->hdr || !plt || !ppt) {
        rc = jpip__errf(err, JPIP_ENOMEM, "out of memory for tile %u headers", t);
        goto fail;
    }
    /* PLT segments are ordered by Zplt within their tile-part, PPT segments by Zppt within
     * the tile (A.7.3, A.7.5); gather them first, then concatenate in that order. */
    struct zseg *zs = jpip__calloc(a, (size_t)(hdr_total / 5 + 1), sizeof *zs);
    uint32_t nzs = 0;
    if (!zs) {
        rc = jpip__errf(err, JPIP_ENOMEM, "out of memory for tile %u headers", t);
        goto fail;
    }
    uint64_t off = 0;
    for (uint32_t i = 0; i < ntp && rc >= 0; i++) {
        const struct jpip__tilepart *tp = &cs->tp[first + i];
        ti->tp_header_bytes += tp->data_off - tp->sot_off;
        if ((rc = jpip__src_read(cs->src, tp->hdr_off, raw + off, tp->hdr_len, err)) < 0)
            break;
        rc = jpip__tilehdr_apply(&ti->coding, &ti->has_tile_poc, &mh->siz, raw + off, tp->hdr_len,
                                 tp->hdr_off, i == 0, a, err);
        if (rc < 0)
            break;
        struct jpip__marker_list ml = {0};
        rc = jpip__markers_split(&ml, raw + off, tp->hdr_len, tp->hdr_off, a, err);
        for (uint32_t m = 0; rc >= 0 && m < ml.n; m++) {
            const uint8_t *seg = raw + off + ml.v[m].off;
            uint32_t sl = ml.v[m].len;
            uint16_t code = ml.v[m].code;
            if (code == JPIP_MK_PLT || code == JPIP_MK_PPT) {
                if (sl < 5) {
                    rc = jpip__errf(err, JPIP_EMALFORMED, "%s at offset %llu is too short",
                                    code == JPIP_MK_PLT ? "PLT" : "PPT",
                                    (unsigned long long)(tp->hdr_off + ml.v[m].off));
                    break;
                }
                struct zseg *z = &zs[nzs++];
                z->is_ppt = code == JPIP_MK_PPT;
                /* PLT sorts within its tile-part, PPT within the tile. */
                z->key = z->is_ppt ? ((uint64_t)1 << 40) | seg[4] : ((uint64_t)i << 8) | seg[4];
                z->seq = nzs;
                z->ptr = seg + 5;
                z->len = sl - 5;
            } else {
                memcpy(ti->hdr + ti->hdr_len, seg, sl);
                ti->hdr_len += sl;
            }
        }
        jpip__markers_free(&ml, a);
        off += tp->hdr_len;
        ti->data_len += tp->data_len;
    }
    qsort(zs, nzs, sizeof *zs, cmp_zseg);
    for (uint32_t i = 0; i < nzs; i++) {
        if (zs[i].is_ppt) {
            memcpy(ppt + ppt_len, zs[i].ptr, zs[i].len);
            ppt_len += zs[i].len;
        } else {
            memcpy(plt + plt_len, zs[i].ptr, zs[i].len);
            plt_len += zs[i].len;
        }
    }
    jpip__free(a, zs);
    if (rc < 0)
        goto fail;
    if ((rc = layout_build(ti, &mh->siz, t, cs->limits.max_packets, a, err)) < 0)
        goto fail;
    /* Every packet takes at least one byte (in the tile's data, or in packed headers), so a
     * tile claiming more packets than it has bytes is malformed; refuse it before sizing
     * anything by the claim. (A POC list may leave packets out, so it is exempt.) */
    uint64_t packed_total = ppt_len;
    if (mh->has_ppm)
        for (uint32_t i = 0; i < ntp; i++)
            packed_total += cs->ppm_chunk_len[cs->tp[first + i].seq];
    if (ti->coding.npoc == 0 && ti->npk > ti->data_len + packed_total) {
        rc = jpip__errf(err, JPIP_EMALFORMED,
                        "tile %u claims %llu packets but holds only %llu bytes of packet data", t,
                        (unsigned long long)ti->npk,
                        (unsigned long long)(ti->data_len + packed_total));
        goto fail;
    }
    ti->pk = jpip__alloc(a, (size_t)(ti->npk ? ti->npk : 1) * sizeof *ti->pk);
    if (!ti->pk) {
        rc = jpip__errf(err, JPIP_ENOMEM, "out of memory for %llu packets",
                        (unsigned long long)ti->npk);
        goto fail;
    }
    for (uint64_t k = 0; k < ti->npk; k++) {
        jpip__pk_clear(&ti->pk[k]);
    }
    /* Packed headers. */
    if (mh->has_ppm) {
        uint64_t total = 0;
        for (uint32_t i = 0; i < ntp; i++)
            total += cs->ppm_chunk_len[cs->tp[first + i].seq];
        ti->packed = jpip__alloc(a, (size_t)total);
        if (!ti->packed) {
            rc = jpip__errf(err, JPIP_ENOMEM, "out of memory");
            goto fail;
        }
        for (uint32_t i = 0; i < ntp; i++) {
            uint32_t s = cs->tp[first + i].seq;
            memcpy(ti->packed + ti->packed_len, cs->ppm + cs->ppm_chunk_off[s],
                   cs->ppm_chunk_len[s]);
            ti->packed_len += cs->ppm_chunk_len[s];
        }
    } else if (ppt_len) {
        ti->packed = ppt;
        ti->packed_len = ppt_len;
        ppt = NULL;
    }
    if (ti->packed) {
        ti->ph_off = jpip__calloc(a, (size_t)(ti->npk ? ti->npk : 1), sizeof *ti->ph_off);
        ti->ph_len = jpip__calloc(a, (size_t)(ti->npk ? ti->npk : 1), sizeof *ti->ph_len);
        if (!ti->ph_off || !ti->ph_len) {
            rc = jpip__errf(err, JPIP_ENOMEM, "out of memory");
            goto fail;
        }
    }
    /* A saved record replaces the walk when it fits this tile exactly. */
    if (cs->saved_rec && cs->saved_rec[t]) {
        struct jpip__err ignored;
        if (jpip__index_record_apply(cs->saved_rec[t], cs->saved_len[t], ti, &ignored) == JPIP_OK) {
            cs->tiles_loaded++;
            goto done;
        }
        cs->tiles_rejected++;
    }
    struct walker w = {0};
    w.cs = cs;
    w.ti = ti;
    w.err = err;
    w.a = a;
    /* PLT: trust it when it accounts for every packet and byte of the tile. */
    if (plt_len && !ti->packed) {
        uint32_t *lens = NULL;
        uint64_t nl = 0;
        if (plt_decode(plt, plt_len, &lens, &nl, a) == JPIP_OK) {
            w.plt = lens;
            w.nplt = nl;
            int prc = jpip__progression_walk(ti, &mh->siz, -1, on_packet_plt, &w, a);
            jpip__free(a, lens);
            if (prc == 0 && w.iplt == w.nplt && w.pos == ti->data_len) {
                ti->from_plt = 1;
                cs->tiles_walked++;
                goto done;
            }
            if (prc == JPIP_ENOMEM) {
                rc = jpip__errf(err, JPIP_ENOMEM, "out of memory");
                goto fail;
            }
        }
        /* Inconsistent PLT: fall back to the packet headers. */
        for (uint64_t k = 0; k < ti->npk; k++)
            jpip__pk_clear(&ti->pk[k]);
        ti->packets_present = 0;
        w.pos = 0;
        w.iplt = w.nplt = 0;
        w.plt = NULL;
    }
    w.st = jpip__calloc(a, ti->nprec ? ti->nprec : 1, sizeof *w.st);
    w.st_size = jpip__calloc(a, ti->nprec ? ti->nprec : 1, sizeof *w.st_size);
    if (!w.st || !w.st_size) {
        rc = jpip__errf(err, JPIP_ENOMEM, "out of memory");
    } else {
        rc = jpip__progression_walk(ti, &mh->siz, -1, on_packet_walk, &w, a);
        if (rc == JPIP_ENOMEM && err->code != JPIP_ENOMEM)
            jpip__errf(err, JPIP_ENOMEM, "out of memory walking tile %u", t);
    }
    if (w.st)
        for (uint32_t g = 0; g < ti->nprec; g++)
            jpip__free(a, w.st[g]);
    jpip__free(a, w.st);
    jpip__free(a, w.st_size);
    jpip__free(a, w.snap);
    jpip__free(a, w.win);
    if (rc < 0)
        goto fail;
    cs->tiles_walked++;
done:
    jpip__free(a, raw);
    jpip__free(a, plt);
    jpip__free(a, ppt);
    return JPIP_OK;
fail:
    jpip__free(a, raw);
    jpip__free(a, plt);
    jpip__free(a, ppt);
    jpip__tile_index_free(ti, a);
    return rc < 0 ? rc : JPIP_EMALFORMED;
}

int jpip__cs_tile(struct jpip__codestream *cs, uint32_t t, struct jpip__tile_index **out)
{
    JPIP_FAIL_IF(t >= cs->mh.siz.ntiles, &cs->err, JPIP_EINVAL, "tile %u out of range (%u tiles)",
                 t, cs->mh.siz.ntiles);
    if (cs->tile_status[t] == 1) {
        *out = cs->tiles[t];
        return JPIP_OK;
    }
    if (cs->tile_status[t] < 0)
        return jpip__errf(&cs->err, cs->tile_status[t], "tile %u could not be indexed", t);
    struct jpip__tile_index *ti = jpip__calloc(cs->alloc, 1, sizeof *ti);
    if (!ti)
        return jpip__errf(&cs->err, JPIP_ENOMEM, "out of memory");
    int rc = build_index(cs, t, ti);
    if (rc < 0) {
        jpip__free(cs->alloc, ti);
        cs->tile_status[t] = rc;
        return rc;
    }
    cs->tiles[t] = ti;
    cs->tile_status[t] = 1;
    *out = ti;
    return JPIP_OK;
}
