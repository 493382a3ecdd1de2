/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz harness for the codestream engine (lib/codestream: markers, tile-part walk, packet index
 * from PLT or packet headers, PPM/PPT, progression, rebuild) through the public target API.
 * Input: byte 0 chooses the rebuild progression (low 3 bits: 0..4, else -1 = keep) and whether
 * packets are dropped (bit 3); byte 1 seeds which layers are dropped; the rest is a J2K/JP2/JPX
 * file. It checks that open, indexing and rebuild never crash, leak or hang and fail only with
 * an error code and a message; that every indexed packet lies inside its codestream; and that
 * a successful rebuild is parseable by our own open, and, when the source was indexed from its
 * packet headers, indexes again with the expected packet count and rebuilds to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jpip/index.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

#define MAX_CODESTREAMS 4
#define MAX_TILES 64            /* tiles indexed per codestream */
#define MAX_PACKETS_LISTED 2048 /* packets listed per tile */

/* Limits low enough that a hostile header cannot make a single run allocate gigabytes. */
static const struct jpip_target_limits limits = {4096, 1u << 20, 1u << 18};

struct drop {
    uint32_t seed;
};

/* Keep a prefix of each precinct's layers (a hash of the precinct picks its length), which is
 * what a JPIP client holds and what keeps packet headers decodable after the rebuild. */
static int present_fn(void *user, uint32_t tile, uint16_t c, uint8_t r, uint32_t p, uint16_t l)
{
    const struct drop *d = user;
    uint32_t h = d->seed * 0x9E3779B1u;
    h ^= tile * 0x85EBCA77u;
    h = (h ^ (h >> 15)) * 0x2C1B3C6Du;
    h ^= (uint32_t)c * 0xC2B2AE3Du + r * 0x27D4EB2Fu + p * 0x165667B1u;
    h = (h ^ (h >> 13)) * 0x9E3779B1u;
    h ^= h >> 16;
    return l < h % 9u;
}

struct tile_summary {
    int indexed;      /* every listed tile indexed */
    int from_headers; /* no tile took its packet positions from PLT */
    uint32_t ntiles;  /* tiles listed (<= MAX_TILES) */
    uint64_t packets[MAX_TILES];
    uint64_t npk[MAX_TILES]; /* precincts x layers */
};

/* Index the first tiles of codestream cs; check every listed packet lies inside it. */
static void index_tiles(struct jpip_target *t, unsigned cs, struct tile_summary *s)
{
    struct jpip_codestream_info info;
    CHECK(jpip_target_codestream_info(t, cs, &info) == JPIP_OK);
    CHECK(info.tiles_x > 0 && info.tiles_y > 0 && info.components > 0);
    uint64_t ntiles = (uint64_t)info.tiles_x * info.tiles_y;
    CHECK(ntiles <= 65535);
    s->ntiles = ntiles < MAX_TILES ? (uint32_t)ntiles : MAX_TILES;
    s->indexed = 1;
    s->from_headers = 1;
    for (uint32_t k = 0; k < s->ntiles; k++) {
        struct jpip_tile_info ti;
        int rc = jpip_target_tile_info(t, cs, k, &ti);
        if (rc != JPIP_OK) {
            CHECK(rc < 0);
            CHECK(jpip_target_errmsg(t)[0] != '\0');
            s->indexed = 0;
            continue;
        }
        CHECK(ti.x0 < ti.x1 && ti.y0 < ti.y1);
        CHECK(ti.packets <= (uint64_t)ti.precincts * ti.layers);
        s->packets[k] = ti.packets;
        s->npk[k] = (uint64_t)ti.precincts * ti.layers;
        if (ti.from_plt)
            s->from_headers = 0;
        uint64_t n = ti.packets < MAX_PACKETS_LISTED ? ti.packets : MAX_PACKETS_LISTED;
        for (uint64_t i = 0; i < n; i++) {
            struct jpip_packet_info pi;
            CHECK(jpip_target_packet(t, cs, k, i, &pi) == JPIP_OK);
            CHECK(pi.layer < ti.layers);
            CHECK(pi.component < info.components);
            CHECK(pi.header_length <= pi.length);
            CHECK(pi.offset <= info.length && pi.length <= info.length - pi.offset);
        }
        /* One past the end is refused with a message. */
        struct jpip_packet_info pi;
        CHECK(jpip_target_packet(t, cs, k, ti.packets, &pi) == JPIP_EINVAL);
    }
    /* A tile number past the end is refused. */
    struct jpip_tile_info ti;
    CHECK(jpip_target_tile_info(t, cs, (uint32_t)ntiles, &ti) < 0);
}

