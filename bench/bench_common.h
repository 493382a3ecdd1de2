/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the in-process benchmarks: server hooks serving one file, and a clock. */
#ifndef JPIP_BENCH_COMMON_H
#define JPIP_BENCH_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jpip/index.h>
#include <jpip/server.h>

/* The file every target name resolves to. */
static const char *file_path;

static int resolve(void *user, const char *name, size_t len, struct jpip_target_ref *out, char *msg,
                   size_t msglen)
{
    (void)user;
    (void)name;
    (void)len;
    (void)msg;
    (void)msglen;
    struct stat st;
    if (stat(file_path, &st) != 0 || jpip_file_source_open(&out->src, file_path) != JPIP_OK)
        return JPIP_ENOTFOUND;
    snprintf(out->version, sizeof out->version, "%lld:%lld", (long long)st.st_size,
             (long long)st.st_mtime);
    return JPIP_OK;
}

static void release(void *user, struct jpip_target_ref *ref)
{
    (void)user;
    jpip_file_source_close(&ref->src);
}

static int rnd(void *user, uint8_t *buf, size_t len)
{
    (void)user;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rand();
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#endif
