/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jpipd's part in running several servers: the persistent packet index folder (--index-dir)
 * and the delegation of new channels to back-ends (--delegate). Both plug into the server
 * core's hooks before it is created, and are freed after it.
 */
#define _POSIX_C_SOURCE 200809L

#include "jpipd_cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jpipd_cluster_setup(struct jpipd_cluster *c, const struct jpipd_options *o,
                        struct jpip_server_hooks *hooks, jpip_log_fn log, void *log_user)
{
    memset(c, 0, sizeof *c);
    char msg[512];
    if (o->index_dir) {
        if (jpip_index_dir_create(&c->ix, o->index_dir, msg, sizeof msg) != JPIP_OK) {
            log(log_user, JPIP_LOG_ERROR, msg);
            return -1;
        }
        jpip_index_dir_hooks(c->ix, hooks);
    }
    if (o->delegate) {
        struct jpip_delegate_config dc;
        jpip_delegate_config_default(&dc);
        dc.log = log;
        dc.log_user = log_user;
        if (jpip_delegate_create(&c->dg, &dc) != JPIP_OK) {
            log(log_user, JPIP_LOG_ERROR, "cannot set up delegation (libcurl)");
            return -1;
        }
        char *list = strdup(o->delegate);
        if (!list)
            return -1;
        int bad = 0;
        char *save = NULL;
        for (char *spec = strtok_r(list, ",", &save); spec && !bad;
             spec = strtok_r(NULL, ",", &save)) {
            bad = jpip_delegate_add(c->dg, spec, msg, sizeof msg) != JPIP_OK;
            if (bad)
                log(log_user, JPIP_LOG_ERROR, msg);
        }
        free(list);
        if (bad)
            return -1;
        jpip_delegate_hooks(c->dg, hooks);
    }
    return 0;
}

int jpipd_cluster_start(struct jpipd_cluster *c)
{
    return c->dg && jpip_delegate_start(c->dg) != JPIP_OK ? -1 : 0;
}

void jpipd_cluster_free(struct jpipd_cluster *c)
{
    jpip_delegate_destroy(c->dg);
    jpip_index_dir_destroy(c->ix);
    memset(c, 0, sizeof *c);
}
