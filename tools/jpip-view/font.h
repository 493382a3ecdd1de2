/* SPDX-License-Identifier: BSD-2-Clause */
/* The viewer's built-in 5x7 bitmap font (font.c). */
#ifndef JPIP_VIEW_FONT_H
#define JPIP_VIEW_FONT_H

#include <SDL.h>

/* Cell pitch of one character (glyph 5 wide plus a blank column), and line height, in font
 * pixels; multiply by the scale. */
#define FONT_ADVANCE 6
#define FONT_LINE 9

int font_text_width(const char *s, int scale);
/* Draw s with its top-left corner at (x, y) in the renderer's current draw colour. */
void font_draw(SDL_Renderer *r, int x, int y, int scale, const char *s);

#endif
