/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jpip: a JPIP (ISO/IEC 15444-9) server and client library.
 *
 * This umbrella header holds what every part of the API shares: the version, the status codes,
 * the allocator and log hooks, and the byte-source interface through which the library reads
 * target files without doing I/O itself.
 *
 * Usage sketch (inspect a file):
 *
 *     struct jpip_source src;
 *     jpip_file_source_open(&src, "image.jp2");          // io adapter (jpip/index.h)
 *     struct jpip_target *t;
 *     if (jpip_target_open(&t, &src, NULL) != JPIP_OK) { ... jpip_target_errmsg ... }
 *     const struct jpip_siz_info *siz = jpip_target_siz(t, 0);
 *     jpip_target_destroy(t);
 *     jpip_file_source_close(&src);
 */
#ifndef JPIP_JPIP_H
#define JPIP_JPIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JPIP_VERSION_MAJOR 0
#define JPIP_VERSION_MINOR 1
#define JPIP_VERSION_PATCH 0
#define JPIP_VERSION_NUMBER                                                                        \
    (JPIP_VERSION_MAJOR * 10000 + JPIP_VERSION_MINOR * 100 + JPIP_VERSION_PATCH)

#if defined(_WIN32)
#define JPIP_API
#elif defined(__GNUC__)
#define JPIP_API __attribute__((visibility("default")))
#else
#define JPIP_API
#endif

/* Status codes. 0 is success, negatives are errors, positives are non-error statuses.
 * Numbers are fixed forever; never reuse one. */
enum jpip_status {
    JPIP_OK = 0,
    JPIP_AGAIN = 1,         /* need more input (not an error) */
    JPIP_EINVAL = -1,       /* API misuse */
    JPIP_ENOMEM = -2,       /* allocation failed */
    JPIP_ELIMIT = -3,       /* a configured bound was exceeded */
    JPIP_EMALFORMED = -4,   /* the peer's or the file's bytes are invalid */
    JPIP_EUNSUPPORTED = -5, /* valid input using a feature we lack */
    JPIP_ENOTFOUND = -6,    /* unknown target, session, channel or item */
    JPIP_EPROTOCOL = -7,    /* the peer broke the protocol */
    JPIP_EIO = -8,          /* I/O or OS error */
    JPIP_ECODEC = -9        /* the decoder failed */
};

/* Returns a static, human-readable name for a status code. Never NULL. */
JPIP_API const char *jpip_strerror(int code);

JPIP_API unsigned jpip_version(void);
JPIP_API const char *jpip_version_string(void);

/* Custom allocator. alloc(opaque, size) returns NULL on failure; free(opaque, NULL) is a no-op.
 * A NULL allocator pointer anywhere in the API means malloc/free. */
typedef void *(*jpip_alloc_fn)(void *opaque, size_t size);
typedef void (*jpip_free_fn)(void *opaque, void *ptr);
struct jpip_allocator {
    jpip_alloc_fn alloc;
    jpip_free_fn free;
    void *opaque;
};

enum jpip_log_level {
    JPIP_LOG_ERROR = 0,
    JPIP_LOG_WARN = 1,
    JPIP_LOG_INFO = 2,
    JPIP_LOG_DEBUG = 3,
    JPIP_LOG_TRACE = 4
};
typedef void (*jpip_log_fn)(void *user, enum jpip_log_level level, const char *msg);

/* A random-access byte source. read_at copies exactly len bytes at offset off into dst and
 * returns JPIP_OK, or returns an error (JPIP_EIO, or JPIP_EMALFORMED when [off, off+len)
 * lies past size). The library never performs I/O itself: every file byte comes through
 * this interface, so tests and fuzzers serve bytes from memory. */
struct jpip_source {
    int (*read_at)(void *user, uint64_t off, void *dst, size_t len);
    uint64_t size; /* total size in bytes */
    void *user;
};

/* A source over a caller-owned memory buffer (borrowed: it must outlive the source). */
JPIP_API void jpip_memory_source_init(struct jpip_source *src, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
