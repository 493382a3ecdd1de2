/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The JPIP URL of a fetch: "http[s]://authority/target?fields" split into the server's base
 * URL, the target path and a view-window (15444-9 C.4 fields fsiz, roff, rsiz, comps, layers,
 * and stream from C.2), plus len and type. Fields the client core sets itself (tid, cid, cnew,
 * model, ...) and those it does not implement are refused with a message naming them. No I/O.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "transport/fetch_internal.h"

#define VALUE_MAX 4096

static int lower_prefix(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if ((*s | 0x20) != *prefix)
            return 0;
    return 1;
}

static char *dup_range(const struct jpip_allocator *a, const char *s, size_t n)
{
    char *d = jpip__alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (char)(ch | 0x20);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Percent-decode s[0..n) into out (cap bytes, NUL-terminated). Returns 0, or -1 for a bad
 * escape, an escaped NUL or an overlong value. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            int h = i + 1 < n ? hexval(s[i + 1]) : -1;
            int l = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return -1;
            ch = (char)(h * 16 + l);
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = ch;
    }
    out[o] = '\0';
    return 0;
}

/* Strict decimal number in [0, max] at *p; advances *p. */
static int parse_num(const char **p, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return -1;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

/* "A,B" with both in [0, UINT32_MAX]; *rest gets what follows. */
static int parse_pair(const char *s, uint32_t *a, uint32_t *b, const char **rest)
{
    uint64_t x, y;
    if (parse_num(&s, UINT32_MAX, &x) < 0 || *s++ != ',' || parse_num(&s, UINT32_MAX, &y) < 0)
        return -1;
    *a = (uint32_t)x;
    *b = (uint32_t)y;
    *rest = s;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* comps=a,b-c,... (15444-9 C.4.5): expanded, sorted, duplicates dropped. */
static int parse_comps(const char *s, const struct jpip_allocator *a, struct jpip__fetch_url *u,
                       struct jpip__err *err)
{
    size_t cap = 16, n = 0;
    uint32_t *v = jpip__alloc(a, cap * sizeof *v);
    if (!v)
        return JPIP_ENOMEM;
    const char *p = s;
    for (;;) {
        uint64_t lo, hi;
        if (parse_num(&p, UINT32_MAX, &lo) < 0)
            goto bad;
        hi = lo;
        if (*p == '-') {
            p++;
            if (parse_num(&p, UINT32_MAX, &hi) < 0 || hi < lo)
                goto bad;
        }
        if (hi - lo >= JPIP__FETCH_COMPS_MAX || n + (hi - lo + 1) > JPIP__FETCH_COMPS_MAX) {
            jpip__free(a, v);
            return jpip__errf(err, JPIP_EINVAL, "comps=%s: more than %u components", s,
                              JPIP__FETCH_COMPS_MAX);
        }
        for (uint64_t c = lo; c <= hi; c++) {
            if (n == cap) {
                uint32_t *nv = jpip__realloc(a, v, cap * sizeof *v, 2 * cap * sizeof *v);
                if (!nv) {
                    jpip__free(a, v);
                    return JPIP_ENOMEM;
                }
                v = nv;
                cap *= 2;
            }
            v[n++] = (uint32_t)c;
        }
        if (*p == '\0')
            break;
        if (*p++ != ',')
            goto bad;
    }
    qsort(v, n, sizeof *v, cmp_u32);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || v[k - 1] != v[i])
            v[k++] = v[i];
    u->comps = v;
    u->view.comps = v;
    u->view.ncomps = (unsigned)k;
    return JPIP_OK;
bad:
    jpip__free(a, v);
    return jpip__errf(err, JPIP_EINVAL,
                      "comps=%s: expected indices and ranges like 0,2-3 (byte %zu of the value)", s,
                      (size_t)(p - s));
}

/* Fields the client core writes itself, and fields it does not implement. */
static const char *const own_fields[] = {"target",  "subtarget", "tid",    "cid",
                                         "cnew",    "cclose",    "qid",    "model",
                                         "tpmodel", "need",      "tpneed", "mset"};
static const char *const unsupported_fields[] = {"context", "srate", "roi",   "metareq", "quality",
                                                 "align",   "wait",  "drate", "upload",  "xmlbox"};

static int in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, list[i]) == 0)
            return 1;
    return 0;
}

