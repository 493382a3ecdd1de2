/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jpipd's configuration table (one row per setting: name, type, default, bounds, help, and
 * where it is stored) and the parsers it drives: "--name value" / "--name=value" on the
 * command line, "name = value" lines in a --config file, the --help text and a sample
 * configuration file. Command-line flags override the file, which overrides the defaults.
 */
#define _POSIX_C_SOURCE 200809L

#include "jpipd_options.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jpip/jpip.h>

enum opt_type {
    OPT_STRING, /* a char * field */
    OPT_LIST,   /* a char * field; each setting appends ",value" (repeatable flag) */
    OPT_UINT,   /* a uint64_t field within [min, max] */
    OPT_BOOL,   /* an int field; a bare flag means yes */
    OPT_LEVEL,  /* an int field: error|warn|info|debug */
    OPT_ACTION  /* command line only: --config, --help, --version, --sample-config */
};

struct opt_row {
    const char *name;
    enum opt_type type;
    size_t offset; /* of the field in struct jpipd_options */
    const char *def;
    uint64_t min, max;
    const char *arg; /* argument name in --help */
    const char *help;
};

#define FIELD(f) offsetof(struct jpipd_options, f)
#define NOFIELD ((size_t)-1)

static const struct opt_row table[] = {
    {"root", OPT_STRING, FIELD(root), NULL, 0, 0, "DIR",
     "serve the JPEG 2000 files below DIR (required); names never leave it"},
    {"listen", OPT_STRING, FIELD(listen), "127.0.0.1:8080", 0, 0, "ADDR:PORT",
     "address and port to listen on; [V6ADDR]:PORT for IPv6; port 0 = any free port"},
    {"tls-cert", OPT_STRING, FIELD(tls_cert), NULL, 0, 0, "FILE",
     "PEM certificate chain: serve HTTPS (needs --tls-key)"},
    {"tls-key", OPT_STRING, FIELD(tls_key), NULL, 0, 0, "FILE", "PEM private key for --tls-cert"},
    {"max-sessions", OPT_UINT, FIELD(max_sessions), "1024", 1, 1000000, "N",
     "JPIP sessions kept at once; further cnew requests get 503"},
    {"max-targets", OPT_UINT, FIELD(max_targets), "64", 1, 100000, "N",
     "open files (with their indexes) kept at once"},
    {"max-connections", OPT_UINT, FIELD(max_connections), "1024", 1, 1000000, "N",
     "concurrent HTTP connections"},
    {"max-connections-per-ip", OPT_UINT, FIELD(max_connections_per_ip), "0", 0, 1000000, "N",
     "concurrent connections from one client address (0 = no limit)"},
    {"connection-timeout", OPT_UINT, FIELD(connection_timeout), "60", 0, 86400, "SECONDS",
     "close idle connections after this long (0 = never)"},
    {"max-query-bytes", OPT_UINT, FIELD(max_query_bytes), "65536", 1024, 16777216, "BYTES",
     "longest request (query string or POST body); longer ones get 413"},
    {"max-response-bytes", OPT_UINT, FIELD(max_response_bytes), "0", 0, UINT64_MAX, "BYTES",
     "cap on one response body when the client sends no len= (0 = none)"},
    {"max-buffered-bytes", OPT_UINT, FIELD(max_buffered_bytes), "268435456", 65536,
     (uint64_t)1 << 40, "BYTES", "largest body built in memory for Content-Length replies"},
    {"content-length", OPT_BOOL, FIELD(content_length), "no", 0, 0, NULL,
     "send bodies with Content-Length instead of chunked (for picky viewers)"},
    {"channel-path", OPT_STRING, FIELD(channel_path), "jpip", 0, 0, "NAME",
     "path that JPIP-cnew tells clients to send channel requests to"},
    {"access-log", OPT_STRING, FIELD(access_log), NULL, 0, 0, "FILE|-",
     "append one line per request to FILE ('-' = stdout); SIGHUP reopens it"},
    {"log-level", OPT_LEVEL, FIELD(log_level), "info", 0, 0, "LEVEL",
     "diagnostics on stderr: error, warn, info or debug"},
    {"pid-file", OPT_STRING, FIELD(pid_file), NULL, 0, 0, "FILE",
     "write the process id to FILE while running"},
    {"client-rate", OPT_UINT, FIELD(client_rate), "0", 0, UINT64_MAX, "BYTES/S",
     "bandwidth per session (per client address for stateless requests); 0 = no limit"},
    {"total-rate", OPT_UINT, FIELD(total_rate), "0", 0, UINT64_MAX, "BYTES/S",
     "bandwidth of the whole server, shared fairly by the sessions sending; 0 = no limit"},
    {"chunk-size", OPT_UINT, FIELD(chunk_size), "16384", 256, 16777216, "BYTES",
     "largest HTTP chunk, and the unit the rate limits grant"},
    {"idle-timeout", OPT_UINT, FIELD(idle_timeout), "600", 0, 31536000, "SECONDS",
     "close a session no request has used for this long; its cid then gets 404 (0 = never)"},
    {"session-lifetime", OPT_UINT, FIELD(session_lifetime), "0", 0, 31536000, "SECONDS",
     "close a session this long after it opened, once no response is in flight (0 = never)"},
    {"request-timeout", OPT_UINT, FIELD(request_timeout), "30", 0, 86400, "SECONDS",
     "a request (headers and body) must arrive within this, or it gets 408 (0 = no limit)"},
    {"send-timeout", OPT_UINT, FIELD(send_timeout), "30", 0, 86400, "SECONDS",
     "drop a client that takes no response byte for this long (0 = connection-timeout)"},
    {"shutdown-timeout", OPT_UINT, FIELD(shutdown_timeout), "10", 0, 3600, "SECONDS",
     "on SIGTERM, let responses in flight finish for at most this long"},
    {"max-model-entries", OPT_UINT, FIELD(max_model_entries), "1048576", 1024, 1u << 28, "N",
     "data-bins a session's cache model records (16 to 32 bytes of memory each)"},
    {"connection-memory", OPT_UINT, FIELD(connection_memory), "0", 0, 1u << 30, "BYTES",
     "memory per connection for the request line, headers and one chunk; longer GET lines "
     "get 414, so long queries go as POST (0 = 32k, or chunk-size + 16k if more)"},
    {"metrics", OPT_BOOL, FIELD(metrics), "yes", 0, 0, NULL,
     "answer GET /metrics with counters in the Prometheus text format"},
    {"index-dir", OPT_STRING, FIELD(index_dir), NULL, 0, 0, "DIR",
     "keep each file's packet index in DIR and reuse it after a restart or from another "
     "server sharing DIR (a changed file's index is rebuilt)"},
    {"delegate", OPT_LIST, FIELD(delegate), NULL, 0, 0, "HOST:PORT[*W]",
     "hand each new channel to this back-end jpipd (repeatable; weight W, default 1): "
     "weighted round-robin over those answering GET /healthz"},
    {"cid-prefix", OPT_STRING, FIELD(cid_prefix), NULL, 0, 0, "NAME",
     "start every channel id with NAME (up to 7 of A-Z a-z 0-9 _ -) so a proxy can route "
     "a channel's requests to this server (see deploy/haproxy.cfg)"},
    {"config", OPT_ACTION, NOFIELD, NULL, 0, 0, "FILE",
     "read 'name = value' lines (the names above) from FILE; flags override it"},
    {"sample-config", OPT_ACTION, NOFIELD, NULL, 0, 0, NULL,
     "print a configuration file with every setting at its default, and exit"},
    {"man", OPT_ACTION, NOFIELD, NULL, 0, 0, NULL, "print the manual page (roff) and exit"},
    {"help", OPT_ACTION, NOFIELD, NULL, 0, 0, NULL, "print this help and exit"},
    {"version", OPT_ACTION, NOFIELD, NULL, 0, 0, NULL, "print the version and exit"},
};
#define NROWS (sizeof table / sizeof *table)

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

