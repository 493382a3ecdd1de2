/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The client core (include/jpip/client.h): request construction for the current view, channel
 * bookkeeping with fallback to stateless requests, response intake into the data-bin cache,
 * cache declarations (model=) whenever the server cannot know what we hold, and the rebuild
 * of the view's codestream. No I/O.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpip/client.h>

#include "cache/bin_store.h"
#include "client/jp2_wrap.h"
#include "client/reconstruct.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "databin/window.h"
#include "request/response_headers.h"
#include "stream/stream_reader.h"

#define MAX_QUERY_BYTES (1u << 20)
/* Byte limit adopted when a server stops at a limit we did not set (some servers send
 * nothing without len=); JHelioviewer asks for the same. */
#define AUTO_LEN (2u << 20)
/* Responses in a row that bring no data-bin byte and no end of the view before we give up. */
#define MAX_IDLE_RESPONSES 4

struct jpip_client {
    const struct jpip_allocator *alloc;
    struct jpip_allocator alloc_copy;
    struct jpip_client_config cfg;
    char *target;
    struct jpip__bin_store *store;
    struct jpip__stream_reader rd;
    char tid[256];
    char cid[128];
    char chan_path[256];
    char chan_host[256]; /* JPIP-cnew host= (the channel lives on another server), or "" */
    unsigned chan_port;
    int have_channel;
    int channel_refused; /* the server granted no channel: go stateless */
    int asked_cnew;      /* the request in flight asked for a channel */
    int on_channel;      /* the request in flight used the channel */
    int need_model;      /* declare the cache on the next request */
    int handler_failed;  /* the cache refused a message (its message is in err) */
    int in_response, status;
    int jpt_stream; /* the server sends JPT-streams */
    int complete;
    uint64_t auto_len;       /* len= we send when the configuration sets none (0: none) */
    uint64_t resp_start;     /* data-bin bytes received before the response in flight */
    unsigned idle_responses; /* responses in a row without progress */
    struct jpip_view view;
    uint32_t *comps;
    struct jpip__buf path, query;
    struct jpip_client_stats st;
    struct jpip__err err;
};

static int on_msg(void *u, const struct jpip__msg *m, const uint8_t *body)
{
    struct jpip_client *c = u;
    c->st.messages++;
    c->st.databin_bytes += m->len;
    const uint8_t *have = NULL;
    uint64_t hl = 0;
    int complete = 0;
    unsigned cls = m->cls & ~1u;
    if (cls != 0 && cls != 2 && cls != 4 && cls != 6 && cls != 8)
        return JPIP_OK; /* classes we do not keep */
    if (jpip__bin_store_get(c->store, cls, m->cs, m->id, &have, &hl, &complete) == JPIP_OK &&
        m->off < hl)
        c->st.duplicate_bytes += (m->off + m->len < hl ? m->len : hl - m->off);
    int rc = jpip__bin_store_add(c->store, cls, m->cs, m->id, m->off, body, (size_t)m->len, m->last,
                                 &c->err);
    if (rc < 0)
        c->handler_failed = 1;
    return rc;
}

int jpip_client_create(struct jpip_client **out, const char *target,
                       const struct jpip_client_config *cfg, const struct jpip_allocator *a)
{
    if (!out || !target)
        return JPIP_EINVAL;
    struct jpip_client *c = jpip__calloc(a, 1, sizeof *c);
    if (!c)
        return JPIP_ENOMEM;
    if (a) {
        c->alloc_copy = *a;
        c->alloc = &c->alloc_copy;
    }
    if (cfg)
        c->cfg = *cfg;
    if (!c->cfg.max_model_items)
        c->cfg.max_model_items = 20000;
    if (!c->cfg.max_rebuild_bytes)
        c->cfg.max_rebuild_bytes = (uint64_t)1 << 30;
    if (c->cfg.max_rebuild_bytes > SIZE_MAX / 2)
        c->cfg.max_rebuild_bytes = SIZE_MAX / 2;
    size_t n = strlen(target);
    c->target = jpip__alloc(c->alloc, n + 2);
    int rc = c->target ? jpip__bin_store_create(&c->store, c->alloc, c->cfg.max_cache_bytes)
                       : JPIP_ENOMEM;
    if (rc < 0) {
        jpip__free(c->alloc, c->target);
        jpip__free(c->alloc, c);
        return rc;
    }
    /* Keep a leading slash. */
    if (target[0] == '/')
        memcpy(c->target, target, n + 1);
    else {
        c->target[0] = '/';
        memcpy(c->target + 1, target, n + 1);
    }
    jpip__stream_reader_init(&c->rd, c->alloc, 0, on_msg, NULL, c);
    jpip__buf_init(&c->path, c->alloc, 4096);
    jpip__buf_init(&c->query, c->alloc, MAX_QUERY_BYTES);
    *out = c;
    return JPIP_OK;
}

