/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bandwidth shaping for streamed bodies: a token bucket per key (a session's channel id, or
 * the client address for stateless requests) for the per-client rate, one bucket for the
 * whole server, and start-time fair queuing between keys when the whole-server bucket is
 * the bottleneck, so a key below its share is served first and greedy keys split the rest.
 *
 * Nothing spins: a body that may not send suspends its connection (from the content reader,
 * on the HTTP thread, which libmicrohttpd allows) and joins the waiting list; the pacer
 * thread sleeps until the earliest moment a grant is possible, charges it to the buckets,
 * and resumes the connection, whose reader then sends the granted bytes. Buckets may go into
 * debt by one grant, so over time the rate is exact; a bucket holds at most
 * max(chunk, rate/20) bytes of credit, so an idle key cannot save up a burst.
 *
 * Locking: one mutex guards everything here. The HTTP thread suspends a connection while it
 * holds the mutex (so the pacer only ever sees suspended connections); the pacer resumes
 * connections after releasing it. A suspended connection is never freed by the library, so
 * a waiting flow stays valid until it is resumed.
 */
#include "httpd/httpd_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"

struct shaper_key {
    struct shaper_key *next;
    char name[JPIP__SHAPER_KEY];
    uint32_t refs; /* flows using the key */
    double tokens; /* per-client bucket, bytes (negative = debt) */
    uint64_t last_us;
    uint64_t finish; /* fair-queuing finish tag, bytes */
};

struct shaper_flow {
    struct shaper_flow *next_wait;
    struct shaper_key *key;
    struct MHD_Connection *conn;
    size_t granted; /* charged bytes not yet sent */
    size_t want;    /* size of the grant asked for while waiting */
    uint64_t wait_since_us;
    int waiting;
};

static uint64_t mono_us(void)
{
    return jpip__httpd_mono_us();
}

static double cap_of(const struct jpip__shaper *s, uint64_t rate)
{
    const double burst = (double)rate / 20.0;
    return burst > (double)s->chunk ? burst : (double)s->chunk;
}

static void refill(double *tokens, uint64_t *last_us, uint64_t rate, double cap, uint64_t now)
{
    if (now > *last_us) {
        *tokens += (double)rate * (double)(now - *last_us) / 1e6;
        if (*tokens > cap)
            *tokens = cap;
    }
    *last_us = now;
}

static void refill_key(struct jpip__shaper *s, struct shaper_key *k, uint64_t now)
{
    if (s->client_rate)
        refill(&k->tokens, &k->last_us, s->client_rate, cap_of(s, s->client_rate), now);
}

static void refill_all(struct jpip__shaper *s, uint64_t now)
{
    if (s->total_rate)
        refill(&s->tokens, &s->last_us, s->total_rate, cap_of(s, s->total_rate), now);
}

/* Charge a grant of n bytes to k (and the whole-server bucket) and advance the fair-queuing
 * clock. */
static void charge(struct jpip__shaper *s, struct shaper_key *k, size_t n)
{
    const uint64_t start = k->finish > s->vtime ? k->finish : s->vtime;
    k->finish = start + n;
    s->vtime = start;
    if (s->client_rate)
        k->tokens -= (double)n;
    if (s->total_rate)
        s->tokens -= (double)n;
    s->granted_bytes += n;
}

/* Microseconds until a bucket in debt holds credit again. */
static uint64_t until_positive(double tokens, uint64_t rate)
{
    if (tokens > 0)
        return 0;
    return (uint64_t)((-tokens) * 1e6 / (double)rate) + 1;
}

/* Grant what can be granted now; collect the connections to resume in *resume (linked by
 * next_wait). Returns the delay in µs until the next grant may become possible (UINT64_MAX
 * when nothing waits). */
