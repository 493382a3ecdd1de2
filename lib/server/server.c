/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The server object: configuration, open targets (one per file version, shared by sessions),
 * sessions and channels, and the dispatch of one request into a response (15444-9 C, D).
 * Status mapping: malformed request 400, refused target 403, unknown target or channel 404,
 * unsupported type 415, unsupported feature 501, limits 503.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "server/server_internal.h"

void jpip_server_config_default(struct jpip_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_sessions = 1024;
    cfg->max_channels_per_session = 8;
    cfg->max_targets = 64;
    cfg->max_model_entries = 1u << 20;
    cfg->max_query_bytes = 65536;
    cfg->max_response_bytes = 0;
    cfg->metadata_threshold = 4096;
    cfg->channel_path = "jpip";
}

int jpip_server_create(struct jpip_server **out, const struct jpip_server_hooks *hooks,
                       const struct jpip_server_config *cfg, const struct jpip_allocator *a)
{
    if (!out || !hooks || !hooks->resolve || !hooks->random)
        return JPIP_EINVAL;
    struct jpip_server *s = jpip__calloc(a, 1, sizeof *s);
    if (!s)
        return JPIP_ENOMEM;
    if (a) {
        s->alloc_copy = *a;
        s->alloc = &s->alloc_copy;
    }
    s->hooks = *hooks;
    struct jpip_server_config def;
    jpip_server_config_default(&def);
    s->cfg = cfg ? *cfg : def;
#define DEF(f)                                                                                     \
    if (!s->cfg.f)                                                                                 \
    s->cfg.f = def.f
    DEF(max_sessions);
    DEF(max_channels_per_session);
    DEF(max_targets);
    DEF(max_model_entries);
    DEF(max_query_bytes);
    DEF(metadata_threshold);
#undef DEF
    const char *pre = s->cfg.cid_prefix ? s->cfg.cid_prefix : "";
    if (strlen(pre) > JPIP__CID_PREFIX_MAX ||
        strspn(pre, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
            strlen(pre)) {
        jpip_server_destroy(s);
        *out = NULL;
        return JPIP_EINVAL;
    }
    snprintf(s->cid_prefix, sizeof s->cid_prefix, "%s", pre);
    s->cfg.cid_prefix = s->cid_prefix;
    snprintf(s->channel_path, sizeof s->channel_path, "%s",
             s->cfg.channel_path ? s->cfg.channel_path : "jpip");
    s->cfg.channel_path = s->channel_path;
    *out = s;
    return JPIP_OK;
}

void jpip_server_set_log(struct jpip_server *s, jpip_log_fn fn, void *user)
{
    s->log = fn;
    s->log_user = user;
}

#if defined(__GNUC__)
#define JPIP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define JPIP_PRINTF(f, a)
#endif

static void logf_(struct jpip_server *s, enum jpip_log_level lv, const char *fmt, ...)
    JPIP_PRINTF(3, 4);
static int header(struct jpip_response *r, const char *fmt, ...) JPIP_PRINTF(2, 3);
static void fail(struct jpip_response *r, int status, const char *fmt, ...) JPIP_PRINTF(3, 4);

static void logf_(struct jpip_server *s, enum jpip_log_level lv, const char *fmt, ...)
{
    if (!s->log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->log(s->log_user, lv, msg);
}

/* ---- targets ---- */

static void target_free(struct jpip_server *s, struct srv_target *t)
{
    jpip__srv_index_closing(s, t);
    for (unsigned i = 0; i < t->ncs; i++)
        jpip__free(s->alloc, t->cs[i].mainhdr);
    jpip__free(s->alloc, t->cs);
    jpip__metabins_free(&t->mb);
    jpip_target_destroy(t->t);
    jpip__cached_source_free(&t->cache);
    if (s->hooks.release)
        s->hooks.release(s->hooks.user, &t->ref);
    jpip__free(s->alloc, t->name);
    jpip__free(s->alloc, t);
}

void jpip__srv_target_unref(struct jpip_server *s, struct srv_target *t)
{
    if (!t)
        return;
    if (t->refs)
        t->refs--;
    if (t->refs == 0 && t->stale) {
        for (uint32_t i = 0; i < s->ntargets; i++)
            if (s->targets[i] == t) {
                s->targets[i] = s->targets[--s->ntargets];
                break;
            }
        target_free(s, t);
    }
}

int jpip__srv_target_cs(struct srv_target *t, unsigned cs, struct jpip__codestream **c)
{
    *c = jpip__target_codestream(t->t, cs);
    return *c ? JPIP_OK : JPIP_ENOTFOUND;
}

/* A stable target id: 128 bits of FNV-1a over the name and the resolver's version text, so
 * every server sharing the files (and a restarted one) gives the same id for the same file. */
static void make_tid(const char *name, size_t nlen, const char *version, char out[33])
{
    uint64_t h1 = UINT64_C(0xcbf29ce484222325), h2 = UINT64_C(0x84222325cbf29ce4);
    for (int pass = 0; pass < 2; pass++) {
        const char *p = pass ? version : name;
        size_t n = pass ? strlen(version) : nlen;
        for (size_t i = 0; i < n; i++) {
            h1 = (h1 ^ (uint8_t)p[i]) * UINT64_C(0x100000001b3);
            h2 = (h2 ^ (uint8_t)p[i]) * UINT64_C(0x100000001b3) + (h1 >> 29);
        }
        h1 = (h1 ^ 0xFF) * UINT64_C(0x100000001b3);
    }
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}

static int target_get(struct jpip_server *s, const char *name, size_t nlen, uint64_t now,
                      struct srv_target **out, char *msg, size_t msglen)
{
    struct jpip_target_ref ref;
    memset(&ref, 0, sizeof ref);
    int rc = s->hooks.resolve(s->hooks.user, name, nlen, &ref, msg, msglen);
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < s->ntargets; i++) {
        struct srv_target *t = s->targets[i];
        if (t->stale || t->name_len != nlen || memcmp(t->name, name, nlen) != 0)
            continue;
        if (strcmp(t->ref.version, ref.version) == 0) {
            if (s->hooks.release)
                s->hooks.release(s->hooks.user, &ref);
            t->last_used_ms = now;
            s->stats.target_hits++;
            *out = t;
            return JPIP_OK;
        }
        /* The file changed: new sessions get the new version. */
        t->stale = 1;
        if (t->refs == 0) {
            s->targets[i] = s->targets[--s->ntargets];
            target_free(s, t);
        }
        break;
    }
    /* Evict idle targets beyond the limit. */
    while (s->ntargets >= s->cfg.max_targets) {
        uint32_t victim = UINT32_MAX;
        for (uint32_t i = 0; i < s->ntargets; i++)
            if (s->targets[i]->refs == 0 &&
                (victim == UINT32_MAX ||
                 s->targets[i]->last_used_ms < s->targets[victim]->last_used_ms))
                victim = i;
        if (victim == UINT32_MAX)
            break;
        struct srv_target *v = s->targets[victim];
        s->targets[victim] = s->targets[--s->ntargets];
        target_free(s, v);
    }
    struct srv_target *t = jpip__calloc(s->alloc, 1, sizeof *t);
    if (!t) {
        if (s->hooks.release)
            s->hooks.release(s->hooks.user, &ref);
        return JPIP_ENOMEM;
    }
    t->ref = ref;
    t->name = jpip__alloc(s->alloc, nlen + 1);
    if (!t->name) {
        target_free(s, t);
        return JPIP_ENOMEM;
    }
    memcpy(t->name, name, nlen);
    t->name[nlen] = '\0';
    t->name_len = nlen;
    t->mb.alloc = s->alloc;
    rc = jpip__cached_source_init(&t->cache, &t->ref.src, 0, 0, s->alloc);
    if (rc < 0) {
        target_free(s, t);
        return rc;
    }
    rc = jpip_target_open(&t->t, &t->cache.src, s->alloc, NULL);
    if (rc < 0) {
        snprintf(msg, msglen, "%s", t->t ? jpip_target_errmsg(t->t) : jpip_strerror(rc));
        target_free(s, t);
        return rc;
    }
    t->kind = jpip_target_kind(t->t);
    uint32_t ncs;
    const struct jpip__cs_location *loc = jpip__target_locations(t->t, &ncs);
    t->ncs = ncs;
    t->cs = jpip__calloc(s->alloc, ncs, sizeof *t->cs);
    if (!t->cs) {
        target_free(s, t);
        return JPIP_ENOMEM;
    }
    for (unsigned i = 0; i < ncs; i++)
        t->cs[i].dmax = jpip__window_dmax(&jpip__target_codestream(t->t, i)->mh);
    struct jpip__err err;
    rc = jpip__metabins_build(&t->mb, jpip__target_boxes(t->t), loc, ncs, s->cfg.metadata_threshold,
                              s->alloc, &err);
    if (rc < 0) {
        snprintf(msg, msglen, "%s", err.msg);
        target_free(s, t);
        return rc;
    }
    make_tid(name, nlen, ref.version, t->tid);
    make_tid(name, nlen, "packet index", t->index_key);
    jpip__srv_index_load(s, t);
    t->last_used_ms = now;
    struct srv_target **nv = jpip__realloc(s->alloc, s->targets, s->ntargets * sizeof *nv,
                                           (s->ntargets + 1) * sizeof *nv);
    if (!nv) {
        target_free(s, t);
        return JPIP_ENOMEM;
    }
    s->targets = nv;
    s->targets[s->ntargets++] = t;
    s->stats.target_misses++;
    logf_(s, JPIP_LOG_INFO, "opened target %s (tid %s, %u codestream%s)", t->name, t->tid, ncs,
          ncs == 1 ? "" : "s");
    *out = t;
    return JPIP_OK;
}

/* ---- sessions and channels ---- */

static struct srv_channel *channel_find(struct jpip_server *s, const char *cid, size_t len)
{
    if (len != strlen(s->cid_prefix) + JPIP__CID_LEN)
        return NULL;
    for (uint32_t i = 0; i < s->nsessions; i++) {
        struct srv_session *ss = s->sessions[i];
        for (uint32_t k = 0; k < ss->nch; k++)
            if (memcmp(ss->ch[k].cid, cid, len) == 0)
                return &ss->ch[k];
    }
    return NULL;
}

static int new_cid(struct jpip_server *s, char *out)
{
    size_t pl = strlen(s->cid_prefix);
    memcpy(out, s->cid_prefix, pl);
    out += pl;
    uint8_t rnd[16];
    int rc = s->hooks.random(s->hooks.user, rnd, sizeof rnd);
    if (rc < 0)
        return rc;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[rnd[i] >> 4];
        out[2 * i + 1] = hex[rnd[i] & 15];
    }
    out[JPIP__CID_LEN] = '\0';
    return JPIP_OK;
}

