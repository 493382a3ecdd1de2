/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The server core's private structures: open targets (shared by every session on a file
 * version), sessions with their channels and cache models, and responses, which carry a plan
 * of what to send and produce the JPP/JPT-stream body lazily as the caller pulls it.
 */
#ifndef JPIP_SERVER_SERVER_INTERNAL_H
#define JPIP_SERVER_SERVER_INTERNAL_H

#include <jpip/index.h>
#include <jpip/server.h>

#include "cache/cache_model.h"
#include "codestream/target_internal.h"
#include "common/buf.h"
#include "common/cached_source.h"
#include "databin/databin.h"
#include "databin/metabins.h"
#include "databin/window.h"
#include "request/request.h"
#include "stream/message.h"

#define JPIP__CID_LEN 32 /* hex digits: 128 random bits */
#define JPIP__CID_PREFIX_MAX 7

struct srv_cs {
    uint8_t *mainhdr; /* main header data-bin, built on first use */
    size_t mainhdr_len;
    unsigned dmax;
};

struct srv_target {
    char *name;
    size_t name_len;
    struct jpip_target_ref ref;
    struct jpip__cached_source cache; /* block cache over ref.src: reads go through it */
    struct jpip_target *t;
    struct jpip__metabins mb;
    struct srv_cs *cs;
    unsigned ncs;
    int kind;
    char tid[33];
    uint32_t refs; /* sessions and responses using it */
    int stale;     /* a newer version replaced it; freed when refs drop to 0 */
    uint64_t last_used_ms;
    char index_key[33];                          /* persistent index name (index_persist.c) */
    uint64_t index_saved_walked, index_saved_ms; /* walked tiles at the last save, and when */
};

struct srv_session;

struct srv_channel {
    char cid[JPIP__CID_PREFIX_MAX + JPIP__CID_LEN + 1];
    struct srv_session *sess;
    struct jpip_response *active; /* response being produced on this channel, if any */
};

struct srv_session {
    struct srv_target *tgt;
    struct jpip__cache_model cm;
    struct srv_channel *ch;
    uint32_t nch;
    uint64_t created_ms, last_used_ms;
    int jpt; /* the session's return type is JPT-stream */
};

/* One precinct a view needs, in emission order (resolution, tile, component, precinct). */
struct plan_prec {
    uint32_t tile;
    uint32_t g;      /* precinct index within the tile */
    uint64_t id;     /* in-class identifier */
    uint16_t next;   /* first layer not yet sent */
    uint16_t layers; /* layers wanted */
    uint8_t r;
};

struct plan_bin {
    uint8_t cls;
    uint16_t cs;
    uint64_t id;
    uint64_t from, to; /* byte range still to send */
    uint64_t total;    /* bin length (the message that reaches it sets the last-byte flag) */
};

/* A tile-component the view touches; its precincts are listed one resolution at a time. */
struct plan_tc {
    uint32_t tile;
    uint16_t comp;
};

struct plan_cs {
    uint16_t cs;
    struct jpip__codestream *c;
    struct plan_bin *hdr; /* main header then tile headers (JPP) or tile bins (JPT) */
    uint32_t nhdr;
    struct plan_prec *prec; /* resolutions 0..planned_r, in (resolution, tile, precinct) order */
    uint32_t nprec, cap_prec;
    uint16_t max_layers;
    struct plan_tc *tcs;
    uint32_t ntcs;
    unsigned discard;
    struct jpip__rect canvas;
    uint16_t layers;      /* requested (0 = all) */
    int planned_r, max_r; /* precincts are listed up to planned_r; max_r is the last */
};

/* A model=/need= item over a range of bins too large to expand ("P*", "H0-99999"). */
struct plan_rule {
    uint8_t cls;
    uint8_t subtractive;
    uint64_t cs_from, cs_to;
    uint64_t id_from, id_to;
    uint64_t bytes; /* JPIP__CM_ALL for whole bins */
};

