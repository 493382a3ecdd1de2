/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The directory resolver behind jpip_server's resolve hook: target names are paths relative to
 * a root directory. The name is checked lexically first (no absolute path, no "..", no control
 * bytes), then canonicalised with realpath() so a symbolic link is followed only when its end
 * stays under the root's canonical path. Files are opened through the file source (pread).
 * It does not watch the tree: a file that changes gets a new version stamp on its next resolve.
 */
/* realpath() is an XSI extension of POSIX. */
#define _XOPEN_SOURCE 700
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpip/index.h>
#include <jpip/resolver.h>

#include "common/alloc.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* Longest accepted target name, in bytes. */
#define NAME_MAX_BYTES 4095

struct jpip_dir_resolver {
    struct jpip_allocator alloc_copy;
    const struct jpip_allocator *alloc;
    size_t root_len;
    char root[PATH_MAX];
};

static void say(char *msg, size_t msglen, const char *text)
{
    if (msg && msglen)
        snprintf(msg, msglen, "%s", text);
}

int jpip_dir_resolver_create(struct jpip_dir_resolver **out, const char *root,
                             const struct jpip_allocator *a, char *msg, size_t msglen)
{
    if (!out || !root || !root[0]) {
        say(msg, msglen, "no root directory given");
        return JPIP_EINVAL;
    }
    *out = NULL;
    char real[PATH_MAX];
    if (!realpath(root, real)) {
        const int err = errno;
        if (msg && msglen)
            snprintf(msg, msglen, "root %s: %s", root, strerror(err));
        return err == ENOENT || err == ENOTDIR ? JPIP_ENOTFOUND : JPIP_EIO;
    }
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        if (msg && msglen)
            snprintf(msg, msglen, "root %s is not a directory", root);
        return JPIP_ENOTFOUND;
    }
    struct jpip_dir_resolver *r = jpip__calloc(a, 1, sizeof *r);
    if (!r) {
        say(msg, msglen, "out of memory");
        return JPIP_ENOMEM;
    }
    if (a) {
        r->alloc_copy = *a;
        r->alloc = &r->alloc_copy;
    }
    r->root_len = strlen(real);
    memcpy(r->root, real, r->root_len + 1);
    *out = r;
    return JPIP_OK;
}

void jpip_dir_resolver_destroy(struct jpip_dir_resolver *r)
{
    if (!r)
        return;
    const struct jpip_allocator copy = r->alloc_copy;
    jpip__free(r->alloc ? &copy : NULL, r);
}

const char *jpip_dir_resolver_root(const struct jpip_dir_resolver *r)
{
    return r ? r->root : "";
}

/* Lexical checks on the name as received: 0 when acceptable, else a reason. */
static const char *name_problem(const char *name, size_t len)
{
    if (len == 0)
        return "empty target name";
    if (len > NAME_MAX_BYTES)
        return "target name too long";
    if (name[0] == '/')
        return "absolute target names are refused";
    for (size_t i = 0; i < len; i++) {
        const unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return "control byte in target name";
    }
    /* Any ".." component, wherever it is ("..", "../x", "x/..", "x/../y"). */
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '/') {
            if (i - start == 2 && name[start] == '.' && name[start + 1] == '.')
                return "'..' in target name is refused";
            start = i + 1;
        }
    }
    return NULL;
}

/* Whether canonical path p lies strictly below the root. */
static int is_under_root(const struct jpip_dir_resolver *r, const char *p)
{
    if (r->root_len == 1) /* the root is "/" */
        return p[0] == '/' && p[1] != '\0';
    return strncmp(p, r->root, r->root_len) == 0 && p[r->root_len] == '/' &&
           p[r->root_len + 1] != '\0';
}

static int same_file(const struct stat *x, const struct stat *y)
{
    return x->st_dev == y->st_dev && x->st_ino == y->st_ino && x->st_size == y->st_size &&
           x->st_mtim.tv_sec == y->st_mtim.tv_sec && x->st_mtim.tv_nsec == y->st_mtim.tv_nsec;
}

