/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jpipd: the JPIP server daemon. It wires the pieces of the library together (a directory
 * resolver for --root, the sans-I/O server core, the HTTP front end) and owns the process
 * concerns the library leaves out: options, the cid random source, logging to stderr, the
 * access log file, the pid file, and signals (SIGINT/SIGTERM stop gracefully: no new
 * connections, responses in flight finish within --shutdown-timeout; SIGHUP reopens the log).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jpip/httpd.h>
#include <jpip/jpip.h>
#include <jpip/resolver.h>
#include <jpip/server.h>

#include "jpipd_cluster.h"
#include "jpipd_options.h"

/* Largest PEM file read for --tls-cert / --tls-key. */
#define PEM_MAX_BYTES (1u << 20)

/* Logging state shared by the main thread and the HTTP thread. */
struct logger {
    pthread_mutex_t mu;
    int level;
    FILE *access; /* NULL when there is no access log */
    const char *access_path;
    int access_is_stdout;
};

static void stamp(char *buf, size_t len, int64_t us)
{
    const time_t sec = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", base, (int)((us / 1000) % 1000));
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Diagnostics: "TIME jpipd: LEVEL: message" on stderr. */
static void log_line(void *user, enum jpip_log_level level, const char *msg)
{
    struct logger *lg = user;
    if ((int)level > lg->level)
        return;
    char t[40];
    stamp(t, sizeof t, now_us());
    pthread_mutex_lock(&lg->mu);
    fprintf(stderr, "%s jpipd: %s: %s\n", t, jpipd_level_name((int)level), msg);
    pthread_mutex_unlock(&lg->mu);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
logf_(struct logger *lg, enum jpip_log_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_line(lg, level, msg);
}

/* Copy s with bytes a log reader could trip on (controls, quote, backslash, non-ASCII)
 * written as \xHH. */
static void escape(char *dst, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (; *s && o + 5 < cap; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        } else {
            dst[o++] = (char)c;
        }
    }
    dst[o] = '\0';
}

/* One access-log line:
 *   TIME CLIENT METHOD "TARGET" STATUS BYTES DURATIONus CID view="VIEW" bins=N
 *   binbytes=N eor=R [incomplete]
 * (view, bins and binbytes describe the JPP/JPT body; eor is "-" when it has no EOR). */
static void access_line(void *user, const struct jpip_httpd_access *a)
{
    struct logger *lg = user;
    char t[40], target[4 * 512 + 8], status[16];
    stamp(t, sizeof t, a->time_us);
    escape(target, sizeof target - 4, a->target);
    if (a->target_truncated)
        strcat(target, "...");
    if (a->status)
        snprintf(status, sizeof status, "%d", a->status);
    else
        snprintf(status, sizeof status, "-");
    char view[2 * 96 + 8], eor[16];
    escape(view, sizeof view, a->view ? a->view : "");
    if (a->eor_reason >= 0)
        snprintf(eor, sizeof eor, "%d", a->eor_reason);
    else
        snprintf(eor, sizeof eor, "-");
    pthread_mutex_lock(&lg->mu);
    if (lg->access) {
        fprintf(lg->access,
                "%s %s %s \"%s\" %s %llu %lluus %s view=\"%s\" bins=%u binbytes=%llu eor=%s%s\n", t,
                a->client, a->method, target, status, (unsigned long long)a->body_bytes,
                (unsigned long long)a->duration_us, a->cid[0] ? a->cid : "-", view, a->messages,
                (unsigned long long)a->databin_bytes, eor, a->completed ? "" : " incomplete");
        fflush(lg->access);
    }
    pthread_mutex_unlock(&lg->mu);
}

/* (Re)open the access log; called at start and on SIGHUP (the old file is closed after the
 * new one opened, so a failed reopen keeps logging to the old one). */
static int open_access_log(struct logger *lg)
{
    if (!lg->access_path)
        return 0;
    if (strcmp(lg->access_path, "-") == 0) {
        lg->access = stdout;
        lg->access_is_stdout = 1;
        return 0;
    }
    FILE *f = fopen(lg->access_path, "a");
    if (!f) {
        logf_(lg, JPIP_LOG_ERROR, "cannot open access log %s: %s", lg->access_path,
              strerror(errno));
        return -1;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    pthread_mutex_lock(&lg->mu);
    FILE *old = lg->access;
    lg->access = f;
    pthread_mutex_unlock(&lg->mu);
    if (old && old != stdout)
        fclose(old);
    return 0;
}

/* cids must be unpredictable: the kernel's generator (getrandom, or /dev/urandom where the
 * call is missing), never a seeded PRNG. */
static int random_bytes(void *user, uint8_t *buf, size_t len)
{
    (void)user;
    while (len) {
        const ssize_t n = getrandom(buf, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break; /* ENOSYS: fall back to the device */
        buf += n;
        len -= (size_t)n;
    }
    if (!len)
        return JPIP_OK;
    static int fd = -1;
    if (fd < 0) {
        fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return JPIP_EIO;
    }
    while (len) {
        const ssize_t n = read(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return JPIP_EIO;
        buf += n;
        len -= (size_t)n;
    }
    return JPIP_OK;
}

/* Read a PEM file into a NUL-terminated heap string. */
static char *read_pem(const char *path, struct logger *lg)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        logf_(lg, JPIP_LOG_ERROR, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(PEM_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, PEM_MAX_BYTES + 1, f) : 0;
    const int bad = !buf || ferror(f) || n > PEM_MAX_BYTES || n == 0;
    fclose(f);
    if (bad) {
        logf_(lg, JPIP_LOG_ERROR, "%s: empty, unreadable or larger than 1 MiB", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = 0;
    free(s);
}

static int write_pid_file(const char *path, struct logger *lg)
{
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
        logf_(lg, JPIP_LOG_ERROR, "cannot write pid file %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct jpipd_options o;
    enum jpipd_action action;
    int rc = jpipd_options_parse(argc, argv, &o, &action);
    if (rc != JPIPD_EXIT_OK) {
        jpipd_options_free(&o);
        return rc;
    }
    if (action != JPIPD_RUN) {
        if (action == JPIPD_HELP)
            jpipd_options_usage(stdout);
        else if (action == JPIPD_VERSION)
            printf("jpipd %s\n", jpip_version_string());
        else if (action == JPIPD_MAN)
            jpipd_options_man(stdout);
        else
            jpipd_options_sample_config(stdout);
        jpipd_options_free(&o);
        return JPIPD_EXIT_OK;
    }

    struct logger lg;
    memset(&lg, 0, sizeof lg);
    pthread_mutex_init(&lg.mu, NULL);
    lg.level = o.log_level;
    lg.access_path = o.access_log;

    /* Signals: the HTTP thread inherits this mask, so only sigwait below sees them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = JPIPD_EXIT_RUNTIME;
    struct jpip_dir_resolver *dr = NULL;
    struct jpip_server *srv = NULL;
    struct jpip_httpd *httpd = NULL;
    char *cert = NULL, *key = NULL;
    int pid_written = 0;
    char msg[512];
    struct jpipd_cluster cluster;
    memset(&cluster, 0, sizeof cluster);

    if (open_access_log(&lg) != 0)
        goto done;
    if (jpip_dir_resolver_create(&dr, o.root, NULL, msg, sizeof msg) != JPIP_OK) {
        logf_(&lg, JPIP_LOG_ERROR, "%s", msg);
        goto done;
    }
    struct jpip_server_hooks hooks;
    memset(&hooks, 0, sizeof hooks);
    jpip_dir_resolver_hooks(dr, &hooks);
    hooks.random = random_bytes;
    if (jpipd_cluster_setup(&cluster, &o, &hooks, log_line, &lg) != 0)
        goto done;
    uint8_t probe[16];
    if (random_bytes(NULL, probe, sizeof probe) != JPIP_OK) {
        logf_(&lg, JPIP_LOG_ERROR, "cannot read /dev/urandom: %s", strerror(errno));
        goto done;
    }

    struct jpip_server_config scfg;
    jpip_server_config_default(&scfg);
    scfg.max_sessions = (uint32_t)o.max_sessions;
    scfg.max_targets = (uint32_t)o.max_targets;
    scfg.max_query_bytes = o.max_query_bytes;
    scfg.max_response_bytes = o.max_response_bytes;
    /* In Content-Length mode the body is built in memory: have the core end it (with an
     * EOR saying "byte limit") before it outgrows that buffer. */
    if (o.content_length &&
        (scfg.max_response_bytes == 0 || scfg.max_response_bytes > o.max_buffered_bytes))
        scfg.max_response_bytes = o.max_buffered_bytes;
    scfg.channel_path = o.channel_path;
    scfg.cid_prefix = o.cid_prefix;
    scfg.max_model_entries = (uint32_t)o.max_model_entries;
    scfg.session_idle_ms = o.idle_timeout * 1000u;
    scfg.session_lifetime_ms = o.session_lifetime * 1000u;
    int err = jpip_server_create(&srv, &hooks, &scfg, NULL);
    if (err != JPIP_OK) {
        logf_(&lg, JPIP_LOG_ERROR, "cannot create the server: %s", jpip_strerror(err));
        goto done;
    }
    jpip_server_set_log(srv, log_line, &lg);

    struct jpip_httpd_config hcfg;
    jpip_httpd_config_default(&hcfg);
    hcfg.address = o.host;
    hcfg.port = o.port;
    if (o.tls_cert) {
        cert = read_pem(o.tls_cert, &lg);
        key = read_pem(o.tls_key, &lg);
        if (!cert || !key)
            goto done;
        hcfg.tls_cert_pem = cert;
        hcfg.tls_key_pem = key;
    }
    hcfg.max_connections = (uint32_t)o.max_connections;
    hcfg.max_connections_per_ip = (uint32_t)o.max_connections_per_ip;
    hcfg.connection_timeout_s = (uint32_t)o.connection_timeout;
    hcfg.max_query_bytes = o.max_query_bytes;
    hcfg.content_length = o.content_length;
    hcfg.max_buffered_bytes = o.max_buffered_bytes;
    hcfg.client_rate = o.client_rate;
    hcfg.total_rate = o.total_rate;
    hcfg.chunk_bytes = (uint32_t)o.chunk_size;
    hcfg.request_timeout_s = (uint32_t)o.request_timeout;
    hcfg.send_timeout_s = (uint32_t)o.send_timeout;
    hcfg.metrics = o.metrics;
    hcfg.connection_memory_bytes = o.connection_memory;
    hcfg.access = lg.access_path ? access_line : NULL;
    hcfg.access_user = &lg;
    hcfg.log = log_line;
    hcfg.log_user = &lg;
    hcfg.log_level = (enum jpip_log_level)o.log_level;
    err = jpip_httpd_create(&httpd, srv, &hcfg);
    wipe_free(cert);
    wipe_free(key);
    cert = key = NULL;
    if (err != JPIP_OK) {
        logf_(&lg, JPIP_LOG_ERROR, "cannot set up HTTP on %s: %s", o.listen,
              err == JPIP_EUNSUPPORTED ? "this libmicrohttpd has no TLS support"
                                       : jpip_strerror(err));
        if (err == JPIP_EINVAL)
            rc = JPIPD_EXIT_USAGE;
        goto done;
    }
    if (jpip_httpd_start(httpd) != JPIP_OK) {
        logf_(&lg, JPIP_LOG_ERROR, "%s", jpip_httpd_errmsg(httpd));
        goto done;
    }
    if (jpipd_cluster_start(&cluster) != 0) {
        logf_(&lg, JPIP_LOG_ERROR, "cannot start the back-ends' health checks");
        goto done;
    }
    if (o.pid_file) {
        if (write_pid_file(o.pid_file, &lg) != 0)
            goto done;
        pid_written = 1;
    }
    const int v6 = strchr(o.host, ':') != NULL;
    printf("jpipd: serving %s on %s://%s%s%s:%u/\n", jpip_dir_resolver_root(dr),
           o.tls_cert ? "https" : "http", v6 ? "[" : "", o.host, v6 ? "]" : "",
           (unsigned)jpip_httpd_port(httpd));
    fflush(stdout);

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            logf_(&lg, JPIP_LOG_INFO, "SIGHUP: reopening the access log");
            if (!lg.access_is_stdout)
                open_access_log(&lg);
            continue;
        }
        logf_(&lg, JPIP_LOG_INFO, "%s: stopping (responses in flight get up to %llu s)",
              sig == SIGINT ? "SIGINT" : "SIGTERM", (unsigned long long)o.shutdown_timeout);
        break;
    }
    /* Stop accepting, let responses in flight finish within the bound, then close. */
    const uint32_t left = jpip_httpd_shutdown(httpd, (uint32_t)(o.shutdown_timeout * 1000u));
    if (left)
        logf_(&lg, JPIP_LOG_WARN, "%u response%s still in flight after %llu s: cut", left,
              left == 1 ? "" : "s", (unsigned long long)o.shutdown_timeout);
    rc = JPIPD_EXIT_OK;

done:
    jpip_httpd_destroy(httpd); /* stops the HTTP thread before the server goes */
    jpip_server_destroy(srv);
    jpipd_cluster_free(&cluster);
    jpip_dir_resolver_destroy(dr);
    wipe_free(cert);
    wipe_free(key);
    if (pid_written)
        unlink(o.pid_file);
    if (lg.access && lg.access != stdout)
        fclose(lg.access);
    else if (lg.access)
        fflush(stdout);
    pthread_mutex_destroy(&lg.mu);
    jpipd_options_free(&o);
    return rc;
}
