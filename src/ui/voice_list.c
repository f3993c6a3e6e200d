/* voice_list.c - kiosk-voice-list: every prompt clip and its text, one a
 * line ("zh<TAB>heading.IDLE<TAB>请插入社保卡"), from the kiosk's own
 * string tables and views (ui/voice.h). scripts/make-voice.py speaks each
 * line into assets/voice/<lang>/<name>.wav; the unit test test_voice holds
 * the shipped manifest to this list. Exits 1 if a screen shows a text no
 * table holds (it could not be spoken). */
#include <stdio.h>

#include "ui/voice.h"

static void voice_list_line(core_lang lang, const char *name, const char *text, void *ud)
{
    (void)ud;
    if (name == NULL)
        fprintf(stderr, "kiosk-voice-list: %s: no table holds \"%s\"\n", voice_lang_dir(lang), text);
    else
        printf("%s\t%s\t%s\n", voice_lang_dir(lang), name, text);
}

int main(void)
{
    return voice_each_clip(voice_list_line, NULL) == 0 ? 0 : 1;
}
