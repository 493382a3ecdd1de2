/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A ready-made HTTP(S) transport for the client core (include/jpip/client.h), built on
 * libcurl (lib/transport). One jpip_fetch parses a JPIP URL into a server, a target and a
 * view-window, owns a jpip_client, and runs the request loop over one keep-alive connection
 * until the server says the view is complete: it retries network failures with backoff, lets
 * the core recover from cut bodies, and keeps the data-bin cache in a file between runs.
 * curl.h never leaks through this header.
 *
 * Usage sketch:
 *
 *     struct jpip_fetch_config cfg;
 *     jpip_fetch_config_default(&cfg);
 *     cfg.cache_dir = "/home/me/.cache/jpip";
 *     struct jpip_fetch *f;
 *     if (jpip_fetch_create(&f, "http://host:8080/a.jp2?fsiz=640,480", &cfg) != JPIP_OK) ...
 *     int rc = jpip_fetch_run(f, NULL, NULL);            // JPIP_OK: the view is complete
 *     jpip_client_decode(jpip_fetch_client(f), ...);      // jpip/decode.h
 *     jpip_fetch_destroy(f);
 *
 * Not thread-safe: one jpip_fetch per thread. libcurl reads the proxy environment variables
 * (http_proxy, https_proxy, no_proxy) itself unless cfg.proxy is set; the library does not.
 */
#ifndef JPIP_FETCH_H
#define JPIP_FETCH_H

#include <jpip/client.h>
#include <jpip/jpip.h>

