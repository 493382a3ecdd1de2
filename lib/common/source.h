/* SPDX-License-Identifier: BSD-2-Clause */
/* Bounds-checked reads through a jpip_source. */
#ifndef JPIP_COMMON_SOURCE_H
#define JPIP_COMMON_SOURCE_H

#include <jpip/jpip.h>

#include "common/status.h"

/* Read exactly len bytes at off; an out-of-range read is JPIP_EMALFORMED naming the offset. */
int jpip__src_read(const struct jpip_source *src, uint64_t off, void *dst, size_t len,
                   struct jpip__err *err);

#endif
