/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The libcurl transport (include/jpip/fetch.h): drives the client core's request loop over one
 * curl easy handle (HTTP/1.1, keep-alive), streaming each body into jpip_client_feed as it
 * arrives and handing the collected header lines to jpip_client_begin_response before the
 * first body byte. It owns retries with backoff, timeouts, the byte limit and the cache file's
 * load and save. This is the only file of the tree that includes curl.h. It never prints:
 * messages go to the configured log callback.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include <jpip/fetch.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "request/response_headers.h"
#include "transport/fetch_internal.h"

#define HEADER_BYTES_MAX (64u << 10)
#define RETRY_DELAY_CAP_MS 8000u
/* 200 responses in a row that bring no data-bin byte and leave the view incomplete: the
 * server is not making progress. */
#define IDLE_RESPONSES_MAX 8

enum stop {
    STOP_NONE = 0,
    STOP_LIMIT,     /* cfg.max_bytes reached */
    STOP_USER,      /* the progress callback asked to stop */
    STOP_STATUS,    /* the core refused the HTTP status */
    STOP_TRANSIENT, /* 502/503/504 outside a channel: retry */
    STOP_FEED,      /* the body is not a valid JPP-stream */
    STOP_HEADERS    /* header lines beyond HEADER_BYTES_MAX */
};

struct jpip_fetch {
    struct jpip_fetch_config cfg;
    char *cache_dir, *proxy, *ca_file, *user_agent; /* owned copies of cfg's strings */
    struct jpip__fetch_url url;
    char *key, *cache_path;
    struct jpip_client *client;
    CURL *curl;
    struct curl_slist *req_headers;
    char curl_err[CURL_ERROR_SIZE];
    struct jpip__buf headers; /* the current response's "Name: value\r\n" lines */
    struct jpip__buf target;  /* the URL of the request in flight */
    /* the request in flight */
    int begun, on_channel;
    int elsewhere; /* sent to the host JPIP-cnew named, not the URL's */
    enum stop stop;
    int stop_rc;
    /* the start of a refused response's body: the server's reason when it is plain text */
    char reason[256];
    size_t reason_len;
    /* totals */
    uint64_t bytes, responses;
    int http_status;
    jpip_fetch_progress_fn progress;
    void *progress_user;
    struct jpip_fetch_stats st;
    struct jpip__err err;
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
logf_(const struct jpip_fetch_config *cfg, enum jpip_log_level level, const char *fmt, ...)
{
    if (!cfg->log || level > cfg->log_level)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cfg->log(cfg->log_user, level, msg);
}

void jpip_fetch_config_default(struct jpip_fetch_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->connect_timeout_ms = 10000;
    cfg->stall_timeout_s = 30;
    cfg->stall_bytes_per_s = 1;
    cfg->max_retries = 5;
    cfg->retry_delay_ms = 250;
    cfg->post_threshold = 2000;
    cfg->log_level = JPIP_LOG_WARN;
}

static char *dup_str(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = jpip__alloc(NULL, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* "HTTP/..." starts a response (a 1xx or a proxy's answer may come first): forget earlier
 * lines. The blank line ends the block; trailers after the body are ignored. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *user)
{
    struct jpip_fetch *f = user;
    size_t n = size * nmemb;
    if (f->begun)
        return n;
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        jpip__buf_reset(&f->headers);
        return n;
    }
    size_t len = n;
    while (len && (ptr[len - 1] == '\n' || ptr[len - 1] == '\r'))
        len--;
    if (len == 0)
        return n;
    if (jpip__buf_append(&f->headers, ptr, len) < 0 ||
        jpip__buf_append(&f->headers, "\r\n", 2) < 0) {
        f->stop = STOP_HEADERS;
        return 0;
    }
    return n;
}

static int plain_text(const struct jpip__buf *headers);

/* Give the core the status and header lines. Returns 0, or -1 when the transfer must stop. */
static int begin(struct jpip_fetch *f)
{
    long code = 0;
    curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &code);
    f->begun = 1;
    f->http_status = (int)code;
    if (jpip__buf_append_byte(&f->headers, 0) < 0) {
        f->stop = STOP_HEADERS;
        return -1;
    }
    if (!f->on_channel && (code == 502 || code == 503 || code == 504)) {
        f->stop = STOP_TRANSIENT;
        return -1;
    }
    int rc = jpip_client_begin_response(f->client, (int)code, (const char *)f->headers.data);
    if (rc < 0) {
        f->stop = STOP_STATUS;
        f->stop_rc = rc;
        /* Keep reading the start of a plain-text body: it says why (jpipd sends one line). */
        return plain_text(&f->headers) ? 0 : -1;
    }
    return 0;
}

/* Whether the response headers ("Name: value\r\n" lines, NUL-terminated) declare a text/plain
 * body. */
static int plain_text(const struct jpip__buf *headers)
{
    const char *v = jpip__header_value((const char *)headers->data, "content-type");
    return v && jpip__starts_with_nocase(v, "text/plain");
}

/* The server's reason for refusing: the first line of the body kept by on_body, printable ASCII
 * only; "" when there is none. */
static const char *reason_line(struct jpip_fetch *f)
{
    size_t n = 0;
    while (n < f->reason_len && f->reason[n] != '\n' && f->reason[n] != '\r')
        n++;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)f->reason[i] < 0x20 || (unsigned char)f->reason[i] > 0x7e)
            f->reason[i] = '?';
    f->reason[n < sizeof f->reason ? n : sizeof f->reason - 1] = '\0';
    return f->reason;
}

