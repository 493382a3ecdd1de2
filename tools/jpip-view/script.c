/* SPDX-License-Identifier: BSD-2-Clause */
/* Scripted runs of the viewer (script.h). */
#include "script.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shot.h"

int script_load(struct script *s, const char *path)
{
    memset(s, 0, sizeof *s);
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "jpip-view: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096];
    size_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n#")] = '\0';
        char *p = line + strspn(line, " \t");
        if (!*p)
            continue;
        if (s->n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nl = realloc(s->lines, cap * sizeof *nl);
            if (!nl)
                break;
            s->lines = nl;
        }
        s->lines[s->n] = malloc(strlen(p) + 1);
        if (!s->lines[s->n])
            break;
        memcpy(s->lines[s->n++], p, strlen(p) + 1);
    }
    if (f != stdin)
        fclose(f);
    return 0;
}

void script_free(struct script *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->lines[i]);
    free(s->lines);
    memset(s, 0, sizeof *s);
}

static void push(SDL_Event *ev, struct ui *u)
{
    ev->common.timestamp = SDL_GetTicks();
    switch (ev->type) {
    case SDL_MOUSEMOTION: ev->motion.windowID = SDL_GetWindowID(u->win); break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP: ev->button.windowID = SDL_GetWindowID(u->win); break;
    case SDL_MOUSEWHEEL: ev->wheel.windowID = SDL_GetWindowID(u->win); break;
    case SDL_KEYDOWN:
    case SDL_KEYUP: ev->key.windowID = SDL_GetWindowID(u->win); break;
    default: break;
    }
    SDL_PushEvent(ev);
}

static void motion(struct ui *u, int x, int y, int dx, int dy, uint32_t state)
{
    SDL_Event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SDL_MOUSEMOTION;
    ev.motion.x = x;
    ev.motion.y = y;
    ev.motion.xrel = dx;
    ev.motion.yrel = dy;
    ev.motion.state = state;
    push(&ev, u);
}

static void button(struct ui *u, int down, int x, int y)
{
    SDL_Event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = down ? SDL_MOUSEBUTTONDOWN : SDL_MOUSEBUTTONUP;
    ev.button.button = SDL_BUTTON_LEFT;
    ev.button.state = down ? SDL_PRESSED : SDL_RELEASED;
    ev.button.clicks = 1;
    ev.button.x = x;
    ev.button.y = y;
    push(&ev, u);
}

static void wheel(struct ui *u, int notches)
{
    SDL_Event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SDL_MOUSEWHEEL;
    ev.wheel.y = notches;
    ev.wheel.preciseY = (float)notches;
    ev.wheel.direction = SDL_MOUSEWHEEL_NORMAL;
    ev.wheel.mouseX = u->mx;
    ev.wheel.mouseY = u->my;
    push(&ev, u);
}

static int key(struct ui *u, const char *name, int shift)
{
    const SDL_Keycode k = SDL_GetKeyFromName(name);
    if (k == SDLK_UNKNOWN)
        return -1;
    for (int down = 1; down >= 0; down--) {
        SDL_Event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = down ? SDL_KEYDOWN : SDL_KEYUP;
        ev.key.state = down ? SDL_PRESSED : SDL_RELEASED;
        ev.key.keysym.sym = k;
        ev.key.keysym.scancode = SDL_GetScancodeFromKey(k);
        ev.key.keysym.mod = (Uint16)(shift ? KMOD_LSHIFT : KMOD_NONE);
        push(&ev, u);
    }
    return 0;
}

static int screenshot(struct ui *u, const char *path)
{
    ui_draw(u);
    const int w = u->win_w, h = u->win_h;
    uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
    if (!rgb)
        return -1;
    int rc = SDL_RenderReadPixels(u->ren, NULL, SDL_PIXELFORMAT_RGB24, rgb, 3 * w);
    if (rc != 0)
        fprintf(stderr, "jpip-view: cannot read the window: %s\n", SDL_GetError());
    else
        rc = shot_write(path, rgb, w, h);
    free(rgb);
    ui_present(u);
    if (rc != 0)
        return -1;
    char name[4200], d[1024];
    snprintf(name, sizeof name, "%s.view", path);
    ui_describe(u, d, sizeof d);
    FILE *f = fopen(name, "w");
    if (!f || fputs(d, f) < 0) {
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int fail(struct script *s, const char *what)
{
    fprintf(stderr, "jpip-view: script line %zu (%s): %s\n", s->next, s->lines[s->next - 1], what);
    return -1;
}

int script_step(struct script *s, struct ui *u)
{
    const uint64_t now = ui_now_us();
    if (s->waiting == 1) {
        if (u->have_info && u->shown_complete_id == u->want.id && !u->dirty)
            s->waiting = 0;
        else if (now > s->until_us)
            return fail(s, u->st.failed ? u->st.msg : "the view did not complete in time");
        else
            return 0;
    }
    if (s->waiting == 2) {
        if (now < s->until_us)
            return 0;
        s->waiting = 0;
    }
    if (s->next >= s->n)
        return 1;
    const char *line = s->lines[s->next++];
    char cmd[64] = "", arg[4096] = "";
    double a = 0, b = 0;
    const int n = sscanf(line, "%63s %lf %lf", cmd, &a, &b);
    if (strcmp(cmd, "wait-complete") == 0) {
        s->waiting = 1;
        s->until_us = now + (uint64_t)((n >= 2 ? a : 60) * 1e6);
    } else if (strcmp(cmd, "sleep") == 0 && n == 2) {
        s->waiting = 2;
        s->until_us = now + (uint64_t)(a * 1e3);
    } else if ((strcmp(cmd, "zoom-in") == 0 || strcmp(cmd, "zoom-out") == 0) && n == 3) {
        motion(u, (int)a, (int)b, 0, 0, 0);
        wheel(u, cmd[5] == 'i' ? 2 : -2);
    } else if (strcmp(cmd, "pan") == 0 && n == 3) {
        const int cx = u->want.view.w / 2, cy = u->want.view.h / 2;
        motion(u, cx, cy, 0, 0, 0);
        button(u, 1, cx, cy);
        motion(u, cx + (int)a, cy + (int)b, (int)a, (int)b, SDL_BUTTON_LMASK);
        button(u, 0, cx + (int)a, cy + (int)b);
    } else if (strcmp(cmd, "key") == 0 && sscanf(line, "%63s %4095s", cmd, arg) == 2) {
        if (key(u, arg, strstr(line + 4 + strlen(arg), "shift") != NULL) != 0)
            return fail(s, "unknown key name");
    } else if (strcmp(cmd, "resize") == 0 && n == 3) {
        SDL_SetWindowSize(u->win, (int)a, (int)b);
    } else if (strcmp(cmd, "screenshot") == 0 && sscanf(line, "%63s %4095s", cmd, arg) == 2) {
        if (screenshot(u, arg) != 0)
            return fail(s, "cannot write the screenshot");
    } else if (strcmp(cmd, "print-view") == 0) {
        char d[1024];
        ui_describe(u, d, sizeof d);
        fputs(d, stdout);
        fflush(stdout);
    } else if (strcmp(cmd, "quit") == 0) {
        return 1;
    } else {
        return fail(s, "unknown command or wrong arguments");
    }
    return 0;
}
