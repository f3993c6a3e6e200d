/* test_voice.c - the prompts: the shipped clips match the texts, every
 * citizen screen has words to say, typed digits change nothing said, and
 * the night level (ui/voice.h, app/audio.h). */
#include "t.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/audio.h"
#include "kiosk_build.h"
#include "ui/strings.h"
#include "ui/voice.h"

static char root[1024];

typedef struct {
    char (*lines)[1200];
    int n, cap;
} line_set;

static char *add_line(line_set *s)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->lines = realloc(s->lines, (size_t)s->cap * sizeof *s->lines);
        if (s->lines == NULL)
            abort();
    }
    return s->lines[s->n++];
}

/* A text no table holds is skipped when spoken (ui/voice.c): named here,
 * not failed; every screen still says its heading (below). */
static void collect(core_lang lang, const char *name, const char *text, void *ud)
{
    if (name == NULL) {
        fprintf(stderr, "  note: %s: not spoken: %s\n", voice_lang_dir(lang), text);
        return;
    }
    snprintf(add_line(ud), 1200, "%s\t%s\t%s", voice_lang_dir(lang), name, text);
}

static bool in_set(const line_set *s, const char *line)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->lines[i], line) == 0)
            return true;
    return false;
}

/* assets/voice/manifest.tsv is what scripts/make-voice.py spoke; the
 * kiosk's own list is what the screens say now. A string changed without
 * its clip made again fails here, naming the clip. */
T_TEST(the_shipped_clips_say_the_current_texts)
{
    line_set want = { 0 }, have = { 0 };
    char path[1200], line[1150];
    FILE *f;
    voice_each_clip(collect, &want); /* texts it skips: named, not failed */
    snprintf(path, sizeof path, "%s/assets/voice/manifest.tsv", root);
    f = fopen(path, "r");
    T_CHECK(f != NULL);
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] != '#' && line[0] != '\0')
            snprintf(add_line(&have), 1200, "%s", line);
    }
    if (f)
        fclose(f);
    for (int i = 0; i < want.n; i++) {
        char wav[1400];
        const char *tab = strchr(want.lines[i], '\t');
        if (!in_set(&have, want.lines[i])) {
            fprintf(stderr, "  not in the manifest (run scripts/make-voice.py): %s\n", want.lines[i]);
            t_failed_checks++;
        }
        snprintf(wav, sizeof wav, "%s/assets/voice/%.*s/%.*s.wav", root, (int)(tab - want.lines[i]), want.lines[i],
                 (int)strcspn(tab + 1, "\t"), tab + 1);
        if (access(wav, R_OK) != 0) {
            fprintf(stderr, "  missing: %s\n", wav);
            t_failed_checks++;
        }
    }
    for (int i = 0; i < have.n; i++) {
        if (!in_set(&want, have.lines[i])) {
            fprintf(stderr, "  in the manifest but not said (run scripts/make-voice.py): %s\n", have.lines[i]);
            t_failed_checks++;
        }
    }
    T_EQ_INT(have.n, want.n);
    free(want.lines);
    free(have.lines);
}

static void make_core(core *c, core_state s, core_notice n, core_lang lang)
{
    memset(c, 0, sizeof *c);
    c->cfg.pin_length = 6;
    c->state = s;
    c->notice = n;
    c->lang = lang;
    c->card_present = true;
    c->tries_left = 3;
    c->attempts_left = 2;
    c->reset_expires_s = 300;
    snprintf(c->phone, sizeof c->phone, "138****5678");
}

static bool same_clips(const voice_clips *a, const voice_clips *b)
{
    if (a->n != b->n)
        return false;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->name[i], b->name[i]) != 0)
            return false;
    return true;
}

static const uint8_t order[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 0 };

