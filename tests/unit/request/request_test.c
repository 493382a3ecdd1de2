/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for lib/request/request.c, request_fields.c and request_format.c. */
#include "request/request.h"

#include "test.h"

/* A parsed request together with its query, copied to a heap block of exactly its size so
 * that ASan catches reads past the end. */
struct held {
    char *q;
    struct jpip__request r;
    struct jpip__err err;
    int rc;
};

static int parse_lim(struct held *h, const char *s, const struct jpip__request_limits *lim)
{
    const size_t n = strlen(s);
    h->q = malloc(n ? n : 1);
    memcpy(h->q, s, n);
    jpip__err_clear(&h->err);
    h->rc = jpip__request_parse(&h->r, h->q, n, lim, &h->err);
    return h->rc;
}

static int parse(struct held *h, const char *s)
{
    return parse_lim(h, s, NULL);
}

static void release(struct held *h)
{
    jpip__request_free(&h->r);
    free(h->q);
    h->q = NULL;
}

static int str_is(struct jpip__req_str s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

/* Parses s, expects failure with code and a message containing want. */
#define EXPECT_FAIL(s, code, want)                                                                 \
    do {                                                                                           \
        struct held xh_;                                                                           \
        ASSERT_EQ_INT(parse(&xh_, s), code);                                                       \
        ASSERT_STR_CONTAINS(xh_.err.msg, want);                                                    \
        ASSERT_EQ_U64(xh_.r.present, 0);                                                           \
        release(&xh_);                                                                             \
    } while (0)

/* Formats the parsed request, parses the result, and checks both are equal. */
static int round_trips(const struct jpip__request *r, char *out, size_t out_size)
{
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 1 << 20);
    if (jpip__request_format(r, &b) != JPIP_OK)
        return 0;
    struct held h2;
    char *text = malloc(b.len + 1);
    memcpy(text, b.data, b.len);
    text[b.len] = '\0';
    int ok = parse(&h2, text) == JPIP_OK && jpip__request_equal(r, &h2.r);
    if (out) {
        snprintf(out, out_size, "%s", text);
    }
    if (!ok)
        fprintf(stderr, "round trip failed for \"%s\": %s\n", text, h2.err.msg);
    release(&h2);
    free(text);
    jpip__buf_free(&b);
    return ok;
}

TEST(jhelioviewer_sequence)
{
    struct held h;
    ASSERT_OK(parse(&h, "target=/data/AIA.jp2&cnew=http&type=jpp-stream&tid=0&len=512"));
    ASSERT_TRUE(str_is(h.r.target, "/data/AIA.jp2"));
    ASSERT_EQ_INT(h.r.ncnew, 1);
    ASSERT_EQ_INT(h.r.cnew[0].transport, JPIP__TRANSPORT_HTTP);
    ASSERT_EQ_INT(h.r.ntype, 1);
    ASSERT_EQ_INT(h.r.type[0].kind, JPIP__TYPE_JPP);
    ASSERT_TRUE(str_is(h.r.tid, "0"));
    ASSERT_EQ_U64(h.r.len, 512);
    ASSERT_TRUE(round_trips(&h.r, NULL, 0));
    release(&h);

    ASSERT_OK(parse(&h, "cid=JPH_0001&stream=0&metareq=[*]!!&len=2000000"));
    ASSERT_TRUE(str_is(h.r.cid, "JPH_0001"));
    ASSERT_EQ_INT(h.r.nstream, 1);
    ASSERT_EQ_INT(h.r.stream[0].from, 0);
    ASSERT_EQ_INT(h.r.stream[0].to, 0);
    ASSERT_EQ_INT(h.r.metareq.n, 1);
    ASSERT_EQ_INT(h.r.metareq.nprops, 1);
    ASSERT_TRUE(h.r.metareq.props[0].wildcard);
    ASSERT_TRUE(h.r.metareq.metadata_only);
    ASSERT_EQ_U64(h.r.len, 2000000);
    ASSERT_TRUE(round_trips(&h.r, NULL, 0));
    release(&h);

    ASSERT_OK(parse(&h, "cid=JPH_0001&stream=17&fsiz=4096,4096,closest&rsiz=1024,1024&"
                        "roff=512,256&len=2097152"));
    ASSERT_EQ_INT(h.r.stream[0].from, 17);
    ASSERT_EQ_INT(h.r.fsiz[0], 4096);
    ASSERT_EQ_INT(h.r.fsiz[1], 4096);
    ASSERT_EQ_INT(h.r.fsiz_round, JPIP__ROUND_CLOSEST);
    ASSERT_TRUE(h.r.fsiz_round_given);
    ASSERT_EQ_INT(h.r.rsiz[0], 1024);
    ASSERT_EQ_INT(h.r.roff[0], 512);
    ASSERT_EQ_INT(h.r.roff[1], 256);
    ASSERT_TRUE(round_trips(&h.r, NULL, 0));
    release(&h);

    ASSERT_OK(parse(&h, "cclose=JPH_0001"));
    ASSERT_EQ_INT(h.r.ncclose, 1);
    ASSERT_TRUE(str_is(h.r.cclose[0], "JPH_0001"));
    ASSERT_TRUE(!h.r.cclose_all);
    release(&h);
}

