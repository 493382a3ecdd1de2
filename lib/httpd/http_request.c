/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One HTTP request through the front end: the raw request target is captured before the HTTP
 * library decodes it (so the query reaches the server core byte for byte), a POST form body is
 * collected up to the configured bound, the method is dispatched (GET/POST to the core,
 * OPTIONS as a CORS preflight, GET /healthz, 405 otherwise), and the finished request is
 * reported to the access-log callback. Body production is http_body.c's job.
 */
#include "httpd/httpd_internal.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jpip/server.h>

#include "common/alloc.h"

static const char allow_methods[] = "GET, POST, OPTIONS";

void *jpip__httpd_uri_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct jpip_httpd *h = cls;
    struct http_req *q = jpip__calloc(NULL, 1, sizeof *q);
    if (!q)
        return NULL;
    q->h = h;
    jpip__buf_init(&q->post, NULL, (size_t)h->cfg.max_query_bytes);
    q->start_us = jpip__httpd_mono_us();
    q->wall_us = jpip__httpd_wall_us();
    /* The request line already fits in the connection's bounded memory. */
    q->uri_len = uri ? strlen(uri) : 0;
    q->uri = jpip__alloc(NULL, q->uri_len + 1);
    if (!q->uri) {
        jpip__free(NULL, q);
        return NULL;
    }
    if (q->uri_len)
        memcpy(q->uri, uri, q->uri_len);
    q->uri[q->uri_len] = '\0';
    snprintf(q->client, sizeof q->client, "-");
    snprintf(q->method, sizeof q->method, "-");
    q->eor_reason = -1;
    const union MHD_ConnectionInfo *sc =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    q->over_limit = sc && sc->socket_context == jpip__httpd_over_limit;
    __atomic_add_fetch(&h->ctr.requests_active, 1, __ATOMIC_RELAXED);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        const socklen_t len = sa->sa_family == AF_INET6 ? (socklen_t)sizeof(struct sockaddr_in6)
                                                        : (socklen_t)sizeof(struct sockaddr_in);
        if (getnameinfo(sa, len, q->client, sizeof q->client, NULL, 0, NI_NUMERICHOST) != 0)
            snprintf(q->client, sizeof q->client, "-");
    }
    return q;
}

static void req_free(struct http_req *q)
{
    if (!q)
        return;
    if (q->body)
        jpip__httpd_body_detach(q->body);
    jpip__buf_free(&q->post);
    jpip__free(NULL, q->uri);
    jpip__free(NULL, q);
}

void jpip__httpd_completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
                              enum MHD_RequestTerminationCode toe)
{
    struct jpip_httpd *h = cls;
    struct http_req *q = *req_cls;
    if (!q)
        return;
    *req_cls = NULL;
    if (q->body)
        jpip__httpd_body_detach(q->body); /* its last facts into q */
    h->ctr.requests[jpip__httpd_status_slot(q->status)]++;
    h->ctr.databin_bytes += q->databin_bytes;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && q->status)
        h->ctr.dropped++;
    /* Back between requests: the keep-alive timeout applies again. */
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && h->cfg.send_timeout_s)
        MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
                                  (unsigned)h->cfg.connection_timeout_s);
    if (h->cfg.access) {
        char target[JPIP__HTTPD_LOG_TARGET + 1];
        const size_t n = q->uri_len < JPIP__HTTPD_LOG_TARGET ? q->uri_len : JPIP__HTTPD_LOG_TARGET;
        memcpy(target, q->uri, n);
        target[n] = '\0';
        struct jpip_httpd_access a;
        memset(&a, 0, sizeof a);
        a.time_us = q->wall_us;
        a.client = q->client;
        a.method = q->method;
        a.target = target;
        a.target_truncated = q->uri_len > JPIP__HTTPD_LOG_TARGET;
        a.status = q->status;
        a.body_bytes = q->body_bytes;
        a.duration_us = jpip__httpd_mono_us() - q->start_us;
        a.cid = q->cid;
        a.completed = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;
        a.view = q->view;
        a.databin_bytes = q->databin_bytes;
        a.messages = q->messages;
        a.eor_reason = q->eor_reason;
        h->cfg.access(h->cfg.access_user, &a);
    }
    req_free(q);
    __atomic_sub_fetch(&h->ctr.requests_active, 1, __ATOMIC_RELAXED);
}

