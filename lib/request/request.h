/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * JPIP request fields (15444-9 Annex C; field table in jpip-notes §2.2): parsing a query
 * string or an application/x-www-form-urlencoded POST body into a struct jpip__request, and
 * formatting one back into a canonical query string (what the client sends). Parsing is
 * syntactic only: which fields the server honours, and how a view-window maps onto data-bins,
 * is decided in lib/server. No I/O; every list and the query length are bounded.
 *
 * Syntax: fields are "name=value" joined by '&'; empty segments ("a=1&&b=2", a trailing '&')
 * are skipped. Names are case-sensitive (Kakadu); an unknown or repeated name is an error, as
 * Kakadu and CADI answer 400. Each value is percent-decoded on its own after splitting, and '+'
 * stays a plus sign (see pct.h). Every value except target's must decode to printable ASCII;
 * target may hold any byte but NUL and control characters.
 */
#ifndef JPIP_REQUEST_REQUEST_H
#define JPIP_REQUEST_REQUEST_H

#include "request/field_parse.h"
#include "request/metareq.h"
#include "request/model.h"

/* The fields, in the order the canonical format writes them. */
enum jpip__req_field {
    JPIP__F_TARGET,
    JPIP__F_SUBTARGET,
    JPIP__F_TID,
    JPIP__F_CID,
    JPIP__F_CNEW,
    JPIP__F_CCLOSE,
    JPIP__F_QID,
    JPIP__F_FSIZ,
    JPIP__F_ROFF,
    JPIP__F_RSIZ,
    JPIP__F_COMPS,
    JPIP__F_STREAM,
    JPIP__F_CONTEXT,
    JPIP__F_ROI,
    JPIP__F_LAYERS,
    JPIP__F_SRATE,
    JPIP__F_METAREQ,
    JPIP__F_LEN,
    JPIP__F_QUALITY,
    JPIP__F_ALIGN,
    JPIP__F_WAIT,
    JPIP__F_TYPE,
    JPIP__F_DRATE,
    JPIP__F_MODEL,
    JPIP__F_TPMODEL,
    JPIP__F_NEED,
    JPIP__F_TPNEED,
    JPIP__F_MSET,
    JPIP__F_CAP,
    JPIP__F_PREF,
    JPIP__F_CSF,
    JPIP__F_HANDLED,
    JPIP__F_UPLOAD,
    JPIP__F_COUNT
};

/* fsiz round direction; round-down is the default (Kakadu, CADI; jpip-notes §11 pitfall 18). */
enum jpip__round { JPIP__ROUND_DOWN = 0, JPIP__ROUND_UP = 1, JPIP__ROUND_CLOSEST = 2 };

enum jpip__transport {
    JPIP__TRANSPORT_OTHER = 0, /* a name we do not know; see text */
    JPIP__TRANSPORT_HTTP = 1,
    JPIP__TRANSPORT_HTTP_TCP = 2,
    JPIP__TRANSPORT_HTTP_UDP = 3
};

enum jpip__type_kind {
    JPIP__TYPE_OTHER = 0, /* an unknown media type; see text */
    JPIP__TYPE_JPP = 1,   /* jpp-stream */
    JPIP__TYPE_JPT = 2,   /* jpt-stream */
    JPIP__TYPE_RAW = 3,   /* raw (CADI) */
    JPIP__TYPE_ANY = 4    /* "*" */
};

enum jpip__context_kind {
    JPIP__CONTEXT_OTHER = 0, /* kept as text only */
    JPIP__CONTEXT_JPXL = 1,  /* jpxl<ranges>[instruction]: JPX compositing layers */
    JPIP__CONTEXT_MJ2T = 2   /* mj2t<track>[...]: MJ2 track (kept as text) */
};

/* IDs longer than this are refused (tid: 15444-9 limits it to 255 characters). */
#define JPIP__REQ_ID_MAX 255

struct jpip__req_cnew {
    struct jpip__req_str text; /* e.g. "http-tcp" */
    uint8_t transport;         /* enum jpip__transport */
};

struct jpip__req_type {
    struct jpip__req_str text; /* the whole item, e.g. "image/jpp-stream;ptype=ext" */
    uint8_t kind;              /* enum jpip__type_kind */
    uint8_t image_prefix;      /* written with "image/" */
    uint8_t ext;               /* ";ptype=ext" or ";ttype=ext" */
};

struct jpip__req_pref {
    struct jpip__req_str text; /* one related-pref-set without the "/r" suffix */
    uint8_t required;          /* "/r": the server must honour it or answer 501 */
};

struct jpip__req_context {
    struct jpip__req_str text;  /* the whole item */
    uint8_t kind;               /* enum jpip__context_kind */
    struct jpip__range *ranges; /* jpxl: the layer ranges between < and > */
    uint32_t nranges;
    struct jpip__req_str instr; /* jpxl/mj2t: text between [ and ], empty if none */
};

