/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for lib/request/response_headers.c. */
#include "request/response_headers.h"

#include "test.h"

static int str_is(struct jpip__req_str s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

static int hdr(struct jpip__resp_info *info, const char *name, const char *value,
               struct jpip__err *err)
{
    jpip__err_clear(err);
    return jpip__resp_header_parse(info, name, strlen(name), value, strlen(value), err);
}

TEST(cnew_forms)
{
    struct jpip__resp_info info;
    struct jpip__err err;
    jpip__resp_info_init(&info, NULL, 0);
    /* Kakadu: cid, path, transport. */
    ASSERT_OK(hdr(&info, "JPIP-cnew", "cid=JPH_0001,path=jpip,transport=http", &err));
    ASSERT_TRUE(info.present & (1u << JPIP__H_CNEW));
    ASSERT_TRUE(str_is(info.cnew.cid, "JPH_0001"));
    ASSERT_TRUE(str_is(info.cnew.path, "jpip"));
    ASSERT_TRUE(str_is(info.cnew.transport, "http"));
    ASSERT_EQ_INT(info.cnew.port, 0);
    /* OpenJPIP: no path, auxport; spaces, case and unknown parameters tolerated. */
    ASSERT_OK(hdr(&info, "jpip-CNEW",
                  "  cid = 5f3a9c , transport=http-tcp, auxport=5000,"
                  "x-extra=1,flag ",
                  &err));
    ASSERT_TRUE(str_is(info.cnew.cid, "5f3a9c"));
    ASSERT_EQ_INT(info.cnew.path.len, 0);
    ASSERT_TRUE(str_is(info.cnew.transport, "http-tcp"));
    ASSERT_EQ_INT(info.cnew.auxport, 5000);
    ASSERT_OK(
        hdr(&info, "JPIP-cnew", "cid=a,path=/jpip,transport=http,host=h.example,port=8080", &err));
    ASSERT_TRUE(str_is(info.cnew.host, "h.example"));
    ASSERT_EQ_INT(info.cnew.port, 8080);
    ASSERT_EQ_INT(hdr(&info, "JPIP-cnew", "path=jpip,transport=http", &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "JPIP-cnew: no cid");
    ASSERT_EQ_INT(hdr(&info, "JPIP-cnew", "cid=a,port=65536", &err), JPIP_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "JPIP-cnew: number larger than 65535 at offset 11");
    ASSERT_EQ_INT(hdr(&info, "JPIP-cnew", "cid=a b", &err), JPIP_EMALFORMED);
    ASSERT_TRUE(!(info.present & (1u << JPIP__H_CNEW)));
    jpip__resp_info_free(&info);
}

TEST(window_headers)
{
    struct jpip__resp_info info;
    struct jpip__err err;
    jpip__resp_info_init(&info, NULL, 0);
    ASSERT_OK(hdr(&info, "JPIP-tid", " 6f1c2a ", &err));
    ASSERT_TRUE(str_is(info.tid, "6f1c2a"));
    ASSERT_OK(hdr(&info, "JPIP-fsiz", "1024, 768", &err));
    ASSERT_EQ_INT(info.fsiz[0], 1024);
    ASSERT_EQ_INT(info.fsiz[1], 768);
    ASSERT_OK(hdr(&info, "JPIP-roff", "0,16", &err));
    ASSERT_OK(hdr(&info, "JPIP-rsiz", "512,512", &err));
    ASSERT_EQ_INT(info.rsiz[1], 512);
    ASSERT_OK(hdr(&info, "JPIP-comps", "0-2, 5", &err));
    ASSERT_EQ_INT(info.ncomps, 2);
    ASSERT_EQ_INT(info.comps[0].to, 2);
    ASSERT_OK(hdr(&info, "JPIP-comps", "1", &err)); /* replaces */
    ASSERT_EQ_INT(info.ncomps, 1);
    ASSERT_OK(hdr(&info, "JPIP-layers", "3", &err));
    ASSERT_OK(hdr(&info, "JPIP-stream", "0-6:2,<jpxl<0-1>:1>7", &err));
    ASSERT_EQ_INT(info.nstream, 2);
    ASSERT_EQ_INT(info.stream[0].step, 2);
    ASSERT_EQ_INT(info.stream[1].from, 7);
    ASSERT_OK(hdr(&info, "JPIP-len", "100", &err));
    ASSERT_EQ_U64(info.len, 100);
    ASSERT_OK(hdr(&info, "JPIP-quality", "-1", &err));
    ASSERT_EQ_INT(info.quality, -1);
    ASSERT_OK(hdr(&info, "JPIP-qid", "42", &err));
    ASSERT_OK(hdr(&info, "JPIP-context", "jpxl<0-1>=0-1", &err));
    ASSERT_OK(hdr(&info, "JPIP-roi", "roi=no-roi", &err));
    ASSERT_OK(hdr(&info, "JPIP-pref", "color-icc/r", &err));
    ASSERT_OK(hdr(&info, "JPIP-handled", "target,tid,cid,cnew=http", &err));
    /* Unknown headers are ignored. */
    ASSERT_OK(hdr(&info, "JPIP-mset", "garbage<<", &err));
    ASSERT_OK(hdr(&info, "Content-Type", "image/jpp-stream", &err));
    ASSERT_EQ_INT(info.present, (1u << JPIP__H_COUNT) - 1 - (1u << JPIP__H_CNEW));

    /* Errors name the header and the offset in the value. */
    ASSERT_EQ_INT(hdr(&info, "JPIP-fsiz", "1024,x", &err), JPIP_EMALFORMED);
    ASSERT_STR_EQ(err.msg, "JPIP-fsiz: expected a number, found 'x' at offset 5");
    ASSERT_EQ_INT(hdr(&info, "JPIP-len", "", &err), JPIP_EMALFORMED);
    ASSERT_EQ_INT(hdr(&info, "JPIP-len", "-5", &err), JPIP_EMALFORMED);
    ASSERT_EQ_INT(hdr(&info, "JPIP-quality", "101", &err), JPIP_EMALFORMED);
    ASSERT_EQ_INT(hdr(&info, "JPIP-tid", "a\rb", &err), JPIP_EMALFORMED);
    ASSERT_EQ_INT(hdr(&info, "JPIP-stream", "<0", &err), JPIP_EMALFORMED);
    ASSERT_EQ_INT(hdr(&info, "JPIP-comps", "3-1", &err), JPIP_EMALFORMED);
    jpip__resp_info_free(&info);
    ASSERT_EQ_INT(info.present, 0);
}

TEST(format_then_parse)
{
    struct jpip__resp_info out;
    jpip__resp_info_init(&out, NULL, 0);
    struct jpip__range comps[2] = {{0, 0, 1}, {2, JPIP__RANGE_OPEN, 1}};
    out.present = (1u << JPIP__H_TID) | (1u << JPIP__H_CNEW) | (1u << JPIP__H_FSIZ) |
                  (1u << JPIP__H_COMPS) | (1u << JPIP__H_QUALITY) | (1u << JPIP__H_LEN);
    out.tid = (struct jpip__req_str){"T1", 2};
    out.cnew.cid = (struct jpip__req_str){"C7", 2};
    out.cnew.path = (struct jpip__req_str){"jpip", 4};
    out.cnew.transport = (struct jpip__req_str){"http", 4};
    out.fsiz[0] = 640;
    out.fsiz[1] = 480;
    out.comps = comps;
    out.ncomps = 2;
    out.quality = -1;
    out.len = 100;
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 4096);
    ASSERT_OK(jpip__resp_headers_format(&out, &b));
    ASSERT_OK(jpip__buf_append_byte(&b, 0));
    ASSERT_STR_EQ((const char *)b.data, "JPIP-tid: T1\r\n"
                                        "JPIP-cnew: cid=C7,path=jpip,transport=http\r\n"
                                        "JPIP-fsiz: 640,480\r\n"
                                        "JPIP-comps: 0,2-\r\n"
                                        "JPIP-len: 100\r\n"
                                        "JPIP-quality: -1\r\n");
    /* Parse each line back. */
    struct jpip__resp_info in;
    jpip__resp_info_init(&in, NULL, 0);
    struct jpip__err err;
    char *line = (char *)b.data;
    for (char *end; (end = strstr(line, "\r\n")) != NULL; line = end + 2) {
        char *colon = strchr(line, ':');
        ASSERT_TRUE(colon && colon < end);
        ASSERT_OK(jpip__resp_header_parse(&in, line, (size_t)(colon - line), colon + 1,
                                          (size_t)(end - colon - 1), &err));
    }
    ASSERT_EQ_INT(in.present, out.present);
    ASSERT_TRUE(str_is(in.cnew.cid, "C7"));
    ASSERT_TRUE(jpip__ranges_eq(in.comps, in.ncomps, comps, 2));
    ASSERT_EQ_INT(in.quality, -1);
    jpip__resp_info_free(&in);

    /* Control bytes are refused (no header injection); a cnew needs a cid. */
    out.tid = (struct jpip__req_str){"T\r\nX: y", 7};
    jpip__buf_reset(&b);
    ASSERT_EQ_INT(jpip__resp_headers_format(&out, &b), JPIP_EINVAL);
    out.tid = (struct jpip__req_str){"T1", 2};
    out.cnew.cid.len = 0;
    ASSERT_EQ_INT(jpip__resp_headers_format(&out, &b), JPIP_EINVAL);
    jpip__buf_free(&b);
}

TEST(header_value_in_a_block)
{
    const char *h =
        "Date: x\r\nCONTENT-type:  \tText/Plain; charset=utf-8\r\nX-Content-Type: no\r\n";
    const char *v = jpip__header_value(h, "content-type");
    ASSERT_TRUE(v != NULL);
    ASSERT_TRUE(strncmp(v, "Text/Plain;", 11) == 0);
    ASSERT_TRUE(jpip__starts_with_nocase(v, "text/plain"));
    ASSERT_TRUE(!jpip__starts_with_nocase(v, "text/plainer"));
    ASSERT_TRUE(jpip__header_value(h, "date") == h + 6);
    /* a name that only ends another header's name, or lacks its colon, is not the header */
    ASSERT_TRUE(jpip__header_value("X-Content-Type: a\r\n", "content-type") == NULL);
    ASSERT_TRUE(jpip__header_value("Content-Types: a\r\n", "content-type") == NULL);
    ASSERT_TRUE(jpip__header_value("", "content-type") == NULL);
}

RUN_TESTS()
