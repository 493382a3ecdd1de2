/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Channel delegation to back-end servers (include/jpip/delegate.h): the back-end list with
 * smooth weighted round-robin (each pick adds every live back-end's weight to its credit and
 * takes the one with the most, which then pays the total), the hand-off request over libcurl
 * (the client's fields with len=0, so the back-end opens the channel and sends nothing), the
 * rewrite of its JPIP-cnew with host and port, and a thread that checks GET /healthz.
 * The hand-off runs on the caller's thread (the HTTP front's); the lock only guards the
 * list's state, never a network wait.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include <jpip/delegate.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/status.h"

#define MAX_BACKENDS 64
#define HOST_MAX 256
#define POST_OVER 2000 /* query bytes above which the hand-off goes as a POST */
#define REPLY_HEADERS_MAX (32u << 10)

struct backend {
    char host[HOST_MAX]; /* as given, without brackets */
    char base[HOST_MAX + 32];
    uint16_t port;
    int weight;
    int64_t credit;
    int up;
};

struct jpip_delegate {
    struct jpip_delegate_config cfg;
    struct backend be[MAX_BACKENDS];
    unsigned n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int running, stop;
    CURL *curl; /* hand-offs (one caller thread) */
    struct jpip_delegate_stats st;
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
say(const struct jpip_delegate *d, enum jpip_log_level lv, const char *fmt, ...)
{
    if (!d->cfg.log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->cfg.log(d->cfg.log_user, lv, msg);
}

void jpip_delegate_config_default(struct jpip_delegate_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->connect_timeout_ms = 1000;
    cfg->timeout_ms = 5000;
    cfg->health_interval_ms = 1000;
}

int jpip_delegate_create(struct jpip_delegate **out, const struct jpip_delegate_config *cfg)
{
    if (!out)
        return JPIP_EINVAL;
    *out = NULL;
    struct jpip_delegate *d = jpip__calloc(NULL, 1, sizeof *d);
    if (!d)
        return JPIP_ENOMEM;
    jpip_delegate_config_default(&d->cfg);
    if (cfg)
        d->cfg = *cfg;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        jpip__free(NULL, d);
        return JPIP_EIO;
    }
    d->curl = curl_easy_init();
    if (!d->curl) {
        curl_global_cleanup();
        jpip__free(NULL, d);
        return JPIP_EIO;
    }
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    *out = d;
    return JPIP_OK;
}

int jpip_delegate_add(struct jpip_delegate *d, const char *spec, char *msg, size_t msglen)
{
#define BAD(...)                                                                                   \
    do {                                                                                           \
        if (msg && msglen)                                                                         \
            snprintf(msg, msglen, __VA_ARGS__);                                                    \
        return JPIP_EINVAL;                                                                        \
    } while (0)
    if (!d || !spec || d->running)
        BAD("cannot add a back-end now");
    if (d->n >= MAX_BACKENDS)
        BAD("more than %d back-ends", MAX_BACKENDS);
    struct backend *b = &d->be[d->n];
    memset(b, 0, sizeof *b);
    const char *star = strchr(spec, '*');
    size_t hp_len = star ? (size_t)(star - spec) : strlen(spec);
    long weight = 1;
    if (star) {
        char *end;
        weight = strtol(star + 1, &end, 10);
        if (*end || weight < 1 || weight > 1000)
            BAD("back-end '%s': weight must be 1..1000", spec);
    }
    const char *host = spec, *colon;
    size_t hl;
    if (spec[0] == '[') {
        const char *close = memchr(spec, ']', hp_len);
        if (!close || close + 1 >= spec + hp_len || close[1] != ':')
            BAD("back-end '%s': expected [V6ADDR]:PORT", spec);
        host = spec + 1;
        hl = (size_t)(close - spec - 1);
        colon = close + 1;
    } else {
        colon = NULL;
        for (const char *p = spec; p < spec + hp_len; p++)
            if (*p == ':')
                colon = p;
        if (!colon)
            BAD("back-end '%s': expected HOST:PORT", spec);
        hl = (size_t)(colon - spec);
    }
    unsigned long port = 0;
    const char *p = colon + 1;
    for (; p < spec + hp_len && *p >= '0' && *p <= '9' && port <= 65535; p++)
        port = port * 10 + (unsigned long)(*p - '0');
    if (p != spec + hp_len || port == 0 || port > 65535 || hl == 0 || hl >= HOST_MAX)
        BAD("back-end '%s': expected HOST:PORT with a port in 1..65535", spec);
    for (size_t i = 0; i < hl; i++)
        if (!((host[i] >= 'a' && host[i] <= 'z') || (host[i] >= 'A' && host[i] <= 'Z') ||
              (host[i] >= '0' && host[i] <= '9') || host[i] == '.' || host[i] == '-' ||
              host[i] == ':'))
            BAD("back-end '%s': bad character in the host", spec);
    memcpy(b->host, host, hl);
    b->host[hl] = '\0';
    b->port = (uint16_t)port;
    b->weight = (int)weight;
    b->up = 1;
    int v6 = memchr(b->host, ':', hl) != NULL;
    snprintf(b->base, sizeof b->base, "http://%s%.*s%s:%u", v6 ? "[" : "", (int)hl, host,
             v6 ? "]" : "", (unsigned)b->port);
    d->n++;
    return JPIP_OK;
#undef BAD
}

/* Smooth weighted round-robin over live back-ends not yet tried; -1 when none is left. */
static int pick(struct jpip_delegate *d, const uint8_t *tried)
{
    pthread_mutex_lock(&d->mu);
    int best = -1;
    int64_t total = 0;
    for (unsigned i = 0; i < d->n; i++) {
        struct backend *b = &d->be[i];
        if (!b->up || tried[i])
            continue;
        b->credit += b->weight;
        total += b->weight;
        if (best < 0 || b->credit > d->be[best].credit)
            best = (int)i;
    }
    if (best >= 0)
        d->be[best].credit -= total;
    pthread_mutex_unlock(&d->mu);
    return best;
}

static void set_up(struct jpip_delegate *d, unsigned i, int up, const char *why)
{
    pthread_mutex_lock(&d->mu);
    int was = d->be[i].up;
    d->be[i].up = up;
    if (!up)
        d->be[i].credit = 0;
    pthread_mutex_unlock(&d->mu);
    if (was != up)
        say(d, up ? JPIP_LOG_INFO : JPIP_LOG_WARN, "back-end %s is %s%s%s", d->be[i].base + 7,
            up ? "up" : "down", up ? "" : ": ", up ? "" : why);
}

static int health_check(CURL *h, const struct backend *b, uint32_t timeout_ms)
{
    char url[HOST_MAX + 64];
    snprintf(url, sizeof url, "%s/healthz", b->base);
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    long code = 0;
    if (curl_easy_perform(h) != CURLE_OK)
        return 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    return code == 200;
}

static void *health_loop(void *arg)
{
    struct jpip_delegate *d = arg;
    CURL *h = curl_easy_init();
    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        pthread_mutex_unlock(&d->mu);
        for (unsigned i = 0; h && i < d->n; i++)
            set_up(d, i, health_check(h, &d->be[i], d->cfg.connect_timeout_ms),
                   "health check failed");
        pthread_mutex_lock(&d->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)d->cfg.health_interval_ms * 1000000u;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        while (!d->stop && pthread_cond_timedwait(&d->cv, &d->mu, &ts) == 0)
            ;
    }
    pthread_mutex_unlock(&d->mu);
    if (h)
        curl_easy_cleanup(h);
    return NULL;
}

