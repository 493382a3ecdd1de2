/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Response bodies: a JPP/JPT-stream pulled from the server core as the connection drains
 * (unknown length, so HTTP/1.1 sends it chunked), or produced whole first and sent with a
 * Content-Length; plus small text bodies for errors. Every response carries the CORS headers
 * browser clients need to read the JPIP-* headers (jpip-notes §11 item 21).
 */
#include "httpd/httpd_internal.h"

#include <stdio.h>
#include <string.h>

#include <jpip/server.h>

#include "common/alloc.h"
#include "common/buf.h"

/* Reads smaller than the server's minimum go through this staging area. */
#define STAGE_BYTES 256

static const char cors_expose[] =
    "JPIP-cnew, JPIP-tid, JPIP-fsiz, JPIP-roff, JPIP-rsiz, JPIP-comps, JPIP-layers, JPIP-len, "
    "JPIP-qid, JPIP-stream, JPIP-context, JPIP-quality, JPIP-pref, JPIP-handled";

struct http_body {
    struct jpip_httpd *h;
    struct shaper_flow *flow; /* NULL when no rate applies */
    struct jpip_response *r;  /* streaming mode; NULL once destroyed or in buffered mode */
    struct http_req *req;     /* NULL once the request record is gone */
    uint8_t *data;            /* buffered mode: the whole body */
    size_t len;
    uint8_t stage[STAGE_BYTES];
    size_t stage_len, stage_pos;
    int done;
    int stopped; /* jpip_response_stop was called (shutdown) */
};

int jpip__httpd_add_cors(struct MHD_Response *resp)
{
    if (MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*") != MHD_YES ||
        MHD_add_response_header(resp, "Access-Control-Expose-Headers", cors_expose) != MHD_YES)
        return JPIP_ENOMEM;
    return JPIP_OK;
}

struct MHD_Response *jpip__httpd_text_response(const char *text)
{
    const size_t n = strlen(text);
    char *body = jpip__alloc(NULL, n + 2);
    if (!body)
        return NULL;
    memcpy(body, text, n);
    body[n] = '\n';
    body[n + 1] = '\0';
    struct MHD_Response *resp = MHD_create_response_from_buffer(n + 1, body, MHD_RESPMEM_MUST_COPY);
    jpip__free(NULL, body);
    if (!resp)
        return NULL;
    if (MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8") != MHD_YES ||
        jpip__httpd_add_cors(resp) != JPIP_OK) {
        MHD_destroy_response(resp);
        return NULL;
    }
    return resp;
}

static void account(struct http_body *b, size_t n)
{
    b->h->ctr.body_bytes += n;
    if (b->req)
        b->req->body_bytes += n;
}

