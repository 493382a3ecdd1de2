/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A target resolver for jpip_server (lib/io): serves the regular files below one directory,
 * the root. A target name is a path relative to the root; names that could reach outside it
 * are refused before any file is opened, and symbolic links are followed only while they stay
 * inside the root.
 *
 * Usage sketch:
 *
 *     struct jpip_dir_resolver *dr;
 *     char msg[256];
 *     if (jpip_dir_resolver_create(&dr, "/srv/images", NULL, msg, sizeof msg) != JPIP_OK) ...
 *     struct jpip_server_hooks hooks;
 *     jpip_dir_resolver_hooks(dr, &hooks);    // resolve + release; random is the caller's
 *     hooks.random = my_random;
 *     jpip_server_create(&srv, &hooks, NULL, NULL);
 *     ...
 *     jpip_server_destroy(srv);               // releases every target first
 *     jpip_dir_resolver_destroy(dr);
 */
#ifndef JPIP_RESOLVER_H
#define JPIP_RESOLVER_H

#include <jpip/jpip.h>
#include <jpip/server.h>

#ifdef __cplusplus
extern "C" {
#endif

struct jpip_dir_resolver;

/* Create a resolver rooted at root (borrowed; its canonical path is retained). a may be NULL.
 * @return JPIP_OK; JPIP_ENOTFOUND when root does not exist or is not a directory; JPIP_EIO;
 *         JPIP_ENOMEM. msg (msglen bytes, may be NULL) receives a one-line reason. */
JPIP_API int jpip_dir_resolver_create(struct jpip_dir_resolver **out, const char *root,
                                      const struct jpip_allocator *a, char *msg, size_t msglen);
/* Destroy the resolver (NULL is a no-op). Every target it resolved must be released first:
 * destroy the jpip_server before the resolver. */
JPIP_API void jpip_dir_resolver_destroy(struct jpip_dir_resolver *r);

/* The canonical root path (no trailing '/' except for "/" itself); valid until destroy. */
JPIP_API const char *jpip_dir_resolver_root(const struct jpip_dir_resolver *r);

/* Resolve name (name_len bytes, percent-decoded, not NUL-terminated) to an open file source.
 * Rules, in order:
 *   1. the name is refused (JPIP_EINVAL, served as 403) when it is empty, longer than 4095
 *      bytes, absolute, contains a NUL or control byte (< 0x20 or 0x7f) or a ".." component;
 *   2. JPIP_ENOTFOUND (404) when the file or a directory on its way is missing, or when the
 *      name is a directory or anything but a regular file;
 *   3. JPIP_EINVAL (403) when the canonical path (symbolic links resolved) lies outside the
 *      root's canonical path.
 * On success out->src is a file source (lib/io, pread), out->version is "dev:ino:size:mtime_ns"
 * of the opened file, and out->handle is unused. This function has the shape of the
 * jpip_server_hooks resolve hook; user is the resolver.
 * @return JPIP_OK, JPIP_EINVAL, JPIP_ENOTFOUND, JPIP_EIO, JPIP_ENOMEM. */
JPIP_API int jpip_dir_resolver_resolve(void *user, const char *name, size_t name_len,
                                       struct jpip_target_ref *out, char *msg, size_t msglen);
/* Close what resolve opened (the release hook). */
JPIP_API void jpip_dir_resolver_release(void *user, struct jpip_target_ref *ref);

/* Fill hooks->resolve, hooks->release and hooks->user for r; hooks->random is left as it is
 * (the embedder supplies randomness). */
JPIP_API void jpip_dir_resolver_hooks(struct jpip_dir_resolver *r, struct jpip_server_hooks *hooks);

#ifdef __cplusplus
}
#endif
#endif