TEST(openjpip_and_kakadu_style)
{
    struct held h;
    ASSERT_OK(parse(&h, "target=a.jp2&tid=0&cnew=http&type=jpp-stream&fsiz=1024,768,round-down"
                        "&len=65536"));
    ASSERT_EQ_INT(h.r.fsiz_round, JPIP__ROUND_DOWN);
    ASSERT_TRUE(h.r.fsiz_round_given);
    release(&h);

    /* Kakadu hex-encodes structured values. */
    ASSERT_OK(parse(&h, "target=a.jp2&type=jpp-stream&tid=6f1c2a&fsiz=1024,768&"
                        "model=%5B0%5D%2CHm%2CH0%2CP0%2CP1%3A120&"
                        "metareq=%5Bxml_%2Fw%3Bjp2h%3Ar%5DR0D2%2C%5B*%5D"));
    ASSERT_EQ_INT(h.r.model.n, 4);
    ASSERT_EQ_INT(h.r.model.items[0].cls, JPIP__MODEL_MAIN_HEADER);
    ASSERT_EQ_INT(h.r.model.items[3].cls, JPIP__MODEL_PRECINCT);
    ASSERT_EQ_INT(h.r.model.items[3].amount_kind, JPIP__MODEL_BYTES);
    ASSERT_EQ_U64(h.r.model.items[3].amount, 120);
    ASSERT_EQ_INT(h.r.model.items[3].qual_count, 1);
    ASSERT_EQ_INT(h.r.metareq.n, 2);
    ASSERT_EQ_INT(h.r.metareq.nprops, 3);
    ASSERT_EQ_U64(h.r.metareq.props[0].box_type, 0x786d6c20); /* "xml " */
    ASSERT_EQ_INT(h.r.metareq.props[0].ctx_flags, JPIP__METAREQ_CTX_W);
    ASSERT_EQ_INT(h.r.metareq.props[1].limit_kind, JPIP__METAREQ_RECURSE);
    ASSERT_TRUE(h.r.metareq.items[0].has_depth);
    ASSERT_EQ_INT(h.r.metareq.items[0].max_depth, 2);
    ASSERT_TRUE(!h.r.metareq.metadata_only);
    ASSERT_TRUE(round_trips(&h.r, NULL, 0));
    release(&h);
}

