/* textcache.h - the texts kept for the frames, as runs, within a budget.
 *
 * A text is shaded once (ui_text_runs) and kept while it is on screen or
 * likely to be soon: a frame then only copies it. The cache is bounded in
 * bytes, not in texts; a frame always gets all its texts, even past the
 * budget, and never loses one it uses; a screen prepared ahead of time only
 * gets what fits, never evicting what the last frame showed or what the
 * same round prepared before. Only the UI thread uses it (and the first
 * screen's words thread before the first frame, alone).
 */
#ifndef UI_TEXTCACHE_H
#define UI_TEXTCACHE_H

#include <stdint.h>

#include "ui/text.h"
#include "ui/textruns.h"
#include "ui/view.h"

typedef struct textcache textcache;

/* Borrows `fonts`; NULL if out of memory. */
textcache *tcache_new(ui_fonts *fonts);
void tcache_free(textcache *c);

/* A frame begins: the texts it takes from now on are on screen. */
void tcache_frame_begin(textcache *c);
/* Text t's runs for the frame begun last, made now if it is not kept (a
 * miss: counted and logged at debug level); NULL if it cannot be made. The
 * runs stay the cache's, valid until the next frame begins. */
const textruns *tcache_get(textcache *c, const ui_text *t);
/* How many texts the last frame had to make. */
int tcache_misses(const textcache *c);

/* Starts a round of preparing screens ahead: what the round prepares first
 * is kept when later screens of the same round do not fit. */
void tcache_prepare_begin(textcache *c);
/* Makes up to `budget` texts of `v` not kept yet; returns how many are still
 * missing, or -1 when a text did not fit the budget (ui_renderer_prerender). */
int tcache_prepare(textcache *c, const ui_view *v, int budget);

#endif
