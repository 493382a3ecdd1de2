/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * When the server loads and saves a target's persistent packet index through the embedder's
 * index hooks: once when the target is opened, and after a response when tiles were indexed
 * by walking since the last save (at most once a second per target, so the write stays off
 * the busy path), and when the target is closed. A refused index is only logged: the tiles
 * are then walked as without one.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "server/server_internal.h"

#define SAVE_INTERVAL_MS 1000u

static void say(struct jpip_server *s, enum jpip_log_level lv, const char *what,
                const struct srv_target *t, const char *detail)
{
    if (!s->log)
        return;
    char msg[512];
    snprintf(msg, sizeof msg, "index of %s: %s%s%s", t->name, what, detail ? ": " : "",
             detail ? detail : "");
    s->log(s->log_user, lv, msg);
}

static void identity(const struct srv_target *t, char *out, size_t cap)
{
    snprintf(out, cap, "%s %s", t->tid, t->ref.version);
}

struct load_ctx {
    struct jpip_server *s;
    struct srv_target *t;
};

static void take(void *user, const uint8_t *data, size_t len)
{
    struct load_ctx *x = user;
    char id[sizeof x->t->tid + sizeof x->t->ref.version + 2];
    identity(x->t, id, sizeof id);
    struct jpip__index_load_stats st;
    struct jpip__err err;
    jpip__err_clear(&err);
    int rc = jpip__target_index_load(x->t->t, id, data, len, &st, &err);
    if (rc < 0) {
        x->s->idx.files_refused++;
        say(x->s, JPIP_LOG_WARN, "refused, tiles will be indexed anew", x->t, err.msg);
        return;
    }
    x->s->idx.files_loaded++;
    char detail[96];
    snprintf(detail, sizeof detail, "%u tile record%s, %u damaged", st.records,
             st.records == 1 ? "" : "s", st.damaged);
    say(x->s, st.damaged ? JPIP_LOG_WARN : JPIP_LOG_INFO, "loaded", x->t, detail);
}

void jpip__srv_index_load(struct jpip_server *s, struct srv_target *t)
{
    if (!s->hooks.index_load)
        return;
    struct load_ctx x = {s, t};
    s->hooks.index_load(s->hooks.index_user, t->index_key, take, &x);
}

struct save_ctx {
    struct srv_target *t;
    struct jpip__buf out;
};

static int merge(void *user, const uint8_t *old, size_t old_len, const uint8_t **out,
                 size_t *out_len)
{
    struct save_ctx *x = user;
    char id[sizeof x->t->tid + sizeof x->t->ref.version + 2];
    identity(x->t, id, sizeof id);
    jpip__buf_reset(&x->out);
    JPIP_TRY(jpip__target_index_save(x->t->t, id, old, old_len, &x->out));
    *out = x->out.data;
    *out_len = x->out.len;
    return JPIP_OK;
}

void jpip__srv_index_save(struct jpip_server *s, struct srv_target *t, int force)
{
    if (!s->hooks.index_save || !t->t)
        return;
    uint64_t walked, loaded, rejected;
    jpip__target_index_counts(t->t, &walked, &loaded, &rejected);
    if (walked == t->index_saved_walked)
        return;
    if (!force && t->index_saved_ms && s->now_ms - t->index_saved_ms < SAVE_INTERVAL_MS)
        return;
    struct save_ctx x = {t, {0}};
    jpip__buf_init(&x.out, s->alloc, SIZE_MAX);
    int rc = s->hooks.index_save(s->hooks.index_user, t->index_key, merge, &x);
    jpip__buf_free(&x.out);
    t->index_saved_ms = s->now_ms ? s->now_ms : 1;
    if (rc < 0) {
        s->idx.save_failures++;
        say(s, JPIP_LOG_WARN, "not saved", t, jpip_strerror(rc));
        /* Try again on the next occasion only if something new is indexed. */
    } else {
        s->idx.saves++;
    }
    t->index_saved_walked = walked;
}

void jpip__srv_index_closing(struct jpip_server *s, struct srv_target *t)
{
    if (!t->t)
        return;
    jpip__srv_index_save(s, t, 1);
    uint64_t walked, loaded, rejected;
    jpip__target_index_counts(t->t, &walked, &loaded, &rejected);
    s->idx.tiles_walked += walked;
    s->idx.tiles_loaded += loaded;
    s->idx.tiles_rejected += rejected;
}

void jpip_server_index_stats(const struct jpip_server *s, struct jpip_index_stats *st)
{
    *st = s->idx;
    for (uint32_t i = 0; i < s->ntargets; i++) {
        if (!s->targets[i]->t)
            continue;
        uint64_t walked, loaded, rejected;
        jpip__target_index_counts(s->targets[i]->t, &walked, &loaded, &rejected);
        st->tiles_walked += walked;
        st->tiles_loaded += loaded;
        st->tiles_rejected += rejected;
    }
}
