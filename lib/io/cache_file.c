/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Cache files (declared in include/jpip/fetch.h): a client core's saved data-bin cache behind
 * a small header naming the key (server and target) it belongs to. Loading refuses foreign or
 * corrupt files with a message and leaves the client as it was; saving is crash-safe: a
 * temporary file in the same folder, fsync, rename over the old file, fsync of the folder.
 * The file access lives here in lib/io; lib/transport decides when to load and save.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpip/fetch.h>

#include "common/alloc.h"

#define MAGIC "JPIPFC1\n"
#define MAGIC_LEN 8
#define KEY_MAX 65536
#define FILE_MAX ((uint64_t)1 << 32)

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

void jpip_cache_file_name(const char *key, char out[33])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t h[2] = {fnv1a(key, 0xcbf29ce484222325ull), fnv1a(key, 0x6c62272e07bb0142ull)};
    /* Mix the second half with the first so equal prefixes do not show. */
    h[1] ^= h[0] >> 29;
    h[1] *= 0xbf58476d1ce4e5b9ull;
    for (int i = 0; i < 32; i++)
        out[i] = hex[(h[i / 16] >> (60 - 4 * (i % 16))) & 15];
    out[32] = '\0';
}

static int read_all(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Like snprintf into errbuf (which may be NULL); returns code. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
fail(char *errbuf, size_t errlen, int code, const char *fmt, ...)
{
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int jpip_cache_file_load(struct jpip_client *c, const char *path, const char *key, char *errbuf,
                         size_t errlen)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        if (errno == ENOENT)
            return JPIP_ENOTFOUND;
        return fail(errbuf, errlen, JPIP_EIO, "cannot open cache file %s: %s", path,
                    strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(errbuf, errlen, JPIP_EIO, "cache file %s is not a regular file", path);
    }
    if ((uint64_t)st.st_size > FILE_MAX || (uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return fail(errbuf, errlen, JPIP_ELIMIT, "cache file %s is larger than 4 GiB", path);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *data = jpip__alloc(NULL, n ? n : 1);
    if (!data) {
        close(fd);
        return JPIP_ENOMEM;
    }
    int rd = read_all(fd, data, n);
    close(fd);
    int rc = JPIP_OK;
    size_t kl = strlen(key);
    if (rd < 0) {
        rc = fail(errbuf, errlen, JPIP_EIO, "cannot read cache file %s", path);
    } else if (n < MAGIC_LEN + 4 || memcmp(data, MAGIC, MAGIC_LEN) != 0) {
        rc = fail(errbuf, errlen, JPIP_EMALFORMED,
                  "%s is not a jpip cache file (bad header at byte 0)", path);
    } else {
        const uint8_t *p = data + MAGIC_LEN;
        size_t fkl = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        size_t body = MAGIC_LEN + 4 + fkl;
        if (fkl > KEY_MAX || body > n)
            rc = fail(errbuf, errlen, JPIP_EMALFORMED, "cache file %s: bad key length at byte %d",
                      path, MAGIC_LEN);
        else if (fkl != kl || memcmp(p + 4, key, kl) != 0)
            rc =
                fail(errbuf, errlen, JPIP_EMALFORMED, "cache file %s belongs to another URL (%.*s)",
                     path, (int)(fkl < 120 ? fkl : 120), (const char *)p + 4);
        else if (jpip_client_cache_load(c, data + body, n - body) != JPIP_OK)
            rc = fail(errbuf, errlen, JPIP_EMALFORMED, "cache file %s: %s (offsets after byte %zu)",
                      path, jpip_client_errmsg(c), body);
    }
    jpip__free(NULL, data);
    return rc;
}

int jpip_cache_file_save(const struct jpip_client *c, const char *path, const char *key,
                         char *errbuf, size_t errlen)
{
    size_t plen = strlen(path), kl = strlen(key);
    if (kl > KEY_MAX)
        return fail(errbuf, errlen, JPIP_EINVAL, "cache key longer than %u bytes", KEY_MAX);
    uint8_t *blob = NULL;
    size_t blen = 0;
    int rc = jpip_client_cache_save(c, &blob, &blen);
    if (rc < 0)
        return fail(errbuf, errlen, rc, "cannot save the cache: %s", jpip_client_errmsg(c));
    char *tmp = jpip__alloc(NULL, plen + 16);
    int dfd = -1;
    if (!tmp) {
        rc = JPIP_ENOMEM;
        goto done;
    }
    /* The folder: what precedes the last slash ("." without one); created when missing. */
    const char *slash = strrchr(path, '/');
    size_t dl = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
    memcpy(tmp, slash ? path : ".", dl);
    tmp[dl] = '\0';
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
        rc = fail(errbuf, errlen, JPIP_EIO, "cannot create cache folder %s: %s", tmp,
                  strerror(errno));
        goto done;
    }
    dfd = open(tmp, O_RDONLY);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = fail(errbuf, errlen, JPIP_EIO, "cannot create a temporary file for %s: %s", path,
                  strerror(errno));
        goto done;
    }
    uint8_t head[MAGIC_LEN + 4];
    memcpy(head, MAGIC, MAGIC_LEN);
    head[MAGIC_LEN] = (uint8_t)(kl >> 24);
    head[MAGIC_LEN + 1] = (uint8_t)(kl >> 16);
    head[MAGIC_LEN + 2] = (uint8_t)(kl >> 8);
    head[MAGIC_LEN + 3] = (uint8_t)kl;
    int bad = write_all(fd, head, sizeof head) < 0 || write_all(fd, (const uint8_t *)key, kl) < 0 ||
              write_all(fd, blob, blen) < 0 || fsync(fd) != 0;
    int saved_errno = errno;
    if (close(fd) != 0 && !bad) {
        bad = 1;
        saved_errno = errno;
    }
    if (bad || rename(tmp, path) != 0) {
        if (!bad)
            saved_errno = errno;
        unlink(tmp);
        rc = fail(errbuf, errlen, JPIP_EIO, "cannot write cache file %s: %s", path,
                  strerror(saved_errno));
        goto done;
    }
    /* Make the rename itself durable. */
    if (dfd >= 0)
        fsync(dfd);
done:
    if (dfd >= 0)
        close(dfd);
    jpip__free(NULL, tmp);
    jpip_client_free(c, blob);
    return rc;
}
