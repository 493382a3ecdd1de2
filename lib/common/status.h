/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internal error plumbing: a fixed-size message buffer each context owns, and the two macros
 * every module uses to record a specific message and return, or forward a failure.
 */
#ifndef JPIP_COMMON_STATUS_H
#define JPIP_COMMON_STATUS_H

#include <jpip/jpip.h>

#define JPIP_ERRMSG_MAX 256

/* The last-error message of a context: "what went wrong, where (byte offset)". */
struct jpip__err {
    char msg[JPIP_ERRMSG_MAX];
    int code;
};

/* Record code and a printf-style message in err (err may be NULL); returns code. */
int jpip__errf(struct jpip__err *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

void jpip__err_clear(struct jpip__err *err);

/* Forward a failure (negative status) from expr. */
#define JPIP_TRY(expr)                                                                             \
    do {                                                                                           \
        int jpip_try_rc_ = (expr);                                                                 \
        if (jpip_try_rc_ < 0)                                                                      \
            return jpip_try_rc_;                                                                   \
    } while (0)

/* If cond holds, record the message in err and return code. */
#define JPIP_FAIL_IF(cond, err, code, ...)                                                         \
    do {                                                                                           \
        if (cond)                                                                                  \
            return jpip__errf((err), (code), __VA_ARGS__);                                         \
    } while (0)

#endif