TEST(defaults_and_absent_fields)
{
    struct held h;
    ASSERT_OK(parse(&h, "fsiz=640,480"));
    ASSERT_EQ_INT(h.r.fsiz_round, JPIP__ROUND_DOWN);
    ASSERT_TRUE(!h.r.fsiz_round_given);
    ASSERT_TRUE(jpip__request_has(&h.r, JPIP__F_FSIZ));
    ASSERT_TRUE(!jpip__request_has(&h.r, JPIP__F_ROFF));
    ASSERT_TRUE(!jpip__request_has(&h.r, JPIP__F_LEN));
    ASSERT_EQ_INT(h.r.metareq.n, 0);
    ASSERT_EQ_INT(h.r.model.n, 0);
    char text[256];
    ASSERT_TRUE(round_trips(&h.r, text, sizeof text));
    ASSERT_STR_EQ(text, "fsiz=640,480");
    release(&h);

    /* Empty query, empty segments, trailing '&'. */
    ASSERT_OK(parse(&h, ""));
    ASSERT_EQ_U64(h.r.present, 0);
    release(&h);
    ASSERT_OK(parse(&h, "&&len=0&&"));
    ASSERT_EQ_U64(h.r.present, (uint64_t)1 << JPIP__F_LEN);
    ASSERT_EQ_U64(h.r.len, 0);
    release(&h);
}

TEST(every_field_valid)
{
    struct held h;
    const char *q =
        "target=dir/a%20b+c.jp2&subtarget=100-2000&tid=abc&cid=C1&cnew=http-tcp,http&"
        "cclose=C1,C2&qid=7&fsiz=100,200,round-up&roff=0,0&rsiz=10,20&comps=0-2,4,7-&"
        "stream=0-10:2,12,20-&context=jpxl%3C0-3:1%3E%5Bs0i0%5D,mj2t%3C1%3E&roi=dynamic&"
        "layers=3&srate=2.5&metareq=%5B*%5D&len=4294967296&quality=50&align=yes&wait=no&"
        "type=image/jpt-stream;ttype=ext,jpp-stream,raw,*&drate=1&model=Hm&tpmodel=t0.1&"
        "need=P3&tpneed=t1&mset=0-3&cap=config&pref=fullwindow,color-icc/r&csf=1&handled&"
        "upload=jpp-stream";
    ASSERT_OK(parse(&h, q));
    ASSERT_EQ_U64(h.r.present, ((uint64_t)1 << JPIP__F_COUNT) - 1);
    ASSERT_TRUE(str_is(h.r.target, "dir/a b+c.jp2")); /* '+' stays a plus */
    ASSERT_TRUE(h.r.subtarget_is_range);
    ASSERT_EQ_U64(h.r.subtarget_from, 100);
    ASSERT_EQ_U64(h.r.subtarget_to, 2000);
    ASSERT_EQ_INT(h.r.ncnew, 2);
    ASSERT_EQ_INT(h.r.cnew[0].transport, JPIP__TRANSPORT_HTTP_TCP);
    ASSERT_EQ_INT(h.r.ncclose, 2);
    ASSERT_EQ_INT(h.r.qid, 7);
    ASSERT_EQ_INT(h.r.fsiz_round, JPIP__ROUND_UP);
    ASSERT_EQ_INT(h.r.ncomps, 3);
    ASSERT_EQ_INT(h.r.comps[2].from, 7);
    ASSERT_EQ_U64(h.r.comps[2].to, JPIP__RANGE_OPEN);
    ASSERT_EQ_INT(h.r.nstream, 3);
    ASSERT_EQ_INT(h.r.stream[0].step, 2);
    ASSERT_EQ_INT(h.r.stream[0].to, 10);
    ASSERT_EQ_INT(h.r.ncontext, 2);
    ASSERT_EQ_INT(h.r.context[0].kind, JPIP__CONTEXT_JPXL);
    ASSERT_EQ_INT(h.r.context[0].nranges, 1);
    ASSERT_EQ_INT(h.r.context[0].ranges[0].to, 3);
    ASSERT_TRUE(str_is(h.r.context[0].instr, "s0i0"));
    ASSERT_EQ_INT(h.r.context[1].kind, JPIP__CONTEXT_MJ2T);
    ASSERT_TRUE(str_is(h.r.roi, "dynamic"));
    ASSERT_EQ_INT(h.r.layers, 3);
    ASSERT_TRUE(h.r.srate_value > 2.49 && h.r.srate_value < 2.51);
    ASSERT_EQ_U64(h.r.len, 4294967296ull);
    ASSERT_EQ_INT(h.r.quality, 50);
    ASSERT_EQ_INT(h.r.align, 1);
    ASSERT_EQ_INT(h.r.wait, 0);
    ASSERT_EQ_INT(h.r.ntype, 4);
    ASSERT_EQ_INT(h.r.type[0].kind, JPIP__TYPE_JPT);
    ASSERT_TRUE(h.r.type[0].image_prefix && h.r.type[0].ext);
    ASSERT_EQ_INT(h.r.type[2].kind, JPIP__TYPE_RAW);
    ASSERT_EQ_INT(h.r.type[3].kind, JPIP__TYPE_ANY);
    ASSERT_TRUE(str_is(h.r.tpmodel, "t0.1"));
    ASSERT_EQ_INT(h.r.need.n, 1);
    ASSERT_EQ_INT(h.r.npref, 2);
    ASSERT_TRUE(!h.r.pref[0].required);
    ASSERT_TRUE(h.r.pref[1].required);
    ASSERT_TRUE(str_is(h.r.pref[1].text, "color-icc"));
    ASSERT_TRUE(str_is(h.r.upload, "jpp-stream"));
    char text[1024];
    ASSERT_TRUE(round_trips(&h.r, text, sizeof text));
    ASSERT_STR_CONTAINS(text, "target=dir/a%20b%2Bc.jp2&");
    ASSERT_STR_CONTAINS(text, "&handled&");
    release(&h);

    ASSERT_OK(parse(&h, "cclose=*&subtarget=%5B0%5D&wait=yes&align=no"));
    ASSERT_TRUE(h.r.cclose_all);
    ASSERT_TRUE(!h.r.subtarget_is_range);
    ASSERT_TRUE(round_trips(&h.r, NULL, 0));
    release(&h);
}

