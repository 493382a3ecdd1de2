/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A disk read error for the fault tests, without a failing disk: an LD_PRELOAD library whose
 * pread and pread64 fail with EIO for one file while a trigger file exists. The reads that fail
 * are those touching the bytes [JPIP_EIO_FROM, JPIP_EIO_TO) of the file named by JPIP_EIO_FILE
 * (a bad sector; JPIP_EIO_TO unset = to the end), and only while the file named by
 * JPIP_EIO_TRIGGER exists, so a test can make the disk fail and recover while the server runs.
 * Every other read goes to the C library. Test-only: never linked into the product.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);

static pread_fn next_pread(const char *name)
{
    return (pread_fn)dlsym(RTLD_NEXT, name);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 10) : dflt;
}

/* Whether a read of n bytes at off on fd is one the bad sector spoils now. */
static int spoiled(int fd, off_t off, size_t n)
{
    const char *file = getenv("JPIP_EIO_FILE"), *trigger = getenv("JPIP_EIO_TRIGGER");
    if (!file || !trigger || access(trigger, F_OK) != 0)
        return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t k = readlink(link, path, sizeof path - 1);
    if (k <= 0)
        return 0;
    path[k] = '\0';
    if (strcmp(path, file) != 0)
        return 0;
    const uint64_t from = env_u64("JPIP_EIO_FROM", 0), to = env_u64("JPIP_EIO_TO", UINT64_MAX);
    const uint64_t a = (uint64_t)off, b = a + n;
    return a < to && b > from;
}

/* The C library's read (looked up once into *real), unless the bad sector spoils it. */
static ssize_t read_through(pread_fn *real, const char *name, int fd, void *buf, size_t n,
                            off_t off)
{
    if (!*real)
        *real = next_pread(name);
    if (spoiled(fd, off, n)) {
        errno = EIO;
        return -1;
    }
    return (*real)(fd, buf, n, off);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    static pread_fn real;
    return read_through(&real, "pread", fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
    static pread_fn real;
    return read_through(&real, "pread64", fd, buf, n, off);
}