/* The error for a response the core refused, with the server's reason when it gave one. */
static int refused(struct jpip_fetch *f)
{
    const char *why = reason_line(f);
    if (!why[0])
        return jpip__errf(&f->err, JPIP_EIO, "%s", jpip_client_errmsg(f->client));
    return jpip__errf(&f->err, JPIP_EIO, "%s: %s", jpip_client_errmsg(f->client), why);
}

static int report(struct jpip_fetch *f, int response_done)
{
    if (!f->progress)
        return 0;
    struct jpip_client_stats cs;
    jpip_client_stats(f->client, &cs);
    struct jpip_fetch_progress p = {f->bytes, cs.databin_bytes, f->responses, response_done,
                                    jpip_client_view_complete(f->client)};
    return f->progress(f->progress_user, &p);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
    struct jpip_fetch *f = user;
    size_t n = size * nmemb;
    if (!f->begun && begin(f) < 0)
        return 0;
    if (f->stop == STOP_STATUS) { /* a refused response's reason: its first bytes only */
        const size_t room = sizeof f->reason - 1 - f->reason_len, k = n < room ? n : room;
        memcpy(f->reason + f->reason_len, ptr, k);
        f->reason_len += k;
        return f->reason_len < sizeof f->reason - 1 && !memchr(ptr, '\n', n) ? n : 0;
    }
    size_t take = n;
    if (f->cfg.max_bytes && f->bytes + n > f->cfg.max_bytes) {
        take = (size_t)(f->cfg.max_bytes - f->bytes);
        f->stop = STOP_LIMIT;
    }
    if (take) {
        f->bytes += take;
        int rc = jpip_client_feed(f->client, (const uint8_t *)ptr, take);
        if (rc < 0) {
            f->stop = STOP_FEED;
            f->stop_rc = rc;
            return 0;
        }
    }
    if (f->stop == STOP_LIMIT)
        return 0;
    if (report(f, 0)) {
        f->stop = STOP_USER;
        return 0;
    }
    return n;
}

/* libcurl calls this often, also while nothing arrives, so a caller can stop a stalled run. */
static int on_xfer(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                   curl_off_t ulnow)
{
    struct jpip_fetch *f = user;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    if (f->stop == STOP_NONE && report(f, 0)) {
        f->stop = STOP_USER;
        return 1;
    }
    return 0;
}