const char *jpipd_level_name(int level)
{
    if (level < 0 || level > 4)
        return "?";
    return level_names[level];
}

static const struct opt_row *find_row(const char *name, size_t len)
{
    for (size_t i = 0; i < NROWS; i++)
        if (strlen(table[i].name) == len && memcmp(table[i].name, name, len) == 0)
            return &table[i];
    return NULL;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
say(const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "jpipd: %s", where ? where : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* A whole decimal number, optionally followed by k, M or G (x1024 each). */
static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    if (*end) {
        static const char units[] = "kMG";
        const char *u = strchr(units, *end == 'K' ? 'k' : *end);
        if (!u || end[1])
            return -1;
        for (long i = 0; i <= u - units; i++) {
            if (v > ULLONG_MAX / 1024)
                return -1;
            v *= 1024;
        }
    }
    *out = v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Store value in the field of row r; where prefixes messages ("FILE:LINE: " or ""). */
static int set_value(struct jpipd_options *o, const struct opt_row *r, const char *value,
                     const char *where)
{
    char *field = (char *)o + r->offset;
    switch (r->type) {
    case OPT_STRING: {
        char **p = (char **)(void *)field;
        char *copy = strdup(value);
        if (!copy) {
            say(where, "out of memory");
            return -1;
        }
        free(*p);
        *p = copy;
        return 0;
    }
    case OPT_LIST: {
        char **p = (char **)(void *)field;
        size_t had = *p ? strlen(*p) : 0, vl = strlen(value);
        char *joined = realloc(*p, had + vl + 2);
        if (!joined) {
            say(where, "out of memory");
            return -1;
        }
        if (had)
            joined[had++] = ',';
        memcpy(joined + had, value, vl + 1);
        *p = joined;
        return 0;
    }
    case OPT_UINT: {
        uint64_t v;
        if (parse_u64(value, &v) != 0 || v < r->min || v > r->max) {
            char range[80];
            snprintf(range, sizeof range, "%llu..%llu", (unsigned long long)r->min,
                     (unsigned long long)r->max);
            say(where, "--%s wants a whole number in %s", r->name, range);
            return -1;
        }
        *(uint64_t *)(void *)field = v;
        return 0;
    }
    case OPT_BOOL:
        if (parse_bool(value, (int *)(void *)field) != 0) {
            say(where, "--%s wants yes or no, not '%s'", r->name, value);
            return -1;
        }
        return 0;
    case OPT_LEVEL:
        for (int i = 0; i < 4; i++)
            if (strcasecmp(value, level_names[i]) == 0) {
                *(int *)(void *)field = i;
                return 0;
            }
        say(where, "--%s wants error, warn, info or debug, not '%s'", r->name, value);
        return -1;
    case OPT_ACTION: break;
    }
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* Read "name = value" lines; blank lines and lines starting with '#' are skipped. */
static int load_config(struct jpipd_options *o, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        say(NULL, "cannot read config file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    unsigned lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char where[PATH_MAX + 32];
        snprintf(where, sizeof where, "%s:%u: ", path, lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            say(where, "line longer than 4095 bytes");
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            say(where, "expected 'name = value', got '%s'", s);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *name = trim(s);
        char *value = trim(eq + 1);
        const size_t vl = strlen(value);
        if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
            value[vl - 1] = '\0';
            value++;
        }
        const struct opt_row *r = find_row(name, strlen(name));
        if (!r || r->type == OPT_ACTION) {
            say(where, "unknown setting '%s'", name);
            rc = -1;
            break;
        }
        rc = set_value(o, r, value, where);
    }
    if (rc == 0 && ferror(f)) {
        say(NULL, "error reading %s", path);
        rc = -1;
    }
    fclose(f);
    return rc;
}

static int apply_defaults(struct jpipd_options *o)
{
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < NROWS; i++)
        if (table[i].def && set_value(o, &table[i], table[i].def, "default: ") != 0)
            return -1;
    return 0;
}

/* Split "--name=value" / "--name value"; returns the row or NULL (message printed). */
static const struct opt_row *cli_row(int argc, char **argv, int *i, const char **value)
{
    const char *a = argv[*i];
    if (a[0] != '-' || a[1] != '-' || a[2] == '\0') {
        say(NULL, "unexpected argument '%s' (options start with --)", a);
        return NULL;
    }
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    const size_t nl = eq ? (size_t)(eq - name) : strlen(name);
    const struct opt_row *r = find_row(name, nl);
    if (!r) {
        say(NULL, "unknown option '%s' (see --help)", a);
        return NULL;
    }
    *value = NULL;
    if (eq) {
        *value = eq + 1;
    } else if (r->arg) {
        if (*i + 1 >= argc) {
            say(NULL, "option --%s needs a value", r->name);
            return NULL;
        }
        *value = argv[++*i];
    }
    if (*value && !r->arg && r->type == OPT_ACTION) {
        say(NULL, "option --%s takes no value", r->name);
        return NULL;
    }
    return r;
}

int jpipd_options_parse(int argc, char **argv, struct jpipd_options *o, enum jpipd_action *action)
{
    *action = JPIPD_RUN;
    if (apply_defaults(o) != 0)
        return JPIPD_EXIT_USAGE;
    /* Pass 1: actions and the config file. */
    const char *config = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        const struct opt_row *r = cli_row(argc, argv, &i, &v);
        if (!r)
            return JPIPD_EXIT_USAGE;
        if (r->type != OPT_ACTION)
            continue;
        if (strcmp(r->name, "config") == 0)
            config = v;
        else if (strcmp(r->name, "help") == 0)
            *action = JPIPD_HELP;
        else if (strcmp(r->name, "version") == 0 && *action != JPIPD_HELP)
            *action = JPIPD_VERSION;
        else if (strcmp(r->name, "sample-config") == 0 && *action == JPIPD_RUN)
            *action = JPIPD_SAMPLE_CONFIG;
        else if (strcmp(r->name, "man") == 0 && *action == JPIPD_RUN)
            *action = JPIPD_MAN;
    }
    if (*action != JPIPD_RUN)
        return JPIPD_EXIT_OK;
    if (config && load_config(o, config) != 0)
        return JPIPD_EXIT_USAGE;
    /* Pass 2: settings on the command line. */
    for (int i = 1; i < argc; i++) {
        const char *v;
        const struct opt_row *r = cli_row(argc, argv, &i, &v);
        if (r->type == OPT_ACTION)
            continue;
        if (set_value(o, r, v ? v : "yes", "") != 0)
            return JPIPD_EXIT_USAGE;
    }
    if (!o->root || !o->root[0]) {
        say(NULL, "--root DIR is required (see --help)");
        return JPIPD_EXIT_USAGE;
    }
    if (!o->tls_cert != !o->tls_key) {
        say(NULL, "--tls-cert and --tls-key go together");
        return JPIPD_EXIT_USAGE;
    }
    if (o->channel_path &&
        (strchr(o->channel_path, '/') || strchr(o->channel_path, ',') || !o->channel_path[0])) {
        say(NULL, "--channel-path wants one path segment, not '%s'", o->channel_path);
        return JPIPD_EXIT_USAGE;
    }
    /* listen: "ADDR:PORT", "[V6]:PORT", ":PORT" (loopback), or "PORT". */
    const char *l = o->listen;
    const char *host = "127.0.0.1";
    size_t hl = strlen(host);
    const char *port = l;
    if (l[0] == '[') {
        const char *close = strchr(l, ']');
        if (!close || close[1] != ':') {
            say(NULL, "--listen: expected [V6ADDR]:PORT, got '%s'", l);
            return JPIPD_EXIT_USAGE;
        }
        host = l + 1;
        hl = (size_t)(close - l - 1);
        port = close + 2;
    } else if (strchr(l, ':')) {
        const char *colon = strrchr(l, ':');
        if (colon != l) {
            host = l;
            hl = (size_t)(colon - l);
        }
        port = colon + 1;
    }
    uint64_t pv;
    if (hl == 0 || hl >= sizeof o->host || parse_u64(port, &pv) != 0 || pv > 65535) {
        say(NULL, "--listen: expected ADDR:PORT with a port in 0..65535, got '%s'", l);
        return JPIPD_EXIT_USAGE;
    }
    memcpy(o->host, host, hl);
    o->host[hl] = '\0';
    o->port = (uint16_t)pv;
    return JPIPD_EXIT_OK;
}

void jpipd_options_free(struct jpipd_options *o)
{
    for (size_t i = 0; i < NROWS; i++)
        if (table[i].type == OPT_STRING || table[i].type == OPT_LIST) {
            char **p = (char **)(void *)((char *)o + table[i].offset);
            free(*p);
            *p = NULL;
        }
}

void jpipd_options_usage(FILE *f)
{
    fprintf(f, "usage: jpipd --root DIR [options]\n"
               "Serve JPEG 2000 files (J2K, JP2, JPX) over JPIP (ISO/IEC 15444-9) on HTTP/1.1.\n\n"
               "options:\n");
    for (size_t i = 0; i < NROWS; i++) {
        const struct opt_row *r = &table[i];
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", r->name, r->arg ? " " : "", r->arg ? r->arg : "");
        fprintf(f, "  %-32s %s", left, r->help);
        if (r->def && r->type != OPT_BOOL)
            fprintf(f, " [%s]", r->def);
        fputc('\n', f);
    }
    fprintf(f,
            "\nEvery setting but config, sample-config, man, help and version may also be given in "
            "the\n--config file as 'name = value'. Numbers may end in k, M or G (x1024 each).\n"
            "Exit status: 0 after a clean stop (SIGINT/SIGTERM), 1 on a runtime error, "
            "2 on a usage error.\n");
}

void jpipd_options_sample_config(FILE *f)
{
    fprintf(f, "# jpipd configuration: 'name = value' lines; '#' starts a comment line.\n"
               "# Command-line flags of the same names override these values.\n");
    for (size_t i = 0; i < NROWS; i++) {
        const struct opt_row *r = &table[i];
        if (r->type == OPT_ACTION)
            continue;
        fprintf(f, "\n# %s\n", r->help);
        if (r->def)
            fprintf(f, "%s = %s\n", r->name, r->def);
        else if (strcmp(r->name, "root") == 0)
            fprintf(f, "%s = /srv/jpip\n", r->name);
        else
            fprintf(f, "# %s = %s\n", r->name, r->arg ? r->arg : "");
    }
}

/* Write s with the characters roff treats specially escaped. */
static void roff_text(FILE *f, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", f);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
    }
}

