/* damage.h - what changed between two frames, as a few rectangles.
 *
 * A frame is listed as items, each where it was drawn and a key for what
 * was drawn there (its colour, its words, whether it was ready). The same
 * screen lists the same items in the same order from frame to frame; a
 * tap changes a handful of them (a key's ring, a dot, a hint). Only where
 * an item moved or changed need the frame be drawn again and sent to the
 * display: at 1920x1080 the whole frame is 8 MB to fill and copy, 4-9 ms
 * of a keypad tap's frame, where its rectangles are a few hundred KB
 * (issue 14).
 */
#ifndef UI_DAMAGE_H
#define UI_DAMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

/* Enough for every item of a screen (view.h: 20 widgets, 40 texts, 10
 * boxes, and a few of their own); a frame of more is drawn whole. */
#define DMG_MAX_ITEMS 96
/* Rectangles a frame is drawn again in; more are merged. */
#define DMG_MAX_RECTS 4

typedef struct {
    SDL_Rect r;
    uint64_t key;
} dmg_item;

typedef struct {
    dmg_item item[DMG_MAX_ITEMS];
    int n;
    bool overflow;  /* more items than fit: compare as different */
} dmg_list;

void dmg_list_clear(dmg_list *l);
/* Adds an item (an empty rectangle for one not drawn). */
void dmg_add(dmg_list *l, SDL_Rect r, uint64_t key);

/* FNV-1a over n bytes, continuing from h (start with DMG_HASH_START). */
#define DMG_HASH_START 14695981039346656037ull
uint64_t dmg_hash(uint64_t h, const void *p, size_t n);
uint64_t dmg_hash_str(uint64_t h, const char *s);

/* The rectangles of a w x h frame that differ between frame a (drawn) and
 * b (to draw): the place of every item one of them has and the other has
 * not (the same place and key make the same item), and where two kept
 * items overlap in the other order; merged into at most `max` (<=
 * DMG_MAX_RECTS) rectangles, clipped to the frame. Items must be listed in
 * the order they are drawn, each drawing only within its rectangle.
 * Returns how many (0: nothing changed), or -1 if the frame must be drawn
 * whole: either list overflowed, or the rectangles would cover more than
 * half of the frame anyway. */
int dmg_diff(const dmg_list *a, const dmg_list *b, int w, int h, SDL_Rect *out, int max);

#endif
