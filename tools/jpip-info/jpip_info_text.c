/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jpip-info's human-readable output: "label  value" lines in one column, the box tree, and
 * right-aligned tables (components, bytes per resolution and per layer, tiles, packets) whose
 * number columns are sized to their largest value.
 */
#include <stdarg.h>
#include <string.h>

#include "cli.h"
#include "jpip_info.h"

#define LABEL_WIDTH 16

static void field(FILE *f, int indent, const char *label, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void field(FILE *f, int indent, const char *label, const char *fmt, ...)
{
    fprintf(f, "%*s%-*s", indent, "", LABEL_WIDTH - indent, label);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
}

/* Decimal digits of v (at least 1). */
static int digits(uint64_t v)
{
    int n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

static void print_boxes(FILE *f, const struct info_report *r)
{
    if (r->nboxes == 0)
        return;
    unsigned max_depth = 0;
    uint64_t max_off = 0, max_len = 0;
    for (size_t i = 0; i < r->nboxes; i++) {
        const struct jpip_box_info *b = &r->boxes[i];
        if (b->depth > max_depth)
            max_depth = b->depth;
        if (b->offset > max_off)
            max_off = b->offset;
        if (b->length > max_len)
            max_len = b->length;
    }
    const int tw = (int)(4 + 2 * (max_depth > 16 ? 16 : max_depth));
    const int ow = max_int(digits(max_off), 6), lw = max_int(digits(max_len), 6);
    fprintf(f, "\nboxes (%zu)\n", r->nboxes);
    fprintf(f, "  %-*s  %*s  %*s\n", tw, "type", ow, "offset", lw, "length");
    for (size_t i = 0; i < r->nboxes; i++) {
        const struct jpip_box_info *b = &r->boxes[i];
        const int ind = (int)(2 * (b->depth > 16 ? 16 : b->depth));
        fprintf(f, "  %*s%-*s  %*llu  %*llu%s\n", ind, "", tw - ind, b->type, ow,
                (unsigned long long)b->offset, lw, (unsigned long long)b->length,
                b->header_length == 16 ? "  XL" : "");
    }
}

static void print_components(FILE *f, const struct info_codestream *c)
{
    field(f, 2, "components", "%u", (unsigned)c->info.components);
    fprintf(f, "    %4s  %5s  %-6s  %-5s  %s\n", "comp", "depth", "signed", "sub", "size");
    for (unsigned k = 0; k < c->info.components; k++) {
        const struct jpip_component_info *ci = &c->comps[k];
        char sub[16];
        snprintf(sub, sizeof sub, "%ux%u", (unsigned)ci->dx, (unsigned)ci->dy);
        fprintf(f, "    %4u  %5u  %-6s  %-5s  %lux%lu\n", k, (unsigned)ci->depth,
                ci->is_signed ? "yes" : "no", sub, (unsigned long)ci->width,
                (unsigned long)ci->height);
    }
}

static void print_coding(FILE *f, const struct info_codestream *c)
{
    const struct jpip_codestream_info *i = &c->info;
    field(f, 2, "coding", "%s, %u layer%s, %u level%s, code-blocks %ux%u, %s%s",
          info_progression_name(i->progression), (unsigned)i->layers, i->layers == 1 ? "" : "s",
          (unsigned)i->levels, i->levels == 1 ? "" : "s", 1u << (i->cblk_w & 31),
          1u << (i->cblk_h & 31), i->wavelet ? "5/3 reversible" : "9/7 irreversible",
          i->mct ? ", MCT" : "");

    const char *names[9];
    char line[128] = "";
    if (info_cblk_style_names(i->cblk_style, names) == 0)
        snprintf(line, sizeof line, "none");
    for (unsigned k = 0; names[k]; k++) {
        const size_t len = strlen(line);
        snprintf(line + len, sizeof line - len, "%s%s", k ? " " : "", names[k]);
    }
    field(f, 2, "block style", "%s", line);

    field(f, 2, "SOP/EPH", "%s/%s", i->sop ? "yes" : "no", i->eph ? "yes" : "no");
    field(f, 2, "precincts", "%s", i->user_precincts ? "user-defined" : "default (maximal)");
    field(f, 2, "quantization", "%s, %u guard bit%s", info_qcd_style_name(i->qcd_style),
          (unsigned)i->guard_bits, i->guard_bits == 1 ? "" : "s");

    const char *mnames[8];
    int flags[8];
    info_marker_flags(i, mnames, flags);
    line[0] = '\0';
    for (unsigned k = 0; mnames[k]; k++) {
        if (!flags[k])
            continue;
        const size_t len = strlen(line);
        snprintf(line + len, sizeof line - len, "%s%s", len ? " " : "", mnames[k]);
    }
    field(f, 2, "markers", "%s", line[0] ? line : "none of PLT PLM TLM PPM PPT POC CAP");
    field(f, 2, "tile-parts", "%lu", (unsigned long)i->tile_parts);
    field(f, 2, "main header", "%llu bytes", (unsigned long long)i->main_header_length);
}

/* A "bytes per ..." table: one row per bucket, with packets, bytes and share of all bytes. */
static void print_buckets(FILE *f, const char *title, const char *key, const struct info_bucket *b,
                          unsigned n, uint64_t total)
{
    uint64_t max_p = 0, max_b = 0;
    for (unsigned k = 0; k < n; k++) {
        if (b[k].packets > max_p)
            max_p = b[k].packets;
        if (b[k].bytes > max_b)
            max_b = b[k].bytes;
    }
    const int kw = max_int((int)strlen(key), digits(n ? n - 1 : 0));
    const int pw = max_int(digits(max_p), 7), bw = max_int(digits(max_b), 5);
    fprintf(f, "  %s\n", title);
    fprintf(f, "    %*s  %*s  %*s  %6s\n", kw, key, pw, "packets", bw, "bytes", "%");
    for (unsigned k = 0; k < n; k++)
        fprintf(f, "    %*u  %*llu  %*llu  %5.1f%%\n", kw, k, pw, (unsigned long long)b[k].packets,
                bw, (unsigned long long)b[k].bytes, info_percent(b[k].bytes, total));
}

static void print_index_summary(FILE *f, const struct info_codestream *c)
{
    if (!c->indexed) {
        field(f, 2, "index", "not indexed (--no-index)");
        return;
    }
    const uint32_t ok = c->tiles_plt + c->tiles_walked;
    if (c->tiles_plt && c->tiles_walked)
        field(f, 2, "index", "PLT for %lu tile%s, walked headers for %lu",
              (unsigned long)c->tiles_plt, c->tiles_plt == 1 ? "" : "s",
              (unsigned long)c->tiles_walked);
    else
        field(f, 2, "index", "%s (%lu tile%s)", c->tiles_plt ? "PLT" : "walked headers",
              (unsigned long)ok, ok == 1 ? "" : "s");
    if (c->tiles_failed)
        field(f, 2, "failed", "%lu tile%s (see the messages on stderr)",
              (unsigned long)c->tiles_failed, c->tiles_failed == 1 ? "" : "s");
    field(f, 2, "packets", "%llu in %llu precincts", (unsigned long long)c->packets,
          (unsigned long long)c->precincts);
    const unsigned long long total = c->packet_bytes, hdr = c->packet_header_bytes;
    if (c->tiles_plt)
        /* PLT gives whole packet lengths; the headers are not parsed, so no split is known. */
        field(f, 2, "packet bytes", "%llu (header/body split unknown: lengths from PLT)", total);
    else if (c->packed_header_bytes)
        field(f, 2, "packet bytes",
              "%llu (headers %llu, of which %llu packed in PPM/PPT; "
              "bodies %llu)",
              total, hdr, (unsigned long long)c->packed_header_bytes, total - hdr);
    else
        field(f, 2, "packet bytes", "%llu (headers %llu, bodies %llu)", total, hdr, total - hdr);
    field(f, 2, "tile headers", "%llu bytes", (unsigned long long)c->tile_header_bytes);
    fputc('\n', f);
    print_buckets(f, "bytes per resolution", "res", c->by_res, c->nres, c->packet_bytes);
    fputc('\n', f);
    print_buckets(f, "bytes per layer", "layer", c->by_layer, c->nlayers, c->packet_bytes);
}

static void print_tiles(FILE *f, const struct info_codestream *c)
{
    uint64_t max_bytes = 0, max_pk = 0;
    for (uint32_t t = 0; t < c->ntiles; t++) {
        if (c->tiles[t].info.packet_bytes > max_bytes)
            max_bytes = c->tiles[t].info.packet_bytes;
        if (c->tiles[t].info.packets > max_pk)
            max_pk = c->tiles[t].info.packets;
    }
    const int tw = max_int(digits(c->ntiles ? c->ntiles - 1 : 0), 4);
    const int pw = max_int(digits(max_pk), 7), bw = max_int(digits(max_bytes), 5);
    fprintf(f, "\n  tiles\n");
    fprintf(f, "    %*s  %-21s  %-11s  %3s  %-4s  %6s  %*s  %*s  %s\n", tw, "tile", "origin",
            "size", "tp", "prog", "layers", pw, "packets", bw, "bytes", "index");
    for (uint32_t t = 0; t < c->ntiles; t++) {
        const struct info_tile *it = &c->tiles[t];
        if (it->rc != JPIP_OK) {
            const char *msg = jpip_strerror(it->rc);
            for (size_t e = 0; e < c->nerrors; e++)
                if (c->errors[e].tile == t)
                    msg = c->errors[e].msg;
            fprintf(f, "    %*lu  failed: %s\n", tw, (unsigned long)t, msg);
            continue;
        }
        const struct jpip_tile_info *ti = &it->info;
        char origin[32], size[32];
        snprintf(origin, sizeof origin, "%lu,%lu", (unsigned long)ti->x0, (unsigned long)ti->y0);
        snprintf(size, sizeof size, "%lux%lu", (unsigned long)(ti->x1 - ti->x0),
                 (unsigned long)(ti->y1 - ti->y0));
        fprintf(f, "    %*lu  %-21s  %-11s  %3lu  %-4s  %6u  %*llu  %*llu  %s\n", tw,
                (unsigned long)t, origin, size, (unsigned long)ti->tile_parts,
                info_progression_name(ti->progression), (unsigned)ti->layers, pw,
                (unsigned long long)ti->packets, bw, (unsigned long long)ti->packet_bytes,
                ti->from_plt ? "PLT" : "walked headers");
    }
}

/* Lists every packet of every indexed tile; returns the number of read failures. */
static int print_packets(FILE *f, const struct info_report *r, const struct info_codestream *c)
{
    const int tw = max_int(digits(c->ntiles ? c->ntiles - 1 : 0), 4);
    const int ow = max_int(digits(c->info.length), 6);
    int failures = 0;
    fprintf(f, "\n  packets (offsets in the codestream)\n");
    fprintf(f, "    %*s  %7s  %4s  %3s  %8s  %5s  %*s  %8s  %6s  %6s  %8s\n", tw, "tile", "index",
            "comp", "res", "precinct", "layer", ow, "offset", "length", "header", "packed",
            "data-bin");
    for (uint32_t t = 0; t < c->ntiles; t++) {
        if (c->tiles[t].rc != JPIP_OK)
            continue;
        for (uint64_t i = 0; i < c->tiles[t].info.packets; i++) {
            struct jpip_packet_info p;
            const int rc = jpip_target_packet(r->target, c->index, t, i, &p);
            if (rc < 0) {
                cli_error(INFO_PROG, "%s: codestream %u, tile %lu, packet %llu: %s", r->path,
                          c->index, (unsigned long)t, (unsigned long long)i,
                          jpip_target_errmsg(r->target));
                failures++;
                break;
            }
            /* With PLT the header length is unknown (the library reports 0). */
            char hlen[16] = "-";
            if (!c->tiles[t].info.from_plt)
                snprintf(hlen, sizeof hlen, "%lu", (unsigned long)p.header_length);
            fprintf(f, "    %*lu  %7llu  %4u  %3u  %8lu  %5u  %*llu  %8lu  %6s  %6lu  %8llu\n", tw,
                    (unsigned long)t, (unsigned long long)i, (unsigned)p.component,
                    (unsigned)p.resolution, (unsigned long)p.precinct, (unsigned)p.layer, ow,
                    (unsigned long long)p.offset, (unsigned long)p.length, hlen,
                    (unsigned long)p.packed_header_length, (unsigned long long)p.databin_id);
        }
    }
    return failures;
}

static int print_codestream(FILE *f, const struct info_report *r, const struct info_codestream *c,
                            const struct info_options *o)
{
    const struct jpip_codestream_info *i = &c->info;
    fprintf(f, "\ncodestream %u\n", c->index);
    field(f, 2, "length", "%llu bytes", (unsigned long long)i->length);
    field(f, 2, "image", "%lux%lu at (%lu,%lu), Rsiz 0x%04x", (unsigned long)i->width,
          (unsigned long)i->height, (unsigned long)i->x0, (unsigned long)i->y0, (unsigned)i->rsiz);
    field(f, 2, "tiles", "%lux%lu at (%lu,%lu), grid %lux%lu, %lu tile%s",
          (unsigned long)i->tile_width, (unsigned long)i->tile_height, (unsigned long)i->tile_x0,
          (unsigned long)i->tile_y0, (unsigned long)i->tiles_x, (unsigned long)i->tiles_y,
          (unsigned long)c->ntiles, c->ntiles == 1 ? "" : "s");
    print_components(f, c);
    print_coding(f, c);
    print_index_summary(f, c);
    int failures = 0;
    if (c->indexed && o->tiles)
        print_tiles(f, c);
    if (c->indexed && o->packets)
        failures += print_packets(f, r, c);
    return failures;
}

int info_print_text(FILE *f, const struct info_report *r, const struct info_options *o)
{
    field(f, 0, "file", "%s", r->path);
    field(f, 0, "size", "%llu bytes", (unsigned long long)r->size);
    field(f, 0, "kind", "%s", info_kind_name(r->kind));
    field(f, 0, "codestreams", "%u", r->codestream_count);
    print_boxes(f, r);
    int failures = 0;
    for (unsigned k = 0; k < r->ncs; k++)
        failures += print_codestream(f, r, &r->cs[k], o);
    return failures;
}
