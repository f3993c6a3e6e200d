/* clip.h - a prompt clip (a WAV of assets/voice/) read a piece at a time.
 *
 * The kiosk's clips are G.711 mu-law, mono, at AUDIO_RATE (a byte a
 * sample): such a clip is read and decoded to S16 a piece of
 * CLIP_PIECE_SAMPLES at a time, as the callback needs it, so a prompt of
 * 14 s holds some 24 KB rather than its 300 KB of samples and a second
 * copy while it loads. A clip in any other format SDL reads (a clip
 * replaced by hand, say) is loaded and converted whole, as one piece.
 * The decoding is SDL_LoadWAV's (the G.711 table), sample for sample.
 *
 * Used by the voice thread only; pieces are malloc'd, the caller frees.
 */
#ifndef APP_CLIP_H
#define APP_CLIP_H

#include <stdbool.h>
#include <stdint.h>

#define CLIP_PIECE_SAMPLES 4096 /* 0.37 s at 11025 Hz, 8 KB */

typedef struct {
    bool open;
    bool cut_short;        /* the file ended before its data chunk said */
    int fd;
    uint32_t left;         /* mu-law bytes of the data chunk not read yet */
    int16_t *whole;        /* a clip in another format, converted, not handed out yet */
    uint32_t whole_n;
} clip_reader;

/* Opens the clip at `path` to be played as S16 mono at `rate`. False, with
 * the reason in SDL_GetError(), if it cannot be read as a sound. */
bool clip_open(clip_reader *r, const char *path, int rate);

/* The next piece (*n samples); NULL, with the reason in SDL_GetError(), if
 * none can be had (out of memory, a read error, past the end): the clip is
 * then at its end. A file shorter than its header says gives what it has,
 * and sets cut_short. */
int16_t *clip_next(clip_reader *r, uint32_t *n);

/* Whether every piece has been handed out. */
bool clip_done(const clip_reader *r);

/* Closes it; again is harmless, and so is a zeroed reader. */
void clip_close(clip_reader *r);

#endif