static uint64_t schedule(struct jpip__shaper *s, uint64_t now, struct shaper_flow **resume)
{
    refill_all(s, now);
    for (;;) {
        if (!s->waiting)
            return UINT64_MAX;
        if (s->open) {
            struct shaper_flow *f = s->waiting;
            s->waiting = f->next_wait;
            f->waiting = 0;
            s->nwaiting--;
            f->granted += f->want;
            f->next_wait = *resume;
            *resume = f;
            continue;
        }
        if (s->total_rate && s->tokens <= 0)
            return until_positive(s->tokens, s->total_rate);
        struct shaper_flow *best = NULL, **best_link = NULL;
        uint64_t best_start = 0, soonest = UINT64_MAX;
        for (struct shaper_flow **link = &s->waiting; *link; link = &(*link)->next_wait) {
            struct shaper_flow *f = *link;
            refill_key(s, f->key, now);
            if (s->client_rate && f->key->tokens <= 0) {
                const uint64_t d = until_positive(f->key->tokens, s->client_rate);
                if (d < soonest)
                    soonest = d;
                continue;
            }
            const uint64_t start = f->key->finish > s->vtime ? f->key->finish : s->vtime;
            if (!best || start < best_start) {
                best = f;
                best_link = link;
                best_start = start;
            }
        }
        if (!best)
            return soonest;
        *best_link = best->next_wait;
        best->waiting = 0;
        s->nwaiting--;
        charge(s, best->key, best->want);
        best->granted += best->want;
        s->limited_us += now - best->wait_since_us;
        best->next_wait = *resume;
        *resume = best;
    }
}

static void resume_all(struct shaper_flow *list)
{
    while (list) {
        struct shaper_flow *next = list->next_wait;
        list->next_wait = NULL;
        MHD_resume_connection(list->conn);
        list = next;
    }
}

static void *pacer_main(void *arg)
{
    struct jpip__shaper *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        struct shaper_flow *resume = NULL;
        const uint64_t delay = schedule(s, mono_us(), &resume);
        if (resume) {
            pthread_mutex_unlock(&s->mu);
            resume_all(resume);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        if (delay == UINT64_MAX) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        const uint64_t ns = (uint64_t)ts.tv_nsec + delay * 1000u;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int jpip__shaper_init(struct jpip__shaper *s, uint64_t client_rate, uint64_t total_rate,
                      size_t chunk)
{
    memset(s, 0, sizeof *s);
    s->client_rate = client_rate;
    s->total_rate = total_rate;
    s->chunk = chunk;
    s->enabled = client_rate || total_rate;
    s->last_us = mono_us();
    if (pthread_mutex_init(&s->mu, NULL) != 0)
        return JPIP_ENOMEM;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&s->cv, &ca) != 0) {
        pthread_mutex_destroy(&s->mu);
        return JPIP_ENOMEM;
    }
    pthread_condattr_destroy(&ca);
    s->initialized = 1;
    return JPIP_OK;
}

int jpip__shaper_start(struct jpip__shaper *s)
{
    if (!s->enabled || s->running)
        return JPIP_OK;
    s->stopping = 0;
    if (pthread_create(&s->thread, NULL, pacer_main, s) != 0)
        return JPIP_EIO;
    s->running = 1;
    return JPIP_OK;
}

void jpip__shaper_stop(struct jpip__shaper *s)
{
    if (!s->initialized)
        return;
    if (s->running) {
        pthread_mutex_lock(&s->mu);
        s->stopping = 1;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        s->running = 0;
    }
    /* The library refuses to stop with suspended connections: wake every waiting flow; its
     * reader then ends the body (closed is set). */
    pthread_mutex_lock(&s->mu);
    s->closed = 1;
    struct shaper_flow *list = NULL;
    while (s->waiting) {
        struct shaper_flow *f = s->waiting;
        s->waiting = f->next_wait;
        f->waiting = 0;
        f->next_wait = list;
        list = f;
    }
    s->nwaiting = 0;
    pthread_mutex_unlock(&s->mu);
    resume_all(list);
}

void jpip__shaper_reopen(struct jpip__shaper *s)
{
    pthread_mutex_lock(&s->mu);
    s->closed = 0;
    s->open = 0;
    pthread_mutex_unlock(&s->mu);
}

