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

#include <pthread.h>
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
/* Longest shaping key: "cid:" + channel id, or "ip:" + client address. */
#define JPIP__SHAPER_KEY 80

struct shaper_flow;
struct shaper_key;

/* Rate limits (http_shaper.c). All fields are guarded by mu. */
struct jpip__shaper {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int initialized, enabled, running, stopping, closed;
    int open;                         /* grant everything at once (shutdown's last phase) */
    uint64_t client_rate, total_rate; /* bytes/s, 0 = none */
    size_t chunk;
    double tokens; /* whole-server bucket */
    uint64_t last_us;
    uint64_t vtime; /* fair-queuing virtual clock, bytes */
    struct shaper_key *keys;
    struct shaper_flow *waiting;
    uint32_t nwaiting;
    uint64_t limited_us;    /* total time flows waited for a grant */
    uint64_t suspensions;   /* times a flow had to wait */
    uint64_t granted_bytes; /* bytes charged */
};

int jpip__shaper_init(struct jpip__shaper *s, uint64_t client_rate, uint64_t total_rate,
                      size_t chunk);
/* Start the pacer thread (when a rate is set). */
int jpip__shaper_start(struct jpip__shaper *s);
/* Stop the pacer and resume every waiting connection (their readers then end the body). */
void jpip__shaper_stop(struct jpip__shaper *s);
/* Allow grants again after a stop (for a restart). */
void jpip__shaper_reopen(struct jpip__shaper *s);
/* Lift the limits: every waiting flow is resumed and later reads are granted at once. */
void jpip__shaper_open(struct jpip__shaper *s);
void jpip__shaper_free(struct jpip__shaper *s);
/* A streamed body under key; NULL when shaping is off (or out of memory: unshaped). */
struct shaper_flow *jpip__shaper_flow_new(struct jpip__shaper *s, const char *key,
                                          struct MHD_Connection *conn);
void jpip__shaper_flow_end(struct jpip__shaper *s, struct shaper_flow *f);
/* Bytes the flow may send now (at most want and the chunk size); 0 when the connection has
 * been suspended until a grant (the reader returns 0); -1 when shaping has stopped. Called
 * from the content reader only. */
long jpip__shaper_take(struct jpip__shaper *s, struct shaper_flow *f, size_t want);
/* n granted bytes were not sent: keep them for the flow's next read. */
void jpip__shaper_unused(struct jpip__shaper *s, struct shaper_flow *f, size_t n);
void jpip__shaper_counters(struct jpip__shaper *s, uint64_t *limited_us, uint32_t *waiting);

/* Counters for /metrics, touched on the HTTP thread only. */
#define JPIP__HTTPD_NSTATUS 13
struct jpip__httpd_counters {
    uint64_t requests[JPIP__HTTPD_NSTATUS]; /* by status: see jpip__httpd_status_slot */
    uint64_t body_bytes;                    /* response body bytes handed to connections */
    uint64_t databin_bytes;
    uint64_t connections_total;
    uint64_t connections_refused; /* answered 503 because max_connections was reached */
    uint64_t dropped;             /* responses cut (client gone or stalled) */
    uint32_t connections;         /* open now */
    uint32_t requests_active;     /* requests between their first byte and their end */
};

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
    struct jpip__shaper shaper;
    struct jpip__httpd_counters ctr;
    int draining;        /* set by jpip_httpd_shutdown (atomic): new requests get 503 */
    int ending;          /* set by jpip_httpd_shutdown (atomic): bodies end with EOR at once */
    MHD_socket quiesced; /* listening socket handed back by the library, or -1 */
    uint64_t last_reap_ms;
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
    char view[96];
    uint64_t databin_bytes;
    uint32_t messages;
    int eor_reason;         /* -1 when none */
    int over_limit;         /* the connection is beyond max_connections */
    struct http_body *body; /* the streaming body still alive, if any */
};

/* Index into jpip__httpd_counters.requests for an HTTP status. */
unsigned jpip__httpd_status_slot(int status);
/* Serve GET /metrics: Prometheus text format. */
struct MHD_Response *jpip__httpd_metrics_response(struct jpip_httpd *h, size_t *len);

/* Clocks in microseconds. */
uint64_t jpip__httpd_mono_us(void);
int64_t jpip__httpd_wall_us(void);

/* Log through the configured callback when level passes the configured one. */
void jpip__httpd_log(const struct jpip_httpd *h, enum jpip_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Socket context of connections beyond max_connections: their requests get 503. */
extern char jpip__httpd_over_limit[1];

/* Close idle and expired sessions (at most every 200 ms unless force). */
void jpip__httpd_reap(struct jpip_httpd *h, uint64_t now_ms, int force);

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
struct MHD_Response *jpip__httpd_body_response(struct http_req *q, struct MHD_Connection *conn,
                                               struct jpip_response *r, int buffered, int *status,
                                               char *reason, size_t reason_len);
/* The request is going away: the body must stop reporting into it (its last facts are
 * copied into q first). */
void jpip__httpd_body_detach(struct http_body *b);
/* The request's facts from the server core's stats (cid, view, data-bins, EOR). */
void jpip__httpd_note_stats(struct http_req *q, const struct jpip_response *r);

#endif