static int setup_curl(struct jpip_fetch *f)
{
    CURL *h = f->curl;
    const struct jpip_fetch_config *c = &f->cfg;
    int bad = 0;
    bad |= curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, f->curl_err) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, f) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, f) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xfer) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_XFERINFODATA, f) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->request_timeout_ms) != CURLE_OK;
    if (c->stall_timeout_s) {
        bad |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)c->stall_timeout_s) != CURLE_OK;
        bad |=
            curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT,
                             (long)(c->stall_bytes_per_s ? c->stall_bytes_per_s : 1)) != CURLE_OK;
    }
    if (c->max_recv_speed)
        bad |= curl_easy_setopt(h, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)c->max_recv_speed) !=
               CURLE_OK;
    if (c->insecure) {
        bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK;
    }
    if (f->ca_file)
        bad |= curl_easy_setopt(h, CURLOPT_CAINFO, f->ca_file) != CURLE_OK;
    if (f->proxy)
        bad |= curl_easy_setopt(h, CURLOPT_PROXY, f->proxy) != CURLE_OK;
    char ua[64];
    snprintf(ua, sizeof ua, "jpip/%s", jpip_version_string());
    bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, f->user_agent ? f->user_agent : ua) != CURLE_OK;
    /* POST bodies go at once, without waiting for a 100 Continue. */
    f->req_headers = curl_slist_append(NULL, "Expect:");
    if (!f->req_headers)
        return JPIP_ENOMEM;
    bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, f->req_headers) != CURLE_OK;
    return bad ? jpip__errf(&f->err, JPIP_EIO, "libcurl refused an option") : JPIP_OK;
}

static void load_cache(struct jpip_fetch *f)
{
    char msg[JPIP_ERRMSG_MAX] = "";
    int rc = jpip_cache_file_load(f->client, f->cache_path, f->key, msg, sizeof msg);
    if (rc == JPIP_ENOTFOUND)
        return;
    if (rc < 0) {
        logf_(&f->cfg, JPIP_LOG_WARN, "ignoring the cache: %s", msg);
        return;
    }
    struct jpip_client_stats cs;
    jpip_client_stats(f->client, &cs);
    f->st.cache_bins = cs.bins;
    f->st.cache_bytes = cs.cache_bytes;
    logf_(&f->cfg, JPIP_LOG_INFO, "cache %s: %llu bins, %llu bytes", f->cache_path,
          (unsigned long long)cs.bins, (unsigned long long)cs.cache_bytes);
}

int jpip_fetch_create(struct jpip_fetch **out, const char *url, const struct jpip_fetch_config *cfg)
{
    if (!out)
        return JPIP_EINVAL;
    *out = NULL;
    struct jpip_fetch_config defaults;
    if (!cfg) {
        jpip_fetch_config_default(&defaults);
        cfg = &defaults;
    }
    struct jpip_fetch *f = jpip__calloc(NULL, 1, sizeof *f);
    if (!f)
        return JPIP_ENOMEM;
    f->cfg = *cfg;
    jpip__buf_init(&f->headers, NULL, HEADER_BYTES_MAX);
    jpip__buf_init(&f->target, NULL, JPIP__FETCH_URL_MAX + (2u << 20));
    int rc = jpip__fetch_url_parse(url, NULL, &f->url, &f->err);
    if (rc < 0) {
        logf_(cfg, JPIP_LOG_ERROR, "%s", f->err.msg);
        goto fail;
    }
    rc = JPIP_ENOMEM;
    f->cache_dir = dup_str(cfg->cache_dir);
    f->proxy = dup_str(cfg->proxy);
    f->ca_file = dup_str(cfg->ca_file);
    f->user_agent = dup_str(cfg->user_agent);
    if ((cfg->cache_dir && !f->cache_dir) || (cfg->proxy && !f->proxy) ||
        (cfg->ca_file && !f->ca_file) || (cfg->user_agent && !f->user_agent))
        goto fail;
    f->cfg.cache_dir = f->cache_dir;
    f->cfg.proxy = f->proxy;
    f->cfg.ca_file = f->ca_file;
    f->cfg.user_agent = f->user_agent;
    struct jpip_client_config cc = cfg->client;
    if (!cc.len)
        cc.len = f->url.len;
    if (f->url.jpt)
        cc.jpt = 1;
    rc = jpip_client_create(&f->client, f->url.target, &cc, NULL);
    if (rc < 0)
        goto fail;
    rc = jpip_client_set_view(f->client, &f->url.view);
    if (rc < 0)
        goto fail;
    if (f->cache_dir) {
        /* The key is scheme://host:port/target; user:password@ never goes into a file. */
        rc = JPIP_ENOMEM;
        const char *base = f->url.base, *auth = strstr(base, "://") + 3;
        const char *at = strrchr(auth, '@');
        size_t sl = (size_t)(auth - base), hl = strlen(at ? at + 1 : auth);
        size_t tl = strlen(f->url.target), dl = strlen(f->cache_dir);
        f->key = jpip__alloc(NULL, sl + hl + tl + 1);
        f->cache_path = jpip__alloc(NULL, dl + 1 + 32 + 11 + 1);
        if (!f->key || !f->cache_path)
            goto fail;
        memcpy(f->key, base, sl);
        memcpy(f->key + sl, at ? at + 1 : auth, hl);
        memcpy(f->key + sl + hl, f->url.target, tl + 1);
        char name[33];
        jpip_cache_file_name(f->key, name);
        snprintf(f->cache_path, dl + 1 + 32 + 11 + 1, "%s/%s.jpipcache", f->cache_dir, name);
        load_cache(f);
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rc = JPIP_EIO;
        logf_(cfg, JPIP_LOG_ERROR, "libcurl failed to initialise");
        goto fail;
    }
    f->curl = curl_easy_init();
    if (!f->curl) {
        curl_global_cleanup();
        rc = JPIP_EIO;
        logf_(cfg, JPIP_LOG_ERROR, "libcurl failed to initialise");
        goto fail;
    }
    rc = setup_curl(f);
    if (rc < 0) {
        logf_(cfg, JPIP_LOG_ERROR, "%s", f->err.msg[0] ? f->err.msg : "libcurl setup failed");
        jpip_fetch_destroy(f);
        return rc;
    }
    *out = f;
    return JPIP_OK;
fail:
    jpip_fetch_destroy(f);
    return rc;
}