void jpipd_options_man(FILE *f)
{
    fprintf(f, ".TH JPIPD 8 \"\" \"jpip %s\" \"System Manager's Manual\"\n", jpip_version_string());
    fputs(".SH NAME\njpipd \\- JPIP (ISO/IEC 15444\\-9) server for JPEG 2000 files\n"
          ".SH SYNOPSIS\n.B jpipd\n\\fB\\-\\-root\\fR \\fIDIR\\fR [\\fIoptions\\fR]\n"
          ".br\n.B jpipd\n\\fB\\-\\-config\\fR \\fIFILE\\fR [\\fIoptions\\fR]\n"
          ".SH DESCRIPTION\n"
          "jpipd serves the JPEG 2000 files (J2K, JP2, JPX) below one directory over JPIP on "
          "HTTP/1.1 or HTTPS. Clients ask for view\\-windows and receive JPP\\-streams (or "
          "JPT\\-streams) holding only the data\\-bins the view needs that they do not hold "
          "yet. Files are served as they are; each file's packet index is built on first use "
          "and shared by every session.\n"
          ".PP\nOnce listening, jpipd prints \\fBjpipd: serving ROOT on URL\\fR on standard "
          "output. Besides JPIP requests it answers \\fBGET /healthz\\fR (\\fBok\\fR) and "
          "\\fBGET /metrics\\fR (counters in the Prometheus text format).\n"
          ".SH OPTIONS\n"
          "Every option but \\fB\\-\\-config\\fR, \\fB\\-\\-sample\\-config\\fR, "
          "\\fB\\-\\-man\\fR, \\fB\\-\\-help\\fR and \\fB\\-\\-version\\fR may also be "
          "given in the configuration file as \\fIname\\fR = \\fIvalue\\fR. Command\\-line "
          "flags override the file, which overrides the defaults. Numbers may end in k, M or G "
          "(times 1024 each).\n",
          f);
    for (size_t i = 0; i < NROWS; i++) {
        const struct opt_row *r = &table[i];
        fputs(".TP\n\\fB\\-\\-", f);
        roff_text(f, r->name);
        fputs("\\fR", f);
        if (r->arg) {
            fputs(" \\fI", f);
            roff_text(f, r->arg);
            fputs("\\fR", f);
        }
        fputc('\n', f);
        roff_text(f, r->help);
        if (r->def && r->type != OPT_BOOL) {
            fputs(" (default: ", f);
            roff_text(f, r->def);
            fputc(')', f);
        } else if (r->def) {
            fprintf(f, " (default: %s)", r->def);
        }
        fputs(".\n", f);
    }
    fputs(".SH SIGNALS\n"
          ".TP\n.B SIGTERM, SIGINT\nStop accepting connections, answer new requests on open "
          "ones with 503, let responses in flight finish for at most "
          "\\fB\\-\\-shutdown\\-timeout\\fR seconds, end the streamed bodies still going "
          "with EOR 6 (session limit reached), then close everything and exit 0.\n"
          ".TP\n.B SIGHUP\nReopen the access log (rename the file, then send SIGHUP).\n"
          ".SH FILES\n.TP\n.I /etc/jpipd.conf\nThe configuration file the systemd unit "
          "reads; \\fBjpipd \\-\\-sample\\-config\\fR prints one with every setting.\n"
          ".SH EXIT STATUS\n0 after a clean stop, 1 on a runtime error (root missing, port "
          "taken, TLS files unreadable), 2 on a usage error.\n"
          ".SH EXAMPLES\n.nf\njpipd \\-\\-root /srv/images \\-\\-listen 0.0.0.0:8080 "
          "\\-\\-access\\-log /var/log/jpipd/access.log\n"
          "jpipd \\-\\-config /etc/jpipd.conf \\-\\-total\\-rate 100M "
          "\\-\\-client\\-rate 2M\ncurl http://127.0.0.1:8080/metrics\n.fi\n"
          ".SH SEE ALSO\n\\fBjpip\\-get\\fR(1), \\fBjpip\\-info\\fR(1); "
          "docs/operations.md in the source tree.\n",
          f);
}
