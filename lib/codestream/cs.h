/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The coding parameters of a JPEG 2000 codestream (15444-1 Annex A): SIZ, COD/COC, POC and the
 * positions of every marker segment of a header. Parsed from header bytes in memory, so the
 * same code serves the server (bytes read from a file) and the client (bytes rebuilt from
 * main-header and tile-header data-bins). No I/O here.
 */
#ifndef JPIP_CODESTREAM_CS_H
#define JPIP_CODESTREAM_CS_H

#include <jpip/jpip.h>

#include "common/status.h"

/* Marker codes (15444-1 Table A.2, 15444-15 for CAP/CPF). */
enum {
    JPIP_MK_SOC = 0xFF4F,
    JPIP_MK_CAP = 0xFF50,
    JPIP_MK_SIZ = 0xFF51,
    JPIP_MK_COD = 0xFF52,
    JPIP_MK_COC = 0xFF53,
    JPIP_MK_TLM = 0xFF55,
    JPIP_MK_PLM = 0xFF57,
    JPIP_MK_PLT = 0xFF58,
    JPIP_MK_CPF = 0xFF59,
    JPIP_MK_QCD = 0xFF5C,
    JPIP_MK_QCC = 0xFF5D,
    JPIP_MK_RGN = 0xFF5E,
    JPIP_MK_POC = 0xFF5F,
    JPIP_MK_PPM = 0xFF60,
    JPIP_MK_PPT = 0xFF61,
    JPIP_MK_CRG = 0xFF63,
    JPIP_MK_COM = 0xFF64,
    JPIP_MK_SOT = 0xFF90,
    JPIP_MK_SOP = 0xFF91,
    JPIP_MK_EPH = 0xFF92,
    JPIP_MK_SOD = 0xFF93,
    JPIP_MK_EOC = 0xFFD9
};

/* Progression orders, as coded in COD/POC (15444-1 Table A.16). */
enum { JPIP_LRCP = 0, JPIP_RLCP = 1, JPIP_RPCL = 2, JPIP_PCRL = 3, JPIP_CPRL = 4 };

/* Code-block style bits (15444-1 Table A.19; 15444-15 for HT). */
enum {
    JPIP_CBLK_BYPASS = 0x01,
    JPIP_CBLK_RESET = 0x02,
    JPIP_CBLK_TERMALL = 0x04,
    JPIP_CBLK_VCAUSAL = 0x08,
    JPIP_CBLK_PTERM = 0x10,
    JPIP_CBLK_SEGSYM = 0x20,
    JPIP_CBLK_HT = 0x40,
    JPIP_CBLK_HTMIXED = 0x80
};

#define JPIP_MAX_COMPONENTS 16384
#define JPIP_MAX_LEVELS 32 /* decomposition levels; resolutions = levels + 1 */

struct jpip__comp_siz {
    uint8_t depth; /* bit depth, 1..38 */
    uint8_t sgnd;
    uint8_t dx, dy; /* XRsiz, YRsiz, 1..255 */
};

struct jpip__siz {
    uint16_t rsiz;
    uint32_t xsiz, ysiz, xosiz, yosiz, xtsiz, ytsiz, xtosiz, ytosiz;
    uint16_t csiz;
    struct jpip__comp_siz *comp; /* csiz entries */
    uint32_t ntx, nty, ntiles;
};

/* Tile-component coding style: SPcod / SPcoc (15444-1 Table A.15). */
struct jpip__tccp {
    uint8_t nl;         /* decomposition levels */
    uint8_t xcb, ycb;   /* code-block size exponents (the coded value + 2) */
    uint8_t cblk_style; /* JPIP_CBLK_* */
    uint8_t wavelet;    /* 0 = 9/7 irreversible, 1 = 5/3 reversible */
    uint8_t user_prec;  /* precinct sizes were signalled (Scod/Scoc bit 0) */
    uint8_t ppx[JPIP_MAX_LEVELS + 1], ppy[JPIP_MAX_LEVELS + 1]; /* per resolution; 15 default */
};

