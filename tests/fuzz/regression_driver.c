/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Replays a fuzz corpus through one harness without libFuzzer, so every build (any compiler,
 * any sanitizer) re-runs the checked-in seeds and crash reproducers as a plain ctest test.
 * Arguments are files or directories (not recursive); files run in name order, each from a
 * heap copy of exactly its size so that ASan catches over-reads.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct path_list {
    char **items;
    size_t len;
    size_t cap;
};

static int list_add(struct path_list *l, const char *dir, const char *name)
{
    if (l->len == l->cap) {
        const size_t ncap = l->cap ? l->cap * 2 : 64;
        char **n = realloc(l->items, ncap * sizeof *n);
        if (!n)
            return -1;
        l->items = n;
        l->cap = ncap;
    }
    const size_t len = (dir ? strlen(dir) + 1 : 0) + strlen(name) + 1;
    char *p = malloc(len);
    if (!p)
        return -1;
    if (dir)
        snprintf(p, len, "%s/%s", dir, name);
    else
        snprintf(p, len, "%s", name);
    l->items[l->len++] = p;
    return 0;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the regular files of dir (hidden files skipped) to l. */
static int list_dir(struct path_list *l, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "regression_driver: cannot open %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        const size_t before = l->len;
        if (list_add(l, dir, e->d_name) < 0) {
            rc = -1;
            break;
        }
        struct stat st;
        if (stat(l->items[before], &st) != 0 || !S_ISREG(st.st_mode)) {
            free(l->items[before]);
            l->len = before;
        }
    }
    closedir(d);
    return rc;
}

/* Runs the harness over one file; returns 0, or -1 if the file cannot be read. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "regression_driver: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = -1;
    uint8_t *data = NULL;
    if (fseek(f, 0, SEEK_END) != 0)
        goto fail;
    const long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    /* malloc(0) may return NULL; keep a valid pointer for empty inputs. */
    data = malloc(size > 0 ? (size_t)size : 1);
    if (!data)
        goto fail;
    if (size > 0 && fread(data, 1, (size_t)size, f) != (size_t)size)
        goto fail;
    fprintf(stderr, "running %s (%ld bytes)\n", path, size);
    LLVMFuzzerTestOneInput(data, (size_t)size);
    rc = 0;
fail:
    if (rc != 0)
        fprintf(stderr, "regression_driver: cannot read %s\n", path);
    free(data);
    fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    struct path_list files = {NULL, 0, 0};
    int rc = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc && rc == 0; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "regression_driver: %s: %s\n", argv[i], strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            const size_t before = files.len;
            rc = list_dir(&files, argv[i]);
            if (files.len - before > 1)
                qsort(files.items + before, files.len - before, sizeof *files.items, compare_paths);
        } else {
            rc = list_add(&files, NULL, argv[i]);
        }
    }
    size_t ran = 0;
    for (size_t i = 0; i < files.len && rc == 0; i++) {
        rc = run_file(files.items[i]);
        ran += rc == 0;
    }
    for (size_t i = 0; i < files.len; i++)
        free(files.items[i]);
    free(files.items);
    printf("regression_driver: %zu of %zu inputs replayed without a crash\n", ran, files.len);
    return rc == 0 ? 0 : 1;
}