void jpip_client_destroy(struct jpip_client *c)
{
    if (!c)
        return;
    jpip__stream_reader_free(&c->rd);
    jpip__bin_store_destroy(c->store);
    jpip__buf_free(&c->path);
    jpip__buf_free(&c->query);
    jpip__free(c->alloc, c->comps);
    jpip__free(c->alloc, c->target);
    struct jpip_allocator copy = c->alloc_copy;
    jpip__free(c->alloc ? &copy : NULL, c);
}

const char *jpip_client_errmsg(const struct jpip_client *c)
{
    return c->err.msg;
}

const char *jpip_client_tid(const struct jpip_client *c)
{
    return c->tid;
}

const char *jpip_client_channel_host(const struct jpip_client *c, unsigned *port)
{
    if (!c->have_channel || !c->chan_host[0])
        return NULL;
    if (port)
        *port = c->chan_port;
    return c->chan_host;
}

/* Where JPIP-cnew says the channel lives (15444-9 C.3.3 host, port); a host with characters
 * beyond a name or an address is ignored (the channel then stays on this server). */
static void channel_host(struct jpip_client *c, const struct jpip__resp_cnew *cn)
{
    const char *h = cn->host.ptr;
    size_t n = cn->host.len;
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    c->chan_host[0] = '\0';
    c->chan_port = cn->port;
    if (n == 0 || n >= sizeof c->chan_host)
        return;
    for (size_t i = 0; i < n; i++)
        if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
              (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-' || h[i] == ':'))
            return;
    memcpy(c->chan_host, h, n);
    c->chan_host[n] = '\0';
}

void jpip_client_free(const struct jpip_client *c, void *p)
{
    jpip__free(c ? c->alloc : NULL, p);
}

int jpip_client_set_view(struct jpip_client *c, const struct jpip_view *v)
{
    if (!v || v->ncomps > 16384)
        return JPIP_EINVAL;
    uint32_t *nc = NULL;
    if (v->ncomps) {
        nc = jpip__alloc(c->alloc, v->ncomps * sizeof *nc);
        if (!nc)
            return JPIP_ENOMEM;
        memcpy(nc, v->comps, v->ncomps * sizeof *nc);
    }
    jpip__free(c->alloc, c->comps);
    c->comps = nc;
    c->view = *v;
    c->view.comps = nc;
    c->complete = 0;
    c->idle_responses = 0;
    return JPIP_OK;
}

int jpip_client_view_complete(const struct jpip_client *c)
{
    return c->complete;
}

static int qprintf(struct jpip__buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int qprintf(struct jpip__buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return JPIP_ELIMIT;
    return jpip__buf_append(b, tmp, (size_t)n);
}

struct model_ctx {
    struct jpip_client *c;
    struct jpip__buf *q;
    size_t start; /* where the model value begins in q */
    uint32_t count;
    int pass; /* 0 metadata, 1 codestream bins */
    int rc;
    struct jpip__buf whole; /* complete bins, as struct whole_bin, declared as ranges */
};

struct whole_bin {
    uint64_t id;
    unsigned cls;
};

static int emit(struct model_ctx *m, unsigned cls, uint64_t id, uint64_t to, const char *amount)
{
    static const char letter[9] = {'P', 0, 'H', 0, 'T', 0, 'H', 0, 'M'};
    const char *sep = m->q->len > m->start ? "," : "";
    if (cls == 6)
        return qprintf(m->q, "%sHm%s", sep, amount);
    if (to > id)
        return qprintf(m->q, "%s%c%llu-%llu%s", sep, letter[cls], (unsigned long long)id,
                       (unsigned long long)to, amount);
    return qprintf(m->q, "%s%c%llu%s", sep, letter[cls], (unsigned long long)id, amount);
}

/* Partial bins are declared at once with their byte count; complete ones are collected and
 * declared afterwards as ranges of consecutive ids (a view's precincts across tiles have
 * consecutive ids, so thousands of bins become a few dozen items). */
static int model_item(void *u, unsigned cls, uint64_t cs, uint64_t id, uint64_t len, int complete)
{
    struct model_ctx *m = u;
    if (m->count >= m->c->cfg.max_model_items)
        return 1;
    if ((m->pass == 0) != (cls == 8))
        return 0;
    if (cls != 8 && cs != m->c->view.stream)
        return 0;
    if (!complete && len == 0)
        return 0;
    int rc;
    if (complete) {
        struct whole_bin w = {id, cls};
        rc = jpip__buf_append(&m->whole, &w, sizeof w);
    } else {
        char amount[32];
        snprintf(amount, sizeof amount, ":%llu", (unsigned long long)len);
        rc = emit(m, cls, id, id, amount);
    }
    if (rc < 0) {
        m->rc = rc;
        return 1;
    }
    m->count++;
    return 0;
}

static int cmp_whole(const void *a, const void *b)
{
    const struct whole_bin *x = a, *y = b;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int flush_whole(struct model_ctx *m)
{
    struct whole_bin *v = (struct whole_bin *)m->whole.data;
    size_t n = m->whole.len / sizeof *v;
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_whole);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[j + 1].cls == v[i].cls && v[j + 1].id == v[j].id + 1)
            j++;
        JPIP_TRY(emit(m, v[i].cls, v[i].id, v[j].id, ""));
        i = j + 1;
    }
    jpip__buf_reset(&m->whole);
    return JPIP_OK;
}