T_TEST(every_citizen_screen_speaks_in_both_languages)
{
    static ui_view v;
    ui_view_input in = { .w = 1920, .h = 1080, .keypad_order = order, .card_masked = "A12***678" };
    int screens = 0;

    for (int l = 0; l < LANG__LAST; l++) {
        for (int s = 0; s < ST__LAST; s++) {
            core c;
            voice_clips clips;
            make_core(&c, (core_state)s, NT_NONE, (core_lang)l);
            ui_view_build(&v, &c, &in);
            bool said = voice_prompt(&v, &c, &clips);
            if (s == ST_SERVICE || s == ST_SERVICE_CODE) {
                T_CHECK(!said); /* a technician's screens are silent */
                continue;
            }
            if (!said)
                fprintf(stderr, "  %s/%s says nothing\n", voice_lang_dir((core_lang)l), core_state_name((core_state)s));
            T_CHECK(said);
            /* Its heading first, by the heading's own clip. */
            T_CHECK(clips.n > 0 && strncmp(clips.name[0], "heading.", 8) == 0);
            screens++;
        }
    }
    T_CHECK(screens >= 30);
}

/* Typed digits are dots on the screen, never words: the prompt of a
 * keypad screen is the same with none, three or six typed. */
T_TEST(typed_digits_change_nothing_said)
{
    static ui_view v;
    ui_view_input in = { .w = 1920, .h = 1080, .keypad_order = order, .card_masked = "A12***678" };
    static const core_state keypads[] = { ST_ENTER_OLD_PIN, ST_ENTER_NEW_PIN, ST_CONFIRM_NEW_PIN, ST_ENTER_RESET_CODE };

    for (size_t k = 0; k < sizeof keypads / sizeof keypads[0]; k++) {
        core c;
        voice_clips none, some;
        make_core(&c, keypads[k], NT_NONE, LANG_ZH);
        ui_view_build(&v, &c, &in);
        T_CHECK(voice_prompt(&v, &c, &none));
        snprintf(c.entry, sizeof c.entry, "975");
        c.entry_len = 3;
        ui_view_build(&v, &c, &in);
        T_CHECK(voice_prompt(&v, &c, &some));
        T_CHECK(same_clips(&none, &some));
        for (int i = 0; i < some.n; i++)
            T_CHECK(strcmp(some.name[i], "num.9") != 0 && strcmp(some.name[i], "num.7") != 0);
        explicit_bzero(c.entry, sizeof c.entry);
    }
}

/* A count is said from num.N; the masked phone is not said at all. */
T_TEST(counts_are_said_and_phones_are_not)
{
    voice_clips c = { 0 };
    char text[256];

    str_fmt(text, sizeof text, S_WRONG_PIN_COUNT, LANG_EN, 2);
    T_CHECK(voice_match(text, LANG_EN, &c));
    T_EQ_INT(c.n, 3);
    T_EQ_STR(c.name[1], "num.2");
    c.n = 0;
    snprintf(text, sizeof text, str_get(S_CODE_SENT, LANG_ZH), "138****5678");
    T_CHECK(voice_match(text, LANG_ZH, &c));
    T_EQ_INT(c.n, 1);
    c.n = 0;
    T_CHECK(!voice_match("no table holds this", LANG_EN, &c));
}

T_TEST(the_night_level_is_the_stations_choice)
{
    T_EQ_INT(audio_level_at(80, 30, 0, 0, 3), 80);   /* equal hours: no night */
    T_EQ_INT(audio_level_at(80, 30, 22, 7, 21), 80);
    T_EQ_INT(audio_level_at(80, 30, 22, 7, 22), 30);
    T_EQ_INT(audio_level_at(80, 30, 22, 7, 0), 30);
    T_EQ_INT(audio_level_at(80, 30, 22, 7, 6), 30);
    T_EQ_INT(audio_level_at(80, 30, 22, 7, 7), 80);
    T_EQ_INT(audio_level_at(80, 30, 1, 5, 0), 80);    /* within one day */
    T_EQ_INT(audio_level_at(80, 30, 1, 5, 1), 30);
    T_EQ_INT(audio_level_at(80, 30, 1, 5, 5), 80);
}

int main(void)
{
    static const t_case cases[] = {
        T_CASE(the_shipped_clips_say_the_current_texts), T_CASE(every_citizen_screen_speaks_in_both_languages),
        T_CASE(typed_digits_change_nothing_said), T_CASE(counts_are_said_and_phones_are_not),
        T_CASE(the_night_level_is_the_stations_choice),
    };
    const char *env = getenv("KIOSK_SOURCE_ROOT");

    snprintf(root, sizeof root, "%s", env ? env : KIOSK_SOURCE_ROOT);
    return t_run(cases, sizeof cases / sizeof cases[0]);
}
