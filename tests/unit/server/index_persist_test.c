/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The persistent packet index (lib/codestream/index_serial.c, target_index.c,
 * lib/server/index_persist.c, lib/io/index_dir.c) through the server core: a restarted server
 * answers from the saved index without walking a tile, byte for byte as a server without an
 * index, and exactly (OpenJPEG's decode of the original); a damaged, cut, foreign or stale
 * index file is refused or partly used and the tiles are walked again; two servers saving
 * into one folder merge their tiles.
 */
#include "server_harness.h"
#include "test.h"

#include <jpip/index_dir.h>

static char ixdir[600];
static struct jpip_index_dir *ixs[64];
static int nix;

static struct jpip_server *server_with_index(void)
{
    struct jpip_server_hooks h = {.resolve = resolve, .release = release, .random = rnd};
    struct jpip_index_dir *ix = NULL;
    char msg[256];
    if (jpip_index_dir_create(&ix, ixdir, msg, sizeof msg) != JPIP_OK) {
        fprintf(stderr, "%s\n", msg);
        return NULL;
    }
    jpip_index_dir_hooks(ix, &h);
    if (nix < 64)
        ixs[nix++] = ix;
    struct jpip_server *s = NULL;
    if (jpip_server_create(&s, &h, NULL, NULL) != JPIP_OK)
        return NULL;
    return s;
}

/* The hooks' user is the index folder: free it with the server. */
static void server_done(struct jpip_server *s, struct jpip_index_stats *st)
{
    jpip_server_index_stats(s, st);
    jpip_server_destroy(s);
}

static void index_dir_free_all(void)
{
    while (nix)
        jpip_index_dir_destroy(ixs[--nix]);
}

/* The whole body of a request. */
static uint8_t *body_of(struct jpip_server *s, const char *path, const char *query, size_t *len)
{
    struct jpip_response *r;
    if (jpip_server_handle(s, path, strlen(path), query, strlen(query), 0, &r) != JPIP_OK)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *out = malloc(cap);
    int done = 0;
    while (!done) {
        if (cap - n < 4096)
            out = realloc(out, cap *= 2);
        size_t got;
        if (jpip_response_read(r, out + n, 4096, &got, &done) != JPIP_OK)
            break;
        n += got;
    }
    jpip_response_destroy(r);
    *len = n;
    return out;
}

static const char *const views[] = {
    "fsiz=203,157",
    "fsiz=102,79&roff=10,10&rsiz=60,40",
    "fsiz=51,40&layers=1",
};

/* Every view of every file from s, compared with the same from a server without an index. */
static int same_answers(struct jpip_server *s, struct jpip_server *plain)
{
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[300];
        snprintf(path, sizeof path, "/%s", files[i].name);
        for (size_t v = 0; v < sizeof views / sizeof *views; v++) {
            size_t a, b;
            uint8_t *x = body_of(s, path, views[v], &a);
            uint8_t *y = body_of(plain, path, views[v], &b);
            int same = x && y && a == b && memcmp(x, y, a) == 0;
            free(x);
            free(y);
            if (!same) {
                fprintf(stderr, "%s?%s differs (%zu vs %zu bytes)\n", path, views[v], a, b);
                return 0;
            }
        }
    }
    return 1;
}

static int exact_views(struct jpip_server *s)
{
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char q[256], why[512];
        uint64_t bytes, msgs;
        int ok = run_view(s, files[i].name, 0, 0, 0, 0, 0, 0, -1, q, sizeof q, why, sizeof why,
                          &bytes, &msgs);
        if (ok == 0) {
            fprintf(stderr, "%s?%s: %s\n", files[i].name, q, why);
            return 0;
        }
    }
    return 1;
}

static void index_files(char names[][1400], int *n)
{
    char cmd[1600];
    snprintf(cmd, sizeof cmd, "ls %s/*.jpipidx > %s/list.txt 2>/dev/null", ixdir, dir);
    *n = 0;
    if (system(cmd) != 0)
        return;
    char lp[1400];
    snprintf(lp, sizeof lp, "%s/list.txt", dir);
    FILE *f = fopen(lp, "r");
    while (f && *n < 16 && fgets(names[*n], 1400, f)) {
        names[*n][strcspn(names[*n], "\n")] = '\0';
        ++*n;
    }
    if (f)
        fclose(f);
}

