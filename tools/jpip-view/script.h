/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Scripted runs (--script FILE), for tests and measurements. Each command turns into real SDL
 * events pushed on the queue (SDL_PushEvent), so it goes through the same code as a user's
 * input; the script goes on once the queue is drained. Commands, one a line ('#' comments):
 *
 *   wait-complete [SECONDS]  until the current view's complete picture is on screen (60 s)
 *   sleep MS                 keep running the viewer for MS milliseconds
 *   zoom-in X Y, zoom-out X Y   the mouse moves to (X, Y) and the wheel turns two notches
 *   pan DX DY                a left-button drag by (DX, DY) from the viewport's centre
 *   key NAME [shift]         a key press, NAME as SDL names keys ("F", "Left", "=", "1")
 *   resize W H               the window's new size
 *   screenshot FILE          the window as PPM (or PNG for FILE.png), and FILE.view with the
 *                            view's facts (ui_describe)
 *   print-view               the same facts on stdout
 *   quit
 */
#ifndef JPIP_VIEW_SCRIPT_H
#define JPIP_VIEW_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "ui.h"

struct script {
    char **lines;
    size_t n, next;
    int waiting; /* 1: wait-complete, 2: sleep */
    uint64_t until_us;
    size_t line_no;
};

/* Read the script ("-" = standard input). Returns 0, or -1 after a message on stderr. */
int script_load(struct script *s, const char *path);
void script_free(struct script *s);
/* Run the next command if the previous one is done. Returns 0 to go on, 1 when the script
 * ended (quit or end of file), -1 on failure (message on stderr). */
int script_step(struct script *s, struct ui *u);

#endif
