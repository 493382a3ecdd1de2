/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Table-driven command-line parsing for the tools (see cli.h). Options and operands may be
 * mixed; an argument "-" alone is an operand (by convention standard input or output).
 */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

void cli_init(struct cli_parser *p, const char *prog, int argc, char **argv)
{
    memset(p, 0, sizeof *p);
    p->prog = prog;
    p->argc = argc;
    p->argv = argv;
    p->next = 1;
}

void cli_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const struct cli_option *find_long(const struct cli_option *opts, const char *name,
                                          size_t len)
{
    for (const struct cli_option *o = opts; o->name; o++)
        if (strlen(o->name) == len && memcmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static const struct cli_option *find_short(const struct cli_option *opts, char c)
{
    for (const struct cli_option *o = opts; o->name; o++)
        if (o->short_name && o->short_name == c)
            return o;
    return NULL;
}

/* Takes the option's argument: the inline text (after '=' or the letter) or the next element. */
static int take_arg(struct cli_parser *p, const struct cli_option *o, const char *shown,
                    const char *inline_arg, const char **arg)
{
    if (!o->arg) {
        if (inline_arg) {
            cli_error(p->prog, "option %s takes no argument", shown);
            return CLI_ERROR;
        }
        *arg = NULL;
        return o->id;
    }
    if (inline_arg) {
        *arg = inline_arg;
        return o->id;
    }
    if (p->next >= p->argc) {
        cli_error(p->prog, "option %s needs an argument (%s)", shown, o->arg);
        return CLI_ERROR;
    }
    *arg = p->argv[p->next++];
    return o->id;
}

int cli_next(struct cli_parser *p, const struct cli_option *opts, const char **arg)
{
    *arg = NULL;
    if (p->next >= p->argc)
        return CLI_END;
    const char *s = p->argv[p->next++];
    if (p->options_done || s[0] != '-' || s[1] == '\0') {
        *arg = s;
        return CLI_POSITIONAL;
    }
    if (s[1] == '-') {
        if (s[2] == '\0') {
            p->options_done = 1;
            return cli_next(p, opts, arg);
        }
        const char *name = s + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct cli_option *o = find_long(opts, name, len);
        if (!o) {
            cli_error(p->prog, "unknown option '--%.*s' (see --help)", (int)len, name);
            return CLI_ERROR;
        }
        return take_arg(p, o, s, eq ? eq + 1 : NULL, arg);
    }
    const struct cli_option *o = find_short(opts, s[1]);
    if (!o) {
        cli_error(p->prog, "unknown option '%s' (see --help)", s);
        return CLI_ERROR;
    }
    p->short_buf[0] = '-';
    p->short_buf[1] = s[1];
    p->short_buf[2] = '\0';
    return take_arg(p, o, p->short_buf, s[2] ? s + 2 : NULL, arg);
}

/* Width of the "-x, --name ARG" column of one row. */
static size_t option_width(const struct cli_option *o)
{
    size_t w = 4 + 2 + strlen(o->name); /* "-x, " + "--" + name */
    if (o->arg)
        w += 1 + strlen(o->arg);
    return w;
}

void cli_print_options(FILE *f, const struct cli_option *opts)
{
    size_t width = 0;
    for (const struct cli_option *o = opts; o->name; o++) {
        size_t w = option_width(o);
        if (w > width)
            width = w;
    }
    for (const struct cli_option *o = opts; o->name; o++) {
        if (o->short_name)
            fprintf(f, "  -%c, ", o->short_name);
        else
            fputs("      ", f);
        int n = fprintf(f, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        size_t pad = width - 4 - (n > 0 ? (size_t)n : 0);
        fprintf(f, "%*s  %s\n", (int)pad, "", o->help);
    }
}

int cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    uint64_t v = 0;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        unsigned d = (unsigned)(*c - '0');
        if (d > max || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}
