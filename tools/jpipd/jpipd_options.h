/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jpipd's settings and the one table that defines them (options.c): each row names a setting,
 * its type, default, bounds and help, and drives the command line, the --config file,
 * --help and --sample-config alike.
 */
#ifndef JPIPD_OPTIONS_H
#define JPIPD_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

/* Exit codes of jpipd. */
enum { JPIPD_EXIT_OK = 0, JPIPD_EXIT_RUNTIME = 1, JPIPD_EXIT_USAGE = 2 };

struct jpipd_options {
    char *root;
    char *listen; /* "ADDR:PORT", "[V6ADDR]:PORT" */
    char *tls_cert;
    char *tls_key;
    char *access_log; /* file name, "-" for stdout, NULL for none */
    char *pid_file;
    char *channel_path;
    uint64_t max_sessions;
    uint64_t max_targets;
    uint64_t max_connections;
    uint64_t max_connections_per_ip;
    uint64_t connection_timeout;
    uint64_t max_query_bytes;
    uint64_t max_response_bytes;
    uint64_t max_buffered_bytes;
    int content_length;
    int log_level;        /* enum jpip_log_level */
    uint64_t client_rate; /* bytes/s, 0 = none */
    uint64_t total_rate;
    uint64_t chunk_size;
    uint64_t session_lifetime; /* seconds, 0 = none */
    uint64_t idle_timeout;
    uint64_t request_timeout;
    uint64_t send_timeout;
    uint64_t shutdown_timeout;
    uint64_t max_model_entries;
    uint64_t connection_memory; /* bytes, 0 = automatic */
    int metrics;
    char *index_dir;  /* persistent packet indexes, NULL for none */
    char *delegate;   /* "HOST:PORT[*W],..." back-ends new channels go to, NULL for none */
    char *cid_prefix; /* NULL for none */
    /* Filled by jpipd_listen_split from listen. */
    char host[64];
    uint16_t port;
};

/* What the command line asks for besides serving. */
enum jpipd_action { JPIPD_RUN = 0, JPIPD_HELP, JPIPD_VERSION, JPIPD_SAMPLE_CONFIG, JPIPD_MAN };

/* Parse the command line (and the --config file it names) into o, defaults first, then the
 * file, then the flags. Prints "jpipd: message" on stderr for a usage error.
 * @return JPIPD_EXIT_OK or JPIPD_EXIT_USAGE. */
int jpipd_options_parse(int argc, char **argv, struct jpipd_options *o, enum jpipd_action *action);
void jpipd_options_free(struct jpipd_options *o);

void jpipd_options_usage(FILE *f);
void jpipd_options_sample_config(FILE *f);
/* The manual page (roff, section 8), its OPTIONS from the same table. */
void jpipd_options_man(FILE *f);

/* Name of a log level ("error", ...). */
const char *jpipd_level_name(int level);

#endif