#ifdef __cplusplus
extern "C" {
#endif

struct jpip_fetch;

struct jpip_fetch_config {
    /* The client core's settings (stateless, len per request, cache bound). A len= field in
     * the URL is used when client.len is 0. */
    struct jpip_client_config client;
    /* Folder of cache files, retained; NULL = no cache file. The file for a URL is
     * <cache_dir>/<32 hex digits>.jpipcache, keyed by scheme://host:port/target. Created
     * (one level) when missing. */
    const char *cache_dir;
    uint64_t max_bytes;          /* stop once the response bodies exceed this; 0 = no limit */
    uint32_t connect_timeout_ms; /* default 10000 */
    uint32_t request_timeout_ms; /* whole request, headers and body; 0 = none (default) */
    uint32_t stall_timeout_s;    /* abort a request slower than stall_bytes_per_s for this
                                    long; default 30; 0 = never */
    uint32_t stall_bytes_per_s;  /* default 1 */
    unsigned max_retries;        /* network failures in a row before giving up; default 5 */
    uint32_t retry_delay_ms;     /* first backoff, doubled each retry up to 8 s; default 250 */
    size_t post_threshold;       /* queries longer than this go as POST forms; default 2000 */
    uint64_t max_recv_speed;     /* bytes per second; 0 = unlimited (default) */
    int insecure;                /* 1: do not verify the HTTPS peer and host name */
    const char *ca_file;         /* PEM bundle to verify HTTPS peers with; NULL = system's */
    const char *proxy;           /* proxy URL, retained; NULL = libcurl's environment rules */
    const char *user_agent;      /* retained; NULL = "jpip/<version>" */
    jpip_log_fn log;             /* warnings (bad cache file, retries) and errors; may be NULL */
    void *log_user;
    enum jpip_log_level log_level; /* messages above this level are not formatted; WARN */
};

/* Defaults for every field. */
JPIP_API void jpip_fetch_config_default(struct jpip_fetch_config *cfg);

/* Parse url ("http[s]://host[:port]/target?fields") and make a fetch for it. The query may hold
 * the view-window fields fsiz=W,H[,round-down|round-up|closest], roff=X,Y, rsiz=W,H,
 * comps=a,b-c,..., layers=N and stream=N, plus len=N and type=jpp-stream; any other field is
 * refused (the client sets tid, cid, cnew, model itself). Percent-escapes in values are
 * decoded. cfg (NULL = defaults) is copied, its strings retained. When cfg.cache_dir is set the
 * cache file is loaded now; a missing file is normal, a corrupt or foreign one is logged as a
 * warning and ignored.
 * @return JPIP_OK; JPIP_EINVAL for a bad URL (the reason goes to cfg.log at ERROR level and
 *         *out is NULL); JPIP_EIO when libcurl cannot start; JPIP_ENOMEM. */
JPIP_API int jpip_fetch_create(struct jpip_fetch **out, const char *url,
                               const struct jpip_fetch_config *cfg);
/* Free everything (the cache file is not written here; see jpip_fetch_run). NULL is a no-op. */
JPIP_API void jpip_fetch_destroy(struct jpip_fetch *f);

/* Last error message ("" if none), valid until the next call on f. */
JPIP_API const char *jpip_fetch_errmsg(const struct jpip_fetch *f);

/* The client core, valid until destroy: for decoding (jpip_client_decode), the rebuilt
 * codestream, statistics, or jpip_client_set_view before another run. */
JPIP_API struct jpip_client *jpip_fetch_client(struct jpip_fetch *f);
/* The view parsed from the URL (its comps valid until destroy). */
JPIP_API const struct jpip_view *jpip_fetch_view(const struct jpip_fetch *f);
/* "scheme://host:port" and "/target" as parsed, valid until destroy. */
JPIP_API const char *jpip_fetch_base(const struct jpip_fetch *f);
JPIP_API const char *jpip_fetch_target(const struct jpip_fetch *f);
/* The cache file's path, or NULL without cache_dir; valid until destroy. */
JPIP_API const char *jpip_fetch_cache_path(const struct jpip_fetch *f);

struct jpip_fetch_progress {
    uint64_t bytes;         /* response body bytes received by this fetch so far */
    uint64_t databin_bytes; /* data-bin bytes among them */
    uint64_t responses;     /* responses finished */
    int response_done;      /* 1 when this call follows the end of a response */
    int complete;           /* 1 when the view is complete */
};
/* Called after every body chunk, after every response, and several times a second while a
 * request waits for data; return nonzero to stop the run. */
typedef int (*jpip_fetch_progress_fn)(void *user, const struct jpip_fetch_progress *p);

/* Request the client's current view until it is complete, over one connection kept alive:
 * GET, or POST with an application/x-www-form-urlencoded body for queries longer than
 * cfg.post_threshold; channel requests go to the path the server named, on the same host.
 * A network failure or a 502/503/504 is retried up to cfg.max_retries times in a row with
 * doubling delays; a body cut short is handed to the core as broken (it then opens a new
 * channel and declares its cache, so no byte comes twice). The cache file, if any, is written
 * at the end whatever the outcome (temporary file, fsync, rename). progress may be NULL.
 * @return JPIP_OK when the view is complete;
 *         JPIP_ELIMIT when cfg.max_bytes was reached (the view is incomplete);
 *         JPIP_EIO after a network failure that retries did not cure, or an HTTP error status
 *         (jpip_fetch_http_status says which; the message has the server's reason);
 *         JPIP_EPROTOCOL or JPIP_EMALFORMED when the server broke the protocol;
 *         JPIP_AGAIN when progress asked to stop (run again to continue); JPIP_ENOMEM. */
JPIP_API int jpip_fetch_run(struct jpip_fetch *f, jpip_fetch_progress_fn progress, void *user);

/* The HTTP status of the last response (0 before any). */
JPIP_API int jpip_fetch_http_status(const struct jpip_fetch *f);

struct jpip_fetch_stats {
    uint64_t requests;    /* HTTP requests sent, retries included */
    uint64_t retries;     /* requests repeated after a network failure or a 5xx */
    uint64_t broken;      /* responses whose body was cut short */
    uint64_t posts;       /* requests sent as POST */
    uint64_t cache_bins;  /* data-bins restored from the cache file */
    uint64_t cache_bytes; /* their bytes */
    uint64_t elapsed_us;  /* time spent in jpip_fetch_run */
};
JPIP_API void jpip_fetch_stats(const struct jpip_fetch *f, struct jpip_fetch_stats *st);

/* Write the cache file now (run does it at its end). JPIP_OK without cache_dir.
 * @return JPIP_OK, JPIP_EIO (message names the file), JPIP_ENOMEM. */
JPIP_API int jpip_fetch_cache_save(struct jpip_fetch *f);

/* ---- cache files (lib/io), used by jpip_fetch and usable on their own ---- */

/* The file name for a cache key (the fetch uses "scheme://host:port/target"): 32 lowercase hex
 * digits of a 128-bit non-cryptographic hash (two 64-bit FNV-1a passes), NUL-terminated. */
JPIP_API void jpip_cache_file_name(const char *key, char out[33]);

/* Load path into c's cache. The file holds "JPIPFC1\n", the key's length (u32 big-endian), the
 * key, then jpip_client_cache_save's bytes. A message goes to errbuf (errlen bytes, may be 0)
 * on failure, and c is left as it was.
 * @return JPIP_OK; JPIP_ENOTFOUND when there is no file; JPIP_EMALFORMED for a file that is
 *         not a cache file, belongs to another key or is corrupt; JPIP_EIO; JPIP_ENOMEM. */
JPIP_API int jpip_cache_file_load(struct jpip_client *c, const char *path, const char *key,
                                  char *errbuf, size_t errlen);

/* Write c's cache to path crash-safely: a temporary file beside it, fsync, rename over path,
 * fsync of the folder (created, one level, when missing). A crash leaves the old file or the
 * new one, never a mix.
 * @return JPIP_OK, JPIP_EIO (message in errbuf), JPIP_EINVAL (key over 64 KiB), JPIP_ENOMEM. */
JPIP_API int jpip_cache_file_save(const struct jpip_client *c, const char *path, const char *key,
                                  char *errbuf, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
