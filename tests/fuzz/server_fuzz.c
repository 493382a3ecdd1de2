/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Server core harness: the input is up to eight request query strings (one per line), a NUL,
 * then a file the server serves from memory as "/f". Each request is handled and its whole
 * body pulled in pieces of input-chosen sizes. Checks: every request gets a response with a
 * status in 200..599 and a one-line reason; a 200 body ends with an EOR; nothing crashes,
 * leaks or reads out of bounds (sanitizers). A channel opened by one request is used by the
 * next ones ("cid=@" in a query is replaced by the last granted cid).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpip/server.h>

static const uint8_t *file_data;
static size_t file_len;

static int resolve(void *user, const char *name, size_t len, struct jpip_target_ref *out, char *msg,
                   size_t msglen)
{
    (void)user;
    if (len != 1 || name[0] != 'f') {
        snprintf(msg, msglen, "no such target");
        return JPIP_ENOTFOUND;
    }
    jpip_memory_source_init(&out->src, file_data, file_len);
    snprintf(out->version, sizeof out->version, "v1");
    return JPIP_OK;
}

static int rnd(void *user, uint8_t *buf, size_t len)
{
    (void)user;
    memset(buf, 0x5A, len);
    return JPIP_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul)
        return 0;
    file_data = nul + 1;
    file_len = size - (size_t)(nul + 1 - data);
    struct jpip_server_hooks h = {.resolve = resolve, .random = rnd};
    struct jpip_server *s;
    if (jpip_server_create(&s, &h, NULL, NULL) != JPIP_OK)
        return 0;
    char cid[64] = "";
    const char *p = (const char *)data, *end = (const char *)nul;
    for (int i = 0; i < 8 && p < end; i++) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        char q[4096];
        size_t n = 0;
        for (const char *c = p; c < e && n + 40 < sizeof q; c++) {
            if (c + 5 <= e && memcmp(c, "cid=@", 5) == 0) {
                n += (size_t)snprintf(q + n, sizeof q - n, "cid=%s", cid);
                c += 4;
            } else {
                q[n++] = *c;
            }
        }
        struct jpip_response *r;
        const char *path = i % 2 ? "/jpip" : "/f";
        if (jpip_server_handle(s, path, strlen(path), q, n, (uint64_t)i, &r) != JPIP_OK)
            break;
        int status = jpip_response_status(r);
        if (status < 200 || status > 599 || strchr(jpip_response_reason(r), '\n'))
            abort();
        const char *hdr = strstr(jpip_response_headers(r), "JPIP-cnew: cid=");
        if (hdr)
            snprintf(cid, sizeof cid, "%.32s", hdr + 15);
        uint8_t buf[4096];
        size_t piece = 64 + (size_t)(data[0] % 200), got = 0;
        uint8_t last[3] = {0};
        int done = 0;
        while (!done && status == 200) {
            size_t k;
            if (jpip_response_read(r, buf, piece, &k, &done) != JPIP_OK)
                break;
            if (k >= 3)
                memcpy(last, buf + k - 3, 3);
            got += k;
            if (got > (64u << 20))
                break; /* bounded work per input */
        }
        if (status == 200 && done && (last[0] != 0 || last[2] != 0))
            abort(); /* a finished body ends with an EOR message */
        jpip_response_destroy(r);
        p = e + 1;
    }
    jpip_server_destroy(s);
    return 0;
}
