/* audio.c - the voice thread, SDL's audio callback and what the main
 * thread posts to them (audio.h).
 *
 * Three threads, four single-producer single-consumer rings, no lock:
 *   main  --req-->  voice thread  --play-->  callback  (a prompt: names, then PCM)
 *   main  --tone-->  callback                          (a click or a tone; in turn)
 *   callback  --done-->  voice thread                  (a prompt's PCM to free)
 * A ring that is full drops the new item: a lost sound, never a wait. */
#include "app/audio.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <SDL.h>

#include "app/app_int.h"
#include "app/clip.h"
#include "app/display.h"
#include "ui/voice.h"
#include "util/fmath.h"
#include "util/log.h"

#define AU_RING 16              /* a power of two */
#define AU_ITEM 160             /* bytes: the largest item, a prompt request */
#define AU_SAMPLES 512          /* per callback: 46 ms at 11025 Hz */
#define AU_GAP_MS 120           /* between a tone and the prompt after it */
#define AU_HISTORY 24           /* sounds kept for `stats` */

typedef struct {
    unsigned char item[AU_RING][AU_ITEM];
    atomic_uint head, tail;
} au_ring;

typedef enum { AU_PENDING, AU_OPEN, AU_SILENT, AU_OFF } au_state;
static const char *const au_state_names[] = { "pending", "open", "silent", "off" };

typedef enum { TONE_NONE, TONE_CLICK, TONE_REFUSAL, TONE_SUCCESS, TONE__LAST } au_tone_kind;
static const char *const au_tone_names[TONE__LAST] = { "", "click", "refusal", "success" };

typedef struct {               /* main -> voice thread */
    core_lang lang;
    int n, vol;
    uint32_t delay;            /* samples of silence first (after a tone) */
    const char *name[VOICE_MAX_CLIPS];
} au_req;

typedef struct {               /* voice thread -> callback; callback -> voice thread */
    int16_t *pcm;
    uint32_t n, delay;
    int vol;
    unsigned seq;              /* the prompt it is a clip of */
    bool more;                 /* not the prompt's first clip: it follows the one playing */
    bool last;                 /* the prompt's last clip: taking it ends `loading` */
} au_play;

typedef struct {               /* main -> callback */
    au_tone_kind kind;
    int vol;
} au_tone;

typedef struct {               /* a sound queued, for `stats` */
    unsigned seq;
    const char *kind;          /* "prompt", "repeat" or a tone's name */
    core_lang lang;
    voice_clips clips;
} au_record;

struct app_audio {
    /* Shared between the threads: the rings, the state, the busy flags. */
    au_ring req, play, tone, done;
    _Atomic int state;
    atomic_bool cb_busy;       /* the callback has a prompt or a tone going */
    atomic_int loading;        /* prompts posted the voice thread has not passed on */
    atomic_bool quit;
    SDL_sem *wake;
    SDL_Thread *thread;
    SDL_AudioDeviceID dev;
    char datadir[512];
    char driver[32];
    /* The tones, made once (the callback reads them, nobody writes them). */
    int16_t *tone_pcm[TONE__LAST];
    uint32_t tone_n[TONE__LAST];
    /* The callback's own. */
    au_play cur, next, later;  /* the piece playing, the one after it, the one after that */
    unsigned cb_seq;           /* the prompt playing */
    uint32_t cur_pos;
    const int16_t *t_pcm;
    uint32_t t_n, t_pos;
    int t_vol;
    /* The main thread's own. */
    bool started, have_screen;
    core_state last_state;
    core_notice last_notice;
    core_lang last_lang;
    voice_clips last_clips;
    int vol, night_vol, night_from, night_to;
    bool enabled;
    au_record hist[AU_HISTORY];
    unsigned n_hist;
};

/* ---- the rings ------------------------------------------------------------- */

static bool au_put(au_ring *r, const void *it, size_t sz)
{
    unsigned h = atomic_load_explicit(&r->head, memory_order_relaxed);
    unsigned t = atomic_load_explicit(&r->tail, memory_order_acquire);

    if (h - t >= AU_RING)
        return false;
    memcpy(r->item[h % AU_RING], it, sz);
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    return true;
}

