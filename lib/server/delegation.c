/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Delegation of new channels (15444-9 C.3.3, JPIP-cnew host and port): a front server that
 * has a delegate hook opens no session itself; the hook obtains a channel from a back-end and
 * the front relays the back-end's JPIP-* headers, whose JPIP-cnew names the back-end's host
 * and port, so the client sends the channel's requests there. The front's body carries no
 * data: only an EOR saying the server's response limit was reached, and the client goes on
 * with the channel. Header lines from the hook are checked before they are relayed.
 */
#include <stdio.h>
#include <string.h>

#include "server/server_internal.h"

/* Append the JPIP-* lines of text that are well formed ("JPIP-Name: value", printable). */
static void relay_headers(struct jpip_response *r, const char *text, size_t cap)
{
    size_t n = strnlen(text, cap);
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && text[e] != '\r' && text[e] != '\n')
            e++;
        const char *line = text + i;
        size_t len = e - i;
        int ok = len > 6 && len < 1024 && memcmp(line, "JPIP-", 5) == 0 &&
                 memchr(line, ':', len) != NULL;
        for (size_t k = 0; ok && k < len; k++)
            ok = (unsigned char)line[k] >= 0x20 && (unsigned char)line[k] < 0x7f;
        if (ok && jpip__buf_append(&r->headers, line, len) >= 0)
            jpip__buf_append(&r->headers, "\r\n", 2);
        i = e;
        while (i < n && (text[i] == '\r' || text[i] == '\n'))
            i++;
    }
}

static void plain_reason(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = ' ';
}

void jpip__srv_delegate(struct jpip_server *s, struct jpip_response *r, const char *name,
                        size_t name_len)
{
    struct jpip_delegation d;
    memset(&d, 0, sizeof d);
    int rc = s->hooks.delegate(s->hooks.delegate_user, name, name_len, s->query, s->query_len, &d);
    jpip__buf_reset(&r->headers);
    r->phase = 4;
    if (rc < 0 || d.status < 200 || d.status > 599) {
        r->status = 503;
        plain_reason(r->reason, sizeof r->reason,
                     d.reason[0] ? d.reason : "no back-end server can take the channel");
        jpip__buf_append(&r->headers, "Retry-After: 2\r\nContent-Type: text/plain\r\n", 42);
        return;
    }
    r->status = d.status;
    plain_reason(r->reason, sizeof r->reason, d.reason[0] ? d.reason : "OK");
    relay_headers(r, d.headers, sizeof d.headers);
    if (d.status != 200) {
        jpip__buf_append(&r->headers, "Content-Type: text/plain\r\n", 26);
        return;
    }
    static const char tail[] = "Content-Type: image/jpp-stream\r\nCache-Control: no-cache\r\n";
    jpip__buf_append(&r->headers, tail, sizeof tail - 1);
    r->phase = 3;
    r->eor_reason = 7; /* response limit: this server sends no data for the channel */
    snprintf(r->st.target, sizeof r->st.target, "%.*s", (int)(name_len > 100 ? 100 : name_len),
             name);
}
