/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Command-line helpers shared by the tools: a small table-driven option parser (long options
 * with "--name value" or "--name=value", single-letter aliases, "--" ends options), the usage
 * table printer, strict number parsing and the exit codes every tool uses. No global state.
 */
#ifndef JPIP_TOOLS_CLI_H
#define JPIP_TOOLS_CLI_H

#include <stdint.h>
#include <stdio.h>

/* Exit codes shared by the tools. */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_DATA = 1,  /* the input is malformed or unsupported */
    CLI_EXIT_USAGE = 2, /* bad command line */
    CLI_EXIT_IO = 3     /* cannot open, read or write a file */
};

/* One row of an option table; a table ends with a row whose name is NULL. */
struct cli_option {
    const char *name; /* long name without "--" */
    char short_name;  /* '\0' for none */
    const char *arg;  /* name of the argument for the usage text, NULL if it takes none */
    int id;           /* returned by cli_next; must be > 0 */
    const char *help; /* one line */
};

/* Parser state; the caller embeds it and calls cli_init once. */
struct cli_parser {
    int argc;
    char **argv;
    int next;          /* index of the next argv element to look at */
    int options_done;  /* "--" seen: everything after is positional */
    const char *prog;  /* program name used in messages */
    char short_buf[3]; /* "-x" while reporting a short option */
};

enum { CLI_END = 0, CLI_POSITIONAL = -1, CLI_ERROR = -2 };

void cli_init(struct cli_parser *p, const char *prog, int argc, char **argv);

/* Returns the id of the next option (with *arg set to its argument or NULL), CLI_POSITIONAL
 * (with *arg set to the operand), CLI_END when argv is exhausted, or CLI_ERROR after printing
 * "prog: message" to stderr (unknown option, missing or unexpected argument). */
int cli_next(struct cli_parser *p, const struct cli_option *opts, const char **arg);

/* Prints the option table, one aligned line per option, each line prefixed by two spaces. */
void cli_print_options(FILE *f, const struct cli_option *opts);

/* Strict decimal parse of a whole string into [0, max]. Returns 0 on success, -1 otherwise. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Prints "prog: " + the formatted message + newline on stderr. */
void cli_error(const char *prog, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