int jpip_dir_resolver_resolve(void *user, const char *name, size_t name_len,
                              struct jpip_target_ref *out, char *msg, size_t msglen)
{
    struct jpip_dir_resolver *r = user;
    if (!r || !out || (!name && name_len))
        return JPIP_EINVAL;
    const char *why = name_problem(name, name_len);
    if (why) {
        say(msg, msglen, why);
        return JPIP_EINVAL;
    }
    /* root + '/' + name + NUL */
    const size_t joined_len = r->root_len + 1 + name_len;
    char *joined = jpip__alloc(r->alloc, joined_len + 1);
    if (!joined) {
        say(msg, msglen, "out of memory");
        return JPIP_ENOMEM;
    }
    memcpy(joined, r->root, r->root_len);
    joined[r->root_len] = '/';
    memcpy(joined + r->root_len + 1, name, name_len);
    joined[joined_len] = '\0';

    char real[PATH_MAX];
    const char *ok = realpath(joined, real);
    const int err = errno;
    jpip__free(r->alloc, joined);
    if (!ok) {
        switch (err) {
        case ENOENT:
        case ENOTDIR: say(msg, msglen, "no such file"); return JPIP_ENOTFOUND;
        case EACCES: say(msg, msglen, "permission denied"); return JPIP_EINVAL;
        case ELOOP: say(msg, msglen, "too many symbolic links"); return JPIP_EINVAL;
        case ENAMETOOLONG: say(msg, msglen, "path too long"); return JPIP_EINVAL;
        case ENOMEM: say(msg, msglen, "out of memory"); return JPIP_ENOMEM;
        default: say(msg, msglen, "cannot resolve the path"); return JPIP_EIO;
        }
    }
    if (!is_under_root(r, real)) {
        /* Either a symbolic link leads out, or the name is the root itself ("." etc.). */
        if (strcmp(real, r->root) == 0) {
            say(msg, msglen, "not a regular file");
            return JPIP_ENOTFOUND;
        }
        say(msg, msglen, "the path leads outside the served directory");
        return JPIP_EINVAL;
    }
    struct stat before, after;
    if (stat(real, &before) != 0) {
        say(msg, msglen, "no such file");
        return JPIP_ENOTFOUND;
    }
    if (!S_ISREG(before.st_mode)) {
        say(msg, msglen, "not a regular file");
        return JPIP_ENOTFOUND;
    }
    int rc = jpip_file_source_open(&out->src, real);
    if (rc != JPIP_OK) {
        say(msg, msglen, rc == JPIP_ENOTFOUND ? "no such file" : "cannot open the file");
        return rc == JPIP_EINVAL ? JPIP_ENOTFOUND : rc;
    }
    /* The stamp must describe the bytes the source reads: the file must be the same one,
     * unchanged, before and after the open (a rename or write in between is refused). */
    if (stat(real, &after) != 0 || !same_file(&before, &after) ||
        out->src.size != (uint64_t)after.st_size) {
        jpip_file_source_close(&out->src);
        say(msg, msglen, "the file changed while it was being opened");
        return JPIP_EIO;
    }
    snprintf(out->version, sizeof out->version, "%llu:%llu:%llu:%llu",
             (unsigned long long)after.st_dev, (unsigned long long)after.st_ino,
             (unsigned long long)after.st_size,
             (unsigned long long)after.st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)after.st_mtim.tv_nsec);
    out->handle = NULL;
    return JPIP_OK;
}

void jpip_dir_resolver_release(void *user, struct jpip_target_ref *ref)
{
    (void)user;
    if (ref)
        jpip_file_source_close(&ref->src);
}

void jpip_dir_resolver_hooks(struct jpip_dir_resolver *r, struct jpip_server_hooks *hooks)
{
    if (!hooks)
        return;
    hooks->resolve = jpip_dir_resolver_resolve;
    hooks->release = jpip_dir_resolver_release;
    hooks->user = r;
}