/* Declare the bins held for the view's codestream (and metadata). Metadata items come first,
 * unqualified; a codestream qualifier follows when the view is not on codestream 0 (model
 * items are comma-separated, the qualifier is one of them). */
static int add_model(struct jpip_client *c, struct jpip__buf *q)
{
    struct jpip__bin_store_stats s;
    jpip__bin_store_stats(c->store, &s);
    if (s.bins == 0)
        return JPIP_OK;
    size_t at = q->len;
    JPIP_TRY(qprintf(q, "&model="));
    struct model_ctx m = {c, q, q->len, 0, 0, 0, {0}};
    jpip__buf_init(&m.whole, c->alloc, SIZE_MAX);
    jpip__bin_store_foreach(c->store, model_item, &m);
    int rc = m.rc < 0 ? m.rc : flush_whole(&m);
    size_t before_qual = q->len;
    if (rc >= 0 && c->view.stream)
        rc = qprintf(q, "%s[%u]", q->len > m.start ? "," : "", c->view.stream);
    uint32_t meta = m.count;
    m.pass = 1;
    if (rc >= 0) {
        jpip__bin_store_foreach(c->store, model_item, &m);
        rc = m.rc < 0 ? m.rc : flush_whole(&m);
    }
    jpip__buf_free(&m.whole);
    if (rc < 0)
        return rc;
    if (m.count == meta)
        q->len = before_qual; /* no codestream bin: drop the lone qualifier */
    if (m.count == 0)
        q->len = at; /* nothing to declare */
    return JPIP_OK;
}