static bool au_get(au_ring *r, void *it, size_t sz)
{
    unsigned t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    unsigned h = atomic_load_explicit(&r->head, memory_order_acquire);

    if (h == t)
        return false;
    memcpy(it, r->item[t % AU_RING], sz);
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
    return true;
}

_Static_assert(sizeof(au_req) <= AU_ITEM && sizeof(au_play) <= AU_ITEM && sizeof(au_tone) <= AU_ITEM,
               "ring items fit");

/* ---- the tones --------------------------------------------------------------- */

/* Each tone as notes: frequency (Hz), length (ms). Short, plain and far
 * apart in pitch and shape: a click, a falling pair, a rising three. */
typedef struct { int hz, ms; } au_note;
static const au_note au_tone_notes[TONE__LAST][4] = {
    [TONE_CLICK] = { { 1800, 18 } },
    [TONE_REFUSAL] = { { 440, 160 }, { 0, 40 }, { 330, 260 } },
    [TONE_SUCCESS] = { { 523, 110 }, { 659, 110 }, { 784, 220 } },
};

static bool au_make_tones(app_audio *au)
{
    for (int k = 1; k < TONE__LAST; k++) {
        uint32_t n = 0, i = 0;
        for (int j = 0; j < 4; j++)
            n += (uint32_t)(au_tone_notes[k][j].ms * AUDIO_RATE / 1000);
        au->tone_pcm[k] = calloc(n ? n : 1, sizeof(int16_t));
        if (au->tone_pcm[k] == NULL)
            return false;
        au->tone_n[k] = n;
        for (int j = 0; j < 4; j++) {
            uint32_t len = (uint32_t)(au_tone_notes[k][j].ms * AUDIO_RATE / 1000), ramp = AUDIO_RATE / 500;
            /* The note's sample s is sin(s w): the point (cos s w, sin s w)
             * turned by w a sample (util/fmath: no libm). Over a note's
             * 2866 samples the turns drift by ~1e-12, far below a sample. */
            double turn_s, turn_c, re = 1.0, im = 0.0;
            fm_sincos(2.0 * M_PI * au_tone_notes[k][j].hz / AUDIO_RATE, &turn_s, &turn_c);
            for (uint32_t s = 0; s < len; s++, i++) {
                /* A 2 ms ramp at both ends: no crackle where a note starts or stops. */
                double env = s < ramp ? (double)s / ramp : len - s < ramp ? (double)(len - s) / ramp : 1.0;
                au->tone_pcm[k][i] = au_tone_notes[k][j].hz ? (int16_t)fm_round(9000.0 * env * im) : 0;
                double t = re * turn_c - im * turn_s;
                im = re * turn_s + im * turn_c;
                re = t;
            }
        }
    }
    return true;
}

/* ---- the callback (SDL's audio thread) -------------------------------------- */

/* A clip goes back to the voice thread to be freed (the callback never
 * frees); false if the ring is full (never: the voice thread empties it at
 * every wake), and then the clip is kept to try again. */
static bool au_give_back(app_audio *au, au_play *p)
{
    if (p->pcm == NULL)
        return true;
    if (!au_put(&au->done, p, sizeof *p))
        return false;
    p->pcm = NULL;
    return true;
}

