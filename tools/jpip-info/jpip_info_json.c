/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jpip-info's JSON output: one object with stable keys ("file", "boxes", "codestreams"), the
 * same facts as the text output. Per-tile records appear only with --tiles and packet records
 * only with --packets, each record on one line.
 */
#include "cli.h"
#include "jpip_info.h"
#include "json_writer.h"

static void write_boxes(struct json_writer *w, const struct info_report *r)
{
    json_array_begin(w, "boxes", 0);
    for (size_t i = 0; i < r->nboxes; i++) {
        const struct jpip_box_info *b = &r->boxes[i];
        json_object_begin(w, NULL, 1);
        json_string(w, "type", b->type);
        json_u64(w, "offset", b->offset);
        json_u64(w, "length", b->length);
        json_u64(w, "header_length", b->header_length);
        json_bool(w, "xl", b->header_length == 16);
        json_u64(w, "depth", b->depth);
        json_i64(w, "parent", b->parent);
        json_object_end(w);
    }
    json_array_end(w);
}

static void write_geometry(struct json_writer *w, const struct info_codestream *c)
{
    const struct jpip_codestream_info *i = &c->info;
    json_object_begin(w, "image", 1);
    json_u64(w, "width", i->width);
    json_u64(w, "height", i->height);
    json_u64(w, "x0", i->x0);
    json_u64(w, "y0", i->y0);
    json_object_end(w);
    json_object_begin(w, "tiling", 1);
    json_u64(w, "width", i->tile_width);
    json_u64(w, "height", i->tile_height);
    json_u64(w, "x0", i->tile_x0);
    json_u64(w, "y0", i->tile_y0);
    json_u64(w, "grid_x", i->tiles_x);
    json_u64(w, "grid_y", i->tiles_y);
    json_u64(w, "count", c->ntiles);
    json_object_end(w);
    json_array_begin(w, "components", 0);
    for (unsigned k = 0; k < i->components; k++) {
        const struct jpip_component_info *ci = &c->comps[k];
        json_object_begin(w, NULL, 1);
        json_u64(w, "index", k);
        json_u64(w, "depth", ci->depth);
        json_bool(w, "signed", ci->is_signed);
        json_u64(w, "dx", ci->dx);
        json_u64(w, "dy", ci->dy);
        json_u64(w, "width", ci->width);
        json_u64(w, "height", ci->height);
        json_object_end(w);
    }
    json_array_end(w);
}

static void write_coding(struct json_writer *w, const struct info_codestream *c)
{
    const struct jpip_codestream_info *i = &c->info;
    json_object_begin(w, "cod", 0);
    json_string(w, "progression", info_progression_name(i->progression));
    json_u64(w, "layers", i->layers);
    json_u64(w, "levels", i->levels);
    json_u64(w, "cblk_width", 1u << (i->cblk_w & 31));
    json_u64(w, "cblk_height", 1u << (i->cblk_h & 31));
    json_u64(w, "cblk_style", i->cblk_style);
    const char *names[9];
    info_cblk_style_names(i->cblk_style, names);
    json_array_begin(w, "cblk_style_names", 1);
    for (unsigned k = 0; names[k]; k++)
        json_string(w, NULL, names[k]);
    json_array_end(w);
    json_string(w, "wavelet", i->wavelet ? "5/3" : "9/7");
    json_bool(w, "mct", i->mct);
    json_bool(w, "sop", i->sop);
    json_bool(w, "eph", i->eph);
    json_bool(w, "user_precincts", i->user_precincts);
    json_object_end(w);

    json_object_begin(w, "qcd", 1);
    json_string(w, "style", info_qcd_style_name(i->qcd_style));
    json_u64(w, "guard_bits", i->guard_bits);
    json_object_end(w);

    const char *mnames[8];
    int flags[8];
    info_marker_flags(i, mnames, flags);
    json_object_begin(w, "markers", 1);
    for (unsigned k = 0; mnames[k]; k++)
        json_bool(w, mnames[k], flags[k]);
    json_object_end(w);
}

static void write_buckets(struct json_writer *w, const char *key, const char *name,
                          const struct info_bucket *b, unsigned n, uint64_t total)
{
    json_array_begin(w, key, 0);
    for (unsigned k = 0; k < n; k++) {
        json_object_begin(w, NULL, 1);
        json_u64(w, name, k);
        json_u64(w, "packets", b[k].packets);
        json_u64(w, "bytes", b[k].bytes);
        json_fixed(w, "percent", info_percent(b[k].bytes, total), 2);
        json_object_end(w);
    }
    json_array_end(w);
}

