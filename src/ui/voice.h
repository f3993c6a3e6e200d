/* voice.h - what the kiosk says on each screen, as names of recorded clips.
 *
 * A screen's prompt is read off its view (ui_view), so it follows whatever
 * the screen shows: the notice box and the sentence under it when a notice
 * is up, else the heading and the sentence under it; the countdown dialog
 * alone while it is up. Each text is matched against the string tables
 * (ui/strings.h): a table string is one clip; a string with a count (%d) is
 * cut at the count into clips, the count spoken from num.N clips (0..20;
 * a larger count is left out, the rest is said); a %s (a masked phone, an
 * example PIN such as 111111, the station's counter) is a wildcard, never
 * spoken. A leading "• " (a list's bullet) is not said. A text that still
 * matches no table (two strings joined in a way not foreseen) is skipped:
 * the rest of the screen is said. Identical texts share one clip, named after the first
 * table entry that holds it.
 *
 * Clip names are file names: assets/voice/<zh|en>/<name>.wav. Nothing here
 * touches SDL or a file; scripts/make-voice.py gets the list of clips and
 * their texts from kiosk-voice-list (voice_list.c), which calls
 * voice_each_clip() on the same tables, so the files always match them.
 */
#ifndef UI_VOICE_H
#define UI_VOICE_H

#include <stdbool.h>

#include "core/core.h"
#include "ui/view.h"

#define VOICE_MAX_CLIPS 16
#define VOICE_NAME_MAX 48
#define VOICE_NUM_MAX 20 /* num.0 .. num.20 */

typedef struct {
    int n;
    const char *name[VOICE_MAX_CLIPS]; /* static storage; valid for the process */
} voice_clips;

/* The prompt of the screen `v` shows for the core `c` (its state and
 * language); false (and no clips) for a screen that says nothing (the
 * technician's) or a text no table holds. */
bool voice_prompt(const ui_view *v, const core *c, voice_clips *out);

/* The clips of one text, appended to `out`; false if no table holds it. */
bool voice_match(const char *text, core_lang lang, voice_clips *out);

/* Every clip a prompt can use, once each: fn(lang, name, text), found by
 * building every citizen screen (state x notice x tries left) in both
 * languages. A text on one of them that no table holds (skipped when
 * spoken) comes once as fn(lang, NULL, text): the caller warns. Returns the
 * number of those. */
int voice_each_clip(void (*fn)(core_lang lang, const char *name, const char *text, void *ud), void *ud);

/* "zh" or "en": the clip directory of a language. */
const char *voice_lang_dir(core_lang lang);

#endif