int jpip_client_next_request(struct jpip_client *c, const char **path, const char **query,
                             size_t *query_len)
{
    struct jpip__buf *q = &c->query, *p = &c->path;
    jpip__buf_reset(q);
    jpip__buf_reset(p);
    int channel = c->have_channel;
    int ask_cnew = !channel && !c->cfg.stateless && !c->channel_refused;
    if (channel) {
        JPIP_TRY(qprintf(p, "/%s", c->chan_path));
        JPIP_TRY(qprintf(q, "cid=%s", c->cid));
        if (c->cfg.jpt)
            JPIP_TRY(qprintf(q, "&type=jpt-stream"));
    } else {
        JPIP_TRY(jpip__buf_append(p, c->target, strlen(c->target)));
        JPIP_TRY(qprintf(q, "type=%s&tid=%s", c->cfg.jpt ? "jpt-stream" : "jpp-stream",
                         c->tid[0] ? c->tid : "0"));
        if (ask_cnew)
            JPIP_TRY(qprintf(q, "&cnew=http"));
    }
    const struct jpip_view *v = &c->view;
    /* stream= even for codestream 0: some servers (esajpip) send nothing without it. */
    JPIP_TRY(qprintf(q, "&stream=%u", v->stream));
    if (v->fx && v->fy) {
        static const char *const round[] = {"", ",round-up", ",closest"};
        JPIP_TRY(qprintf(q, "&fsiz=%u,%u%s", v->fx, v->fy,
                         round[v->round >= 0 && v->round <= 2 ? v->round : 0]));
        if (v->ox || v->oy)
            JPIP_TRY(qprintf(q, "&roff=%u,%u", v->ox, v->oy));
        if (v->sx && v->sy)
            JPIP_TRY(qprintf(q, "&rsiz=%u,%u", v->sx, v->sy));
    }
    if (v->ncomps) {
        JPIP_TRY(qprintf(q, "&comps="));
        for (unsigned i = 0; i < v->ncomps; i++)
            JPIP_TRY(qprintf(q, "%s%u", i ? "," : "", v->comps[i]));
    }
    if (v->layers)
        JPIP_TRY(qprintf(q, "&layers=%u", v->layers));
    uint64_t len = c->cfg.len ? c->cfg.len : c->auto_len;
    if (len)
        JPIP_TRY(qprintf(q, "&len=%llu", (unsigned long long)len));
    /* Stateless requests always declare the cache; a fresh channel does once. */
    if (!channel || c->need_model)
        JPIP_TRY(add_model(c, q));
    c->need_model = 0;
    c->asked_cnew = ask_cnew;
    c->on_channel = channel;
    c->st.requests++;
    JPIP_TRY(jpip__buf_append_byte(p, 0));
    JPIP_TRY(jpip__buf_append_byte(q, 0));
    q->len--;
    *path = (const char *)p->data;
    *query = (const char *)q->data;
    *query_len = q->len;
    return JPIP_OK;
}

/* Feed every header line ("Name: value") to the JPIP response-header parser; a malformed
 * JPIP-* header is ignored (as if absent), other headers are not ours. */
static void parse_headers(const char *h, struct jpip__resp_info *info)
{
    for (const char *p = h; *p;) {
        size_t len = strcspn(p, "\r\n");
        const char *colon = memchr(p, ':', len);
        if (colon) {
            const char *v = colon + 1;
            size_t vl = len - (size_t)(v - p);
            while (vl && (*v == ' ' || *v == '\t')) {
                v++;
                vl--;
            }
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            struct jpip__err e;
            jpip__resp_header_parse(info, p, (size_t)(colon - p), v, vl, &e);
        }
        p += len;
        while (*p == '\r' || *p == '\n')
            p++;
    }
}

