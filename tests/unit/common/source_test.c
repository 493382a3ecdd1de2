/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for the byte sources: the memory source (lib/common/memory_source.c), the file source
 * (lib/io/file_source.c) and the bounds checks of jpip__src_read, whose errors name the offset.
 */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpip/index.h>

#include "common/source.h"
#include "test.h"

static void fill_pattern(uint8_t *p, size_t len, uint64_t start)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)((start + i) * 31 + ((start + i) >> 8));
}

/* Writes len pattern bytes to a new temporary file; its path goes to path (size >= 64). */
static int make_temp_file(char *path, size_t path_size, size_t len)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, path_size, "%s/jpip_source_test_XXXXXX", dir && dir[0] ? dir : "/tmp");
    const int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    uint8_t *data = malloc(len ? len : 1);
    if (!data) {
        close(fd);
        return -1;
    }
    fill_pattern(data, len, 0);
    size_t done = 0;
    while (done < len) {
        const ssize_t n = write(fd, data + done, len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    free(data);
    close(fd);
    return done == len ? 0 : -1;
}

TEST(memory_source_reads)
{
    uint8_t data[256];
    fill_pattern(data, sizeof data, 0);
    struct jpip_source src;
    jpip_memory_source_init(&src, data, sizeof data);
    ASSERT_EQ_U64(src.size, sizeof data);
    uint8_t out[16];
    struct jpip__err err;
    jpip__err_clear(&err);
    ASSERT_OK(jpip__src_read(&src, 0, out, 16, &err));
    ASSERT_MEM_EQ(out, data, 16);
    ASSERT_OK(jpip__src_read(&src, 240, out, 16, &err));
    ASSERT_MEM_EQ(out, data + 240, 16);
    /* Zero-length reads are fine anywhere up to and including the end. */
    ASSERT_OK(jpip__src_read(&src, 256, out, 0, &err));
    ASSERT_STR_EQ(err.msg, "");
}

TEST(memory_source_out_of_range)
{
    uint8_t data[100] = {0};
    struct jpip_source src;
    jpip_memory_source_init(&src, data, sizeof data);
    uint8_t out[8];
    struct jpip__err err;
    jpip__err_clear(&err);
    ASSERT_EQ_INT(jpip__src_read(&src, 96, out, 8, &err), JPIP_EMALFORMED);
    ASSERT_EQ_INT(err.code, JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "offset 96");
    ASSERT_EQ_INT(jpip__src_read(&src, 101, out, 0, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "offset 101");
    /* Offsets and lengths near the top of the range must not wrap around. */
    ASSERT_EQ_INT(jpip__src_read(&src, UINT64_MAX, out, 1, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "offset 18446744073709551615");
    ASSERT_EQ_INT(jpip__src_read(&src, 1, out, SIZE_MAX, &err), JPIP_EMALFORMED);
    /* A NULL error context is allowed. */
    ASSERT_EQ_INT(jpip__src_read(&src, 200, out, 1, NULL), JPIP_EMALFORMED);
}

TEST(empty_memory_source)
{
    struct jpip_source src;
    jpip_memory_source_init(&src, NULL, 0);
    ASSERT_EQ_U64(src.size, 0);
    uint8_t out[1];
    ASSERT_OK(jpip__src_read(&src, 0, out, 0, NULL));
    ASSERT_EQ_INT(jpip__src_read(&src, 0, out, 1, NULL), JPIP_EMALFORMED);
}

TEST(file_source_reads)
{
    char path[512];
    const size_t len = 300000;
    ASSERT_OK(make_temp_file(path, sizeof path, len));
    struct jpip_source src;
    ASSERT_OK(jpip_file_source_open(&src, path));
    ASSERT_EQ_U64(src.size, len);
    uint8_t *out = malloc(len);
    uint8_t *want = malloc(len);
    ASSERT_TRUE(out && want);
    fill_pattern(want, len, 0);
    struct jpip__err err;
    jpip__err_clear(&err);
    ASSERT_OK(jpip__src_read(&src, 0, out, len, &err));
    ASSERT_MEM_EQ(out, want, len);
    ASSERT_OK(jpip__src_read(&src, 12345, out, 777, &err));
    ASSERT_MEM_EQ(out, want + 12345, 777);
    ASSERT_OK(jpip__src_read(&src, len - 1, out, 1, &err));
    ASSERT_EQ_U64(out[0], want[len - 1]);

    ASSERT_EQ_INT(jpip__src_read(&src, len - 3, out, 4, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "offset 299997");

    free(out);
    free(want);
    jpip_file_source_close(&src);
    ASSERT_TRUE(src.user == NULL);
    jpip_file_source_close(&src); /* closing twice is harmless */
    unlink(path);
}

TEST(file_source_empty_file)
{
    char path[512];
    ASSERT_OK(make_temp_file(path, sizeof path, 0));
    struct jpip_source src;
    ASSERT_OK(jpip_file_source_open(&src, path));
    ASSERT_EQ_U64(src.size, 0);
    uint8_t b;
    ASSERT_EQ_INT(jpip__src_read(&src, 0, &b, 1, NULL), JPIP_EMALFORMED);
    jpip_file_source_close(&src);
    unlink(path);
}

TEST(file_source_open_errors)
{
    struct jpip_source src;
    ASSERT_EQ_INT(jpip_file_source_open(&src, "/nonexistent/jpip/no-such-file.jp2"),
                  JPIP_ENOTFOUND);
    ASSERT_TRUE(src.user == NULL && src.read_at == NULL);
    jpip_file_source_close(&src); /* safe after a failed open */
    ASSERT_EQ_INT(jpip_file_source_open(&src, ""), JPIP_EINVAL);
    ASSERT_EQ_INT(jpip_file_source_open(&src, NULL), JPIP_EINVAL);
    ASSERT_EQ_INT(jpip_file_source_open(NULL, "/tmp"), JPIP_EINVAL);
    /* Directories are not targets. */
    ASSERT_EQ_INT(jpip_file_source_open(&src, "/"), JPIP_EINVAL);
    jpip_file_source_close(NULL);
}

TEST(file_source_file_shrinks_after_open)
{
    char path[512];
    ASSERT_OK(make_temp_file(path, sizeof path, 4096));
    struct jpip_source src;
    ASSERT_OK(jpip_file_source_open(&src, path));
    ASSERT_EQ_INT(truncate(path, 1000), 0);
    uint8_t out[100];
    struct jpip__err err;
    jpip__err_clear(&err);
    ASSERT_OK(jpip__src_read(&src, 900, out, 100, &err));
    /* Within the size recorded at open, but past the file's new end. */
    ASSERT_EQ_INT(jpip__src_read(&src, 2000, out, 100, &err), JPIP_EIO);
    ASSERT_STR_CONTAINS(err.msg, "offset 2000");
    jpip_file_source_close(&src);
    unlink(path);
}

TEST(file_source_64bit_offsets)
{
    /* A sparse file larger than 4 GiB with a marker past the 32-bit boundary. Skipped where the
     * file system refuses such sizes. */
    char path[512];
    ASSERT_OK(make_temp_file(path, sizeof path, 16));
    const uint64_t marker_off = ((uint64_t)5 << 30) + 123;
    const int fd = open(path, O_WRONLY);
    ASSERT_TRUE(fd >= 0);
    const uint8_t marker[4] = {0xde, 0xad, 0xbe, 0xef};
    const int wrote =
        pwrite(fd, marker, sizeof marker, (off_t)marker_off) == (ssize_t)sizeof marker;
    close(fd);
    if (!wrote) {
        printf("skipping: cannot create a sparse file over 4 GiB here\n");
        unlink(path);
        return;
    }
    struct jpip_source src;
    ASSERT_OK(jpip_file_source_open(&src, path));
    ASSERT_EQ_U64(src.size, marker_off + sizeof marker);
    uint8_t out[8];
    ASSERT_OK(jpip__src_read(&src, marker_off - 4, out, 8, NULL));
    const uint8_t want[8] = {0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef};
    ASSERT_MEM_EQ(out, want, 8);
    struct jpip__err err;
    jpip__err_clear(&err);
    ASSERT_EQ_INT(jpip__src_read(&src, marker_off + 2, out, 8, &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "offset 5368709245");
    jpip_file_source_close(&src);
    unlink(path);
}

RUN_TESTS()
