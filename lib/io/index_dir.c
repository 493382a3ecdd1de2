/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The folder of persistent packet indexes (include/jpip/index_dir.h): reading <key>.jpipidx
 * whole, and replacing it under an advisory lock with a temporary file renamed over it. The
 * bytes are made and checked by the server core (lib/codestream/index_serial.c).
 */
#define _DEFAULT_SOURCE /* flock */
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpip/index_dir.h>

#include "common/alloc.h"
#include "common/status.h"

/* Largest index file read: 12 bytes a packet, so room for some 80 million packets. */
#define INDEX_FILE_MAX ((uint64_t)1 << 30)
#define DIR_MAX 4000u

struct jpip_index_dir {
    size_t dir_len;
    char dir[DIR_MAX + 1];
};

int jpip_index_dir_create(struct jpip_index_dir **out, const char *dir, char *msg, size_t msglen)
{
    if (!out || !dir || !dir[0] || strlen(dir) > DIR_MAX) {
        if (msg && msglen)
            snprintf(msg, msglen, "index folder name missing or too long");
        return JPIP_EINVAL;
    }
    *out = NULL;
    struct stat st;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        if (msg && msglen)
            snprintf(msg, msglen, "cannot create index folder %s: %s", dir, strerror(errno));
        return JPIP_EIO;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0) {
        if (msg && msglen)
            snprintf(msg, msglen, "index folder %s is not a writable directory", dir);
        return JPIP_EIO;
    }
    struct jpip_index_dir *d = jpip__calloc(NULL, 1, sizeof *d);
    if (!d)
        return JPIP_ENOMEM;
    d->dir_len = strlen(dir);
    memcpy(d->dir, dir, d->dir_len + 1);
    *out = d;
    return JPIP_OK;
}

void jpip_index_dir_destroy(struct jpip_index_dir *d)
{
    jpip__free(NULL, d);
}

void jpip_index_dir_hooks(struct jpip_index_dir *d, struct jpip_server_hooks *hooks)
{
    if (!hooks)
        return;
    hooks->index_load = jpip_index_dir_load;
    hooks->index_save = jpip_index_dir_save;
    hooks->index_user = d;
}

/* dir/key + suffix; keys are the core's 32 hex digits, anything else is refused. */
static int path_of(const struct jpip_index_dir *d, const char *key, const char *suffix, char *out,
                   size_t cap)
{
    size_t kl = strlen(key);
    if (kl == 0 || kl > 64 || strspn(key, "0123456789abcdef") != kl)
        return JPIP_EINVAL;
    int n = snprintf(out, cap, "%s/%s%s", d->dir, key, suffix);
    return n > 0 && (size_t)n < cap ? JPIP_OK : JPIP_EINVAL;
}

/* The whole file at fd into a heap buffer; *data NULL and *len 0 for an empty file. */
static int read_whole(int fd, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return JPIP_EIO;
    if ((uint64_t)st.st_size > INDEX_FILE_MAX)
        return JPIP_ELIMIT;
    size_t n = (size_t)st.st_size;
    if (n == 0)
        return JPIP_OK;
    uint8_t *buf = jpip__alloc(NULL, n);
    if (!buf)
        return JPIP_ENOMEM;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* shrunk meanwhile: what was read is checked like any other bytes */
        got += (size_t)r;
    }
    *data = buf;
    *len = got;
    return JPIP_OK;
}

int jpip_index_dir_load(void *user, const char *key,
                        void (*take)(void *ctx, const uint8_t *data, size_t len), void *ctx)
{
    struct jpip_index_dir *d = user;
    char path[DIR_MAX + 96];
    JPIP_TRY(path_of(d, key, ".jpipidx", path, sizeof path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? JPIP_ENOTFOUND : JPIP_EIO;
    uint8_t *data;
    size_t len;
    int rc = read_whole(fd, &data, &len);
    close(fd);
    if (rc == JPIP_OK && len)
        take(ctx, data, len);
    jpip__free(NULL, data);
    return rc;
}

static int write_file(const char *tmp, int fd, const uint8_t *p, size_t n)
{
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        return JPIP_EIO;
    }
    int bad = n && fwrite(p, 1, n, f) != n;
    bad |= fclose(f) != 0;
    if (bad) {
        unlink(tmp);
        return JPIP_EIO;
    }
    return JPIP_OK;
}

int jpip_index_dir_save(void *user, const char *key,
                        int (*merge)(void *ctx, const uint8_t *old, size_t old_len,
                                     const uint8_t **out, size_t *out_len),
                        void *ctx)
{
    struct jpip_index_dir *d = user;
    char path[DIR_MAX + 96], lock[DIR_MAX + 96], tmp[DIR_MAX + 96];
    JPIP_TRY(path_of(d, key, ".jpipidx", path, sizeof path));
    JPIP_TRY(path_of(d, key, ".lock", lock, sizeof lock));
    JPIP_TRY(path_of(d, key, ".jpipidx.tmp.XXXXXX", tmp, sizeof tmp));
    /* The lock spans read, merge and rename, so two servers never lose each other's tiles;
     * readers take no lock: they only ever see a whole old or a whole new file. */
    int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lfd < 0)
        return JPIP_EIO;
    while (flock(lfd, LOCK_EX) != 0)
        if (errno != EINTR) {
            close(lfd);
            return JPIP_EIO;
        }
    uint8_t *old = NULL;
    size_t old_len = 0;
    int rc = JPIP_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        rc = read_whole(fd, &old, &old_len);
        close(fd);
        if (rc == JPIP_ELIMIT || rc == JPIP_EIO)
            rc = JPIP_OK; /* unusable: replaced without merging */
    }
    const uint8_t *out = NULL;
    size_t out_len = 0;
    if (rc == JPIP_OK)
        rc = merge(ctx, old, old_len, &out, &out_len);
    if (rc == JPIP_OK) {
        fd = mkstemp(tmp);
        rc = fd < 0 ? JPIP_EIO : write_file(tmp, fd, out, out_len);
        if (rc == JPIP_OK && (chmod(tmp, 0644) != 0 || rename(tmp, path) != 0)) {
            unlink(tmp);
            rc = JPIP_EIO;
        }
    }
    jpip__free(NULL, old);
    flock(lfd, LOCK_UN);
    close(lfd);
    return rc;
}
