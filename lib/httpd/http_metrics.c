/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * GET /metrics: the front end's and the server core's counters in the Prometheus text
 * exposition format (version 0.0.4): requests by status, body bytes, sessions, connections,
 * time spent waiting for the rate limits, index cache hits and misses, and bytes the cache
 * models saved. Also the session reaper's pacing, since /metrics reaps before it counts.
 */
#include "httpd/httpd_internal.h"

#include <stdio.h>
#include <string.h>

#include <jpip/server.h>

#include "common/buf.h"

char jpip__httpd_over_limit[1];

static const int slot_status[JPIP__HTTPD_NSTATUS - 1] = {200, 204, 400, 403, 404, 405,
                                                         408, 413, 415, 500, 501, 503};

unsigned jpip__httpd_status_slot(int status)
{
    for (unsigned i = 0; i < JPIP__HTTPD_NSTATUS - 1; i++)
        if (slot_status[i] == status)
            return i;
    return JPIP__HTTPD_NSTATUS - 1;
}

void jpip__httpd_reap(struct jpip_httpd *h, uint64_t now_ms, int force)
{
    if (!force && now_ms - h->last_reap_ms < 200)
        return;
    h->last_reap_ms = now_ms;
    const uint32_t n = jpip_server_reap(h->srv, now_ms);
    if (n)
        jpip__httpd_log(h, JPIP_LOG_DEBUG, "closed %u idle or expired session%s", n,
                        n == 1 ? "" : "s");
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static void
metric(struct jpip__buf *b, const char *name, const char *type, const char *help, const char *fmt,
       ...)
{
    char line[512];
    int n =
        snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s", name, help, name, type, name);
    if (n < 0 || (size_t)n >= sizeof line)
        return;
    va_list ap;
    va_start(ap, fmt);
    const int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)(n + m) >= sizeof line)
        return;
    jpip__buf_append(b, line, (size_t)(n + m));
}