struct jpip__request_limits {
    size_t max_query_bytes;     /* whole query or body; default 65536 */
    uint32_t max_fields;        /* name=value segments; default 64 */
    uint32_t max_list_items;    /* comps, stream, cnew, cclose, type, pref, context; default 1024 */
    uint32_t max_model_items;   /* model= / need= descriptors; default 32768 */
    uint32_t max_metareq_items; /* metareq box properties; default 1024 */
    const struct jpip_allocator *alloc; /* NULL: malloc/free */
};

/* A parsed request. Strings are views: into the query (borrowed: it must stay unchanged until
 * jpip__request_free) or into the request's own decode buffer. A field's members are
 * meaningful only when its bit is set in present (see jpip__request_has). */
struct jpip__request {
    uint64_t present;                /* bit (1 << JPIP__F_x) for every field seen */
    size_t field_off[JPIP__F_COUNT]; /* byte offset of each field's name in the query */

    struct jpip__req_str target, tid, cid, roi;
    struct jpip__req_str subtarget; /* text; also parsed when it is a byte range "a-b": */
    uint8_t subtarget_is_range;
    uint64_t subtarget_from, subtarget_to;

    struct jpip__req_cnew *cnew;
    uint32_t ncnew;
    uint8_t cclose_all;           /* cclose=* */
    struct jpip__req_str *cclose; /* channel ids otherwise */
    uint32_t ncclose;
    uint32_t qid;

    uint32_t fsiz[2];          /* fx, fy > 0 */
    uint8_t fsiz_round;        /* enum jpip__round */
    uint8_t fsiz_round_given;  /* a third item was present */
    uint32_t roff[2];          /* ox, oy; only with fsiz */
    uint32_t rsiz[2];          /* sx, sy > 0; only with fsiz */
    struct jpip__range *comps; /* step is always 1 */
    uint32_t ncomps;
    struct jpip__range *stream;
    uint32_t nstream;
    struct jpip__req_str context_text;
    struct jpip__req_context *context;
    uint32_t ncontext;
    uint32_t layers;
    struct jpip__req_str srate, drate; /* decimal text, "1*DIGIT [ . 1*DIGIT ]" */
    double srate_value, drate_value;
    struct jpip__metareq metareq;
    uint64_t len;
    uint32_t quality;    /* 0..100 */
    uint8_t align, wait; /* 1 = yes */
    struct jpip__req_type *type;
    uint32_t ntype;
    struct jpip__model model, need;
    /* Kept as text (validated printable): tile-part models (JPT-stream only), mset, cap, csf,
     * upload. The server answers 501 (or 400, as Kakadu does for tpmodel with JPP). */
    struct jpip__req_str tpmodel, tpneed, mset, cap, csf, upload;
    struct jpip__req_pref *pref;
    uint32_t npref;

    /* Owned memory (set by parse only; a request built by hand owns nothing). */
    uint8_t owns_memory;
    char *decoded; /* decode buffer for values that held '%' escapes */
    size_t decoded_len, decoded_cap;
    const struct jpip_allocator *alloc;
};

static inline int jpip__request_has(const struct jpip__request *r, enum jpip__req_field f)
{
    return (r->present >> f) & 1u;
}

/* The field's name as written in a query ("fsiz"); NULL for an out-of-range value. */
const char *jpip__request_field_name(enum jpip__req_field f);

/* The default limits (documented in struct jpip__request_limits). */
void jpip__request_limits_default(struct jpip__request_limits *lim);

/* An empty request (no field present) that owns nothing; for building one by hand. */
void jpip__request_init(struct jpip__request *r);

/* Parses query[0..len) (the part after '?', without it) into r. lim may be NULL (defaults);
 * zero members of lim take their default. On failure r is left empty (jpip__request_free is
 * still safe) and err names the field and the byte offset in query.
 * @return JPIP_OK;
 *         JPIP_EMALFORMED  unknown or repeated field, bad value, roff/rsiz without fsiz;
 *         JPIP_ELIMIT      query longer than max_query_bytes, too many fields or list items;
 *         JPIP_ENOMEM. */
int jpip__request_parse(struct jpip__request *r, const char *query, size_t len,
                        const struct jpip__request_limits *lim, struct jpip__err *err);

/* The same for a POST body (application/x-www-form-urlencoded): identical grammar; trailing
 * CR and LF bytes are ignored. */
int jpip__request_parse_form(struct jpip__request *r, const char *body, size_t len,
                             const struct jpip__request_limits *lim, struct jpip__err *err);

/* Appends the canonical query string of r to out: present fields in enum order, values
 * percent-encoded (pct.h), lists joined with ',', model/need/metareq in canonical form,
 * "handled" without '='. Parsing the result gives a request equal to r.
 * @return JPIP_OK, JPIP_EINVAL (r holds something the grammar cannot say), JPIP_ELIMIT,
 *         JPIP_ENOMEM. */
int jpip__request_format(const struct jpip__request *r, struct jpip__buf *out);

/* 1 when a and b hold the same fields with the same meaning, else 0. */
int jpip__request_equal(const struct jpip__request *a, const struct jpip__request *b);

/* Frees what parse allocated and empties r. Safe to call twice, and on an init'ed request. */
void jpip__request_free(struct jpip__request *r);

#endif