static int channel_add(struct jpip_server *s, struct srv_session *ss, struct srv_channel **out)
{
    if (ss->nch >= s->cfg.max_channels_per_session)
        return JPIP_ELIMIT;
    struct srv_channel *nv =
        jpip__realloc(s->alloc, ss->ch, ss->nch * sizeof *nv, (ss->nch + 1) * sizeof *nv);
    if (!nv)
        return JPIP_ENOMEM;
    /* Responses point at channels: fix them up after the move. */
    for (uint32_t k = 0; k < ss->nch; k++)
        if (nv[k].active)
            nv[k].active->chan = &nv[k];
    ss->ch = nv;
    struct srv_channel *c = &ss->ch[ss->nch];
    memset(c, 0, sizeof *c);
    int rc = new_cid(s, c->cid);
    if (rc < 0)
        return rc;
    c->sess = ss;
    ss->nch++;
    *out = c;
    return JPIP_OK;
}

static void session_destroy(struct jpip_server *s, struct srv_session *ss)
{
    for (uint32_t k = 0; k < ss->nch; k++)
        if (ss->ch[k].active) {
            ss->ch[k].active->sess = NULL;
            ss->ch[k].active->chan = NULL;
            ss->ch[k].active->cm = NULL;
            ss->ch[k].active->preempted = 1;
        }
    for (uint32_t i = 0; i < s->nsessions; i++)
        if (s->sessions[i] == ss) {
            s->sessions[i] = s->sessions[--s->nsessions];
            break;
        }
    jpip__cm_free(&ss->cm);
    jpip__free(s->alloc, ss->ch);
    jpip__srv_target_unref(s, ss->tgt);
    jpip__free(s->alloc, ss);
}