TEST(field_errors_name_field_and_offset)
{
    EXPECT_FAIL("len=1&bogus=3", JPIP_EMALFORMED, "unrecognised request field 'bogus' at offset 6");
    EXPECT_FAIL("Len=1", JPIP_EMALFORMED, "unrecognised request field 'Len'");
    EXPECT_FAIL("abcdefghijklmnopqrstuvwxyz0123456789=1", JPIP_EMALFORMED,
                "unrecognised request field 'abcdefghijklmnopqrstuvwxyz012345...' at offset 0");
    EXPECT_FAIL("len=1&a\x01"
                "b=1",
                JPIP_EMALFORMED, "unrecognised request field 'a?b' at offset 6");
    EXPECT_FAIL("len=1&len=2", JPIP_EMALFORMED, "field 'len' repeated at offset 6");
    EXPECT_FAIL("len", JPIP_EMALFORMED, "field 'len' needs a value");
    EXPECT_FAIL("len=", JPIP_EMALFORMED, "len: empty value at offset 4");
    EXPECT_FAIL("len=-1", JPIP_EMALFORMED, "len: expected a number, found '-' at offset 4");
    EXPECT_FAIL("len=18446744073709551616", JPIP_EMALFORMED, "len: number larger than");
    EXPECT_FAIL("len=12x", JPIP_EMALFORMED, "len: unexpected 'x' at offset 6");
    EXPECT_FAIL("fsiz=4294967296,1", JPIP_EMALFORMED, "fsiz: number larger than 4294967295");
    EXPECT_FAIL("fsiz=0,10", JPIP_EMALFORMED, "fsiz: must be greater than 0 at offset 5");
    EXPECT_FAIL("fsiz=10,0", JPIP_EMALFORMED, "fsiz: must be greater than 0 at offset 8");
    EXPECT_FAIL("fsiz=10", JPIP_EMALFORMED, "fsiz: expected ','");
    EXPECT_FAIL("fsiz=10,10,nearest", JPIP_EMALFORMED, "expected round-down, round-up or closest");
    EXPECT_FAIL("fsiz=+10,10", JPIP_EMALFORMED, "fsiz: expected a number");
    EXPECT_FAIL("fsiz= 10,10", JPIP_EMALFORMED, "fsiz: expected a number");
    EXPECT_FAIL("roff=1,1", JPIP_EMALFORMED, "roff without fsiz at offset 0");
    EXPECT_FAIL("len=1&rsiz=1,1", JPIP_EMALFORMED, "rsiz without fsiz at offset 6");
    EXPECT_FAIL("fsiz=10,10&rsiz=0,1", JPIP_EMALFORMED, "rsiz: must be greater than 0");
    EXPECT_FAIL("comps=3-1", JPIP_EMALFORMED, "comps: range end 1 before its start 3 at offset 8");
    EXPECT_FAIL("comps=1-2:2", JPIP_EMALFORMED, "comps: unexpected ':'");
    EXPECT_FAIL("comps=1,,2", JPIP_EMALFORMED, "comps: expected a number");
    EXPECT_FAIL("stream=1-5:0", JPIP_EMALFORMED, "stream: range step must be at least 1");
    EXPECT_FAIL("quality=101", JPIP_EMALFORMED, "quality: must be 0 to 100");
    EXPECT_FAIL("wait=maybe", JPIP_EMALFORMED, "wait: expected yes or no");
    EXPECT_FAIL("layers=1.5", JPIP_EMALFORMED, "layers: unexpected '.'");
    EXPECT_FAIL("srate=1.", JPIP_EMALFORMED, "srate: expected a digit after '.'");
    EXPECT_FAIL("cnew=http,", JPIP_EMALFORMED, "cnew: empty list item");
    EXPECT_FAIL("cclose=a,*", JPIP_EMALFORMED, "'*' must stand alone");
    EXPECT_FAIL("tid=a%0Db", JPIP_EMALFORMED, "tid: byte 0x0D not allowed at offset 5");
    EXPECT_FAIL("cid=a%2Cb", JPIP_EMALFORMED, "cid: byte ',' not allowed at offset 5");
    EXPECT_FAIL("target=a%00b", JPIP_EMALFORMED, "target: bad percent-escape (or %00) at offset 8");
    EXPECT_FAIL("target=a%zzb", JPIP_EMALFORMED, "bad percent-escape");
    EXPECT_FAIL("target=a%2", JPIP_EMALFORMED, "bad percent-escape");
    EXPECT_FAIL("target=a%0Ab", JPIP_EMALFORMED, "target: byte 0x0A not allowed");
    EXPECT_FAIL("handled=yes", JPIP_EMALFORMED, "handled: unexpected 'y'");
    EXPECT_FAIL("context=jpxl%3C0-3", JPIP_EMALFORMED, "context: unbalanced brackets");
    EXPECT_FAIL("context=jpxl%3Cx%3E", JPIP_EMALFORMED, "context: expected a number");
    EXPECT_FAIL("pref=/r", JPIP_EMALFORMED, "pref: empty preference");
    /* Offsets count encoded bytes: the 'x' is at offset 17 of the query. */
    EXPECT_FAIL("model=%5B0%5D%2CPx", JPIP_EMALFORMED,
                "model: expected a number, found 'x' at "
                "offset 17");
    EXPECT_FAIL("need=-P1", JPIP_EMALFORMED, "'-' is not allowed in need=");
    char tid[300] = "tid=";
    memset(tid + 4, 'a', 256);
    tid[260] = '\0';
    EXPECT_FAIL(tid, JPIP_EMALFORMED, "tid: longer than 255 bytes");
}

