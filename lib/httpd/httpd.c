/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The HTTP front end's life cycle: configuration, the listening address, and the
 * libmicrohttpd daemon with one internal polling thread (epoll where available). Request
 * handling lives in http_request.c and response bodies in http_body.c; this file only sets
 * the daemon up, tears it down and routes the library's own messages to the log callback.
 */
#include "httpd/httpd_internal.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"

/* Per-connection memory of the HTTP library beyond one HTTP chunk, by default: room for the
 * request line and headers. The library clears this memory for every request, so it is kept
 * small (about 13% less CPU per small request at 32 KiB than at 128 KiB); long queries come
 * as POST bodies, which are collected outside it. */
#define CONN_MEMORY_EXTRA (16u * 1024u)

void jpip_httpd_config_default(struct jpip_httpd_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->address = "127.0.0.1";
    cfg->port = 8080;
    cfg->max_connections = 1024;
    cfg->connection_timeout_s = 60;
    cfg->max_query_bytes = 65536;
    cfg->max_buffered_bytes = (uint64_t)256 << 20;
    cfg->log_level = JPIP_LOG_WARN;
    cfg->chunk_bytes = 16384;
    cfg->connection_memory_bytes = 0;
    cfg->request_timeout_s = 30;
    cfg->send_timeout_s = 30;
    cfg->metrics = 1;
}

uint64_t jpip__httpd_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t jpip__httpd_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + (int64_t)ts.tv_nsec / 1000;
}

void jpip__httpd_log(const struct jpip_httpd *h, enum jpip_log_level level, const char *fmt, ...)
{
    if (!h->cfg.log || level > h->cfg.log_level)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    h->cfg.log(h->cfg.log_user, level, line);
}

/* libmicrohttpd's own error messages (bind failures, TLS handshake errors, ...). */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 0)))
#endif
static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
    const struct jpip_httpd *h = cls;
    if (!h->cfg.log || h->cfg.log_level < JPIP_LOG_WARN)
        return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    /* Its messages end with a newline; the log callback takes one line without it. */
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    h->cfg.log(h->cfg.log_user, JPIP_LOG_WARN, line);
}

static char *copy_string(const char *s)
{
    if (!s)
        return NULL;
    const size_t n = strlen(s);
    char *c = jpip__alloc(NULL, n + 1);
    if (c)
        memcpy(c, s, n + 1);
    return c;
}

/* Overwrite a secret before it is freed; the volatile store keeps the compiler from
 * dropping it as dead. */
static void wipe(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = 0;
}

/* Fill h->addr from the numeric address and port. */
static int parse_address(struct jpip_httpd *h)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)h->cfg.port);
    const int rc = getaddrinfo(h->address, port, &hints, &res);
    if (rc != 0 || !res)
        return jpip__errf(&h->err, JPIP_EINVAL, "listen address '%s' is not a numeric IP address",
                          h->address);
    if (res->ai_addrlen > sizeof h->addr) {
        freeaddrinfo(res);
        return jpip__errf(&h->err, JPIP_EINVAL, "listen address '%s' is too long", h->address);
    }
    memcpy(&h->addr, res->ai_addr, res->ai_addrlen);
    h->addr_len = (socklen_t)res->ai_addrlen;
    freeaddrinfo(res);
    return JPIP_OK;
}

int jpip_httpd_create(struct jpip_httpd **out, struct jpip_server *srv,
                      const struct jpip_httpd_config *cfg)
{
    if (!out || !srv)
        return JPIP_EINVAL;
    *out = NULL;
    struct jpip_httpd_config def;
    if (!cfg) {
        jpip_httpd_config_default(&def);
        cfg = &def;
    }
    if (!cfg->tls_cert_pem != !cfg->tls_key_pem || cfg->max_connections == 0 ||
        cfg->max_query_bytes == 0 || cfg->max_query_bytes > ((uint64_t)1 << 30) ||
        cfg->max_buffered_bytes == 0 || cfg->chunk_bytes < 256 || cfg->chunk_bytes > (1u << 24) ||
        (cfg->connection_memory_bytes && (cfg->connection_memory_bytes < 16384 ||
                                          cfg->connection_memory_bytes > ((uint64_t)1 << 30))))
        return JPIP_EINVAL;
    if (cfg->tls_cert_pem && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return JPIP_EUNSUPPORTED;
    struct jpip_httpd *h = jpip__calloc(NULL, 1, sizeof *h);
    if (!h)
        return JPIP_ENOMEM;
    h->srv = srv;
    h->cfg = *cfg;
    h->address = copy_string(cfg->address ? cfg->address : "127.0.0.1");
    h->cert = copy_string(cfg->tls_cert_pem);
    h->key = copy_string(cfg->tls_key_pem);
    if (!h->address || (cfg->tls_cert_pem && (!h->cert || !h->key))) {
        jpip_httpd_destroy(h);
        return JPIP_ENOMEM;
    }
    h->cfg.address = h->address;
    h->cfg.tls_cert_pem = h->cert;
    h->cfg.tls_key_pem = h->key;
    h->quiesced = MHD_INVALID_SOCKET;
    if (jpip__shaper_init(&h->shaper, cfg->client_rate, cfg->total_rate, cfg->chunk_bytes) !=
        JPIP_OK) {
        jpip_httpd_destroy(h);
        return JPIP_ENOMEM;
    }
    const int rc = parse_address(h);
    if (rc != JPIP_OK) {
        jpip_httpd_destroy(h);
        return rc;
    }
    *out = h;
    return JPIP_OK;
}

/* Count connections; those beyond max_connections are marked so their requests get 503 with
 * Retry-After (the library itself refuses only beyond the extra room, by closing). */
static void connection_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct jpip_httpd *h = cls;
    (void)conn;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        h->ctr.connections_total++;
        if (h->ctr.connections >= h->cfg.max_connections)
            *socket_context = jpip__httpd_over_limit;
        h->ctr.connections++;
    } else if (h->ctr.connections) {
        h->ctr.connections--;
    }
}

