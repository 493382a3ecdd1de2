/* SPDX-License-Identifier: BSD-2-Clause */
/* Status names, version, and the last-error message buffer. */
#include "common/status.h"

#include <stdarg.h>
#include <stdio.h>

const char *jpip_strerror(int code)
{
    switch (code) {
    case JPIP_OK: return "success";
    case JPIP_AGAIN: return "need more input";
    case JPIP_EINVAL: return "invalid argument";
    case JPIP_ENOMEM: return "out of memory";
    case JPIP_ELIMIT: return "limit exceeded";
    case JPIP_EMALFORMED: return "malformed input";
    case JPIP_EUNSUPPORTED: return "unsupported feature";
    case JPIP_ENOTFOUND: return "not found";
    case JPIP_EPROTOCOL: return "protocol error";
    case JPIP_EIO: return "I/O error";
    case JPIP_ECODEC: return "decoder error";
    default: return "unknown status";
    }
}

unsigned jpip_version(void)
{
    return JPIP_VERSION_NUMBER;
}

#define JPIP_STR2(x) #x
#define JPIP_STR(x) JPIP_STR2(x)
const char *jpip_version_string(void)
{
    return JPIP_STR(JPIP_VERSION_MAJOR) "." JPIP_STR(JPIP_VERSION_MINOR) "." JPIP_STR(
        JPIP_VERSION_PATCH);
}

int jpip__errf(struct jpip__err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void jpip__err_clear(struct jpip__err *err)
{
    if (err) {
        err->msg[0] = '\0';
        err->code = 0;
    }
}