void jpip_fetch_destroy(struct jpip_fetch *f)
{
    if (!f)
        return;
    if (f->curl) {
        curl_easy_cleanup(f->curl);
        curl_global_cleanup();
    }
    curl_slist_free_all(f->req_headers);
    jpip_client_destroy(f->client);
    jpip__fetch_url_free(&f->url, NULL);
    jpip__buf_free(&f->headers);
    jpip__buf_free(&f->target);
    jpip__free(NULL, f->cache_dir);
    jpip__free(NULL, f->proxy);
    jpip__free(NULL, f->ca_file);
    jpip__free(NULL, f->user_agent);
    jpip__free(NULL, f->key);
    jpip__free(NULL, f->cache_path);
    jpip__free(NULL, f);
}

const char *jpip_fetch_errmsg(const struct jpip_fetch *f)
{
    return f->err.msg;
}

struct jpip_client *jpip_fetch_client(struct jpip_fetch *f)
{
    return f->client;
}

const struct jpip_view *jpip_fetch_view(const struct jpip_fetch *f)
{
    return &f->url.view;
}

const char *jpip_fetch_base(const struct jpip_fetch *f)
{
    return f->url.base;
}

const char *jpip_fetch_target(const struct jpip_fetch *f)
{
    return f->url.target;
}

const char *jpip_fetch_cache_path(const struct jpip_fetch *f)
{
    return f->cache_path;
}

int jpip_fetch_http_status(const struct jpip_fetch *f)
{
    return f->http_status;
}

void jpip_fetch_stats(const struct jpip_fetch *f, struct jpip_fetch_stats *st)
{
    *st = f->st;
}