TEST(limits)
{
    struct jpip__request_limits lim;
    memset(&lim, 0, sizeof lim);
    lim.max_fields = 2;
    struct held h;
    ASSERT_EQ_INT(parse_lim(&h, "len=1&qid=2&layers=3", &lim), JPIP_ELIMIT);
    ASSERT_STR_CONTAINS(h.err.msg, "more than 2 fields at offset 12");
    release(&h);
    lim.max_fields = 0;
    lim.max_list_items = 3;
    ASSERT_EQ_INT(parse_lim(&h, "comps=1,2,3,4", &lim), JPIP_ELIMIT);
    ASSERT_STR_CONTAINS(h.err.msg, "comps: more than 3 ranges");
    release(&h);
    ASSERT_EQ_INT(parse_lim(&h, "type=a,b,c,d", &lim), JPIP_ELIMIT);
    release(&h);
    ASSERT_OK(parse_lim(&h, "comps=1,2,3", &lim));
    release(&h);
    lim.max_query_bytes = 10;
    ASSERT_EQ_INT(parse_lim(&h, "len=1234567", &lim), JPIP_ELIMIT);
    ASSERT_STR_CONTAINS(h.err.msg, "query of 11 bytes exceeds the limit of 10");
    release(&h);

    /* The default query limit is 64 KiB. */
    char *big = malloc(70000);
    memcpy(big, "target=", 7);
    memset(big + 7, 'a', 65536 - 7);
    big[65536] = '\0';
    ASSERT_OK(parse(&h, big));
    ASSERT_EQ_U64(h.r.target.len, 65536 - 7);
    release(&h);
    big[65536] = 'a';
    big[65537] = '\0';
    ASSERT_EQ_INT(parse(&h, big), JPIP_ELIMIT);
    release(&h);
    free(big);
}