static void fresh_index_dir(void)
{
    char cmd[1600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", ixdir);
    sh(cmd);
}

TEST(restart_answers_from_the_saved_index)
{
    ASSERT_EQ_INT(make_files(), 0);
    snprintf(ixdir, sizeof ixdir, "%s/idx", dir);
    fresh_index_dir();
    struct jpip_server *plain = new_server();
    ASSERT_TRUE(plain != NULL);
    struct jpip_index_stats st;

    struct jpip_server *a = server_with_index();
    ASSERT_TRUE(a != NULL);
    ASSERT_TRUE(same_answers(a, plain));
    server_done(a, &st);
    ASSERT_TRUE(st.tiles_walked > 0);
    ASSERT_EQ_U64(st.tiles_loaded, 0);
    ASSERT_TRUE(st.saves > 0);
    ASSERT_EQ_U64(st.save_failures, 0);
    char names[16][1400];
    int n;
    index_files(names, &n);
    ASSERT_EQ_INT(n, (int)(sizeof files / sizeof *files));

    /* Restarted: every tile comes from the index, none is walked, answers are identical. */
    struct jpip_server *b = server_with_index();
    ASSERT_TRUE(same_answers(b, plain));
    ASSERT_TRUE(exact_views(b));
    server_done(b, &st);
    ASSERT_EQ_U64(st.tiles_walked, 0);
    ASSERT_TRUE(st.tiles_loaded > 0);
    ASSERT_EQ_U64(st.files_loaded, sizeof files / sizeof *files);
    ASSERT_EQ_U64(st.saves, 0); /* nothing new to save */
    jpip_server_destroy(plain);
    index_dir_free_all();
}

/* Damage every index file in one way, then check the server still answers exactly. */
static void damage(int how)
{
    char names[16][1400];
    int n;
    index_files(names, &n);
    for (int i = 0; i < n; i++) {
        size_t len;
        uint8_t *d = slurp(names[i], &len);
        if (!d)
            continue;
        FILE *f = fopen(names[i], "wb");
        if (how == 0) { /* flip a byte in the records */
            d[len - len / 3] ^= 0x40;
            fwrite(d, 1, len, f);
        } else if (how == 1) { /* cut in the middle */
            fwrite(d, 1, len / 2, f);
        } else if (how == 2) { /* flip a byte in the header */
            d[14] ^= 1;
            fwrite(d, 1, len, f);
        } else { /* garbage */
            for (size_t k = 0; k < len; k++)
                fputc((int)(k * 131 % 251), f);
        }
        fclose(f);
        free(d);
    }
}

TEST(damaged_index_is_rebuilt_never_trusted)
{
    ASSERT_EQ_INT(make_files(), 0);
    snprintf(ixdir, sizeof ixdir, "%s/idx", dir);
    struct jpip_server *plain = new_server();
    for (int how = 0; how < 4; how++) {
        fresh_index_dir();
        struct jpip_index_stats st;
        struct jpip_server *a = server_with_index();
        ASSERT_TRUE(same_answers(a, plain));
        server_done(a, &st);
        damage(how);
        struct jpip_server *b = server_with_index();
        ASSERT_TRUE(same_answers(b, plain));
        ASSERT_TRUE(exact_views(b));
        server_done(b, &st);
        ASSERT_TRUE(st.tiles_walked > 0);
        if (how >= 2)
            ASSERT_EQ_U64(st.files_refused, sizeof files / sizeof *files);
        /* The rebuilt index is whole again: a third run walks nothing. */
        struct jpip_server *c = server_with_index();
        ASSERT_TRUE(same_answers(c, plain));
        server_done(c, &st);
        ASSERT_EQ_U64(st.tiles_walked, 0);
    }
    jpip_server_destroy(plain);
    index_dir_free_all();
}

TEST(changed_file_invalidates_its_index)
{
    ASSERT_EQ_INT(make_files(), 0);
    snprintf(ixdir, sizeof ixdir, "%s/idx", dir);
    fresh_index_dir();
    struct jpip_index_stats st;
    struct jpip_server *a = server_with_index();
    struct jpip_server *plain = new_server();
    ASSERT_TRUE(same_answers(a, plain));
    server_done(a, &st);
    jpip_server_destroy(plain);
    /* A new modification time gives a new version (and tid): the index must not be used. */
    char cmd[1600];
    snprintf(cmd, sizeof cmd, "touch -d '2001-02-03 04:05:06' %s/%s", dir, files[1].name);
    ASSERT_EQ_INT(sh(cmd), 0);
    struct jpip_server *b = server_with_index();
    plain = new_server();
    ASSERT_TRUE(same_answers(b, plain));
    server_done(b, &st);
    ASSERT_EQ_U64(st.files_refused, 1);
    ASSERT_TRUE(st.tiles_walked > 0);
    jpip_server_destroy(plain);
    index_dir_free_all();
}

TEST(two_servers_merge_their_tiles)
{
    ASSERT_EQ_INT(make_files(), 0);
    snprintf(ixdir, sizeof ixdir, "%s/idx", dir);
    fresh_index_dir();
    /* lrcp_tiles.j2k has 4 x 4 tiles: each server indexes a different corner. */
    struct jpip_server *a = server_with_index();
    struct jpip_server *b = server_with_index();
    size_t n;
    free(body_of(a, "/lrcp_tiles.j2k", "fsiz=203,157&roff=0,0&rsiz=60,40", &n));
    free(body_of(b, "/lrcp_tiles.j2k", "fsiz=203,157&roff=150,110&rsiz=50,40", &n));
    struct jpip_index_stats sa, sb, sc;
    server_done(a, &sa);
    server_done(b, &sb);
    ASSERT_TRUE(sa.tiles_walked > 0 && sb.tiles_walked > 0);
    struct jpip_server *c = server_with_index();
    free(body_of(c, "/lrcp_tiles.j2k", "fsiz=203,157&roff=0,0&rsiz=60,40", &n));
    free(body_of(c, "/lrcp_tiles.j2k", "fsiz=203,157&roff=150,110&rsiz=50,40", &n));
    server_done(c, &sc);
    ASSERT_EQ_U64(sc.tiles_walked, 0);
    ASSERT_EQ_U64(sc.tiles_loaded, sa.tiles_walked + sb.tiles_walked);
    index_dir_free_all();
}

RUN_TESTS()