int jpip_fetch_cache_save(struct jpip_fetch *f)
{
    if (!f->cache_path)
        return JPIP_OK;
    char msg[JPIP_ERRMSG_MAX] = "";
    int rc = jpip_cache_file_save(f->client, f->cache_path, f->key, msg, sizeof msg);
    if (rc < 0)
        jpip__errf(&f->err, rc, "%s", msg);
    return rc;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Send one request for the core's next step. Returns the curl result; f->stop and f->begun
 * tell what happened to the response. */
static int send_request(struct jpip_fetch *f, CURLcode *cc)
{
    const char *path, *query;
    size_t qlen;
    int rc = jpip_client_next_request(f->client, &path, &query, &qlen);
    if (rc < 0)
        return jpip__errf(&f->err, rc, "cannot build the request: %s",
                          jpip_client_errmsg(f->client));
    struct jpip__buf *u = &f->target;
    jpip__buf_reset(u);
    int post = qlen > f->cfg.post_threshold;
    unsigned port = 0;
    const char *host =
        strncmp(query, "cid=", 4) == 0 ? jpip_client_channel_host(f->client, &port) : NULL;
    f->elsewhere = host != NULL;
    if (host) {
        /* The channel lives on another server (delegation): same scheme, its host and port. */
        const char *colon = strstr(f->url.base, "://");
        char hp[300];
        int v6 = strchr(host, ':') != NULL;
        if (port)
            snprintf(hp, sizeof hp, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
        else
            snprintf(hp, sizeof hp, "%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
        rc = jpip__buf_append(u, f->url.base, (size_t)(colon + 3 - f->url.base));
        if (rc >= 0)
            rc = jpip__buf_append(u, hp, strlen(hp));
    } else {
        rc = jpip__buf_append(u, f->url.base, strlen(f->url.base));
    }
    if (rc >= 0)
        rc = jpip__buf_append(u, path, strlen(path));
    if (rc >= 0 && !post && qlen) {
        rc = jpip__buf_append_byte(u, '?');
        if (rc >= 0)
            rc = jpip__buf_append(u, query, qlen);
    }
    if (rc >= 0)
        rc = jpip__buf_append_byte(u, 0);
    if (rc < 0)
        return jpip__errf(&f->err, rc, "request of %zu bytes is too long", qlen);
    f->on_channel = strncmp(query, "cid=", 4) == 0;
    f->begun = 0;
    f->stop = STOP_NONE;
    f->stop_rc = 0;
    f->reason_len = 0;
    f->curl_err[0] = '\0';
    jpip__buf_reset(&f->headers);
    CURL *h = f->curl;
    int bad = curl_easy_setopt(h, CURLOPT_URL, (const char *)u->data) != CURLE_OK;
    if (post) {
        bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)qlen) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, query) != CURLE_OK;
        f->st.posts++;
    } else {
        bad |= curl_easy_setopt(h, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    }
    if (bad)
        return jpip__errf(&f->err, JPIP_ENOMEM, "libcurl refused the request");
    f->st.requests++;
    *cc = curl_easy_perform(h);
    return JPIP_OK;
}

/* A failure of the connection, or a transfer we stopped (before or during the body). The core
 * must learn that the server's idea of our cache may be wrong, unless the request surely never
 * left. */
static void connection_failed(struct jpip_fetch *f, CURLcode cc)
{
    if (f->begun) {
        jpip_client_end_response(f->client, 0);
        f->st.broken++;
        return;
    }
    int never_sent = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
                     cc == CURLE_COULDNT_RESOLVE_PROXY;
    if (f->on_channel && f->elsewhere && never_sent) {
        /* The server the channel was handed to is gone: ask the URL's server for a new
         * channel, declaring the cache. */
        jpip_client_begin_response(f->client, 404, "");
        return;
    }
    if (f->on_channel && !never_sent) {
        /* The channel request may have reached the server, which then believes we hold what
         * it sent. Treat the channel as lost (as for a 404 on cid): the core opens a new one
         * and declares its cache. */
        jpip_client_begin_response(f->client, 404, "");
    }
}

static int run_loop(struct jpip_fetch *f)
{
    unsigned failures = 0, idle = 0;
    uint32_t delay = f->cfg.retry_delay_ms;
    while (!jpip_client_view_complete(f->client)) {
        if (f->cfg.max_bytes && f->bytes >= f->cfg.max_bytes)
            return jpip__errf(&f->err, JPIP_ELIMIT, "byte limit of %llu reached",
                              (unsigned long long)f->cfg.max_bytes);
        struct jpip_client_stats before;
        jpip_client_stats(f->client, &before);
        CURLcode cc = CURLE_OK;
        JPIP_TRY(send_request(f, &cc));
        switch (f->stop) {
        case STOP_LIMIT:
            connection_failed(f, cc);
            return jpip__errf(&f->err, JPIP_ELIMIT, "byte limit of %llu reached",
                              (unsigned long long)f->cfg.max_bytes);
        case STOP_USER:
            connection_failed(f, cc);
            return jpip__errf(&f->err, JPIP_AGAIN, "stopped by the caller");
        case STOP_STATUS: return refused(f);
        case STOP_FEED:
            connection_failed(f, cc);
            return jpip__errf(&f->err, f->stop_rc == JPIP_ENOMEM ? JPIP_ENOMEM : JPIP_EPROTOCOL,
                              "bad response body: %s", jpip_client_errmsg(f->client));
        case STOP_HEADERS:
            if (f->begun)
                jpip_client_end_response(f->client, 0);
            return jpip__errf(&f->err, JPIP_EPROTOCOL, "response headers exceed %u bytes",
                              HEADER_BYTES_MAX);
        case STOP_TRANSIENT:
        case STOP_NONE: break;
        }
        if (f->stop == STOP_NONE && cc == CURLE_OK) {
            if (!f->begun && begin(f) < 0) {
                if (f->stop == STOP_STATUS)
                    return refused(f);
                if (f->stop == STOP_HEADERS)
                    return jpip__errf(&f->err, JPIP_EPROTOCOL, "response headers too long");
            }
        }
        if (f->stop == STOP_NONE && cc == CURLE_OK) {
            int rc = jpip_client_end_response(f->client, 1);
            if (rc < 0)
                return jpip__errf(&f->err, rc, "bad response body: %s",
                                  jpip_client_errmsg(f->client));
            f->responses++;
            failures = 0;
            delay = f->cfg.retry_delay_ms;
            struct jpip_client_stats after;
            jpip_client_stats(f->client, &after);
            if (f->http_status == 200 && after.databin_bytes == before.databin_bytes &&
                !jpip_client_view_complete(f->client)) {
                if (++idle >= IDLE_RESPONSES_MAX)
                    return jpip__errf(&f->err, JPIP_EPROTOCOL,
                                      "%u responses in a row brought no data and did not "
                                      "complete the view",
                                      idle);
            } else {
                idle = 0;
            }
            if (report(f, 1))
                return jpip__errf(&f->err, JPIP_AGAIN, "stopped by the caller");
            continue;
        }
        /* A network failure, or a busy server outside a channel: retry with backoff. */
        char what[CURL_ERROR_SIZE + 64];
        if (f->stop == STOP_TRANSIENT)
            snprintf(what, sizeof what, "server answered %d", f->http_status);
        else if (cc == CURLE_OUT_OF_MEMORY && !f->curl_err[0] && !f->begun)
            /* libcurl's answer to a header line over its 100 KiB line buffer */
            snprintf(what, sizeof what, "response header line too long (or out of memory)");
        else
            snprintf(what, sizeof what, "%s",
                     f->curl_err[0] ? f->curl_err : curl_easy_strerror(cc));
        if (f->stop != STOP_TRANSIENT)
            connection_failed(f, cc);
        if (++failures > f->cfg.max_retries)
            return jpip__errf(&f->err, JPIP_EIO, "%s (after %u retries)", what, f->cfg.max_retries);
        logf_(&f->cfg, JPIP_LOG_WARN, "%s; retry %u of %u in %u ms", what, failures,
              f->cfg.max_retries, (unsigned)delay);
        f->st.retries++;
        sleep_ms(delay);
        delay = delay > RETRY_DELAY_CAP_MS / 2 ? RETRY_DELAY_CAP_MS : delay * 2;
        if (report(f, 0))
            return jpip__errf(&f->err, JPIP_AGAIN, "stopped by the caller");
    }
    return JPIP_OK;
}

int jpip_fetch_run(struct jpip_fetch *f, jpip_fetch_progress_fn progress, void *user)
{
    uint64_t t0 = now_us();
    f->progress = progress;
    f->progress_user = user;
    jpip__err_clear(&f->err);
    int rc = run_loop(f);
    if (f->cache_path) {
        char msg[JPIP_ERRMSG_MAX] = "";
        if (jpip_cache_file_save(f->client, f->cache_path, f->key, msg, sizeof msg) < 0)
            logf_(&f->cfg, JPIP_LOG_WARN, "%s", msg);
    }
    f->st.elapsed_us += now_us() - t0;
    f->progress = NULL;
    return rc;
}