/* Queue resp with status and drop our reference to it. */
static enum MHD_Result send_response(struct http_req *q, struct MHD_Connection *conn, int status,
                                     struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO; /* out of memory: the library closes the connection */
    const enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (q) {
        q->status = status;
        q->state = 2;
    }
    return rc;
}

/* A text/plain answer "reason\n", with extra headers (server lines, or NULL) and Allow for
 * 405. */
static enum MHD_Result send_text(struct http_req *q, struct MHD_Connection *conn, int status,
                                 const char *reason)
{
    struct MHD_Response *resp = jpip__httpd_text_response(reason);
    if (resp && status == 405 && MHD_add_response_header(resp, "Allow", allow_methods) != MHD_YES) {
        MHD_destroy_response(resp);
        resp = NULL;
    }
    /* Refusals for lack of room (and timeouts) close the connection; a 503 says when to
     * come back. */
    if (resp && (status == 503 || status == 408) &&
        (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES ||
         (status == 503 && MHD_add_response_header(resp, "Retry-After", "5") != MHD_YES))) {
        MHD_destroy_response(resp);
        resp = NULL;
    }
    if (q && resp)
        q->body_bytes += strlen(reason) + 1;
    return send_response(q, conn, status, resp);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode src[0..len) into dst (capacity >= len). Returns the decoded length, or -1
 * for a malformed escape. '+' stays '+' in a path. */
static long decode_path(const char *src, size_t len, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] != '%') {
            dst[o++] = src[i];
            continue;
        }
        if (i + 2 >= len)
            return -1;
        const int hi = hex_value(src[i + 1]);
        const int lo = hex_value(src[i + 2]);
        if (hi < 0 || lo < 0)
            return -1;
        dst[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    return (long)o;
}

/* The CORS preflight: 204 with what a browser client may send. */
static enum MHD_Result send_preflight(struct http_req *q, struct MHD_Connection *conn)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (resp &&
        (jpip__httpd_add_cors(resp) != JPIP_OK ||
         MHD_add_response_header(resp, "Access-Control-Allow-Methods", allow_methods) != MHD_YES ||
         MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                 "Content-Type, Cache-Control") != MHD_YES ||
         MHD_add_response_header(resp, "Access-Control-Max-Age", "86400") != MHD_YES ||
         MHD_add_response_header(resp, "Allow", allow_methods) != MHD_YES)) {
        MHD_destroy_response(resp);
        resp = NULL;
    }
    return send_response(q, conn, 204, resp);
}

/* An error from the server core: its reason as the body, its headers but Content-Type. */
static enum MHD_Result send_core_error(struct http_req *q, struct MHD_Connection *conn,
                                       struct jpip_response *r)
{
    const int status = jpip_response_status(r);
    struct MHD_Response *resp = jpip__httpd_text_response(jpip_response_reason(r));
    const char *p = jpip_response_headers(r);
    char name[64], value[512];
    while (resp && *p) {
        const char *eol = strstr(p, "\r\n");
        const size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (colon && (size_t)(colon - p) < sizeof name &&
            (size_t)(p + len - colon) < sizeof value) {
            const size_t nl = (size_t)(colon - p);
            const char *v = colon + 1;
            while (v < p + len && *v == ' ')
                v++;
            memcpy(name, p, nl);
            name[nl] = '\0';
            memcpy(value, v, (size_t)(p + len - v));
            value[p + len - v] = '\0';
            if (strcasecmp(name, "Content-Type") != 0 &&
                MHD_add_response_header(resp, name, value) != MHD_YES) {
                MHD_destroy_response(resp);
                resp = NULL;
            }
        }
        if (!eol)
            break;
        p = eol + 2;
    }
    /* A refusal for lack of room (too many sessions) says when to come back. */
    if (resp && status == 503 && !MHD_get_response_header(resp, "Retry-After") &&
        MHD_add_response_header(resp, "Retry-After", "5") != MHD_YES) {
        MHD_destroy_response(resp);
        resp = NULL;
    }
    if (resp)
        q->body_bytes += strlen(jpip_response_reason(r)) + 1;
    jpip_response_destroy(r);
    return send_response(q, conn, status, resp);
}