int jpip_httpd_start(struct jpip_httpd *h)
{
    if (!h || h->daemon)
        return JPIP_EINVAL;
    jpip__err_clear(&h->err);
    __atomic_store_n(&h->draining, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&h->ending, 0, __ATOMIC_RELAXED);
    jpip__shaper_reopen(&h->shaper);
    unsigned flags =
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (h->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (h->cert)
        flags |= MHD_USE_TLS;
    /* The request line must fit in the connection's memory, so the memory grows with the
     * longest accepted query; a longer request line gets 414 from the library itself. */
    size_t mem = (size_t)h->cfg.connection_memory_bytes;
    if (mem == 0)
        mem = h->cfg.chunk_bytes + CONN_MEMORY_EXTRA > 32768u
                  ? h->cfg.chunk_bytes + CONN_MEMORY_EXTRA
                  : 32768u;
    /* Room beyond max_connections, so that clients there get a 503 rather than a reset. */
    const uint32_t extra = h->cfg.max_connections / 8 < 16 ? 16 : h->cfg.max_connections / 8;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, h},
        {MHD_OPTION_SOCK_ADDR, 0, &h->addr},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)jpip__httpd_uri_cb, h},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)jpip__httpd_completed_cb, h},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)connection_cb, h},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)(h->cfg.max_connections + extra), NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)h->cfg.connection_timeout_s, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)mem, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)h->cfg.max_connections_per_ip, NULL},
        {h->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, h->cert},
        {h->cert ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, h->key},
        {MHD_OPTION_END, 0, NULL},
    };
    /* The port travels inside the socket address; the separate argument is ignored. */
    h->daemon = MHD_start_daemon(flags, h->cfg.port, NULL, NULL, jpip__httpd_access_cb, h,
                                 MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!h->daemon)
        return jpip__errf(&h->err, JPIP_EIO,
                          "cannot listen on %s port %u (in use, or TLS setup "
                          "failed; see the log)",
                          h->address, (unsigned)h->cfg.port);
    if (jpip__shaper_start(&h->shaper) != JPIP_OK) {
        MHD_stop_daemon(h->daemon);
        h->daemon = NULL;
        return jpip__errf(&h->err, JPIP_EIO, "cannot start the rate-limit thread");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : h->cfg.port;
    jpip__httpd_log(h, JPIP_LOG_INFO, "listening on %s port %u%s", h->address, (unsigned)h->port,
                    h->cert ? " (TLS)" : "");
    return JPIP_OK;
}

uint32_t jpip_httpd_shutdown(struct jpip_httpd *h, uint32_t timeout_ms)
{
    if (!h || !h->daemon)
        return 0;
    __atomic_store_n(&h->draining, 1, __ATOMIC_RELAXED);
    if (h->quiesced == MHD_INVALID_SOCKET) {
        h->quiesced = MHD_quiesce_daemon(h->daemon);
        /* The library's thread may still look at the socket, so it stays open until stop;
         * shutting it down makes Linux refuse new connections at once instead of leaving
         * them in the backlog. */
        if (h->quiesced != MHD_INVALID_SOCKET)
            shutdown(h->quiesced, SHUT_RDWR);
    }
    /* Responses in flight get timeout_ms to finish; then the streamed ones end at their next
     * message with EOR "session limit reached", free of rate limits, within a second. */
    const uint64_t end = jpip__httpd_mono_us() + (uint64_t)timeout_ms * 1000u;
    const uint64_t last = end + 1000000u;
    for (;;) {
        const uint32_t n = __atomic_load_n(&h->ctr.requests_active, __ATOMIC_RELAXED);
        const uint64_t now = jpip__httpd_mono_us();
        if (n == 0 || now >= last)
            return n;
        if (now >= end && !__atomic_load_n(&h->ending, __ATOMIC_RELAXED)) {
            __atomic_store_n(&h->ending, 1, __ATOMIC_RELAXED);
            jpip__shaper_open(&h->shaper);
        }
        const struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void jpip_httpd_stop(struct jpip_httpd *h)
{
    if (!h || !h->daemon)
        return;
    /* The library must not stop with suspended connections: the shaper wakes them first,
     * and their bodies end. Then the internal thread is joined and every connection closed:
     * responses still open are destroyed through their free callbacks, on this thread. */
    jpip__shaper_stop(&h->shaper);
    MHD_stop_daemon(h->daemon);
    h->daemon = NULL;
    h->port = 0;
    if (h->quiesced != MHD_INVALID_SOCKET) {
        close(h->quiesced);
        h->quiesced = MHD_INVALID_SOCKET;
    }
}

void jpip_httpd_destroy(struct jpip_httpd *h)
{
    if (!h)
        return;
    jpip_httpd_stop(h);
    jpip__shaper_free(&h->shaper);
    jpip__free(NULL, h->address);
    wipe(h->cert);
    wipe(h->key); /* do not leave the private key in freed memory */
    jpip__free(NULL, h->cert);
    jpip__free(NULL, h->key);
    jpip__free(NULL, h);
}

uint16_t jpip_httpd_port(const struct jpip_httpd *h)
{
    return h ? h->port : 0;
}

const char *jpip_httpd_errmsg(const struct jpip_httpd *h)
{
    return h ? h->err.msg : "";
}