struct MHD_Response *jpip__httpd_metrics_response(struct jpip_httpd *h, size_t *len)
{
    jpip__httpd_reap(h, jpip__httpd_mono_us() / 1000u, 1);
    struct jpip_server_stats ss;
    jpip_server_stats(h->srv, &ss);
    struct jpip_index_stats is;
    jpip_server_index_stats(h->srv, &is);
    uint64_t limited_us = 0;
    uint32_t waiting = 0;
    if (h->shaper.initialized)
        jpip__shaper_counters(&h->shaper, &limited_us, &waiting);
    const struct jpip__httpd_counters *c = &h->ctr;

    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 1 << 16);
    jpip__buf_append(&b,
                     "# HELP jpipd_requests_total HTTP requests answered, by status.\n"
                     "# TYPE jpipd_requests_total counter\n",
                     (size_t)strlen("# HELP jpipd_requests_total HTTP requests answered, by "
                                    "status.\n# TYPE jpipd_requests_total counter\n"));
    for (unsigned i = 0; i < JPIP__HTTPD_NSTATUS; i++) {
        char line[96];
        int n;
        if (i < JPIP__HTTPD_NSTATUS - 1)
            n = snprintf(line, sizeof line, "jpipd_requests_total{code=\"%d\"} %llu\n",
                         slot_status[i], (unsigned long long)c->requests[i]);
        else
            n = snprintf(line, sizeof line, "jpipd_requests_total{code=\"other\"} %llu\n",
                         (unsigned long long)c->requests[i]);
        jpip__buf_append(&b, line, (size_t)n);
    }
    metric(&b, "jpipd_body_bytes_total", "counter",
           "JPP/JPT-stream body bytes handed to connections.", " %llu\n",
           (unsigned long long)c->body_bytes);
    metric(&b, "jpipd_databin_bytes_total", "counter", "Data-bin bytes in finished responses.",
           " %llu\n", (unsigned long long)c->databin_bytes);
    metric(&b, "jpipd_responses_cut_total", "counter",
           "Responses cut before their end (client gone, stalled or timed out).", " %llu\n",
           (unsigned long long)c->dropped);
    metric(&b, "jpipd_requests_in_flight", "gauge", "Requests being received or answered.", " %u\n",
           __atomic_load_n(&c->requests_active, __ATOMIC_RELAXED));
    metric(&b, "jpipd_connections", "gauge", "Open HTTP connections.", " %u\n", c->connections);
    metric(&b, "jpipd_connections_total", "counter", "HTTP connections accepted.", " %llu\n",
           (unsigned long long)c->connections_total);
    metric(&b, "jpipd_connections_refused_total", "counter",
           "Connections answered 503 because max-connections was reached.", " %llu\n",
           (unsigned long long)c->connections_refused);
    metric(&b, "jpipd_sessions", "gauge", "Open JPIP sessions.", " %u\n", ss.sessions);
    metric(&b, "jpipd_sessions_created_total", "counter", "JPIP sessions opened.", " %llu\n",
           (unsigned long long)ss.sessions_created);
    metric(&b, "jpipd_sessions_reaped_total", "counter",
           "JPIP sessions closed because idle or past their lifetime.", " %llu\n",
           (unsigned long long)ss.sessions_reaped);
    metric(&b, "jpipd_rate_limited_seconds_total", "counter",
           "Time responses spent waiting for the rate limits, summed over responses.", " %.6f\n",
           (double)limited_us / 1e6);
    metric(&b, "jpipd_rate_limited_responses", "gauge",
           "Responses waiting for the rate limits now.", " %u\n", waiting);
    metric(&b, "jpipd_targets_open", "gauge", "Files open with their packet index.", " %u\n",
           ss.targets);
    metric(&b, "jpipd_index_cache_hits_total", "counter",
           "Requests that looked their file up (stateless, cnew) and found it open and indexed.",
           " %llu\n", (unsigned long long)ss.target_hits);
    metric(&b, "jpipd_index_cache_misses_total", "counter",
           "Requests that had to open and index their file.", " %llu\n",
           (unsigned long long)ss.target_misses);
    metric(&b, "jpipd_index_tiles_walked_total", "counter",
           "Tiles indexed by walking the codestream (packet headers or PLT).", " %llu\n",
           (unsigned long long)is.tiles_walked);
    metric(&b, "jpipd_index_tiles_loaded_total", "counter",
           "Tiles indexed from a saved index (--index-dir) without a walk.", " %llu\n",
           (unsigned long long)is.tiles_loaded);
    metric(&b, "jpipd_index_tiles_rejected_total", "counter",
           "Saved tile records that did not fit their tile (walked instead).", " %llu\n",
           (unsigned long long)is.tiles_rejected);
    metric(&b, "jpipd_index_files_refused_total", "counter",
           "Saved indexes refused: corrupt, or of another version of the file.", " %llu\n",
           (unsigned long long)is.files_refused);
    metric(&b, "jpipd_index_saves_total", "counter", "Saved indexes written.", " %llu\n",
           (unsigned long long)is.saves);
    metric(&b, "jpipd_index_save_failures_total", "counter", "Saved indexes that failed to write.",
           " %llu\n", (unsigned long long)is.save_failures);
    metric(&b, "jpipd_model_saved_bytes_total", "counter",
           "Bytes of wanted data-bins not sent because the cache model said the client had "
           "them.",
           " %llu\n", (unsigned long long)ss.model_bytes_saved);

    *len = b.len;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(b.len, b.data ? b.data : (void *)"", MHD_RESPMEM_MUST_COPY);
    jpip__buf_free(&b);
    if (resp && (MHD_add_response_header(resp, "Content-Type",
                                         "text/plain; version=0.0.4; charset=utf-8") != MHD_YES ||
                 MHD_add_response_header(resp, "Cache-Control", "no-cache") != MHD_YES)) {
        MHD_destroy_response(resp);
        resp = NULL;
    }
    return resp;
}
