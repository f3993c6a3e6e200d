/* voice_list.c - kiosk-voice-list: every prompt clip and its text, one a
 * line ("zh<TAB>heading.IDLE<TAB>请插入社保卡"), from the kiosk's own
 * string tables and views (ui/voice.h). scripts/make-voice.py speaks each
 * line into assets/voice/<lang>/<name>.wav; the unit test test_voice holds
 * the shipped manifest to this list. A screen's text no table holds is
 * skipped when the screen is spoken (ui/voice.c) and named here on stderr
 * as a warning; the list is still whole and the tool exits 0. */
#include <stdio.h>

#include "ui/voice.h"

static void voice_list_line(core_lang lang, const char *name, const char *text, void *ud)
{
    (void)ud;
    if (name == NULL)
        fprintf(stderr, "kiosk-voice-list: warning: %s: not spoken (no table holds it): \"%s\"\n",
                voice_lang_dir(lang), text);
    else
        printf("%s\t%s\t%s\n", voice_lang_dir(lang), name, text);
}

int main(void)
{
    int skipped = voice_each_clip(voice_list_line, NULL);

    if (skipped > 0)
        fprintf(stderr, "kiosk-voice-list: warning: %d text(s) not spoken\n", skipped);
    return 0;
}
