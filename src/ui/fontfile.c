/* fontfile.c - a font file read for FreeType (fontfile.h). */
#include "ui/fontfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A font read through SDL_RWFromFile costs FreeType some 24,000 lseeks
 * before the first frame (stdio drops its buffer at every seek): 3.8 ms of
 * the start-up. This reader keeps its own position and eight aligned 8 KiB
 * blocks of the file, so the many small reads FreeType makes near each
 * other are memory copies and a seek is an assignment (700 preads before
 * the first frame). A mapping of the file would need no reads at all, but
 * the kernel maps 64 KB around every page touched: 2.7 MB of resident
 * font, against these 64 KiB a font. */
#define FONT_BLOCK 8192
#define FONT_BLOCKS 8 /* FreeType goes back and forth between a few tables */

typedef struct {
    Sint64 at;                     /* file offset of data[0]; -1: empty */
    ssize_t len;
    unsigned char data[FONT_BLOCK];
} font_block;

typedef struct {
    int fd;
    Sint64 size, pos;
    unsigned next;                 /* the block to refill next (round robin) */
    font_block block[FONT_BLOCKS];
} font_file;

static Sint64 font_rw_size(SDL_RWops *rw)
{
    return ((font_file *)rw->hidden.unknown.data1)->size;
}

static Sint64 font_rw_seek(SDL_RWops *rw, Sint64 off, int whence)
{
    font_file *ff = rw->hidden.unknown.data1;
    Sint64 to = whence == RW_SEEK_SET ? off : whence == RW_SEEK_CUR ? ff->pos + off : ff->size + off;

    if (to < 0)
        return SDL_SetError("seek before the start of a font");
    ff->pos = to;
    return to;
}

/* The block holding the byte at `at`, read in if none does. */
static font_block *font_block_at(font_file *ff, Sint64 at)
{
    font_block *b;

    for (int i = 0; i < FONT_BLOCKS; i++) {
        b = &ff->block[i];
        if (b->at >= 0 && at >= b->at && at < b->at + b->len)
            return b;
    }
    b = &ff->block[ff->next++ % FONT_BLOCKS];
    b->at = at - at % FONT_BLOCK; /* aligned: neighbours share blocks */
    b->len = pread(ff->fd, b->data, FONT_BLOCK, (off_t)b->at);
    if (b->len <= 0 || at >= b->at + b->len) {
        b->at = -1;
        return NULL;
    }
    return b;
}

static size_t font_rw_read(SDL_RWops *rw, void *dst, size_t size, size_t n)
{
    font_file *ff = rw->hidden.unknown.data1;
    unsigned char *out = dst;
    size_t want, got = 0;

    if (size == 0 || n > SIZE_MAX / size)
        return 0;
    want = size * n;
    /* Large reads (a whole table) go straight to the caller. */
    if (want >= FONT_BLOCK) {
        ssize_t r = pread(ff->fd, out, want, (off_t)ff->pos);
        if (r <= 0)
            return 0;
        ff->pos += r;
        return (size_t)r / size;
    }
    while (got < want && ff->pos < ff->size) {
        font_block *b = font_block_at(ff, ff->pos);
        if (b == NULL)
            break;
        size_t k = (size_t)(b->at + b->len - ff->pos);
        if (k > want - got)
            k = want - got;
        memcpy(out + got, b->data + (ff->pos - b->at), k);
        got += k;
        ff->pos += (Sint64)k;
    }
    return got / size;
}

static size_t font_rw_write(SDL_RWops *rw, const void *src, size_t size, size_t n)
{
    (void)rw, (void)src, (void)size, (void)n;
    SDL_SetError("fonts are read-only");
    return 0;
}

static int font_rw_close(SDL_RWops *rw)
{
    font_file *ff = rw->hidden.unknown.data1;

    close(ff->fd);
    free(ff);
    SDL_FreeRW(rw);
    return 0;
}

SDL_RWops *fontfile_open(const char *path)
{
    struct stat st;
    font_file *ff;
    SDL_RWops *rw;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        SDL_SetError("%s", strerror(errno));
        return NULL;
    }
    ff = malloc(sizeof *ff);
    rw = ff ? SDL_AllocRW() : NULL;
    if (rw == NULL || fstat(fd, &st) != 0) {
        SDL_SetError("%s", rw ? strerror(errno) : "out of memory");
        if (rw)
            SDL_FreeRW(rw);
        free(ff);
        close(fd);
        return NULL;
    }
    *ff = (font_file){ .fd = fd, .size = st.st_size };
    for (int i = 0; i < FONT_BLOCKS; i++)
        ff->block[i].at = -1;
    rw->size = font_rw_size;
    rw->seek = font_rw_seek;
    rw->read = font_rw_read;
    rw->write = font_rw_write;
    rw->close = font_rw_close;
    rw->type = SDL_RWOPS_UNKNOWN;
    rw->hidden.unknown.data1 = ff;
    return rw;
}
