/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A ready-made HTTP/1.1 (and HTTPS) front end for jpip_server, built on libmicrohttpd
 * (lib/httpd). It accepts JPIP requests as GET query strings or POST form bodies, answers CORS
 * preflights, streams each response body as the server core produces it (chunked), or buffers
 * it and sends a Content-Length when configured to or when the client speaks HTTP/1.0.
 *
 * Threading: requests run on one internal thread of the HTTP library (a second thread only
 * paces rate-limited bodies and never calls the server). Between
 * jpip_httpd_start and the return of jpip_httpd_stop that thread is the only one calling into
 * the jpip_server, so the embedder must not call the server meanwhile. The access and log
 * callbacks run on that thread too.
 *
 * Usage sketch:
 *
 *     struct jpip_httpd_config cfg;
 *     jpip_httpd_config_default(&cfg);
 *     cfg.port = 8080;
 *     struct jpip_httpd *h;
 *     if (jpip_httpd_create(&h, srv, &cfg) != JPIP_OK) ...
 *     if (jpip_httpd_start(h) != JPIP_OK) ... jpip_httpd_errmsg(h) ...
 *     printf("port %u\n", jpip_httpd_port(h));
 *     ... wait for a signal ...
 *     jpip_httpd_stop(h);
 *     jpip_httpd_destroy(h);
 *     jpip_server_destroy(srv);
 */
#ifndef JPIP_HTTPD_H
#define JPIP_HTTPD_H

#include <jpip/jpip.h>
#include <jpip/server.h>

#ifdef __cplusplus
extern "C" {
#endif

struct jpip_httpd;

/* Facts about one finished request, for an access log. Pointers are valid during the call. */
struct jpip_httpd_access {
    int64_t time_us;        /* wall clock when the request line arrived, µs since the epoch */
    const char *client;     /* client address, "127.0.0.1" or "::1" ("-" if unknown) */
    const char *method;     /* "GET", "POST", ... */
    const char *target;     /* raw path and query as sent, truncated to 512 bytes */
    int target_truncated;   /* 1 when target was cut */
    int status;             /* HTTP status sent; 0 when the HTTP library answered by itself */
    uint64_t body_bytes;    /* response body bytes handed to the connection */
    uint64_t duration_us;   /* from the request line to the end of the response */
    const char *cid;        /* JPIP channel id, "" when stateless */
    int completed;          /* 1 when the whole body went out, 0 if the connection was cut */
    const char *view;       /* "fsiz=W,H roff=X,Y rsiz=W,H" as asked, "" when none */
    uint64_t databin_bytes; /* data-bin bytes in the body */
    uint32_t messages;      /* JPP/JPT messages in the body */
    int eor_reason;         /* EOR reason code ending the body, -1 when none */
};
typedef void (*jpip_httpd_access_fn)(void *user, const struct jpip_httpd_access *a);

struct jpip_httpd_config {
    const char *address; /* numeric IPv4 or IPv6 address to listen on; default "127.0.0.1" */
    uint16_t port;       /* 0 = an ephemeral port (see jpip_httpd_port); default 8080 */
    /* HTTPS: PEM certificate chain and private key, the contents (not file names),
     * NUL-terminated; both or neither. Retained (copied) by create. Default NULL (HTTP). */
    const char *tls_cert_pem;
    const char *tls_key_pem;
    uint32_t max_connections;        /* default 1024 */
    uint32_t max_connections_per_ip; /* 0 = no per-address limit (default) */
    uint32_t connection_timeout_s;   /* idle connections close after this; default 60 */
    /* Largest GET query string or POST body in bytes; longer ones get 413. Set it to the
     * server's max_query_bytes. Default 65536. */
    uint64_t max_query_bytes;
    /* 1: produce each body fully, then send it with Content-Length (for clients that cannot
     * take chunked bodies). HTTP/1.0 requests always get this. Default 0. */
    int content_length;
    /* Cap on a body produced in Content-Length mode; a longer one fails with 500 (limit the
     * server's max_response_bytes below it). Default 256 MiB. */
    uint64_t max_buffered_bytes;
    jpip_httpd_access_fn access; /* may be NULL */
    void *access_user;
    jpip_log_fn log; /* messages of the front end and of the HTTP library; may be NULL */
    void *log_user;
    enum jpip_log_level log_level; /* messages above this level are not formatted; WARN */
    /* Bandwidth: bytes/s per session (its channel, or the client address for stateless
     * requests) and for the whole server, 0 = no limit (default). Under the total, sessions
     * share fairly: one below its share is served first, the others split the rest. */
    uint64_t client_rate;
    uint64_t total_rate;
    uint32_t chunk_bytes; /* largest HTTP chunk (and rate-limit grant); default 16384 */
    /* A request (headers and body) must be in within request_timeout_s of its first byte, or
     * it gets 408 and the connection closes; default 30. */
    uint32_t request_timeout_s;
    /* While a response is sent, a client that takes no byte for send_timeout_s is dropped;
     * default 30 (connection_timeout_s applies between requests). */
    uint32_t send_timeout_s;
    int metrics; /* answer GET /metrics (Prometheus text); default 1 */
    /* Memory of each connection for the request line, headers and one outgoing chunk; a GET
     * request line that does not fit gets 414 (send long queries as POST bodies, which are
     * bounded by max_query_bytes instead). 0 = max(32 KiB, chunk_bytes + 16 KiB) (default);
     * about 1.25 x max_query_bytes + 48 KiB accepts GET queries of any allowed length. */
    uint64_t connection_memory_bytes;
};

/* Defaults for every field. */
JPIP_API void jpip_httpd_config_default(struct jpip_httpd_config *cfg);

/* Create a front end for srv (borrowed: it must outlive the front end). cfg is copied
 * (strings retained); NULL means defaults. Nothing listens until jpip_httpd_start.
 * @return JPIP_OK, JPIP_EINVAL (bad address, only one of cert/key, zero limits),
 *         JPIP_EUNSUPPORTED (TLS asked but the HTTP library lacks it), JPIP_ENOMEM. */
JPIP_API int jpip_httpd_create(struct jpip_httpd **out, struct jpip_server *srv,
                               const struct jpip_httpd_config *cfg);
/* Bind, listen and start serving on the internal thread.
 * @return JPIP_OK, JPIP_EIO (cannot bind or start; see jpip_httpd_errmsg), JPIP_EINVAL when
 *         already started. */
JPIP_API int jpip_httpd_start(struct jpip_httpd *h);
/* Graceful stop, first half: stop accepting connections, answer new requests on open ones
 * with 503, and wait up to timeout_ms for the requests in flight to finish; streamed bodies
 * still going then end at their next message with EOR 6 ("session limit reached"), free of
 * rate limits, for up to one more second. Returns the number still in flight (0 when all
 * finished). Follow with jpip_httpd_stop. */
JPIP_API uint32_t jpip_httpd_shutdown(struct jpip_httpd *h, uint32_t timeout_ms);
/* Stop listening, close every connection and join the thread; open responses are destroyed.
 * Afterwards the embedder may use the server again. Idempotent. */
JPIP_API void jpip_httpd_stop(struct jpip_httpd *h);
/* Stop (if running) and free. NULL is a no-op. */
JPIP_API void jpip_httpd_destroy(struct jpip_httpd *h);

/* The port actually bound (useful with port 0); 0 before start. */
JPIP_API uint16_t jpip_httpd_port(const struct jpip_httpd *h);
/* Last error message ("" if none); valid until the next call on h. */
JPIP_API const char *jpip_httpd_errmsg(const struct jpip_httpd *h);

#ifdef __cplusplus
}
#endif
#endif