int jpip_client_begin_response(struct jpip_client *c, int status, const char *headers)
{
    c->status = status;
    c->in_response = 0;
    c->st.responses++;
    if (!headers)
        headers = "";
    struct jpip__resp_info info;
    jpip__resp_info_init(&info, c->alloc, 64);
    parse_headers(headers, &info);
    if ((info.present >> JPIP__H_TID) & 1 && info.tid.len && info.tid.len < sizeof c->tid) {
        if (c->tid[0] &&
            (strlen(c->tid) != info.tid.len || memcmp(c->tid, info.tid.ptr, info.tid.len) != 0)) {
            /* The target changed: what we hold belongs to the old version. */
            jpip__bin_store_clear(c->store);
            c->need_model = 0;
        }
        memcpy(c->tid, info.tid.ptr, info.tid.len);
        c->tid[info.tid.len] = '\0';
    }
    c->resp_start = c->st.databin_bytes;
    int lost = status == 404 || status == 500 || status == 503;
    if (lost && c->on_channel) {
        jpip__resp_info_free(&info);
        /* A channel that keeps dying without the view advancing is not a channel problem. */
        if (++c->idle_responses > MAX_IDLE_RESPONSES)
            return jpip__errf(&c->err, JPIP_EPROTOCOL,
                              "server answered %d again after the channel was reopened", status);
    }
    if ((status == 404 || status == 500) && c->on_channel) {
        /* The channel is gone (server restarted, session reaped; esajpip answers 500 when
         * the connection that carried it closed): start again and say what we hold. */
        c->have_channel = 0;
        c->need_model = 1;
        return JPIP_OK;
    }
    if (status == 503 && c->on_channel) {
        c->have_channel = 0;
        c->channel_refused = 1;
        return JPIP_OK;
    }
    if (status != 200 && status != 202) {
        jpip__resp_info_free(&info);
        return jpip__errf(&c->err, status == 404 ? JPIP_ENOTFOUND : JPIP_EPROTOCOL,
                          "server answered %d", status);
    }
    /* A 200 body must be a JPP- or JPT-stream (an absent Content-Type is tolerated). */
    const char *v = jpip__header_value(headers, "content-type");
    if (status == 200 && v) {
        c->jpt_stream = jpip__starts_with_nocase(v, "image/jpt-stream");
        if (!jpip__starts_with_nocase(v, "image/jpp-stream") && !c->jpt_stream) {
            jpip__resp_info_free(&info);
            size_t n = strcspn(v, "\r\n;");
            return jpip__errf(&c->err, JPIP_EPROTOCOL,
                              "the server's response is of type '%.*s', not a JPP/JPT-stream",
                              (int)(n > 60 ? 60 : n), v);
        }
    }
    if (c->asked_cnew) {
        const struct jpip__resp_cnew *cn = &info.cnew;
        if ((info.present >> JPIP__H_CNEW) & 1 && cn->cid.len && cn->cid.len < sizeof c->cid &&
            cn->path.len < sizeof c->chan_path) {
            memcpy(c->cid, cn->cid.ptr, cn->cid.len);
            c->cid[cn->cid.len] = '\0';
            const char *pp = cn->path.ptr;
            size_t pl = cn->path.len;
            while (pl && *pp == '/') { /* kept relative: next_request adds the slash */
                pp++;
                pl--;
            }
            if (pl) {
                memcpy(c->chan_path, pp, pl);
                c->chan_path[pl] = '\0';
            } else {
                snprintf(c->chan_path, sizeof c->chan_path, "jpip");
            }
            channel_host(c, cn);
            c->have_channel = 1;
            c->st.channels_opened++;
        } else {
            c->channel_refused = 1; /* no channel granted: stateless from now on */
        }
    }
    jpip__resp_info_free(&info);
    /* A channel keeps the previous message's class and codestream across responses. */
    jpip__stream_reader_reset(&c->rd, c->on_channel || c->have_channel);
    c->in_response = 1;
    return JPIP_OK;
}

int jpip_client_feed(struct jpip_client *c, const uint8_t *data, size_t len)
{
    if (!c->in_response)
        return JPIP_OK;
    c->st.body_bytes += len;
    c->handler_failed = 0;
    int rc = jpip__stream_reader_feed(&c->rd, data, len);
    /* A message the cache refused keeps the cache's own, more specific message. */
    if (rc < 0 && !c->handler_failed)
        c->err = c->rd.err;
    return rc;
}

