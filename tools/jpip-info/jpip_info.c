/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jpip-info: show a J2K/JP2/JPX file's boxes, codestream parameters, tiles and packet
 * statistics, as text or JSON. This file parses the command line, opens the target through the
 * public API only (<jpip/index.h>), gathers the report (indexing every tile unless --no-index)
 * and maps failures to exit codes; jpip_info_text.c and jpip_info_json.c print the report.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jpip/index.h>
#include <jpip/jpip.h>

#include "cli.h"
#include "jpip_info.h"

enum {
    OPT_HELP = 1,
    OPT_VERSION,
    OPT_JSON,
    OPT_PACKETS,
    OPT_TILES,
    OPT_CODESTREAM,
    OPT_NO_INDEX,
    OPT_WRITE_INDEX
};

static const struct cli_option options[] = {
    {"json", 'j', NULL, OPT_JSON, "print one JSON object instead of text"},
    {"tiles", 't', NULL, OPT_TILES, "add one line per tile (rect, tile-parts, packets, bytes)"},
    {"packets", 'p', NULL, OPT_PACKETS, "list every packet (offsets are codestream offsets)"},
    {"codestream", 'c', "N", OPT_CODESTREAM, "report only codestream N (0-based)"},
    {"no-index", 'n', NULL, OPT_NO_INDEX, "read headers only; do not index tiles"},
    {"write-index", 'w', "OUT", OPT_WRITE_INDEX,
     "write a copy of FILE (JP2) with 15444-9 Annex I index boxes to OUT"},
    {"help", 'h', NULL, OPT_HELP, "show this help and exit"},
    {"version", 'V', NULL, OPT_VERSION, "show the version and exit"},
    {NULL, 0, NULL, 0, NULL}};

static void usage(FILE *f)
{
    fprintf(f, "Usage: %s [OPTIONS] FILE\n\n", INFO_PROG);
    fputs("Show a JPEG 2000 file's (J2K, JP2 or JPX) boxes, codestream parameters and, after\n"
          "indexing every tile, its packet statistics: packets, precincts, bytes per\n"
          "resolution and per layer, and whether packet lengths came from PLT markers or\n"
          "from walking the packet headers.\n\n",
          f);
    fputs("Options:\n", f);
    cli_print_options(f, options);
    fputs("\nExit status: 0 ok; 1 the file is malformed or unsupported (or a tile failed to\n"
          "index); 2 usage error; 3 the file cannot be opened or read.\n\n",
          f);
    fprintf(f, "Example:\n  %s --tiles --json image.jp2 | python3 -m json.tool\n", INFO_PROG);
}