int jpip_delegate_start(struct jpip_delegate *d)
{
    if (!d || d->running || d->n == 0)
        return JPIP_EINVAL;
    if (pthread_create(&d->thread, NULL, health_loop, d) != 0)
        return JPIP_EIO;
    d->running = 1;
    return JPIP_OK;
}

void jpip_delegate_destroy(struct jpip_delegate *d)
{
    if (!d)
        return;
    if (d->running) {
        pthread_mutex_lock(&d->mu);
        d->stop = 1;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->thread, NULL);
    }
    curl_easy_cleanup(d->curl);
    curl_global_cleanup();
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    jpip__free(NULL, d);
}

void jpip_delegate_hooks(struct jpip_delegate *d, struct jpip_server_hooks *hooks)
{
    if (!hooks)
        return;
    hooks->delegate = jpip_delegate_handoff;
    hooks->delegate_user = d;
}

void jpip_delegate_stats(struct jpip_delegate *d, struct jpip_delegate_stats *st)
{
    pthread_mutex_lock(&d->mu);
    *st = d->st;
    st->backends = d->n;
    st->up = 0;
    for (unsigned i = 0; i < d->n; i++)
        st->up += d->be[i].up != 0;
    pthread_mutex_unlock(&d->mu);
}

/* The client's fields without len=, then len=0. */
static int handoff_query(struct jpip__buf *q, const char *query, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && query[e] != '&')
            e++;
        int is_len = e - i >= 4 && memcmp(query + i, "len=", 4) == 0;
        if (e > i && !is_len) {
            if (q->len)
                JPIP_TRY(jpip__buf_append_byte(q, '&'));
            JPIP_TRY(jpip__buf_append(q, query + i, e - i));
        }
        i = e + 1;
    }
    return jpip__buf_append(q, q->len ? "&len=0" : "len=0", q->len ? 6 : 5);
}

/* Percent-encode the target name for the URL path (it arrives decoded). */
static int url_path(struct jpip__buf *u, const char *name, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~' || c == '/';
        if (plain) {
            JPIP_TRY(jpip__buf_append_byte(u, c));
        } else {
            uint8_t e[3] = {'%', (uint8_t)hex[c >> 4], (uint8_t)hex[c & 15]};
            JPIP_TRY(jpip__buf_append(u, e, 3));
        }
    }
    return JPIP_OK;
}