struct jpip_response {
    struct jpip_server *srv;
    int status;
    char reason[192];
    struct jpip__buf headers;
    struct srv_target *tgt;   /* referenced */
    struct srv_session *sess; /* NULL when stateless */
    struct srv_channel *chan;
    struct jpip__cache_model own_cm; /* stateless: what model= says the client has */
    struct jpip__cache_model *cm;    /* the model updated as bytes go out */
    int need_mode;                   /* need=: every unlisted bin counts as held */
    struct plan_rule *rules;         /* model/need items naming many bins at once */
    uint32_t nrules;
    int jpt;
    /* plan */
    struct plan_bin *meta;
    uint32_t nmeta;
    struct plan_cs *pcs;
    uint32_t npcs;
    int metadata_only;
    uint64_t budget; /* body bytes allowed (len=), UINT64_MAX without */
    /* production state */
    int phase;          /* 0 meta, 1 codestream headers, 2 precincts, 3 EOR, 4 done */
    uint32_t ics, ibin; /* position in pcs[] and its hdr[] */
    uint16_t layer;     /* current quality layer sweep */
    uint32_t iprec;
    int preempted;
    uint8_t stop_reason; /* jpip_response_stop: end with this EOR reason at the next message */
    int sent_precinct;   /* a precinct byte went out in this response */
    uint8_t eor_reason;
    struct jpip__msg_enc enc;
    uint8_t pend[JPIP__MSG_HEADER_MAX + 8];
    size_t pend_len, pend_pos;
    struct plan_bin pend_bin; /* body still to copy after the pending header */
    struct plan_prec *pend_prec;
    uint64_t pend_body_left, pend_body_off;
    struct jpip_response_stats st;
};

struct jpip_server {
    struct jpip_server_hooks hooks;
    struct jpip_server_config cfg;
    char channel_path[64];
    const struct jpip_allocator *alloc;
    struct jpip_allocator alloc_copy;
    jpip_log_fn log;
    void *log_user;
    struct srv_target **targets;
    uint32_t ntargets;
    struct srv_session **sessions;
    uint32_t nsessions;
    struct jpip_index_stats idx; /* totals of closed targets, loads and saves */
    uint64_t now_ms;             /* of the last request */
    char cid_prefix[JPIP__CID_PREFIX_MAX + 1];
    const char *query; /* the request being handled, as received (for delegation) */
    size_t query_len;
    struct jpip_server_stats stats; /* totals; the "open now" counts are filled on demand */
};

/* plan.c */
int jpip__plan_build(struct jpip_response *r, const struct jpip__request *q, int use_model,
                     struct jpip__err *err);
/* List the precincts of the next resolution (when the body reaches it, so a response cut
 * short by len= never plans the rest). Returns 1 when it added a resolution, 0 when all are
 * listed. */
int jpip__plan_next_resolution(struct jpip_response *r, struct plan_cs *pc);
/* What the client holds of a bin, by the response's model (and wildcard rules). */
uint64_t jpip__plan_have(const struct jpip_response *r, unsigned cls, uint64_t cs, uint64_t id);
void jpip__plan_free(struct jpip_response *r);
/* response.c */
int jpip__response_produce(struct jpip_response *r, uint8_t *buf, size_t cap, size_t *n);
/* index_persist.c */
void jpip__srv_index_load(struct jpip_server *s, struct srv_target *t);
void jpip__srv_index_save(struct jpip_server *s, struct srv_target *t, int force);
/* Save what is new and keep the target's counts before it is freed. */
void jpip__srv_index_closing(struct jpip_server *s, struct srv_target *t);
/* delegation.c: answer r by handing its new channel to the delegate hook. */
void jpip__srv_delegate(struct jpip_server *s, struct jpip_response *r, const char *name,
                        size_t name_len);
/* server.c */
void jpip__srv_target_unref(struct jpip_server *s, struct srv_target *t);
int jpip__srv_target_cs(struct srv_target *t, unsigned cs, struct jpip__codestream **c);

#endif