static int parse_field(const char *name, const char *val, const struct jpip_allocator *a,
                       struct jpip__fetch_url *u, unsigned *seen, struct jpip__err *err)
{
    static const char *const names[] = {"fsiz",   "roff",   "rsiz", "comps",
                                        "layers", "stream", "len",  "type"};
    unsigned idx = 0;
    while (idx < sizeof names / sizeof *names && strcmp(name, names[idx]) != 0)
        idx++;
    if (idx == sizeof names / sizeof *names) {
        if (in_list(name, own_fields, sizeof own_fields / sizeof *own_fields))
            return jpip__errf(err, JPIP_EINVAL,
                              "field '%s' is not allowed in the URL: the client sets it itself",
                              name);
        if (in_list(name, unsupported_fields,
                    sizeof unsupported_fields / sizeof *unsupported_fields))
            return jpip__errf(err, JPIP_EINVAL, "field '%s' is not supported by this client", name);
        return jpip__errf(err, JPIP_EINVAL, "unknown field '%s' in the URL", name);
    }
    if (*seen & (1u << idx))
        return jpip__errf(err, JPIP_EINVAL, "field '%s' appears twice", name);
    *seen |= 1u << idx;
    struct jpip_view *v = &u->view;
    const char *rest = "";
    uint64_t num;
    const char *p = val;
    switch (idx) {
    case 0: /* fsiz=fx,fy[,round-direction] (C.4.2) */
        if (parse_pair(val, &v->fx, &v->fy, &rest) < 0 || v->fx == 0 || v->fy == 0)
            break;
        if (*rest == '\0' || strcmp(rest, ",round-down") == 0)
            v->round = 0;
        else if (strcmp(rest, ",round-up") == 0)
            v->round = 1;
        else if (strcmp(rest, ",closest") == 0)
            v->round = 2;
        else
            break;
        return JPIP_OK;
    case 1: /* roff=ox,oy (C.4.3) */
        if (parse_pair(val, &v->ox, &v->oy, &rest) < 0 || *rest)
            break;
        return JPIP_OK;
    case 2: /* rsiz=sx,sy (C.4.4) */
        if (parse_pair(val, &v->sx, &v->sy, &rest) < 0 || *rest || !v->sx || !v->sy)
            break;
        return JPIP_OK;
    case 3: return parse_comps(val, a, u, err);
    case 4: /* layers=N (C.4.7) */
        if (parse_num(&p, UINT16_MAX, &num) < 0 || *p || num == 0)
            break;
        v->layers = (uint16_t)num;
        return JPIP_OK;
    case 5: /* stream=N (C.2.6): one codestream; ranges and sampling are not supported */
        if (parse_num(&p, UINT32_MAX, &num) < 0 || *p)
            return jpip__errf(err, JPIP_EINVAL,
                              "stream=%s: this client fetches one codestream (stream=N)", val);
        v->stream = (uint32_t)num;
        return JPIP_OK;
    case 6: /* len=N (C.6.1) */
        if (parse_num(&p, UINT64_MAX, &num) < 0 || *p || num == 0)
            break;
        u->len = num;
        return JPIP_OK;
    default: { /* type= (C.7.3): the first of jpp-stream and jpt-stream listed */
        size_t i = 0;
        while (val[i]) {
            size_t n = strcspn(val + i, ",");
            size_t m = strcspn(val + i, ",;");
            if (m == 10 && strncmp(val + i, "jpp-stream", 10) == 0 && n >= m)
                return JPIP_OK;
            if (m == 10 && strncmp(val + i, "jpt-stream", 10) == 0 && n >= m) {
                u->jpt = 1;
                return JPIP_OK;
            }
            i += n + (val[i + n] == ',');
        }
        return jpip__errf(err, JPIP_EINVAL,
                          "type=%s: this client reads jpp-stream and jpt-stream only", val);
    }
    }
    return jpip__errf(err, JPIP_EINVAL, "bad value for %s: '%s'", name, val);
}

/* host, [v6], optional :port, optional userinfo@ before them. */
static int check_authority(const char *s, size_t n, size_t at, struct jpip__err *err)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f || s[i] == '\\')
            return jpip__errf(err, JPIP_EINVAL, "bad character in the host at byte %zu", at + i);
    const char *h = s;
    const void *amp = memchr(s, '@', n);
    if (amp) {
        const char *last = s;
        for (size_t i = 0; i < n; i++)
            if (s[i] == '@')
                last = s + i + 1;
        h = last;
    }
    size_t hn = n - (size_t)(h - s);
    size_t hostlen = hn;
    if (hn && h[0] == '[') {
        const char *close = memchr(h, ']', hn);
        if (!close)
            return jpip__errf(err, JPIP_EINVAL, "unterminated [IPv6] host at byte %zu",
                              at + (size_t)(h - s));
        hostlen = (size_t)(close - h) + 1;
    } else {
        const char *colon = memchr(h, ':', hn);
        if (colon)
            hostlen = (size_t)(colon - h);
    }
    if (hostlen == 0 || (hostlen == 2 && h[0] == '['))
        return jpip__errf(err, JPIP_EINVAL, "no host name at byte %zu", at + (size_t)(h - s));
    if (hostlen < hn) {
        const char *port = h + hostlen;
        size_t pn = hn - hostlen;
        uint64_t v = 0;
        if (port[0] != ':' || pn < 2 || pn > 6)
            return jpip__errf(err, JPIP_EINVAL, "bad port at byte %zu", at + (size_t)(port - s));
        for (size_t i = 1; i < pn; i++) {
            if (port[i] < '0' || port[i] > '9')
                return jpip__errf(err, JPIP_EINVAL, "bad port at byte %zu",
                                  at + (size_t)(port - s) + i);
            v = v * 10 + (unsigned)(port[i] - '0');
        }
        if (v == 0 || v > 65535)
            return jpip__errf(err, JPIP_EINVAL, "port %llu out of range at byte %zu",
                              (unsigned long long)v, at + (size_t)(port - s));
    }
    return JPIP_OK;
}

