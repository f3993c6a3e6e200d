/* test_clip.c - prompt clips read a piece at a time (src/app/clip.c).
 *
 * What would show a broken reader: a clip's pieces, back to back, are not
 * the samples SDL_LoadWAV decodes from the same file (every clip of
 * assets/voice/ is checked, in both languages); a piece is larger than
 * CLIP_PIECE_SAMPLES; a clip of another format is not converted to the
 * one played; a file cut short, a header that lies, a directory, a FIFO
 * or a file that is no WAV hangs, crashes or is taken for a sound.
 * Files are found under $KIOSK_SOURCE_ROOT (the test runner sets it).
 */
#include "t.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <SDL.h>

#include "app/clip.h"

#define RATE 11025

static char root[1024];

/* All the pieces of the clip at path, back to back; NULL if it would not
 * open. Checks each piece's size on the way. */
static int16_t *read_pieces(const char *path, int rate, uint32_t *total, int *pieces)
{
    clip_reader r;
    int16_t *all = NULL;
    uint32_t n;

    *total = 0;
    *pieces = 0;
    if (!clip_open(&r, path, rate))
        return NULL;
    while (!clip_done(&r)) {
        int16_t *p = clip_next(&r, &n);
        T_CHECK(p != NULL);
        if (p == NULL)
            break;
        T_CHECK(n > 0);
        int16_t *grown = realloc(all, ((size_t)*total + n) * sizeof *all);
        T_CHECK(grown != NULL);
        if (grown == NULL) {
            free(p);
            break;
        }
        all = grown;
        memcpy(all + *total, p, (size_t)n * sizeof *p);
        *total += n;
        (*pieces)++;
        free(p);
    }
    clip_close(&r);
    return all ? all : malloc(1);
}

static void check_as_sdl_decodes(const char *path)
{
    SDL_AudioSpec spec;
    Uint8 *buf = NULL;
    Uint32 len = 0;
    uint32_t total;
    int pieces;
    int16_t *mine = read_pieces(path, RATE, &total, &pieces);

    T_CHECK(SDL_LoadWAV(path, &spec, &buf, &len) != NULL);
    T_CHECK(mine != NULL);
    if (mine && buf) {
        T_EQ_INT(spec.format, AUDIO_S16SYS);
        T_EQ_INT(spec.channels, 1);
        T_EQ_INT(spec.freq, RATE);
        T_EQ_INT(total * sizeof(int16_t), len);
        if (total * sizeof(int16_t) == len)
            T_EQ_MEM(mine, buf, len);
        /* Read in pieces, not whole: a piece at most CLIP_PIECE_SAMPLES. */
        T_EQ_INT(pieces, (int)((total + CLIP_PIECE_SAMPLES - 1) / CLIP_PIECE_SAMPLES));
    }
    free(mine);
    SDL_FreeWAV(buf);
}

