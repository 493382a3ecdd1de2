/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The server core end to end without sockets: requests go into jpip_server_handle, bodies
 * are pulled in odd-sized pieces, parsed with the stream reader into a test-side bin store,
 * rebuilt into a codestream and decoded. For every file and view the decoded image must equal
 * OpenJPEG's decode of the original at the same resolution, region, components and layers;
 * sessions and model= must never send a byte twice. Test files are made with opj_compress.
 */
#include "server_harness.h"
#include "test.h"

static int failures_total;

static void one_view(struct jpip_server *s, const char *file, unsigned d, uint32_t ox, uint32_t oy,
                     uint32_t sx, uint32_t sy, unsigned layers, int comp1)
{
    char q[256], why[512] = "";
    uint64_t bytes, msgs;
    int ok = run_view(s, file, d, ox, oy, sx, sy, layers, comp1 ? 1 : -1, q, sizeof q, why,
                      sizeof why, &bytes, &msgs);
    printf("%s %s?%s (%llu bytes in %llu messages) %s\n",
           ok == 1 ? "ok  " : (ok == 2 ? "skip" : "FAIL"), file, q, (unsigned long long)bytes,
           (unsigned long long)msgs, why);
    if (!ok)
        failures_total++;
}

TEST(stateless_views_decode_exactly)
{
    ASSERT_TRUE(make_files() == 0);
    struct jpip_server *s = new_server();
    ASSERT_TRUE(s != NULL);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        const char *f = files[i].name;
        for (unsigned d = 0; d <= 2; d++)
            one_view(s, f, d, 0, 0, 0, 0, 0, 0); /* whole image at each resolution */
        uint32_t fw, fh;
        frame_size(f, 0, &fw, &fh);
        one_view(s, f, 0, fw / 3, fh / 4, fw / 3, fh / 3, 0, 0); /* full-res region */
        frame_size(f, 1, &fw, &fh);
        one_view(s, f, 1, fw / 2, fh / 5, fw / 3 + 1, fh / 2, 0, 0); /* mid-res region */
        one_view(s, f, 1, 0, 0, 0, 0, 0, 1);                         /* component 1 */
        one_view(s, f, 0, 0, 0, 0, 0, 1, 0);                         /* one layer */
    }
    jpip_server_destroy(s);
    ASSERT_EQ_INT(failures_total, 0);
}

RUN_TESTS()