/* Pull the next piece of a streamed body. */
static ssize_t stream_read(struct http_body *b, char *buf, size_t max)
{
    if (b->stage_pos < b->stage_len) {
        size_t k = b->stage_len - b->stage_pos;
        if (k > max)
            k = max;
        memcpy(buf, b->stage + b->stage_pos, k);
        b->stage_pos += k;
        account(b, k);
        return (ssize_t)k;
    }
    if (b->done || !b->r)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /* Shutting down: end the body properly, with an EOR saying the session is over. */
    if (!b->stopped && __atomic_load_n(&b->h->ending, __ATOMIC_RELAXED)) {
        jpip_response_stop(b->r, 6);
        b->stopped = 1;
    }
    /* The producer always advances; a few empty reads in a row mean it is stuck, and the
     * connection is better cut than the server thread spun forever. */
    for (int empty = 0; empty < 4; empty++) {
        size_t n = 0;
        int done = 0;
        int rc;
        if (max >= STAGE_BYTES) {
            rc = jpip_response_read(b->r, (uint8_t *)buf, max, &n, &done);
        } else {
            rc = jpip_response_read(b->r, b->stage, sizeof b->stage, &b->stage_len, &done);
            b->stage_pos = 0;
        }
        if (rc != JPIP_OK) {
            jpip__httpd_log(b->h, JPIP_LOG_ERROR, "response body failed: %s", jpip_strerror(rc));
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        b->done = done;
        if (max < STAGE_BYTES) {
            if (b->stage_len == 0 && done)
                return MHD_CONTENT_READER_END_OF_STREAM;
            if (b->stage_len)
                return stream_read(b, buf, max);
        } else {
            if (n) {
                account(b, n);
                return (ssize_t)n;
            }
            if (done)
                return MHD_CONTENT_READER_END_OF_STREAM;
        }
    }
    jpip__httpd_log(b->h, JPIP_LOG_ERROR, "response body stalled: no bytes and no end");
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static ssize_t body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct http_body *b = cls;
    if (max > b->h->cfg.chunk_bytes)
        max = b->h->cfg.chunk_bytes;
    if (b->data && pos >= b->len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (!b->data && b->stage_pos >= b->stage_len && (b->done || !b->r))
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (b->flow) {
        /* Wait for the rate limits: 0 means the connection is suspended until a grant. */
        const long g = jpip__shaper_take(&b->h->shaper, b->flow, max);
        if (g < 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (g == 0)
            return 0;
        max = (size_t)g;
    }
    ssize_t n;
    if (b->data) {
        size_t k = b->len - (size_t)pos;
        if (k > max)
            k = max;
        memcpy(buf, b->data + pos, k);
        account(b, k);
        n = (ssize_t)k;
    } else {
        n = stream_read(b, buf, max);
    }
    if (b->flow)
        jpip__shaper_unused(&b->h->shaper, b->flow, n > 0 ? max - (size_t)n : max);
    return n;
}

static void body_free(void *cls)
{
    struct http_body *b = cls;
    if (b->req)
        jpip__httpd_body_detach(b);
    jpip__shaper_flow_end(&b->h->shaper, b->flow);
    jpip_response_destroy(b->r);
    jpip__free(NULL, b->data);
    jpip__free(NULL, b);
}

void jpip__httpd_note_stats(struct http_req *q, const struct jpip_response *r)
{
    struct jpip_response_stats st;
    jpip_response_stats(r, &st);
    snprintf(q->cid, sizeof q->cid, "%s", st.cid);
    snprintf(q->view, sizeof q->view, "%s", st.view);
    q->databin_bytes = st.databin_bytes;
    q->messages = st.messages;
    q->eor_reason = st.messages || st.eor_reason ? st.eor_reason : -1;
}

void jpip__httpd_body_detach(struct http_body *b)
{
    if (!b || !b->req)
        return;
    if (b->r) {
        jpip__httpd_note_stats(b->req, b->r);
        /* The session was busy until now: its idle time starts here. */
        jpip_response_touch(b->r, jpip__httpd_mono_us() / 1000u);
    }
    b->req->body = NULL;
    b->req = NULL;
}

/* Add every "Name: value\r\n" line of the server's headers. */
static int add_server_headers(struct MHD_Response *resp, const char *lines)
{
    char name[128], value[1024];
    const char *p = lines;
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        const size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (colon && (size_t)(colon - p) < sizeof name) {
            const size_t nl = (size_t)(colon - p);
            const char *v = colon + 1;
            while (v < p + len && *v == ' ')
                v++;
            const size_t vl = (size_t)(p + len - v);
            if (vl < sizeof value) {
                memcpy(name, p, nl);
                name[nl] = '\0';
                memcpy(value, v, vl);
                value[vl] = '\0';
                if (MHD_add_response_header(resp, name, value) != MHD_YES)
                    return JPIP_ENOMEM;
            }
        }
        if (!eol)
            break;
        p = eol + 2;
    }
    return JPIP_OK;
}

/* Produce the whole body into b->data (at most max bytes). */
static int produce_all(struct http_body *b, uint64_t max, char *reason, size_t reason_len)
{
    struct jpip__buf out;
    jpip__buf_init(&out, NULL, max > SIZE_MAX ? SIZE_MAX : (size_t)max);
    int done = 0;
    while (!done) {
        size_t want = 64u * 1024u;
        if (out.max - out.len < want)
            want = out.max - out.len;
        if (want < 64 || jpip__buf_reserve(&out, want) != JPIP_OK) {
            snprintf(reason, reason_len,
                     "response longer than the %llu bytes a Content-Length body may hold; "
                     "ask with len= or use chunked transfer",
                     (unsigned long long)max);
            jpip__buf_free(&out);
            return JPIP_ELIMIT;
        }
        size_t n = 0;
        const int rc = jpip_response_read(b->r, out.data + out.len, want, &n, &done);
        if (rc != JPIP_OK) {
            snprintf(reason, reason_len, "response body failed: %s", jpip_strerror(rc));
            jpip__buf_free(&out);
            return rc;
        }
        out.len += n;
    }
    b->len = out.len;
    b->data = jpip__buf_take(&out, &b->len);
    if (!b->data) /* an empty body: keep a valid pointer so the buffered path is taken */
        b->data = jpip__alloc(NULL, 1);
    return b->data ? JPIP_OK : JPIP_ENOMEM;
}

struct MHD_Response *jpip__httpd_body_response(struct http_req *q, struct MHD_Connection *conn,
                                               struct jpip_response *r, int buffered, int *status,
                                               char *reason, size_t reason_len)
{
    struct http_body *b = jpip__calloc(NULL, 1, sizeof *b);
    if (!b) {
        jpip_response_destroy(r);
        *status = 500;
        snprintf(reason, reason_len, "out of memory");
        return NULL;
    }
    b->h = q->h;
    b->r = r;
    if (buffered) {
        const int rc = produce_all(b, q->h->cfg.max_buffered_bytes, reason, reason_len);
        if (rc != JPIP_OK) {
            jpip__httpd_log(q->h, JPIP_LOG_WARN, "%s", reason);
            body_free(b);
            *status = 500;
            return NULL;
        }
    }
    /* Rates apply per session (its channel id) or, for stateless requests, per client
     * address. */
    if (q->h->shaper.enabled) {
        char key[JPIP__SHAPER_KEY];
        snprintf(key, sizeof key, "%s%s",
                 q->cid[0] ? "cid:" : "ip:", q->cid[0] ? q->cid : q->client);
        b->flow = jpip__shaper_flow_new(&q->h->shaper, key, conn);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(buffered ? (uint64_t)b->len : MHD_SIZE_UNKNOWN,
                                          q->h->cfg.chunk_bytes, body_read, b, body_free);
    if (!resp) {
        body_free(b);
        *status = 500;
        snprintf(reason, reason_len, "out of memory");
        return NULL;
    }
    /* From here the MHD response owns b, and b owns r. */
    b->req = q;
    q->body = b;
    if (add_server_headers(resp, jpip_response_headers(r)) != JPIP_OK ||
        jpip__httpd_add_cors(resp) != JPIP_OK) {
        MHD_destroy_response(resp); /* frees b and r */
        *status = 500;
        snprintf(reason, reason_len, "out of memory");
        return NULL;
    }
    return resp;
}