static void write_index(struct json_writer *w, const struct info_codestream *c)
{
    if (!c->indexed) {
        json_null(w, "index");
        return;
    }
    json_object_begin(w, "index", 0);
    json_u64(w, "tiles_plt", c->tiles_plt);
    json_u64(w, "tiles_walked", c->tiles_walked);
    json_u64(w, "tiles_failed", c->tiles_failed);
    json_u64(w, "packets", c->packets);
    json_u64(w, "precincts", c->precincts);
    json_u64(w, "packet_bytes", c->packet_bytes);
    /* With PLT the packet headers are not parsed: the header/body split is unknown. */
    if (c->tiles_plt) {
        json_null(w, "packet_header_bytes");
        json_u64(w, "packed_header_bytes", c->packed_header_bytes);
        json_null(w, "body_bytes");
    } else {
        json_u64(w, "packet_header_bytes", c->packet_header_bytes);
        json_u64(w, "packed_header_bytes", c->packed_header_bytes);
        json_u64(w, "body_bytes", c->packet_bytes - c->packet_header_bytes);
    }
    json_u64(w, "tile_header_bytes", c->tile_header_bytes);
    write_buckets(w, "bytes_per_resolution", "resolution", c->by_res, c->nres, c->packet_bytes);
    write_buckets(w, "bytes_per_layer", "layer", c->by_layer, c->nlayers, c->packet_bytes);
    json_array_begin(w, "errors", 0);
    for (size_t e = 0; e < c->nerrors; e++) {
        json_object_begin(w, NULL, 1);
        json_u64(w, "tile", c->errors[e].tile);
        json_string(w, "status", jpip_strerror(c->errors[e].rc));
        json_string(w, "message", c->errors[e].msg);
        json_object_end(w);
    }
    json_array_end(w);
    json_object_end(w);
}

static void write_tiles(struct json_writer *w, const struct info_codestream *c)
{
    json_array_begin(w, "tiles", 0);
    for (uint32_t t = 0; t < c->ntiles; t++) {
        const struct info_tile *it = &c->tiles[t];
        const struct jpip_tile_info *ti = &it->info;
        json_object_begin(w, NULL, 1);
        json_u64(w, "tile", t);
        if (it->rc != JPIP_OK) {
            const char *msg = jpip_strerror(it->rc);
            for (size_t e = 0; e < c->nerrors; e++)
                if (c->errors[e].tile == t)
                    msg = c->errors[e].msg;
            json_string(w, "error", msg);
            json_object_end(w);
            continue;
        }
        json_u64(w, "x0", ti->x0);
        json_u64(w, "y0", ti->y0);
        json_u64(w, "x1", ti->x1);
        json_u64(w, "y1", ti->y1);
        json_u64(w, "tile_parts", ti->tile_parts);
        json_string(w, "progression", info_progression_name(ti->progression));
        json_u64(w, "layers", ti->layers);
        json_u64(w, "precincts", ti->precincts);
        json_u64(w, "packets", ti->packets);
        json_u64(w, "packet_bytes", ti->packet_bytes);
        json_u64(w, "header_bytes", ti->header_bytes);
        json_string(w, "index", ti->from_plt ? "PLT" : "walked headers");
        json_object_end(w);
    }
    json_array_end(w);
}

/* Returns the number of packet read failures. */
static int write_packets(struct json_writer *w, const struct info_report *r,
                         const struct info_codestream *c)
{
    int failures = 0;
    json_array_begin(w, "packets", 0);
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
            json_object_begin(w, NULL, 1);
            json_u64(w, "tile", t);
            json_u64(w, "index", i);
            json_u64(w, "component", p.component);
            json_u64(w, "resolution", p.resolution);
            json_u64(w, "precinct", p.precinct);
            json_u64(w, "layer", p.layer);
            json_u64(w, "offset", p.offset);
            json_u64(w, "length", p.length);
            if (c->tiles[t].info.from_plt)
                json_null(w, "header_length");
            else
                json_u64(w, "header_length", p.header_length);
            json_u64(w, "packed_header_length", p.packed_header_length);
            json_u64(w, "databin_id", p.databin_id);
            json_object_end(w);
        }
    }
    json_array_end(w);
    return failures;
}

static int write_codestream(struct json_writer *w, const struct info_report *r,
                            const struct info_codestream *c, const struct info_options *o)
{
    const struct jpip_codestream_info *i = &c->info;
    json_object_begin(w, NULL, 0);
    json_u64(w, "index", c->index);
    json_u64(w, "length", i->length);
    json_u64(w, "rsiz", i->rsiz);
    write_geometry(w, c);
    write_coding(w, c);
    json_u64(w, "tile_parts", i->tile_parts);
    json_u64(w, "main_header_length", i->main_header_length);
    write_index(w, c);
    int failures = 0;
    if (c->indexed && o->tiles)
        write_tiles(w, c);
    if (c->indexed && o->packets)
        failures = write_packets(w, r, c);
    json_object_end(w);
    return failures;
}

int info_print_json(FILE *f, const struct info_report *r, const struct info_options *o)
{
    struct json_writer w;
    json_writer_init(&w, f);
    json_object_begin(&w, NULL, 0);
    json_object_begin(&w, "file", 1);
    json_string(&w, "path", r->path);
    json_u64(&w, "size", r->size);
    json_string(&w, "kind", info_kind_name(r->kind));
    json_u64(&w, "codestreams", r->codestream_count);
    json_object_end(&w);
    write_boxes(&w, r);
    json_array_begin(&w, "codestreams", 0);
    int failures = 0;
    for (unsigned k = 0; k < r->ncs; k++)
        failures += write_codestream(&w, r, &r->cs[k], o);
    json_array_end(&w);
    json_object_end(&w);
    if (json_writer_finish(&w) != 0)
        cli_error(INFO_PROG, "JSON output incomplete (nesting or write error)");
    return failures;
}
