/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A folder of persistent packet indexes for jpip_server (lib/io): one file per target,
 * <key>.jpipidx, shared by every server pointed at the folder. A restarted server, or another
 * one serving the same files, reuses the packet positions found before instead of walking
 * the packet headers again. The server checks what it reads (checksums, the file's version,
 * every packet inside its tile), so a stale, damaged or foreign file only costs a re-walk.
 *
 * Writes are atomic (a temporary file renamed over the old one) and serialised between
 * processes by an advisory lock on <key>.lock, under which the writer merges the tiles
 * another server saved meanwhile. Without fsync: a file cut by a crash is refused and rebuilt.
 *
 * Usage sketch:
 *
 *     struct jpip_index_dir *ix;
 *     if (jpip_index_dir_create(&ix, "/var/cache/jpipd", msg, sizeof msg) != JPIP_OK) ...
 *     jpip_index_dir_hooks(ix, &hooks);   // index_load, index_save, index_user
 *     jpip_server_create(&srv, &hooks, &cfg, NULL);
 *     ...
 *     jpip_server_destroy(srv);           // saves what is new
 *     jpip_index_dir_destroy(ix);
 */
#ifndef JPIP_INDEX_DIR_H
#define JPIP_INDEX_DIR_H

#include <jpip/jpip.h>
#include <jpip/server.h>

#ifdef __cplusplus
extern "C" {
#endif

struct jpip_index_dir;

/* Use folder dir (created, mode 0755, when missing; its parent must exist).
 * @return JPIP_OK, JPIP_EIO (msg says why), JPIP_EINVAL, JPIP_ENOMEM. */
JPIP_API int jpip_index_dir_create(struct jpip_index_dir **out, const char *dir, char *msg,
                                   size_t msglen);
/* Free (NULL is a no-op); destroy the server that uses it first. */
JPIP_API void jpip_index_dir_destroy(struct jpip_index_dir *d);
/* Fill hooks->index_load, hooks->index_save and hooks->index_user. */
JPIP_API void jpip_index_dir_hooks(struct jpip_index_dir *d, struct jpip_server_hooks *hooks);
/* The hooks themselves (user is the jpip_index_dir). */
JPIP_API int jpip_index_dir_load(void *user, const char *key,
                                 void (*take)(void *ctx, const uint8_t *data, size_t len),
                                 void *ctx);
JPIP_API int jpip_index_dir_save(void *user, const char *key,
                                 int (*merge)(void *ctx, const uint8_t *old, size_t old_len,
                                              const uint8_t **out, size_t *out_len),
                                 void *ctx);

#ifdef __cplusplus
}
#endif
#endif