/* One progression order change (15444-1 Table A.32). Ranges are half-open. */
struct jpip__poc {
    uint8_t rs, re;
    uint16_t cs, ce;
    uint16_t lye;
    uint8_t prog;
};

/* What COD/COC/POC define for a tile (or, in the main header, the defaults). */
struct jpip__coding {
    uint8_t scod; /* bit 0 precincts, bit 1 SOP may be used, bit 2 EPH used */
    uint8_t prog;
    uint16_t layers;
    uint8_t mct;
    uint16_t npoc;
    struct jpip__poc *poc;   /* npoc entries, or NULL */
    struct jpip__tccp *tccp; /* csiz entries */
    uint8_t *coc_set;        /* csiz flags: a COC at this level set this component */
};

/* One marker segment inside a header buffer. off is relative to the buffer start and points
 * at the marker code; len counts the marker code, the length field and the body. */
struct jpip__marker {
    uint16_t code;
    uint32_t off;
    uint32_t len;
};

struct jpip__marker_list {
    struct jpip__marker *v;
    uint32_t n, cap;
};

/* Main header (SOC up to the first SOT). */
struct jpip__mainhdr {
    struct jpip__siz siz;
    struct jpip__coding cod; /* main COD with main COC applied per component */
    struct jpip__marker_list markers;
    uint8_t has_cod, has_qcd, has_ppm, has_tlm, has_plm, has_cap;
    uint16_t qcd_guard_bits; /* informational: Sqcd >> 5 */
    uint8_t qcd_style;       /* Sqcd & 0x1f */
};

/* Parse a main header held in buf[0..len) (starting with SOC, ending before the first SOT,
 * or at the end of buf). base_off is the buffer's offset in the codestream, used only to
 * name byte offsets in error messages. Every segment is checked against its length rules. */
int jpip__mainhdr_parse(struct jpip__mainhdr *mh, const uint8_t *buf, size_t len, uint64_t base_off,
                        const struct jpip_allocator *a, struct jpip__err *err);
void jpip__mainhdr_free(struct jpip__mainhdr *mh, const struct jpip_allocator *a);

/* Copy coding parameters (deep). dst must be zeroed or freed before. */
int jpip__coding_copy(struct jpip__coding *dst, const struct jpip__coding *src, uint16_t csiz,
                      const struct jpip_allocator *a);
void jpip__coding_free(struct jpip__coding *c, const struct jpip_allocator *a);

/* Split the marker segments of a tile-part header (the bytes between the SOT segment and SOD,
 * exclusive) into list, appending. */
int jpip__markers_split(struct jpip__marker_list *list, const uint8_t *buf, size_t len,
                        uint64_t base_off, const struct jpip_allocator *a, struct jpip__err *err);
void jpip__markers_free(struct jpip__marker_list *list, const struct jpip_allocator *a);

/* Apply the COD/COC/POC segments of one tile-part header to tile coding parameters, which the
 * caller initialised as a copy of the main header's. first_tp says whether this is the first
 * tile-part of the tile (COD/COC are only allowed there; later ones are an error). Tile COD
 * overrides main COC; tile COC overrides tile COD (15444-1 A.6.1). The first tile POC
 * replaces the main header's POC list; later ones append. */
int jpip__tilehdr_apply(struct jpip__coding *tile, int *tile_has_poc, const struct jpip__siz *siz,
                        const uint8_t *buf, size_t len, uint64_t base_off, int first_tp,
                        const struct jpip_allocator *a, struct jpip__err *err);

/* Parse an SOT segment body at p (10 bytes after the marker code: Lsot..TNsot). */
struct jpip__sot {
    uint16_t isot;
    uint32_t psot;
    uint8_t tpsot, tnsot;
};
int jpip__sot_parse(struct jpip__sot *sot, const uint8_t *p, size_t len, uint64_t off,
                    struct jpip__err *err);

#endif