/* The rebuilt codestream must open; when the source was indexed from its packet headers, it
 * must index with the expected packet counts and rebuild (keeping everything) to itself. */
static void check_rebuilt(const uint8_t *buf, size_t len, const struct tile_summary *orig, int prog)
{
    struct jpip_source src;
    jpip_memory_source_init(&src, buf, len);
    struct jpip_target *t = NULL;
    int rc = jpip_target_open(&t, &src, NULL, &limits);
    CHECK(rc == JPIP_OK);
    CHECK(jpip_target_kind(t) == JPIP_KIND_J2K && jpip_target_codestream_count(t) == 1);
    if (orig->indexed && orig->from_headers) {
        for (uint32_t k = 0; k < orig->ntiles; k++) {
            struct jpip_tile_info ti;
            CHECK(jpip_target_tile_info(t, 0, k, &ti) == JPIP_OK);
            CHECK(ti.tile_parts <= 1);
            /* A tile the source leaves out (no tile-part) stays out of the rebuild. */
            if (ti.tile_parts == 0)
                CHECK(ti.packets == 0);
            else
                CHECK(ti.packets == (prog >= 0 ? orig->npk[k] : orig->packets[k]));
        }
        struct jpip_rebuild_options keep = {-1, NULL, NULL};
        uint8_t *again = NULL;
        size_t again_len = 0;
        CHECK(jpip_target_rebuild(t, 0, &keep, &again, &again_len) == JPIP_OK);
        CHECK(again_len == len && memcmp(again, buf, len) == 0);
        jpip_target_free(t, again);
    }
    jpip_target_destroy(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const uint8_t opt = data[0];
    struct drop drop = {data[1]};
    int prog = (opt & 7) <= 4 ? (opt & 7) : -1;
    struct jpip_source src;
    jpip_memory_source_init(&src, data + 2, size - 2);

    struct jpip_target *t = NULL;
    int rc = jpip_target_open(&t, &src, NULL, &limits);
    if (rc != JPIP_OK) {
        CHECK(rc < 0);
        CHECK(rc == JPIP_ENOMEM || t != NULL);
        if (t)
            CHECK(jpip_target_errmsg(t)[0] != '\0');
        jpip_target_destroy(t);
        return 0;
    }
    unsigned ncs = jpip_target_codestream_count(t);
    CHECK(ncs > 0);
    for (size_t i = 0; i < jpip_target_box_count(t); i++) {
        struct jpip_box_info bi;
        CHECK(jpip_target_box(t, i, &bi) == JPIP_OK);
        CHECK(bi.offset <= src.size && bi.length <= src.size - bi.offset);
    }
    for (unsigned cs = 0; cs < ncs && cs < MAX_CODESTREAMS; cs++) {
        static struct tile_summary s;
        memset(&s, 0, sizeof s);
        index_tiles(t, cs, &s);
        struct jpip_codestream_info info;
        CHECK(jpip_target_codestream_info(t, cs, &info) == JPIP_OK);
        for (unsigned c = 0; c < info.components && c < 4; c++) {
            struct jpip_component_info ci;
            CHECK(jpip_target_component_info(t, cs, c, &ci) == JPIP_OK);
        }
        /* Rebuild only small codestreams: a rebuild indexes every tile. */
        if ((uint64_t)info.tiles_x * info.tiles_y > MAX_TILES || info.tile_parts > 256)
            continue;
        struct jpip_rebuild_options ro = {prog, (opt & 8) ? present_fn : NULL, &drop};
        uint8_t *out = NULL;
        size_t out_len = 0;
        rc = jpip_target_rebuild(t, cs, &ro, &out, &out_len);
        if (rc != JPIP_OK) {
            CHECK(rc < 0 && out == NULL);
            CHECK(jpip_target_errmsg(t)[0] != '\0');
            /* A rebuild fails only where indexing some tile failed. */
            CHECK(!s.indexed);
            continue;
        }
        check_rebuilt(out, out_len, &s, prog);
        jpip_target_free(t, out);
    }
    jpip_target_destroy(t);
    return 0;
}
