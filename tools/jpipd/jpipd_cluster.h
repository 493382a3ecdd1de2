/* SPDX-License-Identifier: BSD-2-Clause */
/* jpipd's persistent index folder and channel delegation (cluster.c). */
#ifndef JPIPD_CLUSTER_H
#define JPIPD_CLUSTER_H

#include <jpip/delegate.h>
#include <jpip/index_dir.h>
#include <jpip/server.h>

#include "jpipd_options.h"

struct jpipd_cluster {
    struct jpip_index_dir *ix;
    struct jpip_delegate *dg;
};

/* Fill the index and delegation hooks from --index-dir and --delegate; messages go to log.
 * Returns 0, or -1 after logging why. */
int jpipd_cluster_setup(struct jpipd_cluster *c, const struct jpipd_options *o,
                        struct jpip_server_hooks *hooks, jpip_log_fn log, void *log_user);
/* Start the back-ends' health checks (once serving). */
int jpipd_cluster_start(struct jpipd_cluster *c);
/* After the server is destroyed. */
void jpipd_cluster_free(struct jpipd_cluster *c);

#endif
