/* SPDX-License-Identifier: BSD-2-Clause */
/* Library-internal access to a jpip_target's parts (for lib/server and lib/client). */
#ifndef JPIP_CODESTREAM_TARGET_INTERNAL_H
#define JPIP_CODESTREAM_TARGET_INTERNAL_H

#include <jpip/index.h>

#include "codestream/box.h"
#include "codestream/codestream.h"
#include "common/buf.h"

struct jpip__codestream *jpip__target_codestream(struct jpip_target *t, unsigned i);
const struct jpip__box_tree *jpip__target_boxes(const struct jpip_target *t);
const struct jpip__cs_location *jpip__target_locations(const struct jpip_target *t, uint32_t *n);
const struct jpip_source *jpip__target_source(const struct jpip_target *t);
/* Hand the target a buffer (its allocator's) to free with it; replaces an earlier one. */
void jpip__target_adopt_index(struct jpip_target *t, uint8_t *buf);
const struct jpip_allocator *jpip__target_alloc(const struct jpip_target *t);

/* The persistent packet index of a whole target (target_index.c). identity names the file
 * version (e.g. its tid and version stamp); an index of another identity, source size or
 * codestream layout is refused. */
struct jpip__index_load_stats {
    uint32_t records; /* tile records taken */
    uint32_t damaged; /* records skipped for a bad checksum */
};
/* Take a saved index (copied): every codestream's tiles with a record are checked against it
 * instead of walked when first used. @return JPIP_OK, JPIP_EMALFORMED (message), JPIP_ENOMEM. */
int jpip__target_index_load(struct jpip_target *t, const char *identity, const uint8_t *data,
                            size_t len, struct jpip__index_load_stats *st, struct jpip__err *err);
/* Write the index of every tile indexed so far, plus the records of old (an index saved by
 * another process, may be NULL) for tiles not indexed here when old has the same identity. */
int jpip__target_index_save(struct jpip_target *t, const char *identity, const uint8_t *old,
                            size_t old_len, struct jpip__buf *out);
/* Tiles indexed by walking or PLT, from saved records, and records refused, over all
 * codestreams. */
void jpip__target_index_counts(struct jpip_target *t, uint64_t *walked, uint64_t *loaded,
                               uint64_t *rejected);

#endif
