/* audio.h - the kiosk's voice: spoken prompts, the key click, the refusal
 * and success tones, through SDL's own audio.
 *
 * Nothing here may delay a frame or a tap:
 *  - the device is opened after the first frame is presented, on a thread
 *    of its own (the voice thread), which also reads the prompts' WAV files
 *    a piece at a time as they play (clip.h), in the one format played
 *    (S16 mono, 11025 Hz);
 *  - the main thread only posts: a prompt (clip names) to the voice thread,
 *    a tone straight to SDL's audio callback, each through a ring the other
 *    side empties (no lock is ever waited on);
 *  - the callback mixes from memory prepared before it plays: the current
 *    prompt (a new one replaces it) and a tone over it.
 * A terminal with no sound device, or [audio] enabled = false, runs silent
 * and says so once in the log; everything else is the same.
 *
 * What a screen says is ui/voice.h's: its heading and the sentence under
 * it, or the notice and that sentence. One click for every key of the
 * keypad, digits, delete and OK alike: a bystander must not hear which
 * digit was typed.
 */
#ifndef APP_AUDIO_H
#define APP_AUDIO_H

#include <stdbool.h>

#include <cjson/cJSON.h>

struct app;
typedef struct app_audio app_audio;

#define AUDIO_RATE 11025

app_audio *audio_new(void);
void audio_free(app_audio *au);

/* The frame showing the current screen is up: on the first, the voice
 * thread starts (the device opens); on a new screen (a state, a notice
 * coming up, a language), its prompt and its tone. */
void audio_presented(struct app *a);

/* A keypad key was pressed (any: the same click). */
void audio_key(struct app *a);

/* btn.repeat: the current screen's prompt again. */
void audio_repeat(struct app *a);

/* Stops the voice thread and closes the device (before SDL_Quit). */
void audio_stop(struct app *a);

/* The figures `stats` reports under "audio": the device's state, and the
 * last sounds queued (prompts by their clips, tones by name). */
void audio_stats_json(const struct app *a, cJSON *o);

/* The level (0..100) at an hour of local time: night_volume from
 * night_from up to night_to (over midnight when from > to), volume the rest
 * of the day; equal hours: no night. */
static inline int audio_level_at(int volume, int night_volume, int night_from, int night_to, int hour)
{
    bool night = night_from < night_to ? hour >= night_from && hour < night_to
               : night_from > night_to ? hour >= night_from || hour < night_to : false;
    return night ? night_volume : volume;
}

#endif
