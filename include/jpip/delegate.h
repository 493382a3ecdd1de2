/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Delegation of new channels to back-end servers (lib/transport, libcurl), for a front jpipd
 * (--delegate HOST:PORT[*WEIGHT]): each request for a new channel is forwarded to a back-end
 * chosen by smooth weighted round-robin among those passing a health check (GET /healthz),
 * with len=0 so the back-end opens the channel, takes the client's model= and sends nothing;
 * its JPIP-* headers come back with host= and port= added to JPIP-cnew, and the client sends
 * the channel's requests to the back-end. A back-end that cannot be reached is marked down at
 * once and the next one tried; a thread re-checks every back-end periodically.
 *
 * Usage sketch:
 *
 *     struct jpip_delegate *d;
 *     jpip_delegate_create(&d, NULL);
 *     jpip_delegate_add(d, "10.0.0.2:8080*2", msg, sizeof msg);
 *     jpip_delegate_add(d, "10.0.0.3:8080", msg, sizeof msg);
 *     jpip_delegate_start(d);             // health checks
 *     jpip_delegate_hooks(d, &hooks);     // delegate, delegate_user
 *     ... jpip_server_create(&srv, &hooks, ...) ...
 *     jpip_server_destroy(srv);
 *     jpip_delegate_destroy(d);
 */
#ifndef JPIP_DELEGATE_H
#define JPIP_DELEGATE_H

#include <jpip/jpip.h>
#include <jpip/server.h>

#ifdef __cplusplus
extern "C" {
#endif

struct jpip_delegate;

struct jpip_delegate_config {
    uint32_t connect_timeout_ms; /* per attempt; default 1000 */
    uint32_t timeout_ms;         /* whole hand-off request; default 5000 */
    uint32_t health_interval_ms; /* between health checks of a back-end; default 1000 */
    jpip_log_fn log;             /* back-ends going down and up; may be NULL */
    void *log_user;
};

JPIP_API void jpip_delegate_config_default(struct jpip_delegate_config *cfg);
/* cfg may be NULL (defaults). @return JPIP_OK, JPIP_ENOMEM, JPIP_EIO (libcurl). */
JPIP_API int jpip_delegate_create(struct jpip_delegate **out,
                                  const struct jpip_delegate_config *cfg);
/* Add a back-end "HOST:PORT" or "HOST:PORT*WEIGHT" (weight 1..1000, default 1; an IPv6 host
 * in brackets). Before start only. @return JPIP_OK, JPIP_EINVAL (msg says why), ENOMEM. */
JPIP_API int jpip_delegate_add(struct jpip_delegate *d, const char *spec, char *msg, size_t msglen);
/* Start the health-check thread (back-ends count as up until a check fails). */
JPIP_API int jpip_delegate_start(struct jpip_delegate *d);
/* Stop the thread and free (NULL is a no-op). Destroy the server using it first. */
JPIP_API void jpip_delegate_destroy(struct jpip_delegate *d);
/* Fill hooks->delegate and hooks->delegate_user. */
JPIP_API void jpip_delegate_hooks(struct jpip_delegate *d, struct jpip_server_hooks *hooks);
/* The hook itself (user is the jpip_delegate). */
JPIP_API int jpip_delegate_handoff(void *user, const char *target, size_t target_len,
                                   const char *query, size_t query_len,
                                   struct jpip_delegation *out);

struct jpip_delegate_stats {
    uint64_t handoffs;     /* channels handed to a back-end */
    uint64_t failures;     /* attempts that reached no back-end */
    uint32_t backends, up; /* configured, passing their health check now */
};
JPIP_API void jpip_delegate_stats(struct jpip_delegate *d, struct jpip_delegate_stats *st);

#ifdef __cplusplus
}
#endif
#endif
