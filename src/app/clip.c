/* clip.c - a prompt clip read a piece at a time (clip.h). */
#include "app/clip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <SDL.h>

#define WAVE_MULAW 7
#define CLIP_MAX_CHUNKS 16 /* a WAV of ours has fmt, perhaps fact or LIST, data */

/* G.711 mu-law to a 16-bit sample, as SDL_LoadWAV decodes it. */
static int16_t ulaw_sample(uint8_t u)
{
    int t;

    u = (uint8_t)~u;
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
    return (int16_t)(u & 0x80 ? 0x84 - t : t - 0x84);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static bool read_all(int fd, void *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, (uint8_t *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

/* Whether the file at fd is a mu-law mono WAV at `rate`; if so, fd is left
 * at its samples and *len is their count. Anything else (another format,
 * a chunk out of the usual, a file cut short) is false: SDL then reads it. */
static bool stream_header(int fd, int rate, uint32_t *len)
{
    uint8_t h[16];
    bool fmt_ok = false;

    if (!read_all(fd, h, 12) || memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0)
        return false;
    for (int i = 0; i < CLIP_MAX_CHUNKS; i++) {
        uint32_t size;
        if (!read_all(fd, h, 8))
            return false;
        size = le32(h + 4);
        if (memcmp(h, "data", 4) == 0) {
            *len = size;
            return fmt_ok;
        }
        if (memcmp(h, "fmt ", 4) == 0 && size >= 16) {
            if (!read_all(fd, h, 16))
                return false;
            fmt_ok = le16(h) == WAVE_MULAW && le16(h + 2) == 1 && le32(h + 4) == (uint32_t)rate &&
                     le16(h + 14) == 8;
            size -= 16;
        }
        /* Chunks are padded to an even size. */
        if (lseek(fd, (off_t)size + (size & 1), SEEK_CUR) < 0)
            return false;
    }
    return false;
}

/* SDL's way, for a clip of another format: the whole of it, converted. */
static bool load_whole(clip_reader *r, const char *path, int rate)
{
    SDL_AudioSpec spec;
    Uint8 *buf = NULL;
    Uint32 len = 0;
    SDL_AudioCVT cvt;

    if (SDL_LoadWAV(path, &spec, &buf, &len) == NULL)
        return false;
    if (SDL_BuildAudioCVT(&cvt, spec.format, spec.channels, spec.freq, AUDIO_S16SYS, 1, rate) < 0) {
        SDL_FreeWAV(buf);
        return false;
    }
    cvt.len = (int)len;
    cvt.buf = malloc((size_t)len * (size_t)(cvt.len_mult > 0 ? cvt.len_mult : 1));
    if (cvt.buf == NULL) {
        SDL_FreeWAV(buf);
        return SDL_OutOfMemory() == 0;
    }
    memcpy(cvt.buf, buf, len);
    SDL_FreeWAV(buf);
    if (cvt.needed && SDL_ConvertAudio(&cvt) != 0) {
        free(cvt.buf);
        return false;
    }
    r->whole = (int16_t *)(void *)cvt.buf;
    r->whole_n = (uint32_t)(cvt.needed ? cvt.len_cvt : cvt.len) / sizeof(int16_t);
    return true;
}

bool clip_open(clip_reader *r, const char *path, int rate)
{
    struct stat st;
    uint32_t len = 0;

    memset(r, 0, sizeof *r);
    r->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (r->fd < 0) {
        SDL_SetError("cannot open: %s", strerror(errno));
        return false;
    }
    r->open = true;
    if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        clip_close(r);
        SDL_SetError("not a regular file");
        return false;
    }
    if (stream_header(r->fd, rate, &len)) {
        r->left = len;
        return true;
    }
    close(r->fd);
    r->fd = -1;
    if (!load_whole(r, path, rate)) {
        r->open = false;
        return false;
    }
    return true;
}

int16_t *clip_next(clip_reader *r, uint32_t *n)
{
    uint8_t u[CLIP_PIECE_SAMPLES];
    int16_t *pcm;
    size_t want, got = 0;

    *n = 0;
    if (r->whole) {
        pcm = r->whole;
        *n = r->whole_n;
        r->whole = NULL;
        return pcm;
    }
    if (r->fd < 0 || r->left == 0) {
        SDL_SetError("past the end of the clip");
        return NULL;
    }
    want = r->left < CLIP_PIECE_SAMPLES ? r->left : CLIP_PIECE_SAMPLES;
    while (got < want) {
        ssize_t k = read(r->fd, u + got, want - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    if (got < want) {
        /* A file cut short (or gone bad) ends here: what was read plays. */
        SDL_SetError("the file ends %u bytes early", (unsigned)(r->left - got));
        r->cut_short = true;
        r->left = 0;
    } else {
        r->left -= (uint32_t)got;
    }
    if (got == 0)
        return NULL;
    pcm = malloc(got * sizeof *pcm);
    if (pcm == NULL) {
        SDL_OutOfMemory();
        r->left = 0;
        return NULL;
    }
    for (size_t i = 0; i < got; i++)
        pcm[i] = ulaw_sample(u[i]);
    *n = (uint32_t)got;
    return pcm;
}

bool clip_done(const clip_reader *r)
{
    return !r->open || (r->whole == NULL && (r->fd < 0 || r->left == 0));
}

void clip_close(clip_reader *r)
{
    if (r->open && r->fd >= 0)
        close(r->fd);
    free(r->open ? r->whole : NULL);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}
