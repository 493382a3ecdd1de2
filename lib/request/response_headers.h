/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The JPIP-* response headers (15444-9 Annex D; jpip-notes §3.2): the server formats them
 * from a struct jpip__resp_info, the client parses each received header into one. Parsing is
 * tolerant (spaces and tabs around tokens, unknown JPIP-cnew parameters and unknown JPIP-*
 * headers are ignored, header names compare case-insensitively); formatting is strict
 * (values holding control bytes are refused, so nothing can inject a header line).
 */
#ifndef JPIP_REQUEST_RESPONSE_HEADERS_H
#define JPIP_REQUEST_RESPONSE_HEADERS_H

#include "request/field_parse.h"

enum jpip__resp_header {
    JPIP__H_TID,
    JPIP__H_CNEW,
    JPIP__H_QID,
    JPIP__H_FSIZ,
    JPIP__H_ROFF,
    JPIP__H_RSIZ,
    JPIP__H_COMPS,
    JPIP__H_LAYERS,
    JPIP__H_STREAM,
    JPIP__H_CONTEXT,
    JPIP__H_ROI,
    JPIP__H_LEN,
    JPIP__H_QUALITY,
    JPIP__H_PREF,
    JPIP__H_HANDLED,
    JPIP__H_COUNT
};

/* JPIP-cnew: cid=<id>,path=<path>,transport=<t>[,host=<h>][,port=<p>][,auxport=<p>] */
struct jpip__resp_cnew {
    struct jpip__req_str cid;       /* required */
    struct jpip__req_str path;      /* where later requests of the channel go; may be empty */
    struct jpip__req_str transport; /* http, http-tcp, http-udp; may be empty */
    struct jpip__req_str host;      /* may be empty */
    uint32_t port;                  /* 0 when absent */
    uint32_t auxport;               /* 0 when absent (http-tcp / http-udp data port) */
};

/* Strings are views: into the parsed header values (borrowed: valid while the caller keeps
 * those bytes) or, when formatting, into the server's own memory. */
struct jpip__resp_info {
    uint32_t present; /* bit (1 << JPIP__H_x) per header */
    struct jpip__req_str tid;
    struct jpip__resp_cnew cnew;
    uint32_t qid;
    uint32_t fsiz[2], roff[2], rsiz[2];
    struct jpip__range *comps; /* step 1 */
    uint32_t ncomps;
    uint32_t layers;
    struct jpip__range *stream; /* ranges; a translated item "<ctx>n" gives n */
    uint32_t nstream;
    struct jpip__req_str context; /* e.g. "jpxl<0-1>=0-1"; kept as text */
    struct jpip__req_str roi;     /* "roi=<name>;fsiz=..;..." or "roi=no-roi"; text */
    uint64_t len;
    int32_t quality;              /* -1: the server does not support quality limits */
    struct jpip__req_str pref;    /* text */
    struct jpip__req_str handled; /* text */

    /* Owned by parse (comps and stream arrays); format never frees. */
    uint8_t owns_lists;
    uint32_t max_list_items;
    const struct jpip_allocator *alloc;
};

/* An empty info; a may be NULL (malloc); max_list_items 0 means 1024. */
void jpip__resp_info_init(struct jpip__resp_info *info, const struct jpip_allocator *a,
                          uint32_t max_list_items);

/* The header's name ("JPIP-fsiz"). */
const char *jpip__resp_header_name(enum jpip__resp_header h);

/* Parses one received header into info: name[0..name_len), value[0..value_len) (borrowed;
 * the views set in info point into value). A JPIP-* header we do not know, or any other
 * header, is ignored with JPIP_OK. A repeated header replaces the earlier one.
 * @return JPIP_OK, JPIP_EMALFORMED (message names the header and the offset in the value),
 *         JPIP_ELIMIT (list longer than max_list_items), JPIP_ENOMEM. */
int jpip__resp_header_parse(struct jpip__resp_info *info, const char *name, size_t name_len,
                            const char *value, size_t value_len, struct jpip__err *err);

/* Appends "JPIP-x: value\r\n" for every present header, in enum order.
 * @return JPIP_OK, JPIP_EINVAL (a string holds a control byte, or JPIP-cnew has no cid),
 *         JPIP_ELIMIT, JPIP_ENOMEM. */
int jpip__resp_headers_format(const struct jpip__resp_info *info, struct jpip__buf *out);

/* Frees the lists parse allocated; info is left empty (allocator and limit kept). */
void jpip__resp_info_free(struct jpip__resp_info *info);

/* Whether s starts with lower (a lower-case ASCII literal), ignoring ASCII case. */
int jpip__starts_with_nocase(const char *s, const char *lower);

/* The value (leading blanks skipped) of the first header named lower_name (lower case, without
 * the colon) in a NUL-terminated block of "Name: value" lines, ignoring ASCII case; NULL when
 * absent. The value runs to the end of its line. */
const char *jpip__header_value(const char *headers, const char *lower_name);

#endif