static void channel_close(struct jpip_server *s, struct srv_channel *c)
{
    struct srv_session *ss = c->sess;
    if (c->active) {
        c->active->chan = NULL;
        c->active->preempted = 1;
    }
    uint32_t k = (uint32_t)(c - ss->ch);
    ss->ch[k] = ss->ch[ss->nch - 1];
    ss->nch--;
    if (k < ss->nch && ss->ch[k].active)
        ss->ch[k].active->chan = &ss->ch[k];
    if (ss->nch == 0)
        session_destroy(s, ss);
}

void jpip_server_destroy(struct jpip_server *s)
{
    if (!s)
        return;
    while (s->nsessions)
        session_destroy(s, s->sessions[0]);
    for (uint32_t i = 0; i < s->ntargets; i++)
        target_free(s, s->targets[i]);
    jpip__free(s->alloc, s->targets);
    jpip__free(s->alloc, s->sessions);
    struct jpip_allocator copy = s->alloc_copy;
    jpip__free(s->alloc ? &copy : NULL, s);
}

/* ---- responses ---- */

static struct jpip_response *response_new(struct jpip_server *s)
{
    struct jpip_response *r = jpip__calloc(s->alloc, 1, sizeof *r);
    if (!r)
        return NULL;
    r->srv = s;
    jpip__buf_init(&r->headers, s->alloc, 1 << 16);
    jpip__cm_init(&r->own_cm, s->alloc, s->cfg.max_model_entries);
    r->budget = UINT64_MAX;
    r->status = 200;
    snprintf(r->reason, sizeof r->reason, "OK");
    return r;
}

