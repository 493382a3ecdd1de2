/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The server's exactness oracle over a whole directory (the generated corpus): for every J2K
 * and JP2 file and several views — the whole image at reduce 0, 1, 2; a full-resolution
 * region; a mid-resolution region; component 0 alone; one quality layer — the bytes the server
 * core sends for that view (stateless request, fresh client), put in a bin store, rebuilt and
 * decoded, must equal OpenJPEG's decode of the original file at the same reduce, region,
 * components and layers. Reduced views are rebuilt twice: at full size, and without the
 * discarded levels where that can be exact (the client's way). Files OpenJPEG cannot decode
 * are skipped.
 *
 *   server_oracle DIR
 */
#include "server_harness.h"

#include <dirent.h>

static int passed, failed, skipped;

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
    if (d > 0 && !harness_shrink) {
        harness_shrink = 1;
        view(s, file, d, ox, oy, sx, sy, layers, comp0);
        harness_shrink = 0;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: server_oracle DIR\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
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
    }
    closedir(d);
    jpip_server_destroy(s);
    printf("%d passed, %d failed, %d skipped; %u reduced views rebuilt without their "
           "discarded levels\n",
           passed, failed, skipped, harness_shrunk);
    return failed ? 1 : 0;
}