/* Hand a JPIP request (path decoded, query raw) to the server core and queue its answer. */
static enum MHD_Result serve_jpip(struct http_req *q, struct MHD_Connection *conn, const char *path,
                                  size_t path_len, const char *query, size_t query_len, int http10)
{
    struct jpip_httpd *h = q->h;
    if (query_len > h->cfg.max_query_bytes) {
        char why[128];
        snprintf(why, sizeof why, "request fields longer than %llu bytes",
                 (unsigned long long)h->cfg.max_query_bytes);
        return send_text(q, conn, 413, why);
    }
    struct jpip_response *r = NULL;
    const uint64_t now_ms = jpip__httpd_mono_us() / 1000u;
    jpip__httpd_reap(h, now_ms, 0);
    const int rc = jpip_server_handle(h->srv, path, path_len, query, query_len, now_ms, &r);
    if (rc != JPIP_OK || !r)
        return send_text(q, conn, 500, "out of memory");
    jpip__httpd_note_stats(q, r);
    const int status = jpip_response_status(r);
    if (status >= 300)
        return send_core_error(q, conn, r);
    int err_status = 500;
    char reason[256] = "";
    struct MHD_Response *resp = jpip__httpd_body_response(
        q, conn, r, h->cfg.content_length || http10, &err_status, reason, sizeof reason);
    if (!resp)
        return send_text(q, conn, err_status, reason);
    /* While the body goes out, a client that stops reading is dropped after send_timeout. */
    if (h->cfg.send_timeout_s)
        MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
                                  (unsigned)h->cfg.send_timeout_s);
    return send_response(q, conn, status, resp);
}

/* The request is complete (headers, and body for POST): answer it. */
static enum MHD_Result answer(struct http_req *q, struct MHD_Connection *conn, const char *version)
{
    const char *m = q->method;
    if (strcmp(m, "OPTIONS") == 0)
        return send_preflight(q, conn);

    /* Split the raw target into path and query; an absolute-form target loses its
     * scheme and authority. */
    const char *p = q->uri;
    if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
        p = strstr(p, "://") + 3;
        const char *slash = strchr(p, '/');
        p = slash ? slash : "/";
    }
    const char *qm = strchr(p, '?');
    const size_t raw_path_len = qm ? (size_t)(qm - p) : strlen(p);
    const char *query = qm ? qm + 1 : "";
    size_t query_len = strlen(query);
    const char *hash = memchr(query, '#', query_len);
    if (hash)
        query_len = (size_t)(hash - query);

    char *path = jpip__alloc(NULL, raw_path_len + 1);
    if (!path)
        return send_text(q, conn, 500, "out of memory");
    const long path_len = decode_path(p, raw_path_len, path);
    enum MHD_Result rc;
    if (path_len < 0) {
        rc = send_text(q, conn, 400, "malformed percent-escape in the path");
    } else if ((size_t)path_len == 8 && memcmp(path, "/healthz", 8) == 0 &&
               (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)) {
        rc = send_text(q, conn, 200, "ok");
    } else if (q->h->cfg.metrics && (size_t)path_len == 8 && memcmp(path, "/metrics", 8) == 0 &&
               (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)) {
        size_t len = 0;
        struct MHD_Response *resp = jpip__httpd_metrics_response(q->h, &len);
        q->body_bytes += len;
        rc = send_response(q, conn, 200, resp);
    } else if (strcmp(m, "GET") == 0) {
        rc = serve_jpip(q, conn, path, (size_t)path_len, query, query_len,
                        strcmp(version, MHD_HTTP_VERSION_1_0) == 0);
    } else if (strcmp(m, "POST") == 0) {
        /* The form body holds the fields; fields in the URL's query come first. */
        const size_t total = query_len + (query_len && q->post.len ? 1 : 0) + q->post.len;
        char *fields = jpip__alloc(NULL, total + 1);
        if (!fields) {
            rc = send_text(q, conn, 500, "out of memory");
        } else {
            memcpy(fields, query, query_len);
            size_t o = query_len;
            if (query_len && q->post.len)
                fields[o++] = '&';
            if (q->post.len)
                memcpy(fields + o, q->post.data, q->post.len);
            fields[total] = '\0';
            rc = serve_jpip(q, conn, path, (size_t)path_len, fields, total,
                            strcmp(version, MHD_HTTP_VERSION_1_0) == 0);
            jpip__free(NULL, fields);
        }
    } else {
        char why[64];
        snprintf(why, sizeof why, "method %s is not allowed (use GET or POST)", m);
        rc = send_text(q, conn, 405, why);
    }
    jpip__free(NULL, path);
    return rc;
}

