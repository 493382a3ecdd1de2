/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The file-backed jpip_source: opens a path read-only and serves read_at with pread, so one
 * descriptor can be shared by readers without a file position. This module owns only the
 * descriptor; bounds against the recorded size are checked by jpip__src_read, not here.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpip/index.h>

#include "common/alloc.h"

/* Largest single pread: POSIX leaves counts above SSIZE_MAX implementation-defined. */
#define FILE_READ_CHUNK ((size_t)1 << 30)

/* Lives in src->user while the source is open. */
struct file_source {
    int fd;
};

static int file_read(void *user, uint64_t off, void *dst, size_t len)
{
    const struct file_source *fs = user;
    uint8_t *out = dst;
    /* off_t is a signed 64-bit type here (_FILE_OFFSET_BITS): refuse offsets it cannot hold. */
    if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
        return JPIP_EMALFORMED;
    while (len > 0) {
        const size_t want = len < FILE_READ_CHUNK ? len : FILE_READ_CHUNK;
        const ssize_t n = pread(fs->fd, out, want, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return JPIP_EIO;
        }
        /* End of file inside the size recorded at open: the file shrank under us. */
        if (n == 0)
            return JPIP_EIO;
        out += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return JPIP_OK;
}

static int open_error(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR: return JPIP_ENOTFOUND;
    case ENOMEM: return JPIP_ENOMEM;
    default: return JPIP_EIO;
    }
}

int jpip_file_source_open(struct jpip_source *src, const char *path)
{
    if (!src)
        return JPIP_EINVAL;
    src->read_at = NULL;
    src->size = 0;
    src->user = NULL;
    if (!path || !path[0])
        return JPIP_EINVAL;

    /* O_NONBLOCK keeps a FIFO or device from blocking the open; it is cleared again below once
     * we know the path is a regular file. */
    int fd;
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return open_error(errno);

    int rc = JPIP_EIO;
    struct file_source *fs;
    struct stat st;
    if (fstat(fd, &st) != 0)
        goto fail;
    if (!S_ISREG(st.st_mode) || st.st_size < 0) {
        rc = JPIP_EINVAL;
        goto fail;
    }
    const int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
        goto fail;
    fs = jpip__alloc(NULL, sizeof *fs);
    if (!fs) {
        rc = JPIP_ENOMEM;
        goto fail;
    }
    fs->fd = fd;
    src->read_at = file_read;
    src->size = (uint64_t)st.st_size;
    src->user = fs;
    return JPIP_OK;

fail:
    close(fd);
    return rc;
}

void jpip_file_source_close(struct jpip_source *src)
{
    if (!src || !src->user || src->read_at != file_read)
        return;
    struct file_source *fs = src->user;
    /* Linux and POSIX 2008 leave the descriptor closed even when close fails with EINTR, so
     * it is never retried. */
    close(fs->fd);
    jpip__free(NULL, fs);
    src->read_at = NULL;
    src->size = 0;
    src->user = NULL;
}
