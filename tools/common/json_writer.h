/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A streaming JSON writer for the tools: objects, arrays, strings (escaped per RFC 8259),
 * integers, booleans, null and fixed-point numbers, written straight to a FILE. It tracks
 * commas and indentation; a container opened "inline" prints on one line, which keeps long
 * arrays of small records (packet lists) one record per line. It never allocates.
 */
#ifndef JPIP_TOOLS_JSON_WRITER_H
#define JPIP_TOOLS_JSON_WRITER_H

#include <stdint.h>
#include <stdio.h>

#define JSON_WRITER_MAX_DEPTH 32

struct json_writer {
    FILE *f;
    int depth;
    int inline_depth; /* depth at which inline output began, or 0 */
    unsigned char has_items[JSON_WRITER_MAX_DEPTH + 1];
    int overflow; /* nesting went past JSON_WRITER_MAX_DEPTH */
};

void json_writer_init(struct json_writer *w, FILE *f);

/* key is the member name inside an object and must be NULL inside an array or at top level.
 * inline_ = 1 prints the container and everything inside it on one line. */
void json_object_begin(struct json_writer *w, const char *key, int inline_);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w, const char *key, int inline_);
void json_array_end(struct json_writer *w);

void json_string(struct json_writer *w, const char *key, const char *value);
/* The first len bytes of value (which may hold NUL or control bytes; all are escaped). */
void json_string_n(struct json_writer *w, const char *key, const char *value, size_t len);
void json_u64(struct json_writer *w, const char *key, uint64_t value);
void json_i64(struct json_writer *w, const char *key, int64_t value);
void json_bool(struct json_writer *w, const char *key, int value);
void json_null(struct json_writer *w, const char *key);
/* value printed with the given number of decimals; NaN and infinities are written as null. */
void json_fixed(struct json_writer *w, const char *key, double value, int decimals);

/* Ends the document with a newline. Returns 0, or -1 if nesting overflowed or the stream is
 * in error. */
int json_writer_finish(struct json_writer *w);

#endif