static int header(struct jpip_response *r, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line - 2)
        return JPIP_ELIMIT;
    memcpy(line + n, "\r\n", 2);
    return jpip__buf_append(&r->headers, line, (size_t)n + 2);
}

/* Make r an error response: no body, a one-line reason. */
static void fail(struct jpip_response *r, int status, const char *fmt, ...)
{
    r->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
    for (char *p = r->reason; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    jpip__buf_reset(&r->headers);
    header(r, "Content-Type: text/plain");
    if (status == 503) /* a limit: the client may come back */
        header(r, "Retry-After: 5");
    r->phase = 4;
}

static int status_of(int rc)
{
    switch (rc) {
    case JPIP_EMALFORMED: return 400;
    case JPIP_EPROTOCOL: return 400;
    case JPIP_ENOTFOUND: return 404;
    case JPIP_EINVAL: return 403;
    case JPIP_EUNSUPPORTED: return 501;
    case JPIP_ELIMIT: return 503;
    default: return 500;
    }
}

static int type_choice(const struct jpip__request *q, int *jpt)
{
    *jpt = 0;
    if (!jpip__request_has(q, JPIP__F_TYPE))
        return JPIP_OK;
    int jpp_ok = 0, jpt_ok = 0;
    for (uint32_t i = 0; i < q->ntype; i++) {
        if (q->type[i].kind == JPIP__TYPE_JPP || q->type[i].kind == JPIP__TYPE_ANY)
            jpp_ok = 1;
        if (q->type[i].kind == JPIP__TYPE_JPT)
            jpt_ok = 1;
    }
    if (jpp_ok)
        return JPIP_OK;
    if (jpt_ok) {
        *jpt = 1;
        return JPIP_OK;
    }
    return JPIP_EUNSUPPORTED;
}

static void dispatch(struct jpip_server *s, struct jpip_response *r, const char *path,
                     size_t path_len, const struct jpip__request *q, uint64_t now)
{
    char msg[256] = "";
    struct jpip__err err;
    jpip__err_clear(&err);
    int rc;
    /* Fields we refuse outright. */
    if (jpip__request_has(q, JPIP__F_UPLOAD))
        return fail(r, 501, "upload is not supported");
    for (uint32_t i = 0; i < q->npref; i++)
        if (q->pref[i].required) {
            header(r, "JPIP-pref: %.*s/r", (int)q->pref[i].text.len, q->pref[i].text.ptr);
            return fail(r, 501, "required preference '%.*s' is not supported",
                        (int)q->pref[i].text.len, q->pref[i].text.ptr);
        }
    int jpt;
    if (type_choice(q, &jpt) < 0)
        return fail(r, 415,
                    "none of the requested return types can be served "
                    "(jpp-stream and jpt-stream can)");
    if (jpip__request_has(q, JPIP__F_TPMODEL) && !jpt)
        return fail(r, 400, "tpmodel is inappropriate for a jpp-stream");

    /* Channel, session, target. */
    struct srv_channel *chan = NULL;
    if (jpip__request_has(q, JPIP__F_CID)) {
        chan = channel_find(s, q->cid.ptr, q->cid.len);
        if (!chan)
            return fail(r, 404, "unknown channel '%.*s'", (int)(q->cid.len > 64 ? 64 : q->cid.len),
                        q->cid.ptr);
    }
    /* cclose: channels of the same session (or any named one when no cid is given). */
    if (jpip__request_has(q, JPIP__F_CCLOSE)) {
        if (q->cclose_all) {
            if (!chan)
                return fail(r, 400, "cclose=* needs a cid");
            struct srv_session *ss = chan->sess;
            while (ss->nch > 1)
                channel_close(s, &ss->ch[ss->nch - 1] == chan ? &ss->ch[0] : &ss->ch[ss->nch - 1]);
        } else {
            for (uint32_t i = 0; i < q->ncclose; i++) {
                struct srv_channel *c = channel_find(s, q->cclose[i].ptr, q->cclose[i].len);
                if (!c)
                    return fail(r, 404, "cclose: unknown channel '%.*s'",
                                (int)(q->cclose[i].len > 64 ? 64 : q->cclose[i].len),
                                q->cclose[i].ptr);
                if (chan && c->sess != chan->sess)
                    return fail(r, 400, "cclose names a channel of another session");
            }
            int closes_own = 0;
            for (uint32_t i = 0; i < q->ncclose; i++) {
                struct srv_channel *c = channel_find(s, q->cclose[i].ptr, q->cclose[i].len);
                if (c == chan) {
                    closes_own = 1;
                    continue;
                }
                if (c)
                    channel_close(s, c);
            }
            if (closes_own) {
                channel_close(s, chan);
                /* Nothing more can be sent on a closed channel. */
                header(r, "Content-Type: %s", jpt ? "image/jpt-stream" : "image/jpp-stream");
                header(r, "Cache-Control: no-cache");
                r->phase = 3;
                r->eor_reason = 2;
                return;
            }
        }
    }
    struct srv_target *tgt = NULL;
    const char *name = NULL;
    size_t nlen = 0;
    int delegated = 0;
    if (jpip__request_has(q, JPIP__F_TARGET)) {
        name = q->target.ptr;
        nlen = q->target.len;
    } else {
        while (path_len && *path == '/') {
            path++;
            path_len--;
        }
        if (path_len && !(path_len == strlen(s->channel_path) &&
                          memcmp(path, s->channel_path, path_len) == 0)) {
            name = path;
            nlen = path_len;
        }
    }
    for (uint32_t i = 0; i < q->ncnew && !chan && name && s->hooks.delegate; i++)
        delegated |= q->cnew[i].transport == JPIP__TRANSPORT_HTTP;
    if (delegated)
        return jpip__srv_delegate(s, r, name, nlen);
    if (chan) {
        tgt = chan->sess->tgt;
        if (name && (nlen != tgt->name_len || memcmp(name, tgt->name, nlen) != 0))
            return fail(r, 503, "channel '%s' belongs to another target", chan->cid);
    } else {
        if (!name)
            return fail(r, 400, "no target: name it in the path or with target=");
        rc = target_get(s, name, nlen, now, &tgt, msg, sizeof msg);
        if (rc < 0)
            return fail(r, status_of(rc), "%.*s: %s", (int)(nlen > 100 ? 100 : nlen), name,
                        msg[0] ? msg : jpip_strerror(rc));
    }
    r->tgt = tgt;
    tgt->refs++;
    snprintf(r->st.target, sizeof r->st.target, "%s", tgt->name);

    /* tid: a stale or wrong tid means the client's cache is of another version. */
    int tid_ok = 1;
    if (jpip__request_has(q, JPIP__F_TID)) {
        tid_ok = q->tid.len == strlen(tgt->tid) && memcmp(q->tid.ptr, tgt->tid, q->tid.len) == 0;
        if (!tid_ok)
            header(r, "JPIP-tid: %s", tgt->tid);
    }
    /* New channel. */
    int want_http = 0;
    for (uint32_t i = 0; i < q->ncnew; i++)
        if (q->cnew[i].transport == JPIP__TRANSPORT_HTTP)
            want_http = 1;
    if (!chan && want_http) {
        if (s->nsessions >= s->cfg.max_sessions) {
            return fail(r, 503, "too many sessions (limit %u)", s->cfg.max_sessions);
        }
        struct srv_session *ss = jpip__calloc(s->alloc, 1, sizeof *ss);
        struct srv_session **nv =
            ss ? jpip__realloc(s->alloc, s->sessions, s->nsessions * sizeof *nv,
                               (s->nsessions + 1) * sizeof *nv)
               : NULL;
        if (!nv) {
            jpip__free(s->alloc, ss);
            return fail(r, 500, "out of memory");
        }
        s->sessions = nv;
        s->sessions[s->nsessions++] = ss;
        ss->tgt = tgt;
        tgt->refs++;
        ss->created_ms = now;
        ss->last_used_ms = now;
        ss->jpt = jpt;
        s->stats.sessions_created++;
        jpip__cm_init(&ss->cm, s->alloc, s->cfg.max_model_entries);
        rc = channel_add(s, ss, &chan);
        if (rc < 0) {
            session_destroy(s, ss);
            return fail(r, status_of(rc), "cannot open a channel: %s", jpip_strerror(rc));
        }
        header(r, "JPIP-cnew: cid=%s,path=%s,transport=http", chan->cid, s->channel_path);
        if (!jpip__request_has(q, JPIP__F_TID) || tid_ok)
            header(r, "JPIP-tid: %s", tgt->tid);
    } else if (chan && want_http) {
        struct srv_channel *nc;
        rc = channel_add(s, chan->sess, &nc);
        if (rc == JPIP_OK) {
            chan = nc;
            header(r, "JPIP-cnew: cid=%s,path=%s,transport=http", chan->cid, s->channel_path);
        }
    }
    if (chan) {
        struct srv_session *ss = chan->sess;
        ss->last_used_ms = now;
        /* A new request pre-empts the channel's unfinished response unless wait=yes. */
        if (chan->active && chan->active != r) {
            if (!(jpip__request_has(q, JPIP__F_WAIT) && q->wait))
                chan->active->preempted = 1;
            chan->active->chan = NULL;
        }
        chan->active = r;
        r->chan = chan;
        r->sess = ss;
        r->cm = &ss->cm;
        snprintf(r->st.cid, sizeof r->st.cid, "%s", chan->cid);
        if (!tid_ok)
            jpip__cm_clear(&ss->cm);
    } else {
        r->cm = &r->own_cm;
    }
    if (jpip__request_has(q, JPIP__F_QID))
        header(r, "JPIP-qid: %u", q->qid);
    if (jpip__request_has(q, JPIP__F_QUALITY))
        header(r, "JPIP-quality: -1");
    if (jpip__request_has(q, JPIP__F_HANDLED))
        header(r, "JPIP-handled: target,subtarget,tid,cid,cnew=http,cclose,qid,fsiz,roff,rsiz,"
                  "comps,stream,context,layers,metareq,len,align,wait,type,model,need");
    /* On a channel, a request without type= keeps the session's return type. */
    if (chan && !jpip__request_has(q, JPIP__F_TYPE))
        jpt = chan->sess->jpt;
    r->jpt = jpt;
    if (jpip__request_has(q, JPIP__F_FSIZ)) {
        int n = snprintf(r->st.view, sizeof r->st.view, "fsiz=%u,%u", q->fsiz[0], q->fsiz[1]);
        if (n > 0 && jpip__request_has(q, JPIP__F_ROFF))
            n += snprintf(r->st.view + n, sizeof r->st.view - (size_t)n, " roff=%u,%u", q->roff[0],
                          q->roff[1]);
        if (n > 0 && (size_t)n < sizeof r->st.view && jpip__request_has(q, JPIP__F_RSIZ))
            snprintf(r->st.view + n, sizeof r->st.view - (size_t)n, " rsiz=%u,%u", q->rsiz[0],
                     q->rsiz[1]);
    }
    /* What the client declares it holds is ignored when its tid is not this version's. */
    rc = jpip__plan_build(r, q, tid_ok, &err);
    if (rc < 0)
        return fail(r, status_of(rc), "%s", err.msg[0] ? err.msg : jpip_strerror(rc));
    header(r, "Content-Type: %s", jpt ? "image/jpt-stream" : "image/jpp-stream");
    header(r, "Cache-Control: no-cache");
}

int jpip_server_handle(struct jpip_server *s, const char *path, size_t path_len, const char *query,
                       size_t query_len, uint64_t now_ms, struct jpip_response **out)
{
    s->now_ms = now_ms;
    struct jpip_response *r = response_new(s);
    if (!r)
        return JPIP_ENOMEM;
    *out = r;
    struct jpip__request q;
    struct jpip__request_limits lim;
    jpip__request_limits_default(&lim);
    lim.max_query_bytes = (size_t)s->cfg.max_query_bytes;
    lim.alloc = s->alloc;
    struct jpip__err err;
    jpip__err_clear(&err);
    int rc = jpip__request_parse(&q, query ? query : "", query_len, &lim, &err);
    if (rc < 0) {
        fail(r, rc == JPIP_ELIMIT ? 413 : (rc == JPIP_ENOMEM ? 500 : 400), "%s", err.msg);
        jpip__request_free(&q);
        return JPIP_OK;
    }
    s->query = query ? query : "";
    s->query_len = query_len;
    dispatch(s, r, path ? path : "", path_len, &q, now_ms);
    /* A stateless request that named the main-header wildcard etc. is fully planned now;
     * the request's memory is no longer needed. */
    jpip__request_free(&q);
    return JPIP_OK;
}

int jpip_response_status(const struct jpip_response *r)
{
    return r->status;
}

const char *jpip_response_reason(const struct jpip_response *r)
{
    return r->reason;
}

const char *jpip_response_headers(const struct jpip_response *r)
{
    static const char empty[] = "";
    if (!r->headers.len)
        return empty;
    /* Keep a terminating NUL after the lines. */
    struct jpip__buf *h = (struct jpip__buf *)&r->headers;
    if (jpip__buf_reserve(h, 1) < 0)
        return empty;
    h->data[h->len] = '\0';
    return (const char *)h->data;
}

int jpip_response_read(struct jpip_response *r, uint8_t *buf, size_t cap, size_t *n, int *done)
{
    *n = 0;
    *done = 0;
    if (cap < 64)
        return JPIP_EINVAL;
    int rc = JPIP_OK;
    if (r->phase < 4)
        rc = jpip__response_produce(r, buf, cap, n);
    r->st.body_bytes += *n;
    *done = r->phase >= 4;
    if (*done && r->chan && r->chan->active == r)
        r->chan->active = NULL;
    return rc;
}

void jpip_response_stats(const struct jpip_response *r, struct jpip_response_stats *st)
{
    *st = r->st;
    st->eor_reason = r->eor_reason;
}

void jpip_response_stop(struct jpip_response *r, uint8_t eor_reason)
{
    if (r && r->phase < 3 && eor_reason)
        r->stop_reason = eor_reason;
}

void jpip_response_touch(struct jpip_response *r, uint64_t now_ms)
{
    if (r && r->sess && r->sess->last_used_ms < now_ms)
        r->sess->last_used_ms = now_ms;
}

static int session_busy(const struct srv_session *ss)
{
    for (uint32_t k = 0; k < ss->nch; k++)
        if (ss->ch[k].active)
            return 1;
    return 0;
}

uint32_t jpip_server_reap(struct jpip_server *s, uint64_t now_ms)
{
    const uint64_t idle = s->cfg.session_idle_ms, life = s->cfg.session_lifetime_ms;
    if (!idle && !life)
        return 0;
    uint32_t closed = 0;
    for (uint32_t i = 0; i < s->nsessions;) {
        struct srv_session *ss = s->sessions[i];
        if (session_busy(ss)) {
            if (ss->last_used_ms < now_ms)
                ss->last_used_ms = now_ms;
            i++;
            continue;
        }
        const int is_idle = idle && now_ms - ss->last_used_ms >= idle;
        const int expired = life && now_ms - ss->created_ms >= life;
        if (!is_idle && !expired) {
            i++;
            continue;
        }
        logf_(s, JPIP_LOG_DEBUG, "session of %s closed: %s", ss->tgt->name,
              expired ? "lifetime over" : "idle");
        session_destroy(s, ss); /* moves the last session into slot i */
        closed++;
    }
    s->stats.sessions_reaped += closed;
    return closed;
}

void jpip_server_stats(const struct jpip_server *s, struct jpip_server_stats *st)
{
    *st = s->stats;
    st->sessions = s->nsessions;
    st->targets = s->ntargets;
}

void jpip_response_destroy(struct jpip_response *r)
{
    if (!r)
        return;
    struct jpip_server *s = r->srv;
    s->stats.model_bytes_saved += r->st.model_bytes_saved;
    if (r->chan && r->chan->active == r)
        r->chan->active = NULL;
    jpip__plan_free(r);
    jpip__cm_free(&r->own_cm);
    jpip__buf_free(&r->headers);
    if (r->tgt)
        jpip__srv_index_save(s, r->tgt, 0);
    jpip__srv_target_unref(s, r->tgt);
    jpip__free(s->alloc, r);
}
