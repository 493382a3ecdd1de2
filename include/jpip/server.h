/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The JPIP server core, without I/O: a request (path, query or form body) goes in, a response
 * comes out — status, JPIP-* headers, and a JPP-stream or JPT-stream body the caller pulls in
 * pieces of any size. Targets are reached through a resolver the embedder supplies (it maps
 * a name to a jpip_source and a version stamp); randomness for channel ids and the clock come
 * from the embedder too. lib/httpd wraps this in an HTTP/1.1 server.
 *
 * Threading: a jpip_server and its responses are not thread-safe; an embedder that serves
 * from several threads holds one lock around every call on the server and its responses.
 */
#ifndef JPIP_SERVER_H
#define JPIP_SERVER_H

#include <jpip/jpip.h>

#ifdef __cplusplus
extern "C" {
#endif

struct jpip_server;
struct jpip_response;

/* A resolved target. The resolver fills src (whose user pointer it owns) and version (any
 * text that changes whenever the file's contents may have changed, e.g. device, inode, size
 * and modification time); release is called when the server no longer needs src. */
struct jpip_target_ref {
    struct jpip_source src;
    char version[96];
    void *handle; /* the resolver's own */
};

/* A channel handed to another server (see the delegate hook). */
struct jpip_delegation {
    int status;
    char reason[128];
    char headers[2048]; /* "Name: value\r\n" lines */
};

struct jpip_server_hooks {
    /* Map a target name (the URL path without its leading '/', or the target= field,
     * percent-decoded) to a source. Return JPIP_OK, JPIP_ENOTFOUND (404), JPIP_EINVAL (the
     * name is refused: escapes the root, ...; 403) or JPIP_EIO; msg (msglen bytes) may
     * receive a one-line reason. */
    int (*resolve)(void *user, const char *name, size_t name_len, struct jpip_target_ref *out,
                   char *msg, size_t msglen);
    void (*release)(void *user, struct jpip_target_ref *ref);
    /* Fill buf with len unpredictable bytes (channel ids). */
    int (*random)(void *user, uint8_t *buf, size_t len);
    void *user;
    /* Persistent packet indexes (optional; lib/io's jpip_index_dir fills them). key names the
     * target (32 hex digits). index_load calls take(ctx, data, len) with the bytes saved for
     * key, if any. index_save calls merge(ctx, old, old_len, &out, &out_len) with the bytes
     * saved now (NULL, 0 if none) and stores what merge returns so that a reader never sees
     * a partial file; merge's output is valid until index_save returns. Both return JPIP_OK
     * or an error code. */
    int (*index_load)(void *index_user, const char *key,
                      void (*take)(void *ctx, const uint8_t *data, size_t len), void *ctx);
    int (*index_save)(void *index_user, const char *key,
                      int (*merge)(void *ctx, const uint8_t *old, size_t old_len,
                                   const uint8_t **out, size_t *out_len),
                      void *ctx);
    void *index_user;
    /* Delegation (optional; lib/transport's jpip_delegate fills it): a request asking for a
     * new channel without naming one of ours is handed to delegate instead of opening a
     * session here. query is the request's fields as received. delegate fills out with the
     * answer to give: status, reason, and header lines, of which the JPIP-* ones are relayed
     * (JPIP-cnew naming the back-end's host and port). A 200 answer gets an empty body ending
     * with EOR "response limit". A negative return answers 503 with Retry-After. */
    int (*delegate)(void *delegate_user, const char *target, size_t target_len, const char *query,
                    size_t query_len, struct jpip_delegation *out);
    void *delegate_user;
};

struct jpip_server_config {
    uint32_t max_sessions;             /* default 1024 */
    uint32_t max_channels_per_session; /* default 8 */
    uint32_t max_targets;              /* open targets kept; default 64 */
    uint32_t max_model_entries;        /* per session cache model; default 1<<20 */
    uint64_t max_query_bytes;          /* default 65536 */
    uint64_t max_response_bytes;       /* cap on one response when len= is absent; 0 = none */
    uint32_t metadata_threshold;       /* boxes larger than this get placeholders; default 4096 */
    const char *channel_path;          /* path clients send channel requests to; default "jpip" */
    /* Prepended to every channel id (up to 7 of A-Z a-z 0-9 _ -), so that a proxy in front
     * of several servers can send a channel's requests to the server that owns it. */
    const char *cid_prefix;
    /* Sessions are closed by jpip_server_reap when unused for session_idle_ms, or when older
     * than session_lifetime_ms, and no response of theirs is in flight; 0 = never (default). */
    uint64_t session_idle_ms;
    uint64_t session_lifetime_ms;
};

/* Defaults for every field. */
JPIP_API void jpip_server_config_default(struct jpip_server_config *cfg);

/* hooks and cfg are copied (retained); a may be NULL. */
JPIP_API int jpip_server_create(struct jpip_server **out, const struct jpip_server_hooks *hooks,
                                const struct jpip_server_config *cfg,
                                const struct jpip_allocator *a);
JPIP_API void jpip_server_destroy(struct jpip_server *s);
JPIP_API void jpip_server_set_log(struct jpip_server *s, jpip_log_fn fn, void *user);

/* Close the sessions that are idle or expired at now_ms (see session_idle_ms and
 * session_lifetime_ms); their channel ids then get 404. A session with a response in flight
 * counts as used at now_ms. Returns the number of sessions closed. */
JPIP_API uint32_t jpip_server_reap(struct jpip_server *s, uint64_t now_ms);

/* Counters for monitoring; every total counts since create. */
struct jpip_server_stats {
    uint32_t sessions; /* open now */
    uint32_t targets;  /* open now (with their packet indexes) */
    uint64_t sessions_created;
    uint64_t sessions_reaped;   /* closed by jpip_server_reap */
    uint64_t target_hits;       /* requests that looked their target up (stateless requests, cnew;
                                   not a session's later ones) and found it open */
    uint64_t target_misses;     /* requests that had to open (and index) it */
    uint64_t model_bytes_saved; /* bytes of wanted data-bins not sent: the client had them */
};
JPIP_API void jpip_server_stats(const struct jpip_server *s, struct jpip_server_stats *st);

/* The persistent packet index at work (all totals since create). */
struct jpip_index_stats {
    uint64_t tiles_walked;   /* tiles indexed from the codestream (packet headers or PLT) */
    uint64_t tiles_loaded;   /* tiles indexed from a saved index, checked, without a walk */
    uint64_t tiles_rejected; /* saved tile records that did not fit (then walked) */
    uint64_t files_loaded;   /* saved indexes taken when a target was opened */
    uint64_t files_refused;  /* saved indexes refused: corrupt, or of another file version */
    uint64_t saves, save_failures;
};
JPIP_API void jpip_server_index_stats(const struct jpip_server *s, struct jpip_index_stats *st);

/* Handle one request. path is the URL path (borrowed, may be "/" or "/jpip"), query the
 * fields (for GET the part after '?', for POST the form body). now_ms is a monotonic clock.
 * Always yields a response (errors become 4xx/5xx responses with a one-line reason);
 * returns JPIP_ENOMEM only when even that could not be allocated. */
JPIP_API int jpip_server_handle(struct jpip_server *s, const char *path, size_t path_len,
                                const char *query, size_t query_len, uint64_t now_ms,
                                struct jpip_response **out);

/* HTTP status and its reason phrase ("OK", "Bad Request: unknown field 'foo'"). */
JPIP_API int jpip_response_status(const struct jpip_response *r);
JPIP_API const char *jpip_response_reason(const struct jpip_response *r);
/* Response header lines ("Name: value\r\n" each), Content-Type included; valid until
 * destroy. */
JPIP_API const char *jpip_response_headers(const struct jpip_response *r);
/* Pull up to cap body bytes into buf (cap >= 64). *n receives the count; *done becomes 1 once
 * the body (ending with its EOR message) is complete. */
JPIP_API int jpip_response_read(struct jpip_response *r, uint8_t *buf, size_t cap, size_t *n,
                                int *done);
JPIP_API void jpip_response_destroy(struct jpip_response *r);
/* End the body early: after the message in progress, the EOR with eor_reason (e.g. 6,
 * "session limit reached", when the server shuts down). Bytes already produced stay valid and
 * the session's cache model stays exact. No effect once the EOR is under way. */
JPIP_API void jpip_response_stop(struct jpip_response *r, uint8_t eor_reason);
/* The response's session (if any) counts as used at now_ms: call it when the last byte went
 * out, so a long response does not leave its session looking idle. */
JPIP_API void jpip_response_touch(struct jpip_response *r, uint64_t now_ms);

/* Facts about a finished response, for access logs and metrics. */
struct jpip_response_stats {
    uint64_t body_bytes;    /* bytes produced so far */
    uint64_t databin_bytes; /* data-bin bytes among them */
    uint32_t messages;
    uint8_t eor_reason;
    char cid[40]; /* channel, "" if stateless */
    char target[128];
    char view[96];              /* "fsiz=W,H roff=X,Y rsiz=W,H" as asked, "" when none */
    uint64_t model_bytes_saved; /* wanted bytes not sent because the client had them */
};
JPIP_API void jpip_response_stats(const struct jpip_response *r, struct jpip_response_stats *st);

#ifdef __cplusplus
}
#endif
#endif
