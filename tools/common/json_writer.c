/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Streaming JSON output (see json_writer.h). Strings are escaped per RFC 8259 section 7; bytes
 * that do not form valid UTF-8 are written as \u00XX (read as Latin-1), so the output is
 * always valid UTF-8 whatever a file name holds.
 */
#include "json_writer.h"

#include <math.h>
#include <string.h>

void json_writer_init(struct json_writer *w, FILE *f)
{
    memset(w, 0, sizeof *w);
    w->f = f;
}

static int slot(int depth)
{
    return depth > JSON_WRITER_MAX_DEPTH ? JSON_WRITER_MAX_DEPTH : depth;
}

static int is_inline(const struct json_writer *w, int depth)
{
    return w->inline_depth != 0 && depth >= w->inline_depth;
}

static void newline(const struct json_writer *w, int depth)
{
    fputc('\n', w->f);
    for (int i = 0; i < depth; i++)
        fputs("  ", w->f);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if it is not valid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        cp = s[0] & 0x1Fu;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        cp = s[0] & 0x0Fu;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    /* Overlong forms, UTF-16 surrogates and code points past U+10FFFF are invalid. */
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static void write_escaped(FILE *f, const char *value, size_t n)
{
    const unsigned char *s = (const unsigned char *)value;
    fputc('"', f);
    size_t i = 0;
    while (i < n) {
        const unsigned char c = s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (c < 0x20 || c == 0x7F) {
                fprintf(f, "\\u%04x", c);
            } else if (c >= 0x80) {
                const size_t len = utf8_len(s + i, n - i);
                if (len == 0) {
                    fprintf(f, "\\u%04x", c);
                } else {
                    fwrite(s + i, 1, len, f);
                    i += len;
                    continue;
                }
            } else {
                fputc(c, f);
            }
        }
        i++;
    }
    fputc('"', f);
}

/* Comma, line break and key before a new value in the current container. */
static void begin_value(struct json_writer *w, const char *key)
{
    if (w->depth > 0) {
        const int d = slot(w->depth);
        const int had_items = w->has_items[d];
        if (had_items)
            fputc(',', w->f);
        w->has_items[d] = 1;
        if (is_inline(w, w->depth)) {
            if (had_items)
                fputc(' ', w->f);
        } else {
            newline(w, w->depth);
        }
    }
    if (key) {
        write_escaped(w->f, key, strlen(key));
        fputs(": ", w->f);
    }
}

static void container_begin(struct json_writer *w, const char *key, int inline_, char open)
{
    begin_value(w, key);
    fputc(open, w->f);
    w->depth++;
    if (w->depth > JSON_WRITER_MAX_DEPTH)
        w->overflow = 1;
    w->has_items[slot(w->depth)] = 0;
    if (inline_ && w->inline_depth == 0)
        w->inline_depth = w->depth;
}

static void container_end(struct json_writer *w, char close)
{
    if (w->depth == 0) {
        w->overflow = 1;
        return;
    }
    if (w->has_items[slot(w->depth)] && !is_inline(w, w->depth))
        newline(w, w->depth - 1);
    fputc(close, w->f);
    if (w->inline_depth == w->depth)
        w->inline_depth = 0;
    w->depth--;
}

void json_object_begin(struct json_writer *w, const char *key, int inline_)
{
    container_begin(w, key, inline_, '{');
}

void json_object_end(struct json_writer *w)
{
    container_end(w, '}');
}

void json_array_begin(struct json_writer *w, const char *key, int inline_)
{
    container_begin(w, key, inline_, '[');
}

void json_array_end(struct json_writer *w)
{
    container_end(w, ']');
}

void json_string(struct json_writer *w, const char *key, const char *value)
{
    json_string_n(w, key, value, strlen(value));
}

void json_string_n(struct json_writer *w, const char *key, const char *value, size_t len)
{
    begin_value(w, key);
    write_escaped(w->f, value, len);
}

void json_u64(struct json_writer *w, const char *key, uint64_t value)
{
    begin_value(w, key);
    fprintf(w->f, "%llu", (unsigned long long)value);
}

void json_i64(struct json_writer *w, const char *key, int64_t value)
{
    begin_value(w, key);
    fprintf(w->f, "%lld", (long long)value);
}

void json_bool(struct json_writer *w, const char *key, int value)
{
    begin_value(w, key);
    fputs(value ? "true" : "false", w->f);
}

void json_null(struct json_writer *w, const char *key)
{
    begin_value(w, key);
    fputs("null", w->f);
}

void json_fixed(struct json_writer *w, const char *key, double value, int decimals)
{
    begin_value(w, key);
    if (!isfinite(value))
        fputs("null", w->f);
    else
        fprintf(w->f, "%.*f", decimals, value);
}

int json_writer_finish(struct json_writer *w)
{
    fputc('\n', w->f);
    if (w->overflow || w->depth != 0 || ferror(w->f))
        return -1;
    return 0;
}
