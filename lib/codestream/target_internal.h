/* SPDX-License-Identifier: BSD-2-Clause */
/* Library-internal access to a jpip_target's parts (for lib/server and lib/client). */
#ifndef JPIP_CODESTREAM_TARGET_INTERNAL_H
#define JPIP_CODESTREAM_TARGET_INTERNAL_H

#include <jpip/index.h>

#include "codestream/box.h"
#include "codestream/codestream.h"

struct jpip__codestream *jpip__target_codestream(struct jpip_target *t, unsigned i);
const struct jpip__box_tree *jpip__target_boxes(const struct jpip_target *t);
const struct jpip__cs_location *jpip__target_locations(const struct jpip_target *t, uint32_t *n);
const struct jpip_source *jpip__target_source(const struct jpip_target *t);

#endif