TEST(big_model_string)
{
    /* A 64 KiB model= value in Kakadu's shape: per codestream, Hm, tile headers and precinct
     * byte counts, all hex-encoded. Needs a raised query limit. */
    const size_t cap = 3 * 65536;
    char *q = malloc(cap);
    size_t n = (size_t)snprintf(q, cap, "model=");
    uint32_t items = 0;
    for (uint32_t i = 0; n < 6 + 65536; i++, items++) {
        if (i % 1000 == 0)
            n += (size_t)snprintf(q + n, cap - n, "%s%%5B%u%%5D%%2CHm", i ? "%2C" : "", i / 1000);
        else
            n += (size_t)snprintf(q + n, cap - n, "%%2CP%u%%3A%u", i, i * 7);
    }
    struct jpip__request_limits lim;
    memset(&lim, 0, sizeof lim);
    lim.max_query_bytes = cap;
    struct held h;
    ASSERT_OK(parse_lim(&h, q, &lim));
    ASSERT_EQ_INT(h.r.model.n, items);
    ASSERT_EQ_INT(h.r.model.items[1].cls, JPIP__MODEL_PRECINCT);
    ASSERT_EQ_U64(h.r.model.items[1].amount, 7);
    ASSERT_EQ_INT(h.r.model.quals[h.r.model.items[items - 1].qual_first].from, (items - 1) / 1000);
    ASSERT_TRUE(round_trips(&h.r, NULL, 0) || lim.max_query_bytes < n);
    release(&h);
    /* With the default limits the same string is refused as too long, not mis-parsed. */
    ASSERT_EQ_INT(parse(&h, q), JPIP_ELIMIT);
    release(&h);
    free(q);
}

TEST(post_form_body)
{
    const char body[] = "cid=C9&fsiz=512,512&model=Hm%2CH0\r\n";
    struct jpip__request r;
    struct jpip__err err;
    ASSERT_OK(jpip__request_parse_form(&r, body, sizeof body - 1, NULL, &err));
    ASSERT_TRUE(str_is(r.cid, "C9"));
    ASSERT_EQ_INT(r.model.n, 2);
    jpip__request_free(&r);
    jpip__request_free(&r); /* twice is safe */
}