static size_t on_reply_header(char *ptr, size_t size, size_t nmemb, void *user)
{
    struct jpip__buf *h = user;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0)
        jpip__buf_reset(h);
    else if (jpip__buf_append(h, ptr, n) < 0)
        return 0;
    return n;
}

static size_t on_reply_body(char *ptr, size_t size, size_t nmemb, void *user)
{
    (void)ptr;
    (void)user;
    return size * nmemb; /* an EOR and nothing else: not needed */
}

/* The JPIP-* lines of the back-end's reply, JPIP-cnew with host and port added. */
static void relay(const struct backend *b, const struct jpip__buf *h, struct jpip_delegation *out)
{
    size_t o = 0, cap = sizeof out->headers;
    const char *t = (const char *)h->data;
    for (size_t i = 0; i < h->len;) {
        size_t e = i;
        while (e < h->len && t[e] != '\r' && t[e] != '\n')
            e++;
        size_t len = e - i;
        if (len > 5 && strncmp(t + i, "JPIP-", 5) == 0) {
            int n;
            if (len > 10 && strncmp(t + i, "JPIP-cnew:", 10) == 0) {
                int v6 = strchr(b->host, ':') != NULL;
                n = snprintf(out->headers + o, cap - o, "%.*s,host=%s%s%s,port=%u\r\n", (int)len,
                             t + i, v6 ? "[" : "", b->host, v6 ? "]" : "", (unsigned)b->port);
            } else {
                n = snprintf(out->headers + o, cap - o, "%.*s\r\n", (int)len, t + i);
            }
            if (n < 0 || (size_t)n >= cap - o) {
                out->headers[o] = '\0';
                return;
            }
            o += (size_t)n;
        }
        i = e;
        while (i < h->len && (t[i] == '\r' || t[i] == '\n'))
            i++;
    }
}

int jpip_delegate_handoff(void *user, const char *target, size_t target_len, const char *query,
                          size_t query_len, struct jpip_delegation *out)
{
    struct jpip_delegate *d = user;
    uint8_t tried[MAX_BACKENDS] = {0};
    struct jpip__buf q, url, hdr;
    jpip__buf_init(&q, NULL, query_len + 16);
    jpip__buf_init(&url, NULL, HOST_MAX + 64 + 3 * target_len + query_len + 8);
    jpip__buf_init(&hdr, NULL, REPLY_HEADERS_MAX);
    int rc = handoff_query(&q, query, query_len);
    int result = JPIP_EIO;
    for (unsigned attempt = 0; rc >= 0 && attempt < d->n; attempt++) {
        int i = pick(d, tried);
        if (i < 0)
            break;
        tried[i] = 1;
        const struct backend *b = &d->be[i];
        int post = q.len > POST_OVER;
        jpip__buf_reset(&url);
        jpip__buf_reset(&hdr);
        rc = jpip__buf_append(&url, b->base, strlen(b->base));
        if (rc >= 0)
            rc = jpip__buf_append_byte(&url, '/');
        if (rc >= 0)
            rc = url_path(&url, target, target_len);
        if (rc >= 0 && !post)
            rc = jpip__buf_append_byte(&url, '?');
        if (rc >= 0 && !post)
            rc = jpip__buf_append(&url, q.data, q.len);
        if (rc >= 0)
            rc = jpip__buf_append_byte(&url, 0);
        if (rc < 0)
            break;
        CURL *h = d->curl;
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, (const char *)url.data);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)d->cfg.connect_timeout_ms);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)d->cfg.timeout_ms);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_reply_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &hdr);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_reply_body);
        if (post) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q.len);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)q.data);
        }
        CURLcode cc = curl_easy_perform(h);
        long code = 0;
        if (cc == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (cc != CURLE_OK || code == 503 || code >= 500) {
            set_up(d, (unsigned)i, cc == CURLE_OK && code == 503,
                   cc != CURLE_OK ? curl_easy_strerror(cc) : "answered 5xx");
            continue; /* full or failing: the next back-end */
        }
        out->status = (int)code;
        snprintf(out->reason, sizeof out->reason, "%s", code == 200 ? "OK" : "from back-end");
        relay(b, &hdr, out);
        result = JPIP_OK;
        break;
    }
    pthread_mutex_lock(&d->mu);
    if (result == JPIP_OK)
        d->st.handoffs++;
    else
        d->st.failures++;
    pthread_mutex_unlock(&d->mu);
    jpip__buf_free(&q);
    jpip__buf_free(&url);
    jpip__buf_free(&hdr);
    if (result < 0)
        snprintf(out->reason, sizeof out->reason, "no back-end server can take the channel");
    return result;
}