/* Returns CLI_EXIT_OK with o filled, or an exit code (-1 for "exit 0 now"). */
static int parse_args(int argc, char **argv, struct info_options *o)
{
    struct cli_parser p;
    cli_init(&p, INFO_PROG, argc, argv);
    memset(o, 0, sizeof *o);
    const char *arg;
    int id;
    while ((id = cli_next(&p, options, &arg)) != CLI_END) {
        switch (id) {
        case CLI_ERROR: return CLI_EXIT_USAGE;
        case CLI_POSITIONAL:
            if (o->path) {
                cli_error(INFO_PROG, "more than one FILE given ('%s' and '%s')", o->path, arg);
                return CLI_EXIT_USAGE;
            }
            o->path = arg;
            break;
        case OPT_HELP: usage(stdout); return -1;
        case OPT_VERSION: printf("%s (jpip) %s\n", INFO_PROG, jpip_version_string()); return -1;
        case OPT_JSON: o->json = 1; break;
        case OPT_PACKETS: o->packets = 1; break;
        case OPT_TILES: o->tiles = 1; break;
        case OPT_NO_INDEX: o->no_index = 1; break;
        case OPT_WRITE_INDEX: o->write_index = arg; break;
        case OPT_CODESTREAM: {
            uint64_t v;
            if (cli_parse_u64(arg, UINT_MAX, &v) != 0) {
                cli_error(INFO_PROG, "--codestream: '%s' is not a codestream number", arg);
                return CLI_EXIT_USAGE;
            }
            o->has_codestream = 1;
            o->codestream = (unsigned)v;
            break;
        }
        default: return CLI_EXIT_USAGE;
        }
    }
    if (!o->path || !o->path[0]) {
        cli_error(INFO_PROG, "no FILE given (see --help)");
        return CLI_EXIT_USAGE;
    }
    if (o->no_index && (o->packets || o->tiles)) {
        cli_error(INFO_PROG, "--no-index cannot be combined with --packets or --tiles");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

const char *info_kind_name(enum jpip_target_kind kind)
{
    switch (kind) {
    case JPIP_KIND_J2K: return "J2K";
    case JPIP_KIND_JP2: return "JP2";
    case JPIP_KIND_JPX: return "JPX";
    }
    return "unknown";
}

const char *info_progression_name(unsigned prog)
{
    static const char *const names[] = {"LRCP", "RLCP", "RPCL", "PCRL", "CPRL"};
    return prog < 5 ? names[prog] : "unknown";
}

const char *info_qcd_style_name(unsigned style)
{
    switch (style) {
    case 0: return "none";
    case 1: return "derived";
    case 2: return "expounded";
    }
    return "unknown";
}

/* 15444-1 Table A.19 (bits 0-5); 15444-15 adds HT (bit 6) and mixed HT (bit 7). */
unsigned info_cblk_style_names(unsigned style, const char **out)
{
    static const char *const names[] = {"BYPASS", "RESET",  "TERMALL", "VCAUSAL",
                                        "PTERM",  "SEGSYM", "HT",      "HTMIXED"};
    unsigned n = 0;
    for (unsigned b = 0; b < 8; b++)
        if (style & (1u << b))
            out[n++] = names[b];
    out[n] = NULL;
    return n;
}

unsigned info_marker_flags(const struct jpip_codestream_info *cs, const char **names, int *flags)
{
    const char *const all[] = {"PLT", "PLM", "TLM", "PPM", "PPT", "POC", "CAP"};
    const int present[] = {cs->has_plt, cs->has_plm, cs->has_tlm, cs->has_ppm,
                           cs->has_ppt, cs->has_poc, cs->has_cap};
    for (unsigned i = 0; i < 7; i++) {
        names[i] = all[i];
        flags[i] = present[i] != 0;
    }
    names[7] = NULL;
    return 7;
}

double info_percent(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* The target's last message, or the status name when the library left none. */
static const char *errmsg(const struct jpip_target *t, int rc)
{
    const char *m = t ? jpip_target_errmsg(t) : "";
    return m && m[0] ? m : jpip_strerror(rc);
}

static int add_error(struct info_codestream *c, uint32_t tile, int rc, const char *msg)
{
    struct info_error *v = realloc(c->errors, (c->nerrors + 1) * sizeof *v);
    if (!v)
        return -1;
    c->errors = v;
    char *copy = malloc(strlen(msg) + 1);
    if (!copy)
        return -1;
    memcpy(copy, msg, strlen(msg) + 1);
    v[c->nerrors].tile = tile;
    v[c->nerrors].rc = rc;
    v[c->nerrors].msg = copy;
    c->nerrors++;
    return 0;
}

/* Records a tile failure and reports it on stderr at once, so that it is seen even if a later
 * tile crashes the run. */
static int tile_failed(const struct info_report *r, struct info_codestream *c, uint32_t tile,
                       int rc)
{
    const char *msg = errmsg(r->target, rc);
    /* The library's message usually names the codestream and tile already. */
    if (strncmp(msg, "codestream ", 11) == 0)
        cli_error(INFO_PROG, "%s: %s", r->path, msg);
    else
        cli_error(INFO_PROG, "%s: codestream %u, tile %lu: %s", r->path, c->index,
                  (unsigned long)tile, msg);
    c->tiles[tile].rc = rc;
    c->tiles_failed++;
    return add_error(c, tile, rc, msg);
}

/* Adds the packets of one indexed tile to the totals. On a packet read failure the tile is
 * marked failed; its packets read so far stay counted. */
static int tally_packets(const struct info_report *r, struct info_codestream *c, uint32_t tile)
{
    const struct jpip_tile_info *ti = &c->tiles[tile].info;
    for (uint64_t i = 0; i < ti->packets; i++) {
        struct jpip_packet_info pk;
        const int rc = jpip_target_packet(r->target, c->index, tile, i, &pk);
        if (rc < 0) {
            /* The tile no longer counts as indexed. */
            if (ti->from_plt)
                c->tiles_plt--;
            else
                c->tiles_walked--;
            return tile_failed(r, c, tile, rc);
        }
        const uint64_t bytes = (uint64_t)pk.length + pk.packed_header_length;
        c->packets++;
        c->packet_bytes += bytes;
        c->packet_header_bytes += (uint64_t)pk.header_length + pk.packed_header_length;
        c->packed_header_bytes += pk.packed_header_length;
        c->by_res[pk.resolution].packets++;
        c->by_res[pk.resolution].bytes += bytes;
        if (pk.resolution >= c->nres)
            c->nres = pk.resolution + 1u;
        if (pk.layer < c->nlayers) {
            c->by_layer[pk.layer].packets++;
            c->by_layer[pk.layer].bytes += bytes;
        }
    }
    return 0;
}

/* Indexes every tile of c, then reads every packet back for the statistics. Returns -1 only
 * when out of memory; tile failures are recorded in c. */
static int index_codestream(const struct info_report *r, struct info_codestream *c)
{
    c->indexed = 1;
    c->tiles = calloc(c->ntiles ? c->ntiles : 1, sizeof *c->tiles);
    if (!c->tiles)
        return -1;
    unsigned max_layers = c->info.layers;
    for (uint32_t t = 0; t < c->ntiles; t++) {
        struct info_tile *it = &c->tiles[t];
        const int rc = jpip_target_tile_info(r->target, c->index, t, &it->info);
        if (rc < 0) {
            if (tile_failed(r, c, t, rc) != 0)
                return -1;
            continue;
        }
        if (it->info.layers > max_layers)
            max_layers = it->info.layers;
        c->precincts += it->info.precincts;
        c->tile_header_bytes += it->info.header_bytes;
        if (it->info.from_plt)
            c->tiles_plt++;
        else
            c->tiles_walked++;
    }
    c->nlayers = max_layers;
    c->by_layer = calloc(max_layers ? max_layers : 1, sizeof *c->by_layer);
    if (!c->by_layer)
        return -1;
    for (uint32_t t = 0; t < c->ntiles; t++) {
        if (c->tiles[t].rc == JPIP_OK && tally_packets(r, c, t) != 0)
            return -1;
    }
    return 0;
}

static int gather_codestream(const struct info_report *r, struct info_codestream *c, unsigned index,
                             int do_index)
{
    c->index = index;
    int rc = jpip_target_codestream_info(r->target, index, &c->info);
    if (rc < 0) {
        cli_error(INFO_PROG, "%s: codestream %u: %s", r->path, index, errmsg(r->target, rc));
        return 1;
    }
    c->ntiles = c->info.tiles_x * c->info.tiles_y;
    c->comps = calloc(c->info.components ? c->info.components : 1, sizeof *c->comps);
    if (!c->comps)
        return -1;
    for (unsigned k = 0; k < c->info.components; k++) {
        rc = jpip_target_component_info(r->target, index, k, &c->comps[k]);
        if (rc < 0) {
            cli_error(INFO_PROG, "%s: codestream %u, component %u: %s", r->path, index, k,
                      errmsg(r->target, rc));
            return 1;
        }
    }
    if (do_index && index_codestream(r, c) != 0)
        return -1;
    return c->nerrors ? 1 : 0;
}

/* Fills r from the open target. Returns an exit code. */
static int gather(struct info_report *r, const struct info_options *o)
{
    r->kind = jpip_target_kind(r->target);
    r->nboxes = jpip_target_box_count(r->target);
    if (r->nboxes) {
        r->boxes = calloc(r->nboxes, sizeof *r->boxes);
        if (!r->boxes)
            return -1;
        for (size_t i = 0; i < r->nboxes; i++) {
            if (jpip_target_box(r->target, i, &r->boxes[i]) < 0) {
                cli_error(INFO_PROG, "%s: box %zu: %s", r->path, i, errmsg(r->target, JPIP_EINVAL));
                return CLI_EXIT_DATA;
            }
        }
    }
    r->codestream_count = jpip_target_codestream_count(r->target);
    unsigned first = 0, count = r->codestream_count;
    if (o->has_codestream) {
        if (o->codestream >= r->codestream_count) {
            cli_error(INFO_PROG, "%s: --codestream %u: the file has %u codestream%s", r->path,
                      o->codestream, r->codestream_count, r->codestream_count == 1 ? "" : "s");
            return CLI_EXIT_USAGE;
        }
        first = o->codestream;
        count = 1;
    }
    r->cs = calloc(count ? count : 1, sizeof *r->cs);
    if (!r->cs)
        return -1;
    int status = CLI_EXIT_OK;
    for (unsigned k = 0; k < count; k++) {
        const int rc = gather_codestream(r, &r->cs[k], first + k, !o->no_index);
        r->ncs = k + 1;
        if (rc < 0)
            return -1;
        if (rc > 0)
            status = CLI_EXIT_DATA;
    }
    return status;
}

static void report_free(struct info_report *r)
{
    for (unsigned k = 0; k < r->ncs; k++) {
        struct info_codestream *c = &r->cs[k];
        for (size_t e = 0; e < c->nerrors; e++)
            free(c->errors[e].msg);
        free(c->errors);
        free(c->by_layer);
        free(c->tiles);
        free(c->comps);
    }
    free(r->cs);
    free(r->boxes);
}

int main(int argc, char **argv)
{
    struct info_options o;
    int status = parse_args(argc, argv, &o);
    if (status < 0)
        return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_IO;
    if (status != CLI_EXIT_OK)
        return status;

    struct jpip_source src;
    errno = 0;
    int rc = jpip_file_source_open(&src, o.path);
    if (rc < 0) {
        /* errno, when the adapter left one, says more than the status name. */
        if (rc == JPIP_EINVAL)
            cli_error(INFO_PROG, "%s: cannot open: not a regular file", o.path);
        else if (errno != 0)
            cli_error(INFO_PROG, "%s: cannot open: %s", o.path, strerror(errno));
        else
            cli_error(INFO_PROG, "%s: cannot open: %s", o.path, jpip_strerror(rc));
        return CLI_EXIT_IO;
    }
    struct info_report r;
    memset(&r, 0, sizeof r);
    r.path = o.path;
    r.size = src.size;
    rc = jpip_target_open(&r.target, &src, NULL, NULL);
    if (rc < 0) {
        cli_error(INFO_PROG, "%s: %s", o.path, errmsg(r.target, rc));
        jpip_target_destroy(r.target);
        jpip_file_source_close(&src);
        return rc == JPIP_EIO ? CLI_EXIT_IO : CLI_EXIT_DATA;
    }

    if (o.write_index) {
        status = info_write_index(r.target, &src, o.path, o.write_index);
        jpip_target_destroy(r.target);
        jpip_file_source_close(&src);
        return status;
    }
    status = gather(&r, &o);
    if (status < 0) {
        cli_error(INFO_PROG, "%s: out of memory", o.path);
        status = CLI_EXIT_DATA;
    } else if (status != CLI_EXIT_USAGE) {
        /* Print what was gathered even when a tile failed. */
        const int failures =
            o.json ? info_print_json(stdout, &r, &o) : info_print_text(stdout, &r, &o);
        if (failures > 0)
            status = CLI_EXIT_DATA;
        if (fflush(stdout) != 0 || ferror(stdout)) {
            cli_error(INFO_PROG, "error writing to standard output");
            status = CLI_EXIT_IO;
        }
    }
    report_free(&r);
    jpip_target_destroy(r.target);
    jpip_file_source_close(&src);
    return status;
}