TEST(format_request_built_by_hand)
{
    struct jpip__request r;
    jpip__request_init(&r);
    struct jpip__req_cnew cn = {{"http", 4}, JPIP__TRANSPORT_HTTP};
    struct jpip__req_type ty = {{"jpp-stream", 10}, JPIP__TYPE_JPP, 0, 0};
    struct jpip__range comps[2] = {{0, 2, 1}, {5, JPIP__RANGE_OPEN, 1}};
    r.present = (1u << JPIP__F_TARGET) | (1u << JPIP__F_TID) | (1u << JPIP__F_CNEW) |
                (1u << JPIP__F_TYPE) | (1u << JPIP__F_FSIZ) | (1u << JPIP__F_COMPS) |
                (1u << JPIP__F_LEN) | (1u << JPIP__F_WAIT);
    r.target = (struct jpip__req_str){"images/a b&c.jp2", 16};
    r.tid = (struct jpip__req_str){"0", 1};
    r.cnew = &cn;
    r.ncnew = 1;
    r.type = &ty;
    r.ntype = 1;
    r.fsiz[0] = 1024;
    r.fsiz[1] = 768;
    r.fsiz_round = JPIP__ROUND_CLOSEST;
    r.comps = comps;
    r.ncomps = 2;
    r.len = 65536;
    r.wait = 1;
    struct jpip__buf b;
    jpip__buf_init(&b, NULL, 4096);
    ASSERT_OK(jpip__request_format(&r, &b));
    ASSERT_OK(jpip__buf_append_byte(&b, 0));
    ASSERT_STR_EQ((const char *)b.data, "target=images/a%20b%26c.jp2&tid=0&cnew=http&"
                                        "fsiz=1024,768,closest&comps=0-2,5-&len=65536&"
                                        "wait=yes&type=jpp-stream");
    /* A small output cap fails cleanly. */
    struct jpip__buf small;
    jpip__buf_init(&small, NULL, 20);
    ASSERT_EQ_INT(jpip__request_format(&r, &small), JPIP_ELIMIT);
    jpip__buf_free(&small);
    jpip__buf_free(&b);
    jpip__request_free(&r); /* owns nothing: only resets */
    ASSERT_EQ_U64(r.present, 0);
}

/* An allocator failing the Nth allocation, counting live blocks. */
struct failing {
    int left;
    int live;
};
static void *fail_alloc(void *opaque, size_t size)
{
    struct failing *f = opaque;
    if (f->left-- == 0)
        return NULL;
    f->live++;
    return malloc(size);
}
static void fail_free(void *opaque, void *p)
{
    struct failing *f = opaque;
    f->live--;
    free(p);
}

TEST(allocation_failures)
{
    const char *q = "target=a%20b&cnew=http&type=jpp-stream&comps=1,2&stream=0&"
                    "context=jpxl%3C0%3E&pref=fullwindow&cclose=a,b&"
                    "metareq=%5B*%5D&model=Hm&need=P1";
    int completed = 0;
    for (int n = 0; n < 64 && !completed; n++) {
        struct failing f = {n, 0};
        struct jpip_allocator a = {fail_alloc, fail_free, &f};
        struct jpip__request_limits lim;
        memset(&lim, 0, sizeof lim);
        lim.alloc = &a;
        struct held h;
        const int rc = parse_lim(&h, q, &lim);
        ASSERT_TRUE(rc == JPIP_OK || rc == JPIP_ENOMEM);
        completed = rc == JPIP_OK;
        release(&h);
        ASSERT_EQ_INT(f.live, 0);
    }
    ASSERT_TRUE(completed);
}

RUN_TESTS()