int jpip_client_end_response(struct jpip_client *c, int body_complete)
{
    if (!c->in_response)
        return JPIP_OK;
    c->in_response = 0;
    int rc = jpip__stream_reader_finish(&c->rd);
    if (!body_complete || rc < 0) {
        /* A broken response: the server's model of our cache is now wrong. Start a new
         * channel (or stay stateless) and declare what we really hold. */
        c->have_channel = 0;
        c->need_model = 1;
        if (!body_complete || rc >= 0)
            return JPIP_OK;
        if (!c->handler_failed)
            c->err = c->rd.err;
        return rc;
    }
    if (c->rd.eor_seen) {
        /* image done, window done, or quality limit: every layer asked for has come */
        if (c->rd.eor_reason == 1 || c->rd.eor_reason == 2 || c->rd.eor_reason == 5)
            c->complete = 1;
    } else if (c->status == 200) {
        c->complete = 1; /* some servers end stateless responses without an EOR */
    }
    if (c->complete || c->st.databin_bytes > c->resp_start) {
        c->idle_responses = 0;
        return JPIP_OK;
    }
    /* No progress. A server that stopped at a byte limit we did not set wants len=. */
    if (c->rd.eor_seen && c->rd.eor_reason == 4 && !c->cfg.len && !c->auto_len) {
        c->auto_len = AUTO_LEN;
        return JPIP_OK;
    }
    if (++c->idle_responses > MAX_IDLE_RESPONSES)
        return jpip__errf(&c->err, JPIP_EPROTOCOL,
                          "%u responses in a row brought no data and did not end the view",
                          c->idle_responses);
    return JPIP_OK;
}

void jpip_client_stats(const struct jpip_client *c, struct jpip_client_stats *st)
{
    *st = c->st;
    struct jpip__bin_store_stats s;
    jpip__bin_store_stats(c->store, &s);
    st->bins = s.bins;
    st->cache_bytes = s.bytes;
}

int jpip_client_cache_save(const struct jpip_client *c, uint8_t **out, size_t *len)
{
    struct jpip__buf b;
    jpip__buf_init(&b, c->alloc, SIZE_MAX);
    int rc = jpip__bin_store_save(c->store, c->tid, &b);
    if (rc < 0) {
        jpip__buf_free(&b);
        return rc;
    }
    *out = jpip__buf_take(&b, len);
    return JPIP_OK;
}

int jpip_client_cache_load(struct jpip_client *c, const uint8_t *data, size_t len)
{
    char tid[256];
    int rc = jpip__bin_store_load(c->store, data, len, tid, sizeof tid, &c->err);
    if (rc < 0)
        return rc;
    snprintf(c->tid, sizeof c->tid, "%s", tid);
    c->need_model = 1;
    return JPIP_OK;
}

static int store_get(void *u, unsigned cls, uint64_t cs, uint64_t id, const uint8_t **data,
                     uint64_t *len, int *complete)
{
    int rc = jpip__bin_store_get(u, cls, cs, id, data, len, complete);
    if (rc == JPIP_OK && !*data && *complete)
        *data = (const uint8_t *)""; /* an empty, complete bin */
    return rc;
}