/* Checks made when a POST's headers are in; non-zero status means answer at once. */
static int post_precheck(struct http_req *q, struct MHD_Connection *conn, char *why, size_t wl)
{
    const char *ct =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    static const char form[] = "application/x-www-form-urlencoded";
    if (ct && !(strncasecmp(ct, form, sizeof form - 1) == 0 &&
                (ct[sizeof form - 1] == '\0' || ct[sizeof form - 1] == ';' ||
                 ct[sizeof form - 1] == ' '))) {
        snprintf(why, wl, "a POST body must be %s", form);
        return 415;
    }
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        unsigned long long n = 0;
        int digits = 0;
        for (const char *c = cl; *c >= '0' && *c <= '9'; c++, digits++)
            n = n > (1ull << 40) ? n : n * 10 + (unsigned long long)(*c - '0');
        if (digits && n > q->h->cfg.max_query_bytes) {
            snprintf(why, wl, "request body longer than %llu bytes",
                     (unsigned long long)q->h->cfg.max_query_bytes);
            return 413;
        }
    }
    return 0;
}

/* The request's headers and body took longer than request_timeout to arrive. */
static int request_late(const struct http_req *q)
{
    const uint64_t limit = (uint64_t)q->h->cfg.request_timeout_s * 1000000u;
    return limit && jpip__httpd_mono_us() - q->start_us > limit;
}

enum MHD_Result jpip__httpd_access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls)
{
    (void)cls;
    (void)url;
    struct http_req *q = *req_cls;
    if (!q) /* the URI callback ran out of memory */
        return send_text(NULL, conn, 500, "out of memory");
    /* The first call only sees the headers. Answering then would make the library drop the
     * connection afterwards (it could not read what follows), so a good request is
     * answered on a later call, once any body is in, and keep-alive survives. */
    if (q->state == 0) {
        snprintf(q->method, sizeof q->method, "%s", method);
        if (q->over_limit) {
            q->h->ctr.connections_refused++;
            return send_text(q, conn, 503, "too many connections; try again later");
        }
        if (__atomic_load_n(&q->h->draining, __ATOMIC_RELAXED))
            return send_text(q, conn, 503, "the server is shutting down");
        if (request_late(q))
            return send_text(q, conn, 408, "request took too long to arrive");
        const int is_post = strcmp(method, "POST") == 0;
        if (!is_post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
            strcmp(method, "OPTIONS") != 0) {
            char why[64];
            snprintf(why, sizeof why, "method %s is not allowed (use GET or POST)", q->method);
            return send_text(q, conn, 405, why);
        }
        if (is_post) {
            char why[128];
            const int status = post_precheck(q, conn, why, sizeof why);
            if (status)
                return send_text(q, conn, status, why);
        }
        q->state = 1;
        return MHD_YES;
    }
    if (q->state == 1) {
        if (*upload_data_size) {
            const size_t n = *upload_data_size;
            /* Only a POST body carries fields; any other body is read and dropped. */
            if (!q->post_too_long && strcmp(q->method, "POST") == 0) {
                const int rc = jpip__buf_append(&q->post, upload_data, n);
                if (rc == JPIP_ENOMEM)
                    return MHD_NO;
                if (rc != JPIP_OK)
                    q->post_too_long = 1;
            }
            *upload_data_size = 0;
            return MHD_YES;
        }
        q->state = 2;
        if (request_late(q))
            return send_text(q, conn, 408, "request took too long to arrive");
        if (q->post_too_long) {
            char why[128];
            snprintf(why, sizeof why, "request body longer than %llu bytes",
                     (unsigned long long)q->h->cfg.max_query_bytes);
            return send_text(q, conn, 413, why);
        }
        return answer(q, conn, version);
    }
    /* Answered already: discard anything more. */
    *upload_data_size = 0;
    return MHD_YES;
}