static int parse_query(const char *q, size_t n, size_t at, const struct jpip_allocator *a,
                       struct jpip__fetch_url *u, struct jpip__err *err)
{
    char name[32], val[VALUE_MAX];
    unsigned seen = 0;
    size_t i = 0;
    while (i < n) {
        size_t fl = 0;
        while (i + fl < n && q[i + fl] != '&')
            fl++;
        if (fl > 0) {
            const char *f = q + i;
            const char *eq = memchr(f, '=', fl);
            size_t nl = eq ? (size_t)(eq - f) : fl;
            if (!eq || nl == 0)
                return jpip__errf(err, JPIP_EINVAL, "field at byte %zu is not name=value", at + i);
            if (pct_decode(f, nl, name, sizeof name) < 0)
                return jpip__errf(err, JPIP_EINVAL, "bad field name at byte %zu", at + i);
            if (pct_decode(eq + 1, fl - nl - 1, val, sizeof val) < 0)
                return jpip__errf(err, JPIP_EINVAL,
                                  "bad percent-escape or overlong value in '%s' (byte %zu)", name,
                                  at + i + nl + 1);
            JPIP_TRY(parse_field(name, val, a, u, &seen, err));
        }
        i += fl + 1;
    }
    const struct jpip_view *v = &u->view;
    if ((v->ox || v->oy || v->sx) && !v->fx)
        return jpip__errf(err, JPIP_EINVAL, "roff and rsiz need fsiz (the frame they refer to)");
    return JPIP_OK;
}

int jpip__fetch_url_parse(const char *url, const struct jpip_allocator *a,
                          struct jpip__fetch_url *u, struct jpip__err *err)
{
    memset(u, 0, sizeof *u);
    if (!url)
        return jpip__errf(err, JPIP_EINVAL, "no URL");
    size_t total = strlen(url);
    if (total > JPIP__FETCH_URL_MAX)
        return jpip__errf(err, JPIP_EINVAL, "URL longer than %u bytes", JPIP__FETCH_URL_MAX);
    for (size_t i = 0; i < total; i++)
        if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] == 0x7f)
            return jpip__errf(err, JPIP_EINVAL, "space or control character in the URL at byte %zu",
                              i);
    size_t skip;
    if (lower_prefix(url, "http://")) {
        skip = 7;
    } else if (lower_prefix(url, "https://")) {
        skip = 8;
        u->https = 1;
    } else {
        return jpip__errf(err, JPIP_EINVAL, "the URL must start with http:// or https://");
    }
    const char *auth = url + skip;
    size_t an = strcspn(auth, "/?#");
    int rc = check_authority(auth, an, skip, err);
    if (rc < 0)
        return rc;
    const char *path = auth + an;
    size_t pn = strcspn(path, "?#");
    if (pn < 2 || path[0] != '/')
        return jpip__errf(err, JPIP_EINVAL,
                          "no target in the URL (expected /name after the host, byte %zu)",
                          skip + an);
    u->base = jpip__alloc(a, skip + an + 1);
    u->target = dup_range(a, path, pn);
    if (!u->base || !u->target) {
        jpip__fetch_url_free(u, a);
        return JPIP_ENOMEM;
    }
    memcpy(u->base, u->https ? "https://" : "http://", skip);
    memcpy(u->base + skip, auth, an);
    u->base[skip + an] = '\0';
    if (path[pn] == '?') {
        const char *q = path + pn + 1;
        size_t qn = strcspn(q, "#");
        rc = parse_query(q, qn, (size_t)(q - url), a, u, err);
        if (rc < 0) {
            jpip__fetch_url_free(u, a);
            return rc;
        }
    }
    return JPIP_OK;
}

void jpip__fetch_url_free(struct jpip__fetch_url *u, const struct jpip_allocator *a)
{
    jpip__free(a, u->base);
    jpip__free(a, u->target);
    jpip__free(a, u->comps);
    memset(u, 0, sizeof *u);
}