void jpip__shaper_open(struct jpip__shaper *s)
{
    if (!s->initialized)
        return;
    pthread_mutex_lock(&s->mu);
    s->open = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void jpip__shaper_free(struct jpip__shaper *s)
{
    if (!s->initialized)
        return;
    jpip__shaper_stop(s);
    while (s->keys) {
        struct shaper_key *k = s->keys;
        s->keys = k->next;
        jpip__free(NULL, k);
    }
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    s->initialized = 0;
}

struct shaper_flow *jpip__shaper_flow_new(struct jpip__shaper *s, const char *key,
                                          struct MHD_Connection *conn)
{
    if (!s->enabled)
        return NULL;
    struct shaper_flow *f = jpip__calloc(NULL, 1, sizeof *f);
    if (!f)
        return NULL;
    f->conn = conn;
    pthread_mutex_lock(&s->mu);
    struct shaper_key *k = s->keys;
    while (k && strcmp(k->name, key) != 0)
        k = k->next;
    if (!k) {
        k = jpip__calloc(NULL, 1, sizeof *k);
        if (!k) {
            pthread_mutex_unlock(&s->mu);
            jpip__free(NULL, f);
            return NULL;
        }
        snprintf(k->name, sizeof k->name, "%s", key);
        k->last_us = mono_us();
        k->tokens = (double)s->chunk;
        k->finish = s->vtime;
        k->next = s->keys;
        s->keys = k;
    }
    k->refs++;
    f->key = k;
    pthread_mutex_unlock(&s->mu);
    return f;
}

void jpip__shaper_flow_end(struct jpip__shaper *s, struct shaper_flow *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&s->mu);
    /* Only a resumed (or never suspended) flow ends, so it is not on the waiting list; bytes
     * charged but never sent go back to the buckets. */
    if (f->granted) {
        if (s->client_rate)
            f->key->tokens += (double)f->granted;
        if (s->total_rate)
            s->tokens += (double)f->granted;
        s->granted_bytes -= f->granted;
    }
    struct shaper_key *k = f->key;
    if (--k->refs == 0) {
        struct shaper_key **link = &s->keys;
        while (*link != k)
            link = &(*link)->next;
        *link = k->next;
        jpip__free(NULL, k);
    }
    pthread_mutex_unlock(&s->mu);
    jpip__free(NULL, f);
}

long jpip__shaper_take(struct jpip__shaper *s, struct shaper_flow *f, size_t want)
{
    if (want > s->chunk)
        want = s->chunk;
    pthread_mutex_lock(&s->mu);
    if (s->closed) {
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    long grant = 0;
    if (f->granted) {
        grant = (long)(f->granted < want ? f->granted : want);
        f->granted -= (size_t)grant;
        pthread_mutex_unlock(&s->mu);
        return grant;
    }
    const uint64_t now = mono_us();
    refill_all(s, now);
    refill_key(s, f->key, now);
    const int key_ok = s->open || !s->client_rate || f->key->tokens > 0;
    const int all_ok = s->open || !s->total_rate || (s->tokens > 0 && !s->waiting);
    if (key_ok && all_ok) {
        charge(s, f->key, want);
        grant = (long)want;
    } else {
        MHD_suspend_connection(f->conn);
        f->want = want;
        f->waiting = 1;
        f->wait_since_us = now;
        /* Append: equal start tags are served in arrival order. */
        struct shaper_flow **link = &s->waiting;
        while (*link)
            link = &(*link)->next_wait;
        f->next_wait = NULL;
        *link = f;
        s->nwaiting++;
        s->suspensions++;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return grant;
}

void jpip__shaper_unused(struct jpip__shaper *s, struct shaper_flow *f, size_t n)
{
    if (!n)
        return;
    pthread_mutex_lock(&s->mu);
    f->granted += n; /* kept for the next read of this flow */
    pthread_mutex_unlock(&s->mu);
}

void jpip__shaper_counters(struct jpip__shaper *s, uint64_t *limited_us, uint32_t *waiting)
{
    pthread_mutex_lock(&s->mu);
    *limited_us = s->limited_us;
    *waiting = s->nwaiting;
    pthread_mutex_unlock(&s->mu);
}
