/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared state of the HTTP front end: the front-end object (httpd.c), the per-request record
 * (http_request.c) and the response bodies (http_body.c). Everything here is touched only
 * from the HTTP library's single internal thread, or after that thread has been joined.
 */
#ifndef JPIP_HTTPD_INTERNAL_H
#define JPIP_HTTPD_INTERNAL_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

#include <jpip/httpd.h>

#include "common/buf.h"
#include "common/status.h"

/* Longest path+query kept for the access log. */
#define JPIP__HTTPD_LOG_TARGET 512

struct jpip_httpd {
    struct jpip_server *srv;
    struct jpip_httpd_config cfg; /* string fields point at the copies below */
    char *address;
    char *cert;
    char *key;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    struct MHD_Daemon *daemon;
    uint16_t port;
    struct jpip__err err;
};

struct http_body;

/* One HTTP request, from its request line to the end of its response. */
struct http_req {
    struct jpip_httpd *h;
    uint64_t start_us; /* monotonic */
    int64_t wall_us;
    char *uri; /* raw request target as sent, NUL-terminated */
    size_t uri_len;
    char client[64];
    char method[16];
    int state;             /* 0 new, 1 collecting a POST body, 2 answered */
    struct jpip__buf post; /* POST body, bounded by max_query_bytes */
    int post_too_long;
    int status;
    uint64_t body_bytes;
    char cid[40];
    struct http_body *body; /* the streaming body still alive, if any */
};

/* Clocks in microseconds. */
uint64_t jpip__httpd_mono_us(void);
int64_t jpip__httpd_wall_us(void);

/* Log through the configured callback when level passes the configured one. */
void jpip__httpd_log(const struct jpip_httpd *h, enum jpip_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The MHD callbacks of http_request.c. */
void *jpip__httpd_uri_cb(void *cls, const char *uri, struct MHD_Connection *conn);
enum MHD_Result jpip__httpd_access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls);
void jpip__httpd_completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
                              enum MHD_RequestTerminationCode toe);

/* Add the CORS headers every response carries. */
int jpip__httpd_add_cors(struct MHD_Response *resp);

/* A text/plain response with body text + "\n"; NULL when out of memory. */
struct MHD_Response *jpip__httpd_text_response(const char *text);

/* Turn a server response into an MHD response: streamed (chunked) when buffered is 0, else
 * produced completely first (Content-Length). r is adopted in every case: on success it is
 * destroyed with the MHD response; on failure it is destroyed at once, NULL is returned, and
 * *status and reason say what to send instead. */
struct MHD_Response *jpip__httpd_body_response(struct http_req *q, struct jpip_response *r,
                                               int buffered, int *status, char *reason,
                                               size_t reason_len);
/* The request is going away: the body must stop reporting into it. */
void jpip__httpd_body_detach(struct http_body *b);

#endif
