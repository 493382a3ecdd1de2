/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to lib/request: the value grammars of the request fields that are lists or have
 * structure of their own (cnew, cclose, type, pref, context, subtarget, decimal rates). Each
 * parses the whole value at the cursor into r, allocating with lim->alloc.
 */
#ifndef JPIP_REQUEST_REQUEST_FIELDS_H
#define JPIP_REQUEST_REQUEST_FIELDS_H

#include "request/request.h"

int jpip__req_parse_subtarget(struct jpip__request *r, struct jpip__fcur *c,
                              const struct jpip__request_limits *lim);
int jpip__req_parse_cnew(struct jpip__request *r, struct jpip__fcur *c,
                         const struct jpip__request_limits *lim);
int jpip__req_parse_cclose(struct jpip__request *r, struct jpip__fcur *c,
                           const struct jpip__request_limits *lim);
int jpip__req_parse_type(struct jpip__request *r, struct jpip__fcur *c,
                         const struct jpip__request_limits *lim);
int jpip__req_parse_pref(struct jpip__request *r, struct jpip__fcur *c,
                         const struct jpip__request_limits *lim);
int jpip__req_parse_context(struct jpip__request *r, struct jpip__fcur *c,
                            const struct jpip__request_limits *lim);
/* "1*DIGIT [ "." 1*DIGIT ]" (at most 18 digits before the point) into *value. */
int jpip__req_parse_decimal(struct jpip__fcur *c, double *value);

/* Frees the lists these parsers allocate. */
void jpip__req_free_lists(struct jpip__request *r);

#endif