static void au_callback(void *ud, Uint8 *stream, int len)
{
    app_audio *au = ud;
    int16_t *out = (int16_t *)(void *)stream;
    int n = len / (int)sizeof(int16_t);
    au_play p;
    au_tone t;

    /* The newest prompt replaces the one playing (its clips go back); a
     * clip of the prompt playing waits its turn. */
    while (au_get(&au->play, &p, sizeof p)) {
        if (p.last)
            atomic_fetch_sub(&au->loading, 1);
        if (!p.more) {
            au_give_back(au, &au->cur);
            au_give_back(au, &au->next);
            au_give_back(au, &au->later);
            au->cur = p;
            au->cb_seq = p.seq;
            au->cur_pos = 0;
        } else if (p.seq == au->cb_seq && au->cur.pcm == NULL) {
            au->cur = p;
            au->cur_pos = 0;
        } else if (p.seq == au->cb_seq && au->next.pcm == NULL) {
            au->next = p;
        } else if (p.seq == au->cb_seq && au->later.pcm == NULL) {
            au->later = p;
        } else {
            au_give_back(au, &p); /* a clip of a prompt cut short */
        }
    }
    for (int i = 0; i < n; i++) {
        int32_t v = 0;
        /* Tones one after the other: OK's click, then the refusal it brings. */
        if (au->t_pcm == NULL && au_get(&au->tone, &t, sizeof t)) {
            au->t_pcm = au->tone_pcm[t.kind];
            au->t_n = au->tone_n[t.kind];
            au->t_pos = 0;
            au->t_vol = t.vol;
        }
        /* A prompt starts once the tones before it have ended (the key
         * that brought its screen clicks first); after that, tones mix
         * over it, its later pieces too (a piece may begin mid-word). */
        if (au->cur.pcm && (au->cur_pos > 0 || au->cur.more || au->t_pcm == NULL)) {
            if (au->cur.delay > 0)
                au->cur.delay--;
            else if (au->cur_pos < au->cur.n)
                v += au->cur.vol == 100 ? au->cur.pcm[au->cur_pos++]
                                        : au->cur.pcm[au->cur_pos++] * au->cur.vol / 100;
            /* The next clip follows without a gap. */
            /* (and the one after it is there already: a clip's last piece
             * may be shorter than what is left of this callback, and the
             * voice thread only hears of it when the callback ends). */
            if (au->cur_pos >= au->cur.n && au->next.pcm && au_give_back(au, &au->cur)) {
                au->cur = au->next;
                au->next = au->later;
                au->later.pcm = NULL;
                au->cur_pos = 0;
            }
        }
        if (au->t_pcm) {
            v += au->t_vol == 100 ? au->t_pcm[au->t_pos] : au->t_pcm[au->t_pos] * au->t_vol / 100;
            if (++au->t_pos >= au->t_n)
                au->t_pcm = NULL;
        }
        out[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
    if (au->cur.pcm && au->cur_pos >= au->cur.n)
        au_give_back(au, &au->cur);
    atomic_store(&au->cb_busy, au->cur.pcm != NULL || au->next.pcm != NULL || au->later.pcm != NULL ||
                 au->t_pcm != NULL ||
                 atomic_load_explicit(&au->tone.head, memory_order_acquire) !=
                     atomic_load_explicit(&au->tone.tail, memory_order_relaxed));
    SDL_SemPost(au->wake); /* the voice thread frees what came back */
}

/* ---- the voice thread ------------------------------------------------------------ */

/* A prompt is fed to the callback a piece of a clip at a time (clip.h), at
 * most three ahead of the one it has given back: a prompt is seconds of
 * samples (the idle screen's 0.9 MB), a piece 8 KB. The voice thread's
 * own. */
typedef struct {
    au_req req;
    int next;                  /* the clip to open next; req.n: all opened */
    clip_reader clip;          /* the clip being read */
    unsigned seq;
    int in_flight;             /* pieces of this prompt with the callback */
    bool posted;               /* its first piece went */
    bool active;
} au_feed_state;

/* `loading` counts a prompt until the callback takes its last piece; a
 * prompt that ends otherwise (cut short, nothing read) ends it here. */
static void au_feed_drop(app_audio *au, au_feed_state *f)
{
    if (f->active)
        atomic_fetch_sub(&au->loading, 1);
    f->active = false;
    clip_close(&f->clip);
}

/* Opens the prompt's next clip; false if none is left. */
static bool au_feed_open(app_audio *au, au_feed_state *f)
{
    char path[768];

    while (f->next < f->req.n) {
        const char *name = f->req.name[f->next++];
        snprintf(path, sizeof path, "%s/assets/voice/%s/%s.wav", au->datadir, voice_lang_dir(f->req.lang), name);
        if (clip_open(&f->clip, path, AUDIO_RATE))
            return true;
        log_warn("audio", "prompt clip %s: %s", path, SDL_GetError());
    }
    return false;
}

static void au_feed(app_audio *au, au_feed_state *f)
{
    /* Three ahead: the callback's piece, the one after it, and the one
     * after that for when the one after it is a clip's short last piece. */
    while (f->active && f->in_flight < 3) {
        uint32_t n = 0;
        int16_t *c = NULL;

        if (clip_done(&f->clip)) {
            clip_close(&f->clip);
            if (!au_feed_open(au, f)) {
                au_feed_drop(au, f); /* the rest was said */
                return;
            }
        }
        c = clip_next(&f->clip, &n);
        if (c == NULL || f->clip.cut_short)
            log_warn("audio", "prompt clip %s: %s", f->req.name[f->next - 1], SDL_GetError());
        if (c == NULL) {
            clip_close(&f->clip);
            continue;
        }
        bool last = clip_done(&f->clip) && f->next == f->req.n;
        au_play p = { c, n, f->posted ? 0 : f->req.delay, f->req.vol, f->seq, f->posted, last };
        if (atomic_load(&au->state) != AU_OPEN || !au_put(&au->play, &p, sizeof p)) {
            free(c);
            au_feed_drop(au, f);
            return;
        }
        f->posted = true;
        f->in_flight++;
        if (last) {
            clip_close(&f->clip);
            f->active = false; /* the callback ends `loading` when it takes it */
        }
    }
}

static void au_open_device(app_audio *au)
{
    SDL_AudioSpec want, have;

    if (SDL_InitSubSystem(SDL_INIT_AUDIO) != 0) {
        log_notice("audio", "no sound device (%s): the kiosk runs silent", SDL_GetError());
        atomic_store(&au->state, AU_SILENT);
        return;
    }
    memset(&want, 0, sizeof want);
    want.freq = AUDIO_RATE;
    want.format = AUDIO_S16SYS;
    want.channels = 1;
    want.samples = AU_SAMPLES;
    want.callback = au_callback;
    want.userdata = au;
    /* No changes allowed: SDL converts to what the card takes, so the
     * callback (and SDL's disk driver in the tests) sees this format. */
    au->dev = SDL_OpenAudioDevice(NULL, 0, &want, &have, 0);
    if (au->dev == 0) {
        log_notice("audio", "no sound device (%s): the kiosk runs silent", SDL_GetError());
        SDL_QuitSubSystem(SDL_INIT_AUDIO);
        atomic_store(&au->state, AU_SILENT);
        return;
    }
    snprintf(au->driver, sizeof au->driver, "%s", SDL_GetCurrentAudioDriver() ? SDL_GetCurrentAudioDriver() : "?");
    atomic_store(&au->state, AU_OPEN);
    SDL_PauseAudioDevice(au->dev, 0);
    log_info("audio", "sound on (%s driver)", au->driver);
}

static int au_thread(void *ud)
{
    app_audio *au = ud;
    au_req r;
    au_play p;
    au_feed_state f = { 0 };

    au_open_device(au);
    while (!atomic_load(&au->quit)) {
        while (au_get(&au->done, &p, sizeof p)) {
            if (p.seq == f.seq && f.in_flight > 0)
                f.in_flight--;
            free(p.pcm);
        }
        /* The newest request replaces the one being fed. */
        while (au_get(&au->req, &r, sizeof r)) {
            au_feed_drop(au, &f);
            f = (au_feed_state){ .req = r, .seq = f.seq + 1, .active = true };
            if (atomic_load(&au->state) != AU_OPEN || r.n == 0)
                au_feed_drop(au, &f);
        }
        au_feed(au, &f);
        SDL_SemWaitTimeout(au->wake, 1000);
    }
    au_feed_drop(au, &f);
    return 0;
}

/* ---- the main thread ----------------------------------------------------------- */

app_audio *audio_new(void)
{
    app_audio *au = calloc(1, sizeof *au);

    if (au == NULL)
        return NULL;
    atomic_init(&au->state, AU_PENDING);
    au->wake = SDL_CreateSemaphore(0);
    if (au->wake == NULL || !au_make_tones(au)) {
        audio_free(au);
        return NULL;
    }
    return au;
}

void audio_free(app_audio *au)
{
    au_play p;

    if (au == NULL)
        return;
    while (au_get(&au->play, &p, sizeof p))
        free(p.pcm);
    while (au_get(&au->done, &p, sizeof p))
        free(p.pcm);
    free(au->cur.pcm);
    free(au->next.pcm);
    free(au->later.pcm);
    for (int k = 0; k < TONE__LAST; k++)
        free(au->tone_pcm[k]);
    if (au->wake)
        SDL_DestroySemaphore(au->wake);
    free(au);
}

static int au_level(const app_audio *au)
{
    time_t now = time(NULL);
    struct tm tm;

    localtime_r(&now, &tm);
    return audio_level_at(au->vol, au->night_vol, au->night_from, au->night_to, tm.tm_hour);
}

static void au_record_sound(app_audio *au, const char *kind, core_lang lang, const voice_clips *clips)
{
    au_record *r = &au->hist[au->n_hist % AU_HISTORY];

    r->seq = ++au->n_hist;
    r->kind = kind;
    r->lang = lang;
    r->clips.n = 0;
    if (clips)
        r->clips = *clips;
}

static bool au_live(const app_audio *au)
{
    int s = atomic_load(&au->state);
    return au->started && (s == AU_PENDING || s == AU_OPEN);
}

static void au_tone_post(app_audio *au, au_tone_kind k)
{
    au_tone t = { k, au_level(au) };

    if (k == TONE_NONE || !au_live(au))
        return;
    au_record_sound(au, au_tone_names[k], LANG_ZH, NULL);
    au_put(&au->tone, &t, sizeof t);
}

static void au_prompt_post(app_audio *au, const char *kind, core_lang lang, const voice_clips *c, uint32_t delay)
{
    au_req r;

    if (c->n == 0 || !au_live(au))
        return;
    memset(&r, 0, sizeof r);
    r.lang = lang;
    r.n = c->n;
    r.vol = au_level(au);
    r.delay = delay;
    memcpy(r.name, c->name, sizeof r.name);
    au_record_sound(au, kind, lang, c);
    atomic_fetch_add(&au->loading, 1);
    if (!au_put(&au->req, &r, sizeof r))
        atomic_fetch_sub(&au->loading, 1);
    SDL_SemPost(au->wake);
}

/* The tone a screen opens with: refusals where the citizen must do
 * something again or cannot go on, the success tone on success. */
static const au_tone_kind au_notice_tone[NT__LAST] = {
    [NT_WRONG_PIN] = TONE_REFUSAL, [NT_PINS_DIFFER] = TONE_REFUSAL, [NT_PIN_TOO_SIMPLE] = TONE_REFUSAL,
    [NT_PIN_IS_INITIAL] = TONE_REFUSAL, [NT_PIN_SAME_AS_OLD] = TONE_REFUSAL,
    [NT_PIN_WRONG_LENGTH] = TONE_REFUSAL, [NT_CODE_WRONG] = TONE_REFUSAL, [NT_WRONG_CODE] = TONE_REFUSAL,
};
static const au_tone_kind au_state_tone[ST__LAST] = {
    [ST_SUCCESS] = TONE_SUCCESS, [ST_CARD_REJECTED] = TONE_REFUSAL, [ST_CARD_BLOCKED] = TONE_REFUSAL,
    [ST_ERROR] = TONE_REFUSAL,
};

static void au_start(app *a)
{
    app_audio *au = a->audio;

    au->started = true;
    au->enabled = a->cfg.audio_enabled;
    au->vol = a->cfg.audio_volume;
    au->night_vol = a->cfg.audio_night_volume;
    au->night_from = a->cfg.audio_night_from;
    au->night_to = a->cfg.audio_night_to;
    snprintf(au->datadir, sizeof au->datadir, "%s", a->opt.datadir);
    if (!au->enabled) {
        atomic_store(&au->state, AU_OFF);
        log_info("audio", "sound off ([audio] enabled = false)");
        return;
    }
    au->thread = SDL_CreateThread(au_thread, "voice", au);
    if (au->thread == NULL) {
        log_notice("audio", "no voice thread (%s): the kiosk runs silent", SDL_GetError());
        atomic_store(&au->state, AU_SILENT);
    }
}

void audio_presented(app *a)
{
    app_audio *au = a->audio;
    const core *c = a->core;
    bool new_state, notice_up, new_lang;
    au_tone_kind tone = TONE_NONE;
    voice_clips clips;

    if (au == NULL)
        return;
    if (!au->started)
        au_start(a);
    new_state = !au->have_screen || c->state != au->last_state;
    /* A notice going away (a digit typed after a refusal, the countdown
     * answered) says nothing: the screen is the one already said. */
    notice_up = c->notice != au->last_notice && c->notice != NT_NONE && au->last_notice != NT_TIMEOUT_WARNING;
    new_lang = c->lang != au->last_lang;
    au->have_screen = true;
    au->last_state = c->state;
    au->last_notice = c->notice;
    au->last_lang = c->lang;
    if (!new_state && !notice_up && !new_lang)
        return;
    if (new_state || notice_up)
        tone = c->notice < NT__LAST && au_notice_tone[c->notice] ? au_notice_tone[c->notice]
             : new_state && c->state < ST__LAST ? au_state_tone[c->state] : TONE_NONE;
    if (!voice_prompt(display_view(a->disp), c, &clips))
        clips.n = 0;
    au->last_clips = clips;
    au_tone_post(au, tone);
    /* After the tone, not over it: the tone says "wrong" or "done" first. */
    au_prompt_post(au, "prompt", c->lang, &clips,
                   tone != TONE_NONE ? au->tone_n[tone] + AU_GAP_MS * AUDIO_RATE / 1000 : 0);
}

void audio_key(app *a)
{
    if (a->audio)
        au_tone_post(a->audio, TONE_CLICK);
}

void audio_repeat(app *a)
{
    if (a->audio)
        au_prompt_post(a->audio, "repeat", a->core->lang, &a->audio->last_clips, 0);
}

void audio_stop(app *a)
{
    app_audio *au = a->audio;

    if (au == NULL)
        return;
    atomic_store(&au->quit, true);
    if (au->wake)
        SDL_SemPost(au->wake);
    if (au->thread)
        SDL_WaitThread(au->thread, NULL);
    au->thread = NULL;
    if (au->dev) {
        SDL_CloseAudioDevice(au->dev);
        au->dev = 0;
        SDL_QuitSubSystem(SDL_INIT_AUDIO);
    }
}

void audio_stats_json(const app *a, cJSON *o)
{
    const app_audio *au = a->audio;
    cJSON *j = cJSON_AddObjectToObject(o, "audio"), *list;
    unsigned from;

    if (au == NULL || j == NULL)
        return;
    cJSON_AddStringToObject(j, "state", au_state_names[atomic_load(&au->state)]);
    cJSON_AddStringToObject(j, "driver", atomic_load(&au->state) == AU_OPEN ? au->driver : "");
    cJSON_AddNumberToObject(j, "rate", AUDIO_RATE);
    cJSON_AddBoolToObject(j, "playing", atomic_load(&au->loading) > 0 || atomic_load(&au->cb_busy));
    cJSON_AddNumberToObject(j, "queued", au->n_hist);
    list = cJSON_AddArrayToObject(j, "sounds");
    from = au->n_hist > AU_HISTORY ? au->n_hist - AU_HISTORY : 0;
    for (unsigned i = from; list && i < au->n_hist; i++) {
        const au_record *r = &au->hist[i % AU_HISTORY];
        cJSON *s = cJSON_CreateObject(), *cl;
        if (s == NULL)
            break;
        cJSON_AddNumberToObject(s, "seq", r->seq);
        cJSON_AddStringToObject(s, "kind", r->kind);
        if (r->clips.n > 0) {
            cJSON_AddStringToObject(s, "lang", voice_lang_dir(r->lang));
            cl = cJSON_AddArrayToObject(s, "clips");
            for (int k = 0; cl && k < r->clips.n; k++)
                cJSON_AddItemToArray(cl, cJSON_CreateString(r->clips.name[k]));
        }
        cJSON_AddItemToArray(list, s);
    }
}
