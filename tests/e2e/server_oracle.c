/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The server's exactness oracle over a whole directory (the generated corpus): for every J2K
 * and JP2 file and several views — the whole image at reduce 0, 1, 2; a full-resolution
 * region; a mid-resolution region; component 0 alone; one quality layer — the bytes the server
 * core sends for that view (stateless request, fresh client), put in a bin store, rebuilt and
 * decoded, must equal OpenJPEG's decode of the original file at the same reduce, region,
 * components and layers. Reduced and region views are rebuilt twice: as they are, and trimmed
 * where that can be exact (the client's way: without the discarded levels, and a single-tile
 * image cropped to the region). Files OpenJPEG cannot decode
 * are skipped.
 *
 * Files named crop_* (untiled, small precincts) also get REGIONS random region views at random
 * resolutions (seeded, repeatable), which the trimmed rebuild crops.
 *
 *   server_oracle DIR [REGIONS]
 */
#include "server_harness.h"

#include <dirent.h>

static int passed, failed, skipped;

static uint32_t next_rand(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void view(struct jpip_server *s, const char *file, unsigned d, uint32_t ox, uint32_t oy,
                 uint32_t sx, uint32_t sy, unsigned layers, int comp0)
{
    char q[256], why[512] = "";
    uint64_t bytes, msgs;
    int ok = run_view(s, file, d, ox, oy, sx, sy, layers, comp0 ? 0 : -1, q, sizeof q, why,
                      sizeof why, &bytes, &msgs);
    if (ok == 1)
        passed++;
    else if (ok == 2)
        skipped++;
    else
        failed++;
    printf("%s %s?%s%s %s\n",
           ok == 1   ? "ok  "
           : ok == 2 ? "SKIP"
                     : "FAIL",
           file, q, harness_shrink ? " (shrunk)" : "", why);
    if (!harness_shrink && (d > 0 || sx > 0)) {
        harness_shrink = 1;
        view(s, file, d, ox, oy, sx, sy, layers, comp0);
        harness_shrink = 0;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: server_oracle DIR [REGIONS]\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    int regions = argc > 2 ? atoi(argv[2]) : 0;
    DIR *d = opendir(dir);
    if (!d) {
        printf("skip: %s is absent\n", dir);
        return 77;
    }
    struct jpip_server *s = new_server();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        size_t len = strlen(name);
        if (len < 5 || (strcmp(name + len - 4, ".j2k") && strcmp(name + len - 4, ".jp2") &&
                        strcmp(name + len - 4, ".j2c")))
            continue;
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        struct jpip_source src;
        if (jpip_file_source_open(&src, path) != JPIP_OK)
            continue;
        struct jpip_target *t;
        struct jpip_codestream_info ci;
        int rc = jpip_target_open(&t, &src, NULL, NULL);
        if (rc == JPIP_OK)
            rc = jpip_target_codestream_info(t, 0, &ci);
        if (rc != JPIP_OK) {
            printf("FAIL %s: %s\n", name, jpip_target_errmsg(t));
            failed++;
            jpip_target_destroy(t);
            jpip_file_source_close(&src);
            continue;
        }
        jpip_target_destroy(t);
        jpip_file_source_close(&src);
        for (unsigned k = 0; k <= 2 && k <= ci.levels; k++)
            view(s, name, k, 0, 0, 0, 0, 0, 0);
        uint32_t fw, fh;
        frame_size(name, 0, &fw, &fh);
        view(s, name, 0, fw / 3, fh / 4, fw / 3 + 1, fh / 3 + 1, 0, 0);
        if (ci.levels >= 1) {
            frame_size(name, 1, &fw, &fh);
            view(s, name, 1, fw / 2, fh / 5, fw / 3 + 1, fh / 2, 0, 0);
        }
        if (ci.components > 1)
            view(s, name, 0, 0, 0, 0, 0, 0, 1);
        if (ci.layers > 1)
            view(s, name, 0, 0, 0, 0, 0, 1, 0);
        uint32_t seed = 12345;
        for (int i = 0; i < regions && strncmp(name, "crop_", 5) == 0; i++) {
            unsigned rd = next_rand(&seed) % (ci.levels + 1);
            frame_size(name, rd, &fw, &fh);
            uint32_t sx = 1 + next_rand(&seed) % fw, sy = 1 + next_rand(&seed) % fh;
            if (i % 2) /* small ones too */
                sx = 1 + sx % 40, sy = 1 + sy % 40;
            uint32_t ox = next_rand(&seed) % (fw - sx + 1), oy = next_rand(&seed) % (fh - sy + 1);
            view(s, name, rd, ox, oy, sx, sy, i % 3 == 0 ? 1 : 0, 0);
        }
    }
    closedir(d);
    jpip_server_destroy(s);
    printf("%d passed, %d failed, %d skipped; %u reduced views rebuilt without their "
           "discarded levels, %u region views cropped\n",
           passed, failed, skipped, harness_shrunk, harness_cropped);
    return failed ? 1 : 0;
}
