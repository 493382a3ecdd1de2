/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One codestream of a target: its main header (in memory), the list of its tile-parts found
 * by walking the SOT chain, and per tile a lazily built packet index. Reads go through a
 * jpip_source presenting the codestream as bytes [0, len).
 */
#ifndef JPIP_CODESTREAM_CODESTREAM_H
#define JPIP_CODESTREAM_CODESTREAM_H

#include "codestream/cs.h"
#include "codestream/geometry.h"

struct jpip__tilepart {
    uint64_t sot_off;  /* offset of the SOT marker */
    uint64_t hdr_off;  /* first byte after the SOT segment */
    uint32_t hdr_len;  /* marker segments between the SOT segment and SOD */
    uint64_t data_off; /* first byte after SOD */
    uint64_t data_len;
    uint16_t tile;
    uint8_t tpsot, tnsot;
    uint32_t seq; /* position among all tile-parts in codestream order */
};

/* One packet, at index g * L + l of its tile (g: precinct index within the tile, l: layer),
 * in 12 bytes. Its offset is a logical offset in the tile's data (the bodies of its
 * tile-parts, concatenated in TPsot order), 48 bits; all ones when the codestream holds no
 * such packet. len counts every in-band byte (SOP, header unless packed, EPH unless packed,
 * body); hlen the in-band bytes before the body, saturated at 65535 (0 with PLT, where headers
 * were not parsed). Use the accessors below. */
struct jpip__packet {
    uint32_t off_lo;
    uint16_t off_hi;
    uint16_t hlen;
    uint32_t len;
};
#define JPIP_PACKET_ABSENT UINT64_MAX
#define JPIP_PACKET_MAX_OFF ((UINT64_C(1) << 48) - 2)

static inline uint64_t jpip__pk_off(const struct jpip__packet *p)
{
    if (p->off_hi == 0xFFFF && p->off_lo == 0xFFFFFFFFu)
        return JPIP_PACKET_ABSENT;
    return ((uint64_t)p->off_hi << 32) | p->off_lo;
}
static inline int jpip__pk_present(const struct jpip__packet *p)
{
    return !(p->off_hi == 0xFFFF && p->off_lo == 0xFFFFFFFFu);
}
static inline void jpip__pk_set(struct jpip__packet *p, uint64_t off, uint32_t len, uint64_t hlen)
{
    p->off_lo = (uint32_t)off;
    p->off_hi = (uint16_t)(off >> 32);
    p->len = len;
    p->hlen = (uint16_t)(hlen > 0xFFFF ? 0xFFFF : hlen);
}
static inline void jpip__pk_clear(struct jpip__packet *p)
{
    p->off_lo = 0xFFFFFFFFu;
    p->off_hi = 0xFFFF;
    p->len = 0;
    p->hlen = 0;
}

struct jpip__res_layout {
    struct jpip__rect rect;
    uint32_t npw, nph;
    uint32_t s_base; /* sequence number of its first precinct within the tile-component */
};

struct jpip__comp_layout {
    struct jpip__rect rect;
    uint8_t nres;
    uint32_t prec_base; /* index of the component's first precinct within the tile */
    uint32_t nprec;
    struct jpip__res_layout *res; /* nres entries */
};

struct jpip__tile_index {
    uint32_t tile;
    struct jpip__rect rect;
    struct jpip__coding coding; /* tile coding parameters (main + tile headers) */
    int has_tile_poc;
    uint16_t ncomp, nlayers;
    struct jpip__comp_layout *comp;
    struct jpip__res_layout *res_all;
    uint32_t nprec;
    uint64_t npk; /* nprec * nlayers */
    struct jpip__packet *pk;
    uint64_t *ph_off; /* packed headers: offset in packed[], per packet, or NULL */
    uint32_t *ph_len;
    uint8_t *packed; /* the tile's packed packet headers (PPM/PPT), or NULL */
    uint64_t packed_len;
    uint64_t data_len; /* logical tile data length */
    uint64_t packets_present;
    uint8_t *hdr; /* tile header data-bin: tile-part header segments of all
                     tile-parts, without PLT and PPT */
    uint32_t hdr_len;
    uint64_t tp_header_bytes; /* SOT..SOD of all tile-parts */
    uint8_t from_plt;
};

struct jpip__cs_limits {
    uint64_t max_header_bytes;
    uint64_t max_packets;
};

struct jpip__codestream {
    const struct jpip_source *src; /* the codestream's bytes, [0, len) */
    uint64_t len;
    const struct jpip_allocator *alloc;
    struct jpip__cs_limits limits;
    uint8_t *mh_buf; /* SOC up to the first SOT */
    uint32_t mh_len;
    struct jpip__mainhdr mh;
    struct jpip__tilepart *tp; /* sorted by (tile, tpsot) */
    uint32_t ntp;
    uint32_t *tile_tp; /* per tile: index of its first tile-part in tp */
    uint16_t *tile_ntp;
    struct jpip__tile_index **tiles; /* lazily built */
    int *tile_status;                /* 0 not built, 1 built, <0 failed */
    uint8_t *ppm;                    /* concatenated Ippm, if PPM */
    uint64_t ppm_len;
    uint64_t *ppm_chunk_off; /* per tile-part in codestream order (seq) */
    uint32_t *ppm_chunk_len;
    uint8_t has_ppt, has_plt, has_tile_poc;
    struct jpip__err err;
    /* Packet index records saved by an earlier run (index_serial.h), per tile a whole record
     * in a buffer the target owns, or NULL; a tile with one is checked against it instead of
     * walked. Counts of tiles indexed each way. */
    const uint8_t **saved_rec;
    size_t *saved_len;
    uint64_t tiles_walked, tiles_loaded, tiles_rejected;
};

/* Parse the main header and walk the tile-parts. src is borrowed and must outlive cs. */
int jpip__cs_open(struct jpip__codestream *cs, const struct jpip_source *src,
                  const struct jpip__cs_limits *limits, const struct jpip_allocator *a);
void jpip__cs_close(struct jpip__codestream *cs);

/* The packet index of tile t, built on first use. Errors are remembered per tile. */
int jpip__cs_tile(struct jpip__codestream *cs, uint32_t t, struct jpip__tile_index **out);

/* Copy len bytes of tile data at logical offset off (crossing tile-parts as needed). */
int jpip__cs_read_tile_data(struct jpip__codestream *cs, uint32_t t, uint64_t off, void *dst,
                            size_t len);

/* Build a tile's layout and coding (no packet positions); used by the index and by clients
 * that hold only headers. hdr bytes are the tile's header segments (may be NULL). */
int jpip__tile_layout(struct jpip__tile_index *ti, const struct jpip__mainhdr *mh, uint32_t t,
                      const uint8_t *hdr, uint32_t hdr_len, const struct jpip_allocator *a,
                      struct jpip__err *err);
void jpip__tile_index_free(struct jpip__tile_index *ti, const struct jpip_allocator *a);

/* Precinct index g within the tile from (c, r, px, py) and back. */
static inline uint32_t jpip__prec_g(const struct jpip__tile_index *ti, uint16_t c, uint8_t r,
                                    uint32_t p)
{
    return ti->comp[c].prec_base + ti->comp[c].res[r].s_base + p;
}
void jpip__prec_locate(const struct jpip__tile_index *ti, uint32_t g, uint16_t *c, uint8_t *r,
                       uint32_t *p);

#endif