T_TEST(every_clip_in_pieces_is_what_sdl_decodes)
{
    static const char *const langs[] = { "zh", "en" };
    char dir[1200], path[1600];
    int n = 0;

    for (size_t l = 0; l < 2; l++) {
        snprintf(dir, sizeof dir, "%s/assets/voice/%s", root, langs[l]);
        DIR *d = opendir(dir);
        T_CHECK(d != NULL);
        if (d == NULL)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            size_t k = strlen(e->d_name);
            if (k < 5 || strcmp(e->d_name + k - 4, ".wav") != 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            check_as_sdl_decodes(path);
            n++;
        }
        closedir(d);
    }
    T_CHECK(n > 100); /* the clips are there: a test of nothing passes nothing */
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

/* A WAV header: format tag, channels, rate, bits; `data` bytes said. */
static size_t wav_header(uint8_t *h, uint16_t tag, uint16_t ch, uint32_t rate, uint16_t bits, uint32_t data)
{
    memcpy(h, "RIFF", 4);
    put32(h + 4, 36 + data);
    memcpy(h + 8, "WAVEfmt ", 8);
    put32(h + 16, 16);
    put16(h + 20, tag);
    put16(h + 22, ch);
    put32(h + 24, rate);
    put32(h + 28, rate * ch * bits / 8);
    put16(h + 32, (uint16_t)(ch * bits / 8));
    put16(h + 34, bits);
    memcpy(h + 36, "data", 4);
    put32(h + 40, data);
    return 44;
}

static void write_file(const char *path, const void *a, size_t an, const void *b, size_t bn)
{
    FILE *f = fopen(path, "wb");
    T_CHECK(f != NULL);
    if (f == NULL)
        return;
    T_EQ_INT(fwrite(a, 1, an, f), an);
    if (bn)
        T_EQ_INT(fwrite(b, 1, bn, f), bn);
    T_EQ_INT(fclose(f), 0);
}

T_TEST(another_format_is_converted_whole_to_the_one_played)
{
    char dir[] = "/tmp/test_clip.XXXXXX", path[256];
    uint8_t h[44];
    static int16_t s16[22050]; /* a second of 16-bit stereo at 11025 Hz */
    uint32_t total;
    int pieces;

    T_CHECK(mkdtemp(dir) != NULL);
    for (int i = 0; i < 22050; i++)
        s16[i] = (int16_t)(i % 2 ? 1000 : -1000);
    snprintf(path, sizeof path, "%s/stereo.wav", dir);
    write_file(path, h, wav_header(h, 1, 2, RATE, 16, sizeof s16), s16, sizeof s16);
    int16_t *pcm = read_pieces(path, RATE, &total, &pieces);
    T_CHECK(pcm != NULL);
    T_EQ_INT(pieces, 1);     /* whole, as SDL converts it */
    T_EQ_INT(total, 11025); /* mono now */
    free(pcm);
    unlink(path);
    rmdir(dir);
}

T_TEST(files_that_are_no_clip_are_refused_or_cut_without_a_hang)
{
    char dir[] = "/tmp/test_clip.XXXXXX", path[256];
    uint8_t h[44], ulaw[3000];
    clip_reader r;
    uint32_t n, total = 0;

    T_CHECK(mkdtemp(dir) != NULL);
    memset(ulaw, 0x7F, sizeof ulaw);
    /* A mu-law clip whose header says 20000 bytes where 3000 follow: the
     * 3000 play, then it ends, saying so. */
    snprintf(path, sizeof path, "%s/short.wav", dir);
    write_file(path, h, wav_header(h, 7, 1, RATE, 8, 20000), ulaw, sizeof ulaw);
    T_CHECK(clip_open(&r, path, RATE));
    while (!clip_done(&r)) {
        int16_t *p = clip_next(&r, &n);
        if (p == NULL)
            break;
        total += n;
        free(p);
    }
    T_EQ_INT(total, 3000);
    T_CHECK(r.cut_short);
    T_CHECK(clip_next(&r, &n) == NULL && n == 0);
    clip_close(&r);
    clip_close(&r); /* twice is harmless */

    /* Refused, with a reason: no file, a directory, a FIFO (without
     * waiting for a writer), text, an empty file, a header alone. */
    const char *bad[] = { "missing.wav", ".", "fifo.wav", "text.wav", "empty.wav", "header.wav" };
    snprintf(path, sizeof path, "%s/fifo.wav", dir);
    T_EQ_INT(mkfifo(path, 0600), 0);
    snprintf(path, sizeof path, "%s/text.wav", dir);
    write_file(path, "This is not a sound.\n", 21, NULL, 0);
    snprintf(path, sizeof path, "%s/empty.wav", dir);
    write_file(path, "", 0, NULL, 0);
    snprintf(path, sizeof path, "%s/header.wav", dir);
    write_file(path, h, 20, NULL, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, bad[i]);
        SDL_ClearError();
        bool ok = clip_open(&r, path, RATE);
        if (ok)
            fprintf(stderr, "  %s: taken for a clip\n", bad[i]);
        T_CHECK(!ok);
        T_CHECK(SDL_GetError()[0] != '\0');
        T_CHECK(clip_done(&r));
        clip_close(&r);
        if (strcmp(bad[i], ".") != 0)
            unlink(path);
    }
    /* A zeroed reader, never opened, closes without touching fd 0. */
    if (fcntl(0, F_GETFD) == -1)
        T_EQ_INT(open("/dev/null", O_RDONLY), 0);
    memset(&r, 0, sizeof r);
    clip_close(&r);
    T_CHECK(fcntl(0, F_GETFD) != -1);
    rmdir(dir);
}

int main(void)
{
    static const t_case cases[] = {
        T_CASE(every_clip_in_pieces_is_what_sdl_decodes),
        T_CASE(another_format_is_converted_whole_to_the_one_played),
        T_CASE(files_that_are_no_clip_are_refused_or_cut_without_a_hang),
    };
    if (!t_source_root(root, sizeof root))
        return 1;
    return t_run(cases, sizeof cases / sizeof cases[0]);
}