int jpip_client_codestream(struct jpip_client *c, uint8_t **out, size_t *len,
                           struct jpip_view_geometry *g)
{
    const uint8_t *mh;
    uint64_t mhl;
    int complete;
    JPIP_TRY(jpip__bin_store_get(c->store, 6, c->view.stream, 0, &mh, &mhl, &complete));
    if (!mh || !complete)
        return jpip__errf(&c->err, JPIP_AGAIN, "the main header has not arrived yet");
    struct jpip__mainhdr hdr;
    int rc = jpip__mainhdr_parse(&hdr, mh, (size_t)mhl, 0, c->alloc, &c->err);
    if (rc < 0) {
        jpip__mainhdr_free(&hdr, c->alloc);
        return rc;
    }
    struct jpip__window_req q = {0};
    if (c->view.fx && c->view.fy) {
        q.has_fsiz = 1;
        q.fx = c->view.fx;
        q.fy = c->view.fy;
        q.round = c->view.round;
        q.has_roff = 1;
        q.ox = c->view.ox;
        q.oy = c->view.oy;
        q.has_rsiz = c->view.sx && c->view.sy;
        q.sx = c->view.sx;
        q.sy = c->view.sy;
    }
    struct jpip__window w;
    jpip__window_resolve(&hdr.siz, jpip__window_dmax(&hdr), &q, &w);
    jpip__mainhdr_free(&hdr, c->alloc);
    if (w.empty)
        return jpip__errf(&c->err, JPIP_EINVAL, "the view's region lies outside the image");
    struct jpip__bin_source src = {store_get, c->store};
    /* Tile data-bins when the server answered with JPT-streams (or we asked for them). */
    int jpt = c->cfg.jpt || c->jpt_stream;
    struct jpip__reconstruct_opts o = {w.discard, c->view.layers, 1, w.canvas, jpt, 1};
    struct jpip__buf b;
    jpip__buf_init(&b, c->alloc, (size_t)c->cfg.max_rebuild_bytes);
    struct jpip__reconstruct_stats rst;
    rc = jpip__reconstruct(&src, c->view.stream, &o, c->alloc, &b, &rst, &c->err);
    if (rc == JPIP_ELIMIT)
        jpip__errf(&c->err, rc, "the view's codestream would exceed %llu bytes",
                   (unsigned long long)c->cfg.max_rebuild_bytes);
    if (rc < 0) {
        jpip__buf_free(&b);
        return rc;
    }
    *out = jpip__buf_take(&b, len);
    if (g) {
        /* A shrunk codestream is decoded at reduce 0 over the region divided likewise. */
        unsigned d = rst.shrunk;
        g->discard = w.discard - d;
        g->x0 = (uint32_t)(((uint64_t)w.canvas.x0 + (1u << d) - 1) >> d);
        g->y0 = (uint32_t)(((uint64_t)w.canvas.y0 + (1u << d) - 1) >> d);
        g->x1 = (uint32_t)(((uint64_t)w.canvas.x1 + (1u << d) - 1) >> d);
        g->y1 = (uint32_t)(((uint64_t)w.canvas.y1 + (1u << d) - 1) >> d);
        g->layers = c->view.layers;
    }
    return JPIP_OK;
}

int jpip_client_main_header(struct jpip_client *c, const uint8_t **data, size_t *len)
{
    const uint8_t *mh;
    uint64_t mhl;
    int complete;
    JPIP_TRY(jpip__bin_store_get(c->store, 6, c->view.stream, 0, &mh, &mhl, &complete));
    if (!mh || !complete || mhl > SIZE_MAX)
        return jpip__errf(&c->err, JPIP_AGAIN, "the main header has not arrived yet");
    *data = mh;
    *len = (size_t)mhl;
    return JPIP_OK;
}

int jpip_client_view_file(struct jpip_client *c, uint8_t **out, size_t *len,
                          struct jpip_view_geometry *g, int *jp2)
{
    *jp2 = 0;
    int rc = jpip_client_codestream(c, out, len, g);
    if (rc != JPIP_OK) /* JPIP_AGAIN (no main header yet) is not an error, nor a codestream */
        return rc;
    const uint8_t *meta0, *box;
    uint64_t mlen;
    size_t blen;
    int complete;
    if (c->view.stream != 0 ||
        jpip__bin_store_get(c->store, 8, 0, 0, &meta0, &mlen, &complete) != JPIP_OK || !meta0 ||
        !jpip__jp2_find_header(meta0, (size_t)mlen, &box, &blen))
        return JPIP_OK;
    struct jpip__buf b;
    jpip__buf_init(&b, c->alloc, SIZE_MAX);
    rc = jpip__jp2_wrap(&b, box, blen, *out, *len);
    jpip__free(c->alloc, *out);
    if (rc < 0) {
        jpip__buf_free(&b);
        *out = NULL;
        return jpip__errf(&c->err, rc, "wrapping the view as JP2: %s", jpip_strerror(rc));
    }
    *out = jpip__buf_take(&b, len);
    *jp2 = 1;
    return JPIP_OK;
}
